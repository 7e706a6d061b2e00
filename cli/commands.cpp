#include "commands.hpp"

#include <openssl/crypto.h>

#include <cstring>
#include <filesystem>
#include <iostream>
#include <mutex>

#include <unistd.h>

#include "etcd_pki/etcd_pki.hpp"
#include "goflags.hpp"
#include "terminal.hpp"

namespace etcd_pki::cli {

namespace {

std::string source_name(const std::string& path) { return path == "-" ? "stdin" : path; }

// Warnings about the certificate only once it is written: a failed write is one error line.
void report_written(const std::vector<std::string>& warnings, const std::vector<OutputFile>& files) {
  print_warnings(warnings);
  std::string list;
  for (const auto& f : files) list += (list.empty() ? "" : ", ") + f.path;
  std::cerr << "etcd-pki: wrote " << list << "\n";
}

void deliver(const CfsslOutput& pem, const std::vector<std::string>& warnings, const OutputArgs& out, const std::string& base) {
  if (out.json) {
    print_warnings(warnings);
    std::cout << to_cfssl_json(pem) << std::flush;
    return;
  }
  auto files = bundle_files(pem, out.out_dir, base);
  write_files(files, out.force);
  report_written(warnings, files);
}

// Records an issued certificate in the CA's index (for revoke by serial). The certificate is
// already delivered, so a failure is a warning.
void record(const std::string& ca_path, const Certificate& cert) {
  try {
    record_issued(ca_path, {cert});
  } catch (const Error& e) {
    print_warnings({std::string("the certificate is not recorded in the CA index: ") + e.what()});
  }
}

// deliver() of the bundle's `pem`, recording its certificate in the CA's index in the same write
// (write_files_and_record).
void deliver_recorded(const Bundle& bundle, const CfsslOutput& pem, const OutputArgs& out, const std::string& base,
                      const std::string& ca_path) {
  const Certificate& cert = *bundle.certificate;
  if (out.json) {
    deliver(pem, bundle.warnings, out, base);
    record(ca_path, cert);
    return;
  }
  auto files = bundle_files(pem, out.out_dir, base);
  std::string not_recorded = write_files_and_record(files, out.force, ca_path, {cert});
  report_written(bundle.warnings, files);
  if (!not_recorded.empty()) print_warnings({"the certificate is not recorded in the CA index: " + not_recorded});
}

Policy load_policy(const std::string& config) {
  if (config.empty()) return Policy::builtin();
  Policy p = Policy::from_json(read_text_file(config, Errc::config), config);
  print_warnings(p.warnings());
  return p;
}

SignOptions sign_options(const std::string& hostname, const std::string& crl) {
  SignOptions o;
  if (!hostname.empty()) {
    o.hosts = split_hostnames(hostname);
    for (const auto& h : *o.hosts)
      if (auto problem = host_problem(h)) throw Error(Errc::input, "invalid host \"" + h + "\": " + *problem, "--hostname");
  }
  if (!crl.empty()) o.crl_url = crl;
  return o;
}

}  // namespace

Passphrase ca_passphrase(const std::string& file) {
  Passphrase given = file.empty() ? Passphrase::from_env(kPassphraseEnv) : Passphrase::from_file(file);
  if (given.empty() && stdin_is_terminal()) return Passphrase::asking(ask_passphrase);
  return given;
}

void print_warnings(const std::vector<std::string>& warnings) {
  for (const auto& w : warnings) std::cerr << "etcd-pki: warning: " << w << "\n";
}

std::string default_base_name(const std::string& input, const std::string& fallback) {
  if (input.empty() || input == "-") return fallback;
  std::string base = std::filesystem::path(input).filename().string();
  for (const char* ext : {".json", ".csr", ".pem"})
    if (base.size() > std::strlen(ext) && base.ends_with(ext)) base.resize(base.size() - std::strlen(ext));
  if (base.size() > 4 && base.ends_with("-csr")) base.resize(base.size() - 4);
  return base;
}

namespace {
// --encrypt: the passphrase given, else asked for (twice) on a terminal before anything is made, else
// Errc::usage. `base` names the key file in the prompt.
Passphrase new_key_passphrase(const Passphrase& given, const OutputArgs& out, const std::string& base) {
  CfsslOutput key_only;
  key_only.key = std::string();
  Passphrase p = given.or_ask(out.json ? "printed in the JSON" : bundle_files(key_only, out.out_dir, base).front().path, true);
  if (p.empty())
    throw Error(Errc::usage, "the new CA key is to be encrypted, but no passphrase was given", "--encrypt").with_hint(Hint::passphrase);
  return p;
}
}  // namespace

int init_ca(const std::string& csr_json, const OutputArgs& out, const std::string& passphrase_file, bool encrypt) {
  Passphrase passphrase = ca_passphrase(passphrase_file);
  Request req = csr_json.empty() ? Request::default_ca()
                                 : Request::from_json(read_text_file(csr_json, Errc::input), source_name(csr_json));
  const std::string base = out.name.empty() ? "ca" : out.name;
  if (encrypt) passphrase = new_key_passphrase(passphrase, out, base);
  // With a passphrase, the new CA key is written encrypted (PKCS#8, AES-256).
  Bundle ca = make_ca(req, {}, source_name(csr_json));
  deliver(to_pem(ca, passphrase), ca.warnings, out, base);
  return 0;
}

int init_intermediate_ca(const std::string& csr_json, const OutputArgs& out, const std::string& passphrase_file, bool encrypt,
                         const std::string& ca, const std::string& ca_key) {
  Passphrase passphrase = ca_passphrase(passphrase_file);
  Request req = csr_json.empty() ? Request::default_ca()
                                 : Request::from_json(read_text_file(csr_json, Errc::input), source_name(csr_json));
  const std::string base = out.name.empty() ? "ca" : out.name;
  // The issuing CA's key and the new one share the passphrase (as cluster's): decrypts, encrypts.
  Signer signer = load_signer(ca, ca_key.empty() ? key_path_for_cert(ca) : ca_key, passphrase);
  if (encrypt) passphrase = new_key_passphrase(passphrase, out, base);
  Bundle made = make_intermediate_ca(req, signer, {}, source_name(csr_json));
  deliver_recorded(made, to_pem(made, passphrase), out, base, ca);
  return 0;
}

int issue(const SignArgs& a) {
  Policy policy = load_policy(a.config);
  const Profile& profile = policy.profile(a.profile);
  Request req = Request::from_json(read_text_file(a.input, Errc::input), source_name(a.input));
  Signer signer = load_signer(a.ca, a.ca_key, ca_passphrase(a.passphrase_file));
  Bundle b = issue(req, signer, profile, sign_options(a.hostname, a.crl), source_name(a.input));
  deliver_recorded(b, to_pem(b), a.out, a.out.name.empty() ? default_base_name(a.input, "cert") : a.out.name, a.ca);
  return 0;
}

int sign(const SignArgs& a) {
  Policy policy = load_policy(a.config);
  const Profile& profile = policy.profile(a.profile);
  std::string csr = read_text_file(a.input, Errc::csr);
  Signer signer = load_signer(a.ca, a.ca_key, ca_passphrase(a.passphrase_file));
  Bundle b = sign_csr(csr, signer, profile, sign_options(a.hostname, a.crl), source_name(a.input));
  CfsslOutput pem = to_pem(b);
  // JSON echoes the CSR byte for byte, as cfssl sign; files leave it out (the CSR file is already there).
  pem.csr = a.out.json ? std::optional<std::string>(csr) : std::nullopt;
  deliver_recorded(b, pem, a.out, a.out.name.empty() ? default_base_name(a.input, "cert") : a.out.name, a.ca);
  return 0;
}

namespace {

// What joining or leaving a running cluster needs on the cluster, in the order to do it.
void print_member_changes(const ClusterResult& r) {
  for (const auto& c : r.added)
    std::cerr << "etcd-pki: " << c.name << " joins the running cluster (its etcd settings say initial-cluster-state existing). "
              << "First, with etcdctl set up for the cluster:\n  " << c.etcdctl
              << "\nthen copy its folder to its host and start it.\n";
  for (const auto& c : r.removed) {
    std::cerr << "etcd-pki: " << c.name << " is removed: " << c.revoked.size()
              << " certificate(s) revoked (cessationOfOperation), the CRL refreshed in every member folder";
    if (!c.moved_to.empty()) std::cerr << ", its folder moved to " << c.moved_to;
    std::cerr << ". Copy the new CRL to every member's host (no restart), and with etcdctl set up for the cluster:\n  "
              << c.etcdctl << "\n";
  }
}

}  // namespace

int cluster(const ClusterArgs& a) {
  if (a.spec_file.empty() == a.initial_cluster.empty())
    throw Error(Errc::usage, "give either a cluster spec file or --initial-cluster");
  ClusterSpec spec;
  std::string source;
  if (!a.spec_file.empty()) {
    source = source_name(a.spec_file);
    std::string dir = std::filesystem::path(a.spec_file).parent_path().string();
    spec = ClusterSpec::from_json(read_text_file(a.spec_file, Errc::input), source, dir.empty() ? "." : dir);
  } else {
    source = "--initial-cluster";
    spec = ClusterSpec::from_initial_cluster(a.initial_cluster);
  }
  for (const auto& c : a.clients) spec.clients.push_back({c, c});
  if (!a.ca.empty() || !a.ca_key.empty()) {
    if (a.ca.empty()) throw Error(Errc::usage, "--ca-key needs --ca", "--ca-key");
    if (!spec.ca_cert_file.empty() || spec.ca_request) throw Error(Errc::usage, "the spec names its CA already (\"ca\")", "--ca");
    spec.ca_cert_file = a.ca;
    spec.ca_key_file = a.ca_key.empty() ? key_path_for_cert(a.ca) : a.ca_key;
  }
  if (!a.key_algo.empty() || a.key_size)
    spec.key = KeySpec::parse(a.key_algo.empty() ? spec.key.algo_name() : a.key_algo, a.key_size, "--key-algo/--key-size", "key");
  if (!a.expiry.empty()) spec.expiry = parse_duration(a.expiry, "--expiry");
  if (!a.ca_expiry.empty()) spec.ca_expiry = parse_duration(a.ca_expiry, "--ca-expiry");
  if (spec.expiry.count() <= 0) throw Error(Errc::config, "validity must be positive", "--expiry");
  if (spec.ca_expiry.count() <= 0) throw Error(Errc::config, "validity must be positive", "--ca-expiry");
  spec.validate(source);

  report_repairs(a.out_dir);  // build_cluster would complete it too, silently
  ClusterOptions opt;
  opt.out_dir = a.out_dir;
  if (a.layout == "kubeadm") opt.layout = Layout::kubeadm;
  else if (a.layout != "cfssl") throw Error(Errc::usage, "unknown layout \"" + a.layout + "\" (use cfssl or kubeadm)", "--layout");
  opt.install_dir = a.install_dir;
  if (a.data_dir.empty() || a.data_dir.front() != '/') throw Error(Errc::usage, "must be an absolute path", "--data-dir");
  opt.data_dir = a.data_dir;
  if (!a.initial_cluster_state.empty() && a.initial_cluster_state != "new" && a.initial_cluster_state != "existing")
    throw Error(Errc::usage, "unknown value \"" + a.initial_cluster_state + "\" (use new or existing)", "--initial-cluster-state");
  opt.initial_cluster_state = a.initial_cluster_state;
  if (a.trust == "issuer") opt.trust = TrustAnchor::issuer;
  else if (a.trust != "root") throw Error(Errc::usage, "unknown value \"" + a.trust + "\" (use root or issuer)", "--trust");
  opt.force = a.force;
  opt.threads = a.threads;
  opt.ca_passphrase = ca_passphrase(a.passphrase_file);
  opt.encrypt_ca_key = a.encrypt;
  bool tty = isatty(STDERR_FILENO);
  std::mutex progress_mutex;
  if (tty)
    opt.progress = [&](size_t done, size_t total) {
      std::lock_guard lock(progress_mutex);
      std::cerr << "\retcd-pki: keys and certificates " << done << "/" << total << std::flush;
    };
  ClusterResult r = build_cluster(spec, opt);
  if (tty && !r.issued.empty()) std::cerr << "\n";
  print_warnings(r.warnings);
  std::cerr << "etcd-pki: " << spec.members.size() << " members, " << spec.clients.size() << " clients in " << a.out_dir
            << ": issued " << r.issued.size() << ", kept " << r.reused.size() << ", wrote " << r.written.size()
            << " files\n";
  print_member_changes(r);
  return 0;
}

int print_defaults(const std::string& what) {
  // Byte for byte what cfssl prints (its output ends with an empty line).
  if (what == "config") {
    std::cout << R"({
    "signing": {
        "default": {
            "expiry": "168h"
        },
        "profiles": {
            "www": {
                "expiry": "8760h",
                "usages": [
                    "signing",
                    "key encipherment",
                    "server auth"
                ]
            },
            "client": {
                "expiry": "8760h",
                "usages": [
                    "signing",
                    "key encipherment",
                    "client auth"
                ]
            }
        }
    }
}

)";
    return 0;
  }
  if (what == "csr") {
    std::cout << R"({
    "CN": "example.net",
    "hosts": [
        "example.net",
        "www.example.net"
    ],
    "key": {
        "algo": "ecdsa",
        "size": 256
    },
    "names": [
        {
            "C": "US",
            "ST": "CA",
            "L": "San Francisco"
        }
    ]
}

)";
    return 0;
  }
  std::cout << "Default configurations are available for:\n\tconfig\n\tcsr\n";
  if (what == "list") return 0;
  throw Error(Errc::usage, "unknown default \"" + what + "\" (use config or csr)");
}

