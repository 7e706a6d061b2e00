// etcd-pki: the command line. It only parses arguments and calls the library (commands.cpp);
// every library error becomes one line on stderr and its documented exit code (docs/cli.md).
#include <CLI/CLI.hpp>

#include <iostream>

#include "commands.hpp"
#include "error_line.hpp"
#include "etcd_pki/error.hpp"
#include "etcd_pki/process.hpp"
#include "etcd_pki/version.hpp"

using namespace etcd_pki;
using namespace etcd_pki::cli;

namespace {

void add_output(CLI::App* cmd, OutputArgs& out, const std::string& name_help) {
  cmd->add_option("-o,--out", out.out_dir, "Folder to write the files in (created if missing)")->capture_default_str();
  cmd->add_option("-n,--name", out.name, name_help);
  cmd->add_flag("--json", out.json, "Print cfssl's JSON {\"cert\",\"csr\",\"key\"} on stdout instead of writing files");
  cmd->add_flag("-f,--force", out.force, "Replace existing files (never done without it)");
}

void add_passphrase(CLI::App* cmd, std::string& file, const char* what = "the encrypted CA key's passphrase") {
  cmd->add_option("--passphrase-file", file,
                  std::string("File whose first line is ") + what + " (else $" + kPassphraseEnv + "; never on the command line)");
}

void add_encrypt(CLI::App* cmd, bool& encrypt) {
  cmd->add_flag("--encrypt", encrypt,
                std::string("Write a new CA key encrypted: the passphrase from --passphrase-file or $") + kPassphraseEnv +
                    ", else asked twice on the terminal");
}

void add_signing(CLI::App* cmd, SignArgs& a) {
  cmd->add_option("-p,--profile", a.profile, "Signing profile: a name in --config, or built in: server, peer, client, ca")
      ->required();
  cmd->add_option("-c,--config", a.config, "cfssl ca-config.json with the profiles (default: the built-in etcd profiles)");
  cmd->add_option("--ca", a.ca, "CA certificate")->capture_default_str();
  cmd->add_option("--ca-key", a.ca_key, "CA private key")->capture_default_str();
  cmd->add_option("-H,--hostname", a.hostname, "Comma-separated SANs that replace the request's hosts");
  cmd->add_option("--crl", a.crl, "CRL distribution point URL (replaces the profile's)");
  add_passphrase(cmd, a.passphrase_file);
}

// The CA of renew, revoke and crl: --dir, --ca, --ca-key and its passphrase.
void add_ca(CLI::App* cmd, CaArgs& ca) {
  cmd->add_option("-d,--dir", ca.dir, "A cluster output folder: its ca/ holds the CA");
  cmd->add_option("--ca", ca.ca, "CA certificate (default: DIR/ca/ca.pem, else ./ca.pem)");
  cmd->add_option("--ca-key", ca.ca_key, "CA private key (default: the -key.pem next to the CA certificate)");
  add_passphrase(cmd, ca.passphrase_file);
}

// Every command's arguments: CLI11 fills them while parsing, before the command's callback runs.
struct Args {
  OutputArgs ca_out;
  std::string ca_csr, init_passphrase, init_ca, init_ca_key;
  bool init_encrypt = false;
  SignArgs issue, sign;
  ClusterArgs cluster;
  InspectArgs inspect;
  VerifyArgs verify;
  ProbeArgs probe;
  ExpiryArgs expiry;
  RenewArgs renew;
  RevokeArgs revoke;
  RotateArgs rotate;
  CaArgs crl_ca;
  std::string crl_next = "7d";
  std::string repair_dir;
  std::string defaults;
  int rc = 0;
};

// init-ca, issue, sign.
void add_pipeline_commands(CLI::App& app, Args& a) {
  auto* init = app.add_subcommand("init-ca", "Create a CA: ca.pem, ca-key.pem, ca.csr");
  init->add_option("csr", a.ca_csr, "cfssl CSR JSON for the CA (default: CN etcd-ca, ECDSA P-256, 10 years)");
  add_output(init, a.ca_out, "Base name of the files (default: ca)");
  add_passphrase(init, a.init_passphrase, "a passphrase to encrypt the CA key with (PKCS#8, AES-256)");
  add_encrypt(init, a.init_encrypt);
  init->add_option("--ca", a.init_ca, "Sign the new CA with this CA: an intermediate (pathlen 0 unless the CSR's ca.pathlen says more), with NAME-chain.pem");
  init->add_option("--ca-key", a.init_ca_key, "The key of --ca (default: the -key.pem or .key next to it)");
  init->callback([&a] {
    if (a.init_ca.empty() && !a.init_ca_key.empty()) throw Error(Errc::usage, "--ca-key needs --ca", "--ca-key");
    a.rc = a.init_ca.empty() ? init_ca(a.ca_csr, a.ca_out, a.init_passphrase, a.init_encrypt)
                             : init_intermediate_ca(a.ca_csr, a.ca_out, a.init_passphrase, a.init_encrypt, a.init_ca, a.init_ca_key);
  });

  auto* iss = app.add_subcommand("issue", "Issue a key and certificate from a CSR JSON: NAME.pem, NAME-key.pem, NAME.csr");
  iss->add_option("csr", a.issue.input, "cfssl CSR JSON (- for stdin)")->required();
  add_signing(iss, a.issue);
  add_output(iss, a.issue.out, "Base name of the files (default: the CSR file name without .json and -csr)");
  iss->callback([&a] { a.rc = issue(a.issue); });

  auto* sgn = app.add_subcommand("sign", "Sign an existing PKCS#10 CSR (its key stays where it is): NAME.pem");
  sgn->add_option("csr", a.sign.input, "CSR in PEM (- for stdin)")->required();
  add_signing(sgn, a.sign);
  add_output(sgn, a.sign.out, "Base name of the certificate (default: the CSR file name without .csr)");
  sgn->callback([&a] { a.rc = sign(a.sign); });
}

void add_cluster_command(CLI::App& app, Args& a) {
  ClusterArgs& cl = a.cluster;
  auto* clu = app.add_subcommand("cluster", "Whole-cluster PKI: CA, server + peer per member, clients, one folder per host");
  clu->add_option("spec", cl.spec_file, "Cluster spec JSON (docs/cluster.md); or use --initial-cluster");
  clu->add_option("--initial-cluster", cl.initial_cluster, "etcd's initial-cluster string: NAME=https://HOST:2380,...");
  clu->add_option("--client", cl.clients, "A client certificate to make; its name is the CN (the etcd user). Repeatable");
  clu->add_option("--key-algo", cl.key_algo, "rsa | ecdsa | ed25519 (default ecdsa)");
  clu->add_option("--key-size", cl.key_size, "RSA bits (2048-8192) or ECDSA curve size (256, 384, 521)");
  clu->add_option("--expiry", cl.expiry, "Validity of the member and client certificates (default 8760h; 365d, 1y work)");
  clu->add_option("--ca-expiry", cl.ca_expiry, "Validity of a new CA (default 87600h)");
  clu->add_option("-o,--out", cl.out_dir, "Output folder")->capture_default_str();
  clu->add_option("--layout", cl.layout, "File names: cfssl (server.pem, ...) or kubeadm (etcd/server.crt, ...)")->capture_default_str();
  clu->add_option("--install-dir", cl.install_dir, "Where the member files go on the hosts (default /etc/etcd/pki; kubeadm: /etc/kubernetes/pki)");
  clu->add_option("--data-dir", cl.data_dir, "Each member's etcd data dir (ETCD_DATA_DIR)")->capture_default_str();
  clu->add_option("--initial-cluster-state", cl.initial_cluster_state,
                  "new | existing for every member (default: a member added to an existing output folder gets existing)");
  clu->add_option("-j,--threads", cl.threads, "Key generation threads (default: all cores)");
  clu->add_flag("-f,--force", cl.force, "Re-issue everything (new CA, new keys), replacing existing files");
  add_passphrase(clu, cl.passphrase_file, "the CA key's passphrase: decrypts an existing CA key, encrypts a new one");
  add_encrypt(clu, cl.encrypt);
  clu->add_option("--ca", cl.ca, "Sign with this existing CA (a root or an intermediate; as the spec's \"ca\": {\"cert\"})");
  clu->add_option("--ca-key", cl.ca_key, "The key of --ca (default: the -key.pem or .key next to it)");
  clu->add_option("--trust", cl.trust, "What the trust files (NAME/ca.pem, clients/ca.pem) hold: root (of --ca's chain) or issuer (--ca itself)")
      ->capture_default_str();
  clu->callback([&a] { a.rc = cluster(a.cluster); });
}

// --format, --json and --output of expiry and probe.
void add_report_options(CLI::App* cmd, ReportArgs& r) {
  cmd->add_option("--format", r.format, "text (default), json, or prometheus: metrics for node_exporter's textfile collector");
  cmd->add_flag("--json", r.json, "JSON report (--format json)");
  cmd->add_option("--output", r.output, "Write the report to FILE (a temp file renamed over it: for a *.prom file) instead of stdout");
}

// Day two, reading: inspect, verify, expiry.
void add_check_commands(CLI::App& app, Args& a) {
  InspectArgs& ia = a.inspect;
  auto* ins = app.add_subcommand("inspect", "Describe certificates, CSRs, keys and CRLs: subject, SANs, usages, validity, fingerprints");
  ins->add_option("files", ia.files, "PEM or DER files")->required();
  ins->add_option("--ca", ia.ca, "Check signatures against this CA certificate");
  ins->add_option("--crl", ia.crl, "Say whether each certificate is revoked in this CRL");
  ins->add_flag("--json", ia.json, "JSON (cfssl certinfo fields for certificates, plus etcd-pki's)");
  ins->callback([&a] { a.rc = inspect(a.inspect); });

  VerifyArgs& va = a.verify;
  auto* ver = app.add_subcommand("verify", "Check a member folder or a cluster output folder as etcd will use it; exit 0 clean, 1 warnings, 2 errors");
  ver->add_option("folder", va.path, "A member bundle folder or a whole cluster output folder")->required();
  ver->add_option("--ca", va.ca, "Trusted CA certificate (default: the folder's ca.pem, ca/ca.pem or etcd/ca.crt)");
  ver->add_option("--crl", va.crl, "CRL to check against (default: ca.crl next to the CA, when present)");
  ver->add_option("-a,--address", va.addresses, "An IP or name the member's server and peer certificates must cover (repeatable, comma-separated)");
  ver->add_option("--warn-within", va.warn_within, "Warn about certificates expiring within this time")->capture_default_str();
  ver->add_flag("--json", va.json, "JSON report");
  ver->callback([&a] { a.rc = verify(a.verify); });

  ExpiryArgs& ea = a.expiry;
  auto* exp = app.add_subcommand("expiry", "Certificates and CRLs sorted by expiry; exit 1 when any expires within --within");
  exp->add_option("paths", ea.paths, "Folders (searched recursively) and files")->required();
  exp->add_option("--within", ea.within, "The window for certificates")->capture_default_str();
  exp->add_option("--crl-within", ea.crl_within, "The window for a CRL's next update")->capture_default_str();
  add_report_options(exp, ea.report);
  exp->callback([&a] { a.rc = expiry(a.expiry); });
}

// Day two, on the network: probe.
void add_probe_command(CLI::App& app, Args& a) {
  ProbeArgs& pa = a.probe;
  auto* prb = app.add_subcommand(
      "probe", "Connect to running members over TLS: what each endpoint serves, and whether etcd's clients and peers accept it; exit 0 clean, 1 warnings, 2 errors");
  prb->add_option("targets", pa.targets, "https://HOST:PORT endpoints, member folders, or a cluster output folder (each member's client and peer URLs)")
      ->required();
  prb->add_option("--ca", pa.ca, "Trusted CA certificate (default: each member folder's ca.pem; none for URLs)");
  prb->add_option("--cert", pa.cert, "Client certificate to present (default for a folder: etcdctl.env's on the client port, a member's peer certificate on the peer port)");
  prb->add_option("--key", pa.key, "Its private key (default: the -key.pem or .key next to it)");
  prb->add_option("--timeout", pa.timeout, "Time-out of each step: connect, TLS handshake, GET /version")->capture_default_str();
  prb->add_option("--warn-within", pa.warn_within, "Warn about served certificates expiring within this time")->capture_default_str();
  add_report_options(prb, pa.report);
  prb->callback([&a] { a.rc = probe(a.probe); });
}

// Day two, with the CA: renew, revoke, crl.
void add_ca_commands(CLI::App& app, Args& a) {
  RenewArgs& ra = a.renew;
  auto* ren = app.add_subcommand("renew", "Re-issue certificates in place: same subject, SANs and usages; key and certificate swapped together");
  ren->add_option("paths", ra.paths, "Certificates, or folders (a cluster output folder renews every leaf)")->required();
  ren->add_option("--key", ra.key, "The certificate's key (default: NAME-key.pem or NAME.key next to it)");
  ren->add_flag("--reuse-key", ra.reuse_key, "Keep the existing keys (default: new keys of the same type)");
  ren->add_option("--expiry", ra.expiry, "New validity (default: the certificate's own lifetime); capped at the CA's notAfter");
  ren->add_option("--within", ra.within, "Renew only certificates expiring within this time (e.g. 30d)");
  ren->add_option("-j,--threads", ra.threads, "Key generation threads (default: all cores)");
  add_ca(ren, ra.ca);
  ren->callback([&a] { a.rc = renew(a.renew); });

  RevokeArgs& rv = a.revoke;
  auto* rev = app.add_subcommand("revoke", "Revoke a certificate (file or serial) in the CA's index and rewrite the CRL");
  rev->add_option("what", rv.what, "A certificate file, or a serial (hex as openssl prints it, 0xHEX, or dec:DECIMAL)")->required();
  rev->add_option("--reason", rv.reason, "RFC 5280 reason: keyCompromise, superseded, cessationOfOperation, ...")->capture_default_str();
  rev->add_option("--next-update", rv.next_update, "The CRL's nextUpdate, from now")->capture_default_str();
  add_ca(rev, rv.ca);
  rev->callback([&a] { a.rc = revoke(a.revoke); });

  auto* crlc = app.add_subcommand("crl", "Write the CA's CRL from its index: ca.crl (DER) and ca-crl.pem");
  crlc->add_option("--next-update", a.crl_next, "The CRL's nextUpdate, from now")->capture_default_str();
  add_ca(crlc, a.crl_ca);
  crlc->callback([&a] { a.rc = crl(a.crl_ca, a.crl_next); });

  auto* rep = app.add_subcommand("repair", "Complete (or undo) a change that an interrupted etcd-pki run left in a folder");
  rep->add_option("folder", a.repair_dir, "The folder the error named (a cluster output folder is searched with its ca/ and member folders)")
      ->required();
  rep->callback([&a] { a.rc = repair(a.repair_dir); });
}

// Replacing the CA of a running cluster: rotate-ca begin|reissue|finish|status.
void add_rotate_command(CLI::App& app, Args& a) {
  RotateArgs& ra = a.rotate;
  auto* rot = app.add_subcommand("rotate-ca", "Replace a running cluster's CA with no outage: begin, reissue, finish (docs/rotation.md); status");
  rot->add_option("step", ra.step, "begin | reissue | finish | status")
      ->required()
      ->check(CLI::IsMember({"begin", "reissue", "finish", "status"}));
  rot->add_option("folder", ra.dir, "The cluster output folder")->required();
  rot->add_flag("--same-key", ra.same_key, "begin: renew the CA certificate with its own key (old leaves keep chaining to it)");
  rot->add_option("--expiry", ra.expiry, "begin: the new CA's validity (default: the CSR's ca.expiry, else the old CA's own lifetime)");
  rot->add_option("--csr", ra.csr, "begin: a CA CSR JSON for the new CA's subject, key and ca block (default: the old CA's subject and key type)");
  rot->add_option("-j,--threads", ra.threads, "Key generation threads (default: all cores)");
  add_passphrase(rot, ra.passphrase_file);
  rot->callback([&a] { a.rc = rotate_ca(a.rotate); });
}

// print-defaults, version, and cfssl's own flags: gencert, json.
void add_cfssl_commands(CLI::App& app, Args& a) {
  auto* pd = app.add_subcommand("print-defaults", "Print cfssl's default config or csr (byte for byte)");
  pd->add_option("what", a.defaults, "config | csr | list")->required();
  pd->callback([&a] { a.rc = print_defaults(a.defaults); });

  app.add_subcommand("version", "Print the version")->callback([&a] { a.rc = cli::version(); });

  auto* gen = app.add_subcommand("gencert", "cfssl-style: gencert -initca CSR | gencert -ca= -ca-key= -config= -profile= CSR");
  gen->prefix_command();
  gen->set_help_flag();
  gen->callback([&a, gen] { a.rc = gencert(gen->remaining()); });
  auto* js = app.add_subcommand("json", "cfssljson-style: json -bare NAME < cfssl JSON");
  js->prefix_command();
  js->set_help_flag();
  js->callback([&a, js] { a.rc = cfssljson(js->remaining()); });
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"etcd-pki: TLS certificates for etcd clusters, cfssl-compatible.\nManual: docs/cli.md", "etcd-pki"};
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string("etcd-pki ") + etcd_pki::version);
  Args args;
  add_pipeline_commands(app, args);
  add_cluster_command(app, args);
  add_check_commands(app, args);
  add_probe_command(app, args);
  add_ca_commands(app, args);
  add_rotate_command(app, args);
  add_cfssl_commands(app, args);

  try {
    init_command_line_process();
    app.parse(argc, argv);
    return args.rc;
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    // One line, like every other error (CLI11 would print the message and a help hint).
    std::cerr << "etcd-pki: error: " << e.what() << " (see --help)\n";
    return static_cast<int>(Errc::usage);
  } catch (const Error& e) {
    std::cerr << error_line(e) << "\n";
    return e.exit_code();
  } catch (const std::exception& e) {
    std::cerr << "etcd-pki: error: " << e.what() << "\n";
    return 1;
  }
}
