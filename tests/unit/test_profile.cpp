// profile.hpp: cfssl usages, ca-config.json profiles, the built-in etcd profiles.
#include <nlohmann/json.hpp>

#include "support.hpp"

using namespace test;

namespace {
const std::string kServer = eku::server_auth;
const std::string kClient = eku::client_auth;

Policy policy_of(const std::string& profiles_json, const std::string& default_json = R"({"expiry":"168h"})") {
  return Policy::from_json(R"({"signing":{"default":)" + default_json + R"(,"profiles":)" + profiles_json + "}}",
                           "ca-config.json");
}

Error config_error(const std::string& json) {
  return catch_error([&] { Policy::from_json(json, "ca-config.json"); });
}
}  // namespace

TEST_CASE("parse_usages: every cfssl usage string", "[profile]") {
  struct Case {
    const char* name;
    uint32_t ku;
    const char* eku;  // nullptr: none
  };
  const Case cases[] = {
      {"signing", ku::digital_signature, nullptr},
      {"digital signature", ku::digital_signature, nullptr},
      {"content commitment", ku::content_commitment, nullptr},
      {"content committment", ku::content_commitment, nullptr},  // cfssl 1.2.0's spelling
      {"key encipherment", ku::key_encipherment, nullptr},
      {"key agreement", ku::key_agreement, nullptr},
      {"data encipherment", ku::data_encipherment, nullptr},
      {"cert sign", ku::cert_sign, nullptr},
      {"crl sign", ku::crl_sign, nullptr},
      {"encipher only", ku::encipher_only, nullptr},
      {"decipher only", ku::decipher_only, nullptr},
      {"any", 0, "2.5.29.37.0"},
      {"server auth", 0, "1.3.6.1.5.5.7.3.1"},
      {"client auth", 0, "1.3.6.1.5.5.7.3.2"},
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
  for (const auto& c : cases) {
    INFO(c.name);
    Usages u = parse_usages({c.name});
    CHECK(u.key_usage == c.ku);
    if (c.eku) CHECK(u.ext_key_usage == std::vector<std::string>{c.eku});
    else CHECK(u.ext_key_usage.empty());
  }
}

TEST_CASE("parse_usages: the KU bits are OpenSSL's KU_* values", "[profile]") {
  CHECK(ku::digital_signature == KU_DIGITAL_SIGNATURE);
  CHECK(ku::content_commitment == KU_NON_REPUDIATION);
  CHECK(ku::key_encipherment == KU_KEY_ENCIPHERMENT);
  CHECK(ku::data_encipherment == KU_DATA_ENCIPHERMENT);
  CHECK(ku::key_agreement == KU_KEY_AGREEMENT);
  CHECK(ku::cert_sign == KU_KEY_CERT_SIGN);
  CHECK(ku::crl_sign == KU_CRL_SIGN);
  CHECK(ku::encipher_only == KU_ENCIPHER_ONLY);
  CHECK(ku::decipher_only == KU_DECIPHER_ONLY);
}

TEST_CASE("parse_usages: KU is a mask, EKU keeps order and duplicates", "[profile]") {
  Usages u = parse_usages({"signing", "key encipherment", "client auth", "server auth", "signing", "email protection",
                           "s/mime", "digital signature"});
  CHECK(u.key_usage == (ku::digital_signature | ku::key_encipherment));
  CHECK(u.ext_key_usage ==
        std::vector<std::string>{kClient, kServer, "1.3.6.1.5.5.7.3.4", "1.3.6.1.5.5.7.3.4"});
  CHECK(parse_usages({}) == Usages{});
  CHECK(parse_usages({"content commitment"}) == parse_usages({"content committment"}));
}

TEST_CASE("parse_usages: an unknown usage is an error that names it", "[profile]") {
  struct Case {
    std::vector<std::string> names;
    const char* bad;
    const char* field;
  };
  const Case cases[] = {
      {{"signing", "Server Auth"}, "Server Auth", "usages[1]"},
      {{"serverAuth"}, "serverAuth", "usages[0]"},
      {{"signing", "key encipherment", "server-auth"}, "server-auth", "usages[2]"},
      {{"Signing"}, "Signing", "usages[0]"},
      {{""}, "", "usages[0]"},
      {{"content  commitment"}, "content  commitment", "usages[0]"},
  };
  for (const auto& c : cases) {
    INFO(c.bad);
    Error e = catch_error([&] { parse_usages(c.names, "cfg.json"); });
    CHECK(e.category() == Errc::config);
    CHECK(e.source() == "cfg.json");
    CHECK(e.field() == c.field);
    CHECK_THAT(e.message(), StartsWith(std::string("unknown usage \"") + c.bad + "\""));
    CHECK_THAT(e.message(), Contains("\"server auth\""));  // the known usages are listed
  }
  Error e = catch_error([] { parse_usages({"x"}, "cfg.json", "signing.profiles.peer.usages"); });
  CHECK(e.field() == "signing.profiles.peer.usages[0]");
}

TEST_CASE("key_usage_string and ext_key_usage_string print as openssl does", "[profile]") {
  CHECK(key_usage_string(0) == "");
  CHECK(key_usage_string(ku::digital_signature | ku::key_encipherment) == "Digital Signature, Key Encipherment");
  CHECK(key_usage_string(ku::cert_sign | ku::crl_sign) == "Certificate Sign, CRL Sign");
  CHECK(key_usage_string(ku::decipher_only | ku::content_commitment) == "Non Repudiation, Decipher Only");
  CHECK(ext_key_usage_string({}) == "");
  CHECK(ext_key_usage_string({kServer, kClient}) == "TLS Web Server Authentication, TLS Web Client Authentication");
  CHECK(ext_key_usage_string({"1.2.3.4", "2.5.29.37.0"}) == "1.2.3.4, Any Extended Key Usage");
}

TEST_CASE("Policy::from_json reads the seed-etcd-single ca-config.json", "[profile]") {
  Policy p = Policy::from_json(read_fixture("fixtures/seed-etcd-single/ca-config.json"), "ca-config.json");
  CHECK(p.source() == "ca-config.json");
  CHECK(p.warnings().empty());
  CHECK(p.profile_names() == std::vector<std::string>{"Etcd", "default"});

  const Profile& etcd = p.profile("Etcd");
  CHECK(etcd.name == "Etcd");
  CHECK(etcd.expiry == Seconds(87600LL * 3600));
  CHECK(etcd.usages.key_usage == (ku::digital_signature | ku::key_encipherment));
  CHECK(etcd.usages.ext_key_usage == std::vector<std::string>{kServer, kClient});
  CHECK_FALSE(etcd.ca.is_ca);
  CHECK_FALSE(etcd.builtin);
  CHECK_FALSE(etcd.backdate.has_value());
  CHECK_FALSE(etcd.not_before.has_value());

  // The default has an expiry and no usages: allowed at load time, as cfssl.
  const Profile& def = p.default_profile();
  CHECK(def.name == "default");
  CHECK(def.expiry == Seconds(87600LL * 3600));
  CHECK(def.usages == Usages{});
  CHECK(&p.profile("") == &def);
  CHECK(&p.profile("default") == &def);

  // Profile names are exact (a map lookup in cfssl).
  Error e = catch_error([&] { p.profile("etcd"); });
  CHECK(e.category() == Errc::config);
  CHECK(e.source() == "ca-config.json");
  CHECK(e.field() == "profile");
  CHECK_THAT(e.message(), Contains("unknown profile \"etcd\""));
  CHECK_THAT(e.message(), EndsWith("the profiles are: Etcd default"));
}

TEST_CASE("Policy::from_json reads the seed-per-host ca-config.json", "[profile]") {
  Policy p = Policy::from_json(read_fixture("fixtures/seed-per-host/ca-config.json"), "ca-config.json");
  CHECK(p.profile_names() == std::vector<std::string>{"server", "client", "peer", "default"});
  CHECK(p.default_profile().expiry == Seconds(168 * 3600));
  struct Case {
    const char* name;
    std::vector<std::string> eku;
  };
  const Case cases[] = {
      {"server", {kServer, kClient}},
      {"client", {kClient}},
      {"peer", {kServer, kClient}},
  };
  for (const auto& c : cases) {
    INFO(c.name);
    const Profile& pr = p.profile(c.name);
    CHECK(pr.name == c.name);
    CHECK(pr.expiry == Seconds(8760 * 3600));
    CHECK(pr.usages.key_usage == (ku::digital_signature | ku::key_encipherment));
    CHECK(pr.usages.ext_key_usage == c.eku);
  }
  Error e = catch_error([&] { p.profile("nosuch"); });
  CHECK(e.category() == Errc::config);
  CHECK_THAT(e.message(), Contains("\"nosuch\"") && Contains("server client peer default"));
}

TEST_CASE("Policy: keys match case-insensitively and every field is read", "[profile]") {
  Policy p = Policy::from_json(R"({"Signing":{"DEFAULT":{"Expiry":"24h","usages":["digital signature","client auth"],
      "ocsp_url":"http://ocsp.example.com","crl_url":"http://crl.example.com/ca.crl","issuer_urls":["http://ca.example.com/ca.crt"]},
    "Profiles":{"intermediate":{"expiry":"43800h","backdate":"1h","usages":["cert sign","crl sign","signing"],
      "ca_constraint":{"is_ca":true,"max_path_len":0,"max_path_len_zero":true},"ocsp_no_check":true,
      "name_whitelist":"\\.example\\.com$","not_before":"2030-01-01T00:00:00Z","not_after":"2031-06-30T12:00:00Z"}}}})");
  const Profile& d = p.default_profile();
  CHECK(d.expiry == Seconds(24 * 3600));
  CHECK(d.usages.key_usage == ku::digital_signature);
  CHECK(d.usages.ext_key_usage == std::vector<std::string>{kClient});
  CHECK(d.ocsp_url == "http://ocsp.example.com");
  CHECK(d.crl_url == "http://crl.example.com/ca.crl");
  CHECK(d.issuer_urls == std::vector<std::string>{"http://ca.example.com/ca.crt"});
  CHECK_FALSE(d.builtin);

  const Profile& i = p.profile("intermediate");
  CHECK(i.expiry == Seconds(43800LL * 3600));
  CHECK(i.backdate == Seconds(3600));
  CHECK(i.usages.key_usage == (ku::cert_sign | ku::crl_sign | ku::digital_signature));
  CHECK(i.ca == CaConstraint{true, 0, true});
  CHECK(i.ocsp_no_check);
  CHECK(i.name_whitelist == "\\.example\\.com$");
  CHECK(i.not_before == at("2030-01-01T00:00:00Z"));
  CHECK(i.not_after == at("2031-06-30T12:00:00Z"));
  CHECK(i.ocsp_url.empty());  // no inheritance from the default
}

