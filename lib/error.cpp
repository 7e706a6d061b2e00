#include "etcd_pki/error.hpp"

#include <openssl/err.h>

#include <algorithm>

#include "ossl.hpp"
#include "text.hpp"

namespace etcd_pki {
namespace {
// One printable line: line breaks become spaces; other control characters (NUL included, which
// would end the C string what() returns), DEL and bytes that are not UTF-8 become \xNN, so that
// text quoted from a hostile input can neither cut the message nor garble the terminal. A message
// quoting a huge value is cut after about 4 KiB.
std::string one_line(const std::string& s) {
  static const char* hex = "0123456789abcdef";
  constexpr size_t kMax = 4096;
  std::string out;
  out.reserve(std::min(s.size(), kMax + 64));
  for (size_t i = 0; i < s.size();) {
    if (out.size() >= kMax) {
      out += "... (" + std::to_string(s.size() - i) + " more bytes cut)";
      break;
    }
    unsigned char c = static_cast<unsigned char>(s[i]);
    size_t n = detail::utf8_length(s, i);
    if (c == '\n' || c == '\r') {
      out += ' ';
    } else if (n == 0 || c < 0x20 || c == 0x7F) {
      if (c == '\t') {
        out += c;
      } else {
        out += "\\x";
        out += hex[c >> 4];
        out += hex[c & 15];
      }
      n = 1;
    } else {
      out.append(s, i, n);
    }
    i += n;
  }
  return out;
}

std::string compose(const std::string& source, const std::string& field, const std::string& msg) {
  std::string out;
  if (!source.empty()) out += source + ": ";
  if (!field.empty()) out += field + ": ";
  return one_line(out + msg);
}
}  // namespace

const char* to_string(Errc c) noexcept {
  switch (c) {
    case Errc::usage: return "usage";
    case Errc::input: return "input";
    case Errc::config: return "config";
    case Errc::key: return "key";
    case Errc::ca: return "ca";
    case Errc::csr: return "csr";
    case Errc::policy: return "policy";
    case Errc::io: return "io";
    case Errc::exists: return "exists";
    case Errc::crypto: return "crypto";
  }
  return "unknown";
}

Error::Error(Errc category, std::string message, std::string source, std::string field)
    : std::runtime_error(compose(source, field, message)),
      category_(category),
      message_(std::move(message)),
      source_(std::move(source)),
      field_(std::move(field)) {}

Error Error::with_source(std::string source) const {
  if (!source_.empty()) return *this;
  return Error(category_, message_, std::move(source), field_).with_hint(hint_);
}

Error Error::with_hint(Hint hint) const {
  Error e = *this;
  e.hint_ = hint;
  return e;
}

void throw_openssl(Errc category, std::string_view message, std::string source, std::string field) {
  std::string text(message);
  if (std::string queue = ossl::take_error_queue(); !queue.empty()) text += ": " + queue;
  throw Error(category, text, std::move(source), std::move(field));
}

}  // namespace etcd_pki

namespace etcd_pki::ossl {

std::string take_error_queue() {
  std::string text;
  const char* file = nullptr;
  const char* func = nullptr;
  const char* data = nullptr;
  int line = 0, flags = 0;
  while (unsigned long code = ERR_get_error_all(&file, &line, &func, &data, &flags)) {
    char buf[256];
    ERR_error_string_n(code, buf, sizeof buf);
    text += text.empty() ? "" : "; ";
    text += buf;
    if (data && (flags & ERR_TXT_STRING) && *data) text += std::string(" (") + data + ")";
  }
  return text;
}

}  // namespace etcd_pki::ossl
