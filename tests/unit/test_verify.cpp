// verify.hpp: verify_path on build_cluster output (cfssl and kubeadm layouts), on one member
// folder and on a flat cfssl folder, then one broken thing at a time, each asserting the rule,
// the severity, the file and the text etcd (Go's crypto/x509 and crypto/tls) would print.
// Everything runs at a fixed clock (VerifyOptions::now); no wall clock, no sleeps.
#include <nlohmann/json.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "support.hpp"
#include "x509_util.hpp"

using namespace test;
namespace fs = std::filesystem;

namespace {

// The clock of every case: build_cluster issues at kNow, so leaves run from kNotBefore for one
// year and the CA for ten.
const TimePoint kNow = fixed_now();                        // 2025-03-10T12:34:29Z
const TimePoint kNotBefore = at("2025-03-10T12:29:00Z");   // rounded to the minute, minus 5 min
const TimePoint kNotAfter = at("2026-03-10T12:29:00Z");    // + 8760h
constexpr Seconds kYear{8760LL * 3600};
constexpr Seconds kDay{24 * 3600};


void replace_text(const std::string& path, const std::string& from, const std::string& to) {
  std::string text = slurp(path);
  auto pos = text.find(from);
  REQUIRE(pos != std::string::npos);
  text.replace(pos, from.size(), to);
  spit(path, text);
}


VerifyOptions at_clock(TimePoint now = kNow) {
  VerifyOptions o;
  o.now = now;
  return o;
}

std::vector<std::string> sorted(std::vector<std::string> v) {
  std::sort(v.begin(), v.end());
  return v;
}

using Pki = SeedPki;

// Re-issues the certificate at `cert_path` for its own key (same subject and SANs unless `hosts`)
// under a profile with `usages`, signed by `signer` at `now`, and writes it (plus `append`) back.
Certificate reissue(const std::string& cert_path, const Signer& signer, const std::vector<std::string>& usages,
                    TimePoint now = kNow, std::optional<std::vector<std::string>> hosts = std::nullopt,
                    Seconds expiry = kYear, const std::string& append = "") {
  Certificate old = cert_at(cert_path);
  KeyPair key = key_at(key_path_for_cert(cert_path));
  Csr csr = Csr::create(old.subject(), old.sans(), key);
  SignOptions so;
  so.now = now;
  so.hosts = std::move(hosts);
  Certificate c = signer.sign(csr, profile_with(usages, expiry), so).certificate;
  spit(cert_path, c.to_pem() + append);
  return c;
}

const std::vector<std::string> kServerPeer{"digital signature", "server auth", "client auth"};

// A leaf made with OpenSSL directly, for what the library's signer refuses to make (key
// encipherment on an EC key, a chosen serial).
struct Craft {
  std::string cn;
  std::string serial_hex = "7A1B2C3D4E5F";
  std::string san;  // OpenSSL syntax: "DNS:a,IP:10.0.0.1"
  std::string key_usage = "critical,digitalSignature";
  std::string ext_key_usage = "serverAuth,clientAuth";
  TimePoint not_before = kNotBefore, not_after = kNotAfter;
};

Certificate craft(const Craft& c, const KeyPair& leaf_key, const Signer& issuer) {
  std::unique_ptr<X509, decltype(&X509_free)> x(X509_new(), X509_free);
  REQUIRE(x);
  REQUIRE(X509_set_version(x.get(), 2) == 1);
  BIGNUM* bn = nullptr;
  REQUIRE(BN_hex2bn(&bn, c.serial_hex.c_str()) > 0);
  ASN1_INTEGER* serial = BN_to_ASN1_INTEGER(bn, nullptr);
  BN_free(bn);
  REQUIRE(serial != nullptr);
  int set_serial = X509_set_serialNumber(x.get(), serial);
  ASN1_INTEGER_free(serial);
  REQUIRE(set_serial == 1);
  REQUIRE(X509_NAME_add_entry_by_txt(X509_get_subject_name(x.get()), "CN", MBSTRING_UTF8,
                                     reinterpret_cast<const unsigned char*>(c.cn.c_str()), -1, -1, 0) == 1);
  REQUIRE(X509_set_issuer_name(x.get(), X509_get_subject_name(issuer.ca_certificate().native_handle())) == 1);
  REQUIRE(X509_set_pubkey(x.get(), leaf_key.native_handle()) == 1);
  REQUIRE(ASN1_TIME_set(X509_getm_notBefore(x.get()), static_cast<time_t>(c.not_before.time_since_epoch().count())));
  REQUIRE(ASN1_TIME_set(X509_getm_notAfter(x.get()), static_cast<time_t>(c.not_after.time_since_epoch().count())));
  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, issuer.ca_certificate().native_handle(), x.get(), nullptr, nullptr, 0);
  auto add = [&](int nid, const std::string& value) {
    if (value.empty()) return;
    X509_EXTENSION* e = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
    REQUIRE(e != nullptr);
    int ok = X509_add_ext(x.get(), e, -1);
    X509_EXTENSION_free(e);
    REQUIRE(ok == 1);
  };
  add(NID_basic_constraints, "critical,CA:FALSE");
  add(NID_key_usage, c.key_usage);
  add(NID_ext_key_usage, c.ext_key_usage);
  add(NID_subject_key_identifier, "hash");
  add(NID_authority_key_identifier, "keyid");
  add(NID_subject_alt_name, c.san);
  REQUIRE(X509_sign(x.get(), issuer.ca_key().native_handle(), EVP_sha256()) > 0);
  ERR_clear_error();
  return Certificate::from_native(x.get());
}

std::vector<Finding> with_rule(const VerifyReport& r, const std::string& rule) {
  std::vector<Finding> out;
  for (const auto& f : r.findings)
    if (f.rule == rule) out.push_back(f);
  return out;
}

std::vector<Finding> for_file(const VerifyReport& r, const std::string& file) {
  std::vector<Finding> out;
  for (const auto& f : r.findings)
    if (f.file == file) out.push_back(f);
  return out;
}

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// The report must hold exactly one finding; returns it.
Finding single(const VerifyReport& r) {
  INFO(render_text(r));
  REQUIRE(r.findings.size() == 1);
  return r.findings.front();
}

}  // namespace

namespace Catch {
template <>
struct StringMaker<etcd_pki::Severity> {
  static std::string convert(etcd_pki::Severity s) { return etcd_pki::to_string(s); }
};
}  // namespace Catch

// ---------------------------------------------------------------------------------------------
// Clean outputs
// ---------------------------------------------------------------------------------------------

