#pragma once
// Re-issuing certificates in place: same subject, SANs and usages, a new key (or the same one),
// a new validity capped at the CA's notAfter. Each key and certificate are swapped together
// (replace_pair in bundle.hpp), because etcd re-reads them on every TLS handshake.
#include <optional>
#include <string>
#include <vector>

#include "etcd_pki/duration.hpp"
#include "etcd_pki/signer.hpp"

namespace etcd_pki {

struct RenewTarget {
  std::string cert_path, key_path;
};

// Every leaf pair under a cluster output folder (member folders and clients/) or a member folder:
// certificates that are not CAs and have their key next to them. Sorted by path.
std::vector<RenewTarget> find_renew_targets(const std::string& dir);

struct RenewOptions {
  bool reuse_key = false;
  std::optional<Seconds> expiry;  // default: the certificate's own lifetime (notAfter - notBefore)
  std::optional<Seconds> within;  // renew only certificates expiring before now + within
  std::optional<TimePoint> now;
  unsigned threads = 0;           // key generation workers; 0 = all cores
  // Re-sign leaves whatever CA issued them (rotate-ca reissue: the CA being replaced); by default
  // a leaf not issued by the signer is refused.
  bool any_issuer = false;
};

struct RenewedCert {
  std::string cert_path;
  std::string old_serial, new_serial;  // hex
  TimePoint not_after;
  std::string backup;                  // the folder holding the previous pair
};

struct RenewResult {
  std::vector<RenewedCert> renewed;
  std::vector<std::string> skipped;  // not due (with `within`)
  std::vector<std::string> warnings;
};

// Checks every target first (readable, key matches, issued by this CA: Errc::ca / Errc::key
// naming the file), then makes every new key and certificate (in parallel), then swaps the pairs
// one by one and records them in the CA's index. A member folder's MANIFEST is refreshed.
// A CA index that cannot be read or written (malformed, a CA folder on read-only media) does not
// stop the renewal: as for issue, the result says in a warning that the certificates are not
// recorded (and, when it cannot be read, that revocations were not checked).
RenewResult renew(const std::vector<RenewTarget>& targets, const Signer& signer, const std::string& ca_cert_path,
                  const RenewOptions& options = {});

}  // namespace etcd_pki
