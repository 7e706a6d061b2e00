#pragma once
// The CLI's commands: argument values in, library calls, files or stdout out. Each returns the
// exit code; library errors propagate as etcd_pki::Error and main turns them into exit codes.
#include <string>
#include <vector>

#include "etcd_pki/cluster.hpp"
#include "etcd_pki/key.hpp"

namespace etcd_pki::cli {

struct OutputArgs {
  std::string out_dir = ".";
  std::string name;  // base name; default depends on the command
  bool json = false; // cfssl's JSON on stdout instead of files
  bool force = false;
};

struct SignArgs {
  std::string input;  // CSR JSON (issue) or CSR PEM (sign); "-" for stdin
  std::string profile, config, hostname, crl;
  std::string ca = default_ca_files({}).cert, ca_key = default_ca_files({}).key;  // init-ca's, in this folder
  std::string passphrase_file;  // of an encrypted CA key
  OutputArgs out;
};

struct ClusterArgs {
  std::string spec_file;        // cluster.json, or
  std::string initial_cluster;  // --initial-cluster
  std::vector<std::string> clients;
  std::string key_algo, expiry, ca_expiry, layout = "cfssl", install_dir, out_dir = "pki";
  std::string data_dir = "/var/lib/etcd", initial_cluster_state;
  std::string passphrase_file;  // of an encrypted CA key (existing or new)
  bool encrypt = false;         // a new CA key is written encrypted (the passphrase asked for on a terminal)
  std::string ca, ca_key;       // an existing CA to sign with (as the spec's "ca": {"cert", "key"})
  std::string trust = "root";   // the trust files: root | issuer
  int key_size = 0;
  unsigned threads = 0;
  bool force = false;
};

// Day-two commands (operate.cpp).
struct CaArgs {
  std::string dir;  // a cluster output folder: its ca/ is the CA
  std::string ca, ca_key;  // default: DIR/ca/ca.pem (or ca.crt) or ./ca.pem, and the key next to it
  std::string passphrase_file;  // of an encrypted CA key
};
struct InspectArgs {
  std::vector<std::string> files;
  std::string ca, crl;
  bool json = false;
};
struct VerifyArgs {
  std::string path, ca, crl, warn_within = "30d";
  std::vector<std::string> addresses;
  bool json = false;
};
// How a report is printed: expiry and probe.
struct ReportArgs {
  std::string format;  // text | json | prometheus; "" for text (json with --json)
  std::string output;  // a file written atomically instead of stdout
  bool json = false;   // --format json
};
struct ProbeArgs {
  std::vector<std::string> targets;  // https:// URLs, member folders, cluster output folders
  std::string ca, cert, key, timeout = "5s", warn_within = "30d";
  ReportArgs report;
};
struct ExpiryArgs {
  std::vector<std::string> paths;
  std::string within = "30d", crl_within = "1d";
  ReportArgs report;
};
struct RenewArgs {
  std::vector<std::string> paths;  // certificates or folders
  std::string key, expiry, within;
  bool reuse_key = false;
  unsigned threads = 0;
  CaArgs ca;
};
struct RevokeArgs {
  std::string what;  // a serial or a certificate file
  std::string reason = "unspecified", next_update = "7d";
  CaArgs ca;
};

struct RotateArgs {
  std::string step;  // begin | reissue | finish | status
  std::string dir;   // the cluster output folder
  std::string expiry, passphrase_file;
  std::string csr;   // begin: the new CA's CSR JSON (subject, key, ca block)
  bool same_key = false;
  unsigned threads = 0;
};

int inspect(const InspectArgs& args);
int verify(const VerifyArgs& args);
int probe(const ProbeArgs& args);
int expiry(const ExpiryArgs& args);
int renew(const RenewArgs& args);
int revoke(const RevokeArgs& args);
int crl(const CaArgs& ca, const std::string& next_update);
int repair(const std::string& dir);
int rotate_ca(const RotateArgs& args);

int cluster(const ClusterArgs& args);
int init_ca(const std::string& csr_json, const OutputArgs& out, const std::string& passphrase_file, bool encrypt);
// init-ca --ca/--ca-key: an intermediate CA signed by that CA, with its chain file.
int init_intermediate_ca(const std::string& csr_json, const OutputArgs& out, const std::string& passphrase_file, bool encrypt,
                         const std::string& ca, const std::string& ca_key);
int issue(const SignArgs& args);
int sign(const SignArgs& args);
int print_defaults(const std::string& what);
int version();
int gencert(const std::vector<std::string>& args);  // cfssl's flags
int cfssljson(const std::vector<std::string>& args); // cfssljson's flags

// The CA key's passphrase: the first line of `file` when given, else $ETCD_PKI_CA_PASSPHRASE, else
// asked for on the terminal when stdin is one and a key needs it, else none. Never from the
// command line itself.
constexpr const char* kPassphraseEnv = "ETCD_PKI_CA_PASSPHRASE";
Passphrase ca_passphrase(const std::string& file);

// "etcd-pki: warning: ..." lines on stderr.
void print_warnings(const std::vector<std::string>& warnings);
// Completes (or removes) the changes interrupted runs left in `dir` and below, saying what it did
// ("etcd-pki: DIR: completed an interrupted change ..."); false when there was none or no `dir`.
bool report_repairs(const std::string& dir);

// "etcd-csr.json" -> "etcd", "server.json" -> "server", "etcd.csr" -> "etcd".
std::string default_base_name(const std::string& input, const std::string& fallback);

}  // namespace etcd_pki::cli
