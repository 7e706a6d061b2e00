// rotate.hpp: rotate-ca's steps on build_cluster output made at a fixed clock: the step read from
// the files, refusals out of order, a finish cut off after its commit point and run again, cluster
// refusing a folder mid-rotation, a missing key stopping a step with nothing changed.
#include <filesystem>
#include <map>
#include <string>

#include "support.hpp"

using namespace test;
namespace fs = std::filesystem;

namespace {

const TimePoint kNow = fixed_now();
const TimePoint kLater = kNow + std::chrono::hours(1);

// Every entry under dir: content of files, target of symlinks.
std::map<std::string, std::string> snapshot(const std::string& dir) {
  std::map<std::string, std::string> out;
  for (auto& e : fs::recursive_directory_iterator(dir)) {
    std::string rel = e.path().lexically_relative(dir).string();
    if (e.is_symlink()) out[rel] = "-> " + fs::read_symlink(e.path()).string();
    else if (e.is_regular_file()) out[rel] = slurp(e.path().string());
    else out[rel] = "dir";
  }
  return out;
}

std::string make_cluster(const TempDir& tmp) {
  ClusterSpec spec = ClusterSpec::from_initial_cluster("m1=https://127.0.0.1:2380,m2=https://127.0.0.2:2380");
  spec.clients.push_back({"root", ""});
  ClusterOptions opt;
  opt.out_dir = tmp / "pki";
  opt.now = kNow;
  build_cluster(spec, opt);
  return opt.out_dir;
}

RotateOptions at_later(bool same_key = false) {
  RotateOptions o;
  o.now = kLater;
  o.same_key = same_key;
  return o;
}

// A one-member cluster whose CA key is encrypted with `passphrase`; its options (out_dir).
ClusterOptions encrypted_cluster(const TempDir& tmp, const std::string& passphrase) {
  ClusterOptions opt;
  opt.out_dir = tmp / "pki";
  opt.now = kNow;
  opt.ca_passphrase = Passphrase(passphrase);
  build_cluster(ClusterSpec::from_initial_cluster("m1=https://127.0.0.1:2380"), opt);
  return opt;
}

Certificate cert_of(const std::string& path) { return Certificate::all_from_pem(slurp(path), path).front(); }
size_t certs_in(const std::string& path) { return Certificate::all_from_pem(slurp(path), path).size(); }

}  // namespace

TEST_CASE("rotate-ca: each step as status reads it from the files, new key") {
  TempDir tmp;
  std::string pki = make_cluster(tmp);
  Certificate old_ca = cert_of(pki + "/ca/ca.pem");
  RotationStatus s = rotation_status(pki);
  CHECK(s.step == RotationStep::none);
  CHECK(s.leaves_old.size() == 5);  // m1, m2: server + peer; clients/root
  CHECK_THAT(s.next, Contains("rotate-ca begin"));

  RotateResult begun = rotate_begin(pki, at_later());
  CHECK_THAT(begun.next, Contains("restart each member, one at a time"));
  s = rotation_status(pki);
  CHECK(s.step == RotationStep::begun);
  CHECK_FALSE(s.same_key);
  CHECK(s.trust_both.size() == 3);  // m1, m2 and clients/ca.pem (made by begin)
  CHECK(s.trust_old.empty());
  CHECK(s.leaves_old.size() == 5);
  CHECK(certs_in(pki + "/m1/ca.pem") == 2);
  Certificate next_ca = cert_of(pki + "/ca.next/ca.pem");
  CHECK(next_ca.subject() == old_ca.subject());
  CHECK_FALSE(next_ca.public_key().same_public_key(old_ca.public_key()));
  CHECK(verify_path(pki, VerifyOptions{{}, {}, {}, {}, kLater, 1}).exit_code() == 0);

  rotate_reissue(pki, at_later());
  s = rotation_status(pki);
  CHECK(s.step == RotationStep::reissued);
  CHECK(s.leaves_new.size() == 5);
  CHECK(s.leaves_old.empty());

  RotateResult finished = rotate_finish(pki, at_later());
  s = rotation_status(pki);
  CHECK(s.step == RotationStep::none);
  REQUIRE(s.retired.size() == 1);
  CHECK(s.retired.front() == finished.retired);
  CHECK_FALSE(fs::exists(pki + "/ca.next"));
  CHECK(slurp(pki + "/ca/ca.pem") == next_ca.to_pem());
  CHECK(slurp(finished.retired + "/ca.pem") == old_ca.to_pem());
  CHECK(fs::exists(finished.retired + "/ca-key.pem"));
  for (const char* trust : {"/m1/ca.pem", "/m2/ca.pem", "/clients/ca.pem"}) CHECK(slurp(pki + trust) == next_ca.to_pem());
  CHECK(slurp(pki + "/m1/ca.crl") == slurp(pki + "/ca/ca.crl"));
  CHECK(cert_of(pki + "/m1/server.pem").signed_by(next_ca));
  CHECK_FALSE(cert_of(pki + "/m1/server.pem").signed_by(old_ca));
  CHECK(verify_path(pki, VerifyOptions{{}, {}, {}, {}, kLater, 1}).exit_code() == 0);
}

