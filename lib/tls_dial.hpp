#pragma once
// Private: one TLS connection made the way etcd's clients and peers make it, bounded in time: a
// non-blocking TCP connect, the handshake, then one HTTP/1.1 request and its response, each stage
// within `timeout` (a DNS name's lookup is bounded by the resolver, not here). Nothing is verified
// here: the served chain comes back for probe to judge with etcd's rules. No ALPN is offered:
// etcd 3.4's peer port advertises h2 but cannot answer HTTP/2.
//
// Why the request: with TLS 1.3 the client's handshake is complete before the server has looked
// at the client certificate, and etcd refuses a bad one only afterwards (an alert instead of the
// response), so only a response proves the certificate was accepted.
#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "etcd_pki/certificate.hpp"

namespace etcd_pki::detail {

struct TlsIdentity {
  std::string cert_file, key_file;  // PEM; the certificate file may hold a chain, leaf first
};

struct DialRequest {
  std::string host;  // an IP (no brackets) or a DNS name; a name is also sent as SNI
  int port = 0;
  std::chrono::milliseconds timeout{5000};  // for each of: connect, handshake, request
  std::string path = "/version";
  // The client certificate to present, chosen once the local address of the connection is known
  // (a member checks a peer's certificate against the address it dials from). Unset or nullopt:
  // none.
  std::function<std::optional<TlsIdentity>(const std::string& local_ip)> identity;
};

enum class DialStage { connect, handshake, request, done };

struct Dialled {
  DialStage reached = DialStage::connect;  // the stage that failed, or done: a response came
  bool timed_out = false;                  // that stage ran out of time
  std::string error;                       // why it failed, in Go's words where there are some
  int alert = -1;                          // the TLS alert the server sent, -1 for none
  std::string address, local_address;      // "127.0.0.1:2379", the other side and ours
  std::string tls_version, cipher;
  std::vector<Certificate> chain;          // as served, leaf first
  std::string presented;                   // the client certificate file presented ("" for none)
  std::string identity_error;              // it could not be loaded: none was presented
  int http_status = 0;
  std::string http_body;
};

// Never throws for what the network or the other side does; only for an OpenSSL failure of its own.
Dialled dial_tls(const DialRequest& request);

// Go's crypto/tls name of a TLS alert ("bad certificate", "certificate required", "alert(N)").
std::string go_alert_text(int alert);

}  // namespace etcd_pki::detail