int version() {
  std::cout << "etcd-pki " << etcd_pki::version << "\n" << OpenSSL_version(OPENSSL_VERSION) << "\n";
  return 0;
}

int gencert(const std::vector<std::string>& args) {
  bool initca = false;
  std::string ca, ca_key, config, profile, hostname, cn, loglevel, crl, remote, label, passphrase_file;
  GoFlags f;
  f.add_bool("initca", &initca, "initialise new CA");
  f.add_string("ca", &ca, "CA used to sign the new certificate");
  f.add_string("ca-key", &ca_key, "CA private key");
  f.add_string("config", &config, "path to configuration file");
  f.add_string("profile", &profile, "signing profile to use");
  f.add_string("hostname", &hostname, "hostname(s) for the cert, comma-separated");
  f.add_string("cn", &cn, "certificate common name (CN)");
  f.add_string("crl", &crl, "CRL URL that overrides the one in the profile");
  f.add_string("passphrase-file", &passphrase_file,
               "file whose first line is the CA key's passphrase (else $ETCD_PKI_CA_PASSPHRASE; etcd-pki only)");
  f.add_string("loglevel", &loglevel, "accepted for cfssl compatibility; ignored");
  f.add_string("remote", &remote, "not supported (remote signing)");
  f.add_string("label", &label, "not supported (multiroot signing)");
  auto pos = f.parse(args);
  if (f.print_help("Usage: etcd-pki gencert -initca CSRJSON\n"
                   "       etcd-pki gencert -ca cert -ca-key key [-config config] [-profile profile] [-hostname hostname] CSRJSON\n"
                   "Prints cfssl's JSON {\"cert\",\"csr\",\"key\"}; pipe it into `etcd-pki json -bare NAME`.\n\n"))
    return 0;
  if (!remote.empty()) throw Error(Errc::usage, "-remote is not supported: etcd-pki signs locally");
  if (!label.empty()) throw Error(Errc::usage, "-label is not supported");
  if (pos.size() != 1)
    throw Error(Errc::usage, pos.empty() ? "no CSR JSON given (usage: etcd-pki gencert [flags] CSRJSON)"
                                         : "only one argument is accepted (flags go before the CSR JSON)");
  const std::string& input = pos[0];
  std::optional<Policy> policy;
  if (!config.empty()) policy = load_policy(config);
  Request req = Request::from_json(read_text_file(input, Errc::input), source_name(input));
  if (!cn.empty()) req.subject.common_name = cn;
  OutputArgs out;
  out.json = true;
  if (initca) {
    if (!ca_key.empty()) throw Error(Errc::usage, "-initca with -ca-key (re-using a CA key) is not supported");
    if (!hostname.empty()) print_warnings({"-hostname is ignored with -initca (as by cfssl)"});
    Bundle made = make_ca(req, {}, source_name(input));
    deliver(to_pem(made, ca_passphrase(passphrase_file)), made.warnings, out, "");
    return 0;
  }
  if (ca.empty()) throw Error(Errc::ca, "need a CA certificate (provide one with -ca)");
  if (ca_key.empty()) throw Error(Errc::ca, "need a CA key (provide one with -ca-key)");
  if (!policy) policy = Policy::builtin();
  const Profile& prof = policy->profile(profile);
  Signer signer = load_signer(ca, ca_key, ca_passphrase(passphrase_file));
  Bundle b = issue(req, signer, prof, sign_options(hostname, crl), source_name(input));
  deliver(to_pem(b), b.warnings, out, "");
  return 0;
}

