// pipeline.hpp: init-ca, issue, sign and loading a CA, end to end in memory.
#include "support.hpp"

using namespace test;

namespace {

struct Loaded {
  Certificate cert;
  KeyPair key;
  Csr csr;
};

// The bundle as it is written out (PEM), read back.
Loaded parts(const Bundle& b) {
  CfsslOutput pem = to_pem(b);
  REQUIRE(pem.cert.has_value());
  REQUIRE(pem.key.has_value());
  REQUIRE(pem.csr.has_value());
  return {Certificate::from_pem(*pem.cert), KeyPair::from_pem(*pem.key), Csr::from_pem(*pem.csr)};
}

bool has_warning(const std::vector<std::string>& warnings, const std::string& needle) {
  for (const auto& w : warnings)
    if (w.find(needle) != std::string::npos) return true;
  return false;
}

// An init-ca made once: the CA for the issue/sign tests.
const Bundle& test_ca() {
  static const Bundle b = make_ca(Request::default_ca(), at_time(fixed_now()), "default CA");
  return b;
}

Signer test_signer() {
  const Bundle& b = test_ca();
  return Signer(*b.certificate, *b.key);
}

const Policy& builtin() {
  static const Policy p = Policy::builtin();
  return p;
}

}  // namespace

TEST_CASE("make_ca: the built-in etcd CA", "[pipeline]") {
  const Bundle& b = test_ca();
  CHECK(b.warnings.empty());
  Loaded ca = parts(b);
  CHECK(first_line(*to_pem(b).key) == "-----BEGIN EC PRIVATE KEY-----");
  CHECK(first_line(*to_pem(b).csr) == "-----BEGIN CERTIFICATE REQUEST-----");
  CHECK(ca.key.spec() == KeySpec{KeyAlgo::ecdsa, 256});
  CHECK(ca.cert.public_key().same_public_key(ca.key));
  CHECK(ca.csr.public_key().same_public_key(ca.key));
  CHECK(ca.cert.subject_string() == "CN=etcd-ca");
  CHECK(ca.cert.self_signed());
  CHECK(ca.cert.is_ca());
  CHECK_FALSE(ca.cert.path_len().has_value());
  CHECK(ca.cert.key_usage() == (ku::cert_sign | ku::crl_sign));
  CHECK(ca.cert.not_before() == at("2025-03-10T12:29:00Z"));
  CHECK(ca.cert.not_after() - ca.cert.not_before() == Seconds(87600LL * 3600));
  CHECK(ca.cert.authority_key_id().empty());
  // The CSR carries the CA request too.
  REQUIRE(ca.csr.basic_constraints().has_value());
  CHECK(ca.csr.basic_constraints()->is_ca);
  // And the cfssl JSON has the three parts.
  CHECK_THAT(to_cfssl_json(b), StartsWith("{\"cert\":\"-----BEGIN CERTIFICATE-----\\n"));
}

TEST_CASE("make_ca: the request's subject, hosts and ca block (TV3)", "[pipeline]") {
  Request r = Request::from_json(
      R"({"CN":"etcd-ca","hosts":["ca.example.com","10.0.0.1"],"names":[{"O":"Org1"},{"O":"Org2"}],
          "serialnumber":"SN-123","ca":{"expiry":"1h30m","pathlen":1,"pathlenzero":true},"crl_url":"http://crl.example/ca.crl"})");
  Bundle b = make_ca(r, at_time(fixed_now()), "ca-csr.json");
  Loaded ca = parts(b);
  CHECK(ca.cert.subject_string() == "O=Org1 + O=Org2, CN=etcd-ca, serialNumber=SN-123");
  CHECK(ca.cert.sans().to_string() == "IP:10.0.0.1");
  CHECK(ca.csr.sans().to_string() == "DNS:ca.example.com, IP:10.0.0.1");
  CHECK(ca.cert.path_len() == 1);
  CHECK(ca.cert.not_after() - ca.cert.not_before() == Seconds(90 * 60));
  CHECK(X509_get_ext_by_NID(ca.cert.native_handle(), NID_crl_distribution_points, -1) >= 0);
  // The request's warning, attributed to the file.
  REQUIRE(b.warnings.size() == 1);
  CHECK_THAT(b.warnings[0], StartsWith("ca-csr.json: ca.pathlenzero: ignored"));
}

TEST_CASE("make_ca: refuses a request without subject information", "[pipeline]") {
  for (const char* json : {R"({})", R"({"hosts":["a.example"]})", R"({"names":[{"E":"x@y"}]})"}) {
    INFO(json);
    Error e = catch_error([&] { make_ca(Request::from_json(json), at_time(fixed_now()), "ca-csr.json"); });
    CHECK(e.category() == Errc::input);
    CHECK(e.source() == "ca-csr.json");
    CHECK_THAT(e.message(), Contains("missing subject information"));
  }
}

