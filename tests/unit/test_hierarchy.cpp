// CA hierarchies across the pipeline: make_intermediate_ca (init-ca --ca), the Signer's issuer
// chain (load_signer reading the chain from the CA file or its chain file), leaf files written as
// leaf + intermediates (issue, cluster, renew), the trust files of a cluster signed by an
// intermediate (root by default, TrustAnchor::issuer), and verify's chain rules. Fixed clock.
#include <filesystem>
#include <string>
#include <vector>

#include "support.hpp"

using namespace test;
namespace fs = std::filesystem;

namespace {

const TimePoint kNow = fixed_now();

Request ca_request(const std::string& cn, std::optional<int> pathlen = std::nullopt) {
  Request r;
  r.subject.common_name = cn;
  r.key = KeySpec{KeyAlgo::ecdsa, 256};
  if (pathlen) {
    r.ca = CaOptions{};
    r.ca->pathlen = *pathlen;
  }
  return r;
}

int count_certs(const std::string& pem) {
  int n = 0;
  for (size_t at = 0; (at = pem.find("-----BEGIN CERTIFICATE-----", at)) != std::string::npos; ++at) ++n;
  return n;
}

// A root (its own, not the shared one: the tests write it to disk) and an intermediate under it.
struct Hierarchy {
  Ca root = make_root(KeySpec{KeyAlgo::ecdsa, 256}, "hier-root");
  Bundle inter = make_intermediate_ca(ca_request("hier-intermediate"), root.signer(), at_time(kNow), "int.json");
  Signer signer() const {
    Signer s(*inter.certificate, *inter.key);
    s.set_issuers({root.cert});
    return s;
  }
};

// The hierarchy on disk as init-ca writes it: root/ca.pem, int/ca.pem, ca-key.pem, ca-chain.pem.
struct OnDisk {
  TempDir tmp;
  Hierarchy h;
  OnDisk() {
    spit(tmp / "root/ca.pem", h.root.cert.to_pem());
    spit(tmp / "root/ca-key.pem", h.root.key.to_pem());
    for (const auto& f : bundle_files(h.inter, tmp / "int", "ca")) spit(f.path, f.content);
  }
  std::string operator/(const std::string& rel) const { return tmp / rel; }
};

// build_cluster of three members and client "root", signed by the intermediate on disk.
ClusterResult build_with_intermediate(const OnDisk& d, const std::string& out, TrustAnchor trust = TrustAnchor::root) {
  ClusterSpec s;
  for (int i = 1; i <= 3; ++i) {
    MemberSpec m;
    m.name = "m" + std::to_string(i);
    m.ips = {"10.0.0." + std::to_string(i)};
    s.members.push_back(m);
  }
  s.clients = {{"root", "root"}};
  s.ca_cert_file = d / "int/ca.pem";
  s.ca_key_file = d / "int/ca-key.pem";
  ClusterOptions o;
  o.out_dir = out;
  o.now = kNow;
  o.trust = trust;
  return build_cluster(s, o);
}

VerifyOptions at_clock(const std::string& ca = {}, TimePoint now = kNow) {
  VerifyOptions o;
  o.now = now;
  o.ca_file = ca;
  return o;
}

std::vector<Finding> with_rule(const VerifyReport& r, const std::string& rule) {
  std::vector<Finding> out;
  for (const auto& f : r.findings)
    if (f.rule == rule) out.push_back(f);
  return out;
}

}  // namespace

TEST_CASE("make_intermediate_ca: a CA under the signer's, pathlen 0, no EKU, with its chain", "[hierarchy][pipeline]") {
  Hierarchy h;
  const Certificate& c = *h.inter.certificate;
  CHECK(c.is_ca());
  CHECK(c.path_len() == std::optional<int>(0));
  CHECK(c.ext_key_usage().empty());
  CHECK(c.key_usage() == std::optional<uint32_t>(ku::cert_sign | ku::crl_sign));
  CHECK_FALSE(c.self_signed());
  CHECK(c.signed_by(h.root.cert));
  CHECK(c.issuer_string() == h.root.cert.subject_string());
  REQUIRE(h.inter.issuers.size() == 1);
  CHECK(h.inter.issuers[0].sha256_fingerprint() == h.root.cert.sha256_fingerprint());

  // ca.pem alone; ca-chain.pem = intermediate then root.
  CfsslOutput pem = to_pem(h.inter);
  CHECK(count_certs(*pem.cert) == 1);
  REQUIRE(pem.chain.has_value());
  CHECK(*pem.chain == c.to_pem() + h.root.cert.to_pem());
  CHECK(to_cfssl_json(pem).find("chain") == std::string::npos);
  auto files = bundle_files(h.inter, "out", "ca");
  REQUIRE(files.size() == 4);
  CHECK(files[3].path == "out/ca-chain.pem");
  CHECK(files[3].mode == 0644u);
  CHECK(files[1].mode == 0600u);
  CHECK(verify_chain(c, h.root.cert, kNow, 0).ok == 1);
}

