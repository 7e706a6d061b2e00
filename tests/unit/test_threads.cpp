// The library is safe to call from several threads at once (docs/library.md): key generation,
// request and config parsing, host classification, CSRs, one Signer shared by every thread,
// certificate PEM in and out, a certificate's lazy read-back, and whole clusters into separate
// folders. Each case runs its work from kThreads threads released together by a latch, repeats
// it, and checks every result afterwards on the main thread (Catch2 assertions are not
// thread-safe), so a wrong result fails the test with or without ThreadSanitizer
// (scripts/sanitize.sh runs the [threads] cases under TSan). No sleeps and no timing: the
// threads only meet at the latch.
#include <openssl/core_names.h>

#include <algorithm>
#include <functional>
#include <latch>
#include <mutex>
#include <set>
#include <thread>

#include "support.hpp"

using namespace test;

namespace {

constexpr int kThreads = 6;

// Runs body(thread index) on `threads` threads that start together. Returns what each thread
// threw ("" when it did not throw).
std::vector<std::string> run_together(int threads, const std::function<void(int)>& body) {
  std::latch start(threads);
  std::vector<std::string> errors(static_cast<size_t>(threads));
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t)
    pool.emplace_back([&, t] {
      start.arrive_and_wait();
      try {
        body(t);
      } catch (const std::exception& e) {
        errors[static_cast<size_t>(t)] = std::string("exception: ") + e.what();
      } catch (...) {
        errors[static_cast<size_t>(t)] = "unknown exception";
      }
    });
  for (auto& th : pool) th.join();
  return errors;
}

void require_no_errors(const std::vector<std::string>& errors) {
  for (size_t t = 0; t < errors.size(); ++t) {
    INFO("thread " << t);
    CHECK(errors[t] == "");
  }
  REQUIRE(std::all_of(errors.begin(), errors.end(), [](const std::string& e) { return e.empty(); }));
}

// A mismatch found in a worker, reported on the main thread.
struct Mismatches {
  std::mutex mutex;
  std::vector<std::string> list;
  void add(std::string what) {
    std::lock_guard lock(mutex);
    list.push_back(std::move(what));
  }
};

void require_none(const Mismatches& m) {
  std::string first;
  for (size_t i = 0; i < m.list.size() && i < 10; ++i) first += "\n  " + m.list[i];
  INFO(m.list.size() << " mismatches:" << first);
  CHECK(m.list.empty());
}

std::string tag(int t, int i) { return std::to_string(t) + "-" + std::to_string(i); }

}  // namespace

TEST_CASE("KeyPair::generate from several threads: distinct, well-formed keys", "[threads]") {
  constexpr int kEach = 5;
  struct Made {
    KeySpec spec;
    std::string pem, public_der;
  };
  std::vector<std::vector<Made>> made(kThreads);
  require_no_errors(run_together(kThreads, [&](int t) {
    std::vector<KeySpec> specs(kEach, KeySpec{KeyAlgo::ecdsa, 256});
    if (t == 0) specs.push_back({KeyAlgo::rsa, 2048});
    if (t == 1) specs.push_back({KeyAlgo::ed25519, 0});
    if (t == 2) specs.push_back({KeyAlgo::ecdsa, 384});
    for (const KeySpec& spec : specs) {
      KeyPair k = KeyPair::generate(spec);
      made[t].push_back({spec, k.to_pem(), k.public_key_der()});
    }
  }));
  std::set<std::string> public_keys;
  size_t total = 0;
  for (const auto& list : made)
    for (const Made& m : list) {
      ++total;
      public_keys.insert(m.public_der);
      KeyPair back = KeyPair::from_pem(m.pem);
      CHECK(back.spec() == m.spec);
      CHECK(back.public_key_der() == m.public_der);
    }
  CHECK(total == kThreads * kEach + 3);
  CHECK(public_keys.size() == total);  // no two threads got the same key
}

