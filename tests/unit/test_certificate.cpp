// certificate.hpp: reading certificates and what the accessors report.
#include "support.hpp"

using namespace test;

namespace {

struct Chain {
  Ca root;
  Certificate inter;
  KeyPair inter_key;
  Certificate leaf;
};

// root (pathlen 1) -> intermediate (pathlen 0) -> leaf, made once.
const Chain& chain() {
  static const Chain c = [] {
    Ca root = make_root({KeyAlgo::ecdsa, 256}, "cert-test-root", fixed_now(), 1);
    KeyPair inter_key = KeyPair::generate({KeyAlgo::ecdsa, 256});
    Request ir;
    ir.subject.common_name = "cert-test-inter";
    ir.ca = CaOptions{};
    Profile ip;
    ip.name = "intermediate";
    ip.usages = parse_usages({"cert sign", "crl sign"});
    ip.expiry = Seconds(43800LL * 3600);
    ip.ca = CaConstraint{true, 0, true};
    Certificate inter = root.signer().sign(Csr::create(ir, inter_key), ip, at_time(fixed_now())).certificate;
    Request lr = Request::from_json(R"({"CN":"etcd","hosts":["127.0.0.1","etcd0","admin@example.com"],
        "names":[{"C":"CN","ST":"BeiJing","L":"beijing","O":"ETCD","OU":"System"}]})");
    Certificate leaf = Signer(inter, inter_key)
                           .sign(Csr::create(lr, shared_leaf_key()), Policy::builtin().profile("peer"), at_time(fixed_now()))
                           .certificate;
    return Chain{root, inter, inter_key, leaf};
  }();
  return c;
}

}  // namespace

TEST_CASE("Certificate::from_pem reads exactly one certificate", "[certificate]") {
  const Certificate& leaf = chain().leaf;
  std::string pem = leaf.to_pem();
  CHECK(first_line(pem) == "-----BEGIN CERTIFICATE-----");
  Certificate back = Certificate::from_pem(pem, "etcd.pem");
  CHECK(back.to_pem() == pem);
  CHECK(back.sha256_fingerprint() == leaf.sha256_fingerprint());
  // Text around the block (openssl x509 -text output) is fine.
  CHECK(Certificate::from_pem("Certificate:\n    Data: ...\n" + pem + "\n").to_pem() == pem);
}

TEST_CASE("Certificate::from_pem refuses everything else, in the caller's category", "[certificate]") {
  const Certificate& leaf = chain().leaf;
  struct Case {
    std::string pem;
    const char* expect;
  };
  const Case cases[] = {
      {leaf.to_pem() + chain().inter.to_pem(), "the file holds 2 certificates; expected exactly one"},
      {shared_leaf_key().to_pem(), "expected a certificate, found a PEM \"EC PRIVATE KEY\" block"},
      {leaf.to_pem() + shared_leaf_key().to_pem(), "expected a certificate, found a PEM \"EC PRIVATE KEY\" block"},
      {leaf_csr("x").to_pem(), "expected a certificate, found a PEM \"CERTIFICATE REQUEST\" block"},
      {"", "no PEM certificate found"},
      {"garbage", "no PEM certificate found"},
      {pem_encode("CERTIFICATE", "\x30\x03\x02\x01\x01"), "cannot parse the certificate"},
  };
  for (const auto& c : cases) {
    INFO(c.expect);
    Error ca = catch_error([&] { Certificate::from_pem(c.pem, "ca.pem"); });
    CHECK(ca.category() == Errc::ca);  // the default
    CHECK(ca.source() == "ca.pem");
    CHECK_THAT(ca.message(), StartsWith(c.expect));
    Error in = catch_error([&] { Certificate::from_pem(c.pem, "in.pem", Errc::input); });
    CHECK(in.category() == Errc::input);
  }
  CHECK(ERR_peek_error() == 0);
}

