#include "etcd_pki/profile.hpp"


#include "etcd_pki/error.hpp"
#include "etcd_pki/hosts.hpp"
#include "json_fields.hpp"
#include "text.hpp"

namespace etcd_pki {

using detail::Fields;
using detail::Json;

namespace {

struct UsageName {
  const char* name;
  uint32_t ku;
  const char* eku;
};

// cfssl's table (config.KeyUsage / config.ExtKeyUsage); both spellings of content commitment.
constexpr UsageName kUsages[] = {
    {"signing", ku::digital_signature, nullptr},
    {"digital signature", ku::digital_signature, nullptr},
    {"content commitment", ku::content_commitment, nullptr},
    {"content committment", ku::content_commitment, nullptr},
    {"key encipherment", ku::key_encipherment, nullptr},
    {"key agreement", ku::key_agreement, nullptr},
    {"data encipherment", ku::data_encipherment, nullptr},
    {"cert sign", ku::cert_sign, nullptr},
    {"crl sign", ku::crl_sign, nullptr},
    {"encipher only", ku::encipher_only, nullptr},
    {"decipher only", ku::decipher_only, nullptr},
    {"any", 0, "2.5.29.37.0"},
    {"server auth", 0, eku::server_auth},
    {"client auth", 0, eku::client_auth},
    {"code signing", 0, "1.3.6.1.5.5.7.3.3"},
    {"email protection", 0, "1.3.6.1.5.5.7.3.4"},
    {"s/mime", 0, "1.3.6.1.5.5.7.3.4"},
    {"ipsec end system", 0, "1.3.6.1.5.5.7.3.5"},
    {"ipsec tunnel", 0, "1.3.6.1.5.5.7.3.6"},
    {"ipsec user", 0, "1.3.6.1.5.5.7.3.7"},
    {"timestamping", 0, "1.3.6.1.5.5.7.3.8"},
    {"ocsp signing", 0, "1.3.6.1.5.5.7.3.9"},
    {"microsoft sgc", 0, "1.3.6.1.4.1.311.10.3.3"},
    {"netscape sgc", 0, "2.16.840.1.113730.4.1"},
};

constexpr std::pair<uint32_t, const char*> kKuNames[] = {
    {ku::digital_signature, "Digital Signature"}, {ku::content_commitment, "Non Repudiation"},
    {ku::key_encipherment, "Key Encipherment"},   {ku::data_encipherment, "Data Encipherment"},
    {ku::key_agreement, "Key Agreement"},         {ku::cert_sign, "Certificate Sign"},
    {ku::crl_sign, "CRL Sign"},                   {ku::encipher_only, "Encipher Only"},
    {ku::decipher_only, "Decipher Only"},
};

constexpr std::pair<const char*, const char*> kEkuNames[] = {
    {"2.5.29.37.0", "Any Extended Key Usage"},
    {"1.3.6.1.5.5.7.3.1", "TLS Web Server Authentication"},
    {"1.3.6.1.5.5.7.3.2", "TLS Web Client Authentication"},
    {"1.3.6.1.5.5.7.3.3", "Code Signing"},
    {"1.3.6.1.5.5.7.3.4", "E-mail Protection"},
    {"1.3.6.1.5.5.7.3.5", "IPSec End System"},
    {"1.3.6.1.5.5.7.3.6", "IPSec Tunnel"},
    {"1.3.6.1.5.5.7.3.7", "IPSec User"},
    {"1.3.6.1.5.5.7.3.8", "Time Stamping"},
    {"1.3.6.1.5.5.7.3.9", "OCSP Signing"},
    {"1.3.6.1.4.1.311.10.3.3", "Microsoft Server Gated Crypto"},
    {"2.16.840.1.113730.4.1", "Netscape Server Gated Crypto"},
};

constexpr std::string_view kProfileFields[] = {
    "usages", "expiry", "backdate", "not_before", "not_after", "ca_constraint", "ocsp_url", "crl_url",
    "issuer_urls", "ocsp_no_check", "name_whitelist", "copy_extensions", "is_ca",
    // accepted for cfssl configs; they do not change the certificate (ignored with a warning)
    "auth_key", "prev_auth_key", "allowed_extensions", "ct_log_servers", "cert_store", "lint_error_level",
    "ignored_lints", "ignored_lint_sources",
    // cfssl features etcd-pki does not implement (an error when present)
    "remote", "auth_remote", "CSRWhitelist", "Policies"};

Profile read_profile(const Json& j, const std::string& name, const std::string& path, const std::string& source,
                     bool is_default, std::vector<std::string>& warnings) {
  Fields f(j, source, path, Errc::config, std::vector<std::string_view>(std::begin(kProfileFields), std::end(kProfileFields)));
  for (const char* k : {"remote", "auth_remote", "CSRWhitelist", "Policies"})
    if (f.has(k)) throw f.error(k, "not supported by etcd-pki (it signs locally, with the profile's own fields)");
  if (f.boolean("copy_extensions").value_or(false))
    throw f.error("copy_extensions", "not supported: the CSR's extensions cannot override the profile");
  if (f.has("is_ca"))
    throw f.error("is_ca", "the legacy \"is_ca\" is ignored by cfssl; write \"ca_constraint\": {\"is_ca\": true}");
  for (const char* k : {"auth_key", "prev_auth_key", "allowed_extensions", "ct_log_servers", "cert_store",
                        "lint_error_level", "ignored_lints", "ignored_lint_sources"})
    if (f.has(k)) warnings.push_back(source + ": " + f.field(k) + ": ignored (does not apply to local signing)");

  Profile p;
  p.name = name;
  p.source = source;
  p.path = path;
  auto expiry = f.string("expiry");
  if (!expiry || expiry->empty())
    throw f.error("expiry", "missing: every profile needs its own \"expiry\", e.g. \"8760h\" or \"365d\"");
  p.expiry = parse_duration(*expiry, source, f.field("expiry"));
  if (p.expiry.count() <= 0) throw f.error("expiry", "must be positive, not \"" + *expiry + "\"");
  if (auto b = f.string("backdate")) {
    p.backdate = parse_duration(*b, source, f.field("backdate"));
    if (p.backdate->count() < 0) throw f.error("backdate", "must not be negative");
  }
  if (auto nb = f.string("not_before")) p.not_before = parse_rfc3339(*nb, source, f.field("not_before"));
  if (auto na = f.string("not_after")) p.not_after = parse_rfc3339(*na, source, f.field("not_after"));
  if (p.not_before && p.not_after && *p.not_after <= *p.not_before)
    throw f.error("not_after", "is not after not_before");

  auto usages = f.strings("usages");
  if (usages) p.usages = parse_usages(*usages, source, f.field("usages"));
  if (!is_default && (!usages || usages->empty()))
    throw f.error("usages", "missing: a profile needs usages, e.g. [\"signing\", \"key encipherment\", \"server auth\"]");

  if (auto ca = f.object("ca_constraint", {"is_ca", "max_path_len", "max_path_len_zero"})) {
    p.ca.is_ca = ca->boolean("is_ca").value_or(false);
    int64_t mpl = ca->integer("max_path_len").value_or(0);
    if (mpl < 0 || mpl > 1000) throw ca->error("max_path_len", "must be between 0 and 1000");
    p.ca.max_path_len = static_cast<int>(mpl);
    p.ca.max_path_len_zero = ca->boolean("max_path_len_zero").value_or(false);
  }
  p.ocsp_url = f.string("ocsp_url").value_or("");
  p.crl_url = f.string("crl_url").value_or("");
  if (auto urls = f.strings("issuer_urls")) p.issuer_urls = *urls;
  p.ocsp_no_check = f.boolean("ocsp_no_check").value_or(false);
  p.name_whitelist = f.string("name_whitelist").value_or("");
  if (!p.name_whitelist.empty()) {
    if (auto problem = detail::regex_problem(p.name_whitelist))
      throw f.error("name_whitelist", "invalid regular expression: " + *problem);
  }
  for (const std::string* url : {&p.ocsp_url, &p.crl_url})
    if (url->find(',') != std::string::npos) throw Error(Errc::config, "URL must not contain ','", source, path);
  for (size_t i = 0; i < p.issuer_urls.size(); ++i)
    if (p.issuer_urls[i].find(',') != std::string::npos)
      throw Error(Errc::config, "URL must not contain ','", source, f.field("issuer_urls") + "[" + std::to_string(i) + "]");
  // A NUL would end the URL early in OpenSSL's extension syntax; URIs are ASCII (IA5String).
  for (auto [url, key] : {std::pair{&p.ocsp_url, "ocsp_url"}, std::pair{&p.crl_url, "crl_url"}})
    if (auto problem = san_problem(SanType::uri, *url)) throw f.error(key, "invalid URL: " + *problem);
  for (size_t i = 0; i < p.issuer_urls.size(); ++i)
    if (auto problem = san_problem(SanType::uri, p.issuer_urls[i]))
      throw Error(Errc::config, "invalid URL: " + *problem, source, f.field("issuer_urls") + "[" + std::to_string(i) + "]");
  return p;
}

Profile make_builtin(std::string name, std::vector<std::string> usages, Seconds expiry) {
  Profile p;
  p.name = std::move(name);
  p.usages = parse_usages(usages);
  p.expiry = expiry;
  p.builtin = true;
  return p;
}

}  // namespace

Usages parse_usages(const std::vector<std::string>& names, const std::string& source, const std::string& field) {
  Usages u;
  for (size_t i = 0; i < names.size(); ++i) {
    const UsageName* found = nullptr;
    for (const auto& un : kUsages)
      if (names[i] == un.name) found = &un;
    if (!found) {
      std::string msg = "unknown usage \"" + names[i] + "\" (cfssl would drop it silently); known usages:";
      for (const auto& un : kUsages) msg += std::string(" \"") + un.name + "\"";
      throw Error(Errc::config, msg, source, field + "[" + std::to_string(i) + "]");
    }
    u.key_usage |= found->ku;
    if (found->eku) u.ext_key_usage.emplace_back(found->eku);
  }
  return u;
}

std::vector<std::string> usage_names(const Usages& usages) {
  std::vector<std::string> out;
  uint32_t seen = 0;
  for (const auto& un : kUsages)
    if (un.ku && (usages.key_usage & un.ku) && !(seen & un.ku) && std::string_view(un.name) != "signing") {
      out.emplace_back(un.name);
      seen |= un.ku;
    }
  for (const auto& oid : usages.ext_key_usage) {
    std::string name = oid;
    for (const auto& un : kUsages)
      if (un.eku && oid == un.eku) {
        name = un.name;
        break;
      }
    out.push_back(name);
  }
  return out;
}

std::string key_usage_string(uint32_t bits) {
  std::string out;
  for (auto [bit, name] : kKuNames)
    if (bits & bit) out += (out.empty() ? "" : ", ") + std::string(name);
  return out;
}

std::string ext_key_usage_string(const std::vector<std::string>& oids) {
  std::string out;
  for (const auto& oid : oids) {
    std::string name = oid;
    for (auto [o, n] : kEkuNames)
      if (oid == o) name = n;
    out += (out.empty() ? "" : ", ") + name;
  }
  return out;
}

Policy Policy::from_json(std::string_view text, const std::string& source) {
  Json j = detail::parse_json(text, source, Errc::config);
  Fields top(j, source, "", Errc::config, {"signing", "auth_keys", "remotes", "ocsp"});
  Policy policy;
  policy.source_ = source;
  for (const char* k : {"auth_keys", "remotes", "ocsp"})
    if (top.has(k)) policy.warnings_.push_back(source + ": " + k + ": ignored (remote and OCSP signing are not supported)");
  auto signing = top.object("signing", {"default", "profiles"});
  if (!signing) throw Error(Errc::config, "no \"signing\" field present", source, "signing");
  if (const Json* d = signing->get("default"))
    policy.default_ = read_profile(*d, "default", "signing.default", source, true, policy.warnings_);
  else
    policy.default_ = builtin().default_profile();
  policy.default_.builtin = false;
  if (const Json* profiles = signing->get("profiles")) {
    if (!profiles->is_object())
      throw Error(Errc::config, "expected an object of named profiles", source, "signing.profiles");
    for (auto it = profiles->begin(); it != profiles->end(); ++it) {
      if (it.key().empty() || it.key() == "default")
        throw Error(Errc::config, "invalid profile name \"" + it.key() + "\"", source, "signing.profiles");
      policy.profiles_.push_back(
          read_profile(it.value(), it.key(), "signing.profiles." + it.key(), source, false, policy.warnings_));
    }
  }
  return policy;
}

Policy Policy::builtin() {
  const Seconds year{8760 * 3600};
  Policy p;
  p.source_ = "built-in profiles";
  p.default_ = make_builtin("default", {"signing", "key encipherment", "server auth", "client auth"}, year);
  p.profiles_.push_back(make_builtin("server", {"signing", "key encipherment", "server auth", "client auth"}, year));
  p.profiles_.push_back(make_builtin("peer", {"signing", "key encipherment", "server auth", "client auth"}, year));
  p.profiles_.push_back(make_builtin("client", {"signing", "key encipherment", "client auth"}, year));
  Profile ca = make_builtin("ca", {"cert sign", "crl sign"}, Seconds(43800LL * 3600));
  ca.ca.is_ca = true;
  p.profiles_.push_back(ca);
  return p;
}

const Profile& Policy::profile(std::string_view name) const {
  if (name.empty() || name == "default") return default_;
  for (const auto& p : profiles_)
    if (p.name == name) return p;
  std::string msg = "unknown profile \"" + std::string(name) + "\"; the profiles are:";
  for (const auto& n : profile_names()) msg += " " + n;
  throw Error(Errc::config, msg, source_, "profile");
}

std::vector<std::string> Policy::profile_names() const {
  std::vector<std::string> out;
  for (const auto& p : profiles_) out.push_back(p.name);
  out.push_back("default");
  return out;
}

}  // namespace etcd_pki
