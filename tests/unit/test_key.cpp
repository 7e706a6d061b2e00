// key.hpp: key specs with cfssl's limits, generation, PEM in and out.
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/pkcs12.h>

#include <cstring>

#include "fast/private_key.hpp"  // detail::fast_private_key
#include "support.hpp"

using namespace test;

namespace {

std::string pem_of(EVP_PKEY* pkey, bool pkcs8) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), BIO_free);
  int rc = pkcs8 ? PEM_write_bio_PrivateKey(bio.get(), pkey, nullptr, nullptr, 0, nullptr, nullptr)
                 : PEM_write_bio_PrivateKey_traditional(bio.get(), pkey, nullptr, nullptr, 0, nullptr, nullptr);
  REQUIRE(rc == 1);
  char* p = nullptr;
  long n = BIO_get_mem_data(bio.get(), &p);
  return std::string(p, static_cast<size_t>(n));
}

const KeyPair& p256() {
  static const KeyPair k = KeyPair::generate({KeyAlgo::ecdsa, 256});
  return k;
}
const KeyPair& ed25519() {
  static const KeyPair k = KeyPair::generate({KeyAlgo::ed25519, 0});
  return k;
}

}  // namespace

TEST_CASE("KeySpec::parse accepts cfssl's algorithms and sizes", "[key]") {
  struct Case {
    const char* algo;
    int size;
    KeySpec expect;
    const char* name;
  };
  const Case cases[] = {
      {"rsa", 2048, {KeyAlgo::rsa, 2048}, "RSA-2048"},
      {"rsa", 3000, {KeyAlgo::rsa, 3000}, "RSA-3000"},
      {"rsa", 3072, {KeyAlgo::rsa, 3072}, "RSA-3072"},
      {"rsa", 4096, {KeyAlgo::rsa, 4096}, "RSA-4096"},
      {"rsa", 8192, {KeyAlgo::rsa, 8192}, "RSA-8192"},
      {"rsa", 0, {KeyAlgo::rsa, 2048}, "RSA-2048"},  // size 0: the default
      {"ecdsa", 256, {KeyAlgo::ecdsa, 256}, "ECDSA P-256"},
      {"ecdsa", 384, {KeyAlgo::ecdsa, 384}, "ECDSA P-384"},
      {"ecdsa", 521, {KeyAlgo::ecdsa, 521}, "ECDSA P-521"},
      {"ecdsa", 0, {KeyAlgo::ecdsa, 256}, "ECDSA P-256"},
      {"ed25519", 0, {KeyAlgo::ed25519, 0}, "Ed25519"},
      {"ed25519", 256, {KeyAlgo::ed25519, 0}, "Ed25519"},  // size ignored, as cfssl
  };
  for (const auto& c : cases) {
    INFO(c.algo << " " << c.size);
    KeySpec got = KeySpec::parse(c.algo, c.size);
    CHECK(got == c.expect);
    CHECK(got.to_string() == c.name);
    CHECK(got.algo_name() == c.algo);
  }
}

TEST_CASE("KeySpec::parse refuses with cfssl's wording", "[key]") {
  struct Case {
    const char* algo;
    int size;
    const char* message;
    const char* field;
  };
  const Case cases[] = {
      {"rsa", 1024, "RSA key is too weak", "key.size"},
      {"rsa", 2047, "RSA key is too weak", "key.size"},
      {"rsa", 256, "RSA key is too weak", "key.size"},
      {"rsa", -1, "RSA key is too weak", "key.size"},
      {"rsa", 8193, "RSA key size too large", "key.size"},
      {"rsa", 16384, "RSA key size too large", "key.size"},
      {"ecdsa", 224, "invalid curve", "key.size"},
      {"ecdsa", 512, "invalid curve", "key.size"},
      {"ecdsa", 2048, "invalid curve", "key.size"},
      {"RSA", 2048, "invalid algorithm", "key.algo"},
      {"ECDSA", 256, "invalid algorithm", "key.algo"},
      {"Ed25519", 0, "invalid algorithm", "key.algo"},
      {"dsa", 2048, "invalid algorithm", "key.algo"},
      {"ec", 256, "invalid algorithm", "key.algo"},
      {"", 0, "invalid algorithm", "key.algo"},
  };
  for (const auto& c : cases) {
    INFO(c.algo << " " << c.size);
    Error e = catch_error([&] { KeySpec::parse(c.algo, c.size, "csr.json"); });
    CHECK(e.category() == Errc::key);
    CHECK_THAT(e.message(), StartsWith(c.message));
    CHECK(e.field() == c.field);
    CHECK(e.source() == "csr.json");
    CHECK_THAT(std::string(e.what()), StartsWith(std::string("csr.json: ") + c.field + ": " + c.message));
  }
}

TEST_CASE("KeySpec::parse uses the caller's field name", "[key]") {
  Error e = catch_error([] { KeySpec::parse("rsa", 1024, "cluster.json", "members[2].key"); });
  CHECK(e.field() == "members[2].key.size");
}

TEST_CASE("KeySpec defaults to ECDSA P-256", "[key]") {
  KeySpec def;
  CHECK(def == KeySpec{KeyAlgo::ecdsa, 256});
}

TEST_CASE("KeyPair::generate makes each key type, written in cfssl's PEM", "[key]") {
  struct Case {
    KeySpec spec;
    const char* label;
    int pkey_id;
  };
  const Case cases[] = {
      {{KeyAlgo::ecdsa, 256}, "-----BEGIN EC PRIVATE KEY-----", EVP_PKEY_EC},
      {{KeyAlgo::ecdsa, 384}, "-----BEGIN EC PRIVATE KEY-----", EVP_PKEY_EC},
      {{KeyAlgo::ecdsa, 521}, "-----BEGIN EC PRIVATE KEY-----", EVP_PKEY_EC},
      {{KeyAlgo::ed25519, 0}, "-----BEGIN PRIVATE KEY-----", EVP_PKEY_ED25519},
      {{KeyAlgo::rsa, 2048}, "-----BEGIN RSA PRIVATE KEY-----", EVP_PKEY_RSA},
  };
  for (const auto& c : cases) {
    INFO(c.spec.to_string());
    KeyPair k = c.spec.algo == KeyAlgo::rsa ? shared_rsa2048() : KeyPair::generate(c.spec);
    CHECK(k.spec() == c.spec);
    CHECK(EVP_PKEY_get_base_id(k.native_handle()) == c.pkey_id);
    std::string pem = k.to_pem();
    CHECK(first_line(pem) == c.label);
    CHECK_THAT(pem, EndsWith(std::string(c.label).replace(5, 5, "END") + "\n"));
    CHECK(pem.find("Proc-Type") == std::string::npos);  // never encrypted

    // Round trip: same key, same bytes.
    KeyPair back = KeyPair::from_pem(pem);
    CHECK(back.same_public_key(k));
    CHECK(back.spec() == c.spec);
    CHECK(back.to_pem() == pem);
  }
}

