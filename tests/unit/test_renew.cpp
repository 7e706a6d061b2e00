// renew.hpp (key_path_for_cert, find_renew_targets, renew) and replace_pair from bundle.hpp, on
// build_cluster output made at a fixed clock. The last case races a reader against replace_pair
// to check the pair switches at one instant, the way etcd re-reads its files on every handshake.
#include <openssl/evp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "support.hpp"

using namespace test;
namespace fs = std::filesystem;

namespace {

const TimePoint kNow = fixed_now();                       // 2025-03-10T12:34:29Z
const TimePoint kNotBefore = at("2025-03-10T12:29:00Z");  // of everything build_cluster made at kNow
constexpr Seconds kYear{8760LL * 3600};
constexpr Seconds kDay{24 * 3600};
const std::vector<std::string> kServerPeer{"digital signature", "server auth", "client auth"};



unsigned mode_of(const std::string& path) { return static_cast<unsigned>(fs::status(path).permissions()) & 0777u; }


std::string sha256_hex(const std::string& data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  REQUIRE(EVP_Digest(data.data(), data.size(), md, &n, EVP_sha256(), nullptr) == 1);
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned i = 0; i < n; ++i) out += hex[md[i] >> 4], out += hex[md[i] & 15];
  return out;
}

// Every entry under dir: content of files, target of symlinks, and permission bits.
std::map<std::string, std::string> snapshot(const std::string& dir) {
  std::map<std::string, std::string> out;
  for (auto& e : fs::recursive_directory_iterator(dir)) {
    std::string rel = e.path().lexically_relative(dir).string();  // fs::relative would resolve symlinks
    if (e.is_symlink()) {
      out[rel] = "-> " + fs::read_symlink(e.path()).string();
      continue;
    }
    out[rel + " mode"] = std::to_string(static_cast<unsigned>(e.status().permissions()) & 0777u);
    if (e.is_regular_file()) out[rel] = slurp(e.path().string());
  }
  return out;
}

bool any_store(const std::string& dir) {
  for (auto& e : fs::recursive_directory_iterator(dir))
    if (e.path().filename() == ".etcd-pki") return true;
  return false;
}

using Pki = SeedPki;

const std::vector<std::string> kLeaves{"clients/root.pem", "etcd-1/peer.pem", "etcd-1/server.pem", "etcd-2/peer.pem",
                                       "etcd-2/server.pem", "etcd-3/peer.pem", "etcd-3/server.pem"};

std::vector<std::string> cert_paths(const std::vector<RenewTarget>& targets, const std::string& base) {
  std::vector<std::string> out;
  for (const auto& t : targets) out.push_back(fs::path(t.cert_path).lexically_relative(base).string());
  return out;
}

RenewOptions renew_at(TimePoint now) {
  RenewOptions o;
  o.now = now;
  return o;
}

// notBefore of a certificate signed at `now`: rounded to the minute, minus the 5 minute backdate.
TimePoint signed_not_before(TimePoint now) {
  return std::chrono::floor<std::chrono::minutes>(now + Seconds(30)) - std::chrono::minutes(5);
}

struct Pair {
  std::string cert, key;
};

// n distinct ECDSA pairs ("pair-0", "pair-1", ...) from the shared test root.
std::vector<Pair> make_pairs(size_t n) {
  std::vector<Pair> out;
  for (size_t i = 0; i < n; ++i) {
    KeyPair key = KeyPair::generate(KeySpec{KeyAlgo::ecdsa, 256});
    Certificate c = shared_root()
                        .signer()
                        .sign(leaf_csr("pair-" + std::to_string(i), {"10.0.0.1"}, key), profile_with(kServerPeer), at_time(kNow))
                        .certificate;
    out.push_back({c.to_pem(), key.to_pem()});
  }
  return out;
}

void write_regular_pair(const TempDir& dir, const Pair& p, const std::string& name = "server") {
  spit(dir / (name + ".pem"), p.cert);
  fs::permissions(dir / (name + ".pem"), fs::perms(0644), fs::perm_options::replace);
  spit(dir / (name + "-key.pem"), p.key);
  fs::permissions(dir / (name + "-key.pem"), fs::perms(0600), fs::perm_options::replace);
}

