#pragma once
// Asks running members what they serve: the files on disk are not necessarily what a member
// presents (a host with other copies, a member started from other paths, a swapped file).
//
// Each endpoint (a member's client and peer URLs, or an https:// URL) gets one TLS connection
// (connect, handshake and one HTTP/1.1 `GET /version`, each within the time-out) and is judged
// the way etcd's clients and peers judge it: the served chain must lead to the trusted CA, cover
// the address that was dialled (IP or DNS SAN), allow server auth and be within its validity.
// The request tells whether the client certificate presented was accepted: etcd 3.4 refuses a
// bad one only after the TLS 1.3 handshake has completed. From a cluster output folder, each
// member's URLs come from its etcd.env (else etcd.conf.yml); the trusted CA is the member's own;
// the client port is shown the certificate of the member's etcdctl.env (its server certificate),
// the peer port a member's peer certificate (see ProbeTarget::identities); the served certificate
// is compared with the member's file (serial and public key).
//
// Findings reuse verify's vocabulary (severity, rule, message, etcd_error): Finding::file is the
// endpoint's URL. Endpoints are probed in parallel; a dead endpoint is an error finding within the
// time-outs, never a hang.
#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "etcd_pki/duration.hpp"
#include "etcd_pki/verify.hpp"

namespace etcd_pki {

enum class EndpointRole { client, peer };
const char* to_string(EndpointRole role);  // "client", "peer"

// A client certificate to present.
struct ProbeIdentity {
  std::string cert_file, key_file;
};

// One endpoint to probe, and what to trust and present there.
struct ProbeTarget {
  std::string url;     // https://HOST:PORT
  std::string host;    // HOST (an IPv6 address without brackets)
  int port = 0;
  std::string member;  // the member's name ("" for a URL given on its own)
  EndpointRole role = EndpointRole::client;
  std::string ca_file;  // the trusted CA ("" = none: the chain is shown, not verified)
  // The client certificates to choose from: the first whose IP SANs hold the address the
  // connection leaves from, else the first. For a member's peer port these are its own peer
  // certificate and then the other members': a member checks a peer's certificate against the
  // address it dials from, so from a member's host that member's certificate is the one etcd
  // would accept. Empty: none is presented.
  std::vector<ProbeIdentity> identities;
  std::string disk_cert;  // the member's certificate file for this port ("" = not compared)
};

// One certificate of a served chain.
struct ServedCertificate {
  std::string subject, issuer;        // "O=..., CN=m1"
  std::string subject_cn, issuer_cn;
  std::string serial;                 // hex as OpenSSL prints it ("5A1F...")
  std::string serial_decimal;         // the same in decimal (the metrics' serial_number)
  std::vector<std::string> sans;      // "DNS:m1", "IP:127.0.0.1", ...
  TimePoint not_before, not_after;
};

// Whether the other side accepted the client certificate presented (or none, when none was).
enum class Acceptance { unknown, accepted, refused };
const char* to_string(Acceptance a);  // "unknown", "accepted", "refused"

struct EndpointReport {
  ProbeTarget target;
  std::string address, local_address;  // "127.0.0.1:2379" dialled, and where from
  bool connected = false, handshake = false;
  std::string tls_version, cipher;
  std::vector<ServedCertificate> chain;  // as served, leaf first
  bool verified = false;  // the chain leads to the CA, covers the dialled host, server auth, valid now
  std::string presented;  // the client certificate file presented ("" for none)
  Acceptance client_cert = Acceptance::unknown;
  int http_status = 0;        // of GET /version (0: no response)
  std::string etcd_version;   // "3.4.23", when /version answered as etcd does
  std::optional<bool> same_as_disk;  // the served leaf is target.disk_cert (serial and public key)
  std::vector<Finding> findings;

  const ServedCertificate* leaf() const { return chain.empty() ? nullptr : &chain.front(); }
  int count(Severity s) const;
};

struct ProbeOptions {
  std::string ca_file;              // trust this CA (default: each member's own; none for URLs)
  std::string cert_file, key_file;  // present this client certificate everywhere (default above)
  std::chrono::milliseconds timeout{5000};  // for each of: connect, handshake, request
  Seconds warn_within{30LL * 24 * 3600};
  std::optional<TimePoint> now;
  unsigned max_parallel = 16;       // endpoints probed at once (one thread each)
};

struct ProbeReport {
  std::vector<EndpointReport> endpoints;  // in the order of the arguments, then of the folder
  std::vector<Finding> findings;          // about the arguments themselves (a member without URLs)
  TimePoint now;                          // the clock the validity was checked at
  int count(Severity s) const;            // everywhere
  int exit_code() const;                  // 0 clean, 1 warnings, 2 errors (as verify)
};

// The endpoints of each argument: an https:// URL, a member folder or a cluster output folder.
// Errc::usage for an argument that is none of those (another scheme, no port), Errc::input for a
// folder that does not exist; `findings` gets what is wrong with a member folder's settings.
std::vector<ProbeTarget> probe_targets(const std::vector<std::string>& args, const ProbeOptions& options,
                                       std::vector<Finding>& findings);
// One endpoint. Never throws for what the network or the other side does.
EndpointReport probe_endpoint(const ProbeTarget& target, const ProbeOptions& options);
// Every endpoint of the arguments, in parallel. An unreadable --cert or --key is Errc::input /
// Errc::key before anything is dialled.
ProbeReport probe(const std::vector<std::string>& args, const ProbeOptions& options = {});

// Per endpoint: what it served and the findings ("error: san-missing: ...\n    etcd: x509: ...");
// then a summary line.
std::string render_text(const ProbeReport& report);
// {"endpoints": [{url, member, role, address, ..., leaf, chain, findings}], "errors", "warnings",
// "findings"} (docs/operate.md).
std::string render_json(const ProbeReport& report);
// Metrics for node_exporter's textfile collector, as expiry's render_prometheus: per served leaf
// x509_cert_not_after / not_before / expired {subject_CN, issuer_CN, serial_number, endpoint,
// member, role server|peer}; per endpoint etcd_pki_probe_success and, when compared,
// etcd_pki_probe_served_is_on_disk {endpoint, member, role client|peer} (docs/operate.md).
std::string render_prometheus(const ProbeReport& report);

}  // namespace etcd_pki
