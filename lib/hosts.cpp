#include "etcd_pki/hosts.hpp"

#include "text.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <cctype>
#include <cstring>

namespace etcd_pki {
namespace {

bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_hex(char c) { return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

std::string_view trim(std::string_view s) {
  auto ws = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; };
  while (!s.empty() && ws(s.front())) s.remove_prefix(1);
  while (!s.empty() && ws(s.back())) s.remove_suffix(1);
  return s;
}

// --- RFC 5322 mailbox, the subset Go's net/mail accepts in practice ---------------------------
class MailParser {
 public:
  explicit MailParser(std::string_view s) : s_(s) {}

  std::optional<std::string> address() {
    skip_cfws();
    size_t start = pos_;
    // Try a bare addr-spec first, then "display name <addr-spec>".
    if (auto spec = addr_spec(); spec && at_end()) return spec;
    pos_ = start;
    if (peek() != '<') {
      if (!phrase()) return std::nullopt;
    }
    skip_cfws();
    if (!consume('<')) return std::nullopt;
    auto spec = addr_spec();
    if (!spec || !consume('>')) return std::nullopt;
    if (!at_end()) return std::nullopt;
    return spec;
  }

 private:
  std::string_view s_;
  size_t pos_ = 0;

  char peek() const { return pos_ < s_.size() ? s_[pos_] : '\0'; }
  bool consume(char c) {
    if (peek() != c) return false;
    ++pos_;
    return true;
  }
  bool at_end() {
    skip_cfws();
    return pos_ == s_.size();
  }
  void skip_cfws() {
    while (pos_ < s_.size()) {
      char c = s_[pos_];
      if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
        ++pos_;
      } else if (c == '(') {
        int depth = 0;
        do {
          if (s_[pos_] == '(') ++depth;
          else if (s_[pos_] == ')') --depth;
          else if (s_[pos_] == '\\') ++pos_;
          ++pos_;
        } while (pos_ < s_.size() && depth > 0);
        if (depth > 0) return;
      } else {
        return;
      }
    }
  }
  static bool atext(char c) {
    return is_alpha(c) || is_digit(c) || static_cast<unsigned char>(c) >= 0x80 ||
           std::strchr("!#$%&'*+-/=?^_`{|}~", c) != nullptr;
  }
  std::optional<std::string> dot_atom() {
    std::string out;
    for (;;) {
      size_t start = pos_;
      while (pos_ < s_.size() && atext(s_[pos_])) ++pos_;
      if (pos_ == start) return std::nullopt;
      out.append(s_.substr(start, pos_ - start));
      if (peek() != '.') return out;
      ++pos_;
      out += '.';
    }
  }
  std::optional<std::string> quoted_string() {
    if (!consume('"')) return std::nullopt;
    std::string out;
    while (pos_ < s_.size() && s_[pos_] != '"') {
      if (s_[pos_] == '\\' && pos_ + 1 < s_.size()) ++pos_;
      else if (static_cast<unsigned char>(s_[pos_]) < 0x20 && s_[pos_] != '\t') return std::nullopt;
      out += s_[pos_++];
    }
    if (!consume('"')) return std::nullopt;
    return out;
  }
  std::optional<std::string> addr_spec() {
    skip_cfws();
    std::optional<std::string> local = peek() == '"' ? quoted_string() : dot_atom();
    if (!local || !consume('@')) return std::nullopt;
    std::optional<std::string> domain;
    if (peek() == '[') {
      size_t end = s_.find(']', pos_);
      if (end == std::string_view::npos) return std::nullopt;
      domain = std::string(s_.substr(pos_, end + 1 - pos_));
      pos_ = end + 1;
    } else {
      domain = dot_atom();
    }
    if (!domain) return std::nullopt;
    if (local->find_first_of(" \t\"\\") != std::string::npos) *local = "\"" + *local + "\"";
    return *local + "@" + *domain;
  }
  bool phrase() {
    bool any = false;
    for (;;) {
      skip_cfws();
      if (peek() == '"') {
        if (!quoted_string()) return false;
      } else {
        size_t start = pos_;
        while (pos_ < s_.size() && (atext(s_[pos_]) || s_[pos_] == '.')) ++pos_;
        if (pos_ == start) return any;
      }
      any = true;
    }
  }
};

// --- Go's url.ParseRequestURI --------------------------------------------------------------------
bool host_char_ok(char c) {
  if (static_cast<unsigned char>(c) >= 0x80) return true;
  return is_alpha(c) || is_digit(c) || std::strchr("-_.~!$&'()*+,;=:[]<>\"%", c) != nullptr;
}

bool valid_escapes(std::string_view s) {
  for (size_t i = 0; i < s.size(); ++i)
    if (s[i] == '%' && (i + 2 >= s.size() || !is_hex(s[i + 1]) || !is_hex(s[i + 2]))) return false;
  return true;
}

bool valid_authority(std::string_view authority) {
  size_t at = authority.rfind('@');
  std::string_view host = at == std::string_view::npos ? authority : authority.substr(at + 1);
  if (at != std::string_view::npos) {
    for (char c : authority.substr(0, at))
      if (!(is_alpha(c) || is_digit(c) || std::strchr("-._:~!$&'()*+,;=%@", c))) return false;
  }
  if (!host.empty() && host.front() == '[') {
    size_t close = host.find(']');
    if (close == std::string_view::npos) return false;
    std::string_view port = host.substr(close + 1);
    if (!port.empty() && (port.front() != ':' || !std::all_of(port.begin() + 1, port.end(), is_digit))) return false;
    return true;
  }
  if (size_t colon = host.rfind(':'); colon != std::string_view::npos) {
    std::string_view port = host.substr(colon + 1);
    if (!std::all_of(port.begin(), port.end(), is_digit)) return false;
    host = host.substr(0, colon);
  }
  return std::all_of(host.begin(), host.end(), host_char_ok) && valid_escapes(host);
}

}  // namespace