TEST_CASE("rotate-ca: steps out of order are refused, naming the next step") {
  TempDir tmp;
  std::string pki = make_cluster(tmp);
  auto before = snapshot(pki);
  Error e = catch_error([&] { rotate_reissue(pki, at_later()); });
  CHECK(e.category() == Errc::usage);
  CHECK_THAT(e.message(), Contains("no rotation is under way") && Contains("next: etcd-pki rotate-ca begin"));
  CHECK(catch_error([&] { rotate_finish(pki, at_later()); }).category() == Errc::usage);
  CHECK(snapshot(pki) == before);

  rotate_begin(pki, at_later());
  before = snapshot(pki);
  e = catch_error([&] { rotate_begin(pki, at_later()); });
  CHECK(e.category() == Errc::usage);
  CHECK_THAT(e.message(), Contains("then etcd-pki rotate-ca reissue"));
  e = catch_error([&] { rotate_finish(pki, at_later()); });
  CHECK(e.category() == Errc::usage);
  CHECK_THAT(e.message(), Contains("to re-issue with the new CA"));
  CHECK(snapshot(pki) == before);
}

TEST_CASE("rotate-ca --same-key: the old leaves chain to the renewed CA, reissue is optional") {
  TempDir tmp;
  std::string pki = make_cluster(tmp);
  Certificate old_ca = cert_of(pki + "/ca/ca.pem");
  Certificate old_client = cert_of(pki + "/clients/root.pem");
  RotateOptions o = at_later(true);
  o.expiry = Seconds{20LL * 8760 * 3600};
  rotate_begin(pki, o);
  RotationStatus s = rotation_status(pki);
  CHECK(s.same_key);
  CHECK(s.step == RotationStep::reissued);
  Certificate next_ca = cert_of(pki + "/ca.next/ca.pem");
  CHECK(next_ca.not_after() > old_ca.not_after());
  rotate_finish(pki, at_later());
  CHECK(rotation_status(pki).step == RotationStep::none);
  CHECK(old_client.signed_by(cert_of(pki + "/ca/ca.pem")));
  CHECK(verify_path(pki, VerifyOptions{{}, {}, {}, {}, kLater, 1}).exit_code() == 0);
}

TEST_CASE("rotate-ca: a finish cut off after its commit point is seen and completed by running it again") {
  TempDir tmp;
  std::string pki = make_cluster(tmp);
  rotate_begin(pki, at_later());
  rotate_reissue(pki, at_later());
  fs::copy(pki + "/ca.next", tmp / "ca.next.copy");
  rotate_finish(pki, at_later());
  // As if finish had been killed after its write, before removing ca.next/.
  fs::copy(tmp / "ca.next.copy", pki + "/ca.next");
  auto ca_before = snapshot(pki + "/ca");
  RotationStatus s = rotation_status(pki);
  CHECK(s.step == RotationStep::finish_interrupted);
  CHECK_THAT(s.next, Contains("rotate-ca finish"));
  CHECK(catch_error([&] { rotate_reissue(pki, at_later()); }).category() == Errc::usage);
  rotate_finish(pki, at_later());
  CHECK_FALSE(fs::exists(pki + "/ca.next"));
  CHECK(snapshot(pki + "/ca") == ca_before);
  CHECK(rotation_status(pki).step == RotationStep::none);
  CHECK(verify_path(pki, VerifyOptions{{}, {}, {}, {}, kLater, 1}).exit_code() == 0);
}