TEST_CASE("verify: a fresh cluster output and one member folder are clean", "[verify]") {
  Pki pki;
  VerifyReport r = verify_path(pki.out, at_clock());
  INFO(render_text(r));
  CHECK(r.findings.empty());
  CHECK(r.exit_code() == 0);
  CHECK(r.path == pki.out);
  CHECK(r.ca_file == pki / "ca/ca.pem");
  CHECK(r.crl_file == pki / "ca/ca.crl");  // cluster made an empty CRL
  CHECK(r.checked == std::vector<std::string>{"clients/root.pem", "etcd-1/peer.pem", "etcd-1/server.pem", "etcd-2/peer.pem",
                                              "etcd-2/server.pem", "etcd-3/peer.pem", "etcd-3/server.pem"});
  CHECK_THAT(render_text(r), EndsWith("7 certificate(s) checked against " + pki.out + "/ca/ca.pem and " + pki.out +
                                      "/ca/ca.crl: 0 error(s), 0 warning(s)\n"));

  // A change an interrupted run left pending (transaction.hpp) is an error until it is completed.
  spit(pki / "etcd-2/.etcd-pki-journal", "{}");
  VerifyReport pending = verify_path(pki.out, at_clock());
  REQUIRE(pending.findings.size() == 1);
  CHECK(pending.findings[0].rule == "interrupted-change");
  CHECK(pending.findings[0].file == "etcd-2/.etcd-pki-journal");
  CHECK(repair_folder(pki.out).size() == 1);

  VerifyReport m = verify_path(pki / "etcd-2", at_clock());
  INFO(render_text(m));
  CHECK(m.findings.empty());
  CHECK(m.exit_code() == 0);
  CHECK(m.ca_file == pki / "etcd-2/ca.pem");  // the config's trusted-ca-file, found in the folder
  CHECK(m.checked == std::vector<std::string>{"peer.pem", "server.pem"});
}

TEST_CASE("verify: a kubeadm layout output is clean", "[verify]") {
  Pki pki(Layout::kubeadm);
  VerifyReport r = verify_path(pki.out, at_clock());
  INFO(render_text(r));
  CHECK(r.findings.empty());
  CHECK(r.exit_code() == 0);
  CHECK(r.ca_file == pki / "ca/ca.crt");
  std::vector<std::string> want{"clients/root.crt"};
  for (const char* m : {"etcd-1", "etcd-2", "etcd-3"})
    for (const char* f : {"/apiserver-etcd-client.crt", "/etcd/healthcheck-client.crt", "/etcd/peer.crt", "/etcd/server.crt"})
      want.push_back(std::string(m) + f);
  CHECK(sorted(r.checked) == sorted(want));

  VerifyReport m = verify_path(pki / "etcd-1", at_clock());
  INFO(render_text(m));
  CHECK(m.findings.empty());
  CHECK(m.ca_file == pki / "etcd-1/etcd/ca.crt");
  CHECK(sorted(m.checked) == std::vector<std::string>{"apiserver-etcd-client.crt", "etcd/healthcheck-client.crt", "etcd/peer.crt",
                                                      "etcd/server.crt"});
}

TEST_CASE("verify: a cluster signed by an existing CA (no ca/ folder) checks every member and the clients", "[verify]") {
  TempDir tmp;
  Request req = Request::default_ca();
  req.subject.common_name = "external-ca";
  Bundle ca = make_ca(req, at_time(kNow - Seconds(3600)));
  fs::create_directories(tmp / "ext");
  spit(tmp / "ext/ca.pem", ca.certificate->to_pem());
  spit(tmp / "ext/ca-key.pem", ca.key->to_pem());
  ClusterSpec spec = ClusterSpec::from_initial_cluster(
      "etcd-1=https://10.20.13.10:2380,etcd-2=https://10.20.13.11:2380,etcd-3=https://10.20.13.12:2380");
  spec.clients = {{"root", "root"}, {"backup", "backup"}};
  spec.ca_cert_file = tmp / "ext/ca.pem";
  spec.ca_key_file = tmp / "ext/ca-key.pem";
  ClusterOptions co;
  co.out_dir = tmp / "pki";
  co.now = kNow;
  build_cluster(spec, co);
  REQUIRE_FALSE(fs::exists(tmp / "pki/ca"));

  const std::vector<std::string> want{"clients/backup.pem", "clients/root.pem",  "etcd-1/peer.pem", "etcd-1/server.pem",
                                      "etcd-2/peer.pem",    "etcd-2/server.pem", "etcd-3/peer.pem", "etcd-3/server.pem"};
  for (bool with_ca : {false, true}) {
    INFO("--ca: " << with_ca);
    VerifyOptions o = at_clock();
    if (with_ca) o.ca_file = tmp / "ext/ca.pem";
    VerifyReport r = verify_path(tmp / "pki", o);
    INFO(render_text(r));
    CHECK(r.findings.empty());
    CHECK(r.count(Severity::error) == 0);
    CHECK(r.exit_code() == 0);
    CHECK(r.checked == want);
    // Without --ca, the members' own trust file (each holds the same CA; a different one would be a ca-mismatch).
    CHECK(r.ca_file == (with_ca ? tmp / "ext/ca.pem" : tmp / "pki/etcd-1/ca.pem"));
    // The CRL next to that CA: cluster made it next to the existing CA and copied it into each member folder.
    CHECK(r.crl_file == (with_ca ? tmp / "ext/ca.crl" : tmp / "pki/etcd-1/ca.crl"));
    CHECK_THAT(render_text(r), Contains("8 certificate(s) checked against " + r.ca_file + " and " + r.crl_file + ": 0 error(s), 0 warning(s)\n"));
  }

  // The members are checked as in a cluster with its own CA: a broken one is found.
  spit(tmp / "pki/etcd-2/ca.pem", shared_root().cert.to_pem());
  Finding f = single(verify_path(tmp / "pki", at_clock()));
  CHECK(f.rule == "ca-mismatch");
  CHECK(f.file == "etcd-2/ca.pem");
}