std::string IpAddress::to_string() const {
  char buf[INET6_ADDRSTRLEN] = {};
  if (bytes.size() == 4) inet_ntop(AF_INET, bytes.data(), buf, sizeof buf);
  else if (bytes.size() == 16) inet_ntop(AF_INET6, bytes.data(), buf, sizeof buf);
  return buf;
}

std::optional<IpAddress> parse_ip(std::string_view s) {
  if (s.empty() || s.size() > 64) return std::nullopt;
  // inet_pton reads a C string: "10.0.0.1\0.evil.com" must not pass as 10.0.0.1.
  if (!std::all_of(s.begin(), s.end(), [](char c) { return is_hex(c) || c == '.' || c == ':'; })) return std::nullopt;
  std::string z(s);
  unsigned char buf[16];
  if (inet_pton(AF_INET, z.c_str(), buf) == 1) return IpAddress{{buf, buf + 4}};
  if (inet_pton(AF_INET6, z.c_str(), buf) == 1) {
    static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (std::memcmp(buf, mapped, 12) == 0) return IpAddress{{buf + 12, buf + 16}};
    return IpAddress{{buf, buf + 16}};
  }
  return std::nullopt;
}

std::optional<std::string> parse_email(std::string_view s) { return MailParser(s).address(); }

bool is_request_uri(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) return false;
  if (s == "*") return true;
  std::string_view scheme, rest = s;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (is_alpha(c)) continue;
    if (is_digit(c) || c == '+' || c == '-' || c == '.') {
      if (i == 0) break;
      continue;
    }
    if (c == ':') {
      if (i == 0) return false;  // "missing protocol scheme"
      scheme = s.substr(0, i);
      rest = s.substr(i + 1);
    }
    break;
  }
  if (size_t q = rest.find('?'); q != std::string_view::npos) rest = rest.substr(0, q);
  if (rest.empty() || rest.front() != '/') return !scheme.empty();  // opaque, or "invalid URI for request"
  if (!scheme.empty() && rest.substr(0, 2) == "//") {
    rest.remove_prefix(2);
    size_t slash = rest.find('/');
    if (!valid_authority(rest.substr(0, slash))) return false;
    rest = slash == std::string_view::npos ? std::string_view{} : rest.substr(slash);
  }
  return valid_escapes(rest);
}

const char* to_string(SanType t) {
  switch (t) {
    case SanType::dns: return "DNS";
    case SanType::email: return "email";
    case SanType::ip: return "IP";
    case SanType::uri: return "URI";
  }
  return "?";
}

SanType classify_host(std::string_view host) {
  if (parse_ip(host)) return SanType::ip;
  if (parse_email(host)) return SanType::email;
  if (is_request_uri(host)) return SanType::uri;
  return SanType::dns;
}

