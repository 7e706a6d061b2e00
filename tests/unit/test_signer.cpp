// signer.hpp: plan_certificate (the policy, tested without signing) and Signer (encoding and
// signing), checked with OpenSSL's own verifier.
#include <openssl/core_names.h>
#include <openssl/sha.h>

#include <set>
#include <thread>

#include "support.hpp"

using namespace test;

namespace {

const IssuerInfo kNoIssuerLimits{std::nullopt, std::nullopt, false};

IssuerInfo issuer_until(TimePoint t) { return IssuerInfo{t, std::nullopt, false}; }

IssuerInfo issuer_pathlen(std::optional<int> pathlen, bool self_signed = false) {
  return IssuerInfo{std::nullopt, pathlen, self_signed};
}

Profile ca_profile(int max_path_len = 0, bool zero = false) {
  Profile p = profile_with({"cert sign", "crl sign", "signing"}, Seconds(43800LL * 3600), "intermediate");
  p.ca = CaConstraint{true, max_path_len, zero};
  return p;
}

Csr ca_csr(std::optional<int> pathlen, std::vector<std::string> hosts = {}) {
  Request r;
  r.subject.common_name = "inter";
  r.hosts = std::move(hosts);
  CaOptions ca;
  if (pathlen) {
    ca.pathlen = *pathlen;
    ca.pathlenzero = *pathlen == 0;
  }
  r.ca = ca;
  return Csr::create(r, shared_leaf_key());
}

std::vector<int> ext_nids(const Certificate& c) {
  std::vector<int> out;
  for (int i = 0; i < X509_get_ext_count(c.native_handle()); ++i)
    out.push_back(OBJ_obj2nid(X509_EXTENSION_get_object(X509_get_ext(c.native_handle(), i))));
  return out;
}

X509_EXTENSION* ext(const Certificate& c, int nid) {
  int i = X509_get_ext_by_NID(c.native_handle(), nid, -1);
  return i < 0 ? nullptr : X509_get_ext(c.native_handle(), i);
}

bool critical(const Certificate& c, int nid) {
  X509_EXTENSION* e = ext(c, nid);
  REQUIRE(e != nullptr);
  return X509_EXTENSION_get_critical(e) != 0;
}

std::string ext_der(const Certificate& c, int nid) {
  X509_EXTENSION* e = ext(c, nid);
  REQUIRE(e != nullptr);
  const ASN1_OCTET_STRING* d = X509_EXTENSION_get_data(e);
  return std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(d)), static_cast<size_t>(ASN1_STRING_length(d)));
}

// RFC 5280 method 1: SHA-1 over the subjectPublicKey BIT STRING contents.
std::string sha1_of_public_key(const Certificate& c) {
  const ASN1_BIT_STRING* bits = X509_get0_pubkey_bitstr(c.native_handle());
  unsigned char md[SHA_DIGEST_LENGTH];
  unsigned int n = 0;
  REQUIRE(EVP_Digest(ASN1_STRING_get0_data(bits), static_cast<size_t>(ASN1_STRING_length(bits)), md, &n, EVP_sha1(),
                     nullptr) == 1);
  return std::string(reinterpret_cast<char*>(md), n);
}

// Octets of the DER INTEGER content of the serial (a set top bit would need a leading 0x00).
int serial_der_octets(const Certificate& c) {
  int len = i2d_ASN1_INTEGER(X509_get0_serialNumber(c.native_handle()), nullptr);
  REQUIRE(len > 2);
  return len - 2;  // tag and one length octet
}

bool has_warning(const std::vector<std::string>& warnings, const std::string& needle) {
  for (const auto& w : warnings)
    if (w.find(needle) != std::string::npos) return true;
  return false;
}