TEST_CASE("Generated keys are different each time", "[key]") {
  KeyPair a = KeyPair::generate({KeyAlgo::ecdsa, 256});
  KeyPair b = KeyPair::generate({KeyAlgo::ecdsa, 256});
  CHECK_FALSE(a.same_public_key(b));
  CHECK(a.public_key_der() != b.public_key_der());
  CHECK(a.same_public_key(a));
}

TEST_CASE("RSA keys use e = 65537 and the requested modulus", "[key][rsa]") {
  const KeyPair& k = shared_rsa2048();
  BIGNUM* e = nullptr;
  REQUIRE(EVP_PKEY_get_bn_param(k.native_handle(), OSSL_PKEY_PARAM_RSA_E, &e) == 1);
  CHECK(BN_get_word(e) == 65537);
  BN_free(e);
  CHECK(EVP_PKEY_get_bits(k.native_handle()) == 2048);
}

TEST_CASE("EC keys are written as SEC1 with the named curve and public key", "[key]") {
  PemBlock b = pem_decode(p256().to_pem());
  CHECK(b.label == "EC PRIVATE KEY");
  const unsigned char* p = reinterpret_cast<const unsigned char*>(b.der.data());
  // ECPrivateKey ::= SEQUENCE { version 1, privateKey OCTET STRING (32), [0] curve, [1] publicKey }
  REQUIRE(b.der.size() == 121);  // the classic size of a P-256 SEC1 key with both optional fields
  CHECK(p[0] == 0x30);
  CHECK(p[2] == 0x02);  // INTEGER version
  CHECK(p[4] == 0x01);  // = 1
  CHECK(p[5] == 0x04);  // OCTET STRING
  CHECK(p[6] == 32);    // private scalar padded to the curve size
  CHECK(p[39] == 0xA0); // [0] namedCurve
  CHECK(p[51] == 0xA1); // [1] publicKey
}

TEST_CASE("public_key_der is the DER SubjectPublicKeyInfo", "[key]") {
  const KeyPair& k = p256();
  unsigned char* der = nullptr;
  int len = i2d_PUBKEY(k.native_handle(), &der);
  REQUIRE(len > 0);
  std::string expect(reinterpret_cast<char*>(der), static_cast<size_t>(len));
  OPENSSL_free(der);
  CHECK(k.public_key_der() == expect);
  CHECK(k.public_key_der().size() == 91);  // P-256 SPKI
  CHECK(ed25519().public_key_der().size() == 44);
}

TEST_CASE("KeyPair::from_pem reads PKCS#8 RSA and EC keys", "[key]") {
  SECTION("EC") {
    std::string pem = pem_of(p256().native_handle(), true);
    REQUIRE(first_line(pem) == "-----BEGIN PRIVATE KEY-----");
    KeyPair k = KeyPair::from_pem(pem);
    CHECK(k.spec() == KeySpec{KeyAlgo::ecdsa, 256});
    CHECK(k.same_public_key(p256()));
    CHECK(first_line(k.to_pem()) == "-----BEGIN EC PRIVATE KEY-----");  // written back as cfssl writes it
  }
  SECTION("RSA") {
    std::string pem = pem_of(shared_rsa2048().native_handle(), true);
    REQUIRE(first_line(pem) == "-----BEGIN PRIVATE KEY-----");
    KeyPair k = KeyPair::from_pem(pem);
    CHECK(k.spec() == KeySpec{KeyAlgo::rsa, 2048});
    CHECK(k.same_public_key(shared_rsa2048()));
    CHECK(first_line(k.to_pem()) == "-----BEGIN RSA PRIVATE KEY-----");
  }
  SECTION("P-384 SEC1 written by OpenSSL") {
    KeyPair k384 = KeyPair::generate({KeyAlgo::ecdsa, 384});
    KeyPair k = KeyPair::from_pem(pem_of(k384.native_handle(), false));
    CHECK(k.spec() == KeySpec{KeyAlgo::ecdsa, 384});
    CHECK(k.same_public_key(k384));
  }
}

TEST_CASE("KeyPair::from_pem reads cfssl's \"Ed25519 PRIVATE KEY\" label", "[key]") {
  std::string pem = ed25519().to_pem();
  PemBlock b = pem_decode(pem);
  REQUIRE(b.label == "PRIVATE KEY");
  CHECK(b.der.size() == 48);  // PKCS#8 v0, OID 1.3.101.112, 32-byte seed
  std::string cfssl_pem = pem_encode("Ed25519 PRIVATE KEY", b.der);
  KeyPair k = KeyPair::from_pem(cfssl_pem, "ed-key.pem");
  CHECK(k.spec() == KeySpec{KeyAlgo::ed25519, 0});
  CHECK(k.same_public_key(ed25519()));
  CHECK(k.to_pem() == pem);  // written back with the standard label
}

