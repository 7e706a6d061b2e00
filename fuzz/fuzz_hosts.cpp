// Host strings as cfssl "hosts" entries and --hostname lists (hosts.hpp): IP, email, URI and
// DNS classification and the DNS name check.
// Invariants: an IP prints and parses back to the same bytes; classify_host agrees with
// classify_hosts; every class is the first that accepts the entry (IP, email, URI, DNS).
#include "etcd_pki/etcd_pki.hpp"
#include "fuzz_common.hpp"

using namespace etcd_pki;

namespace {

std::string_view trim(std::string_view s) {
  auto ws = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; };
  while (!s.empty() && ws(s.front())) s.remove_prefix(1);
  while (!s.empty() && ws(s.back())) s.remove_suffix(1);
  return s;
}

void one_host(std::string_view h) {
  std::optional<IpAddress> ip = parse_ip(h);
  if (ip) {
    if (ip->bytes.size() != 4 && ip->bytes.size() != 16) fuzz::violated("parse_ip: not 4 or 16 bytes", h);
    std::string printed = ip->to_string();
    std::optional<IpAddress> again = parse_ip(printed);
    if (!again || !(*again == *ip)) fuzz::violated("parse_ip(to_string()) differs", h);
  }
  std::optional<std::string> mail = parse_email(h);
  bool uri = is_request_uri(h);
  (void)dns_name_problem(h);
  SanType t = classify_host(h);
  SanType expected = ip ? SanType::ip : mail ? SanType::email : uri ? SanType::uri : SanType::dns;
  if (t != expected) fuzz::violated("classify_host is not the first class that accepts the entry", h);
  std::string_view trimmed = trim(h);
  if (trimmed.empty() || trimmed != h) return;
  Sans sans = classify_hosts({std::string(h)});
  size_t n = sans.dns.size() + sans.email.size() + sans.ip.size() + sans.uri.size();
  bool agrees = n == 1 && ((t == SanType::dns && sans.dns.size() == 1 && sans.dns[0] == h) ||
                           (t == SanType::email && sans.email.size() == 1 && sans.email[0] == *mail) ||
                           (t == SanType::ip && sans.ip.size() == 1 && sans.ip[0] == *ip) ||
                           (t == SanType::uri && sans.uri.size() == 1 && sans.uri[0] == h));
  if (!agrees) fuzz::violated("classify_hosts disagrees with classify_host", h);
  (void)sans.to_string();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in = fuzz::text(data, size);
  fuzz::attempt([&] {
    one_host(in);
    std::vector<std::string> items = split_hostnames(in);
    for (const auto& h : items) {
      if (h.empty() || trim(h) != h || h.find(',') != std::string::npos)
        fuzz::violated("split_hostnames: an empty, untrimmed or comma item", h);
      one_host(h);
    }
    (void)classify_hosts(items).to_string();
  });
  return 0;
}