TEST_CASE("verify: a flat cfssl folder (ca.pem, etcd.pem, no config) checks etcd.pem as server and peer", "[verify]") {
  TempDir dir;
  const Ca& root = shared_root();
  spit(dir / "ca.pem", root.cert.to_pem());
  const KeyPair& key = shared_leaf_key();
  spit(dir / "etcd-key.pem", key.to_pem());
  fs::permissions(dir / "etcd-key.pem", fs::perms::owner_read | fs::perms::owner_write, fs::perm_options::replace);
  auto issue = [&](std::vector<std::string> usages) {
    spit(dir / "etcd.pem", root.signer()
                               .sign(leaf_csr("etcd", {"10.0.0.1", "etcd.example.com"}, key), profile_with(std::move(usages)), at_time(kNow))
                               .certificate.to_pem());
  };

  issue(kServerPeer);
  VerifyReport clean = verify_path(dir.path(), at_clock());
  INFO(render_text(clean));
  CHECK(clean.findings.empty());
  CHECK(clean.ca_file == dir / "ca.pem");
  CHECK(clean.checked == std::vector<std::string>{"etcd.pem"});

  // Both roles: the addresses are checked, and each role's usage is required.
  VerifyOptions o = at_clock();
  o.addresses = {"10.0.0.9"};
  Finding f = single(verify_path(dir.path(), o));
  CHECK(f.rule == "san-missing");
  CHECK(f.file == "etcd.pem");
  CHECK_THAT(f.message, Contains("peer+server certificate does not cover IP 10.0.0.9"));

  issue({"digital signature", "server auth"});
  VerifyReport r = verify_path(dir.path(), at_clock());
  INFO(render_text(r));
  REQUIRE(r.findings.size() == 2);
  CHECK(with_rule(r, "server-eku").size() == 1);
  CHECK(with_rule(r, "peer-eku").size() == 1);
  for (const auto& e : r.findings) {
    CHECK(e.file == "etcd.pem");
    CHECK(e.severity == Severity::error);
    CHECK_THAT(e.message, Contains("lacks \"client auth\""));
    CHECK_THAT(e.etcd_error, Contains("x509: certificate specifies an incompatible key usage"));
  }
}

// ---------------------------------------------------------------------------------------------
// Time
// ---------------------------------------------------------------------------------------------

TEST_CASE("verify: expired, expiring and still valid by the clock", "[verify]") {
  Pki pki;
  struct Case {
    const char* name;
    TimePoint now;
    Seconds warn_within;
    const char* rule;  // on both peer.pem and server.pem; "" for none
    Severity severity;
    int exit_code;
  };
  const Seconds warn30 = 30 * kDay;
  const Case cases[] = {
      {"at issue", kNow, warn30, "", Severity::info, 0},
      {"31 days left", kNotAfter - 31 * kDay, warn30, "", Severity::info, 0},
      {"10 days left", kNotAfter - 10 * kDay, warn30, "expiring", Severity::warning, 1},
      {"one second left", kNotAfter - Seconds(1), warn30, "expiring", Severity::warning, 1},
      {"10 days left, warn within 5 days", kNotAfter - 10 * kDay, 5 * kDay, "", Severity::info, 0},
      {"one second after notAfter", kNotAfter + Seconds(1), warn30, "expired", Severity::error, 2},
      {"100 days after notAfter", kNotAfter + 100 * kDay, warn30, "expired", Severity::error, 2},
  };
  for (const auto& c : cases) {
    INFO(c.name << " (now " << format_rfc3339(c.now) << ")");
    VerifyOptions o = at_clock(c.now);
    o.warn_within = c.warn_within;
    VerifyReport r = verify_path(pki / "etcd-1", o);
    INFO(render_text(r));
    CHECK(r.exit_code() == c.exit_code);
    if (std::string(c.rule).empty()) {
      CHECK(r.findings.empty());
      continue;
    }
    // The member's CRL (valid as long as the certificates) goes stale with them: a warning of its own.
    std::vector<Finding> certs;
    for (const auto& f : r.findings)
      if (f.rule != "crl-stale") certs.push_back(f);
    REQUIRE(certs.size() == 2);
    std::vector<std::string> files;
    for (const auto& f : certs) {
      files.push_back(f.file);
      CHECK(f.rule == c.rule);
      CHECK(f.severity == c.severity);
      CHECK_THAT(f.message, Contains(format_rfc3339(kNotAfter)));
      if (c.severity == Severity::error)
        CHECK(f.etcd_error == "x509: certificate has expired or is not yet valid: current time " + format_rfc3339(c.now) +
                                  " is after " + format_rfc3339(kNotAfter));
      else
        CHECK(f.etcd_error == "none yet; after that: x509: certificate has expired or is not yet valid");
    }
    CHECK(sorted(files) == std::vector<std::string>{"peer.pem", "server.pem"});
  }
}

// Go's crypto/x509 (what etcd uses) rejects only when now.Before(NotBefore) or now.After(NotAfter):
// RFC 5280's validity period includes both ends. At exactly notAfter etcd still accepts the
// certificate; verify should say it is about to expire, not that it has.
TEST_CASE("verify: notBefore and notAfter are inclusive, as in Go", "[verify]") {
  Pki pki;
  VerifyReport at_end = verify_path(pki / "etcd-1", at_clock(kNotAfter));
  INFO(render_text(at_end));
  CHECK(with_rule(at_end, "expired").empty());
  CHECK(with_rule(at_end, "expiring").size() == 2);
  CHECK(at_end.exit_code() == 1);

  // At exactly notBefore (the CA starts at the same instant) nothing is "not yet valid".
  VerifyReport at_start = verify_path(pki / "etcd-1", at_clock(kNotBefore));
  INFO(render_text(at_start));
  CHECK(at_start.findings.empty());
  VerifyReport before = verify_path(pki / "etcd-1", at_clock(kNotBefore - Seconds(1)));
  CHECK(with_rule(before, "not-yet-valid").size() == 3);  // ca.pem, peer.pem, server.pem
}

TEST_CASE("verify: a certificate that is not valid yet", "[verify]") {
  Pki pki;
  // Issued two days ahead (a host with a fast clock), checked one day after kNow.
  reissue(pki / "etcd-1/server.pem", pki.signer(), kServerPeer, kNow + 2 * kDay);
  const TimePoint now = kNow + kDay;
  VerifyReport r = verify_path(pki / "etcd-1", at_clock(now));
  Finding f = single(r);
  CHECK(f.rule == "not-yet-valid");
  CHECK(f.severity == Severity::error);
  CHECK(f.file == "server.pem");
  CHECK(f.etcd_error ==
        "x509: certificate has expired or is not yet valid: current time 2025-03-11T12:34:29Z is before 2025-03-12T12:29:00Z");
  CHECK_THAT(f.message, Contains("clock skew"));
  CHECK(r.exit_code() == 2);
}

// ---------------------------------------------------------------------------------------------
// Names
// ---------------------------------------------------------------------------------------------