TEST_CASE("KeyPair::from_pem skips EC PARAMETERS blocks before the key", "[key]") {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), BIO_free);
  REQUIRE(PEM_write_bio_Parameters(bio.get(), p256().native_handle()) == 1);
  char* p = nullptr;
  long n = BIO_get_mem_data(bio.get(), &p);
  std::string params(p, static_cast<size_t>(n));
  REQUIRE(first_line(params) == "-----BEGIN EC PARAMETERS-----");

  KeyPair k = KeyPair::from_pem(params + p256().to_pem());
  CHECK(k.same_public_key(p256()));
  // Two parameter blocks and some text around them are fine too.
  KeyPair k2 = KeyPair::from_pem("comment line\n" + params + params + p256().to_pem() + "trailer\n");
  CHECK(k2.same_public_key(p256()));

  Error e = catch_error([&] { KeyPair::from_pem(params, "params.pem"); });
  CHECK(e.category() == Errc::key);
  CHECK(e.source() == "params.pem");
  CHECK_THAT(e.message(), Contains("no PEM private key"));
}

TEST_CASE("KeyPair::from_pem takes the first key of several", "[key]") {
  KeyPair other = KeyPair::generate({KeyAlgo::ecdsa, 256});
  KeyPair k = KeyPair::from_pem(p256().to_pem() + other.to_pem());
  CHECK(k.same_public_key(p256()));
  CHECK_FALSE(k.same_public_key(other));
}

namespace {
// An encrypted PKCS#8 key as OpenSSL's own writer makes it (PBKDF2 with OpenSSL's defaults).
std::string openssl_pkcs8(const KeyPair& key, const char* pass, const EVP_CIPHER* cipher = EVP_aes_256_cbc()) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), BIO_free);
  REQUIRE(PEM_write_bio_PKCS8PrivateKey(bio.get(), key.native_handle(), cipher, pass, static_cast<int>(std::strlen(pass)),
                                        nullptr, nullptr) == 1);
  char* p = nullptr;
  long n = BIO_get_mem_data(bio.get(), &p);
  return std::string(p, static_cast<size_t>(n));
}
}  // namespace

TEST_CASE("KeyPair::from_pem: an encrypted key without its passphrase, or with a wrong one, is Errc::key", "[key][encrypted]") {
  std::string pem = openssl_pkcs8(p256(), "secret");
  REQUIRE(first_line(pem) == "-----BEGIN ENCRYPTED PRIVATE KEY-----");
  CHECK(KeyPair::is_encrypted_pem(pem));
  CHECK_FALSE(KeyPair::is_encrypted_pem(p256().to_pem()));
  CHECK_FALSE(KeyPair::is_encrypted_pem("not pem"));

  Error none = catch_error([&] { KeyPair::from_pem(pem, "ca-key.pem"); });
  CHECK(none.category() == Errc::key);
  CHECK(none.source() == "ca-key.pem");
  CHECK_THAT(none.message(), Contains("encrypted and no passphrase was given"));
  CHECK(none.hint() == Hint::passphrase);  // the CLI names --passphrase-file (test_error.cpp)
  CHECK_THAT(none.message(), !Contains("--"));

  for (const char* wrong : {"Secret", "secret ", "s", "a much longer passphrase than the right one"}) {
    INFO(wrong);
    Error e = catch_error([&] { KeyPair::from_pem(pem, "ca-key.pem", Passphrase(wrong)); });
    CHECK(e.category() == Errc::key);
    CHECK(e.source() == "ca-key.pem");
    CHECK_THAT(e.message(), Contains("wrong passphrase"));
    CHECK(std::string(e.what()).find('\n') == std::string::npos);
  }
}

TEST_CASE("Passphrase::asking: asked only when an encrypted key needs it, once, its answer shared by copies", "[key][encrypted]") {
  std::string pem = openssl_pkcs8(p256(), "secret");
  std::vector<std::pair<std::string, bool>> asked;
  Passphrase p = Passphrase::asking([&](const std::string& source, bool confirm) {
    asked.emplace_back(source, confirm);
    return std::string("secret");
  });
  CHECK(p.empty());
  CHECK(KeyPair::from_pem(p256().to_pem(), "plain.pem", p).same_public_key(p256()));
  CHECK(asked.empty());  // an unencrypted key needs nothing
  Passphrase copy = p;
  CHECK(KeyPair::from_pem(pem, "ca-key.pem", copy).same_public_key(p256()));
  CHECK(KeyPair::from_pem(pem, "ca-key.pem", p).same_public_key(p256()));
  REQUIRE(asked.size() == 1);
  CHECK(asked[0] == std::pair<std::string, bool>{"ca-key.pem", false});
  CHECK(p.or_ask("x").view() == "secret");

  // A given passphrase is used as it is; no asker: none.
  int calls = 0;
  Passphrase given("secret");
  CHECK(given.or_ask("k").view() == "secret");
  CHECK(Passphrase().or_ask("k").empty());
  Passphrase asks_twice = Passphrase::asking([&](const std::string&, bool confirm) {
    ++calls;
    CHECK(confirm);
    return std::string("new");
  });
  CHECK(asks_twice.or_ask("new-key.pem", true).view() == "new");
  CHECK(calls == 1);

  // An asker that throws (empty or different answers) leaves nothing kept: the error is the key's.
  Passphrase refuses = Passphrase::asking([](const std::string& source, bool) -> std::string {
    throw Error(Errc::usage, "the passphrase typed is empty", source);
  });
  Error e = catch_error([&] { KeyPair::from_pem(pem, "ca-key.pem", refuses); });
  CHECK(e.category() == Errc::usage);
  CHECK(e.source() == "ca-key.pem");
}

TEST_CASE("KeyPair::from_pem decrypts PKCS#8 keys that OpenSSL encrypted", "[key][encrypted]") {
  for (const EVP_CIPHER* cipher : {EVP_aes_256_cbc(), EVP_aes_128_cbc(), EVP_des_ede3_cbc()}) {
    INFO(EVP_CIPHER_get0_name(cipher));
    KeyPair k = KeyPair::from_pem(openssl_pkcs8(p256(), "secret", cipher), "k.pem", Passphrase("secret"));
    CHECK(k.same_public_key(p256()));
    CHECK(k.spec() == KeySpec{KeyAlgo::ecdsa, 256});
  }
}