TEST_CASE("issue: key, CSR and certificate from a request", "[pipeline]") {
  Signer signer = test_signer();
  Request r = Request::from_json(R"({"CN":"etcd-server","hosts":["127.0.0.1","localhost"],"names":[{"O":"etcd"}]})");
  Bundle b = issue(r, signer, builtin().profile("server"), at_time(fixed_now()), "server.json");
  CHECK(b.warnings.empty());
  Loaded leaf = parts(b);
  CHECK(leaf.key.spec() == KeySpec{KeyAlgo::ecdsa, 256});
  CHECK(leaf.cert.public_key().same_public_key(leaf.key));
  CHECK(leaf.csr.public_key().same_public_key(leaf.key));
  CHECK(leaf.cert.subject_string() == "O=etcd, CN=etcd-server");
  CHECK(leaf.cert.sans().to_string() == "DNS:localhost, IP:127.0.0.1");
  CHECK(leaf.csr.sans() == leaf.cert.sans());
  CHECK(leaf.cert.authority_key_id() == signer.ca_certificate().subject_key_id());
  VerifyResult v = verify_chain(leaf.cert, signer.ca_certificate(), fixed_now() + std::chrono::hours(1), X509_PURPOSE_SSL_SERVER);
  INFO(v.text());
  CHECK(v.ok == 1);
}

TEST_CASE("issue: options.hosts replaces the hosts in the CSR and the certificate", "[pipeline]") {
  Request r = Request::from_json(R"({"CN":"m","hosts":["from-json.example"]})");
  SignOptions o = at_time(fixed_now());
  o.hosts = split_hostnames("a.example.com,10.1.1.1, b.example.com");
  Loaded leaf = parts(issue(r, test_signer(), builtin().profile("peer"), o, "m.json"));
  CHECK(leaf.cert.sans().to_string() == "DNS:a.example.com, DNS:b.example.com, IP:10.1.1.1");
  CHECK(leaf.csr.sans().to_string() == "DNS:a.example.com, DNS:b.example.com, IP:10.1.1.1");
}

TEST_CASE("issue: warnings and errors carry the source", "[pipeline]") {
  Request no_hosts = Request::from_json(R"({"CN":"s","hosts":[""]})");
  Bundle b = issue(no_hosts, test_signer(), builtin().profile("server"), at_time(fixed_now()), "s.json");
  CHECK(has_warning(b.warnings, "s.json: hosts[0]: empty entry dropped"));
  CHECK(has_warning(b.warnings, "s.json: the certificate is for server auth but has no SANs"));

  Profile p = builtin().profile("server");
  p.name_whitelist = "^allowed\\.";
  Error e = catch_error([&] {
    issue(Request::from_json(R"({"CN":"allowed.x","hosts":["evil.example"]})"), test_signer(), p, at_time(fixed_now()), "w.json");
  });
  CHECK(e.category() == Errc::policy);
  CHECK(e.source() == "w.json");
}

TEST_CASE("issue: a request with a ca block is refused", "[pipeline]") {
  Error e = catch_error([] {
    issue(Request::from_json(R"({"CN":"x","ca":{"expiry":"1h"}})"), test_signer(), builtin().profile("server"),
          at_time(fixed_now()), "x.json");
  });
  CHECK(e.category() == Errc::input);
  CHECK(e.source() == "x.json");
  CHECK(e.field() == "ca");
  CHECK_THAT(e.message(), Contains("only allowed for init-ca"));
}

TEST_CASE("make_ca and issue with a key made beforehand use that key, and refuse one of another type", "[pipeline]") {
  std::vector<KeyPair> keys = KeyPair::generate_many({{KeyAlgo::ecdsa, 256}, {KeyAlgo::ecdsa, 256}});
  Request ca_req = Request::default_ca();
  Bundle ca = make_ca(ca_req, keys[0], at_time(fixed_now()), "ca");
  Loaded root = parts(ca);
  CHECK(root.key.public_key_der() == keys[0].public_key_der());
  CHECK(root.cert.public_key().same_public_key(keys[0]));
  Signer signer(*ca.certificate, keys[0]);
  Request r = Request::from_json(R"({"CN":"m1","hosts":["m1.example"]})");
  Loaded leaf = parts(issue(r, keys[1], signer, builtin().profile("peer"), at_time(fixed_now()), "m1.json"));
  CHECK(leaf.key.public_key_der() == keys[1].public_key_der());
  CHECK(leaf.cert.public_key().same_public_key(keys[1]));
  CHECK(leaf.cert.signed_by(root.cert));

  KeyPair p384 = KeyPair::generate({KeyAlgo::ecdsa, 384});
  Error e = catch_error([&] { issue(r, p384, signer, builtin().profile("peer"), at_time(fixed_now()), "m1.json"); });
  CHECK(e.category() == Errc::key);
  CHECK(e.source() == "m1.json");
  CHECK_THAT(e.message(), Contains("ECDSA P-384") && Contains("ECDSA P-256"));
  Error e2 = catch_error([&] { make_ca(ca_req, p384, at_time(fixed_now()), "ca.json"); });
  CHECK(e2.category() == Errc::key);
  CHECK(e2.source() == "ca.json");
}