const Policy& builtin() {
  static const Policy p = Policy::builtin();
  return p;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// plan_certificate: validity

TEST_CASE("plan: notBefore is now rounded to the minute minus 5 minutes", "[signer][plan]") {
  struct Case {
    const char* now;
    const char* not_before;
  };
  const Case cases[] = {
      {"2025-03-10T12:34:29Z", "2025-03-10T12:29:00Z"},
      {"2025-03-10T12:34:30Z", "2025-03-10T12:30:00Z"},  // half a minute rounds up (Go's Round)
      {"2025-03-10T12:34:00Z", "2025-03-10T12:29:00Z"},
      {"2025-03-10T12:34:59Z", "2025-03-10T12:30:00Z"},
      {"2025-03-10T12:34:01Z", "2025-03-10T12:29:00Z"},
      {"2025-12-31T23:59:45Z", "2025-12-31T23:55:00Z"},  // rounds into the next year, then back
      {"2026-01-01T00:02:10Z", "2025-12-31T23:57:00Z"},
  };
  Profile p = profile_with({"signing", "server auth"}, Seconds(8760 * 3600));
  Csr csr = leaf_csr("v", {"v.example"});
  for (const auto& c : cases) {
    INFO("now " << c.now);
    CertificatePlan plan = plan_certificate(csr, p, kNoIssuerLimits, at_time(at(c.now)));
    CHECK(plan.not_before == at(c.not_before));
    CHECK(plan.not_after == at(c.not_before) + Seconds(8760 * 3600));
  }
}

TEST_CASE("plan: backdate and expiry", "[signer][plan]") {
  struct Case {
    std::optional<int64_t> backdate_s;
    int64_t expiry_s;
    const char* not_before;
    const char* not_after;
  };
  // now = 12:34:29, rounded 12:34:00
  const Case cases[] = {
      {std::nullopt, 3600, "2025-03-10T12:29:00Z", "2025-03-10T13:29:00Z"},
      {3600, 7200, "2025-03-10T11:34:00Z", "2025-03-10T13:34:00Z"},  // the backdate eats lifetime
      {0, 90 * 60, "2025-03-10T12:34:00Z", "2025-03-10T14:04:00Z"},
      {7200, 43800LL * 3600, "2025-03-10T10:34:00Z", "2030-03-09T10:34:00Z"},
  };
  Csr csr = leaf_csr("v", {"v.example"});
  for (const auto& c : cases) {
    INFO("backdate " << (c.backdate_s ? std::to_string(*c.backdate_s) : "default") << " expiry " << c.expiry_s);
    Profile p = profile_with({"signing", "server auth"}, Seconds(c.expiry_s));
    if (c.backdate_s) p.backdate = Seconds(*c.backdate_s);
    CertificatePlan plan = plan_certificate(csr, p, kNoIssuerLimits, at_time(fixed_now()));
    CHECK(plan.not_before == at(c.not_before));
    CHECK(plan.not_after == at(c.not_after));
  }
}

TEST_CASE("plan: TV15 expiry 1h with backdate 1h ends at the rounded now", "[signer][plan]") {
  Profile p = profile_with({"signing", "server auth"}, Seconds(3600));
  p.backdate = Seconds(3600);
  Csr csr = leaf_csr("v", {"v.example"});
  // 12:34:30 rounds up to 12:35: notAfter 12:35 is still ahead of the clock.
  CertificatePlan plan = plan_certificate(csr, p, kNoIssuerLimits, at_time(at("2025-03-10T12:34:30Z")));
  CHECK(plan.not_before == at("2025-03-10T11:35:00Z"));
  CHECK(plan.not_after == at("2025-03-10T12:35:00Z"));
  // 12:34:29 rounds down: notAfter 12:34 has passed. cfssl issues that certificate; etcd-pki refuses.
  Error e = catch_error([&] { plan_certificate(csr, p, kNoIssuerLimits, at_time(at("2025-03-10T12:34:29Z"))); });
  CHECK(e.category() == Errc::policy);
  CHECK_THAT(e.message(), Contains("already be expired (notAfter 2025-03-10T12:34:00Z)"));
}

TEST_CASE("plan: profile not_before/not_after are used exactly", "[signer][plan]") {
  Profile p = profile_with({"signing", "server auth"}, Seconds(3600));
  p.not_before = at("2030-01-01T00:00:00Z");
  p.not_after = at("2031-06-30T12:00:00Z");
  CertificatePlan plan = plan_certificate(leaf_csr("v", {"v.example"}), p, kNoIssuerLimits, at_time(fixed_now()));
  CHECK(plan.not_before == at("2030-01-01T00:00:00Z"));
  CHECK(plan.not_after == at("2031-06-30T12:00:00Z"));

  // Only not_after: notBefore from the clock.
  Profile q = profile_with({"signing", "server auth"}, Seconds(3600));
  q.not_after = at("2026-01-01T00:00:00Z");
  CertificatePlan plan2 = plan_certificate(leaf_csr("v", {"v.example"}), q, kNoIssuerLimits, at_time(fixed_now()));
  CHECK(plan2.not_before == at("2025-03-10T12:29:00Z"));
  CHECK(plan2.not_after == at("2026-01-01T00:00:00Z"));
}

TEST_CASE("plan: notAfter is capped at the issuer's notAfter, with a warning", "[signer][plan]") {
  Profile p = profile_with({"signing", "server auth"}, Seconds(175200LL * 3600), "long");
  Csr csr = leaf_csr("v", {"v.example"});
  const TimePoint ca_end = at("2035-03-08T00:00:00Z");

  CertificatePlan capped = plan_certificate(csr, p, issuer_until(ca_end), at_time(fixed_now()));
  CHECK(capped.not_before == at("2025-03-10T12:29:00Z"));
  CHECK(capped.not_after == ca_end);
  REQUIRE(capped.warnings.size() == 1);
  CHECK_THAT(capped.warnings[0], Contains("profile \"long\"") && Contains("capped at the CA's notAfter 2035-03-08T00:00:00Z"));

  // Inside the issuer's lifetime: untouched, no warning.
  Profile short_p = profile_with({"signing", "server auth"}, Seconds(8760 * 3600), "short");
  CertificatePlan inside = plan_certificate(csr, short_p, issuer_until(ca_end), at_time(fixed_now()));
  CHECK(inside.not_after == at("2025-03-10T12:29:00Z") + Seconds(8760 * 3600));
  CHECK(inside.warnings.empty());

  // Exactly at the issuer's notAfter: no cap, no warning.
  CertificatePlan exact = plan_certificate(csr, short_p, issuer_until(inside.not_after), at_time(fixed_now()));
  CHECK(exact.not_after == inside.not_after);
  CHECK(exact.warnings.empty());
}

TEST_CASE("plan: a certificate that would already be expired is refused", "[signer][plan]") {
  Profile p = profile_with({"signing", "server auth"}, Seconds(3600));
  p.not_before = at("2020-01-01T00:00:00Z");
  p.not_after = at("2021-01-01T00:00:00Z");
  Error e = catch_error([&] { plan_certificate(leaf_csr("v", {"v.example"}), p, kNoIssuerLimits, at_time(fixed_now())); });
  CHECK(e.category() == Errc::policy);
  CHECK_THAT(e.message(), Contains("already be expired") && Contains("2021-01-01T00:00:00Z"));

  // A very short expiry eaten by the 5-minute backdate (cfssl#1064).
  Profile tiny = profile_with({"signing", "server auth"}, Seconds(240));
  Error e2 = catch_error([&] { plan_certificate(leaf_csr("v", {"v.example"}), tiny, kNoIssuerLimits, at_time(fixed_now())); });
  CHECK(e2.category() == Errc::policy);

  // An issuer that ends before notBefore leaves no validity at all.
  Error e3 = catch_error([&] {
    plan_certificate(leaf_csr("v", {"v.example"}), profile_with({"signing"}), issuer_until(at("2025-03-10T12:00:00Z")),
                     at_time(fixed_now()));
  });
  CHECK(e3.category() == Errc::config);
  CHECK_THAT(e3.message(), Contains("is not after notBefore"));
}

// ---------------------------------------------------------------------------------------------
// plan_certificate: usages

TEST_CASE("plan: key encipherment is dropped for non-RSA keys", "[signer][plan]") {
  static const KeyPair ed = KeyPair::generate({KeyAlgo::ed25519, 0});
  struct Case {
    const char* what;
    const KeyPair* key;
    bool builtin;
    uint32_t ku;
    bool warned;
  };
  const Case cases[] = {
      {"ECDSA, user profile", &shared_leaf_key(), false, ku::digital_signature, true},
      {"ECDSA, built-in profile", &shared_leaf_key(), true, ku::digital_signature, false},
      {"Ed25519, user profile", &ed, false, ku::digital_signature, true},
      {"RSA, user profile", &shared_rsa2048(), false, ku::digital_signature | ku::key_encipherment, false},
      {"RSA, built-in profile", &shared_rsa2048(), true, ku::digital_signature | ku::key_encipherment, false},
  };
  for (const auto& c : cases) {
    INFO(c.what);
    Profile p = profile_with({"signing", "key encipherment", "server auth", "client auth"}, Seconds(8760 * 3600), "peer");
    p.builtin = c.builtin;
    CertificatePlan plan = plan_certificate(leaf_csr("k", {"k.example"}, *c.key), p, kNoIssuerLimits, at_time(fixed_now()));
    CHECK(plan.usages.key_usage == c.ku);
    CHECK(plan.usages.ext_key_usage == std::vector<std::string>{eku::server_auth, eku::client_auth});
    CHECK(has_warning(plan.warnings, "\"key encipherment\" dropped") == c.warned);
    CHECK(plan.warnings.size() == (c.warned ? 1u : 0u));
  }
}

TEST_CASE("plan: a profile left with no usage is refused", "[signer][plan]") {
  Profile only_ke = profile_with({"key encipherment"}, Seconds(3600), "ke");
  Error e = catch_error([&] { plan_certificate(leaf_csr("x", {"x.example"}), only_ke, kNoIssuerLimits, at_time(fixed_now())); });
  CHECK(e.category() == Errc::policy);
  CHECK_THAT(e.message(), Contains("profile \"ke\" has no key usage"));

  // TV5: a config default without usages.
  Policy cfg = Policy::from_json(R"({"signing":{"default":{"expiry":"168h"}}})", "c.json");
  Error e2 = catch_error([&] { plan_certificate(leaf_csr("x", {"x.example"}), cfg.default_profile(), kNoIssuerLimits, at_time(fixed_now())); });
  CHECK(e2.category() == Errc::policy);
  CHECK_THAT(e2.message(), Contains("no key usage available"));

  // Usages made only of EKUs are fine (no KeyUsage extension, TV8).
  Profile eku_only = profile_with({"server auth", "client auth"});
  CertificatePlan plan = plan_certificate(leaf_csr("x", {"x.example"}), eku_only, kNoIssuerLimits, at_time(fixed_now()));
  CHECK(plan.usages.key_usage == 0);
  CHECK(plan.usages.ext_key_usage.size() == 2);
}

TEST_CASE("plan: server auth without SANs warns, client auth does not", "[signer][plan]") {
  CertificatePlan server = plan_certificate(leaf_csr("s"), builtin().profile("server"), kNoIssuerLimits, at_time(fixed_now()));
  CHECK(has_warning(server.warnings, "no SANs"));
  CertificatePlan client = plan_certificate(leaf_csr("c"), builtin().profile("client"), kNoIssuerLimits, at_time(fixed_now()));
  CHECK(client.warnings.empty());
  CertificatePlan with_sans = plan_certificate(leaf_csr("s", {"127.0.0.1"}), builtin().profile("server"), kNoIssuerLimits,
                                               at_time(fixed_now()));
  CHECK(with_sans.warnings.empty());
}

// ---------------------------------------------------------------------------------------------
// plan_certificate: subject, SANs, CA rules

TEST_CASE("plan: subject and SANs come from the CSR, or SANs from options.hosts", "[signer][plan]") {
  Request r = Request::from_json(R"({"CN":"etcd-server","names":[{"O":"etcd","OU":"server"}],
                                     "hosts":["127.0.0.1","localhost","etcd0.example.com","::1"]})");
  Csr csr = Csr::create(r, shared_leaf_key());
  CertificatePlan plan = plan_certificate(csr, builtin().profile("server"), kNoIssuerLimits, at_time(fixed_now()));
  CHECK(plan.subject == csr.subject());
  CHECK(plan.sans.to_string() == "DNS:localhost, DNS:etcd0.example.com, IP:127.0.0.1, IP:::1");
  CHECK_FALSE(plan.san_critical);
  CHECK_FALSE(plan.is_ca);
  CHECK_FALSE(plan.path_len.has_value());

  // -hostname: replaces every SAN of the CSR (TV10), trimmed, empty entries dropped.
  SignOptions o = at_time(fixed_now());
  o.hosts = std::vector<std::string>{"a.example.com", "10.1.1.1", " b.example.com", "", "x@y.org"};
  CertificatePlan over = plan_certificate(csr, builtin().profile("server"), kNoIssuerLimits, o);
  CHECK(over.sans.to_string() == "DNS:a.example.com, DNS:b.example.com, email:x@y.org, IP:10.1.1.1");
  CHECK(over.subject == csr.subject());
}

