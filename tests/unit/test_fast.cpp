// lib/fast/: each speed path against the OpenSSL path it replaces, on several inputs. The fast
// path must give OpenSSL's own result (the same bytes, or a key as valid as OpenSSL's).
#include <openssl/core_names.h>

#include "fast/fields_only.hpp"
#include "fast/private_key.hpp"
#include "fast/public_key.hpp"
#include "fast/rsa_keygen.hpp"
#include "support.hpp"

using namespace test;

namespace {

// What OpenSSL says of an RSA key: its full check (p, q prime; n = pq; d and the CRT values
// consistent) and pairwise check pass; its size and public exponent.
struct RsaFacts {
  bool check = false, pairwise = false;
  int bits = 0;
  std::string e;
};

RsaFacts rsa_facts(EVP_PKEY* key) {
  RsaFacts f;
  ossl::PKeyCtx ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, key, nullptr));
  REQUIRE(ctx);
  f.check = EVP_PKEY_check(ctx.get()) == 1;
  f.pairwise = EVP_PKEY_pairwise_check(ctx.get()) == 1;
  f.bits = EVP_PKEY_get_bits(key);
  BIGNUM* e = nullptr;
  REQUIRE(EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_RSA_E, &e) == 1);
  f.e = ossl::take_string(BN_bn2hex(ossl::Bignum(e).get()));
  ERR_clear_error();
  return f;
}

std::string private_der(EVP_PKEY* key) { return ossl::to_der<i2d_PrivateKey>(key, "i2d_PrivateKey"); }
std::string public_der(EVP_PKEY* key) { return ossl::to_der<i2d_PUBKEY>(key, "i2d_PUBKEY"); }

std::span<const unsigned char> bytes(const std::string& s) {
  return {reinterpret_cast<const unsigned char*>(s.data()), s.size()};
}

}  // namespace

