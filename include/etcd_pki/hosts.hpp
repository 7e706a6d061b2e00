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

// Checks a DNS SAN is a plausible host name (labels of 1-63 letters, digits, '-', '_', a leading
// "*." wildcard); returns what is wrong, or nothing. Used where a name must really be a host name.
std::optional<std::string> dns_name_problem(std::string_view name);

}  // namespace etcd_pki