std::string replace_with(const TempDir& dir, const Pair& p, const std::string& name = "server") {
  return replace_pair(OutputFile{dir / (name + ".pem"), p.cert, 0644, true}, OutputFile{dir / (name + "-key.pem"), p.key, 0600, true});
}

// The generation folders of a pair in DIR/.etcd-pki ("server.pem.000001-...").
std::set<std::string> generations(const std::string& dir, const std::string& pair = "server.pem") {
  std::set<std::string> out;
  for (auto& e : fs::directory_iterator(dir + "/.etcd-pki")) {
    std::string n = e.path().filename().string();
    if (n.rfind(pair + ".0", 0) == 0 && e.is_directory() && !e.is_symlink()) out.insert(n);
  }
  return out;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// key_path_for_cert and find_renew_targets
// ---------------------------------------------------------------------------------------------

TEST_CASE("renew: key_path_for_cert", "[renew]") {
  struct Case {
    const char* cert;
    const char* key;
  };
  const Case cases[] = {
      {"server.pem", "server-key.pem"},
      {"pki/etcd-1/peer.pem", "pki/etcd-1/peer-key.pem"},
      {"/etc/etcd/pki/etcd.pem", "/etc/etcd/pki/etcd-key.pem"},
      {"pki/etcd-1/etcd/server.crt", "pki/etcd-1/etcd/server.key"},
      {"/etc/kubernetes/pki/apiserver-etcd-client.crt", "/etc/kubernetes/pki/apiserver-etcd-client.key"},
      {"a.b/etcd.v2.pem", "a.b/etcd.v2-key.pem"},
  };
  for (const auto& c : cases) {
    INFO(c.cert);
    CHECK(key_path_for_cert(c.cert) == c.key);
  }
}

TEST_CASE("renew: find_renew_targets lists leaves with their keys, not CAs, copies or backups", "[renew]") {
  Pki pki;
  auto targets = find_renew_targets(pki.out);
  CHECK(cert_paths(targets, pki.out) == kLeaves);  // sorted; no ca/ca.pem, no member ca.pem copies
  for (const auto& t : targets) CHECK(t.key_path == key_path_for_cert(t.cert_path));

  auto member = find_renew_targets(pki / "etcd-2");
  CHECK(cert_paths(member, pki / "etcd-2") == std::vector<std::string>{"peer.pem", "server.pem"});

  // A certificate without its key, a CRL in PEM and a hidden file are not targets.
  spit(pki / "etcd-2/extra.pem", cert_at(pki / "etcd-2/server.pem").to_pem());
  spit(pki / "etcd-2/.hidden.pem", cert_at(pki / "etcd-2/server.pem").to_pem());
  spit(pki / "etcd-2/.hidden-key.pem", slurp(pki / "etcd-2/server-key.pem"));
  spit(pki / "etcd-2/ca-crl.pem", "-----BEGIN X509 CRL-----\nAAAA\n-----END X509 CRL-----\n");
  CHECK(cert_paths(find_renew_targets(pki.out), pki.out) == kLeaves);

  // After a renewal the previous pair sits in etcd-2/.etcd-pki: still the same targets.
  renew({member.back()}, pki.signer(), pki.ca_path(), renew_at(kNow + kDay));
  REQUIRE(fs::is_directory(pki / "etcd-2/.etcd-pki"));
  CHECK(cert_paths(find_renew_targets(pki.out), pki.out) == kLeaves);

  CHECK(catch_error([&] { find_renew_targets(pki / "nope"); }).category() == Errc::usage);
  CHECK(catch_error([&] { find_renew_targets(pki.ca_path()); }).category() == Errc::usage);
}

TEST_CASE("renew: find_renew_targets on a kubeadm layout", "[renew]") {
  Pki pki(Layout::kubeadm);
  std::vector<std::string> want{"clients/root.crt"};
  for (const char* m : {"etcd-1", "etcd-2", "etcd-3"})
    for (const char* f : {"/apiserver-etcd-client.crt", "/etcd/healthcheck-client.crt", "/etcd/peer.crt", "/etcd/server.crt"})
      want.push_back(std::string(m) + f);
  auto targets = find_renew_targets(pki.out);
  CHECK(cert_paths(targets, pki.out) == want);
  for (const auto& t : targets) CHECK_THAT(t.key_path, EndsWith(".key"));
}

// ---------------------------------------------------------------------------------------------
// renew
// ---------------------------------------------------------------------------------------------

TEST_CASE("renew: same names and usages, a new serial, key and validity", "[renew]") {
  Pki pki;
  auto targets = find_renew_targets(pki.out);
  REQUIRE(targets.size() == 7);
  const Certificate ca = cert_at(pki.ca_path());
  std::map<std::string, Certificate> old_cert;
  std::map<std::string, std::string> old_cert_pem, old_key_pem;
  for (const auto& t : targets) {
    old_cert.emplace(t.cert_path, cert_at(t.cert_path));
    old_cert_pem[t.cert_path] = slurp(t.cert_path);
    old_key_pem[t.cert_path] = slurp(t.key_path);
  }
  const std::string old_manifest = slurp(pki / "etcd-1/MANIFEST");
  const TimePoint now = kNow + 300 * kDay;  // 2026-01-04T12:34:29Z
  const TimePoint new_not_before = at("2026-01-04T12:29:00Z");
  REQUIRE(signed_not_before(now) == new_not_before);
  RenewOptions o = renew_at(now);

  SECTION("defaults: a new key and the old lifetime") {
    RenewResult r = renew(targets, pki.signer(), pki.ca_path(), o);
    CHECK(r.skipped.empty());
    CHECK(r.warnings.empty());
    REQUIRE(r.renewed.size() == targets.size());
    CaIndex index = CaIndex::load(CaIndex::path_for(pki.ca_path()));
    for (size_t i = 0; i < targets.size(); ++i) {
      const RenewedCert& rc = r.renewed[i];
      const std::string& path = targets[i].cert_path;
      INFO(path);
      CHECK(rc.cert_path == path);
      const Certificate& before = old_cert.at(path);
      Certificate after = cert_at(path);
      KeyPair key = key_at(targets[i].key_path);
      CHECK(rc.old_serial == before.serial_hex());
      CHECK(rc.new_serial == after.serial_hex());
      CHECK(rc.new_serial != rc.old_serial);
      CHECK(after.subject() == before.subject());
      CHECK(after.sans() == before.sans());
      CHECK(after.key_usage() == before.key_usage());
      CHECK(after.ext_key_usage() == before.ext_key_usage());
      CHECK(after.is_ca() == false);
      CHECK(after.public_key().spec() == before.public_key().spec());
      CHECK_FALSE(after.public_key().same_public_key(before.public_key()));
      CHECK(key.same_public_key(after.public_key()));
      CHECK(after.signed_by(ca));
      CHECK(after.not_before() == new_not_before);
      CHECK(after.not_after() == new_not_before + kYear);
      CHECK(rc.not_after == after.not_after());
      CHECK(mode_of(path) == 0644u);
      CHECK(mode_of(targets[i].key_path) == 0600u);
      // The previous pair, byte for byte, in the backup folder.
      CHECK(slurp(rc.backup + "/" + fs::path(path).filename().string()) == old_cert_pem.at(path));
      CHECK(slurp(rc.backup + "/" + fs::path(targets[i].key_path).filename().string()) == old_key_pem.at(path));
      // The CA's index knows the new serial (and still the old one).
      const IndexEntry* e = index.find(normalize_serial_hex(rc.new_serial));
      REQUIRE(e != nullptr);
      CHECK(e->status == 'V');
      CHECK(e->not_after == after.not_after());
      CHECK(index.find(normalize_serial_hex(rc.old_serial)) != nullptr);
    }
    // The member's MANIFEST names the new files.
    const std::string manifest = slurp(pki / "etcd-1/MANIFEST");
    CHECK_THAT(manifest, Contains("server.pem  sha256:" + sha256_hex(slurp(pki / "etcd-1/server.pem"))));
    CHECK_THAT(manifest, Contains("server-key.pem  sha256:" + sha256_hex(slurp(pki / "etcd-1/server-key.pem"))));
    CHECK_THAT(manifest, Contains("peer.pem  sha256:" + sha256_hex(slurp(pki / "etcd-1/peer.pem"))));
    CHECK_THAT(manifest, !Contains(sha256_hex(old_cert_pem.at(pki / "etcd-1/server.pem"))));
    CHECK_THAT(manifest, Contains("ca.pem  sha256:" + sha256_hex(slurp(pki / "etcd-1/ca.pem"))));
    CHECK(manifest != old_manifest);
    // And the renewed output verifies clean, through the symlinks.
    VerifyOptions vo;
    vo.now = now;
    VerifyReport vr = verify_path(pki.out, vo);
    INFO(render_text(vr));
    CHECK(vr.findings.empty());
    CHECK(vr.checked == kLeaves);  // the paths etcd is configured with, not the generation behind them
  }

  SECTION("reuse_key keeps the public key") {
    o.reuse_key = true;
    RenewResult r = renew(targets, pki.signer(), pki.ca_path(), o);
    REQUIRE(r.renewed.size() == targets.size());
    for (const auto& t : targets) {
      INFO(t.cert_path);
      Certificate after = cert_at(t.cert_path);
      CHECK(after.public_key().same_public_key(old_cert.at(t.cert_path).public_key()));
      CHECK(after.serial_hex() != old_cert.at(t.cert_path).serial_hex());
      CHECK(key_at(t.key_path).same_public_key(after.public_key()));
      CHECK(after.not_after() == new_not_before + kYear);
    }
  }

  SECTION("expiry sets the new lifetime") {
    o.expiry = 30 * kDay;
    RenewResult r = renew(targets, pki.signer(), pki.ca_path(), o);
    REQUIRE(r.renewed.size() == targets.size());
    CHECK(r.warnings.empty());
    for (const auto& rc : r.renewed) {
      INFO(rc.cert_path);
      CHECK(cert_at(rc.cert_path).not_after() == new_not_before + 30 * kDay);
      CHECK(rc.not_after == new_not_before + 30 * kDay);
    }
  }

  SECTION("a lifetime beyond the CA is capped at its notAfter, with a warning") {
    o.expiry = 20 * kYear;
    RenewResult r = renew(targets, pki.signer(), pki.ca_path(), o);
    REQUIRE(r.renewed.size() == targets.size());
    for (const auto& rc : r.renewed) CHECK(cert_at(rc.cert_path).not_after() == ca.not_after());
    REQUIRE(r.warnings.size() == targets.size());
    for (size_t i = 0; i < targets.size(); ++i) {
      CHECK_THAT(r.warnings[i], StartsWith(targets[i].cert_path + ": ") && Contains("capped at the CA's notAfter"));
    }
  }

  SECTION("the old lifetime is kept, not the default year") {
    // A second renewal of a 30-day certificate gives 30 days again.
    o.expiry = 30 * kDay;
    renew(targets, pki.signer(), pki.ca_path(), o);
    const TimePoint later = now + 20 * kDay;
    RenewResult r = renew(targets, pki.signer(), pki.ca_path(), renew_at(later));
    for (const auto& rc : r.renewed) CHECK(cert_at(rc.cert_path).not_after() == signed_not_before(later) + 30 * kDay);
  }
}

TEST_CASE("renew: within renews only what is due", "[renew]") {
  Pki pki;
  auto targets = find_renew_targets(pki.out);
  const std::string early = pki / "etcd-1/server.pem";

  // Nothing is due 10 days after issue: nothing changes.
  auto before = snapshot(pki.out);
  RenewOptions none = renew_at(kNow + 10 * kDay);
  none.within = 30 * kDay;
  RenewResult r0 = renew(targets, pki.signer(), pki.ca_path(), none);
  CHECK(r0.renewed.empty());
  CHECK(r0.skipped.size() == targets.size());
  CHECK(snapshot(pki.out) == before);

  // etcd-1/server.pem renewed early; at day 340 the others are due and it is not.
  std::vector<RenewTarget> one;
  for (const auto& t : targets)
    if (t.cert_path == early) one.push_back(t);
  REQUIRE(one.size() == 1);
  renew(one, pki.signer(), pki.ca_path(), renew_at(kNow + 200 * kDay));
  const std::string early_pem = slurp(early);

  RenewOptions due = renew_at(kNow + 340 * kDay);
  due.within = 30 * kDay;
  RenewResult r = renew(targets, pki.signer(), pki.ca_path(), due);
  CHECK(r.skipped == std::vector<std::string>{early});
  CHECK(r.renewed.size() == targets.size() - 1);
  for (const auto& rc : r.renewed) CHECK(rc.cert_path != early);
  CHECK(slurp(early) == early_pem);
  CHECK(r.warnings.empty());
}

TEST_CASE("renew: a revoked certificate is not renewed", "[renew]") {
  Pki pki;
  auto targets = find_renew_targets(pki.out);
  const std::string victim_path = pki / "etcd-2/peer.pem";
  Certificate victim = cert_at(victim_path);
  update_ca_index(CaIndex::path_for(pki.ca_path()), [&](CaIndex& index) {
    index.revoke(normalize_serial_hex(victim.serial_hex()), kNow, RevocationReason::key_compromise, victim);
  });
  const std::string victim_pem = slurp(victim_path), victim_key = slurp(pki / "etcd-2/peer-key.pem");

  RenewResult r = renew(targets, pki.signer(), pki.ca_path(), renew_at(kNow + kDay));
  CHECK(r.skipped == std::vector<std::string>{victim_path});
  REQUIRE(r.warnings.size() == 1);
  CHECK_THAT(r.warnings[0], StartsWith(victim_path + ": revoked on " + format_rfc3339(kNow)) && Contains("not renewed"));
  CHECK(r.renewed.size() == targets.size() - 1);
  CHECK(slurp(victim_path) == victim_pem);
  CHECK(slurp(pki / "etcd-2/peer-key.pem") == victim_key);
  CHECK_FALSE(fs::is_symlink(victim_path));
  const CaIndex index = CaIndex::load(CaIndex::path_for(pki.ca_path()));
  const IndexEntry* e = index.find(normalize_serial_hex(victim.serial_hex()));
  REQUIRE(e != nullptr);
  CHECK(e->status == 'R');
}

TEST_CASE("renew: a malformed index stops it before anything changes; one that cannot be written is a warning", "[renew]") {
  SECTION("a malformed index: nothing renewed (a revoked certificate would be)") {
    Pki pki;
    auto targets = find_renew_targets(pki.out);
    const std::string index_path = CaIndex::path_for(pki.ca_path());
    spit(index_path, "garbage\n");
    std::map<std::string, std::string> before;
    for (const auto& t : targets) before[t.cert_path] = slurp(t.cert_path);
    try {
      renew(targets, pki.signer(), pki.ca_path(), renew_at(kNow + kDay));
      FAIL("renewed with a malformed index");
    } catch (const Error& e) {
      CHECK(e.source() == index_path);
    }
    for (const auto& t : targets) CHECK(slurp(t.cert_path) == before.at(t.cert_path));
    CHECK(slurp(index_path) == "garbage\n");
  }
  SECTION("a CA folder that cannot be written: renewed, not recorded") {
    if (::geteuid() == 0) {
      WARN("running as root: a read-only folder is still writable; skipped");
      return;
    }
    Pki pki;
    auto targets = find_renew_targets(pki.out);
    const std::string ca_dir = fs::path(pki.ca_path()).parent_path().string();
    const std::string index_before = slurp(CaIndex::path_for(pki.ca_path()));
    fs::permissions(ca_dir, fs::perms::owner_read | fs::perms::owner_exec);
    RenewResult r = renew(targets, pki.signer(), pki.ca_path(), renew_at(kNow + kDay));
    fs::permissions(ca_dir, fs::perms::owner_all);
    CHECK(r.renewed.size() == targets.size());
    REQUIRE(r.warnings.size() == 1);
    CHECK_THAT(r.warnings[0], StartsWith("the renewed certificates are not recorded in the CA index: "));
    CHECK(slurp(CaIndex::path_for(pki.ca_path())) == index_before);
  }
}

TEST_CASE("renew: refusals come before any change", "[renew]") {
  struct Case {
    const char* name;
    std::function<void(const Pki&)> breakage;
    TimePoint now;
    Errc category;
    std::string source;  // relative to the output folder
    const char* message;
  };
  const TimePoint ca_end = kNotBefore + 10 * kYear;
  const Case cases[] = {
      {"keys swapped between members",
       [](const Pki& p) {
         std::string k1 = slurp(p / "etcd-1/server-key.pem"), k2 = slurp(p / "etcd-2/server-key.pem");
         spit(p / "etcd-1/server-key.pem", k2);
         spit(p / "etcd-2/server-key.pem", k1);
       },
       kNow + kDay, Errc::key, "etcd-1/server-key.pem", "does not match"},
      {"a client certificate from another CA",
       [](const Pki& p) {
         KeyPair key = key_at(p / "clients/root-key.pem");
         spit(p / "clients/root.pem", shared_root()
                                          .signer()
                                          .sign(leaf_csr("root", {}, key), profile_with({"digital signature", "client auth"}), at_time(kNow))
                                          .certificate.to_pem());
       },
       kNow + kDay, Errc::ca, "clients/root.pem", "was not issued by"},
      {"the CA has expired", [](const Pki&) {}, ca_end + kDay, Errc::ca, "ca/ca.pem", "expired"},
  };
  for (const auto& c : cases) {
    INFO(c.name);
    Pki pki;
    auto targets = find_renew_targets(pki.out);
    c.breakage(pki);
    auto before = snapshot(pki.out);
    Error e = catch_error([&] { renew(targets, pki.signer(), pki.ca_path(), renew_at(c.now)); });
    CHECK(e.category() == c.category);
    CHECK(e.source() == pki / c.source);
    CHECK_THAT(e.message(), Contains(c.message));
    CHECK(snapshot(pki.out) == before);
    CHECK_FALSE(any_store(pki.out));
  }
}

// ---------------------------------------------------------------------------------------------
// replace_pair
// ---------------------------------------------------------------------------------------------

TEST_CASE("replace_pair: symlinks into generations, modes, backups, two generations kept", "[renew]") {
  TempDir dir;
  auto p = make_pairs(4);
  write_regular_pair(dir, p[0]);
  const std::string cert = dir / "server.pem", key = dir / "server-key.pem", store = dir / ".etcd-pki";

  std::string b1 = replace_with(dir, p[1]);
  CHECK(fs::is_symlink(cert));
  CHECK(fs::is_symlink(key));
  CHECK(fs::read_symlink(cert) == ".etcd-pki/server.pem.current/server.pem");
  CHECK(fs::read_symlink(key) == ".etcd-pki/server.pem.current/server-key.pem");
  CHECK(fs::is_symlink(store + "/server.pem.current"));
  CHECK(slurp(cert) == p[1].cert);
  CHECK(slurp(key) == p[1].key);
  CHECK(mode_of(cert) == 0644u);
  CHECK(mode_of(key) == 0600u);
  CHECK(mode_of(store) == 0700u);
  CHECK_THAT(b1, StartsWith(store + "/server.pem.000001-"));
  CHECK(slurp(b1 + "/server.pem") == p[0].cert);
  CHECK(slurp(b1 + "/server-key.pem") == p[0].key);
  CHECK(mode_of(b1 + "/server-key.pem") == 0600u);
  CHECK(mode_of(b1) == 0700u);
  const std::string current1 = fs::read_symlink(store + "/server.pem.current").string();
  CHECK(mode_of(store + "/" + current1) == 0700u);
  CHECK(generations(dir.path()) == std::set<std::string>{fs::path(b1).filename().string(), current1});

  std::string b2 = replace_with(dir, p[2]);
  CHECK(b2 == store + "/" + current1);
  CHECK(slurp(b2 + "/server.pem") == p[1].cert);
  CHECK(slurp(b2 + "/server-key.pem") == p[1].key);
  CHECK(slurp(cert) == p[2].cert);
  CHECK(generations(dir.path()).size() == 2);

  std::string b3 = replace_with(dir, p[3]);
  CHECK(slurp(b3 + "/server.pem") == p[2].cert);
  CHECK(slurp(b3 + "/server-key.pem") == p[2].key);
  CHECK(slurp(cert) == p[3].cert);
  CHECK(slurp(key) == p[3].key);
  const std::string current3 = fs::read_symlink(store + "/server.pem.current").string();
  CHECK(generations(dir.path()) == std::set<std::string>{fs::path(b3).filename().string(), current3});
  CHECK_FALSE(fs::exists(b1));
  CHECK_FALSE(fs::exists(b2));

  // Another pair in the same folder has generations of its own.
  write_regular_pair(dir, p[0], "peer");
  std::string pb = replace_with(dir, p[1], "peer");
  CHECK_THAT(pb, StartsWith(store + "/peer.pem.000001-"));
  CHECK(slurp(dir / "peer.pem") == p[1].cert);
  CHECK(generations(dir.path()) == std::set<std::string>{fs::path(b3).filename().string(), current3});
  CHECK(generations(dir.path(), "peer.pem").size() == 2);
}

TEST_CASE("replace_pair: refusals leave everything as it was", "[renew]") {
  auto p = make_pairs(2);
  struct Case {
    const char* name;
    std::function<void(const TempDir&)> setup;
    std::string cert, key;  // relative
    Errc category;
    std::string source;
    const char* message;
  };
  const Case cases[] = {
      {"a symlink at the certificate path that etcd-pki did not make",
       [&](const TempDir& d) {
         write_regular_pair(d, p[0]);
         fs::rename(d / "server.pem", d / "elsewhere.pem");
         fs::create_symlink("elsewhere.pem", d / "server.pem");
       },
       "server.pem", "server-key.pem", Errc::io, "server.pem", "symlink that etcd-pki did not make"},
      {"a symlink at the key path that etcd-pki did not make",
       [&](const TempDir& d) {
         write_regular_pair(d, p[0]);
         fs::rename(d / "server-key.pem", d / "elsewhere-key.pem");
         fs::create_symlink(d / "elsewhere-key.pem", d / "server-key.pem");
       },
       "server.pem", "server-key.pem", Errc::io, "server-key.pem", "symlink that etcd-pki did not make"},
      {"the key in another folder",
       [&](const TempDir& d) {
         write_regular_pair(d, p[0]);
         fs::create_directory(d / "keys");
         fs::rename(d / "server-key.pem", d / "keys/server-key.pem");
       },
       "server.pem", "keys/server-key.pem", Errc::usage, "keys/server-key.pem", "in the certificate's folder"},
      {"no certificate yet", [&](const TempDir& d) { spit(d / "server-key.pem", p[0].key); }, "server.pem", "server-key.pem",
       Errc::io, "server.pem", "cannot renew"},
  };
  for (const auto& c : cases) {
    INFO(c.name);
    TempDir dir;
    c.setup(dir);
    auto before = snapshot(dir.path());
    Error e = catch_error(
        [&] { replace_pair(OutputFile{dir / c.cert, p[1].cert, 0644, true}, OutputFile{dir / c.key, p[1].key, 0600, true}); });
    CHECK(e.category() == c.category);
    CHECK(e.source() == dir / c.source);
    CHECK_THAT(e.message(), Contains(c.message));
    CHECK(snapshot(dir.path()) == before);
    CHECK_FALSE(fs::exists(dir / ".etcd-pki"));
  }
}

// The property etcd needs. etcd (Go's tls.LoadX509KeyPair, on every handshake) reads the
// certificate file, then the key file. replace_pair switches both with one rename of
// .etcd-pki/NAME.current, so the generation a reader sees can only move forward between two reads.
// The writer installs a sequence of distinct pairs P1..P200 (not an A/B alternation: with A, B, A
// a reader may legally see cert A, key B, cert A across two flips, and "which is newer" is
// undefined); the reader reads cert, key, cert and checks:
//  1. index(key) >= index(first cert): never a new certificate with an old key;
//  2. index(second cert) >= index(key): never a new key followed by an older certificate;
//  3. when both cert reads are the same pair, the key read between them is that pair's key.
// Against plain renames of two regular files these fail: renaming the key first and then the
// certificate lets a reader read the old cert, the new key, and the old cert again (3 and 2 fail);
// renaming the certificate first gives a new cert with the old key (1 fails). A reader can still
// see an old cert and a new key (cert read just before the flip, key just after); that is counted,
// not refused, and etcd's next handshake reads a matching pair.
TEST_CASE("replace_pair: concurrent readers never see a new certificate with an old key", "[renew]") {
  constexpr int kSwaps = 200;
  const std::vector<Pair> pairs = make_pairs(kSwaps + 1);
  std::unordered_map<std::string, int> cert_index, key_index;
  for (int i = 0; i <= kSwaps; ++i) {
    cert_index[pairs[i].cert] = i;
    key_index[pairs[i].key] = i;
  }
  REQUIRE(cert_index.size() == pairs.size());
  REQUIRE(key_index.size() == pairs.size());

  TempDir dir;
  write_regular_pair(dir, pairs[0]);
  const std::string cert = dir / "server.pem", key = dir / "server-key.pem";

  struct Counts {
    long reads = 0, open_failures = 0, unknown = 0;
    long consistent = 0, mismatched = 0;           // same cert twice: key of that cert or not
    long new_cert_old_key = 0, old_cert_after_key = 0;
    long old_cert_new_key = 0;                     // allowed
    std::set<int> seen;
  } n;
  auto read_whole = [](const std::string& path) -> std::optional<std::string> {
    std::ifstream in(path, std::ios::binary);
    if (!in.is_open()) return std::nullopt;
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
  };
  auto index_of = [](const std::unordered_map<std::string, int>& m, const std::string& s) {
    auto it = m.find(s);
    return it == m.end() ? -1 : it->second;
  };
  std::atomic<bool> writer_done{false}, reader_started{false};
  std::thread reader([&] {
    for (;;) {
      bool last = writer_done.load();
      auto c1 = read_whole(cert);
      auto k = read_whole(key);
      auto c2 = read_whole(cert);
      ++n.reads;
      if (!c1 || !k || !c2) {
        ++n.open_failures;
      } else {
        int i1 = index_of(cert_index, *c1), ik = index_of(key_index, *k), i2 = index_of(cert_index, *c2);
        if (i1 < 0 || ik < 0 || i2 < 0) {
          ++n.unknown;  // a torn or half-written file
        } else {
          n.seen.insert(i1);
          if (ik < i1) ++n.new_cert_old_key;
          if (i2 < ik) ++n.old_cert_after_key;
          if (ik > i1) ++n.old_cert_new_key;
          if (i1 == i2) ++(ik == i1 ? n.consistent : n.mismatched);
        }
      }
      reader_started = true;
      if (last) break;
    }
  });
  while (!reader_started.load()) std::this_thread::yield();
  try {
    for (int i = 1; i <= kSwaps; ++i) replace_with(dir, pairs[i]);
  } catch (...) {
    writer_done = true;
    reader.join();
    throw;
  }
  writer_done = true;
  reader.join();

  INFO("reads " << n.reads << ", generations seen " << n.seen.size() << ", consistent " << n.consistent
                << ", old cert + new key " << n.old_cert_new_key << ", open failures " << n.open_failures);
  CHECK(n.unknown == 0);
  CHECK(n.new_cert_old_key == 0);
  CHECK(n.old_cert_after_key == 0);
  CHECK(n.mismatched == 0);
  CHECK(n.consistent > 0);
  CHECK(n.seen.count(0) == 1);       // the first reads came before the first swap
  CHECK(n.seen.count(kSwaps) == 1);  // the last after the last
  CHECK(slurp(cert) == pairs[kSwaps].cert);
  CHECK(slurp(key) == pairs[kSwaps].key);
  CHECK(generations(dir.path()).size() == 2);
}