TEST_CASE("KeyPair::from_pem refuses legacy PEM encryption, saying how to convert", "[key][encrypted]") {
  static const char pass[] = "secret";
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), BIO_free);
  REQUIRE(PEM_write_bio_PrivateKey_traditional(bio.get(), p256().native_handle(), EVP_aes_128_cbc(),
                                               reinterpret_cast<const unsigned char*>(pass), 6, nullptr, nullptr) == 1);
  char* p = nullptr;
  long n = BIO_get_mem_data(bio.get(), &p);
  std::string pem(p, static_cast<size_t>(n));
  REQUIRE_THAT(pem, Contains("Proc-Type: 4,ENCRYPTED"));
  CHECK(KeyPair::is_encrypted_pem(pem));
  // With or without the (right) passphrase: refused, with the openssl command that converts it.
  for (const Passphrase& given : {Passphrase(), Passphrase(pass)}) {
    Error e = catch_error([&] { KeyPair::from_pem(pem, "ca-key.pem", given); });
    CHECK(e.category() == Errc::key);
    CHECK(e.source() == "ca-key.pem");
    CHECK_THAT(e.message(), Contains("legacy PEM encryption"));
    CHECK_THAT(e.message(), Contains("openssl pkcs8 -topk8 -v2 aes-256-cbc"));
  }
}

TEST_CASE("to_pem_encrypted: PKCS#8 with PBES2, PBKDF2-HMAC-SHA256 and AES-256-CBC, for every key type", "[key][encrypted]") {
  const Passphrase pass("correct horse battery staple");
  for (const KeyPair* key : {&p256(), &shared_rsa2048(), &ed25519()}) {
    INFO(key->spec().to_string());
    std::string pem = key->to_pem_encrypted(pass);
    CHECK(first_line(pem) == "-----BEGIN ENCRYPTED PRIVATE KEY-----");
    CHECK(KeyPair::is_encrypted_pem(pem));
    KeyPair back = KeyPair::from_pem(pem, "k.pem", pass);
    CHECK(back.same_public_key(*key));
    CHECK(back.spec() == key->spec());
    CHECK(key->to_pem_encrypted(pass) != pem);  // a new salt and IV each time

    // The algorithm identifiers, as OpenSSL decodes them.
    std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())), BIO_free);
    X509_SIG* sig = PEM_read_bio_PKCS8(bio.get(), nullptr, nullptr, nullptr);
    REQUIRE(sig != nullptr);
    const X509_ALGOR* alg = nullptr;
    X509_SIG_get0(sig, &alg, nullptr);
    const ASN1_OBJECT* oid = nullptr;
    const void* param = nullptr;
    int param_type = 0;
    X509_ALGOR_get0(&oid, &param_type, &param, alg);
    REQUIRE(param_type == V_ASN1_SEQUENCE);
    CHECK(OBJ_obj2nid(oid) == NID_pbes2);
    const unsigned char* p = static_cast<const ASN1_STRING*>(param)->data;
    PBE2PARAM* pbe2 = d2i_PBE2PARAM(nullptr, &p, static_cast<const ASN1_STRING*>(param)->length);
    REQUIRE(pbe2 != nullptr);
    CHECK(OBJ_obj2nid(pbe2->encryption->algorithm) == NID_aes_256_cbc);
    CHECK(OBJ_obj2nid(pbe2->keyfunc->algorithm) == NID_id_pbkdf2);
    const ASN1_STRING* kdf_param = static_cast<const ASN1_STRING*>(pbe2->keyfunc->parameter->value.sequence);
    const unsigned char* q = kdf_param->data;
    PBKDF2PARAM* kdf = d2i_PBKDF2PARAM(nullptr, &q, kdf_param->length);
    REQUIRE(kdf != nullptr);
    CHECK(ASN1_INTEGER_get(kdf->iter) == KeyPair::kPbkdf2Iterations);
    CHECK(kdf->salt->value.octet_string->length == 16);
    REQUIRE(kdf->prf != nullptr);
    CHECK(OBJ_obj2nid(kdf->prf->algorithm) == NID_hmacWithSHA256);
    PBKDF2PARAM_free(kdf);
    PBE2PARAM_free(pbe2);
    X509_SIG_free(sig);
  }
  Error e = catch_error([&] { (void)p256().to_pem_encrypted(Passphrase()); });
  CHECK(e.category() == Errc::usage);
}

TEST_CASE("Passphrase: from a file's first line, or an environment variable", "[key][encrypted]") {
  TempDir dir;
  spit(dir / "pass.txt", "line one\r\nline two\n");
  CHECK(Passphrase::from_file(dir / "pass.txt").view() == "line one");
  spit(dir / "nonl.txt", "no newline");
  CHECK(Passphrase::from_file(dir / "nonl.txt").view() == "no newline");
  spit(dir / "empty.txt", "\nsecond line only\n");
  Error empty = catch_error([&] { (void)Passphrase::from_file(dir / "empty.txt"); });
  CHECK(empty.category() == Errc::usage);
  CHECK(empty.source() == dir / "empty.txt");
  CHECK_THAT(empty.message(), Contains("empty"));
  Error missing = catch_error([&] { (void)Passphrase::from_file(dir / "missing.txt"); });
  CHECK(missing.category() == Errc::usage);
  CHECK(missing.source() == dir / "missing.txt");

  ::unsetenv("ETCD_PKI_TEST_PASSPHRASE");
  CHECK(Passphrase::from_env("ETCD_PKI_TEST_PASSPHRASE").empty());
  ::setenv("ETCD_PKI_TEST_PASSPHRASE", "from env", 1);
  CHECK(Passphrase::from_env("ETCD_PKI_TEST_PASSPHRASE").view() == "from env");
  ::setenv("ETCD_PKI_TEST_PASSPHRASE", "", 1);
  CHECK(catch_error([&] { (void)Passphrase::from_env("ETCD_PKI_TEST_PASSPHRASE"); }).category() == Errc::usage);
  ::unsetenv("ETCD_PKI_TEST_PASSPHRASE");
}