TEST_CASE("plan: with an empty subject the SANs are critical", "[signer][plan]") {
  Csr csr = Csr::create(Request::from_json(R"({"hosts":["nosubj.example"]})"), shared_leaf_key());
  CertificatePlan plan = plan_certificate(csr, builtin().profile("server"), kNoIssuerLimits, at_time(fixed_now()));
  CHECK(plan.subject.empty());
  CHECK(plan.san_critical);

  Csr nothing = Csr::create(Request::from_json(R"({})"), shared_leaf_key());
  CertificatePlan plan2 = plan_certificate(nothing, builtin().profile("client"), kNoIssuerLimits, at_time(fixed_now()));
  CHECK(plan2.sans.empty());
  CHECK_FALSE(plan2.san_critical);  // no SANs: nothing to mark
}

TEST_CASE("plan: a CA CSR under a non-CA profile is refused", "[signer][plan]") {
  for (const char* name : {"server", "peer", "client", "default"}) {
    INFO(name);
    Error e = catch_error([&] { plan_certificate(ca_csr(std::nullopt), builtin().profile(name), kNoIssuerLimits, at_time(fixed_now())); });
    CHECK(e.category() == Errc::policy);
    CHECK_THAT(e.message(), Contains("asks for a CA certificate") && Contains("ca_constraint"));
  }
  // A CSR with BasicConstraints CA:FALSE is a leaf request.
  Subject x;
  x.common_name = "x";
  Csr not_ca = Csr::create(x, classify_hosts({"x.example"}), shared_leaf_key(),
                           CsrBasicConstraints{false, std::nullopt});
  CHECK_NOTHROW(plan_certificate(not_ca, builtin().profile("server"), kNoIssuerLimits, at_time(fixed_now())));
}

TEST_CASE("plan: CA certificates keep only IP SANs (cfssl#1276)", "[signer][plan]") {
  Csr csr = ca_csr(2, {"inter.example.com", "10.9.9.9", "admin@example.com", "spiffe://x/y", "::1"});
  CertificatePlan plan = plan_certificate(csr, ca_profile(0, true), kNoIssuerLimits, at_time(fixed_now()));
  CHECK(plan.is_ca);
  CHECK(plan.sans.dns.empty());
  CHECK(plan.sans.email.empty());
  CHECK(plan.sans.uri.empty());
  CHECK(plan.sans.to_string() == "IP:10.9.9.9, IP:::1");
  CHECK(plan.path_len == 0);  // the profile overrides the CSR's 2 (TV13)

  // TV14: a plain CSR under a CA profile: CA:TRUE, no pathlen, no SAN (its only host is DNS).
  CertificatePlan tv14 = plan_certificate(leaf_csr("inter2", {"i2.example.com"}), ca_profile(), kNoIssuerLimits,
                                          at_time(fixed_now()));
  CHECK(tv14.is_ca);
  CHECK_FALSE(tv14.path_len.has_value());
  CHECK(tv14.sans.empty());
  CHECK(tv14.warnings.empty());
}

TEST_CASE("plan: path length rules", "[signer][plan]") {
  struct Case {
    const char* what;
    CaConstraint profile;
    std::optional<int> csr_pathlen;  // the CSR is a CA request in every case
    IssuerInfo issuer;
    std::optional<int> expect;        // the planned pathlen, when allowed
    const char* error;                // else: a part of the Errc::policy message
  };
  const Case cases[] = {
      {"unlimited profile, unlimited issuer", {true, 0, false}, std::nullopt, issuer_pathlen(std::nullopt), std::nullopt, nullptr},
      {"max_path_len_zero gives 0", {true, 0, true}, std::nullopt, issuer_pathlen(std::nullopt), 0, nullptr},
      {"max_path_len 2", {true, 2, false}, std::nullopt, issuer_pathlen(std::nullopt), 2, nullptr},
      {"max_path_len wins over _zero", {true, 2, true}, std::nullopt, issuer_pathlen(std::nullopt), 2, nullptr},
      {"profile overrides the CSR", {true, 1, false}, 5, issuer_pathlen(std::nullopt), 1, nullptr},
      {"issuer pathlen 0 signs no CA", {true, 0, true}, std::nullopt, issuer_pathlen(0), std::nullopt,
       "pathlen 0 and cannot sign another CA"},
      {"self-signed: the issuer's own pathlen does not apply", {true, 0, true}, 0, issuer_pathlen(0, true), 0, nullptr},
      {"CSR pathlen above the issuer's", {true, 0, true}, 2, issuer_pathlen(1), std::nullopt, "the CSR asks for pathlen 2"},
      {"CSR pathlen equal to the issuer's", {true, 0, true}, 1, issuer_pathlen(1), std::nullopt, "the CSR asks for pathlen 1"},
      {"CSR pathlen below the issuer's", {true, 1, false}, 1, issuer_pathlen(2), 1, nullptr},
      {"unlimited under a limited issuer", {true, 0, false}, std::nullopt, issuer_pathlen(2), std::nullopt,
       "would make a CA with no pathlen under a CA with pathlen 2"},
      {"profile pathlen equal to the issuer's", {true, 2, false}, std::nullopt, issuer_pathlen(2), std::nullopt,
       "would make a CA with pathlen 2 under a CA with pathlen 2"},
      {"zero under pathlen 1", {true, 0, true}, std::nullopt, issuer_pathlen(1), 0, nullptr},
      {"any under an unlimited issuer", {true, 7, false}, 9, issuer_pathlen(std::nullopt), 7, nullptr},
  };
  for (const auto& c : cases) {
    INFO(c.what);
    Profile p = ca_profile();
    p.ca = c.profile;
    Csr csr = ca_csr(c.csr_pathlen);
    if (c.error) {
      Error e = catch_error([&] { plan_certificate(csr, p, c.issuer, at_time(fixed_now())); });
      CHECK(e.category() == Errc::policy);
      CHECK_THAT(e.message(), Contains(c.error));
    } else {
      CertificatePlan plan = plan_certificate(csr, p, c.issuer, at_time(fixed_now()));
      CHECK(plan.is_ca);
      CHECK(plan.path_len == c.expect);
    }
  }
}

