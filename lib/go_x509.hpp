#pragma once
// Private: what etcd (Go's crypto/x509) decides about a certificate, and the words it uses, in one
// place. verify applies it to the files of a folder, probe to the chains members serve.
#include <optional>
#include <string>
#include <vector>

#include "etcd_pki/certificate.hpp"
#include "etcd_pki/duration.hpp"
#include "etcd_pki/hosts.hpp"
#include "etcd_pki/verify.hpp"

namespace etcd_pki::detail {

inline const std::string kIncompatibleKeyUsage = "x509: certificate specifies an incompatible key usage";
inline const std::string kUnknownAuthority = "x509: certificate signed by unknown authority";

// Whether a certificate with these extended key usages (dotted OIDs) may be used for `oid`: it has
// none (no restriction), `oid` itself, or anyExtendedKeyUsage.
bool has_eku(const std::vector<std::string>& ekus, const char* oid);

// Go's x509.HostnameError text when `sans` do not cover `host`: an IP is compared with the IP SANs,
// a name with the DNS SANs (a "*." wildcard covers one label). nullopt when they do.
// "x509: certificate is valid for 127.0.0.2, not 127.0.0.1", "x509: cannot validate certificate
// for 10.0.0.1 because it doesn't contain any IP SANs", "... is not valid for any names, ...".
std::optional<std::string> hostname_error(const Sans& sans, const std::string& host);

// A certificate outside its validity at `now` (error: expired, not-yet-valid), or within
// `warn_within` of its end (warning: expiring), with Go's text; `what` names it in the message
// ("server certificate"). nullopt when it is valid for longer.
struct TimeProblem {
  Severity severity;
  std::string rule, message, etcd_error;
};
std::optional<TimeProblem> time_problem(const Certificate& cert, TimePoint now, Seconds warn_within, const std::string& what);

// The chain from `leaf` to one of `anchors` (every certificate of a trusted CA file is an anchor,
// as in Go), with `intermediates` (the rest of a served chain or certificate file), the time not
// checked. `chain` is leaf first, empty on failure with OpenSSL's reason in `failure`.
struct ChainCheck {
  std::vector<Certificate> chain;
  std::string failure;
};
ChainCheck check_chain(const std::vector<Certificate>& anchors, const Certificate& leaf, const std::vector<Certificate>& intermediates);

}  // namespace etcd_pki::detail