TEST_CASE("Certificate: subject, issuer and their strings", "[certificate]") {
  const Chain& c = chain();
  Subject s = c.leaf.subject();
  CHECK(s.common_name == "etcd");
  CHECK(s.country == std::vector<std::string>{"CN"});
  CHECK(s.province == std::vector<std::string>{"BeiJing"});
  CHECK(s.locality == std::vector<std::string>{"beijing"});
  CHECK(s.organization == std::vector<std::string>{"ETCD"});
  CHECK(s.org_unit == std::vector<std::string>{"System"});
  CHECK(c.leaf.subject_string() == "C=CN, ST=BeiJing, L=beijing, O=ETCD, OU=System, CN=etcd");
  CHECK(c.leaf.issuer_string() == "CN=cert-test-inter");
  CHECK(c.inter.issuer_string() == "O=etcd-pki tests, CN=cert-test-root");
  CHECK(c.root.cert.issuer_string() == c.root.cert.subject_string());
  // issuer(): the issuer's name in the subject model.
  CHECK(c.leaf.issuer().common_name == "cert-test-inter");
  CHECK(c.leaf.issuer().organization.empty());
  CHECK(c.inter.issuer().common_name == "cert-test-root");
  CHECK(c.inter.issuer().organization == std::vector<std::string>{"etcd-pki tests"});
  CHECK(c.root.cert.issuer() == c.root.cert.subject());
}

TEST_CASE("Certificate::subject_string escapes as RFC 2253 and keeps UTF-8", "[certificate]") {
  struct Case {
    const char* json;
    const char* expect;
  };
  const Case cases[] = {
      {R"({"CN":"a","names":[{"O":"Acme, Inc."}]})", "O=Acme\\, Inc., CN=a"},
      {R"({"CN":"a+b"})", "CN=a\\+b"},
      {R"({"CN":"M\u00fcnchen"})", "CN=M\xC3\xBCnchen"},
      {R"({"CN":"x","names":[{"OU":"u1"},{"OU":"u2"}]})", "OU=u1 + OU=u2, CN=x"},
      {R"({"CN":"x","names":[{"E":"m@x.org"}]})", "CN=x, emailAddress=m@x.org"},
      {R"({"hosts":["only.example"]})", ""},
  };
  for (const auto& c : cases) {
    INFO(c.json);
    Issued issued = shared_root().signer().sign(Csr::create(Request::from_json(c.json), shared_leaf_key()),
                                                Policy::builtin().profile("client"), at_time(fixed_now()));
    CHECK(issued.certificate.subject_string() == c.expect);
  }
}

TEST_CASE("Certificate: SANs, validity, constraints and usages", "[certificate]") {
  const Chain& c = chain();
  CHECK(c.leaf.sans().to_string() == "DNS:etcd0, email:admin@example.com, IP:127.0.0.1");
  CHECK(c.leaf.not_before() == at("2025-03-10T12:29:00Z"));
  CHECK(c.leaf.not_after() == at("2026-03-10T12:29:00Z"));  // 8760h
  CHECK(c.root.cert.not_after() == at("2035-03-08T12:29:00Z"));  // 87600h

  CHECK(c.root.cert.is_ca());
  CHECK(c.root.cert.path_len() == 1);
  CHECK(c.inter.is_ca());
  CHECK(c.inter.path_len() == 0);
  CHECK_FALSE(c.leaf.is_ca());
  CHECK_FALSE(c.leaf.path_len().has_value());

  CHECK(c.root.cert.key_usage() == (ku::cert_sign | ku::crl_sign));
  CHECK(c.leaf.key_usage() == ku::digital_signature);
  CHECK(c.leaf.ext_key_usage() == std::vector<std::string>{eku::server_auth, eku::client_auth});
  CHECK(c.root.cert.ext_key_usage().empty());

  CHECK(c.root.cert.self_signed());
  CHECK_FALSE(c.inter.self_signed());
  CHECK_FALSE(c.leaf.self_signed());
}