// Go's HostnameError: for an IP it lists the certificate's IP SANs only, for a host name its DNS
// SANs only ("not valid for any names, but wanted to match" when there are none).
TEST_CASE("verify: addresses the server and peer certificates must cover", "[verify]") {
  Pki pki;
  // etcd-1/server.pem: DNS etcd-1, localhost, IP 10.20.13.10, 127.0.0.1, ::1; peer.pem: DNS etcd-1, IP 10.20.13.10.
  struct Case {
    const char* address;
    const char* server_error;  // "" when covered
    const char* peer_error;
  };
  const Case cases[] = {
      {"10.20.13.10", "", ""},
      {"etcd-1", "", ""},
      {"ETCD-1", "", ""},  // host names match case-insensitively
      {"::ffff:10.20.13.10", "", ""},  // IPv4-mapped is the same address
      {"10.99.0.1", "x509: certificate is valid for 10.20.13.10, 127.0.0.1, ::1, not 10.99.0.1",
       "x509: certificate is valid for 10.20.13.10, not 10.99.0.1"},
      {"127.0.0.1", "", "x509: certificate is valid for 10.20.13.10, not 127.0.0.1"},
      {"0:0::1", "", "x509: certificate is valid for 10.20.13.10, not 0:0::1"},
      {"localhost", "", "x509: certificate is valid for etcd-1, not localhost"},
      {"etcd-2", "x509: certificate is valid for etcd-1, localhost, not etcd-2", "x509: certificate is valid for etcd-1, not etcd-2"},
  };
  for (const auto& c : cases) {
    INFO("address " << c.address);
    VerifyOptions o = at_clock();
    o.addresses = {c.address};
    VerifyReport r = verify_path(pki / "etcd-1", o);
    INFO(render_text(r));
    for (auto [file, want, role] : {std::tuple{"server.pem", c.server_error, "server"}, std::tuple{"peer.pem", c.peer_error, "peer"}}) {
      INFO(file);
      auto got = for_file(r, file);
      if (std::string(want).empty()) {
        CHECK(got.empty());
        continue;
      }
      REQUIRE(got.size() == 1);
      CHECK(got[0].rule == "san-missing");
      CHECK(got[0].severity == Severity::error);
      bool is_ip = parse_ip(c.address).has_value();
      CHECK(got[0].message == std::string(role) + " certificate does not cover " + (is_ip ? "IP " : "host name ") + c.address);
      CHECK(got[0].etcd_error == want);
    }
    CHECK(r.exit_code() == (r.findings.empty() ? 0 : 2));
  }
}

TEST_CASE("verify: certificates without IP SANs or without DNS SANs", "[verify]") {
  Pki pki;
  // The peer URL in etcd.conf.yml is https://10.20.13.10:2380: a peer cert with only a DNS name fails.
  reissue(pki / "etcd-1/peer.pem", pki.signer(), kServerPeer, kNow, std::vector<std::string>{"etcd-1"});
  Finding f = single(verify_path(pki / "etcd-1", at_clock()));
  CHECK(f.rule == "san-missing");
  CHECK(f.severity == Severity::error);
  CHECK(f.file == "peer.pem");
  CHECK(f.etcd_error == "x509: cannot validate certificate for 10.20.13.10 because it doesn't contain any IP SANs");

  // Only an IP: a host name cannot match.
  reissue(pki / "etcd-1/peer.pem", pki.signer(), kServerPeer, kNow, std::vector<std::string>{"10.20.13.10"});
  VerifyOptions o = at_clock();
  o.addresses = {"etcd-1.example.com"};
  VerifyReport r = verify_path(pki / "etcd-1", o);
  INFO(render_text(r));
  auto peer = for_file(r, "peer.pem");
  REQUIRE(peer.size() == 1);
  CHECK(peer[0].rule == "san-missing");
  CHECK(peer[0].etcd_error == "x509: certificate is not valid for any names, but wanted to match etcd-1.example.com");
}

TEST_CASE("verify: wildcard DNS SANs match one label", "[verify]") {
  Pki pki;
  reissue(pki / "etcd-1/server.pem", pki.signer(), kServerPeer, kNow,
          std::vector<std::string>{"*.example.com", "10.20.13.10", "127.0.0.1"});
  struct Case {
    const char* host;
    bool covered;
  };
  const Case cases[] = {
      {"a.example.com", true},     {"etcd-1.EXAMPLE.com", true}, {"example.com", false},
      {"a.b.example.com", false},  {"aexample.com", false},      {"a.example.org", false},
  };
  for (const auto& c : cases) {
    INFO(c.host);
    VerifyOptions o = at_clock();
    o.addresses = {c.host};
    VerifyReport r = verify_path(pki / "etcd-1", o);
    INFO(render_text(r));
    auto got = for_file(r, "server.pem");
    if (c.covered) {
      CHECK(got.empty());
    } else {
      REQUIRE(got.size() == 1);
      CHECK(got[0].rule == "san-missing");
      CHECK_THAT(got[0].etcd_error, StartsWith("x509: certificate is valid for ") && Contains("*.example.com") &&
                                        EndsWith(std::string(", not ") + c.host));
    }
  }
}

TEST_CASE("verify: addresses from a member's etcd.conf.yml alone", "[verify]") {
  struct Case {
    const char* from;
    const char* to;
    const char* file;     // "" for no finding
    const char* message;
  };
  const Case cases[] = {
      {"initial-advertise-peer-urls: \"https://10.20.13.10:2380\"", "initial-advertise-peer-urls: \"https://10.20.13.77:2380\"",
       "peer.pem", "peer certificate does not cover IP 10.20.13.77"},
      {"listen-peer-urls: \"https://10.20.13.10:2380\"", "listen-peer-urls: \"https://10.20.13.10:2380,https://[fd00::7]:2380\"",
       "peer.pem", "peer certificate does not cover IP fd00::7"},
      {"advertise-client-urls: \"https://10.20.13.10:2379\"", "advertise-client-urls: \"https://etcd-1.example.com:2379\"",
       "server.pem", "server certificate does not cover host name etcd-1.example.com"},
      // Wildcard listen addresses are not names clients dial.
      {"listen-client-urls: \"https://10.20.13.10:2379,https://127.0.0.1:2379\"", "listen-client-urls: \"https://0.0.0.0:2379\"", "", ""},
  };
  for (const auto& c : cases) {
    INFO(c.to);
    Pki pki;
    replace_text(pki / "etcd-1/etcd.conf.yml", c.from, c.to);
    VerifyReport r = verify_path(pki / "etcd-1", at_clock());
    INFO(render_text(r));
    if (std::string(c.file).empty()) {
      CHECK(r.findings.empty());
      continue;
    }
    Finding f = single(r);
    CHECK(f.rule == "san-missing");
    CHECK(f.severity == Severity::error);
    CHECK(f.file == c.file);
    CHECK(f.message == c.message);
    CHECK_THAT(f.etcd_error, StartsWith("x509: ") && Contains("not "));
    // The same folder inside the cluster output gives the same finding.
    auto in_cluster = for_file(verify_path(pki.out, at_clock()), std::string("etcd-1/") + c.file);
    REQUIRE(in_cluster.size() == 1);
    CHECK(in_cluster[0].message == c.message);
  }
}