TEST_CASE("KeyPair::generate_many: keys in order, RSA primes on several workers, progress per key", "[threads][rsa]") {
  const std::vector<KeySpec> specs{{KeyAlgo::rsa, 2048}, {KeyAlgo::ecdsa, 256}, {KeyAlgo::rsa, 2049},
                                   {KeyAlgo::ed25519, 0}, {KeyAlgo::ecdsa, 384}, {KeyAlgo::rsa, 3072}};
  std::mutex mu;
  std::vector<std::pair<size_t, size_t>> calls;
  std::vector<KeyPair> keys = KeyPair::generate_many(specs, 4, [&](size_t done, size_t total) {
    std::lock_guard lock(mu);
    calls.emplace_back(done, total);
  });
  REQUIRE(keys.size() == specs.size());
  std::set<std::string> distinct;
  for (size_t i = 0; i < specs.size(); ++i) {
    INFO(specs[i].to_string());
    CHECK(keys[i].spec() == specs[i]);
    distinct.insert(keys[i].public_key_der());
    if (specs[i].algo != KeyAlgo::rsa) continue;
    // Both primes, found by different jobs, make a valid key: OpenSSL's full check.
    std::unique_ptr<EVP_PKEY_CTX, decltype(&EVP_PKEY_CTX_free)> ctx(
        EVP_PKEY_CTX_new_from_pkey(nullptr, keys[i].native_handle(), nullptr), EVP_PKEY_CTX_free);
    REQUIRE(ctx);
    CHECK(EVP_PKEY_check(ctx.get()) == 1);
    CHECK(EVP_PKEY_get_bits(keys[i].native_handle()) == specs[i].size);
  }
  CHECK(distinct.size() == specs.size());
  std::sort(calls.begin(), calls.end());
  REQUIRE(calls.size() == specs.size());  // once per key, not per prime
  for (size_t i = 0; i < calls.size(); ++i) CHECK(calls[i] == std::make_pair(i + 1, specs.size()));
  CHECK(KeyPair::generate_many({}).empty());
}

TEST_CASE("KeyPair::generate_many from several threads at once", "[threads][rsa]") {
  std::vector<std::vector<std::string>> made(3);
  require_no_errors(run_together(3, [&](int t) {
    for (const KeyPair& k : KeyPair::generate_many({{KeyAlgo::rsa, 2048}, {KeyAlgo::ecdsa, 256}}, 2))
      made[static_cast<size_t>(t)].push_back(k.public_key_der());
  }));
  std::set<std::string> all;
  for (const auto& list : made) {
    CHECK(list.size() == 2);
    all.insert(list.begin(), list.end());
  }
  CHECK(all.size() == 6);
}

TEST_CASE("Request::from_json and Policy::from_json from several threads", "[threads]") {
  constexpr int kEach = 40;
  Mismatches bad;
  require_no_errors(run_together(kThreads, [&](int t) {
    for (int i = 0; i < kEach; ++i) {
      std::string cn = "member-" + tag(t, i);
      std::string ip = "10." + std::to_string(t) + "." + std::to_string(i) + ".1";
      int rsa_bits = i % 2 ? 3072 : 2048;
      Request r = Request::from_json(R"({"CN":")" + cn + R"(","hosts":[")" + cn + R"(.example.com",")" + ip +
                                     R"("],"key":{"algo":"rsa","size":)" + std::to_string(rsa_bits) +
                                     R"(},"names":[{"O":"org-)" + tag(t, i) + R"(","C":"CN"}]})");
      if (r.subject.common_name != cn || r.hosts != std::vector<std::string>{cn + ".example.com", ip} ||
          !(r.key == KeySpec{KeyAlgo::rsa, rsa_bits}) || r.subject.organization != std::vector<std::string>{"org-" + tag(t, i)} ||
          r.subject.country != std::vector<std::string>{"CN"})
        bad.add("request " + tag(t, i) + " parsed wrong: CN " + r.subject.common_name);
      try {
        (void)Request::from_json(R"({"CN":"x","hostz":["a"]})", "bad-" + tag(t, i) + ".json");
        bad.add("unknown field accepted in " + tag(t, i));
      } catch (const Error& e) {
        if (e.category() != Errc::input || e.source() != "bad-" + tag(t, i) + ".json" || e.field() != "hostz")
          bad.add(std::string("wrong error for an unknown field: ") + e.what());
      }

      std::string profile = "p-" + tag(t, i);
      Policy p = Policy::from_json(R"({"signing":{"default":{"expiry":"168h"},"profiles":{")" + profile +
                                       R"(":{"expiry":")" + std::to_string(t + 1) + R"(h","usages":["signing","client auth"]}}}})",
                                   "config-" + tag(t, i));
      const Profile& pr = p.profile(profile);
      if (pr.expiry != Seconds(3600 * (t + 1)) || pr.usages.key_usage != ku::digital_signature ||
          pr.usages.ext_key_usage != std::vector<std::string>{eku::client_auth} || p.default_profile().expiry != Seconds(168 * 3600))
        bad.add("policy " + tag(t, i) + " parsed wrong");
      try {
        (void)p.profile("missing");
        bad.add("unknown profile accepted in " + tag(t, i));
      } catch (const Error& e) {
        if (e.category() != Errc::config) bad.add(std::string("wrong error for an unknown profile: ") + e.what());
      }
    }
  }));
  require_none(bad);
}

