#pragma once
// Subject alternative names from cfssl "hosts" strings. Each entry goes to the first class
// that accepts it, in cfssl's order: IP, then email, then URI, then DNS.
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace etcd_pki {

struct IpAddress {
  std::vector<uint8_t> bytes;  // 4 bytes for IPv4 (and IPv4-mapped IPv6), 16 for IPv6
  std::string to_string() const;
  bool operator==(const IpAddress&) const = default;
};

std::optional<IpAddress> parse_ip(std::string_view s);
// The address part of an RFC 5322 mailbox ("a@b.com", "Name <a@b.com>"), as Go's mail.ParseAddress.
std::optional<std::string> parse_email(std::string_view s);
// Go's url.ParseRequestURI: an absolute URI ("spiffe://x/y", "host:8080") or an absolute path.
bool is_request_uri(std::string_view s);

enum class SanType { dns, email, ip, uri };
const char* to_string(SanType t);

struct Sans {
  std::vector<std::string> dns, email, uri;
  std::vector<IpAddress> ip;

  bool empty() const { return dns.empty() && email.empty() && ip.empty() && uri.empty(); }
  // "DNS:a, IP:1.2.3.4" in the encoded order (DNS, email, IP, URI), as openssl prints it.
  std::string to_string() const;
  bool operator==(const Sans&) const = default;
};

SanType classify_host(std::string_view host);

// Classifies every host. Entries are trimmed of surrounding white space and empty entries are
// dropped (a deliberate difference from cfssl, which writes them as empty DNS names).
Sans classify_hosts(const std::vector<std::string>& hosts);

// Splits a --hostname value on commas, trimming white space and dropping empty items.
std::vector<std::string> split_hostnames(std::string_view csv);

// What makes `value` impossible to write as a SAN of this type, or nothing: a control character
// (NUL included), a non-ASCII byte (DNS, email and URI SANs are IA5String; internationalized
// names go in punycode), and for DNS a name over 253 characters or a label over 63 (RFC 1035).
// Anything else cfssl writes is kept ("10.0.0.0/8" stays a DNS SAN). IP addresses have no problem.
std::optional<std::string> san_problem(SanType type, std::string_view value);
// san_problem for a "hosts" entry, trimmed and classified as classify_hosts does.
std::optional<std::string> host_problem(std::string_view host);
// The entry is not an IP address but looks like a mistyped one ("1.2.3", "256.1.1.1", "1.2.3.04",
// "1.2.3.4.5", "1::2::3"): classify_hosts makes it a DNS name, as cfssl does.
bool looks_like_ip(std::string_view host);

// Checks a DNS SAN is a plausible host name (labels of 1-63 letters, digits, '-', '_', a leading
// "*." wildcard; not dotted-decimal like a mistyped IP); returns what is wrong, or nothing. Used
// where a name must really be a host name.
std::optional<std::string> dns_name_problem(std::string_view name);

}  // namespace etcd_pki