// ---------------------------------------------------------------------------------------------
// Usages
// ---------------------------------------------------------------------------------------------

TEST_CASE("verify: each role's extended key usage", "[verify]") {
  struct Case {
    const char* file;
    std::vector<std::string> usages;
    const char* rule;     // "" for no finding
    const char* lacking;  // in the message
  };
  const Case cases[] = {
      {"etcd-1/server.pem", {"digital signature", "server auth"}, "server-eku", "client auth"},
      {"etcd-1/server.pem", {"digital signature", "client auth"}, "server-eku", "server auth"},
      {"etcd-1/peer.pem", {"digital signature", "server auth"}, "peer-eku", "client auth"},
      {"etcd-1/peer.pem", {"digital signature", "client auth"}, "peer-eku", "server auth"},
      {"clients/root.pem", {"digital signature", "server auth"}, "client-eku", "client auth"},
      // No EKU at all is any usage, for Go as for OpenSSL.
      {"etcd-1/server.pem", {"digital signature"}, "", ""},
      {"etcd-1/peer.pem", {"digital signature"}, "", ""},
      {"clients/root.pem", {"digital signature"}, "", ""},
  };
  for (const auto& c : cases) {
    INFO(c.file << " with " << c.usages.size() << " usages, expecting " << c.rule);
    Pki pki;
    reissue(pki / c.file, pki.signer(), c.usages);
    VerifyReport r = verify_path(pki.out, at_clock());
    INFO(render_text(r));
    if (std::string(c.rule).empty()) {
      CHECK(r.findings.empty());
      continue;
    }
    Finding f = single(r);
    CHECK(f.rule == c.rule);
    CHECK(f.severity == Severity::error);
    CHECK(f.file == c.file);
    CHECK_THAT(f.message, Contains(std::string("lacks \"") + c.lacking + "\""));
    CHECK_THAT(f.etcd_error, Contains("x509: certificate specifies an incompatible key usage"));
    CHECK(r.exit_code() == 2);
  }
}

TEST_CASE("verify: key encipherment on an EC key is a warning, on RSA nothing", "[verify]") {
  for (bool rsa : {false, true}) {
    INFO((rsa ? "RSA" : "ECDSA"));
    Pki pki;
    const std::string cert = pki / "etcd-1/server.pem", key = pki / "etcd-1/server-key.pem";
    if (rsa) spit(key, shared_rsa2048().to_pem());  // mode 0600 is kept
    Craft c;
    c.cn = "etcd-1";
    c.san = "DNS:etcd-1,DNS:localhost,IP:10.20.13.10,IP:127.0.0.1,IP:::1";
    c.key_usage = "critical,digitalSignature,keyEncipherment";
    Certificate made = craft(c, key_at(key), pki.signer());
    REQUIRE(made.key_usage() == std::optional<uint32_t>(ku::digital_signature | ku::key_encipherment));
    spit(cert, made.to_pem());
    VerifyReport r = verify_path(pki.out, at_clock());
    if (rsa) {
      INFO(render_text(r));
      CHECK(r.findings.empty());
      continue;
    }
    Finding f = single(r);
    CHECK(f.rule == "ec-key-encipherment");
    CHECK(f.severity == Severity::warning);
    CHECK(f.file == "etcd-1/server.pem");
    CHECK_THAT(f.message, Contains("ECDSA P-256"));
    CHECK_THAT(f.etcd_error, Contains("Go ignores it"));
    CHECK(r.exit_code() == 1);
  }
}

// ---------------------------------------------------------------------------------------------
// Keys
// ---------------------------------------------------------------------------------------------

TEST_CASE("verify: keys swapped between members", "[verify]") {
  Pki pki;
  const std::string k1 = slurp(pki / "etcd-1/server-key.pem"), k2 = slurp(pki / "etcd-2/server-key.pem");
  spit(pki / "etcd-1/server-key.pem", k2);
  spit(pki / "etcd-2/server-key.pem", k1);
  VerifyReport r = verify_path(pki.out, at_clock());
  INFO(render_text(r));
  REQUIRE(r.findings.size() == 2);
  std::vector<std::string> files;
  for (const auto& f : r.findings) {
    files.push_back(f.file);
    CHECK(f.rule == "key-mismatch");
    CHECK(f.severity == Severity::error);
    CHECK(f.etcd_error == "tls: private key does not match public key");
  }
  CHECK(files == std::vector<std::string>{"etcd-1/server-key.pem", "etcd-2/server-key.pem"});
  CHECK(r.exit_code() == 2);
}

TEST_CASE("verify: private key file permissions", "[verify]") {
  struct Case {
    fs::perms mode;
    const char* shown;
    std::optional<Severity> severity;
  };
  using P = fs::perms;
  const Case cases[] = {
      {P::owner_read | P::owner_write, "0600", std::nullopt},
      {P::owner_read, "0400", std::nullopt},
      {P::owner_read | P::owner_write | P::group_read, "0640", Severity::warning},
      {P::owner_read | P::owner_write | P::group_read | P::group_write, "0660", Severity::warning},
      {P::owner_read | P::owner_write | P::group_read | P::others_read, "0644", Severity::error},
      {P::owner_read | P::owner_write | P::others_read, "0604", Severity::error},
  };
  Pki pki;
  const std::string key = pki / "etcd-1/server-key.pem";
  for (const auto& c : cases) {
    INFO("mode " << c.shown);
    fs::permissions(key, c.mode, fs::perm_options::replace);
    VerifyReport r = verify_path(pki.out, at_clock());
    INFO(render_text(r));
    if (!c.severity) {
      CHECK(r.findings.empty());
      continue;
    }
    Finding f = single(r);
    CHECK(f.rule == "key-permissions");
    CHECK(f.severity == *c.severity);
    CHECK(f.file == "etcd-1/server-key.pem");
    CHECK_THAT(f.message, Contains(std::string("mode is ") + c.shown));
    CHECK(r.exit_code() == (*c.severity == Severity::error ? 2 : 1));
  }
}