TEST_CASE("KeyPair::from_pem refuses other PEM types, naming them", "[key]") {
  const Ca& root = shared_root();
  struct Case {
    std::string pem;
    const char* expect;
  };
  const Case cases[] = {
      {root.cert.to_pem(), "found a PEM \"CERTIFICATE\" block"},
      {leaf_csr("x").to_pem(), "found a PEM \"CERTIFICATE REQUEST\" block"},
      {pem_encode("PUBLIC KEY", p256().public_key_der()), "found a PEM \"PUBLIC KEY\" block"},
      {"", "no PEM private key found"},
      {"not a pem at all\n", "no PEM private key found"},
      {"-----BEGIN EC PRIVATE KEY-----\n!!!!\n-----END EC PRIVATE KEY-----\n", "no PEM private key found"},
  };
  for (const auto& c : cases) {
    INFO(c.expect);
    Error e = catch_error([&] { KeyPair::from_pem(c.pem, "in.pem"); });
    CHECK(e.category() == Errc::key);
    CHECK(e.source() == "in.pem");
    CHECK_THAT(e.message(), Contains(c.expect));
  }
}

TEST_CASE("KeyPair::from_pem: an unparsable key body is Errc::key naming the source", "[key]") {
  // Valid base64, but not a key.
  std::string pem = pem_encode("EC PRIVATE KEY", std::string("\x30\x03\x02\x01\x01", 5));
  Error e = catch_error([&] { KeyPair::from_pem(pem, "broken-key.pem"); });
  CHECK(e.category() == Errc::key);
  CHECK(e.source() == "broken-key.pem");
  CHECK_THAT(e.message(), Contains("cannot parse the EC PRIVATE KEY"));
}

TEST_CASE("KeyPair::from_pem refuses curves cfssl does not use", "[key]") {
  EVP_PKEY* raw = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "secp256k1");
  REQUIRE(raw != nullptr);
  std::string pem = pem_of(raw, false);
  EVP_PKEY_free(raw);
  Error e = catch_error([&] { KeyPair::from_pem(pem, "k1.pem"); });
  CHECK(e.category() == Errc::key);
  CHECK(e.source() == "k1.pem");
  CHECK_THAT(e.message(), Contains("unsupported elliptic curve"));
  CHECK_THAT(e.message(), Contains("secp256k1"));
}

TEST_CASE("KeyPair::from_native shares the OpenSSL key", "[key]") {
  EVP_PKEY* raw = p256().native_handle();
  KeyPair k = KeyPair::from_native(raw);
  CHECK(k.native_handle() == raw);
  CHECK(k.same_public_key(p256()));
  CHECK(k.same_public_key(raw));
  CHECK_FALSE(k.same_public_key(static_cast<EVP_PKEY*>(nullptr)));
  CHECK_FALSE(k.same_public_key(ed25519()));

  Error e = catch_error([] { KeyPair::from_native(nullptr); });
  CHECK(e.category() == Errc::key);
}

namespace {
std::string spki_der(X509_PUBKEY* pub) {
  unsigned char* der = nullptr;
  int len = i2d_X509_PUBKEY(pub, &der);
  REQUIRE(len > 0);
  std::string out(reinterpret_cast<char*>(der), static_cast<size_t>(len));
  OPENSSL_free(der);
  return out;
}
}  // namespace

TEST_CASE("Generated RSA keys pass OpenSSL's full key check (primes, CRT values, sizes)", "[key][rsa]") {
  // 2048 and an odd size: p gets the extra bit, n must still have exactly the requested bits.
  for (int bits : {2048, 2049}) {
    INFO(bits);
    KeyPair k = KeyPair::generate({KeyAlgo::rsa, bits});
    CHECK(EVP_PKEY_get_bits(k.native_handle()) == bits);
    std::unique_ptr<EVP_PKEY_CTX, decltype(&EVP_PKEY_CTX_free)> ctx(
        EVP_PKEY_CTX_new_from_pkey(nullptr, k.native_handle(), nullptr), EVP_PKEY_CTX_free);
    REQUIRE(ctx);
    CHECK(EVP_PKEY_check(ctx.get()) == 1);  // p, q prime; n = pq; d, dP, dQ, qInv consistent
    CHECK(EVP_PKEY_pairwise_check(ctx.get()) == 1);
    BIGNUM *p = nullptr, *q = nullptr, *e = nullptr;
    REQUIRE(EVP_PKEY_get_bn_param(k.native_handle(), OSSL_PKEY_PARAM_RSA_FACTOR1, &p) == 1);
    REQUIRE(EVP_PKEY_get_bn_param(k.native_handle(), OSSL_PKEY_PARAM_RSA_FACTOR2, &q) == 1);
    REQUIRE(EVP_PKEY_get_bn_param(k.native_handle(), OSSL_PKEY_PARAM_RSA_E, &e) == 1);
    CHECK(BN_get_word(e) == 65537);
    CHECK(BN_num_bits(p) == (bits + 1) / 2);
    CHECK(BN_num_bits(q) == bits / 2);
    CHECK(BN_cmp(p, q) > 0);
    BN_clear_free(p), BN_clear_free(q), BN_free(e);
    // The PEM round trip keeps it usable.
    KeyPair back = KeyPair::from_pem(k.to_pem());
    CHECK(back.same_public_key(k));
    CHECK(back.spec() == KeySpec{KeyAlgo::rsa, bits});
  }
}

TEST_CASE("A CSR's and a certificate's public key are the bytes OpenSSL's encoder writes", "[key][csr]") {
  // Csr::create and the signer build the SubjectPublicKeyInfo from the key's parameters, not
  // through OpenSSL's encoder; they must be byte-identical to i2d_PUBKEY for every key type.
  std::vector<KeyPair> keys{shared_rsa2048(), KeyPair::generate({KeyAlgo::rsa, 3072}), p256(),
                            KeyPair::generate({KeyAlgo::ecdsa, 384}), KeyPair::generate({KeyAlgo::ecdsa, 521}),
                            ed25519()};
  for (const KeyPair& k : keys) {
    INFO(k.spec().to_string());
    Request req;
    req.subject.common_name = "spki";
    req.hosts = {"spki.example"};
    Csr csr = Csr::create(req, k);
    CHECK(spki_der(X509_REQ_get_X509_PUBKEY(csr.native_handle())) == k.public_key_der());
    CHECK(csr.key_spec() == k.spec());
    CHECK(csr.public_key().same_public_key(k));
    // Its signature verifies once read back, as any parser sees it.
    Csr parsed = Csr::from_pem(csr.to_pem());
    CHECK(parsed.public_key().same_public_key(k));
    Certificate cert = shared_root().signer().sign(csr, profile_with({"server auth"}), at_time(fixed_now())).certificate;
    CHECK(spki_der(X509_get_X509_PUBKEY(cert.native_handle())) == k.public_key_der());
    CHECK(cert.public_key().same_public_key(k));
    CHECK(X509_get0_pubkey(cert.native_handle()) != nullptr);
    CHECK(cert.signed_by(shared_root().cert));
  }
}

