#pragma once
// Checks a member bundle folder or a whole `cluster` output folder the way etcd will use it, and
// explains each problem in etcd's terms: the rule broken, the file, and the error etcd (or its
// clients) would print.
//
// Roles come from the folder's etcd.conf.yml when there is one (client-transport-security ->
// server, peer-transport-security -> peer), else from file names (server, peer, *client*); a
// certificate with another name is checked as server and peer when it has server auth, as a
// client otherwise. Addresses come from the config's URLs and from VerifyOptions::addresses.
//
// A cluster output folder is one with ca/ or with member folders (a cluster signed by an existing
// CA has no ca/): each member folder and clients/ are checked, against --ca, else ca/'s CA, else
// the members' trusted CA file (each member must trust the same one).
#include <optional>
#include <string>
#include <vector>

#include "etcd_pki/duration.hpp"

namespace etcd_pki {

enum class Severity { info, warning, error };
const char* to_string(Severity s);

struct Finding {
  Severity severity = Severity::error;
  std::string file;
  std::string rule;        // "chain", "key-mismatch", "server-eku", "san-missing", ... (docs/cli.md)
  std::string message;     // what is wrong, in one line
  std::string etcd_error;  // what etcd or its clients would say ("" when etcd says nothing)
};

struct VerifyOptions {
  std::string ca_file;                 // the trusted CA (default: the folder's ca.pem / ca/ca.pem / etcd/ca.crt)
  std::string crl_file;                // default: the CRL next to the CA (ca.crl / ca-crl.pem) when present
  std::vector<std::string> addresses;  // IPs or names the member's server and peer certs must cover
  Seconds warn_within{30LL * 24 * 3600};
  std::optional<TimePoint> now;
  unsigned threads = 0;                // certificates are checked on this many threads (0 = all cores)
};

struct VerifyReport {
  std::string path, ca_file, crl_file;
  std::vector<std::string> checked;  // certificate files checked
  std::vector<Finding> findings;
  int count(Severity s) const;
  int exit_code() const;  // 0 clean, 1 warnings, 2 errors
};

// Errc::input when `path` does not exist, Errc::usage when it is not a folder or no CA certificate
// can be found.
VerifyReport verify_path(const std::string& path, const VerifyOptions& options = {});

// "error: etcd-1/peer.pem: peer-eku: ...\n    etcd: x509: ..." lines and a summary line.
std::string render_text(const VerifyReport& report);
std::string render_json(const VerifyReport& report);

}  // namespace etcd_pki
