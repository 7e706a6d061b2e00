#include "text.hpp"

#include <cstdio>
#include <regex>

namespace etcd_pki::detail {

size_t utf8_length(std::string_view s, size_t i) {
  auto byte = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  unsigned char c = byte(i);
  if (c < 0x80) return 1;
  size_t n = c >= 0xC2 && c <= 0xDF ? 2 : c >= 0xE0 && c <= 0xEF ? 3 : c >= 0xF0 && c <= 0xF4 ? 4 : 0;
  if (n == 0 || i + n > s.size()) return 0;
  for (size_t k = 1; k < n; ++k)
    if ((byte(i + k) & 0xC0) != 0x80) return 0;
  unsigned char c1 = byte(i + 1);
  if ((c == 0xE0 && c1 < 0xA0) || (c == 0xED && c1 > 0x9F) || (c == 0xF0 && c1 < 0x90) || (c == 0xF4 && c1 > 0x8F))
    return 0;
  return n;
}

bool valid_utf8(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    size_t n = utf8_length(s, i);
    if (n == 0) return false;
    i += n;
  }
  return true;
}

std::optional<std::string> control_character_problem(std::string_view s) {
  for (size_t i = 0; i < s.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c < 0x20 || c == 0x7F) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "%02X", c);
      return std::string("contains the control character U+00") + buf + " at byte " + std::to_string(i + 1);
    }
  }
  return std::nullopt;
}

std::optional<std::string> regex_problem(std::string_view pattern) {
  constexpr size_t kMaxPattern = 1024, kMaxRepeat = 1000;
  if (pattern.size() > kMaxPattern)
    return "longer than " + std::to_string(kMaxPattern) + " characters (" + std::to_string(pattern.size()) + ")";
  for (size_t i = 0; i < pattern.size(); ++i) {
    char c = pattern[i];
    if (c == '\\' && i + 1 < pattern.size()) {
      char next = pattern[++i];
      if (next >= '1' && next <= '9')
        return std::string("backreference \\") + next + " at character " + std::to_string(i) +
               " (Go's regexp, which cfssl uses, has none)";
    } else if (c == '{') {
      // {n}, {n,}, {n,m}: every number at most kMaxRepeat (Go: "invalid repeat count").
      size_t j = i + 1;
      for (;;) {
        size_t start = j;
        while (j < pattern.size() && pattern[j] >= '0' && pattern[j] <= '9') ++j;
        if (j == start) break;
        if (j - start > 4 || std::stoul(std::string(pattern.substr(start, j - start))) > kMaxRepeat)
          return "repeat count " + std::string(pattern.substr(start, j - start)) + " at character " +
                 std::to_string(start + 1) + " is above " + std::to_string(kMaxRepeat);
        if (j < pattern.size() && pattern[j] == ',') ++j;
        else break;
      }
    }
  }
  try {
    std::regex compiled{std::string(pattern)};
  } catch (const std::regex_error& e) {
    return e.what();
  }
  return std::nullopt;
}

}  // namespace etcd_pki::detail