TEST_CASE("plan: a leaf under an issuer with pathlen 0 is fine", "[signer][plan]") {
  CertificatePlan plan =
      plan_certificate(leaf_csr("l", {"l.example"}), builtin().profile("server"), issuer_pathlen(0), at_time(fixed_now()));
  CHECK_FALSE(plan.is_ca);
  CHECK_FALSE(plan.path_len.has_value());
}

TEST_CASE("plan: URLs, OCSP no-check, CRL override", "[signer][plan]") {
  Profile p = profile_with({"signing", "server auth"});
  p.ocsp_url = "http://ocsp.example.com";
  p.crl_url = "http://crl.example.com/ca.crl";
  p.issuer_urls = {"http://ca.example.com/ca.crt"};
  p.ocsp_no_check = true;
  CertificatePlan plan = plan_certificate(leaf_csr("u", {"u.example"}), p, kNoIssuerLimits, at_time(fixed_now()));
  CHECK(plan.ocsp_url == "http://ocsp.example.com");
  CHECK(plan.crl_url == "http://crl.example.com/ca.crl");
  CHECK(plan.issuer_urls == std::vector<std::string>{"http://ca.example.com/ca.crt"});
  CHECK(plan.ocsp_no_check);

  SignOptions o = at_time(fixed_now());
  o.crl_url = "http://other.example/x.crl";
  CHECK(plan_certificate(leaf_csr("u", {"u.example"}), p, kNoIssuerLimits, o).crl_url == "http://other.example/x.crl");
}

TEST_CASE("plan: a URL with ',' is refused (OpenSSL's extension syntax would split it)", "[signer][plan]") {
  Csr csr = leaf_csr("u", {"u.example"});
  struct Case {
    const char* what;
    Profile profile;
  };
  Profile base = profile_with({"signing", "server auth"}, Seconds(8760 * 3600), "urls");
  Profile ocsp = base, crl = base, issuer = base;
  ocsp.ocsp_url = "http://ocsp.example/a,b";
  crl.crl_url = "http://crl.example/a,b";
  issuer.issuer_urls = {"http://ok.example/ca.crt", "http://ca.example/a,b"};
  const Case cases[] = {{"ocsp_url", ocsp}, {"crl_url", crl}, {"issuer_urls", issuer}};
  for (const auto& c : cases) {
    INFO(c.what);
    Error e = catch_error([&] { plan_certificate(csr, c.profile, kNoIssuerLimits, at_time(fixed_now())); });
    CHECK(e.category() == Errc::config);
    CHECK_THAT(e.message(), Contains("profile \"urls\"") && Contains("a,b") && Contains("must not contain ','"));
  }
  SignOptions o = at_time(fixed_now());
  o.crl_url = "http://x/a,b";
  Error e = catch_error([&] { plan_certificate(csr, base, kNoIssuerLimits, o); });
  CHECK(e.category() == Errc::usage);
  CHECK(e.field() == "crl");
}