TEST_CASE("make_intermediate_ca: the request's pathlen, and the signer's pathlen enforced", "[hierarchy][pipeline]") {
  Ca root = make_root(KeySpec{KeyAlgo::ecdsa, 256}, "open-root");
  Bundle one = make_intermediate_ca(ca_request("level-1", 1), root.signer(), at_time(kNow));
  CHECK(one.certificate->path_len() == std::optional<int>(1));
  Signer level1(*one.certificate, *one.key);
  Bundle two = make_intermediate_ca(ca_request("level-2"), level1, at_time(kNow));
  CHECK(two.certificate->path_len() == std::optional<int>(0));
  Signer level2(*two.certificate, *two.key);
  Error e = catch_error([&] { make_intermediate_ca(ca_request("level-3"), level2, at_time(kNow), "deep.json"); });
  CHECK(e.category() == Errc::policy);
  CHECK_THAT(std::string(e.what()), Contains("pathlen 0"));
}

TEST_CASE("a leaf given as the CA is refused (Errc::ca) before anything is made", "[hierarchy][signer]") {
  OnDisk d;
  Bundle leaf = issue(ca_request("leaf"), d.h.signer(), profile_with({"digital signature", "server auth"}), at_time(kNow));
  spit(d / "leaf/leaf.pem", leaf.certificate->to_pem());
  spit(d / "leaf/leaf-key.pem", leaf.key->to_pem());
  Error e = catch_error([&] { load_signer(d / "leaf/leaf.pem", d / "leaf/leaf-key.pem"); });
  CHECK(e.category() == Errc::ca);
  CHECK_THAT(std::string(e.what()), Contains("not a CA certificate") && Contains("leaf/leaf.pem"));
  CHECK(catch_error([&] { Signer(*leaf.certificate, *leaf.key); }).category() == Errc::ca);
}

TEST_CASE("issue with an intermediate: the leaf file is leaf + intermediate, never the root", "[hierarchy][pipeline]") {
  Hierarchy h;
  Signer s = h.signer();
  REQUIRE(s.issuer_chain().size() == 2);
  CHECK(s.root().sha256_fingerprint() == h.root.cert.sha256_fingerprint());
  Bundle b = issue(ca_request("etcd-1"), s, profile_with({"digital signature", "server auth", "client auth"}), at_time(kNow));
  CfsslOutput pem = to_pem(b);
  CHECK(*pem.cert == b.certificate->to_pem() + h.inter.certificate->to_pem());
  CHECK_FALSE(pem.chain.has_value());
  std::vector<Certificate> in_file = Certificate::all_from_pem(*pem.cert);
  REQUIRE(in_file.size() == 2);
  VerifyResult server = verify_chain(in_file[0], h.root.cert, kNow, X509_PURPOSE_SSL_SERVER, {in_file[1]});
  CHECK(server.ok == 1);
  INFO(server.text());
  CHECK(verify_chain(in_file[0], h.root.cert, kNow, X509_PURPOSE_SSL_CLIENT, {in_file[1]}).ok == 1);
  CHECK(verify_chain(in_file[0], h.root.cert, kNow, X509_PURPOSE_SSL_SERVER).ok == 0);  // the intermediate is needed

  // Signed by the root itself: the file is the leaf alone, as before.
  Bundle direct = issue(ca_request("etcd-2"), h.root.signer(), profile_with({"digital signature", "server auth"}), at_time(kNow));
  CHECK(count_certs(*to_pem(direct).cert) == 1);
}