TEST_CASE("sign_csr: signs an external CSR and keeps it", "[pipeline]") {
  KeyPair key = KeyPair::generate({KeyAlgo::ecdsa, 384});
  Csr made = leaf_csr("ext", {"ext.example"}, key);
  std::string csr_pem = "# made elsewhere\n" + made.to_pem() + "\n";
  Bundle b = sign_csr(csr_pem, test_signer(), builtin().profile("client"), at_time(fixed_now()), "ext.csr");
  REQUIRE(b.certificate.has_value());
  REQUIRE(b.csr.has_value());
  CHECK(b.csr->to_pem() == made.to_pem());  // the CSR read (the CLI echoes its text byte for byte, as cfssl sign)
  CHECK_FALSE(b.key.has_value());
  Certificate c = Certificate::from_pem(*to_pem(b).cert);
  CHECK(c.public_key().same_public_key(key));
  CHECK(c.ext_key_usage() == std::vector<std::string>{eku::client_auth});
  CHECK(to_cfssl_json(b).find("\"key\"") == std::string::npos);

  Error bad = catch_error([] { sign_csr("not a csr", test_signer(), builtin().profile("client"), at_time(fixed_now()), "bad.csr"); });
  CHECK(bad.category() == Errc::csr);
  CHECK(bad.source() == "bad.csr");

  Error ca = catch_error([] {
    Request r;
    r.subject.common_name = "sub-ca";
    r.ca = CaOptions{};
    sign_csr(Csr::create(r, shared_leaf_key()).to_pem(), test_signer(), builtin().profile("peer"), at_time(fixed_now()),
             "sub-ca.csr");
  });
  CHECK(ca.category() == Errc::policy);
  CHECK(ca.source() == "sub-ca.csr");
}

TEST_CASE("load_signer: reads ca.pem and ca-key.pem and checks them", "[pipeline]") {
  TempDir tmp;
  write_files(bundle_files(test_ca(), tmp.path(), "ca"), false);
  Signer s = load_signer(tmp / "ca.pem", tmp / "ca-key.pem");
  CHECK(s.ca_certificate().subject_string() == "CN=etcd-ca");
  Bundle leaf = issue(Request::from_json(R"({"CN":"c"})"), s, builtin().profile("client"), at_time(fixed_now()));
  CHECK(verify_chain(*leaf.certificate, s.ca_certificate(), fixed_now() + std::chrono::hours(1),
                     X509_PURPOSE_SSL_CLIENT)
            .ok == 1);

  SECTION("missing files are Errc::ca naming the path") {
    Error no_cert = catch_error([&] { load_signer(tmp / "nope.pem", tmp / "ca-key.pem"); });
    CHECK(no_cert.category() == Errc::ca);
    CHECK(no_cert.source() == tmp / "nope.pem");
    Error no_key = catch_error([&] { load_signer(tmp / "ca.pem", tmp / "nope-key.pem"); });
    CHECK(no_key.category() == Errc::ca);
    CHECK(no_key.source() == tmp / "nope-key.pem");
  }
  SECTION("a key of another CA") {
    Bundle other = make_ca(Request::default_ca(), at_time(fixed_now()));
    write_files({{tmp / "other-key.pem", other.key->to_pem(), 0600, false}}, false);
    Error e = catch_error([&] { load_signer(tmp / "ca.pem", tmp / "other-key.pem"); });
    CHECK(e.category() == Errc::ca);
    CHECK(e.source() == tmp / "other-key.pem");
    CHECK_THAT(e.message(), Contains("does not match"));
  }
  SECTION("swapped arguments") {
    Error e = catch_error([&] { load_signer(tmp / "ca-key.pem", tmp / "ca.pem"); });
    CHECK(e.category() == Errc::ca);
    CHECK(e.source() == tmp / "ca-key.pem");
    CHECK_THAT(e.message(), Contains("expected a certificate"));
  }
  SECTION("a certificate as the key") {
    Error e = catch_error([&] { load_signer(tmp / "ca.pem", tmp / "ca.pem"); });
    CHECK(e.category() == Errc::key);
    CHECK(e.source() == tmp / "ca.pem");
  }
  SECTION("a leaf certificate as the CA") {
    write_files(bundle_files(leaf, tmp.path(), "leaf"), false);
    Error e = catch_error([&] { load_signer(tmp / "leaf.pem", tmp / "leaf-key.pem"); });
    CHECK(e.category() == Errc::ca);
    CHECK(e.source() == tmp / "leaf.pem");
    CHECK_THAT(e.message(), Contains("not a CA"));
  }
  SECTION("an encrypted CA key: with its passphrase, without, with a wrong one") {
    const Passphrase pass("ca passphrase");
    write_files({{tmp / "enc-key.pem", s.ca_key().to_pem_encrypted(pass), 0600, false}}, false);
    Signer enc = load_signer(tmp / "ca.pem", tmp / "enc-key.pem", pass);
    CHECK(enc.ca_key().same_public_key(s.ca_key()));
    Error none = catch_error([&] { load_signer(tmp / "ca.pem", tmp / "enc-key.pem"); });
    CHECK(none.category() == Errc::key);
    CHECK(none.source() == tmp / "enc-key.pem");
    CHECK_THAT(none.message(), Contains("no passphrase"));
    Error wrong = catch_error([&] { load_signer(tmp / "ca.pem", tmp / "enc-key.pem", Passphrase("other")); });
    CHECK(wrong.category() == Errc::key);
    CHECK_THAT(wrong.message(), Contains("wrong passphrase"));
    // A passphrase given for a plain key is not needed, and harmless.
    CHECK_NOTHROW(load_signer(tmp / "ca.pem", tmp / "ca-key.pem", pass));
  }
  SECTION("two certificates in ca.pem: the second must be the CA's issuer") {
    write_files({{tmp / "two.pem", test_ca().certificate->to_pem() + leaf.certificate->to_pem(), 0644, false}}, false);
    Error e = catch_error([&] { load_signer(tmp / "two.pem", tmp / "ca-key.pem"); });
    CHECK(e.category() == Errc::ca);
    CHECK_THAT(e.message(), Contains("certificate 2 of the chain is not a CA"));
  }
}