TEST_CASE("Host classification from several threads", "[threads]") {
  struct Case {
    std::string host;
    SanType type;
    std::string value;  // the SAN as Sans::to_string prints it
  };
  const std::vector<Case> cases{
      {"10.20.13.10", SanType::ip, "IP:10.20.13.10"},
      {"::ffff:1.2.3.4", SanType::ip, "IP:1.2.3.4"},
      {"2001:db8::1", SanType::ip, "IP:2001:db8::1"},
      {"admin@example.com", SanType::email, "email:admin@example.com"},
      {"Foo Bar <foo@bar.com>", SanType::email, "email:foo@bar.com"},
      {"spiffe://cluster.local/ns/default/sa/x", SanType::uri, "URI:spiffe://cluster.local/ns/default/sa/x"},
      {"localhost:8080", SanType::uri, "URI:localhost:8080"},
      {"*.example.com", SanType::dns, "DNS:*.example.com"},
      {"1.2.3.04", SanType::dns, "DNS:1.2.3.04"},
      {"etcd-1", SanType::dns, "DNS:etcd-1"},
  };
  constexpr int kRounds = 200;
  Mismatches bad;
  require_no_errors(run_together(kThreads, [&](int t) {
    for (int round = 0; round < kRounds; ++round) {
      for (size_t k = 0; k < cases.size(); ++k) {
        const Case& c = cases[(k + static_cast<size_t>(t + round)) % cases.size()];  // each thread its own order
        if (classify_host(c.host) != c.type) bad.add("classify_host(" + c.host + ")");
        if (classify_hosts({"  " + c.host + "\t"}).to_string() != c.value) bad.add("classify_hosts(" + c.host + ")");
        if ((c.type == SanType::ip) != parse_ip(c.host).has_value()) bad.add("parse_ip(" + c.host + ")");
        if ((c.type == SanType::email) != parse_email(c.host).has_value()) bad.add("parse_email(" + c.host + ")");
      }
      if (split_hostnames(" a, 10.0.0.1 ,,b@c.d,") != std::vector<std::string>{"a", "10.0.0.1", "b@c.d"})
        bad.add("split_hostnames");
      if (dns_name_problem("etcd-" + std::to_string(t) + ".example.com") || !dns_name_problem("-bad.example.com"))
        bad.add("dns_name_problem");
    }
  }));
  require_none(bad);
}