TEST_CASE("plan: name_whitelist must match the CN and every DNS, email and URI SAN", "[signer][plan]") {
  Profile p = profile_with({"signing", "server auth"});
  p.name_whitelist = "\\.example\\.com$";
  struct Case {
    const char* cn;
    std::vector<std::string> hosts;
    const char* bad;  // nullptr: allowed
  };
  const Case cases[] = {
      {"a.example.com", {"b.example.com", "10.0.0.1"}, nullptr},  // IPs are not checked
      {"", {"b.example.com"}, nullptr},
      {"etcd", {"b.example.com"}, "\"etcd\""},
      {"a.example.com", {"b.example.com", "evil.org"}, "\"evil.org\""},
      {"a.example.com", {"x@evil.org"}, "\"x@evil.org\""},
      {"a.example.com", {"spiffe://evil/x"}, "\"spiffe://evil/x\""},
  };
  for (const auto& c : cases) {
    INFO(c.cn);
    Csr csr = leaf_csr(c.cn, c.hosts);
    if (!c.bad) {
      CHECK_NOTHROW(plan_certificate(csr, p, kNoIssuerLimits, at_time(fixed_now())));
    } else {
      Error e = catch_error([&] { plan_certificate(csr, p, kNoIssuerLimits, at_time(fixed_now())); });
      CHECK(e.category() == Errc::policy);
      CHECK_THAT(e.message(), Contains(c.bad) && Contains("name_whitelist"));
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Signer: construction

TEST_CASE("Signer refuses a certificate that is not a CA", "[signer]") {
  Issued leaf = shared_root().signer().sign(leaf_csr("leaf", {"leaf.example"}), builtin().profile("server"),
                                            at_time(fixed_now()));
  Error e = catch_error([&] { Signer(leaf.certificate, shared_leaf_key(), "leaf.pem", "leaf-key.pem"); });
  CHECK(e.category() == Errc::ca);
  CHECK(e.source() == "leaf.pem");
  CHECK_THAT(e.message(), Contains("not a CA certificate") && Contains("CN=leaf"));
}

TEST_CASE("Signer refuses a key that does not match the CA", "[signer]") {
  KeyPair other = KeyPair::generate({KeyAlgo::ecdsa, 256});
  Error e = catch_error([&] { Signer(shared_root().cert, other, "ca.pem", "ca-key.pem"); });
  CHECK(e.category() == Errc::ca);
  CHECK(e.source() == "ca-key.pem");
  CHECK_THAT(e.message(), Contains("does not match") && Contains("ca.pem"));
  CHECK_NOTHROW(Signer(shared_root().cert, shared_root().key));
}

TEST_CASE("Signer refuses a CA whose key usage lacks cert sign", "[signer]") {
  KeyPair key = KeyPair::generate({KeyAlgo::ecdsa, 256});
  Profile p = profile_with({"crl sign", "signing"}, Seconds(8760 * 3600), "odd-ca");
  p.ca.is_ca = true;
  Issued odd = Signer::self_sign(leaf_csr("odd", {}, key), key, p, at_time(fixed_now()));
  REQUIRE(odd.certificate.is_ca());
  Error e = catch_error([&] { Signer(odd.certificate, key, "odd.pem"); });
  CHECK(e.category() == Errc::ca);
  CHECK_THAT(e.message(), Contains("lacks \"cert sign\""));
}

TEST_CASE("Signer refuses an RSA CA key under 2048 bits", "[signer][rsa]") {
  EVP_PKEY* raw = EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<size_t>(1024));
  REQUIRE(raw != nullptr);
  KeyPair weak = KeyPair::from_native(raw);
  EVP_PKEY_free(raw);
  Issued ca = Signer::self_sign(leaf_csr("weak", {}, weak), weak, builtin().profile("ca"), at_time(fixed_now()));
  Error e = catch_error([&] { Signer(ca.certificate, weak, "weak.pem", "weak-key.pem"); });
  CHECK(e.category() == Errc::ca);
  CHECK(e.source() == "weak-key.pem");
  CHECK_THAT(e.message(), Contains("RSA-1024") && Contains("too weak"));
}

TEST_CASE("Signer refuses a CA certificate signed with MD5 or SHA-1", "[signer][rsa]") {
  const Ca& root = shared_root();
  // There is no ECDSA with MD5: that case uses an RSA root.
  const Ca rsa_root = make_root(KeySpec{KeyAlgo::rsa, 2048}, "rsa-root");
  struct Case {
    const EVP_MD* md;
    const char* name;
    const Ca& root;
  };
  for (const Case& c : {Case{EVP_sha1(), "SHA1", root}, Case{EVP_sha1(), "SHA1", rsa_root}, Case{EVP_md5(), "MD5", rsa_root}}) {
    INFO(c.name << " " << c.root.key.spec().to_string());
    const Ca& root = c.root;
    // The same root, signed again with the weak hash.
    X509* x = X509_dup(root.cert.native_handle());
    REQUIRE(x != nullptr);
    REQUIRE(X509_sign(x, root.key.native_handle(), c.md) > 0);
    Certificate weak = Certificate::from_native(x);
    X509_free(x);
    Error e = catch_error([&] { Signer(weak, root.key, "old-ca.pem", "old-ca-key.pem"); });
    CHECK(e.category() == Errc::ca);
    CHECK(e.source() == "old-ca.pem");
    CHECK_THAT(e.message(), Contains(std::string("signed with ") + c.name) && Contains("make a new CA"));
  }
  // SHA-256, SHA-384 and SHA-512 are fine.
  for (const EVP_MD* md : {EVP_sha256(), EVP_sha384(), EVP_sha512()}) {
    X509* x = X509_dup(root.cert.native_handle());
    REQUIRE(X509_sign(x, root.key.native_handle(), md) > 0);
    Certificate ok = Certificate::from_native(x);
    X509_free(x);
    CHECK_NOTHROW(Signer(ok, root.key));
  }
}

// ---------------------------------------------------------------------------------------------
// Signer: what is issued

TEST_CASE("Signer::sign: a TV4-style etcd server certificate", "[signer]") {
  const Ca& root = shared_root();
  Request r = Request::from_json(R"({"CN":"etcd-server","names":[{"O":"etcd","OU":"server"}],
                                     "hosts":["127.0.0.1","localhost","etcd0.example.com","::1"]})");
  Csr csr = Csr::create(r, shared_leaf_key());
  Issued issued = root.signer().sign(csr, builtin().profile("server"), at_time(fixed_now()));
  const Certificate& c = issued.certificate;
  CHECK(issued.warnings.empty());  // built-in profile: dropping key encipherment is silent

  CHECK(X509_get_version(c.native_handle()) == X509_VERSION_3);
  CHECK(c.subject_string() == "O=etcd, OU=server, CN=etcd-server");
  CHECK(c.issuer_string() == root.cert.subject_string());
  CHECK(c.sans().to_string() == "DNS:localhost, DNS:etcd0.example.com, IP:127.0.0.1, IP:::1");
  CHECK_FALSE(critical(c, NID_subject_alt_name));
  CHECK(c.not_before() == at("2025-03-10T12:29:00Z"));
  CHECK(c.not_after() == at("2025-03-10T12:29:00Z") + Seconds(8760 * 3600));
  CHECK(c.key_usage() == ku::digital_signature);  // EC key: no key encipherment
  CHECK(critical(c, NID_key_usage));
  CHECK(c.ext_key_usage() == std::vector<std::string>{eku::server_auth, eku::client_auth});
  CHECK_FALSE(critical(c, NID_ext_key_usage));
  CHECK_FALSE(c.is_ca());
  CHECK(critical(c, NID_basic_constraints));
  CHECK(ext_der(c, NID_basic_constraints) == std::string("\x30\x00", 2));  // CA:FALSE as an empty SEQUENCE
  CHECK(c.public_key().same_public_key(shared_leaf_key()));                // the CSR's own key
  CHECK_FALSE(c.self_signed());

  // Serial: positive, at most 20 octets, random.
  const ASN1_INTEGER* serial = X509_get0_serialNumber(c.native_handle());
  CHECK(ASN1_STRING_type(serial) == V_ASN1_INTEGER);  // not V_ASN1_NEG_INTEGER
  CHECK(ASN1_STRING_length(serial) <= 20);
  CHECK(serial_der_octets(c) <= 20);
  CHECK(c.serial_hex().size() <= 40);
  Issued again = root.signer().sign(csr, builtin().profile("server"), at_time(fixed_now()));
  CHECK(again.certificate.serial_hex() != c.serial_hex());
}

TEST_CASE("Signer::sign: SKI is SHA-1 of the key, AKI is the CA's SKI", "[signer]") {
  const Ca& root = shared_root();
  Issued issued = root.signer().sign(leaf_csr("k", {"k.example"}), builtin().profile("client"), at_time(fixed_now()));
  const Certificate& c = issued.certificate;
  CHECK(c.subject_key_id().size() == 20);
  CHECK(c.subject_key_id() == sha1_of_public_key(c));
  CHECK(root.cert.subject_key_id() == sha1_of_public_key(root.cert));
  CHECK(c.authority_key_id() == root.cert.subject_key_id());
  CHECK(c.authority_key_id() != c.subject_key_id());
  // AKI carries the key identifier only (no issuer/serial form).
  AUTHORITY_KEYID* aki = static_cast<AUTHORITY_KEYID*>(X509_get_ext_d2i(c.native_handle(), NID_authority_key_identifier, nullptr, nullptr));
  REQUIRE(aki != nullptr);
  CHECK(aki->issuer == nullptr);
  CHECK(aki->serial == nullptr);
  AUTHORITY_KEYID_free(aki);
}

TEST_CASE("Signer::sign: extensions in Go's order", "[signer]") {
  Profile p = profile_with({"signing", "server auth"});
  p.ocsp_url = "http://ocsp.example.com";
  p.issuer_urls = {"http://ca.example.com/ca.crt"};
  p.crl_url = "http://crl.example.com/ca.crl";
  p.ocsp_no_check = true;
  Issued issued = shared_root().signer().sign(leaf_csr("o", {"o.example"}), p, at_time(fixed_now()));
  const Certificate& c = issued.certificate;
  CHECK(ext_nids(c) == std::vector<int>{NID_key_usage, NID_ext_key_usage, NID_basic_constraints,
                                        NID_subject_key_identifier, NID_authority_key_identifier, NID_info_access,
                                        NID_subject_alt_name, NID_crl_distribution_points, NID_id_pkix_OCSP_noCheck});
  CHECK_FALSE(critical(c, NID_id_pkix_OCSP_noCheck));
  CHECK(ext_der(c, NID_id_pkix_OCSP_noCheck) == std::string("\x05\x00", 2));  // NULL

  AUTHORITY_INFO_ACCESS* aia = static_cast<AUTHORITY_INFO_ACCESS*>(X509_get_ext_d2i(c.native_handle(), NID_info_access, nullptr, nullptr));
  REQUIRE(aia != nullptr);
  REQUIRE(sk_ACCESS_DESCRIPTION_num(aia) == 2);
  ACCESS_DESCRIPTION* ocsp = sk_ACCESS_DESCRIPTION_value(aia, 0);
  ACCESS_DESCRIPTION* issuer = sk_ACCESS_DESCRIPTION_value(aia, 1);
  CHECK(OBJ_obj2nid(ocsp->method) == NID_ad_OCSP);
  CHECK(OBJ_obj2nid(issuer->method) == NID_ad_ca_issuers);
  auto uri = [](ACCESS_DESCRIPTION* ad) {
    const ASN1_IA5STRING* s = ad->location->d.uniformResourceIdentifier;
    return std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)), static_cast<size_t>(ASN1_STRING_length(s)));
  };
  CHECK(uri(ocsp) == "http://ocsp.example.com");
  CHECK(uri(issuer) == "http://ca.example.com/ca.crt");
  AUTHORITY_INFO_ACCESS_free(aia);
  CHECK(ext_der(c, NID_crl_distribution_points).find("http://crl.example.com/ca.crl") != std::string::npos);

  // -crl replaces the profile's CRL URL.
  SignOptions o = at_time(fixed_now());
  o.crl_url = "http://override.example/x.crl";
  Issued over = shared_root().signer().sign(leaf_csr("o", {"o.example"}), p, o);
  CHECK(ext_der(over.certificate, NID_crl_distribution_points).find("http://override.example/x.crl") != std::string::npos);

  // A plain leaf: KU, EKU, BC, SKI, AKI, SAN only.
  Issued plain = shared_root().signer().sign(leaf_csr("o", {"o.example"}), builtin().profile("server"), at_time(fixed_now()));
  CHECK(ext_nids(plain.certificate) == std::vector<int>{NID_key_usage, NID_ext_key_usage, NID_basic_constraints,
                                                        NID_subject_key_identifier, NID_authority_key_identifier,
                                                        NID_subject_alt_name});
}