TEST_CASE("Policy: a missing default is cfssl's built-in default", "[profile]") {
  Policy p = Policy::from_json(R"({"signing":{}})", "c.json");
  const Profile& d = p.default_profile();
  CHECK(d.expiry == Seconds(8760 * 3600));
  CHECK(d.usages.key_usage == (ku::digital_signature | ku::key_encipherment));
  CHECK(d.usages.ext_key_usage == std::vector<std::string>{kServer, kClient});
  CHECK_FALSE(d.builtin);  // from a user config: dropping key encipherment is reported
  CHECK(p.profile_names() == std::vector<std::string>{"default"});
}

TEST_CASE("Policy: configuration errors name the file and the field", "[profile]") {
  struct Case {
    std::string json;
    const char* field;
    const char* message;
  };
  const Case cases[] = {
      // TV7
      {R"({"signing":{"profiles":{"p":{"usages":["signing"]}}}})", "signing.profiles.p.expiry", "missing"},
      {R"({"signing":{"default":{"usages":["signing"]}}})", "signing.default.expiry", "missing"},
      {R"({"signing":{"profiles":{"p":{"expiry":"","usages":["signing"]}}}})", "signing.profiles.p.expiry", "missing"},
      {R"({"signing":{"profiles":{"p":{"expiry":"365x","usages":["signing"]}}}})", "signing.profiles.p.expiry",
       "unknown unit \"x\""},
      {R"({"signing":{"profiles":{"p":{"expiry":"8760h","usages":["serverAuth"]}}}})", "signing.profiles.p.usages[0]",
       "unknown usage \"serverAuth\""},
      {R"({})", "signing", "no \"signing\" field present"},
      {R"({"signing":{"profiles":{"p":{"expiry":"1h","usages":"signing"}}}})", "signing.profiles.p.usages",
       "expected an array of strings, found string"},
      // missing usages on a named profile
      {R"({"signing":{"profiles":{"p":{"expiry":"8760h"}}}})", "signing.profiles.p.usages", "missing"},
      {R"({"signing":{"profiles":{"p":{"expiry":"8760h","usages":[]}}}})", "signing.profiles.p.usages", "missing"},
      // bad expiry and backdate values
      {R"({"signing":{"profiles":{"p":{"expiry":"0h","usages":["signing"]}}}})", "signing.profiles.p.expiry",
       "must be positive"},
      {R"({"signing":{"profiles":{"p":{"expiry":"-1h","usages":["signing"]}}}})", "signing.profiles.p.expiry",
       "must be positive"},
      {R"({"signing":{"profiles":{"p":{"expiry":"1h","backdate":"-5m","usages":["signing"]}}}})",
       "signing.profiles.p.backdate", "must not be negative"},
      // not_after before not_before (cfssl panics)
      {R"({"signing":{"profiles":{"p":{"expiry":"1h","usages":["signing"],"not_before":"2031-01-01T00:00:00Z","not_after":"2030-01-01T00:00:00Z"}}}})",
       "signing.profiles.p.not_after", "is not after not_before"},
      {R"({"signing":{"profiles":{"p":{"expiry":"1h","usages":["signing"],"not_before":"2030-01-01T00:00:00Z","not_after":"2030-01-01T00:00:00Z"}}}})",
       "signing.profiles.p.not_after", "is not after not_before"},
      {R"({"signing":{"profiles":{"p":{"expiry":"1h","usages":["signing"],"not_before":"2030-01-01"}}}})",
       "signing.profiles.p.not_before", "RFC 3339"},
      // unknown keys, with a hint
      {R"({"signing":{"profiles":{"p":{"expiri":"1h","usages":["signing"]}}}})", "signing.profiles.p.expiri",
       "did you mean \"expiry\""},
      {R"({"signing":{"profiles":{"p":{"expiry":"1h","usage":["signing"]}}}})", "signing.profiles.p.usage",
       "did you mean \"usages\""},
      {R"({"sigining":{}})", "sigining", "did you mean \"signing\""},
      {R"({"signing":{"defaults":{"expiry":"1h"}}})", "signing.defaults", "did you mean \"default\""},
      {R"({"signing":{"profiles":{"p":{"expiry":"1h","usages":["signing"],"ca_constraint":{"isca":true}}}}})",
       "signing.profiles.p.ca_constraint.isca", "did you mean \"is_ca\""},
      // unsupported cfssl features
      {R"({"signing":{"profiles":{"p":{"expiry":"1h","usages":["signing"],"is_ca":true}}}})",
       "signing.profiles.p.is_ca", "ca_constraint"},
      {R"({"signing":{"profiles":{"p":{"expiry":"1h","usages":["signing"],"copy_extensions":true}}}})",
       "signing.profiles.p.copy_extensions", "not supported"},
      {R"({"signing":{"profiles":{"p":{"expiry":"1h","usages":["signing"],"remote":"x"}}}})",
       "signing.profiles.p.remote", "not supported"},
      // other bad values
      {R"({"signing":{"profiles":{"p":{"expiry":"1h","usages":["signing"],"ca_constraint":{"is_ca":true,"max_path_len":-1}}}}})",
       "signing.profiles.p.ca_constraint.max_path_len", "between 0 and 1000"},
      {R"({"signing":{"profiles":{"p":{"expiry":"1h","usages":["signing"],"name_whitelist":"("}}}})",
       "signing.profiles.p.name_whitelist", "invalid regular expression"},
      {R"({"signing":{"profiles":{"default":{"expiry":"1h","usages":["signing"]}}}})", "signing.profiles",
       "invalid profile name \"default\""},
      {R"({"signing":{"profiles":{"p":{"expiry":"1h","usages":["signing"],"crl_url":"http://a/b,c"}}}})",
       "signing.profiles.p", "must not contain ','"},
      {R"({"signing":{"profiles":{"p":{"expiry":"1h","usages":["signing"],"issuer_urls":["http://a","http://b,c"]}}}})",
       "signing.profiles.p.issuer_urls[1]", "must not contain ','"},
      {R"({"signing":{"profiles":[]}})", "signing.profiles", "expected an object of named profiles"},
      {R"({"signing":{"default":"8760h"}})", "signing.default", "expected a JSON object, found string"},
  };
  for (const auto& c : cases) {
    INFO(c.json);
    Error e = config_error(c.json);
    CHECK(e.category() == Errc::config);
    CHECK(e.source() == "ca-config.json");
    CHECK(e.field() == c.field);
    CHECK_THAT(e.message(), Contains(c.message));
  }
}

TEST_CASE("Policy: invalid JSON is Errc::config", "[profile]") {
  Error e = config_error(R"({"signing": )");
  CHECK(e.category() == Errc::config);
  CHECK(e.source() == "ca-config.json");
  CHECK_THAT(e.message(), StartsWith("invalid JSON: "));
}

TEST_CASE("Policy: settings that do not change certificates are ignored with a warning", "[profile]") {
  Policy p = Policy::from_json(R"({"signing":{"profiles":{"p":{"expiry":"1h","usages":["signing"],"auth_key":"k"}}},
                                  "auth_keys":{"k":{"type":"standard","key":"00"}}})",
                               "c.json");
  REQUIRE(p.warnings().size() == 2);
  CHECK_THAT(p.warnings()[0], Contains("auth_keys") && Contains("ignored"));
  CHECK_THAT(p.warnings()[1], Contains("signing.profiles.p.auth_key") && Contains("ignored"));
  CHECK(p.profile("p").usages.key_usage == ku::digital_signature);
}