int cfssljson(const std::vector<std::string>& args) {
  bool bare = false, to_stdout = false, force = false;
  std::string input = "-";
  GoFlags f;
  f.add_bool("bare", &bare, "the response from cfssl is not wrapped in the API standard response");
  f.add_string("f", &input, "JSON input (default \"-\")");
  f.add_bool("stdout", &to_stdout, "output the response instead of saving to a file");
  f.add_bool("force", &force, "replace existing files (etcd-pki never overwrites without it)");
  auto pos = f.parse(args);
  if (f.print_help("Usage: etcd-pki json [-bare] [-f FILE] [-stdout] [-force] [NAME]\n"
                   "Writes NAME.pem, NAME-key.pem and NAME.csr from cfssl JSON, like cfssljson.\n\n"))
    return 0;
  std::string base = pos.empty() ? "cert" : pos[0];  // a trailing "-" (cfssljson -bare ca -) is ignored
  CfsslOutput b = from_cfssl_json(read_text_file(input, Errc::input), bare, source_name(input));
  if (to_stdout) {
    for (const auto* v : {&b.cert, &b.key, &b.csr})
      if (*v) std::cout << **v << "\n";
    return 0;
  }
  OutputArgs out;
  out.force = force;
  deliver(b, {}, out, base);
  return 0;
}

}  // namespace etcd_pki::cli