TEST_CASE("load_signer: the issuers from the chain file or from the CA file itself", "[hierarchy][pipeline]") {
  OnDisk d;
  Signer from_chain_file = load_signer(d / "int/ca.pem", d / "int/ca-key.pem");
  REQUIRE(from_chain_file.issuers().size() == 1);
  CHECK(from_chain_file.issuers()[0].sha256_fingerprint() == d.h.root.cert.sha256_fingerprint());

  spit(d / "bundle/ca.pem", d.h.inter.certificate->to_pem() + d.h.root.cert.to_pem());
  spit(d / "bundle/ca-key.pem", d.h.inter.key->to_pem());
  CHECK(load_signer(d / "bundle/ca.pem", d / "bundle/ca-key.pem").issuers().size() == 1);

  spit(d / "alone/ca.pem", d.h.inter.certificate->to_pem());
  spit(d / "alone/ca-key.pem", d.h.inter.key->to_pem());
  Signer alone = load_signer(d / "alone/ca.pem", d / "alone/ca-key.pem");
  CHECK(alone.issuers().empty());
  CHECK(alone.root().sha256_fingerprint() == d.h.inter.certificate->sha256_fingerprint());  // the top known

  SECTION("a chain file out of order") {
    spit(d / "int/ca-chain.pem", d.h.inter.certificate->to_pem() + d.h.inter.certificate->to_pem());
    Error e = catch_error([&] { load_signer(d / "int/ca.pem", d / "int/ca-key.pem"); });
    CHECK(e.category() == Errc::ca);
    CHECK_THAT(std::string(e.what()), Contains("ca-chain.pem") && Contains("out of order or incomplete"));
  }
  SECTION("a chain file of another CA") {
    spit(d / "int/ca-chain.pem", d.h.root.cert.to_pem());
    Error e = catch_error([&] { load_signer(d / "int/ca.pem", d / "int/ca-key.pem"); });
    CHECK(e.category() == Errc::ca);
    CHECK_THAT(std::string(e.what()), Contains("does not start with the CA certificate"));
  }
  SECTION("a leaf in the chain") {
    Bundle leaf = issue(ca_request("leaf"), d.h.root.signer(), profile_with({"digital signature"}), at_time(kNow));
    Signer s(*d.h.inter.certificate, *d.h.inter.key);
    CHECK(catch_error([&] { s.set_issuers({*leaf.certificate}); }).category() == Errc::ca);
  }
}

TEST_CASE("an intermediate whose EKU lacks client auth cannot sign etcd's certificates (etcd#16802)", "[hierarchy][signer]") {
  Ca root = make_root(KeySpec{KeyAlgo::ecdsa, 256}, "eku-root");
  Profile ip = profile_with({"cert sign", "crl sign", "server auth"}, Seconds(87600 * 3600), "intermediate");
  ip.ca.is_ca = true;
  KeyPair ikey = KeyPair::generate(KeySpec{KeyAlgo::ecdsa, 256});
  Request ireq = ca_request("server-only-intermediate");
  ireq.ca = CaOptions{};
  Certificate inter = root.signer().sign(Csr::create(ireq, ikey), ip, at_time(kNow)).certificate;
  Signer s(inter, ikey, "eku.pem");
  s.set_issuers({root.cert});
  Error e = catch_error(
      [&] { issue(ca_request("etcd-1"), s, profile_with({"digital signature", "server auth", "client auth"}), at_time(kNow)); });
  CHECK(e.category() == Errc::ca);
  CHECK_THAT(std::string(e.what()), Contains("eku.pem") && Contains("\"client auth\"") && Contains("16802"));
  CHECK_NOTHROW(issue(ca_request("web"), s, profile_with({"digital signature", "server auth"}), at_time(kNow)));
  // The root's own EKU is not checked (Go does not either).
  CHECK_NOTHROW(check_chain_allows({root.cert}, Usages{0, {eku::client_auth}}, "root"));
}