// ---------------------------------------------------------------------------------------------
// Chains and CAs
// ---------------------------------------------------------------------------------------------

TEST_CASE("verify: a certificate from another CA", "[verify]") {
  Pki pki;
  reissue(pki / "etcd-1/peer.pem", shared_root().signer(), kServerPeer);
  Finding f = single(verify_path(pki.out, at_clock()));
  CHECK(f.rule == "chain");
  CHECK(f.severity == Severity::error);
  CHECK(f.file == "etcd-1/peer.pem");
  CHECK_THAT(f.message, Contains("CN=shared-test-root"));
  CHECK_THAT(f.etcd_error, StartsWith("x509: certificate signed by unknown authority"));
}

TEST_CASE("verify: a member whose ca.pem is another CA", "[verify]") {
  Pki pki;
  spit(pki / "etcd-2/ca.pem", shared_root().cert.to_pem());
  VerifyReport r = verify_path(pki.out, at_clock());
  Finding f = single(r);
  CHECK(f.rule == "ca-mismatch");
  CHECK(f.severity == Severity::error);
  CHECK(f.file == "etcd-2/ca.pem");
  CHECK_THAT(f.etcd_error, StartsWith("x509: certificate signed by unknown authority"));
  CHECK(r.checked.size() == 7);
}

// The signer caps a leaf at its CA's notAfter, so the case is made the way it happens: the CA was
// re-issued with the same key and subject for longer, a leaf was signed under that copy, and the
// members still trust the old, shorter one.
TEST_CASE("verify: a leaf outliving its CA", "[verify]") {
  Pki pki;
  Signer old_signer = pki.signer();
  const Certificate& old_ca = old_signer.ca_certificate();
  Request req;
  req.subject = old_ca.subject();
  req.key = KeySpec{KeyAlgo::ecdsa, 256};
  CaOptions ca;
  ca.expiry = 20 * kYear;
  req.ca = ca;
  Certificate long_ca =
      Signer::self_sign(Csr::create(req, old_signer.ca_key()), old_signer.ca_key(), ca_profile_for(req), at_time(kNow)).certificate;
  REQUIRE(long_ca.subject_key_id() == old_ca.subject_key_id());
  REQUIRE(long_ca.not_after() == old_ca.not_after() + 10 * kYear);
  Certificate leaf = reissue(pki / "etcd-1/server.pem", Signer(long_ca, old_signer.ca_key()), kServerPeer, kNow, std::nullopt, 15 * kYear);
  REQUIRE(leaf.not_after() > old_ca.not_after());

  VerifyReport r = verify_path(pki / "etcd-1", at_clock());
  Finding f = single(r);
  CHECK(f.rule == "outlives-ca");
  CHECK(f.severity == Severity::warning);
  CHECK(f.file == "server.pem");
  CHECK_THAT(f.message, Contains(format_rfc3339(leaf.not_after())) && Contains(format_rfc3339(old_ca.not_after())));
  CHECK(f.etcd_error == "from " + format_rfc3339(old_ca.not_after()) + ": x509: certificate has expired or is not yet valid (the CA)");
  CHECK(r.exit_code() == 1);
}

// Go checks that every CA in the chain allows the leaf's extended key usages.
TEST_CASE("verify: an intermediate CA whose EKU does not cover the leaf's", "[verify]") {
  struct Case {
    const char* name;
    std::vector<std::string> intermediate_usages;  // besides cert sign, crl sign
    bool in_ca_bundle;                              // else appended to the leaf file
    const char* lacking;                            // "" for no finding
  };
  const Case cases[] = {
      {"server auth only, chain in the leaf file", {"server auth"}, false, "client auth"},
      {"server auth only, intermediate in the CA bundle", {"server auth"}, true, "client auth"},
      {"client auth only", {"client auth"}, false, "server auth"},
      {"both", {"server auth", "client auth"}, false, ""},
      {"no EKU (any)", {}, false, ""},
  };
  for (const auto& c : cases) {
    INFO(c.name);
    Pki pki;
    Request ireq;
    ireq.subject.common_name = "etcd-intermediate";
    ireq.ca = CaOptions{};
    KeyPair ikey = KeyPair::generate(KeySpec{KeyAlgo::ecdsa, 256});
    std::vector<std::string> usages{"cert sign", "crl sign"};
    usages.insert(usages.end(), c.intermediate_usages.begin(), c.intermediate_usages.end());
    Profile ip = profile_with(usages, 5 * kYear, "intermediate");
    ip.ca.is_ca = true;
    Certificate inter = pki.signer().sign(Csr::create(ireq, ikey), ip, at_time(kNow)).certificate;
    REQUIRE(inter.is_ca());
    if (c.in_ca_bundle) {
      reissue(pki / "etcd-1/peer.pem", Signer(inter, ikey), kServerPeer);
      spit(pki / "etcd-1/ca.pem", slurp(pki / "etcd-1/ca.pem") + inter.to_pem());
    } else {
      reissue(pki / "etcd-1/peer.pem", Signer(inter, ikey), kServerPeer, kNow, std::nullopt, kYear, inter.to_pem());
    }
    VerifyReport r = verify_path(pki / "etcd-1", at_clock());
    INFO(render_text(r));
    if (std::string(c.lacking).empty()) {
      CHECK(r.findings.empty());
      continue;
    }
    Finding f = single(r);
    CHECK(f.rule == "intermediate-eku");
    CHECK(f.severity == Severity::error);
    CHECK(f.file == "peer.pem");
    CHECK_THAT(f.message, Contains("CN=etcd-intermediate") && Contains(std::string("\"") + c.lacking + "\""));
    CHECK(f.etcd_error == "x509: certificate specifies an incompatible key usage");
  }
}

// ---------------------------------------------------------------------------------------------
// Revocation
// ---------------------------------------------------------------------------------------------