TEST_CASE("fast/rsa_keygen: the own prime search makes keys as valid as OpenSSL's EVP_PKEY_keygen", "[fast][rsa]") {
  for (int bits : {2048, 3072}) {
    INFO("RSA-" << bits);
    RsaFacts openssl = rsa_facts(detail::openssl_rsa_key(bits).get());
    REQUIRE(openssl.check);
    REQUIRE(openssl.pairwise);
    RsaFacts fast = rsa_facts(detail::fast_rsa_key(bits).get());
    CHECK(fast.check);
    CHECK(fast.pairwise);
    CHECK(fast.bits == openssl.bits);
    CHECK(fast.bits == bits);
    CHECK(fast.e == openssl.e);
  }
  // The worker pool: the primes of several keys raced on two threads, other keys made by `other`.
  std::vector<KeySpec> specs{{KeyAlgo::rsa, 2048}, {KeyAlgo::ecdsa, 256}, {KeyAlgo::rsa, 2049}};
  auto ec_key = [](const KeySpec&) { return ossl::PKey(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256")); };
  size_t reported = 0;
  std::vector<ossl::PKey> keys = detail::generate_keys(specs, 2, [&](size_t, size_t) { ++reported; }, ec_key);
  REQUIRE(keys.size() == specs.size());
  CHECK(reported == specs.size());
  CHECK(EVP_PKEY_get_base_id(keys[1].get()) == EVP_PKEY_EC);
  RsaFacts openssl = rsa_facts(detail::openssl_rsa_key(2048).get());
  for (size_t i : {size_t{0}, size_t{2}}) {
    INFO("key " << i);
    RsaFacts fast = rsa_facts(keys[i].get());
    CHECK(fast.check);
    CHECK(fast.pairwise);
    CHECK(fast.bits == specs[i].size);
    CHECK(fast.e == openssl.e);
  }
}

TEST_CASE("fast/private_key: the strict DER reader gives the key OpenSSL's decoder reads", "[fast][key]") {
  std::vector<std::string> pems;
  for (const KeyPair& k : {KeyPair::generate({KeyAlgo::ecdsa, 256}), KeyPair::generate({KeyAlgo::ecdsa, 384}),
                           KeyPair::generate({KeyAlgo::ecdsa, 521}), shared_rsa2048()})
    pems.push_back(k.to_pem());
  for (const char* file : {"openssl-p256.pem", "openssl-p384.pem", "openssl-p521.pem", "openssl-rsa2048.pem",
                           "cfssl-p256-key.pem", "cfssl-rsa2048-key.pem"})
    pems.push_back(read_fixture(std::string("keys/") + file));
  for (const std::string& pem : pems) {
    PemBlock block = pem_decode(pem);
    INFO(block.label << "\n" << first_line(pem));
    ossl::PKey openssl = detail::openssl_private_key(block.label, bytes(block.der));
    REQUIRE(openssl);
    ossl::PKey fast = detail::fast_private_key(block.label, bytes(block.der));
    REQUIRE(fast);
    CHECK(EVP_PKEY_eq(fast.get(), openssl.get()) == 1);
    CHECK(private_der(fast.get()) == private_der(openssl.get()));
    CHECK(public_der(fast.get()) == public_der(openssl.get()));
  }
  // What it does not read (other labels, other forms) it leaves to OpenSSL, with nothing queued.
  for (const char* file : {"openssl-p256-compressed.pem", "openssl-p256-explicit.pem", "openssl-rsa2048-3-primes.pem"}) {
    PemBlock block = pem_decode(read_fixture(std::string("keys/") + file));
    INFO(file);
    ERR_clear_error();
    CHECK_FALSE(detail::fast_private_key(block.label, bytes(block.der)));
    CHECK(ERR_peek_error() == 0);
    CHECK(detail::openssl_private_key(block.label, bytes(block.der)));
  }
  PemBlock pkcs8 = pem_decode(KeyPair::generate({KeyAlgo::ed25519}).to_pem());  // "PRIVATE KEY": PKCS#8
  CHECK_FALSE(detail::fast_private_key(pkcs8.label, bytes(pkcs8.der)));
  CHECK(detail::openssl_private_key(pkcs8.label, bytes(pkcs8.der)));
}

TEST_CASE("fast/fields_only: a certificate parsed for its fields reads as d2i_X509's does", "[fast][certificate]") {
  const Ca& root = shared_root();
  Ca rsa_root = make_root({KeyAlgo::rsa, 2048}, "rsa-root", fixed_now(), 1);
  std::vector<Certificate> certs{root.cert, rsa_root.cert};
  Profile peer = profile_with({"server auth", "client auth"});
  Request req;
  req.subject.common_name = "member-1";
  req.subject.organization = {"etcd", "tests"};
  req.hosts = {"member-1.example", "10.20.13.10", "::1", "ops@example.com", "spiffe://example/member-1"};
  for (const KeyPair& key : {shared_leaf_key(), KeyPair::generate({KeyAlgo::ed25519})})
    certs.push_back(root.signer().sign(Csr::create(req, key), peer, at_time(fixed_now())).certificate);
  certs.push_back(rsa_root.signer().sign(leaf_csr("client", {}), profile_with({"client auth"}), at_time(fixed_now())).certificate);
  for (const Certificate& c : certs) {
    INFO(c.subject_string());
    std::string der = ossl::to_der<i2d_X509>(c.native_handle(), "i2d_X509");
    const unsigned char* p = bytes(der).data();
    ossl::X509Ptr openssl_x = detail::openssl_certificate(&p, static_cast<long>(der.size()));
    REQUIRE(openssl_x);
    REQUIRE(detail::fields_only_available());
    p = bytes(der).data();
    ossl::X509Ptr fields_x = detail::fields_only_certificate(&p, static_cast<long>(der.size()));
    REQUIRE(fields_x);
    CHECK(X509_get0_pubkey(fields_x.get()) == nullptr);  // not decoded: that is the point
    ERR_clear_error();
    Certificate openssl = Certificate::from_native(openssl_x.get());
    Certificate fields = detail_certificate_built(fields_x.get());
    CHECK(fields.subject_string() == openssl.subject_string());
    CHECK(fields.issuer_string() == openssl.issuer_string());
    CHECK(fields.serial_hex() == openssl.serial_hex());
    CHECK(fields.not_before() == openssl.not_before());
    CHECK(fields.not_after() == openssl.not_after());
    CHECK(fields.sans() == openssl.sans());
    CHECK(fields.ext_key_usage() == openssl.ext_key_usage());
    CHECK(fields.key_usage() == openssl.key_usage());
    CHECK(fields.is_ca() == openssl.is_ca());
    CHECK(fields.path_len() == openssl.path_len());
    CHECK(fields.subject_key_id() == openssl.subject_key_id());
    CHECK(fields.authority_key_id() == openssl.authority_key_id());
    CHECK(fields.sha256_fingerprint() == openssl.sha256_fingerprint());
    CHECK(ossl::to_der<i2d_X509_PUBKEY>(X509_get_X509_PUBKEY(fields_x.get()), "spki") ==
          ossl::to_der<i2d_X509_PUBKEY>(X509_get_X509_PUBKEY(openssl_x.get()), "spki"));
    // Read back with its key decoded, it is OpenSSL's certificate.
    ossl::X509Ptr decoded = detail::with_decoded_key(fields_x.get());
    CHECK(X509_cmp(decoded.get(), openssl_x.get()) == 0);
    REQUIRE(X509_get0_pubkey(decoded.get()) != nullptr);
    CHECK(EVP_PKEY_eq(X509_get0_pubkey(decoded.get()), X509_get0_pubkey(openssl_x.get())) == 1);
  }
}

TEST_CASE("fast/public_key: the hand-encoded SubjectPublicKeyInfo is i2d_PUBKEY's", "[fast][key]") {
  std::vector<ossl::PKey> keys;
  for (const char* curve : {"P-256", "P-384", "P-521"}) keys.emplace_back(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", curve));
  keys.emplace_back(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", size_t{2048}));
  keys.push_back(detail::fast_rsa_key(2049));
  keys.emplace_back(EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519"));
  for (const ossl::PKey& key : keys) {
    REQUIRE(key);
    INFO(EVP_PKEY_get0_type_name(key.get()) << " " << EVP_PKEY_get_bits(key.get()));
    std::string openssl = public_der(key.get());
    CHECK(detail::fast_public_key_der(key.get()) == openssl);
    ossl::PubKeyInfo via_openssl(X509_PUBKEY_new());
    detail::openssl_set_public_key(via_openssl.get(), key.get());
    CHECK(ossl::to_der<i2d_X509_PUBKEY>(via_openssl.get(), "spki") == openssl);
  }
  // A key of a kind it does not build: nothing, and OpenSSL's path still gives i2d_PUBKEY's bytes.
  ossl::PKey x25519(EVP_PKEY_Q_keygen(nullptr, nullptr, "X25519"));
  REQUIRE(x25519);
  ossl::PubKeyInfo spki(X509_PUBKEY_new());
  CHECK_FALSE(detail::build_public_key(spki.get(), x25519.get()));
  CHECK(detail::fast_public_key_der(x25519.get()).empty());
  detail::openssl_set_public_key(spki.get(), x25519.get());
  CHECK(ossl::to_der<i2d_X509_PUBKEY>(spki.get(), "spki") == public_der(x25519.get()));
}