TEST_CASE("cluster signed by an intermediate: leaves carry it, members and clients trust the root", "[hierarchy][cluster][verify]") {
  OnDisk d;
  const std::string out = d / "pki";
  ClusterResult r = build_with_intermediate(d, out);
  CHECK(r.warnings.empty());
  const std::string root_pem = d.h.root.cert.to_pem(), int_pem = d.h.inter.certificate->to_pem();
  for (const char* m : {"m1", "m2", "m3"}) {
    INFO(m);
    CHECK(slurp(out + "/" + m + "/ca.pem") == root_pem);
    for (const char* f : {"/server.pem", "/peer.pem"}) {
      std::string text = slurp(out + "/" + m + f);
      CHECK(count_certs(text) == 2);
      CHECK(text.substr(text.size() - int_pem.size()) == int_pem);
    }
  }
  CHECK(slurp(out + "/clients/ca.pem") == root_pem);
  CHECK(count_certs(slurp(out + "/clients/root.pem")) == 2);
  CHECK_FALSE(fs::exists(out + "/ca"));

  // verify: against the root given, and finding it in the folder; no finding at all.
  for (const std::string& ca : {d / "root/ca.pem", std::string()}) {
    VerifyReport v = verify_path(out, at_clock(ca));
    INFO(render_text(v));
    CHECK(v.findings.empty());
    CHECK(v.checked.size() == 7);  // clients/ca.pem is a trust file, not a client
  }
  // The intermediate as the only trust: the members' files disagree with it.
  VerifyReport v = verify_path(out, at_clock(d / "int/ca.pem"));
  CHECK(with_rule(v, "ca-mismatch").size() == 4);  // m1..m3 and clients/ca.pem

  // renew keeps the chain in the file; find_renew_targets leaves clients/ca.pem alone.
  std::vector<RenewTarget> targets = find_renew_targets(out);
  CHECK(targets.size() == 7);
  for (const auto& t : targets) CHECK_FALSE(t.cert_path.ends_with("clients/ca.pem"));
  RenewOptions ro;
  ro.now = kNow + std::chrono::hours(1);
  renew({{out + "/m1/server.pem", out + "/m1/server-key.pem"}}, load_signer(d / "int/ca.pem", d / "int/ca-key.pem"), d / "int/ca.pem", ro);
  std::string renewed = slurp(out + "/m1/server.pem");
  CHECK(count_certs(renewed) == 2);
  CHECK(renewed.substr(renewed.size() - int_pem.size()) == int_pem);
  CHECK(verify_path(out, at_clock(d / "root/ca.pem", kNow + std::chrono::hours(1))).findings.empty());
}

TEST_CASE("cluster --trust issuer: the trust files hold the intermediate", "[hierarchy][cluster]") {
  OnDisk d;
  const std::string out = d / "pki";
  build_with_intermediate(d, out, TrustAnchor::issuer);
  CHECK(slurp(out + "/m1/ca.pem") == d.h.inter.certificate->to_pem());
  CHECK(slurp(out + "/clients/ca.pem") == d.h.inter.certificate->to_pem());
  VerifyReport v = verify_path(out, at_clock());
  INFO(render_text(v));
  CHECK(v.findings.empty());
}

TEST_CASE("verify: a leaf file without its intermediate, out of order, an expired intermediate", "[hierarchy][verify]") {
  OnDisk d;
  const std::string out = d / "pki";
  build_with_intermediate(d, out);
  const std::string root = d / "root/ca.pem";
  std::vector<Certificate> file = Certificate::all_from_pem(slurp(out + "/m1/server.pem"));
  REQUIRE(file.size() == 2);

  SECTION("incomplete: the intermediate left out") {
    spit(out + "/m1/server.pem", file[0].to_pem());
    VerifyReport v = verify_path(out, at_clock(root));
    INFO(render_text(v));
    REQUIRE(v.findings.size() == 1);
    const Finding& f = v.findings[0];
    CHECK(f.rule == "chain-incomplete");
    CHECK(f.severity == Severity::error);
    CHECK(f.file == "m1/server.pem");
    CHECK_THAT(f.message, Contains("CN=hier-intermediate") && Contains("append the intermediate"));
    CHECK_THAT(f.etcd_error, StartsWith("x509: certificate signed by unknown authority"));
  }
  SECTION("out of order: leaf, root, intermediate") {
    spit(out + "/m1/server.pem", file[0].to_pem() + d.h.root.cert.to_pem() + file[1].to_pem());
    VerifyReport v = verify_path(out, at_clock(root));
    INFO(render_text(v));
    REQUIRE(v.findings.size() == 1);
    CHECK(v.findings[0].rule == "chain-order");
    CHECK(v.findings[0].severity == Severity::warning);
    CHECK(v.exit_code() == 1);
  }
  SECTION("a leaf of another CA stays a plain chain error") {
    Ca other = make_root(KeySpec{KeyAlgo::ecdsa, 256}, "other-root");
    Bundle b = issue(ca_request("m1"), other.signer(), profile_with({"digital signature", "server auth", "client auth"}), at_time(kNow));
    spit(out + "/m1/server.pem", b.certificate->to_pem());
    spit(out + "/m1/server-key.pem", b.key->to_pem());
    VerifyReport v = verify_path(out, at_clock(root));
    INFO(render_text(v));
    CHECK(with_rule(v, "chain").size() == 1);
    CHECK(with_rule(v, "chain-incomplete").empty());
  }
  SECTION("the intermediate expired: named with its own date") {
    TimePoint later = d.h.inter.certificate->not_after() + std::chrono::hours(24);
    VerifyReport v = verify_path(out, at_clock(root, later));
    bool named = false;
    for (const auto& f : with_rule(v, "expired")) named |= f.message.find("intermediate CA CN=hier-intermediate") != std::string::npos;
    CHECK(named);
  }
}