TEST_CASE("Certificate: key identifiers link the chain", "[certificate]") {
  const Chain& c = chain();
  CHECK(c.root.cert.subject_key_id().size() == 20);
  CHECK(c.root.cert.authority_key_id().empty());
  CHECK(c.inter.authority_key_id() == c.root.cert.subject_key_id());
  CHECK(c.leaf.authority_key_id() == c.inter.subject_key_id());
  CHECK(c.leaf.subject_key_id() != c.inter.subject_key_id());
}

TEST_CASE("Certificate: public key, serial and fingerprint", "[certificate]") {
  const Chain& c = chain();
  KeyPair pub = c.leaf.public_key();
  CHECK(pub.same_public_key(shared_leaf_key()));
  CHECK(pub.spec() == KeySpec{KeyAlgo::ecdsa, 256});
  CHECK(c.inter.public_key().same_public_key(c.inter_key));

  // serial_hex is the serial as upper-case hex.
  BIGNUM* bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(c.leaf.native_handle()), nullptr);
  char* hex = BN_bn2hex(bn);
  CHECK(c.leaf.serial_hex() == hex);
  OPENSSL_free(hex);
  BN_free(bn);
  CHECK(c.leaf.serial_hex().find_first_not_of("0123456789ABCDEF") == std::string::npos);
  // serial_decimal is the same number in decimal, as cfssl's certinfo and Go print it.
  bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(c.leaf.native_handle()), nullptr);
  char* dec = BN_bn2dec(bn);
  CHECK(c.leaf.serial_decimal() == dec);
  OPENSSL_free(dec);
  BN_free(bn);
  CHECK(c.leaf.serial_decimal().find_first_not_of("0123456789") == std::string::npos);
  CHECK(decimal_to_serial_hex(c.leaf.serial_decimal()) == normalize_serial_hex(c.leaf.serial_hex()));

  // The fingerprint is SHA-256 of the DER, "AB:CD:...".
  PemBlock der = pem_decode(c.leaf.to_pem());
  unsigned char md[32];
  unsigned int n = 0;
  REQUIRE(EVP_Digest(der.der.data(), der.der.size(), md, &n, EVP_sha256(), nullptr) == 1);
  std::string expect;
  char buf[4];
  for (unsigned i = 0; i < n; ++i) {
    std::snprintf(buf, sizeof buf, "%02X", md[i]);
    expect += (i ? ":" : "") + std::string(buf);
  }
  CHECK(c.leaf.sha256_fingerprint() == expect);
  CHECK(expect.size() == 95);
  CHECK(c.leaf.sha256_fingerprint() != c.inter.sha256_fingerprint());
}

TEST_CASE("Certificate::from_native shares the OpenSSL object", "[certificate]") {
  const Certificate& leaf = chain().leaf;
  Certificate copy = Certificate::from_native(leaf.native_handle());
  CHECK(copy.native_handle() == leaf.native_handle());
  CHECK(copy.to_pem() == leaf.to_pem());
  Error e = catch_error([] { Certificate::from_native(nullptr); });
  CHECK(e.category() == Errc::crypto);
}