TEST_CASE("verify: a certificate revoked in the CRL next to the CA", "[verify]") {
  Pki pki;
  Signer signer = pki.signer();
  const std::string ca = pki / "ca/ca.pem";
  Certificate victim = cert_at(pki / "etcd-2/peer.pem");
  const std::string serial = normalize_serial_hex(victim.serial_hex());
  update_ca_index(CaIndex::path_for(ca), [&](CaIndex& index) {
    index.revoke(serial, kNow, RevocationReason::key_compromise, victim);
  });
  CrlOptions co;
  co.now = kNow;
  co.cluster_dir = pki.out;  // the members' copies too (else each is crl-outdated)
  write_crl(signer, ca, co);

  VerifyReport r = verify_path(pki.out, at_clock());
  CHECK(r.crl_file == pki / "ca/ca.crl");
  Finding f = single(r);
  CHECK(f.rule == "revoked");
  CHECK(f.severity == Severity::error);
  CHECK(f.file == "etcd-2/peer.pem");
  CHECK_THAT(f.message, Contains(victim.serial_hex()));
  // etcd: fmt.Errorf("transport: certificate serial %x revoked", cert.SerialNumber) (lower case).
  CHECK_THAT(f.etcd_error, Contains(lower(serial) + " revoked\""));

  // A week later the CRL is past its next update: a warning, and the revocation still counts.
  VerifyReport later = verify_path(pki.out, at_clock(kNow + 8 * kDay));
  INFO(render_text(later));
  REQUIRE(later.findings.size() == 2);
  CHECK(later.findings[0].rule == "revoked");
  CHECK(later.findings[1].rule == "crl-stale");
  CHECK(later.findings[1].severity == Severity::warning);
  CHECK(later.findings[1].file == "ca/ca.crl");
  CHECK_THAT(later.findings[1].message, Contains(format_rfc3339(kNow + 7 * kDay)));
}

TEST_CASE("verify: a stale CRL alone is a warning", "[verify]") {
  Pki pki;
  CrlOptions co;
  co.now = kNow;
  co.next_update = kDay;
  write_crl(pki.signer(), pki / "ca/ca.pem", co);
  CHECK(verify_path(pki.out, at_clock(kNow + kDay - Seconds(1))).findings.empty());
  VerifyReport r = verify_path(pki.out, at_clock(kNow + 2 * kDay));
  Finding f = single(r);
  CHECK(f.rule == "crl-stale");
  CHECK(f.severity == Severity::warning);
  CHECK(f.file == "ca/ca.crl");
  CHECK(r.exit_code() == 1);
}

// Go prints a serial with %x: lower case, no leading zero. OpenSSL's BN_bn2hex keeps a leading
// zero nibble ("0A1B..."), which 1 in 8 random 159-bit serials have.
TEST_CASE("verify: the revoked serial is printed as etcd prints it", "[verify]") {
  struct Case {
    const char* serial;
    const char* etcd_text;
  };
  const Case cases[] = {
      {"7A1B2C3D4E5F", "transport: certificate serial 7a1b2c3d4e5f revoked"},
      // etcd formats the serial's bytes with %x (etcd 3.4 to main, pkg/transport): the first byte keeps its zero.
      {"0A1B2C3D4E5F", "transport: certificate serial 0a1b2c3d4e5f revoked"},
  };
  for (const auto& c : cases) {
    INFO(c.serial);
    Pki pki;
    Signer signer = pki.signer();
    Craft cr;
    cr.cn = "etcd-2";
    cr.serial_hex = c.serial;
    cr.san = "DNS:etcd-2,IP:10.20.13.11";
    Certificate peer = craft(cr, key_at(pki / "etcd-2/peer-key.pem"), signer);
    spit(pki / "etcd-2/peer.pem", peer.to_pem());
    REQUIRE(verify_path(pki.out, at_clock()).findings.empty());
    update_ca_index(CaIndex::path_for(pki / "ca/ca.pem"), [&](CaIndex& index) {
      index.revoke(normalize_serial_hex(c.serial), kNow, RevocationReason::superseded, peer);
    });
    CrlOptions co;
    co.now = kNow;
    co.cluster_dir = pki.out;
    write_crl(signer, pki / "ca/ca.pem", co);
    Finding f = single(verify_path(pki.out, at_clock()));
    CHECK(f.rule == "revoked");
    CHECK(f.file == "etcd-2/peer.pem");
    CHECK_THAT(f.etcd_error, Contains(std::string("(error \"") + c.etcd_text + "\")"));
  }
}

// renew (replace_pair) turns server.pem and server-key.pem into symlinks into .etcd-pki/; findings
// must still name the files etcd is configured with.
TEST_CASE("verify: after a renewal, findings name the configured paths, not the generation behind them", "[verify]") {
  Pki pki;
  const std::string cert = pki / "etcd-1/server.pem";
  RenewOptions ro;
  ro.now = kNow + kDay;
  renew({RenewTarget{cert, key_path_for_cert(cert)}}, pki.signer(), pki / "ca/ca.pem", ro);
  REQUIRE(fs::is_symlink(cert));
  fs::permissions(pki / "etcd-1/server-key.pem", fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read,
                  fs::perm_options::replace);  // follows the symlink
  VerifyReport r = verify_path(pki.out, at_clock(kNow + kDay));
  CHECK(std::count(r.checked.begin(), r.checked.end(), "etcd-1/server.pem") == 1);
  Finding f = single(r);
  CHECK(f.rule == "key-permissions");
  CHECK(f.file == "etcd-1/server-key.pem");

  VerifyReport m = verify_path(pki / "etcd-1", at_clock(kNow + kDay));
  CHECK(m.checked == std::vector<std::string>{"peer.pem", "server.pem"});
  CHECK(single(m).file == "server-key.pem");
}

// ---------------------------------------------------------------------------------------------
// Errors, exit codes, order and rendering
// ---------------------------------------------------------------------------------------------

TEST_CASE("verify: no such path, not a folder, or no CA in it", "[verify]") {
  TempDir dir;
  spit(dir / "file.pem", shared_root().cert.to_pem());
  fs::create_directory(dir / "empty");
  fs::create_directory(dir / "leaf-only");
  spit(dir / "leaf-only/server.pem",
       shared_root().signer().sign(leaf_csr("s", {"10.0.0.1"}), profile_with(kServerPeer), at_time(kNow)).certificate.to_pem());
  struct Case {
    std::string path;
    Errc category;
    const char* message;
  };
  const Case cases[] = {
      {dir / "missing", Errc::input, "no such folder"},
      {dir / "file.pem", Errc::usage, "not a folder"},
      {dir / "empty", Errc::usage, "no CA certificate found"},
      {dir / "leaf-only", Errc::usage, "no CA certificate found"},
  };
  for (const auto& c : cases) {
    INFO(c.path);
    Error e = catch_error([&] { verify_path(c.path, at_clock()); });
    CHECK(e.category() == c.category);
    CHECK(e.source() == c.path);
    CHECK_THAT(e.message(), Contains(c.message));
  }
}