TEST_CASE("Signer::sign: EKU-only profiles give no KeyUsage extension (TV8)", "[signer]") {
  Issued issued = shared_root().signer().sign(leaf_csr("e", {"e.example"}), profile_with({"server auth", "client auth"}),
                                              at_time(fixed_now()));
  CHECK_FALSE(issued.certificate.key_usage().has_value());
  CHECK(ext(issued.certificate, NID_key_usage) == nullptr);
  CHECK(issued.certificate.ext_key_usage() == std::vector<std::string>{eku::server_auth, eku::client_auth});
}

TEST_CASE("Signer::sign: issued certificates verify with OpenSSL for their purpose", "[signer]") {
  const Ca& root = shared_root();
  const TimePoint when = fixed_now() + std::chrono::hours(24);
  struct Case {
    const char* profile;
    bool server_ok;
    bool client_ok;
  };
  const Case cases[] = {
      {"server", true, true},
      {"peer", true, true},
      {"client", false, true},
  };
  for (const auto& c : cases) {
    INFO("profile " << c.profile);
    Issued issued = root.signer().sign(leaf_csr(c.profile, {"127.0.0.1", "etcd0.example"}), builtin().profile(c.profile),
                                       at_time(fixed_now()));
    VerifyResult server = verify_chain(issued.certificate, root.cert, when, X509_PURPOSE_SSL_SERVER);
    VerifyResult client = verify_chain(issued.certificate, root.cert, when, X509_PURPOSE_SSL_CLIENT);
    INFO("server: " << server.text() << "; client: " << client.text());
    CHECK((server.ok == 1) == c.server_ok);
    CHECK((client.ok == 1) == c.client_ok);
    if (!c.server_ok) {
      CHECK(server.error == X509_V_ERR_INVALID_PURPOSE);
      CHECK(server.depth == 0);
    }
  }
}

TEST_CASE("Signer::sign: verification fails outside the validity period and with another root", "[signer]") {
  const Ca& root = shared_root();
  Issued issued = root.signer().sign(leaf_csr("t", {"t.example"}), builtin().profile("server"), at_time(fixed_now()));
  // Inside: from notBefore (12:29) on.
  CHECK(verify_chain(issued.certificate, root.cert, at("2025-03-10T12:29:00Z"), X509_PURPOSE_SSL_SERVER).ok == 1);
  VerifyResult early = verify_chain(issued.certificate, root.cert, at("2025-03-10T12:28:00Z"), X509_PURPOSE_SSL_SERVER);
  CHECK(early.ok != 1);
  CHECK(early.error == X509_V_ERR_CERT_NOT_YET_VALID);
  VerifyResult late = verify_chain(issued.certificate, root.cert, fixed_now() + std::chrono::hours(8761), X509_PURPOSE_SSL_SERVER);
  CHECK(late.ok != 1);
  CHECK(late.error == X509_V_ERR_CERT_HAS_EXPIRED);
  CHECK(late.depth == 0);

  Ca other = make_root({KeyAlgo::ecdsa, 256}, "other-root");
  VerifyResult wrong = verify_chain(issued.certificate, other.cert, fixed_now() + std::chrono::hours(1), X509_PURPOSE_SSL_SERVER);
  CHECK(wrong.ok != 1);
  CHECK(wrong.error == X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY);
}

TEST_CASE("Signer::sign: the signature hash follows the CA key, not the leaf key", "[signer]") {
  struct Case {
    KeySpec ca;
    int sig_nid;
  };
  const Case cases[] = {
      {{KeyAlgo::ecdsa, 256}, NID_ecdsa_with_SHA256},
      {{KeyAlgo::ecdsa, 384}, NID_ecdsa_with_SHA384},
      {{KeyAlgo::ecdsa, 521}, NID_ecdsa_with_SHA512},
      {{KeyAlgo::ed25519, 0}, NID_ED25519},
      {{KeyAlgo::rsa, 3072}, NID_sha384WithRSAEncryption},
  };
  // The leaf key is P-384 (TV4): its own size must not matter.
  static const KeyPair leaf_key = KeyPair::generate({KeyAlgo::ecdsa, 384});
  for (const auto& c : cases) {
    INFO("CA " << c.ca.to_string());
    Ca ca = make_root(c.ca, "hash-" + c.ca.algo_name());
    CHECK(X509_get_signature_nid(ca.cert.native_handle()) == c.sig_nid);  // the root signs itself the same way
    Issued issued = ca.signer().sign(leaf_csr("leaf", {"leaf.example"}, leaf_key), builtin().profile("server"),
                                     at_time(fixed_now()));
    CHECK(X509_get_signature_nid(issued.certificate.native_handle()) == c.sig_nid);
    VerifyResult v = verify_chain(issued.certificate, ca.cert, fixed_now() + std::chrono::hours(1), X509_PURPOSE_SSL_SERVER);
    INFO(v.text());
    CHECK(v.ok == 1);
  }
}

TEST_CASE("Signer::sign: an RSA-2048 CA signs with SHA-256 and RSA leaves keep key encipherment", "[signer][rsa]") {
  Ca ca = make_root({KeyAlgo::rsa, 2048}, "rsa-root");
  CHECK(X509_get_signature_nid(ca.cert.native_handle()) == NID_sha256WithRSAEncryption);
  Profile p = profile_with({"signing", "key encipherment", "server auth"}, Seconds(8760 * 3600), "www");
  Issued issued = ca.signer().sign(leaf_csr("rsa-leaf", {"rsa.example"}, shared_rsa2048()), p, at_time(fixed_now()));
  CHECK(X509_get_signature_nid(issued.certificate.native_handle()) == NID_sha256WithRSAEncryption);
  CHECK(issued.certificate.key_usage() == (ku::digital_signature | ku::key_encipherment));
  CHECK(issued.warnings.empty());
  CHECK(issued.certificate.public_key().spec() == KeySpec{KeyAlgo::rsa, 2048});
  VerifyResult v = verify_chain(issued.certificate, ca.cert, fixed_now() + std::chrono::hours(1), X509_PURPOSE_SSL_SERVER);
  INFO(v.text());
  CHECK(v.ok == 1);
}

TEST_CASE("Signer::sign: a non-builtin profile reports the dropped key encipherment", "[signer]") {
  Profile p = profile_with({"signing", "key encipherment", "server auth"}, Seconds(8760 * 3600), "www");
  Issued issued = shared_root().signer().sign(leaf_csr("w", {"w.example"}), p, at_time(fixed_now()));
  CHECK(issued.certificate.key_usage() == ku::digital_signature);
  REQUIRE(issued.warnings.size() == 1);
  CHECK_THAT(issued.warnings[0], Contains("profile \"www\"") && Contains("key encipherment") && Contains("ECDSA P-256"));
}