TEST_CASE("Csr::create and one shared Signer from several threads: every certificate is right", "[threads]") {
  // A CA of its own, so that nothing about it has been read before the threads start.
  Ca ca = make_root(KeySpec{KeyAlgo::ecdsa, 256}, "threads-root");
  const std::string ca_pem = ca.cert.to_pem();
  const Signer signer(ca.cert, ca.key);
  const Policy policy = Policy::builtin();
  const char* profiles[] = {"server", "peer", "client"};
  constexpr int kEach = 8;

  struct Leaf {
    std::string cn, profile, cert_pem, csr_pem, key_pem;
    std::vector<std::string> hosts;
    bool signed_by_ca = false, csr_reads_back = false, ca_pem_same = false;
  };
  std::vector<std::vector<Leaf>> leaves(kThreads);
  require_no_errors(run_together(kThreads, [&](int t) {
    for (int i = 0; i < kEach; ++i) {
      Leaf leaf;
      leaf.cn = "leaf-" + tag(t, i);
      leaf.profile = profiles[(t + i) % 3];
      leaf.hosts = {leaf.cn + ".example.com", "10.1." + std::to_string(t) + "." + std::to_string(i + 1)};
      // Half the CSRs use one key shared by every thread, half a key of their own.
      KeyPair key = i % 2 ? shared_leaf_key() : KeyPair::generate(KeySpec{KeyAlgo::ecdsa, 256});
      Request req;
      req.subject.common_name = leaf.cn;
      req.hosts = leaf.hosts;
      Csr csr = Csr::create(req, key);
      leaf.csr_pem = csr.to_pem();
      leaf.csr_reads_back = Csr::from_pem(leaf.csr_pem).subject().common_name == leaf.cn;  // signature checked
      Issued issued = signer.sign(csr, policy.profile(leaf.profile), at_time(fixed_now()));
      leaf.cert_pem = issued.certificate.to_pem();
      leaf.key_pem = key.to_pem();
      leaf.signed_by_ca = issued.certificate.signed_by(signer.ca_certificate());
      leaf.ca_pem_same = Certificate::from_pem(ca_pem).to_pem() == ca_pem;
      leaves[t].push_back(std::move(leaf));
    }
  }));

  std::set<std::string> serials;
  for (const auto& list : leaves) {
    REQUIRE(list.size() == kEach);
    for (const Leaf& leaf : list) {
      INFO(leaf.cn << " (" << leaf.profile << ")");
      CHECK(leaf.csr_reads_back);
      CHECK(leaf.signed_by_ca);
      CHECK(leaf.ca_pem_same);
      Certificate cert = Certificate::from_pem(leaf.cert_pem);
      CHECK(cert.to_pem() == leaf.cert_pem);
      serials.insert(cert.serial_hex());
      CHECK(cert.subject().common_name == leaf.cn);
      CHECK(cert.issuer_string() == ca.cert.subject_string());
      CHECK(cert.sans() == classify_hosts(leaf.hosts));
      CHECK(cert.public_key().same_public_key(KeyPair::from_pem(leaf.key_pem)));
      CHECK(cert.ext_key_usage() == policy.profile(leaf.profile).usages.ext_key_usage);
      int purpose = leaf.profile == std::string("client") ? X509_PURPOSE_SSL_CLIENT : X509_PURPOSE_SSL_SERVER;
      VerifyResult v = verify_chain(cert, ca.cert, fixed_now() + std::chrono::hours(1), purpose);
      INFO(v.text());
      CHECK(v.ok == 1);
    }
  }
  CHECK(serials.size() == size_t{kThreads} * kEach);  // all distinct
}

TEST_CASE("A new certificate is read back once, whichever threads ask at the same time", "[threads]") {
  // Certificate::native_handle() of a certificate fresh from the signer reads it back from its
  // DER on first use (std::call_once on state shared by every copy); every accessor that needs
  // the public key goes through it. Several rounds, each with a new certificate.
  const Ca& root = shared_root();
  const Signer signer = root.signer();
  const Policy policy = Policy::builtin();
  const Profile& profile = policy.profile("peer");
  constexpr int kRounds = 12;
  for (int round = 0; round < kRounds; ++round) {
    Csr csr = leaf_csr("lazy-" + std::to_string(round), {"lazy.example.com", "10.9.9.9"});
    Certificate cert = signer.sign(csr, profile, at_time(fixed_now())).certificate;
    std::vector<X509*> handles(kThreads);
    std::vector<std::string> public_keys(kThreads);
    std::vector<int> signed_ok(kThreads, 0), self_signed(kThreads, 1);
    require_no_errors(run_together(kThreads, [&](int t) {
      Certificate copy = cert;  // copies share the read-back state
      switch (t % 3) {          // different first calls race into the same std::call_once
        case 0: public_keys[t] = copy.public_key().public_key_der(); break;
        case 1: self_signed[t] = copy.self_signed(); break;
        case 2: handles[t] = copy.native_handle(); break;
      }
      signed_ok[t] = copy.signed_by(root.cert);
      handles[t] = copy.native_handle();
      if (public_keys[t].empty()) public_keys[t] = copy.public_key().public_key_der();
      if (t % 3 != 1) self_signed[t] = copy.self_signed();
    }));
    INFO("round " << round);
    for (int t = 0; t < kThreads; ++t) {
      CHECK(handles[t] == handles[0]);  // read back exactly once
      CHECK(handles[t] != nullptr);
      CHECK(public_keys[t] == shared_leaf_key().public_key_der());
      CHECK(signed_ok[t] == 1);
      CHECK(self_signed[t] == 0);
    }
  }
}