TEST_CASE("pipeline: the seed-etcd-single guide from its fixtures", "[pipeline][rsa]") {
  const std::string dir = "fixtures/seed-etcd-single/";
  Request ca_req = Request::from_json(read_fixture(dir + "ca-csr.json"), "ca-csr.json");
  Bundle ca = make_ca(ca_req, at_time(fixed_now()), "ca-csr.json");
  Loaded root = parts(ca);
  CHECK(root.key.spec() == KeySpec{KeyAlgo::rsa, 2048});
  CHECK(first_line(*to_pem(ca).key) == "-----BEGIN RSA PRIVATE KEY-----");
  CHECK(root.cert.subject_string() == "C=CN, ST=BeiJing, L=BeiJing, O=Etcd, OU=System, CN=Etcd");
  CHECK(root.cert.not_after() - root.cert.not_before() == Seconds(43800LL * 3600));  // no ca block: 5 years

  Policy policy = Policy::from_json(read_fixture(dir + "ca-config.json"), "ca-config.json");
  Signer signer(root.cert, root.key, "ca.pem", "ca-key.pem");
  Request etcd_req = Request::from_json(read_fixture(dir + "etcd-csr.json"), "etcd-csr.json");
  Bundle etcd = issue(etcd_req, signer, policy.profile("Etcd"), at_time(fixed_now()), "etcd-csr.json");
  Loaded leaf = parts(etcd);
  CHECK(leaf.key.spec() == KeySpec{KeyAlgo::rsa, 2048});
  CHECK(leaf.cert.subject_string() == "C=CN, ST=BeiJing, L=beijing, O=ETCD, OU=System, CN=etcd");
  CHECK(leaf.cert.sans().to_string() == "IP:127.0.0.1, IP:10.20.13.10, IP:10.20.13.11, IP:10.20.13.12");
  CHECK(leaf.cert.key_usage() == (ku::digital_signature | ku::key_encipherment));  // RSA keeps it
  CHECK(leaf.cert.ext_key_usage() == std::vector<std::string>{eku::server_auth, eku::client_auth});
  CHECK(X509_get_signature_nid(leaf.cert.native_handle()) == NID_sha256WithRSAEncryption);
  // The profile asks for 87600h, more than the 43800h CA: capped, and said so (cfssl issues a leaf that
  // outlives its CA).
  CHECK(leaf.cert.not_after() == root.cert.not_after());
  REQUIRE(etcd.warnings.size() == 1);
  CHECK_THAT(etcd.warnings[0], StartsWith("etcd-csr.json: profile \"Etcd\" asks for validity until") &&
                                   Contains("capped at the CA's notAfter"));

  for (int purpose : {X509_PURPOSE_SSL_SERVER, X509_PURPOSE_SSL_CLIENT}) {
    VerifyResult v = verify_chain(leaf.cert, root.cert, fixed_now() + std::chrono::hours(24), purpose);
    INFO(v.text());
    CHECK(v.ok == 1);
  }
}