TEST_CASE("rotate-ca: cluster and renew's guard refuse a folder mid-rotation") {
  TempDir tmp;
  std::string pki = make_cluster(tmp);
  rotate_begin(pki, at_later());
  auto before = snapshot(pki);
  ClusterSpec spec = ClusterSpec::from_initial_cluster("m1=https://127.0.0.1:2380,m2=https://127.0.0.2:2380");
  ClusterOptions opt;
  opt.out_dir = pki;
  opt.now = kLater;
  Error e = catch_error([&] { build_cluster(spec, opt); });
  CHECK(e.category() == Errc::usage);
  CHECK_THAT(e.message(), Contains("a CA rotation is under way"));
  CHECK(catch_error([&] { refuse_mid_rotation(pki, "renew"); }).category() == Errc::usage);
  CHECK(snapshot(pki) == before);
}

TEST_CASE("rotate-ca: a leaf whose key is missing stops the step, nothing changed") {
  TempDir tmp;
  std::string pki = make_cluster(tmp);
  fs::rename(pki + "/m1/server-key.pem", tmp / "server-key.pem");
  auto before = snapshot(pki);
  Error e = catch_error([&] { rotate_begin(pki, at_later()); });
  CHECK(e.category() == Errc::input);
  CHECK_THAT(e.message(), Contains("m1/server-key.pem: key-missing") && Contains("changed nothing"));
  CHECK(snapshot(pki) == before);

  fs::rename(tmp / "server-key.pem", pki + "/m1/server-key.pem");
  rotate_begin(pki, at_later());
  fs::rename(pki + "/m2/peer-key.pem", tmp / "peer-key.pem");
  before = snapshot(pki);
  e = catch_error([&] { rotate_reissue(pki, at_later()); });
  CHECK(e.category() == Errc::input);
  CHECK_THAT(e.message(), Contains("m2/peer-key.pem: key-missing"));
  CHECK(snapshot(pki) == before);
}

TEST_CASE("rotate-ca begin: an encrypted CA key gets an encrypted successor, with the same passphrase") {
  TempDir tmp;
  ClusterOptions opt = encrypted_cluster(tmp, "s3cret");
  RotateOptions o = at_later();
  CHECK(catch_error([&] { rotate_begin(opt.out_dir, o); }).category() == Errc::key);
  o.passphrase = Passphrase("s3cret");
  rotate_begin(opt.out_dir, o);
  std::string key = slurp(opt.out_dir + "/ca.next/ca-key.pem");
  CHECK(KeyPair::is_encrypted_pem(key));
  CHECK_NOTHROW(KeyPair::from_pem(key, "", Passphrase("s3cret")));
  CHECK((fs::status(opt.out_dir + "/ca.next/ca-key.pem").permissions() & fs::perms::all) == (fs::perms::owner_read | fs::perms::owner_write));
}

TEST_CASE("rotate-ca begin: a passphrase typed at the prompt decrypts the old key and encrypts the new one, asked once") {
  TempDir tmp;
  ClusterOptions opt = encrypted_cluster(tmp, "typed");
  RotateOptions o = at_later();
  int asked = 0;
  o.passphrase = Passphrase::asking([&](const std::string&, bool confirm) {
    ++asked;
    CHECK_FALSE(confirm);
    return std::string("typed");
  });
  rotate_begin(opt.out_dir, o);
  CHECK(asked == 1);
  std::string key = slurp(opt.out_dir + "/ca.next/ca-key.pem");
  CHECK(KeyPair::is_encrypted_pem(key));  // not written in the clear because none was "given"
  CHECK_NOTHROW(KeyPair::from_pem(key, "", Passphrase("typed")));
}