TEST_CASE("Policy: the d and y units work in ca-config.json", "[profile]") {
  Policy p = policy_of(R"({"long":{"expiry":"10y","usages":["signing"]},"short":{"expiry":"365d","usages":["signing"]}})");
  CHECK(p.profile("long").expiry == Seconds(10LL * 365 * 86400));
  CHECK(p.profile("short").expiry == Seconds(365LL * 86400));
}

TEST_CASE("Policy::builtin: the etcd profiles", "[profile]") {
  Policy p = Policy::builtin();
  CHECK(p.profile_names() == std::vector<std::string>{"server", "peer", "client", "ca", "default"});
  CHECK(p.warnings().empty());
  struct Case {
    const char* name;
    uint32_t ku;
    std::vector<std::string> eku;
    int64_t hours;
    bool is_ca;
  };
  const Case cases[] = {
      {"server", ku::digital_signature | ku::key_encipherment, {kServer, kClient}, 8760, false},
      {"peer", ku::digital_signature | ku::key_encipherment, {kServer, kClient}, 8760, false},
      {"client", ku::digital_signature | ku::key_encipherment, {kClient}, 8760, false},
      {"ca", ku::cert_sign | ku::crl_sign, {}, 43800, true},
      {"default", ku::digital_signature | ku::key_encipherment, {kServer, kClient}, 8760, false},
  };
  for (const auto& c : cases) {
    INFO(c.name);
    const Profile& pr = p.profile(c.name);
    CHECK(pr.name == c.name);
    CHECK(pr.usages.key_usage == c.ku);
    CHECK(pr.usages.ext_key_usage == c.eku);
    CHECK(pr.expiry == Seconds(c.hours * 3600));
    CHECK(pr.ca.is_ca == c.is_ca);
    CHECK(pr.ca.max_path_len == 0);
    CHECK_FALSE(pr.ca.max_path_len_zero);
    CHECK(pr.builtin);
    CHECK_FALSE(pr.backdate.has_value());
    CHECK(pr.crl_url.empty());
  }
  Error e = catch_error([&] { p.profile("nosuch"); });
  CHECK(e.category() == Errc::config);
  CHECK_THAT(e.message(), EndsWith("the profiles are: server peer client ca default"));
}