Sans classify_hosts(const std::vector<std::string>& hosts) {
  Sans sans;
  for (const auto& raw : hosts) {
    std::string_view h = trim(raw);
    if (h.empty()) continue;
    if (auto ip = parse_ip(h)) sans.ip.push_back(*ip);
    else if (auto mail = parse_email(h)) sans.email.push_back(*mail);
    else if (is_request_uri(h)) sans.uri.emplace_back(h);
    else sans.dns.emplace_back(h);
  }
  return sans;
}

std::string Sans::to_string() const {
  std::string out;
  auto add = [&](const char* prefix, const std::string& v) {
    if (!out.empty()) out += ", ";
    out += prefix;
    out += v;
  };
  for (const auto& d : dns) add("DNS:", d);
  for (const auto& e : email) add("email:", e);
  for (const auto& i : ip) add("IP:", i.to_string());
  for (const auto& u : uri) add("URI:", u);
  return out;
}

std::vector<std::string> split_hostnames(std::string_view csv) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= csv.size()) {
    size_t comma = csv.find(',', start);
    if (comma == std::string_view::npos) comma = csv.size();
    std::string_view item = trim(csv.substr(start, comma - start));
    if (!item.empty()) out.emplace_back(item);
    start = comma + 1;
  }
  return out;
}

std::optional<std::string> san_problem(SanType type, std::string_view value) {
  if (type == SanType::ip) return std::nullopt;
  if (auto problem = detail::control_character_problem(value)) return problem;
  for (size_t i = 0; i < value.size(); ++i) {
    if (static_cast<unsigned char>(value[i]) >= 0x80)
      return "contains a non-ASCII character at byte " + std::to_string(i + 1) +
             " (a SAN is ASCII: write an internationalized name as punycode, xn--...)";
  }
  if (type != SanType::dns) return std::nullopt;
  std::string_view rest = value;
  if (!rest.empty() && rest.back() == '.') rest.remove_suffix(1);
  if (rest.size() > 253) return "DNS name longer than 253 characters (" + std::to_string(rest.size()) + ")";
  for (size_t start = 0; start <= rest.size();) {
    size_t dot = std::min(rest.find('.', start), rest.size());
    if (dot - start > 63)
      return "DNS label \"" + std::string(rest.substr(start, dot - start)) + "\" is longer than 63 characters (" +
             std::to_string(dot - start) + ")";
    start = dot + 1;
  }
  return std::nullopt;
}

std::optional<std::string> host_problem(std::string_view host) {
  std::string_view h = trim(host);
  return san_problem(classify_host(h), h);
}

bool looks_like_ip(std::string_view host) {
  std::string_view h = trim(host);
  if (h.empty() || parse_ip(h)) return false;
  auto count = [&](char x) { return std::count(h.begin(), h.end(), x); };
  bool any_digit = std::any_of(h.begin(), h.end(), is_digit);
  bool v4_chars = std::all_of(h.begin(), h.end(), [](char c) { return is_digit(c) || c == '.'; });
  bool v6_chars = std::all_of(h.begin(), h.end(), [](char c) { return is_hex(c) || c == '.' || c == ':'; });
  return any_digit && ((v4_chars && count('.') >= 2) || (v6_chars && count(':') >= 2));
}

std::optional<std::string> dns_name_problem(std::string_view name) {
  if (name.empty()) return "empty name";
  if (name.size() > 253) return "longer than 253 characters";
  std::string_view rest = name;
  if (rest.substr(0, 2) == "*.") rest.remove_prefix(2);
  if (!rest.empty() && rest.back() == '.') rest.remove_suffix(1);
  while (true) {
    size_t dot = rest.find('.');
    std::string_view label = rest.substr(0, dot);
    if (label.empty()) return "empty label";
    if (label.size() > 63) return "label \"" + std::string(label) + "\" is longer than 63 characters";
    for (char c : label)
      if (!(is_alpha(c) || is_digit(c) || c == '-' || c == '_'))
        return "invalid character '" + std::string(1, c) + "' in \"" + std::string(name) + "\"";
    if (label.front() == '-' || label.back() == '-') return "label \"" + std::string(label) + "\" starts or ends with '-'";
    if (dot == std::string_view::npos) break;
    rest.remove_prefix(dot + 1);
  }
  // RFC 1123 2.1: a host name is never dotted-decimal; "256.1.1.1" or "1.2.3.04" is a mistyped IP.
  if (looks_like_ip(name)) return "\"" + std::string(name) + "\" looks like an IP address but is not a valid one";
  return std::nullopt;
}

}  // namespace etcd_pki
