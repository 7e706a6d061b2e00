#pragma once
// The CLI's commands: argument values in, library calls, files or stdout out. Each returns the
// exit code; library errors propagate as etcd_pki::Error and main turns them into exit codes.
#include <string>
#include <vector>

namespace etcd_pki::cli {

struct OutputArgs {
  std::string out_dir = ".";
  std::string name;  // base name; default depends on the command
  bool json = false; // cfssl's JSON on stdout instead of files
  bool force = false;
};

struct SignArgs {
  std::string input;  // CSR JSON (issue) or CSR PEM (sign); "-" for stdin
  std::string profile, config, ca = "ca.pem", ca_key = "ca-key.pem", hostname, crl;
  OutputArgs out;
};

struct ClusterArgs {
  std::string spec_file;        // cluster.json, or
  std::string initial_cluster;  // --initial-cluster
  std::vector<std::string> clients;
  std::string key_algo, expiry, ca_expiry, layout = "cfssl", install_dir, out_dir = "pki";
  int key_size = 0;
  unsigned threads = 0;
  bool force = false;
};

int cluster(const ClusterArgs& args);
int init_ca(const std::string& csr_json, const OutputArgs& out);
int issue(const SignArgs& args);
int sign(const SignArgs& args);
int print_defaults(const std::string& what);
int version();
int gencert(const std::vector<std::string>& args);  // cfssl's flags
int cfssljson(const std::vector<std::string>& args); // cfssljson's flags

// "etcd-csr.json" -> "etcd", "server.json" -> "server", "etcd.csr" -> "etcd".
std::string default_base_name(const std::string& input, const std::string& fallback);

}  // namespace etcd_pki::cli