// SEC1 and PKCS#1 keys are read without OpenSSL's decoder (detail::fast_private_key); whatever it
// does not take goes to d2i_PrivateKey. Either way the result must be OpenSSL's own.
namespace {
using PKeyPtr = std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)>;

ossl::PKey fast(const std::string& label, const std::string& der) {
  return detail::fast_private_key(label, {reinterpret_cast<const unsigned char*>(der.data()), der.size()});
}

// OpenSSL's reading of a "RSA PRIVATE KEY" or "EC PRIVATE KEY" block: what from_pem used to do.
PKeyPtr openssl_key(const std::string& label, const std::string& der) {
  const unsigned char* p = reinterpret_cast<const unsigned char*>(der.data());
  int type = label == "RSA PRIVATE KEY" ? EVP_PKEY_RSA : EVP_PKEY_EC;
  return PKeyPtr(d2i_PrivateKey(type, nullptr, &p, static_cast<long>(der.size())), EVP_PKEY_free);
}

// The message throw_openssl makes of `message` and the OpenSSL error queue as it stands.
std::string openssl_message(const std::string& message) {
  return catch_error([&] { throw_openssl(Errc::key, message); }).message();
}

bool signs_for(EVP_PKEY* signer, EVP_PKEY* verifier) {
  static const unsigned char msg[] = "etcd-pki fast key path";
  using MdCtx = std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)>;
  MdCtx sctx(EVP_MD_CTX_new(), EVP_MD_CTX_free), vctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  size_t len = 0;
  if (EVP_DigestSignInit_ex(sctx.get(), nullptr, "SHA256", nullptr, nullptr, signer, nullptr) != 1 ||
      EVP_DigestSign(sctx.get(), nullptr, &len, msg, sizeof msg) != 1)
    return false;
  std::string sig(len, '\0');
  auto* s = reinterpret_cast<unsigned char*>(sig.data());
  return EVP_DigestSign(sctx.get(), s, &len, msg, sizeof msg) == 1 &&
         EVP_DigestVerifyInit_ex(vctx.get(), nullptr, "SHA256", nullptr, nullptr, verifier, nullptr) == 1 &&
         EVP_DigestVerify(vctx.get(), s, len, msg, sizeof msg) == 1;
}

// The fast path's key is OpenSSL's: same public key, same private key (same PEM), same size and
// spec, and it signs for it.
void check_same_key(EVP_PKEY* got, EVP_PKEY* openssl) {
  CHECK(EVP_PKEY_eq(got, openssl) == 1);
  CHECK(pem_of(got, false) == pem_of(openssl, false));
  CHECK(EVP_PKEY_get_bits(got) == EVP_PKEY_get_bits(openssl));
  CHECK(KeyPair::from_native(got).spec() == KeyPair::from_native(openssl).spec());
  CHECK(KeyPair::from_native(got).public_key_der() == KeyPair::from_native(openssl).public_key_der());
  CHECK(signs_for(got, openssl));
}

// from_pem of the block gives what d2i_PrivateKey gives: the same key, or the same error.
void check_reads_as_openssl(const std::string& label, const std::string& der) {
  std::string pem = pem_encode(label, der);
  ERR_clear_error();
  PKeyPtr openssl = openssl_key(label, der);
  if (!openssl) {
    std::string expect = openssl_message("cannot parse the " + label);
    Error e = catch_error([&] { KeyPair::from_pem(pem, "k.pem"); });
    CHECK(e.category() == Errc::key);
    CHECK(e.message() == expect);
    return;
  }
  if (EVP_PKEY_get_base_id(openssl.get()) == EVP_PKEY_EC)  // etcd-pki's public key is always uncompressed
    REQUIRE(EVP_PKEY_set_utf8_string_param(openssl.get(), OSSL_PKEY_PARAM_EC_POINT_CONVERSION_FORMAT, "uncompressed") == 1);
  KeyPair expect = KeyPair::from_native(openssl.get());
  try {
    (void)expect.spec();
  } catch (const Error& spec_error) {  // read, but a curve from_pem refuses
    Error e = catch_error([&] { KeyPair::from_pem(pem, "k.pem"); });
    CHECK(e.category() == Errc::key);
    CHECK(e.message() == spec_error.message());
    return;
  }
  KeyPair k = KeyPair::from_pem(pem, "k.pem");
  CHECK(EVP_PKEY_eq(k.native_handle(), openssl.get()) == 1);
  CHECK(k.to_pem() == expect.to_pem());
  CHECK(k.public_key_der() == expect.public_key_der());
  CHECK(k.spec() == expect.spec());
}

// DER by hand, for the malformed variants.
std::string tlv(unsigned char tag, const std::string& body) {
  std::string out(1, static_cast<char>(tag));
  size_t n = body.size();
  if (n >= 0x100) out += {'\x82', static_cast<char>(n >> 8)};
  else if (n >= 0x80) out += '\x81';
  return out + static_cast<char>(n & 0xff) + body;
}
std::string integer(const BIGNUM* bn) {
  std::string mag(static_cast<size_t>(BN_num_bytes(bn)), '\0');
  BN_bn2bin(bn, reinterpret_cast<unsigned char*>(mag.data()));
  return static_cast<unsigned char>(mag[0]) >= 0x80 ? '\0' + mag : mag;
}
}  // namespace

