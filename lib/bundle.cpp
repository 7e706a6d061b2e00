#include "etcd_pki/bundle.hpp"

#include "layout.hpp"

#include <cstdio>
#include <filesystem>

#include "etcd_pki/signer.hpp"
#include "json_fields.hpp"

namespace etcd_pki {

namespace {
// Go's encoding/json string escaping (HTML-safe, as cfssl's output).
std::string go_json_string(const std::string& s) {
  std::string out = "\"";
  for (size_t i = 0; i < s.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    // U+2028 and U+2029 (E2 80 A8/A9), which Go escapes for JavaScript.
    if (c == 0xE2 && i + 2 < s.size() && static_cast<unsigned char>(s[i + 1]) == 0x80 &&
        (static_cast<unsigned char>(s[i + 2]) & 0xFE) == 0xA8) {
      out += static_cast<unsigned char>(s[i + 2]) == 0xA8 ? "\\u2028" : "\\u2029";
      i += 2;
      continue;
    }
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '<': out += "\\u003c"; break;
      case '>': out += "\\u003e"; break;
      case '&': out += "\\u0026"; break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  return out + "\"";
}
}  // namespace

CfsslOutput to_pem(const Bundle& b, const Passphrase& key_passphrase) {
  CfsslOutput pem;
  if (b.certificate && b.certificate->is_ca()) {
    pem.cert = b.certificate->to_pem();
    if (!b.issuers.empty()) {
      pem.chain = *pem.cert;
      for (const auto& c : b.issuers) *pem.chain += c.to_pem();
    }
  } else if (b.certificate) {
    pem.cert = b.certificate->to_pem() + intermediates_pem(b.issuers);
  }
  if (b.csr) pem.csr = b.csr->to_pem();
  if (b.key) pem.key = key_passphrase.empty() ? b.key->to_pem() : b.key->to_pem_encrypted(key_passphrase);
  return pem;
}

std::string to_cfssl_json(const Bundle& b) { return to_cfssl_json(to_pem(b)); }

std::string to_cfssl_json(const CfsslOutput& b) {
  std::string out = "{";
  auto field = [&](const char* name, const std::optional<std::string>& v) {
    if (!v) return;
    if (out.size() > 1) out += ",";
    out += std::string("\"") + name + "\":" + go_json_string(*v);
  };
  field("cert", b.cert);
  field("csr", b.csr);
  field("key", b.key);
  return out + "}\n";
}

CfsslOutput from_cfssl_json(std::string_view text, bool bare, const std::string& source) {
  if (text.find_first_not_of(" \t\r\n") == std::string_view::npos)
    throw Error(Errc::input, "no input (did the command before the pipe fail?)", source);
  detail::Json j = detail::parse_json(text, source, Errc::input);
  if (!j.is_object()) throw Error(Errc::input, "expected a JSON object", source);
  const detail::Json* result = &j;
  if (!bare) {
    auto ok = j.find("success");
    if (ok == j.end() || !ok->is_boolean() || !ok->get<bool>()) {
      std::string msg = "request failed";
      if (auto errs = j.find("errors"); errs != j.end() && errs->is_array())
        for (const auto& e : *errs)
          if (e.is_object() && e.contains("message") && e["message"].is_string())
            msg += ": " + e["message"].get<std::string>();
      if (ok == j.end()) msg += " (not a cfssl API response; for gencert output use -bare)";
      throw Error(Errc::input, msg, source);
    }
    auto r = j.find("result");
    if (r == j.end() || !r->is_object()) throw Error(Errc::input, "the response has no \"result\" object", source);
    result = &*r;
  }
  auto pick = [&](std::initializer_list<const char*> names) -> std::optional<std::string> {
    for (const char* n : names) {
      auto it = result->find(n);
      if (it == result->end() || it->is_null()) continue;
      if (!it->is_string()) throw Error(Errc::input, "expected a string", source, n);
      if (it->get<std::string>().empty()) return std::nullopt;
      return it->get<std::string>();
    }
    return std::nullopt;
  };
  CfsslOutput b;
  b.cert = pick({"cert", "certificate"});
  b.key = pick({"key", "private_key"});
  b.csr = pick({"csr", "certificate_request"});
  if (!b.cert && !b.key && !b.csr)
    throw Error(Errc::input, "no \"cert\", \"key\" or \"csr\" in the input", source);
  return b;
}

std::vector<OutputFile> bundle_files(const CfsslOutput& b, const std::string& dir, const std::string& base) {
  std::string prefix = (dir.empty() || dir == ".") ? base : dir + "/" + base;
  std::vector<OutputFile> files;
  if (b.cert) files.push_back({prefix + ".pem", *b.cert, 0644});
  if (b.key) files.push_back({detail::key_path_for_cert(prefix + ".pem"), *b.key, 0600});
  if (b.csr) files.push_back({prefix + ".csr", *b.csr, 0644});
  if (b.chain) files.push_back({detail::chain_path_for_ca(prefix + ".pem"), *b.chain, 0644});
  return files;
}

std::vector<OutputFile> bundle_files(const Bundle& b, const std::string& dir, const std::string& base) {
  return bundle_files(to_pem(b), dir, base);
}

std::string key_path_for_cert(const std::string& cert_path) { return detail::key_path_for_cert(cert_path); }

}  // namespace etcd_pki