TEST_CASE("Certificate: UTCTime through 2049, GeneralizedTime from 2050", "[certificate]") {
  struct Case {
    const char* not_after;
    int type;
  };
  const Case cases[] = {
      {"2049-12-31T23:59:59Z", V_ASN1_UTCTIME},
      {"2050-01-01T00:00:00Z", V_ASN1_GENERALIZEDTIME},
      {"2055-06-30T12:00:00Z", V_ASN1_GENERALIZEDTIME},
  };
  // A root that outlives them all.
  static const Ca root = [] {
    Request r;
    r.subject.common_name = "long-root";
    CaOptions o;
    o.expiry = Seconds(100LL * 365 * 86400);
    r.ca = o;
    KeyPair key = KeyPair::generate({KeyAlgo::ecdsa, 256});
    return Ca{Signer::self_sign(Csr::create(r, key), key, ca_profile_for(r), at_time(fixed_now())).certificate, key};
  }();
  CHECK(ASN1_STRING_type(X509_get0_notAfter(root.cert.native_handle())) == V_ASN1_GENERALIZEDTIME);
  for (const auto& c : cases) {
    INFO(c.not_after);
    Profile p = profile_with({"signing", "client auth"});
    p.not_after = at(c.not_after);
    Certificate cert = root.signer().sign(leaf_csr("t"), p, at_time(fixed_now())).certificate;
    CHECK(ASN1_STRING_type(X509_get0_notAfter(cert.native_handle())) == c.type);
    CHECK(ASN1_STRING_type(X509_get0_notBefore(cert.native_handle())) == V_ASN1_UTCTIME);
    CHECK(cert.not_after() == at(c.not_after));
    CHECK(Certificate::from_pem(cert.to_pem()).not_after() == at(c.not_after));
  }
}

TEST_CASE("Certificate::all_from_pem with KeyDecoding::when_needed: the same certificate, its key decoded on demand", "[certificate]") {
  const Ca& root = shared_root();
  KeyPair key = KeyPair::generate({KeyAlgo::ecdsa, 256});
  Issued leaf = root.signer().sign(leaf_csr("lazy", {"lazy.example", "10.0.0.9"}, key), Policy::builtin().profile("server"),
                                   at_time(fixed_now()));
  std::string pem = leaf.certificate.to_pem() + root.cert.to_pem();
  std::vector<Certificate> now = Certificate::all_from_pem(pem);
  std::vector<Certificate> lazy = Certificate::all_from_pem(pem, "chain.pem", Errc::input, Certificate::KeyDecoding::when_needed);
  REQUIRE(now.size() == 2);
  REQUIRE(lazy.size() == 2);
  for (size_t i = 0; i < 2; ++i) {
    INFO(i);
    // Parsed without decoding the key...
    CHECK(X509_get0_pubkey(detail_certificate_fields(lazy[i])) == nullptr);
    ERR_clear_error();
    // ...with every field and the encoding the same.
    CHECK(lazy[i].to_pem() == now[i].to_pem());
    CHECK(lazy[i].sha256_fingerprint() == now[i].sha256_fingerprint());
    CHECK(lazy[i].subject_string() == now[i].subject_string());
    CHECK(lazy[i].sans() == now[i].sans());
    CHECK(lazy[i].not_after() == now[i].not_after());
    CHECK(lazy[i].is_ca() == now[i].is_ca());
    CHECK(lazy[i].key_usage() == now[i].key_usage());
    CHECK(lazy[i].ext_key_usage() == now[i].ext_key_usage());
    CHECK(lazy[i].subject_key_id() == now[i].subject_key_id());
  }
  // Its signature checks with the issuer's key; the key itself is read when asked for.
  CHECK(lazy[0].signed_by(lazy[1]));
  CHECK(lazy[1].self_signed());
  CHECK(lazy[0].public_key().same_public_key(key));
  REQUIRE(X509_get0_pubkey(lazy[0].native_handle()) != nullptr);
  VerifyResult v = verify_chain(lazy[0], lazy[1], fixed_now() + std::chrono::hours(1), X509_PURPOSE_SSL_SERVER);
  INFO(v.text());
  CHECK(v.ok == 1);
  // A broken certificate is the same error either way.
  Error e = catch_error([] { Certificate::all_from_pem("-----BEGIN CERTIFICATE-----\nMIIBAA==\n-----END CERTIFICATE-----\n", "bad.pem",
                                                        Errc::input, Certificate::KeyDecoding::when_needed); });
  CHECK(e.category() == Errc::input);
  CHECK(e.source() == "bad.pem");
}
