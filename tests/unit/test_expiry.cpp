// expiry.hpp: guess_role, and scan_expiry over a temporary PKI folder made with the library's own
// Signer at a fixed clock (roles, sort order, copies, hidden folders, keys, CRLs and their own
// window), with the text and JSON renderings; the monitoring fields and render_prometheus, also
// over a real build_cluster output (SeedPki) in both layouts.
#include <algorithm>
#include <map>
#include <memory>
#include <set>
#include <nlohmann/json.hpp>

#include "support.hpp"

using namespace test;
namespace fs = std::filesystem;
using Json = nlohmann::json;

namespace {

constexpr int64_t kDay = 86400;


// A leaf from the shared root at the fixed clock: notBefore = 12:29:00, notAfter = that + expiry.
Certificate leaf(const std::string& cn, std::vector<std::string> usages, Seconds expiry = Seconds(8760 * 3600)) {
  return shared_root()
      .signer()
      .sign(leaf_csr(cn, {cn + ".example"}), profile_with(std::move(usages), expiry), at_time(fixed_now()))
      .certificate;
}

const TimePoint kNotBefore = at("2025-03-10T12:29:00Z");

const std::vector<std::string> kServer{"signing", "server auth"};
const std::vector<std::string> kClient{"signing", "client auth"};
const std::vector<std::string> kPeer{"signing", "server auth", "client auth"};

const ExpiryEntry* find_entry(const ExpiryReport& r, const std::string& file) {
  for (const auto& e : r.entries)
    if (e.file == file) return &e;
  return nullptr;
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

// The PKI of the scan tests (D = the temp folder):
//   D/ca.pem                   root (10 years)         D/ca-key.pem        key: not listed
//   D/ca.crl, D/ca-crl.pem     the CRL (nextUpdate now + 7d), one entry with a copy
//   D/etcd-1/ca.pem            copy of the root        D/etcd-2/ca.pem     copy of the root
//   D/etcd-1/server.pem        30 days                 D/etcd-1/server-key.pem, D/etcd-1/tls.key
//   D/etcd-1/peer.pem          90 days                 D/etcd-1/etcd.env   ETCD_NAME=etcd-1
//   D/etcd-1/server-csr.pem    a CSR: skipped          D/notes.pem         text: skipped
//   D/clients/ci.pem           10 days                 D/config.json       not looked at
//   D/.etcd-pki/server.pem.000001/server.pem  1 day: hidden, not listed
//   D/.hidden.pem              1 day: hidden, not listed
struct Pki {
  TempDir dir;
  Certificate server = leaf("etcd-1-server", kServer, Seconds(30 * kDay));
  Certificate peer = leaf("etcd-1-peer", kPeer, Seconds(90 * kDay));
  Certificate ci = leaf("ci", kClient, Seconds(10 * kDay));
  Certificate backup = leaf("old-server", kServer, Seconds(1 * kDay));

  Pki() {
    const std::string root = shared_root().cert.to_pem();
    spit(dir / "ca.pem", root);
    spit(dir / "ca-key.pem", shared_root().key.to_pem());
    spit(dir / "etcd-1/ca.pem", root);
    spit(dir / "etcd-2/ca.pem", root);
    spit(dir / "etcd-1/server.pem", server.to_pem());
    spit(dir / "etcd-1/server-key.pem", shared_leaf_key().to_pem());
    spit(dir / "etcd-1/tls.key", shared_leaf_key().to_pem());
    spit(dir / "etcd-1/peer.pem", peer.to_pem());
    spit(dir / "etcd-1/etcd.env", "# the member's etcd settings\nETCD_NAME=etcd-1\n");
    spit(dir / "etcd-1/server-csr.pem", leaf_csr("etcd-1-server").to_pem());
    spit(dir / "clients/ci.pem", ci.to_pem());
    spit(dir / "notes.pem", "not a certificate\n");
    spit(dir / "config.json", "{}\n");
    spit(dir / ".etcd-pki/server.pem.000001/server.pem", backup.to_pem());
    spit(dir / ".hidden.pem", backup.to_pem());
    CaIndex index;
    REQUIRE(index.revoke("1A2B", fixed_now(), RevocationReason::key_compromise));
    spit(CaIndex::path_for(dir / "ca.pem"), index.to_text());
    CrlOptions o;
    o.now = fixed_now();
    write_crl(shared_root().signer(), dir / "ca.pem", o);
  }
};

}  // namespace

// ---------------------------------------------------------------------------------------------
// guess_role
// ---------------------------------------------------------------------------------------------

TEST_CASE("guess_role: CA, names, folders and usages", "[expiry]") {
  const Certificate ca = shared_root().cert;
  const Certificate server = leaf("r-server", kServer);
  const Certificate client = leaf("r-client", kClient);
  const Certificate peer = leaf("r-peer", kPeer);
  const Certificate no_eku = leaf("r-none", {"signing"});
  const Certificate code = leaf("r-code", {"signing", "code signing"});
  struct Case {
    const char* path;
    const Certificate* cert;
    const char* role;
  };
  const Case cases[] = {
      {"pki/ca.pem", &ca, "ca"},
      {"pki/clients/server.pem", &ca, "ca"},  // a CA is a CA whatever its name
      {"pki/etcd-1/server.pem", &peer, "server"},
      {"pki/etcd-1/peer.pem", &peer, "peer"},
      {"pki/etcd-1/PEER.crt", &peer, "peer"},
      {"pki/etcd-1/etcd-server-1.pem", &server, "server"},
      {"pki/root-client.pem", &server, "client"},  // the name says client
      {"pki/Client.pem", &peer, "client"},
      {"pki/clients/ci.pem", &client, "client"},  // parent folder "clients"
      {"pki/clients/ops.pem", &peer, "client"},
      {"pki/client/ops.pem", &peer, "server+peer"},  // only "clients" counts as a folder name
      {"etcd.pem", &server, "server+peer"},          // cfssl's single etcd.pem with server auth
      {"pki/etcd.pem", &peer, "server+peer"},
      {"pki/etcd.pem", &client, "client"},     // client auth only
      {"pki/etcd.pem", &no_eku, "server+peer"},  // no EKU: any use
      {"pki/etcd.pem", &code, "leaf"},           // neither server nor client auth
      {"pki/ca.pem", &server, "server+peer"},    // "ca" in the name does not make a CA
  };
  for (const auto& c : cases) {
    INFO(c.path << " (" << c.cert->subject_string() << ")");
    CHECK(guess_role(c.path, *c.cert) == c.role);
  }
}

// ---------------------------------------------------------------------------------------------
// scan_expiry
// ---------------------------------------------------------------------------------------------

TEST_CASE("scan_expiry: a PKI folder, soonest first, copies once, hidden folders and keys left out", "[expiry]") {
  Pki pki;
  const auto& d = pki.dir;
  ExpiryReport r = scan_expiry({d.path()}, Seconds(30 * kDay), fixed_now());
  CHECK(r.now == fixed_now());
  CHECK(r.within == Seconds(30 * kDay));
  CHECK(r.crl_within == Seconds(kDay));  // the default

  std::vector<std::string> files;
  for (const auto& e : r.entries) files.push_back(e.file);
  CHECK(files == std::vector<std::string>{d / "ca-crl.pem", d / "clients/ci.pem", d / "etcd-1/server.pem",
                                          d / "etcd-1/peer.pem", d / "ca.pem"});
  REQUIRE(r.entries.size() == 5);
  for (size_t i = 1; i < r.entries.size(); ++i) CHECK(r.entries[i - 1].expires <= r.entries[i].expires);

  const ExpiryEntry& crl = r.entries[0];
  CHECK(crl.role == "crl");
  CHECK(crl.expires == fixed_now() + Seconds(7 * kDay));
  CHECK(crl.copies == std::vector<std::string>{d / "ca.crl"});  // the DER twin
  CHECK(crl.ca == "shared-test-root");
  CHECK(crl.subject == "CRL");

  const ExpiryEntry& ci = r.entries[1];
  CHECK(ci.role == "client");
  CHECK(ci.expires == kNotBefore + Seconds(10 * kDay));
  CHECK(ci.expires == pki.ci.not_after());
  CHECK(ci.ca == "shared-test-root");
  CHECK(ci.subject == pki.ci.subject_string());
  CHECK(ci.copies.empty());

  CHECK(r.entries[2].role == "server");
  CHECK(r.entries[2].expires == kNotBefore + Seconds(30 * kDay));
  CHECK(r.entries[3].role == "peer");
  CHECK(r.entries[3].expires == kNotBefore + Seconds(90 * kDay));

  const ExpiryEntry& root = r.entries[4];
  CHECK(root.role == "ca");
  CHECK(root.expires == shared_root().cert.not_after());
  CHECK(root.copies == std::vector<std::string>{d / "etcd-1/ca.pem", d / "etcd-2/ca.pem"});
  CHECK(root.ca == "shared-test-root");  // self-signed: its own CN

  // Nothing from the hidden folders, no key files, no configs.
  for (const auto& e : r.entries) {
    INFO(e.file);
    CHECK(e.file.find("/.") == std::string::npos);
    for (const auto& c : e.copies) CHECK(c.find("/.") == std::string::npos);
    CHECK(e.expires != pki.backup.not_after());
  }
  // Files that are PKI-looking but hold no certificate or CRL are reported as skipped; keys are
  // recognised by name and not read at all.
  std::vector<std::string> skipped = r.skipped;
  std::sort(skipped.begin(), skipped.end());
  CHECK(skipped == std::vector<std::string>{d / "etcd-1/server-csr.pem", d / "notes.pem"});

  // Due: certificates within 30 days (ci, server), the CRL only within its own 1-day window.
  CHECK_FALSE(r.due(crl));
  CHECK(r.due(ci));
  CHECK(r.due(r.entries[2]));
  CHECK_FALSE(r.due(r.entries[3]));
  CHECK_FALSE(r.due(root));
  CHECK(r.any_within());
}

TEST_CASE("scan_expiry: after renew's pair swap, the symlinked pair is listed and the backup is not", "[expiry]") {
  TempDir d;
  Certificate old_cert = leaf("swap-server", kServer, Seconds(30 * kDay));
  Certificate new_cert = leaf("swap-server", kServer, Seconds(90 * kDay));
  spit(d / "etcd-1/server.pem", old_cert.to_pem());
  spit(d / "etcd-1/server-key.pem", shared_leaf_key().to_pem());
  std::string backup = replace_pair(OutputFile{d / "etcd-1/server.pem", new_cert.to_pem(), 0644, true},
                                    OutputFile{d / "etcd-1/server-key.pem", shared_leaf_key().to_pem(), 0600, true});
  REQUIRE(fs::is_symlink(d / "etcd-1/server.pem"));
  REQUIRE_THAT(backup, Contains("/.etcd-pki/"));

  ExpiryReport r = scan_expiry({d.path()}, Seconds(30 * kDay), fixed_now());
  REQUIRE(r.entries.size() == 1);
  CHECK(r.entries[0].file == d / "etcd-1/server.pem");
  CHECK(r.entries[0].role == "server");
  CHECK(r.entries[0].expires == new_cert.not_after());
  CHECK(r.entries[0].copies.empty());
  CHECK(r.skipped.empty());
  CHECK_FALSE(r.any_within());  // the 30-day certificate in the backup does not count
}

TEST_CASE("scan_expiry: CRLs use crl_within, certificates within", "[expiry]") {
  Pki pki;
  struct Case {
    int64_t within_days, crl_within_days;
    bool crl_due, ci_due, server_due, any;
  };
  const Case cases[] = {
      {30, 1, false, true, true, true},
      {5, 1, false, false, false, false},  // a 7-day CRL is not due in a 5-day certificate window
      {5, 7, true, false, false, true},    // nextUpdate exactly at now + 7d: due
      {5, 6, false, false, false, false},
      {10, 0, false, true, false, true},   // ci ends 5m29s before now + 10d
      {0, 30, true, false, false, true},
  };
  for (const auto& c : cases) {
    INFO("within " << c.within_days << "d, crl_within " << c.crl_within_days << "d");
    ExpiryReport r = scan_expiry({pki.dir.path()}, Seconds(c.within_days * kDay), fixed_now(), Seconds(c.crl_within_days * kDay));
    CHECK(r.crl_within == Seconds(c.crl_within_days * kDay));
    const ExpiryEntry* crl = find_entry(r, pki.dir / "ca-crl.pem");
    const ExpiryEntry* ci = find_entry(r, pki.dir / "clients/ci.pem");
    const ExpiryEntry* server = find_entry(r, pki.dir / "etcd-1/server.pem");
    REQUIRE(crl);
    REQUIRE(ci);
    REQUIRE(server);
    CHECK(r.due(*crl) == c.crl_due);
    CHECK(r.due(*ci) == c.ci_due);
    CHECK(r.due(*server) == c.server_due);
    CHECK(r.any_within() == c.any);
  }
}

TEST_CASE("scan_expiry: any_within around the boundary", "[expiry]") {
  TempDir d;
  Certificate c = leaf("boundary", kServer, Seconds(10 * kDay));
  spit(d / "etcd.pem", c.to_pem());
  const Seconds left = std::chrono::duration_cast<Seconds>(c.not_after() - fixed_now());
  REQUIRE(left == Seconds(10 * kDay - 329));
  struct Case {
    Seconds within;
    TimePoint now;
    bool due;
  };
  const Case cases[] = {
      {left, fixed_now(), true},                           // expires exactly at now + within
      {left - Seconds(1), fixed_now(), false},             // one second later than the window
      {left + Seconds(1), fixed_now(), true},
      {Seconds(0), c.not_after(), true},                   // expiring this very second
      {Seconds(0), c.not_after() - Seconds(1), false},
      {Seconds(0), c.not_after() + Seconds(kDay), true},   // already expired
      {Seconds(30 * kDay), kNotBefore - Seconds(40 * kDay), false},
  };
  for (const auto& k : cases) {
    INFO("within " << k.within.count() << "s at " << format_rfc3339(k.now));
    ExpiryReport r = scan_expiry({d / "etcd.pem"}, k.within, k.now);
    REQUIRE(r.entries.size() == 1);
    CHECK(r.entries[0].role == "server+peer");
    CHECK(r.due(r.entries[0]) == k.due);
    CHECK(r.any_within() == k.due);
  }
  // Nothing found: nothing due.
  TempDir empty;
  ExpiryReport none = scan_expiry({empty.path()}, Seconds(365 * kDay), fixed_now());
  CHECK(none.entries.empty());
  CHECK(none.skipped.empty());
  CHECK_FALSE(none.any_within());
}

TEST_CASE("scan_expiry: files given directly, chains, and several paths", "[expiry]") {
  TempDir d;
  Certificate server = leaf("chain-server", kServer, Seconds(20 * kDay));
  spit(d / "chain.pem", server.to_pem() + shared_root().cert.to_pem());
  spit(d / "ca.pem", shared_root().cert.to_pem());
  spit(d / "odd-name.txt", server.to_pem());  // a file given by name is read whatever its extension
  spit(d / "server-key.pem", shared_leaf_key().to_pem());

  ExpiryReport r = scan_expiry({d / "chain.pem", d / "ca.pem", d / "odd-name.txt", d / "server-key.pem"}, Seconds(30 * kDay),
                               fixed_now());
  REQUIRE(r.entries.size() == 2);
  CHECK(r.entries[0].file == d / "chain.pem#1");
  CHECK(r.entries[0].role == "server+peer");
  CHECK(r.entries[0].copies == std::vector<std::string>{d / "odd-name.txt"});
  CHECK(r.entries[1].file == d / "chain.pem#2");
  CHECK(r.entries[1].role == "ca");
  CHECK(r.entries[1].copies == std::vector<std::string>{d / "ca.pem"});
  CHECK(r.skipped == std::vector<std::string>{d / "server-key.pem"});

  // The same folder twice: every certificate once, the second sighting a copy.
  ExpiryReport twice = scan_expiry({d.path(), d.path()}, Seconds(30 * kDay), fixed_now());
  CHECK(twice.entries.size() == 2);
}

TEST_CASE("scan_expiry: errors", "[expiry]") {
  TempDir d;
  Error missing = catch_error([&] { scan_expiry({d / "does-not-exist"}, Seconds(kDay), fixed_now()); });
  CHECK(missing.category() == Errc::input);  // as a missing input file elsewhere (expiry.hpp)
  CHECK(missing.source() == d / "does-not-exist");

  // One missing path among good ones is still an error.
  spit(d / "ca.pem", shared_root().cert.to_pem());
  Error one = catch_error([&] { scan_expiry({d.path(), d / "nope"}, Seconds(kDay), fixed_now()); });
  CHECK(one.category() == Errc::input);

  // A damaged certificate is an input error naming its file.
  spit(d / "broken.pem", pem_encode("CERTIFICATE", "not DER at all"));
  Error broken = catch_error([&] { scan_expiry({d.path()}, Seconds(kDay), fixed_now()); });
  CHECK(broken.category() == Errc::input);
  CHECK_THAT(std::string(broken.what()), Contains(d / "broken.pem"));
}

// ---------------------------------------------------------------------------------------------
// Rendering
// ---------------------------------------------------------------------------------------------

TEST_CASE("expiry render_text: header, rows, marks and summary", "[expiry]") {
  Pki pki;
  const auto& d = pki.dir;
  ExpiryReport r = scan_expiry({d.path()}, Seconds(30 * kDay), fixed_now());
  const std::string text = render_text(r);
  auto lines = lines_of(text);
  REQUIRE(lines.size() == r.entries.size() + 2);

  // Header: the column names in order, no mark.
  const std::string& header = lines[0];
  CHECK(header[0] == ' ');
  size_t name = header.find("NAME"), role = header.find("ROLE"), expires = header.find("EXPIRES"), left = header.find("LEFT"),
         ca = header.find(" CA");
  REQUIRE(name != std::string::npos);
  REQUIRE(ca != std::string::npos);
  CHECK(name < role);
  CHECK(role < expires);
  CHECK(expires < left);
  CHECK(left < ca);

  // One row per entry in the report's order; "!" exactly on due rows; columns aligned with the header.
  for (size_t i = 0; i < r.entries.size(); ++i) {
    const ExpiryEntry& e = r.entries[i];
    const std::string& row = lines[i + 1];
    INFO(row);
    CHECK((row[0] == '!') == r.due(e));
    if (!r.due(e)) CHECK(row[0] == ' ');
    CHECK(row.substr(name, e.file.size()) == e.file);
    CHECK(row.substr(role, e.role.size()) == e.role);
    CHECK(row.substr(expires, 20) == format_rfc3339(e.expires));
    CHECK_THAT(row, EndsWith(e.ca));
  }
  CHECK_THAT(lines[1], Contains("ca-crl.pem (+1 copy)"));
  CHECK_THAT(lines[5], Contains(d / "ca.pem") && Contains("(+2 copies)"));
  CHECK(lines[2].substr(left, 7) == "9d 23h ");  // ci: 10 days minus 5m29s

  CHECK(lines.back() ==
        "5 certificate(s) and CRL(s); 2 due (certificates expiring within 30d, CRLs due for update within 1d)");

  // Expired certificates say so.
  ExpiryReport later = scan_expiry({d / "clients/ci.pem"}, Seconds(30 * kDay), pki.ci.not_after() + Seconds(2 * kDay + 3600));
  auto later_lines = lines_of(render_text(later));
  REQUIRE(later_lines.size() == 3);
  CHECK(later_lines[1][0] == '!');
  CHECK_THAT(later_lines[1], Contains("EXPIRED 2d 1h ago"));
}

TEST_CASE("expiry render_json: parses, with a within flag per entry", "[expiry]") {
  Pki pki;
  const auto& d = pki.dir;
  ExpiryReport r = scan_expiry({d.path()}, Seconds(30 * kDay), fixed_now(), Seconds(2 * kDay));
  Json j = Json::parse(render_json(r));
  CHECK(j.at("now") == "2025-03-10T12:34:29Z");
  CHECK(j.at("within_seconds") == 30 * kDay);
  CHECK(j.at("crl_within_seconds") == 2 * kDay);
  CHECK(j.at("any_within") == true);
  const Json& entries = j.at("entries");
  REQUIRE(entries.size() == r.entries.size());
  for (size_t i = 0; i < r.entries.size(); ++i) {
    const ExpiryEntry& e = r.entries[i];
    const Json& je = entries[i];
    INFO(e.file);
    CHECK(je.at("file") == e.file);
    CHECK(je.at("role") == e.role);
    CHECK(je.at("subject") == e.subject);
    CHECK(je.at("ca") == e.ca);
    CHECK(je.at("copies").get<std::vector<std::string>>() == e.copies);
    CHECK(je.at("expires") == format_rfc3339(e.expires));
    CHECK(je.at("seconds_left") == std::chrono::duration_cast<Seconds>(e.expires - r.now).count());
    CHECK(je.at("within") == r.due(e));
  }
  CHECK(entries[0].at("role") == "crl");
  CHECK(entries[0].at("within") == false);
  CHECK(entries[1].at("within") == true);  // ci
  CHECK(entries[1].at("seconds_left") == 10 * kDay - 329);
  CHECK(entries[4].at("within") == false);  // the root
  std::vector<std::string> skipped = j.at("skipped").get<std::vector<std::string>>();
  std::sort(skipped.begin(), skipped.end());
  CHECK(skipped == std::vector<std::string>{d / "etcd-1/server-csr.pem", d / "notes.pem"});

  // Nothing due.
  Json quiet = Json::parse(render_json(scan_expiry({d / "ca.pem"}, Seconds(kDay), fixed_now())));
  CHECK(quiet.at("any_within") == false);
  REQUIRE(quiet.at("entries").size() == 1);
  CHECK(quiet.at("entries")[0].at("within") == false);
}

// ---------------------------------------------------------------------------------------------
// Monitoring: the entries' label fields and render_prometheus
// ---------------------------------------------------------------------------------------------

namespace {

// A CRL from the shared root without nextUpdate (RFC 5280 requires one; etcd-pki never makes
// such a CRL), DER.
std::string crl_without_next_update() {
  std::unique_ptr<X509_CRL, decltype(&X509_CRL_free)> crl(X509_CRL_new(), X509_CRL_free);
  REQUIRE(crl);
  REQUIRE(X509_CRL_set_version(crl.get(), 1) == 1);
  REQUIRE(X509_CRL_set_issuer_name(crl.get(), X509_get_subject_name(shared_root().cert.native_handle())) == 1);
  std::unique_ptr<ASN1_TIME, decltype(&ASN1_TIME_free)> t(ASN1_TIME_set(nullptr, fixed_now().time_since_epoch().count()),
                                                         ASN1_TIME_free);
  REQUIRE(X509_CRL_set1_lastUpdate(crl.get(), t.get()) == 1);
  REQUIRE(X509_CRL_sign(crl.get(), shared_root().key.native_handle(), EVP_sha256()) > 0);
  unsigned char* der = nullptr;
  int n = i2d_X509_CRL(crl.get(), &der);
  REQUIRE(n > 0);
  std::string out(reinterpret_cast<char*>(der), static_cast<size_t>(n));
  OPENSSL_free(der);
  return out;
}

std::string epoch(TimePoint t) { return std::to_string(t.time_since_epoch().count()); }

// The samples of one family by filepath.
std::map<std::string, ExpoSample> by_filepath(const ExpoFamily& f) {
  std::map<std::string, ExpoSample> out;
  for (const auto& s : f.samples) REQUIRE(out.emplace(s.labels.at("filepath"), s).second);
  return out;
}

const std::vector<std::string> kLabelNames{"subject_CN", "issuer_CN", "serial_number", "filepath", "member", "role"};
const std::vector<std::string> kFamilies{"x509_cert_not_after", "x509_cert_not_before", "x509_cert_expired", "x509_crl_next_update"};

}  // namespace

TEST_CASE("scan_expiry: not_before, serial, subject and issuer CN, member", "[expiry]") {
  Pki pki;
  const auto& d = pki.dir;
  ExpiryReport r = scan_expiry({d.path()}, Seconds(30 * kDay), fixed_now());
  const ExpiryEntry* ci = find_entry(r, d / "clients/ci.pem");
  const ExpiryEntry* server = find_entry(r, d / "etcd-1/server.pem");
  const ExpiryEntry* root = find_entry(r, d / "ca.pem");
  const ExpiryEntry* crl = find_entry(r, d / "ca-crl.pem");
  REQUIRE(ci);
  REQUIRE(server);
  REQUIRE(root);
  REQUIRE(crl);

  CHECK(ci->not_before == kNotBefore);
  CHECK(ci->serial == pki.ci.serial_decimal());
  CHECK(ci->serial.find_first_not_of("0123456789") == std::string::npos);
  CHECK(decimal_to_serial_hex(ci->serial) == normalize_serial_hex(pki.ci.serial_hex()));  // crl.cpp's own conversion back
  CHECK(ci->subject_cn == "ci");
  CHECK(ci->issuer_cn == "shared-test-root");
  CHECK(ci->member.empty());  // clients/ is no member folder
  CHECK(server->subject_cn == "etcd-1-server");
  CHECK(server->member == "etcd-1");  // its folder's etcd.env
  CHECK(find_entry(r, d / "etcd-1/peer.pem")->member == "etcd-1");
  CHECK(root->member.empty());  // the first file holding it is D/ca.pem
  CHECK(root->subject_cn == "shared-test-root");
  CHECK(root->issuer_cn == "shared-test-root");
  CHECK(root->not_before == shared_root().cert.not_before());

  CHECK(crl->not_before == fixed_now());  // thisUpdate
  CHECK(crl->serial.empty());
  CHECK(crl->subject_cn.empty());
  CHECK(crl->issuer_cn == "shared-test-root");
  CHECK(crl->member.empty());
  CHECK(find_entry(r, d / "etcd-2/ca.pem") == nullptr);  // a copy: etcd-2 (no config either) has no entry

  // A file given by itself.
  ExpiryReport alone = scan_expiry({d / "etcd-1/server.pem"}, Seconds(30 * kDay), fixed_now());
  REQUIRE(alone.entries.size() == 1);
  CHECK(alone.entries[0].member == "etcd-1");

  // Installed on its host, the folder's name says nothing: the config's name is the member.
  TempDir host;
  spit(host / "etc/etcd/pki/server.pem", pki.server.to_pem());
  spit(host / "etc/etcd/pki/ca.pem", shared_root().cert.to_pem());
  spit(host / "etc/etcd/pki/etcd.conf.yml", "name: 'etcd-7'\ndata-dir: /var/lib/etcd\n");  // YAML when there is no etcd.env
  ExpiryReport installed = scan_expiry({host / "etc/etcd/pki"}, Seconds(30 * kDay), fixed_now());
  REQUIRE(installed.entries.size() == 2);
  for (const auto& e : installed.entries) CHECK(e.member == (e.role == "ca" ? "" : "etcd-7"));  // the CA is the cluster's
  // kubeadm's MEMBER/etcd/ folder, and a cfssl member named "etcd" (its folder is named etcd too).
  spit(host / "k/m1/etcd.env", "ETCD_NAME=m1\n");
  spit(host / "k/m1/etcd/server.crt", pki.server.to_pem());
  spit(host / "c/etcd/etcd.env", "ETCD_NAME=etcd\n");
  spit(host / "c/etcd/peer.pem", pki.peer.to_pem());
  spit(host / "none/server.pem", pki.ci.to_pem());  // a folder without a config
  for (auto [path, member] : {std::pair{host / "k", "m1"}, {host / "c", "etcd"}, {host / "none", ""}}) {
    INFO(path);
    ExpiryReport one = scan_expiry({path}, Seconds(30 * kDay), fixed_now());
    REQUIRE(one.entries.size() == 1);
    CHECK(one.entries[0].member == member);
  }
}

TEST_CASE("render_prometheus: a build_cluster output, one series per certificate, member and role labels", "[expiry]") {
  for (Layout layout : {Layout::cfssl, Layout::kubeadm}) {
    const bool kubeadm = layout == Layout::kubeadm;
    INFO((kubeadm ? "kubeadm" : "cfssl"));
    SeedPki pki(layout);
    ExpiryReport r = scan_expiry({pki.out}, Seconds(30 * kDay), fixed_now());
    std::vector<std::string> order;
    auto families = parse_exposition(render_prometheus(r), &order);
    CHECK(order == kFamilies);
    for (const auto& [name, f] : families) {
      INFO(name);
      CHECK(f.type == "gauge");
      CHECK_FALSE(f.help.empty());
      for (const auto& s : f.samples) CHECK(s.label_order == kLabelNames);
    }

    // One series per distinct certificate (the CA once, not once per member folder): CA, root,
    // per member server and peer (kubeadm: and its two client certificates).
    const size_t certs = kubeadm ? 2 + 3 * 4 : 2 + 3 * 2;
    size_t cert_entries = static_cast<size_t>(std::count_if(r.entries.begin(), r.entries.end(), [](auto& e) { return e.role != "crl"; }));
    CHECK(cert_entries == certs);
    for (const char* name : {"x509_cert_not_after", "x509_cert_not_before", "x509_cert_expired"}) {
      INFO(name);
      const auto& samples = families.at(name).samples;
      CHECK(samples.size() == certs);
      CHECK(by_filepath(families.at(name)).size() == certs);  // distinct series
      for (size_t i = 0; i < samples.size(); ++i) {
        CHECK(samples[i].labels == families.at("x509_cert_not_after").samples[i].labels);  // the same series, the same order
        if (i) CHECK(samples[i - 1].labels.at("filepath") < samples[i].labels.at("filepath"));  // sorted
      }
    }
    for (const auto& s : families.at("x509_cert_expired").samples) CHECK(s.value == "0");

    // A member's server certificate.
    std::string server_path = kubeadm ? pki / "etcd-2/etcd/server.crt" : pki / "etcd-2/server.pem";
    Certificate server = cert_at(server_path);
    const std::string ca_path = find_cluster_ca(pki.out)->cert;
    auto not_after = by_filepath(families.at("x509_cert_not_after"));
    REQUIRE(not_after.count(server_path));
    const ExpoSample& s = not_after.at(server_path);
    CHECK(s.labels.at("subject_CN") == "etcd-2");
    CHECK(s.labels.at("issuer_CN") == cert_at(ca_path).subject().common_name);
    CHECK(decimal_to_serial_hex(s.labels.at("serial_number")) == normalize_serial_hex(server.serial_hex()));
    CHECK(s.labels.at("member") == "etcd-2");
    CHECK(s.labels.at("role") == "server");
    CHECK(s.value == epoch(server.not_after()));
    CHECK(by_filepath(families.at("x509_cert_not_before")).at(server_path).value == epoch(server.not_before()));

    std::string peer_path = kubeadm ? pki / "etcd-3/etcd/peer.crt" : pki / "etcd-3/peer.pem";
    REQUIRE(not_after.count(peer_path));
    CHECK(not_after.at(peer_path).labels.at("member") == "etcd-3");
    CHECK(not_after.at(peer_path).labels.at("role") == "peer");

    // The CA once, at its first file ca/; the client in clients/: no member.
    REQUIRE(not_after.count(ca_path));
    CHECK(not_after.at(ca_path).labels.at("member") == "");
    CHECK(not_after.at(ca_path).labels.at("role") == "ca");
    CHECK(not_after.at(ca_path).labels.at("subject_CN") == not_after.at(ca_path).labels.at("issuer_CN"));
    std::string root_path = kubeadm ? pki / "clients/root.crt" : pki / "clients/root.pem";
    REQUIRE(not_after.count(root_path));
    CHECK(not_after.at(root_path).labels.at("member") == "");
    CHECK(not_after.at(root_path).labels.at("role") == "client");
    CHECK(not_after.at(root_path).labels.at("subject_CN") == "root");
    std::set<std::string> members;
    for (const auto& [path, sample] : not_after) members.insert(sample.labels.at("member"));
    CHECK(members == std::set<std::string>{"", "etcd-1", "etcd-2", "etcd-3"});

    // The CA's CRL once (its copies in the member folders are the same CRL), at its nextUpdate.
    const auto& crls = families.at("x509_crl_next_update").samples;
    REQUIRE(crls.size() == 1);
    const ExpiryEntry* crl = nullptr;
    for (const auto& e : r.entries)
      if (e.role == "crl") crl = &e;
    REQUIRE(crl);
    CHECK_THAT(crl->file, StartsWith(pki / "ca/"));
    CHECK(crls[0].labels.at("filepath") == crl->file);
    CHECK(crls[0].labels.at("role") == "crl");
    CHECK(crls[0].labels.at("member") == "");
    CHECK(crls[0].labels.at("serial_number") == "");
    CHECK(crls[0].labels.at("subject_CN") == "");
    CHECK(crls[0].labels.at("issuer_CN") == cert_at(ca_path).subject().common_name);
    CHECK(crls[0].value == epoch(crl->expires));
    CHECK(crl->expires > fixed_now());
  }
}

TEST_CASE("render_prometheus: x509_cert_expired against the report's clock", "[expiry]") {
  TempDir d;
  Certificate c = leaf("short", kServer, Seconds(10 * kDay));
  spit(d / "etcd-1/server.pem", c.to_pem());
  spit(d / "ca.pem", shared_root().cert.to_pem());
  struct Case {
    TimePoint now;
    std::string leaf_expired;
  };
  const Case cases[] = {
      {fixed_now(), "0"},
      {c.not_after(), "0"},  // notAfter is the last valid second (RFC 5280 4.1.2.5)
      {c.not_after() + Seconds(1), "1"},
      {c.not_after() + Seconds(365 * kDay), "1"},
  };
  for (const auto& k : cases) {
    INFO(format_rfc3339(k.now));
    auto families = parse_exposition(render_prometheus(scan_expiry({d.path()}, Seconds(kDay), k.now)));
    auto expired = by_filepath(families.at("x509_cert_expired"));
    CHECK(expired.at(d / "etcd-1/server.pem").value == k.leaf_expired);
    CHECK(expired.at(d / "ca.pem").value == "0");
    CHECK(families.count("x509_crl_next_update") == 0);  // no CRL: the family is left out
  }
  // Nothing found: nothing at all (an empty file is a valid textfile).
  TempDir empty;
  CHECK(render_prometheus(scan_expiry({empty.path()}, Seconds(kDay), fixed_now())).empty());
}

TEST_CASE("render_prometheus: escaped label values, chains and a CRL without nextUpdate", "[expiry]") {
  TempDir d;
  const std::string odd = d / "we\"ird\\dir\nname";  // a folder name with every character the format escapes
  Certificate quoted = leaf("say \"hi\" \\o/", kServer, Seconds(20 * kDay));
  spit(odd + "/etcd.pem", quoted.to_pem());
  spit(d / "chain.pem", leaf("chain-server", kServer).to_pem() + shared_root().cert.to_pem());
  spit(d / "old.crl", crl_without_next_update());

  ExpiryReport r = scan_expiry({d.path()}, Seconds(30 * kDay), fixed_now());
  const std::string text = render_prometheus(r);
  CHECK_THAT(text, Contains("subject_CN=\"say \\\"hi\\\" \\\\o/\""));
  CHECK_THAT(text, Contains("we\\\"ird\\\\dir\\nname/etcd.pem"));
  auto families = parse_exposition(text);
  auto not_after = by_filepath(families.at("x509_cert_not_after"));
  REQUIRE(not_after.count(odd + "/etcd.pem"));
  CHECK(not_after.at(odd + "/etcd.pem").labels.at("subject_CN") == "say \"hi\" \\o/");
  CHECK(not_after.at(odd + "/etcd.pem").value == epoch(quoted.not_after()));

  // Each certificate of a chain is its own series: FILE#1, FILE#2.
  REQUIRE(not_after.count(d / "chain.pem#1"));
  REQUIRE(not_after.count(d / "chain.pem#2"));
  CHECK(not_after.at(d / "chain.pem#1").labels.at("subject_CN") == "chain-server");
  CHECK(not_after.at(d / "chain.pem#2").labels.at("role") == "ca");
  CHECK(not_after.size() == 3);

  // A CRL that never goes stale: +Inf, so that nextUpdate - time() never alerts.
  const auto& crls = families.at("x509_crl_next_update").samples;
  REQUIRE(crls.size() == 1);
  CHECK(crls[0].labels.at("filepath") == d / "old.crl");
  CHECK(crls[0].value == "+Inf");
}