TEST_CASE("Policy: deep nesting and URLs with control characters are Errc::config", "[profile]") {
  Error deep = config_error(R"({"signing":{"default":)" + std::string(100000, '[') + std::string(100000, ']') + "}}");
  CHECK(deep.category() == Errc::config);
  CHECK_THAT(deep.message(), StartsWith("invalid JSON: nested more than 100 levels deep"));
  // A NUL would end the URL early in OpenSSL's extension syntax.
  Error nul = config_error(
      R"({"signing":{"profiles":{"p":{"expiry":"1h","usages":["signing"],"crl_url":"http://c.example/\u0000x"}}}})");
  CHECK(nul.category() == Errc::config);
  CHECK(nul.field() == "signing.profiles.p.crl_url");
  CHECK_THAT(nul.message(), Contains("invalid URL: contains the control character U+0000"));
  Error issuer = config_error(
      R"({"signing":{"profiles":{"p":{"expiry":"1h","usages":["signing"],"issuer_urls":["http://ok","http://\u00e9"]}}}})");
  CHECK(issuer.field() == "signing.profiles.p.issuer_urls[1]");
  CHECK_THAT(issuer.message(), Contains("non-ASCII"));
}

TEST_CASE("Policy: each profile knows the file and the place it was read from", "[profile]") {
  Policy p = Policy::from_json(R"({"signing":{"default":{"expiry":"1h"},"profiles":{"peer":{"expiry":"1h","usages":["signing"]}}}})",
                               "ca-config.json");
  CHECK(p.profile("peer").source == "ca-config.json");
  CHECK(p.profile("peer").path == "signing.profiles.peer");
  CHECK(p.profile("default").path == "signing.default");
  CHECK(Policy::builtin().profile("server").source.empty());
}

TEST_CASE("name_whitelist: what Go's regexp refuses and libstdc++ mishandles is Errc::config (fuzz_policy finding)", "[profile]") {
  // A backreference with a huge number made libstdc++'s regex compiler overflow a long (UBSan).
  auto policy_with = [](const std::string& re) {
    nlohmann::json j = {{"signing", {{"profiles", {{"p", {{"expiry", "1h"}, {"usages", {"signing"}}, {"name_whitelist", re}}}}}}}};
    return j.dump();
  };
  struct Case {
    std::string re, says;
  };
  const Case refused[] = {
      {"^etcd-(a)\\1$", "backreference \\1"},
      {"(x)\\111111111111111111111111111111", "backreference \\1"},
      {"a{1001}", "repeat count 1001"},
      {"a{2,1001}", "repeat count 1001"},
      {"a{99999999999999999999}", "repeat count 99999999999999999999"},
      {std::string(1025, 'a'), "longer than 1024 characters"},
  };
  for (const Case& c : refused) {
    INFO(c.re.substr(0, 60));
    Error e = catch_error([&] { (void)Policy::from_json(policy_with(c.re), "cfg.json"); });
    CHECK(e.category() == Errc::config);
    CHECK(e.source() == "cfg.json");
    CHECK(e.field() == "signing.profiles.p.name_whitelist");
    CHECK_THAT(e.message(), Contains("invalid regular expression") && Contains(c.says));
  }
  for (const std::string ok : {"a{1000}", "a{0,1000}", "\\\\1", "\\d{1,3}\\.example\\.com$", "x{3,}"}) {
    INFO(ok);
    CHECK_NOTHROW(Policy::from_json(policy_with(ok), "cfg.json"));
  }
  // A profile made in code is checked when it signs.
  Profile p = profile_with({"signing", "server auth"});
  p.name_whitelist = "(a)\\1";
  Error e = catch_error([&] { (void)shared_root().signer().sign(leaf_csr("a"), p, at_time(fixed_now())); });
  CHECK(e.category() == Errc::config);
  CHECK_THAT(e.message(), Contains("backreference"));
}