TEST_CASE("Signer::sign: the leaf is capped at the CA's notAfter", "[signer]") {
  Request r;
  r.subject.common_name = "short-ca";
  CaOptions opt;
  opt.expiry = Seconds(48 * 3600);
  r.ca = opt;
  KeyPair key = KeyPair::generate({KeyAlgo::ecdsa, 256});
  Issued ca = Signer::self_sign(Csr::create(r, key), key, ca_profile_for(r), at_time(fixed_now()));
  REQUIRE(ca.certificate.not_after() == at("2025-03-12T12:29:00Z"));
  Signer signer(ca.certificate, key);
  Issued leaf = signer.sign(leaf_csr("l", {"l.example"}), builtin().profile("server"), at_time(fixed_now()));
  CHECK(leaf.certificate.not_after() == ca.certificate.not_after());
  REQUIRE(leaf.warnings.size() == 1);
  CHECK_THAT(leaf.warnings[0], Contains("capped at the CA's notAfter 2025-03-12T12:29:00Z"));
  CHECK(verify_chain(leaf.certificate, ca.certificate, at("2025-03-12T12:00:00Z"), X509_PURPOSE_SSL_SERVER).ok == 1);
}

TEST_CASE("Signer::sign: an expired CA is refused, a not-yet-valid CA warns", "[signer]") {
  const Ca& root = shared_root();
  Signer signer = root.signer();
  const TimePoint after_end = root.cert.not_after() + Seconds(1);
  Error e = catch_error([&] { signer.sign(leaf_csr("x", {"x.example"}), builtin().profile("server"), at_time(after_end)); });
  CHECK(e.category() == Errc::ca);
  CHECK_THAT(e.message(), Contains("expired on " + format_rfc3339(root.cert.not_after())));
  // Exactly at notAfter is expired too.
  CHECK(catch_error([&] {
          signer.sign(leaf_csr("x", {"x.example"}), builtin().profile("server"), at_time(root.cert.not_after()));
        }).category() == Errc::ca);

  Issued early = signer.sign(leaf_csr("x", {"x.example"}), builtin().profile("server"),
                             at_time(root.cert.not_before() - std::chrono::hours(2)));
  CHECK(has_warning(early.warnings, "not valid before " + format_rfc3339(root.cert.not_before())));
}

TEST_CASE("Signer::sign keeps the CSR's subject in cfssl's canonical order", "[signer]") {
  Request r = Request::from_json(R"({"CN":"system:node:worker-1","names":[{"O":"Zeta-longer"},{"O":"system:nodes"},{"O":"Alpha"},{"C":"US"}]})");
  Issued issued = shared_root().signer().sign(Csr::create(r, shared_leaf_key()), builtin().profile("client"), at_time(fixed_now()));
  CHECK(issued.certificate.subject_string() == "C=US, O=Alpha + O=Zeta-longer + O=system:nodes, CN=system:node:worker-1");
  Certificate back = Certificate::from_pem(issued.certificate.to_pem());
  CHECK(back.subject_string() == issued.certificate.subject_string());
  CHECK(back.subject().organization == std::vector<std::string>{"Alpha", "Zeta-longer", "system:nodes"});
}

TEST_CASE("Signer::self_sign: a cfssl-style root (TV2/TV3)", "[signer]") {
  Request r = Request::from_json(
      R"({"CN":"etcd-ca","hosts":["ca.example.com","10.0.0.1","admin@example.com","spiffe://cluster.local/ca"],
          "names":[{"C":"US","ST":"CA","L":"San Francisco"}],"ca":{"pathlen":1}})");
  KeyPair key = KeyPair::generate(r.key);
  Issued root = Signer::self_sign(Csr::create(r, key), key, ca_profile_for(r), at_time(fixed_now()));
  const Certificate& c = root.certificate;
  CHECK(root.warnings.empty());
  CHECK(c.subject_string() == "C=US, ST=CA, L=San Francisco, CN=etcd-ca");
  CHECK(c.issuer_string() == c.subject_string());
  CHECK(c.self_signed());
  CHECK(c.is_ca());
  CHECK(c.path_len() == 1);
  CHECK(critical(c, NID_basic_constraints));
  CHECK(c.key_usage() == (ku::cert_sign | ku::crl_sign));
  CHECK(critical(c, NID_key_usage));
  CHECK(c.ext_key_usage().empty());
  CHECK(ext(c, NID_ext_key_usage) == nullptr);
  CHECK(c.sans().to_string() == "IP:10.0.0.1");  // only the IPs of hosts
  CHECK(c.subject_key_id() == sha1_of_public_key(c));
  CHECK(c.authority_key_id().empty());  // no AKI on a self-signed root, as Go
  CHECK(c.not_before() == at("2025-03-10T12:29:00Z"));
  CHECK(c.not_after() == at("2025-03-10T12:29:00Z") + Seconds(43800LL * 3600));  // default CA expiry
  CHECK(X509_get_signature_nid(c.native_handle()) == NID_ecdsa_with_SHA256);
  CHECK(c.public_key().same_public_key(key));
  // It verifies as its own trust anchor, for issuing.
  VerifyResult v = verify_chain(c, c, fixed_now() + std::chrono::hours(1), X509_PURPOSE_ANY);
  INFO(v.text());
  CHECK(v.ok == 1);
}

TEST_CASE("Signer::self_sign refuses a key that is not the CSR's", "[signer]") {
  KeyPair other = KeyPair::generate({KeyAlgo::ecdsa, 256});
  Error e = catch_error([&] { Signer::self_sign(leaf_csr("x"), other, builtin().profile("ca"), at_time(fixed_now())); });
  CHECK(e.category() == Errc::key);
  CHECK_THAT(e.message(), Contains("does not match the CSR"));
}

TEST_CASE("Signer::self_sign accepts the key when the CSR encodes it differently (a compressed EC point)", "[signer]") {
  // The key check compares DER first and decodes only when the bytes differ: the same key with a
  // compressed point is still the CSR's key, and another key still is not.
  KeyPair key = KeyPair::generate({KeyAlgo::ecdsa, 256});
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> dup(EVP_PKEY_dup(key.native_handle()), EVP_PKEY_free);
  REQUIRE(dup);
  REQUIRE(EVP_PKEY_set_utf8_string_param(dup.get(), OSSL_PKEY_PARAM_EC_POINT_CONVERSION_FORMAT, "compressed") == 1);
  std::unique_ptr<X509_REQ, decltype(&X509_REQ_free)> req(X509_REQ_new(), X509_REQ_free);
  X509_NAME_add_entry_by_txt(X509_REQ_get_subject_name(req.get()), "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("compressed"), -1, -1, 0);
  REQUIRE(X509_REQ_set_pubkey(req.get(), dup.get()) == 1);
  REQUIRE(X509_REQ_sign(req.get(), dup.get(), EVP_sha256()) > 0);
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), BIO_free);
  REQUIRE(PEM_write_bio_X509_REQ(bio.get(), req.get()) == 1);
  char* data = nullptr;
  long n = BIO_get_mem_data(bio.get(), &data);
  Csr csr = Csr::from_pem(std::string(data, static_cast<size_t>(n)));
  REQUIRE(csr.public_key().public_key_der() != key.public_key_der());  // really another encoding
  Issued ca = Signer::self_sign(csr, key, builtin().profile("ca"), at_time(fixed_now()));
  CHECK(ca.certificate.public_key().same_public_key(key));
  KeyPair other = KeyPair::generate({KeyAlgo::ecdsa, 256});
  Error e = catch_error([&] { Signer::self_sign(csr, other, builtin().profile("ca"), at_time(fixed_now())); });
  CHECK_THAT(e.message(), Contains("does not match the CSR"));
}