TEST_CASE("build_cluster into different folders from several threads at once", "[threads]") {
  constexpr int kClusters = 4;
  std::vector<std::unique_ptr<TempDir>> dirs;
  for (int c = 0; c < kClusters; ++c) dirs.push_back(std::make_unique<TempDir>());
  std::vector<ClusterResult> results(kClusters);
  require_no_errors(run_together(kClusters, [&](int c) {
    ClusterSpec spec;
    for (int m = 1; m <= 2; ++m) {
      MemberSpec member;
      member.name = "c" + std::to_string(c) + "-etcd-" + std::to_string(m);
      member.ips = {"10.30." + std::to_string(c) + "." + std::to_string(m)};
      spec.members.push_back(member);
    }
    spec.clients = {{"root", "root"}};
    ClusterOptions o;
    o.out_dir = *dirs[c] / "pki";
    o.now = fixed_now();
    o.threads = 2;  // each build runs its own key workers too
    results[c] = build_cluster(spec, o);
  }));

  std::vector<Certificate> cas;
  for (int c = 0; c < kClusters; ++c) cas.push_back(cert_at(*dirs[c] / "pki/ca/ca.pem"));
  std::set<std::string> ca_keys;
  for (const auto& ca : cas) ca_keys.insert(ca.public_key().public_key_der());
  CHECK(ca_keys.size() == size_t{kClusters});  // each cluster made its own CA

  for (int c = 0; c < kClusters; ++c) {
    INFO("cluster " << c);
    std::vector<std::string> issued = results[c].issued;
    std::sort(issued.begin(), issued.end());
    std::string m1 = "c" + std::to_string(c) + "-etcd-1", m2 = "c" + std::to_string(c) + "-etcd-2";
    std::vector<std::string> want{"ca", "clients/root", m1 + "/peer", m1 + "/server", m2 + "/peer", m2 + "/server"};
    std::sort(want.begin(), want.end());
    CHECK(issued == want);
    CHECK(results[c].reused.empty());
    for (const std::string& rel : {m1 + "/server.pem", m1 + "/peer.pem", m2 + "/server.pem", m2 + "/peer.pem", std::string("clients/root.pem")}) {
      INFO(rel);
      Certificate cert = cert_at(*dirs[c] / ("pki/" + rel));
      KeyPair key = key_at(key_path_for_cert(*dirs[c] / ("pki/" + rel)));
      CHECK(cert.public_key().same_public_key(key));
      int purpose = rel.starts_with("clients/") ? X509_PURPOSE_SSL_CLIENT : X509_PURPOSE_SSL_SERVER;
      CHECK(verify_chain(cert, cas[c], fixed_now() + std::chrono::hours(1), purpose).ok == 1);
      for (int other = 0; other < kClusters; ++other)
        if (other != c) CHECK_FALSE(cert.signed_by(cas[other]));
      if (!rel.starts_with("clients/")) {
        std::string member = rel.substr(0, rel.find('/'));
        CHECK(cert.subject().common_name == member);
        // The member's own IP; a server certificate also has etcdctl's loopback addresses.
        std::vector<IpAddress> want_ips{*parse_ip("10.30." + std::to_string(c) + "." + member.substr(member.size() - 1))};
        if (rel.ends_with("/server.pem")) want_ips.insert(want_ips.end(), {*parse_ip("127.0.0.1"), *parse_ip("::1")});
        CHECK(cert.sans().ip == want_ips);
      }
    }
  }
}
