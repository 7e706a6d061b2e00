// expiry.hpp: guess_role, and scan_expiry over a temporary PKI folder made with the library's own
// Signer at a fixed clock (roles, sort order, copies, hidden folders, keys, CRLs and their own
// window), with the text and JSON renderings.
#include <algorithm>
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
//   D/etcd-1/peer.pem          90 days
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