TEST_CASE("rotate-ca begin --csr: the new CA takes the CSR's subject, key and expiry; the leaves are re-issued under it") {
  TempDir tmp;
  std::string pki = make_cluster(tmp);
  RotateOptions o = at_later();
  o.ca_request = Request::from_json(R"({"CN": "etcd-ca-2027", "names": [{"O": "ops"}], "key": {"algo": "rsa", "size": 2048},
                                        "ca": {"expiry": "17520h"}})",
                                    "ca2-csr.json");
  rotate_begin(pki, o);
  Certificate next = cert_of(pki + "/ca.next/ca.pem");
  CHECK(next.subject_string().find("CN=etcd-ca-2027") != std::string::npos);
  CHECK(next.public_key().spec() == KeySpec{KeyAlgo::rsa, 2048});
  CHECK(std::chrono::duration_cast<std::chrono::hours>(next.not_after() - next.not_before()).count() == 17520);
  RotationStatus s = rotation_status(pki);
  CHECK(s.step == RotationStep::begun);
  rotate_reissue(pki, at_later());
  s = rotation_status(pki);
  CHECK(s.step == RotationStep::reissued);
  CHECK(cert_of(pki + "/m1/server.pem").signed_by(next));
  rotate_finish(pki, at_later());
  CHECK(cert_of(pki + "/ca/ca.pem").to_pem() == next.to_pem());
  CHECK(verify_path(pki, VerifyOptions{{}, {}, {}, {}, kLater, 1}).exit_code() == 0);
}

TEST_CASE("rotate-ca: the kubeadm layout (ca.crt, etcd/ca.crt, clients/ca.crt)") {
  TempDir tmp;
  ClusterSpec spec = ClusterSpec::from_initial_cluster("m1=https://127.0.0.1:2380,m2=https://127.0.0.2:2380");
  ClusterOptions opt;
  opt.out_dir = tmp / "pki";
  opt.layout = Layout::kubeadm;
  opt.now = kNow;
  build_cluster(spec, opt);
  const std::string pki = opt.out_dir;
  rotate_begin(pki, at_later());
  CHECK(fs::exists(pki + "/ca.next/ca.crt"));
  CHECK(certs_in(pki + "/m1/etcd/ca.crt") == 2);
  CHECK(certs_in(pki + "/clients/ca.crt") == 2);
  RotationStatus s = rotation_status(pki);
  CHECK(s.step == RotationStep::begun);
  CHECK(s.leaves_old.size() == 8);  // per member: server, peer, healthcheck-client, apiserver-etcd-client
  rotate_reissue(pki, at_later());
  RotateResult r = rotate_finish(pki, at_later());
  CHECK(r.warnings.empty());
  Certificate ca = cert_of(pki + "/ca/ca.crt");
  CHECK(slurp(pki + "/m2/etcd/ca.crt") == ca.to_pem());
  CHECK(cert_of(pki + "/m2/apiserver-etcd-client.crt").signed_by(ca));
  CHECK(slurp(r.retired + "/ca.key").size() > 0);
  CHECK(verify_path(pki, VerifyOptions{{}, {}, {}, {}, kLater, 1}).exit_code() == 0);
}

TEST_CASE("rotate-ca --same-key: a CA that has expired is renewed (an expired certificate does not stop a step)") {
  TempDir tmp;
  ClusterSpec spec = ClusterSpec::from_initial_cluster("m1=https://127.0.0.1:2380");
  spec.ca_expiry = Seconds{2 * 3600};
  ClusterOptions opt;
  opt.out_dir = tmp / "pki";
  opt.now = kNow;
  build_cluster(spec, opt);  // the leaves are capped at the CA's notAfter
  const std::string pki = opt.out_dir;
  RotateOptions o;
  o.now = kNow + std::chrono::hours(3);
  o.same_key = true;
  o.expiry = Seconds{10LL * 8760 * 3600};
  VerifyReport before = verify_path(pki, VerifyOptions{{}, {}, {}, {}, o.now, 1});
  CHECK(before.count(Severity::error) > 0);
  rotate_begin(pki, o);
  o.same_key = false;
  o.expiry.reset();
  rotate_reissue(pki, o);
  RotateResult r = rotate_finish(pki, o);
  CHECK(r.warnings.empty());
  CHECK(verify_path(pki, VerifyOptions{{}, {}, {}, {}, o.now, 1}).exit_code() == 0);
  CHECK(cert_of(pki + "/m1/server.pem").not_after() > *o.now);  // its own lifetime (2h: it was capped), from now
}
