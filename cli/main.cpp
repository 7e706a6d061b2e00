// etcd-pki: the command line. It only parses arguments and calls the library (commands.cpp);
// every library error becomes one line on stderr and its documented exit code (docs/cli.md).
#include <CLI/CLI.hpp>

#include <iostream>

#include "commands.hpp"
#include "etcd_pki/error.hpp"
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

void add_signing(CLI::App* cmd, SignArgs& a) {
  cmd->add_option("-p,--profile", a.profile, "Signing profile: a name in --config, or built in: server, peer, client, ca")
      ->required();
  cmd->add_option("-c,--config", a.config, "cfssl ca-config.json with the profiles (default: the built-in etcd profiles)");
  cmd->add_option("--ca", a.ca, "CA certificate")->capture_default_str();
  cmd->add_option("--ca-key", a.ca_key, "CA private key")->capture_default_str();
  cmd->add_option("-H,--hostname", a.hostname, "Comma-separated SANs that replace the request's hosts");
  cmd->add_option("--crl", a.crl, "CRL distribution point URL (replaces the profile's)");
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"etcd-pki: TLS certificates for etcd clusters, cfssl-compatible.\nManual: docs/cli.md", "etcd-pki"};
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string("etcd-pki ") + etcd_pki::version);
  int rc = 0;

  OutputArgs ca_out;
  std::string ca_csr;
  auto* init = app.add_subcommand("init-ca", "Create a CA: ca.pem, ca-key.pem, ca.csr");
  init->add_option("csr", ca_csr, "cfssl CSR JSON for the CA (default: CN etcd-ca, ECDSA P-256, 10 years)");
  add_output(init, ca_out, "Base name of the files (default: ca)");
  init->callback([&] { rc = init_ca(ca_csr, ca_out); });

  SignArgs issue_args;
  auto* iss = app.add_subcommand("issue", "Issue a key and certificate from a CSR JSON: NAME.pem, NAME-key.pem, NAME.csr");
  iss->add_option("csr", issue_args.input, "cfssl CSR JSON (- for stdin)")->required();
  add_signing(iss, issue_args);
  add_output(iss, issue_args.out, "Base name of the files (default: the CSR file name without .json and -csr)");
  iss->callback([&] { rc = issue(issue_args); });

  SignArgs sign_args;
  auto* sgn = app.add_subcommand("sign", "Sign an existing PKCS#10 CSR (its key stays where it is): NAME.pem");
  sgn->add_option("csr", sign_args.input, "CSR in PEM (- for stdin)")->required();
  add_signing(sgn, sign_args);
  add_output(sgn, sign_args.out, "Base name of the certificate (default: the CSR file name without .csr)");
  sgn->callback([&] { rc = sign(sign_args); });

  ClusterArgs cl;
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
  clu->add_option("-j,--threads", cl.threads, "Key generation threads (default: all cores)");
  clu->add_flag("-f,--force", cl.force, "Re-issue everything (new CA, new keys), replacing existing files");
  clu->callback([&] { rc = cluster(cl); });

  std::string what;
  auto* pd = app.add_subcommand("print-defaults", "Print cfssl's default config or csr (byte for byte)");
  pd->add_option("what", what, "config | csr | list")->required();
  pd->callback([&] { rc = print_defaults(what); });

  app.add_subcommand("version", "Print the version")->callback([&] { rc = cli::version(); });

  auto* gen = app.add_subcommand("gencert", "cfssl-style: gencert -initca CSR | gencert -ca= -ca-key= -config= -profile= CSR");
  gen->prefix_command();
  gen->set_help_flag();
  gen->callback([&] { rc = gencert(gen->remaining()); });
  auto* js = app.add_subcommand("json", "cfssljson-style: json -bare NAME < cfssl JSON");
  js->prefix_command();
  js->set_help_flag();
  js->callback([&] { rc = cfssljson(js->remaining()); });

  try {
    app.parse(argc, argv);
    return rc;
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
    std::cerr << "etcd-pki: error: " << e.what() << "\n";
    return e.exit_code();
  } catch (const std::exception& e) {
    std::cerr << "etcd-pki: error: " << e.what() << "\n";
    return 1;
  }
}