TEST_CASE("KeyPair::from_pem reads generated SEC1 and PKCS#1 keys on the fast path, as OpenSSL does", "[key][fast]") {
  std::vector<KeyPair> keys{KeyPair::generate({KeyAlgo::ecdsa, 256}), KeyPair::generate({KeyAlgo::ecdsa, 384}),
                            KeyPair::generate({KeyAlgo::ecdsa, 521}), shared_rsa2048(),
                            KeyPair::generate({KeyAlgo::rsa, 3072})};
  for (const KeyPair& k : keys) {
    INFO(k.spec().to_string());
    std::string pem = k.to_pem();
    PemBlock b = pem_decode(pem);
    ossl::PKey got = fast(b.label, b.der);
    REQUIRE(got);
    CHECK(EVP_PKEY_eq(got.get(), k.native_handle()) == 1);
    PKeyPtr openssl = openssl_key(b.label, b.der);
    REQUIRE(openssl);
    check_same_key(got.get(), openssl.get());
    CHECK(pem_of(got.get(), false) == pem);

    KeyPair back = KeyPair::from_pem(pem);
    CHECK(back.same_public_key(k));
    CHECK(back.spec() == k.spec());
    CHECK(back.to_pem() == pem);
  }
}

TEST_CASE("OpenSSL's and cfssl's SEC1 and PKCS#1 keys take the fast path and read back byte for byte", "[key][fast]") {
  for (const char* file : {"openssl-p256.pem", "openssl-p384.pem", "openssl-p521.pem", "openssl-rsa2048.pem",
                           "cfssl-p256-key.pem", "cfssl-rsa2048-key.pem"}) {
    INFO(file);
    std::string pem = read_fixture(std::string("keys/") + file);
    PemBlock b = pem_decode(pem);
    ossl::PKey got = fast(b.label, b.der);
    REQUIRE(got);
    PKeyPtr openssl = openssl_key(b.label, b.der);
    REQUIRE(openssl);
    check_same_key(got.get(), openssl.get());
    CHECK(KeyPair::from_pem(pem).to_pem() == pem);
  }
}

TEST_CASE("Other SEC1 and PKCS#1 forms are left to OpenSSL's decoder, with the same result", "[key][fast]") {
  struct Case {
    const char* file;
    const char* why;
  };
  const Case cases[] = {
      {"openssl-p256-no-public.pem", "no public key: OpenSSL computes it, and writes the key back without it"},
      {"openssl-p256-compressed.pem", "compressed point"},
      {"openssl-p256-explicit.pem", "explicit curve parameters"},
      {"openssl-rsa2048-3-primes.pem", "multi-prime RSA (PKCS#1 version 1)"},
  };
  for (const auto& c : cases) {
    INFO(c.file << ": " << c.why);
    PemBlock b = pem_decode(read_fixture(std::string("keys/") + c.file));
    CHECK_FALSE(fast(b.label, b.der));
    check_reads_as_openssl(b.label, b.der);
  }
  // A compressed point is read as the same key, and used uncompressed everywhere: the PEM written
  // back, public_key_der (OpenSSL 3.0 alone would keep it compressed there, and the key would then
  // change in a PEM round trip: fuzz_pem found it), and the CSR made with it.
  KeyPair compressed = KeyPair::from_pem(read_fixture("keys/openssl-p256-compressed.pem"));
  KeyPair uncompressed = KeyPair::from_pem(read_fixture("keys/openssl-p256.pem"));
  CHECK(compressed.to_pem() == uncompressed.to_pem());
  CHECK(compressed.public_key_der() == uncompressed.public_key_der());
  CHECK(compressed.public_key_der().size() == 91);
  CHECK(KeyPair::from_pem(compressed.to_pem()).public_key_der() == compressed.public_key_der());
  Csr csr = Csr::create(Request::from_json(R"({"CN":"compressed"})"), compressed);
  CHECK(csr.public_key().public_key_der() == compressed.public_key_der());
  // Other labels are not the fast path's.
  std::string pkcs8 = pem_of(p256().native_handle(), true);
  CHECK_FALSE(fast("PRIVATE KEY", pem_decode(pkcs8).der));
  CHECK_FALSE(fast("EC PRIVATE KEY", ""));
  CHECK_FALSE(fast("RSA PRIVATE KEY", ""));
}