TEST_CASE("verify: exit codes and counts", "[verify]") {
  struct Case {
    std::vector<Severity> severities;
    int errors, warnings, exit_code;
  };
  const Case cases[] = {
      {{}, 0, 0, 0},
      {{Severity::info}, 0, 0, 0},
      {{Severity::warning}, 0, 1, 1},
      {{Severity::info, Severity::warning, Severity::warning}, 0, 2, 1},
      {{Severity::error}, 1, 0, 2},
      {{Severity::warning, Severity::error, Severity::info}, 1, 1, 2},
  };
  for (const auto& c : cases) {
    VerifyReport r;
    for (Severity s : c.severities) r.findings.push_back(Finding{s, "f", "rule", "m", ""});
    INFO(c.severities.size() << " findings");
    CHECK(r.count(Severity::error) == c.errors);
    CHECK(r.count(Severity::warning) == c.warnings);
    CHECK(r.exit_code() == c.exit_code);
  }
  CHECK(std::string(to_string(Severity::error)) == "error");
  CHECK(std::string(to_string(Severity::warning)) == "warning");
  CHECK(std::string(to_string(Severity::info)) == "info");
}

TEST_CASE("verify: errors come first, then warnings; text and JSON renderings", "[verify]") {
  Pki pki;
  // A warning on etcd-1 (checked first), an error on etcd-3 (checked last).
  fs::permissions(pki / "etcd-1/server-key.pem",
                  fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read, fs::perm_options::replace);
  reissue(pki / "etcd-3/peer.pem", shared_root().signer(), kServerPeer);
  VerifyReport r = verify_path(pki.out, at_clock());
  INFO(render_text(r));
  REQUIRE(r.findings.size() == 2);
  CHECK(r.findings[0].severity == Severity::error);
  CHECK(r.findings[0].rule == "chain");
  CHECK(r.findings[1].severity == Severity::warning);
  CHECK(r.findings[1].rule == "key-permissions");
  CHECK(std::is_sorted(r.findings.begin(), r.findings.end(),
                       [](const Finding& a, const Finding& b) { return a.severity > b.severity; }));

  const std::string text = render_text(r);
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string l; std::getline(in, l);) lines.push_back(l);
  REQUIRE(lines.size() == 5);  // two findings with their etcd line each, then the summary
  CHECK_THAT(lines[0], StartsWith("error") && Contains("etcd-3/peer.pem") && Contains("chain"));
  CHECK_THAT(lines[1], StartsWith(" ") && Contains("etcd: x509: certificate signed by unknown authority"));
  CHECK_THAT(lines[2], StartsWith("warning") && Contains("etcd-1/server-key.pem") && Contains("key-permissions"));
  CHECK_THAT(lines[3], StartsWith(" ") && Contains("etcd: none"));
  CHECK(lines[4] == "7 certificate(s) checked against " + pki.out + "/ca/ca.pem and " + pki.out + "/ca/ca.crl: 1 error(s), 1 warning(s)");

  nlohmann::json j = nlohmann::json::parse(render_json(r));
  CHECK(j["errors"] == 1);
  CHECK(j["warnings"] == 1);
  CHECK(j["path"] == pki.out);
  CHECK(j["ca_file"] == pki / "ca/ca.pem");
  CHECK(j["crl_file"] == pki / "ca/ca.crl");
  CHECK(j["checked"].get<std::vector<std::string>>() == r.checked);
  REQUIRE(j["findings"].size() == 2);
  CHECK(j["findings"][0]["severity"] == "error");
  CHECK(j["findings"][0]["rule"] == "chain");
  CHECK(j["findings"][0]["file"] == "etcd-3/peer.pem");
  CHECK(j["findings"][0]["etcd_error"] == r.findings[0].etcd_error);
  CHECK(j["findings"][0]["message"] == r.findings[0].message);
  CHECK(j["findings"][1]["severity"] == "warning");
  CHECK(j["findings"][1]["rule"] == "key-permissions");
}

TEST_CASE("verify: each member folder's CRL copy is there, readable and as recent as the CA's", "[verify][crl]") {
  Pki pki;
  const Certificate root = cert_at(pki / "clients/root.pem");
  const std::string serial = normalize_serial_hex(root.serial_hex());
  CrlOptions later;
  later.now = kNow + kDay;
  // Revoked with the CA's CRL only (no cluster folder given): every member still holds the old one.
  revoke_and_write_crl(pki.signer(), pki.ca_path(), serial, RevocationReason::key_compromise, root, later);
  VerifyReport r = verify_path(pki.out, at_clock(kNow + kDay));
  INFO(render_text(r));
  std::vector<std::string> outdated;
  for (const auto& f : r.findings)
    if (f.rule == "crl-outdated") {
      outdated.push_back(f.file);
      CHECK(f.severity == Severity::warning);
      CHECK_THAT(f.message, Contains("1 revocation(s) not in effect on this member"));
    }
  CHECK(outdated == std::vector<std::string>{"etcd-1/ca.crl", "etcd-2/ca.crl", "etcd-3/ca.crl"});

  // With the cluster folder, every copy (and MANIFEST) follows: only the revoked client is left.
  CrlOptions with_members = later;
  with_members.cluster_dir = pki.out;
  write_crl(pki.signer(), pki.ca_path(), with_members);
  CHECK(slurp(pki / "etcd-2/ca.crl") == slurp(pki / "ca/ca.crl"));
  CHECK_THAT(slurp(pki / "etcd-2/MANIFEST"), Contains("ca.crl  sha256:" + detail::sha256_hex(slurp(pki / "ca/ca.crl"), '\0')));
  r = verify_path(pki.out, at_clock(kNow + kDay));
  INFO(render_text(r));
  REQUIRE(r.findings.size() == 1);
  CHECK(r.findings[0].rule == "revoked");

  // A copy that is missing (etcd.env names it) or unreadable: etcd rejects every connection.
  fs::remove(pki / "etcd-1/ca.crl");
  spit(pki / "etcd-3/ca.crl", "not a CRL");
  r = verify_path(pki.out, at_clock(kNow + kDay));
  INFO(render_text(r));
  std::map<std::string, std::string> rules;
  for (const auto& f : r.findings) rules[f.file] = f.rule;
  CHECK(rules["etcd-1/ca.crl"] == "missing-file");
  CHECK(rules["etcd-3/ca.crl"] == "crl-unreadable");
  CHECK(r.exit_code() == 2);
}