TEST_CASE("Signer: an intermediate CA and a chain that verifies (TV13)", "[signer]") {
  const Ca& root = shared_root();
  KeyPair inter_key = KeyPair::generate({KeyAlgo::ecdsa, 256});
  Request ir = Request::from_json(R"({"CN":"inter","hosts":["inter.example.com","10.9.9.9"],"ca":{"pathlen":2}})");
  Csr inter_csr = Csr::create(ir, inter_key);
  Issued inter = root.signer().sign(inter_csr, ca_profile(0, true), at_time(fixed_now()));
  const Certificate& ic = inter.certificate;
  CHECK(ic.is_ca());
  CHECK(ic.path_len() == 0);  // the profile's max_path_len_zero overrides the CSR's 2
  CHECK(ic.sans().to_string() == "IP:10.9.9.9");
  CHECK(ic.key_usage() == (ku::digital_signature | ku::cert_sign | ku::crl_sign));
  CHECK(ic.authority_key_id() == root.cert.subject_key_id());
  CHECK(ic.not_after() - ic.not_before() == Seconds(43800LL * 3600));
  CHECK(ic.issuer_string() == root.cert.subject_string());

  // The same CA CSR under a leaf profile is refused.
  Error refused = catch_error([&] { root.signer().sign(inter_csr, builtin().profile("peer"), at_time(fixed_now())); });
  CHECK(refused.category() == Errc::policy);

  // The intermediate signs leaves, and the chain verifies through it.
  Signer inter_signer(ic, inter_key, "inter.pem", "inter-key.pem");
  Issued leaf = inter_signer.sign(leaf_csr("member", {"127.0.0.1", "member.example"}), builtin().profile("peer"),
                                  at_time(fixed_now()));
  CHECK(leaf.certificate.authority_key_id() == ic.subject_key_id());
  const TimePoint when = fixed_now() + std::chrono::hours(1);
  VerifyResult v = verify_chain(leaf.certificate, root.cert, when, X509_PURPOSE_SSL_SERVER, {ic});
  INFO(v.text());
  CHECK(v.ok == 1);
  VerifyResult missing = verify_chain(leaf.certificate, root.cert, when, X509_PURPOSE_SSL_SERVER);
  CHECK(missing.ok != 1);
  CHECK(missing.error == X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY);

  // With pathlen 0, the intermediate cannot sign another CA.
  Error deeper = catch_error([&] { inter_signer.sign(ca_csr(std::nullopt), ca_profile(0, true), at_time(fixed_now())); });
  CHECK(deeper.category() == Errc::policy);
  CHECK_THAT(deeper.message(), Contains("pathlen 0"));
}

TEST_CASE("Signer: a root with pathlen 1 refuses a CSR asking for pathlen 2", "[signer]") {
  Ca root = make_root({KeyAlgo::ecdsa, 256}, "root-pl1", fixed_now(), 1);
  REQUIRE(root.cert.path_len() == 1);
  Error e = catch_error([&] { root.signer().sign(ca_csr(2), ca_profile(0, true), at_time(fixed_now())); });
  CHECK(e.category() == Errc::policy);
  CHECK_THAT(e.message(), Contains("the CSR asks for pathlen 2"));
  // pathlen 0 below it is fine.
  Issued ok = root.signer().sign(ca_csr(0), ca_profile(0, true), at_time(fixed_now()));
  CHECK(ok.certificate.path_len() == 0);
}

TEST_CASE("ca_profile_for: the built-in ca profile with the request's ca block", "[signer]") {
  struct Case {
    const char* json;
    int64_t expiry_h;
    std::optional<int64_t> backdate_s;
    CaConstraint ca;
    const char* crl;
  };
  const Case cases[] = {
      {R"({"CN":"r"})", 43800, std::nullopt, {true, 0, false}, ""},
      {R"({"CN":"r","ca":{}})", 43800, std::nullopt, {true, 0, false}, ""},
      {R"({"CN":"r","ca":{"expiry":"87600h"}})", 87600, std::nullopt, {true, 0, false}, ""},
      {R"({"CN":"r","ca":{"expiry":"1h30m","backdate":"1h"}})", 0, 3600, {true, 0, false}, ""},
      {R"({"CN":"r","ca":{"pathlen":1}})", 43800, std::nullopt, {true, 1, false}, ""},
      {R"({"CN":"r","ca":{"pathlen":0,"pathlenzero":true}})", 43800, std::nullopt, {true, 0, true}, ""},
      {R"({"CN":"r","ca":{"pathlen":3,"pathlenzero":true}})", 43800, std::nullopt, {true, 3, false}, ""},
      {R"({"CN":"r","crl_url":"http://crl.example/r.crl"})", 43800, std::nullopt, {true, 0, false}, "http://crl.example/r.crl"},
  };
  for (const auto& c : cases) {
    INFO(c.json);
    Profile p = ca_profile_for(Request::from_json(c.json));
    if (c.expiry_h) CHECK(p.expiry == Seconds(c.expiry_h * 3600));
    else CHECK(p.expiry == Seconds(90 * 60));
    CHECK(p.backdate == (c.backdate_s ? std::optional<Seconds>(Seconds(*c.backdate_s)) : std::nullopt));
    CHECK(p.ca == c.ca);
    CHECK(p.crl_url == c.crl);
    CHECK(p.usages.key_usage == (ku::cert_sign | ku::crl_sign));
    CHECK(p.usages.ext_key_usage.empty());
    CHECK(p.name == "ca");
  }
}

TEST_CASE("Signer: TV15 root validity controls", "[signer]") {
  // ca.backdate 1h, expiry 2h: notBefore = R(now) - 1h, notAfter = R(now) + 1h.
  Request r = Request::from_json(R"({"CN":"r","ca":{"backdate":"1h","expiry":"2h"}})");
  KeyPair key = KeyPair::generate(r.key);
  Issued root = Signer::self_sign(Csr::create(r, key), key, ca_profile_for(r), at_time(fixed_now()));
  CHECK(root.certificate.not_before() == at("2025-03-10T11:34:00Z"));
  CHECK(root.certificate.not_after() == at("2025-03-10T13:34:00Z"));
}

TEST_CASE("Signer::sign is safe to call from several threads", "[signer]") {
  const Ca& root = shared_root();
  Signer signer = root.signer();
  Csr csr = leaf_csr("parallel", {"p.example"});
  const Profile& profile = builtin().profile("server");
  constexpr int kThreads = 4, kEach = 3;
  std::vector<std::vector<std::string>> pems(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t)
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) pems[t].push_back(signer.sign(csr, profile, at_time(fixed_now())).certificate.to_pem());
    });
  for (auto& th : threads) th.join();
  std::set<std::string> serials;
  for (const auto& list : pems) {
    REQUIRE(list.size() == kEach);
    for (const auto& pem : list) {
      Certificate c = Certificate::from_pem(pem);
      serials.insert(c.serial_hex());
      CHECK(serial_der_octets(c) <= 20);  // 20 random bytes with the top bit cleared, as cfssl
      CHECK(verify_chain(c, root.cert, fixed_now() + std::chrono::hours(1), X509_PURPOSE_SSL_SERVER).ok == 1);
    }
  }
  CHECK(serials.size() == kThreads * kEach);
}