TEST_CASE("fast_private_key: SEC1 variants it takes and refuses; from_pem reads each as OpenSSL does", "[key][fast]") {
  const KeyPair k = KeyPair::from_pem(read_fixture("keys/openssl-p256.pem"));
  const std::string der = pem_decode(k.to_pem()).der;
  BIGNUM* d = nullptr;
  REQUIRE(EVP_PKEY_get_bn_param(k.native_handle(), OSSL_PKEY_PARAM_PRIV_KEY, &d) == 1);
  std::string scalar(32, '\0');
  REQUIRE(BN_bn2binpad(d, reinterpret_cast<unsigned char*>(scalar.data()), 32) == 32);
  BN_clear_free(d);
  unsigned char point_buf[65];
  size_t point_len = 0;
  REQUIRE(EVP_PKEY_get_octet_string_param(k.native_handle(), OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, point_buf,
                                          sizeof point_buf, &point_len) == 1);
  const std::string point(reinterpret_cast<char*>(point_buf), point_len);
  const std::string p256_oid("\x2a\x86\x48\xce\x3d\x03\x01\x07", 8), secp256k1_oid("\x2b\x81\x04\x00\x0a", 5);

  const std::string version = tlv(0x02, "\x01"), priv = tlv(0x04, scalar), curve = tlv(0xa0, tlv(0x06, p256_oid));
  const std::string pub = tlv(0xa1, tlv(0x03, '\0' + point));
  const std::string body = version + priv + curve + pub;
  REQUIRE(tlv(0x30, body) == der);  // the builder writes what OpenSSL wrote
  std::string off_curve = point, hybrid = point;  // hybrid: 0x06 or 0x07 (the parity of y), then x and y
  off_curve.back() ^= 1;
  hybrid[0] = static_cast<char>(0x06 | (point.back() & 1));

  struct Case {
    const char* what;
    std::string der;
    bool fast;
  };
  const Case cases[] = {
      {"as OpenSSL writes it", der, true},
      {"an unpadded 31-byte scalar (different key, same handling)", tlv(0x30, version + tlv(0x04, scalar.substr(1)) + curve + pub), true},
      {"no public key", tlv(0x30, version + priv + curve), false},
      {"no parameters", tlv(0x30, version + priv + pub), false},
      {"neither", tlv(0x30, version + priv), false},
      {"version 0", tlv(0x30, tlv(0x02, std::string(1, '\0')) + priv + curve + pub), false},
      {"version 2", tlv(0x30, tlv(0x02, "\x02") + priv + curve + pub), false},
      {"secp256k1", tlv(0x30, version + priv + tlv(0xa0, tlv(0x06, secp256k1_oid)) + pub), false},
      {"scalar padded to 33 bytes", tlv(0x30, version + tlv(0x04, '\0' + scalar) + curve + pub), false},
      {"BIT STRING with 1 unused bit", tlv(0x30, version + priv + curve + tlv(0xa1, tlv(0x03, '\x01' + point))), false},
      {"hybrid point (read by OpenSSL, then used uncompressed)", tlv(0x30, version + priv + curve + tlv(0xa1, tlv(0x03, '\0' + hybrid))), false},
      {"point not on the curve", tlv(0x30, version + priv + curve + tlv(0xa1, tlv(0x03, '\0' + off_curve))), false},
      {"parameters and public key swapped", tlv(0x30, version + priv + pub + curve), false},
      {"truncated", der.substr(0, der.size() - 1), false},
      {"trailing bytes", der + std::string(2, '\0'), false},
      {"a long-form length under 128", std::string("\x30\x81", 2) + char(body.size()) + body, false},
      {"an indefinite length", std::string("\x30\x80", 2) + body + std::string(2, '\0'), false},
      {"a SEQUENCE of the right length and nothing in it", std::string("\x30\x00", 2), false},
  };
  for (const auto& c : cases) {
    INFO(c.what);
    ERR_clear_error();
    CHECK(bool(fast("EC PRIVATE KEY", c.der)) == c.fast);
    CHECK(ERR_peek_error() == 0);  // a refusal leaves nothing queued for d2i_PrivateKey's error
    check_reads_as_openssl("EC PRIVATE KEY", c.der);
  }
}

TEST_CASE("fast_private_key: PKCS#1 variants it takes and refuses; from_pem reads each as OpenSSL does", "[key][fast]") {
  const std::string der = pem_decode(read_fixture("keys/openssl-rsa2048.pem")).der;
  PKeyPtr key = openssl_key("RSA PRIVATE KEY", der);
  REQUIRE(key);
  std::vector<std::string> ints;  // n, e, d, p, q, dP, dQ, qInv as DER INTEGERs
  for (const char* name : {OSSL_PKEY_PARAM_RSA_N, OSSL_PKEY_PARAM_RSA_E, OSSL_PKEY_PARAM_RSA_D,
                           OSSL_PKEY_PARAM_RSA_FACTOR1, OSSL_PKEY_PARAM_RSA_FACTOR2, OSSL_PKEY_PARAM_RSA_EXPONENT1,
                           OSSL_PKEY_PARAM_RSA_EXPONENT2, OSSL_PKEY_PARAM_RSA_COEFFICIENT1}) {
    BIGNUM* bn = nullptr;
    REQUIRE(EVP_PKEY_get_bn_param(key.get(), name, &bn) == 1);
    ints.push_back(tlv(0x02, integer(bn)));
    BN_clear_free(bn);
  }
  auto join = [](const std::vector<std::string>& v, size_t from, size_t to) {
    std::string out;
    for (size_t i = from; i < to; ++i) out += v[i];
    return out;
  };
  const std::string v0 = tlv(0x02, std::string(1, '\0')), all = join(ints, 0, 8);
  REQUIRE(tlv(0x30, v0 + all) == der);
  REQUIRE(ints[0].substr(0, 5) == std::string("\x02\x82\x01\x01\x00", 5));  // n: 256 bytes after a 0 pad
  const std::string n_negative = tlv(0x02, ints[0].substr(5)), n_padded = tlv(0x02, '\0' + ints[0].substr(4));
  const std::string e_padded = tlv(0x02, std::string("\x00\x01\x00\x01", 4));
  const std::string other_primes = tlv(0x30, tlv(0x30, ints[3] + ints[5] + ints[7]));

  struct Case {
    const char* what;
    std::string der;
    bool fast;
  };
  const Case cases[] = {
      {"as OpenSSL writes it", der, true},
      {"version 1 (multi-prime) without other primes", tlv(0x30, tlv(0x02, "\x01") + all), false},
      {"version 1 with other primes", tlv(0x30, tlv(0x02, "\x01") + all + other_primes), false},
      {"version 0 with other primes", tlv(0x30, v0 + all + other_primes), false},
      {"no coefficient", tlv(0x30, v0 + join(ints, 0, 7)), false},
      {"n negative", tlv(0x30, v0 + n_negative + join(ints, 1, 8)), false},
      {"n with two leading zeros", tlv(0x30, v0 + n_padded + join(ints, 1, 8)), false},
      {"e with a needless leading zero", tlv(0x30, v0 + ints[0] + e_padded + join(ints, 2, 8)), false},
      {"a zero where d goes", tlv(0x30, v0 + join(ints, 0, 2) + tlv(0x02, std::string(1, '\0')) + join(ints, 3, 8)), false},
      {"truncated", der.substr(0, der.size() - 1), false},
      {"trailing bytes", der + std::string(2, '\0'), false},
      {"a length with a leading zero byte", std::string("\x30\x83\x00", 3) + der.substr(2), false},
  };
  for (const auto& c : cases) {
    INFO(c.what);
    ERR_clear_error();
    CHECK(bool(fast("RSA PRIVATE KEY", c.der)) == c.fast);
    CHECK(ERR_peek_error() == 0);
    check_reads_as_openssl("RSA PRIVATE KEY", c.der);
  }
}