TEST_CASE("expiry: an intermediate in a leaf file is listed with its own expiry", "[hierarchy][expiry]") {
  OnDisk d;
  const std::string out = d / "pki";
  build_with_intermediate(d, out);
  ExpiryReport r = scan_expiry({out + "/m1/server.pem", d / "int/ca-chain.pem"}, Seconds(30 * 86400), kNow);
  const ExpiryEntry* inter = nullptr;
  for (const auto& e : r.entries)
    if (e.subject_cn == "hier-intermediate") inter = &e;
  REQUIRE(inter != nullptr);
  CHECK(inter->role == "intermediate");
  CHECK(inter->expires == d.h.inter.certificate->not_after());
  CHECK(inter->file == out + "/m1/server.pem#2");
  CHECK(inter->copies == std::vector<std::string>{d / "int/ca-chain.pem#1"});
  CHECK_THAT(render_json(r), Contains("\"intermediate\""));
}

TEST_CASE("cluster spec: a client named ca is refused (clients/ca.pem is the trust file)", "[hierarchy][cluster]") {
  ClusterSpec s = ClusterSpec::from_initial_cluster("a=https://10.0.0.1:2380");
  s.clients = {{"ca", "ca"}};
  Error e = catch_error([&] { s.validate("spec.json"); });
  CHECK(e.category() == Errc::input);
  CHECK_THAT(std::string(e.what()), Contains("clients[0].name") && Contains("trust file"));
}

TEST_CASE("cluster re-run: a kept leaf file without its intermediate gets it, keys unchanged; the trust follows the chain",
          "[hierarchy][cluster]") {
  OnDisk d;
  const std::string out = d / "pki";
  fs::rename(d / "int/ca-chain.pem", d / "chain-aside.pem");  // the intermediate without its chain: it is the top known
  build_with_intermediate(d, out);
  const std::string int_pem = d.h.inter.certificate->to_pem();
  CHECK(slurp(out + "/m1/ca.pem") == int_pem);
  CHECK(count_certs(slurp(out + "/m1/server.pem")) == 2);  // leaf + the intermediate (not self-signed)
  const std::string key_before = slurp(out + "/m1/server-key.pem");
  const std::string leaf_before = Certificate::all_from_pem(slurp(out + "/m1/server.pem"))[0].to_pem();

  spit(out + "/m1/server.pem", leaf_before);  // as written before leaf files carried the chain

  fs::rename(d / "chain-aside.pem", d / "int/ca-chain.pem");
  ClusterResult r = build_with_intermediate(d, out);
  CHECK(r.issued.empty());
  CHECK(slurp(out + "/m1/ca.pem") == d.h.root.cert.to_pem());  // now the root
  CHECK(slurp(out + "/m1/server-key.pem") == key_before);
  CHECK(slurp(out + "/m1/server.pem") == leaf_before + int_pem);
  VerifyReport v = verify_path(out, at_clock(d / "root/ca.pem"));
  INFO(render_text(v));
  CHECK(v.findings.empty());

  // A third run writes nothing.
  CHECK(build_with_intermediate(d, out).written.empty());
}

TEST_CASE("inspect: every certificate of a chain file, in order", "[hierarchy][inspect]") {
  OnDisk d;
  InspectOptions io;
  io.now = kNow;
  std::vector<InspectedItem> items = inspect_file(d / "int/ca-chain.pem", io);
  REQUIRE(items.size() == 2);
  CHECK(items[0].kind == ItemKind::certificate);
  CHECK(items[1].kind == ItemKind::certificate);
  CHECK_THAT(items[0].json, Contains("hier-intermediate"));
  CHECK_THAT(items[1].json, Contains("hier-root"));
}
