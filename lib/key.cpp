#include "etcd_pki/key.hpp"

#include <openssl/core_names.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <optional>
#include <span>
#include <string_view>

#include "etcd_pki/files.hpp"

#include "fast/private_key.hpp"
#include "fast/rsa_keygen.hpp"
#include "internal.hpp"
#include "ossl.hpp"

namespace etcd_pki {

KeySpec KeySpec::parse(std::string_view algo, int size, const std::string& source, const std::string& field) {
  auto fail = [&](const std::string& msg, const char* sub) {
    return Error(Errc::key, msg, source, field + sub);
  };
  if (algo == "rsa") {
    if (size == 0) size = 2048;
    if (size < 2048) throw fail("RSA key is too weak (" + std::to_string(size) + " bits; use 2048 to 8192)", ".size");
    if (size > 8192) throw fail("RSA key size too large (" + std::to_string(size) + " bits; use 2048 to 8192)", ".size");
    return {KeyAlgo::rsa, size};
  }
  if (algo == "ecdsa") {
    if (size == 0) size = 256;
    if (size != 256 && size != 384 && size != 521)
      throw fail("invalid curve (size " + std::to_string(size) + "; use 256, 384 or 521)", ".size");
    return {KeyAlgo::ecdsa, size};
  }
  if (algo == "ed25519") return {KeyAlgo::ed25519, 0};
  throw fail("invalid algorithm \"" + std::string(algo) + "\" (use \"rsa\", \"ecdsa\" or \"ed25519\", lower case)",
             ".algo");
}

std::string KeySpec::algo_name() const {
  switch (algo) {
    case KeyAlgo::rsa: return "rsa";
    case KeyAlgo::ecdsa: return "ecdsa";
    case KeyAlgo::ed25519: return "ed25519";
  }
  return "?";
}

std::string KeySpec::to_string() const {
  switch (algo) {
    case KeyAlgo::rsa: return "RSA-" + std::to_string(size);
    case KeyAlgo::ecdsa: return "ECDSA P-" + std::to_string(size);
    case KeyAlgo::ed25519: return "Ed25519";
  }
  return "?";
}

namespace {
using ossl::share;

ossl::PKey generate_one(const KeySpec& spec) {
  EVP_PKEY* raw = nullptr;
  switch (spec.algo) {
    case KeyAlgo::rsa: return detail::fast_rsa_key(spec.size);
    case KeyAlgo::ecdsa: {
      const char* curve = spec.size == 384 ? "P-384" : spec.size == 521 ? "P-521" : "P-256";
      raw = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", curve);
      break;
    }
    case KeyAlgo::ed25519: raw = EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519"); break;
  }
  return ossl::check<ossl::PKey>(raw, "generating an " + spec.to_string() + " key", Errc::crypto);
}

}  // namespace

KeyPair KeyPair::generate(const KeySpec& spec, unsigned threads) {
  if (spec.algo != KeyAlgo::rsa || threads == 1) {
    ossl::ClearErrors clear;
    return KeyPair(share(generate_one(spec)));
  }
  return std::move(generate_many({spec}, threads).front());
}

std::vector<KeyPair> KeyPair::generate_many(const std::vector<KeySpec>& specs, unsigned threads,
                                            const std::function<void(size_t, size_t)>& progress) {
  std::vector<ossl::PKey> keys = detail::generate_keys(specs, threads, progress, generate_one);
  std::vector<KeyPair> out;
  out.reserve(specs.size());
  for (auto& k : keys) out.push_back(KeyPair(share(std::move(k))));
  return out;
}

KeyPair KeyPair::from_native(EVP_PKEY* pkey) {
  if (!pkey || EVP_PKEY_up_ref(pkey) != 1) throw Error(Errc::key, "no key given");
  return KeyPair(share(ossl::PKey(pkey)));
}

Passphrase::~Passphrase() {
  if (!text_.empty()) OPENSSL_cleanse(text_.data(), text_.size());
}

struct Passphrase::Asked {
  Asker ask;
  std::mutex mutex;
  std::optional<Passphrase> answer;
};

Passphrase Passphrase::asking(Asker ask) {
  Passphrase p;
  if (ask) {
    p.asked_ = std::make_shared<Asked>();
    p.asked_->ask = std::move(ask);
  }
  return p;
}

Passphrase Passphrase::or_ask(const std::string& source, bool confirm) const {
  if (!empty() || !asked_) return *this;
  std::lock_guard lock(asked_->mutex);
  if (!asked_->answer) {
    std::string text = asked_->ask(source, confirm);
    asked_->answer.emplace(text);
    OPENSSL_cleanse(text.data(), text.size());
  }
  return *asked_->answer;
}

Passphrase Passphrase::from_file(const std::string& path) {
  std::string text = read_text_file(path, Errc::usage);
  Passphrase p(text.substr(0, text.find_first_of("\r\n")));
  OPENSSL_cleanse(text.data(), text.size());
  if (p.empty()) throw Error(Errc::usage, "the passphrase file is empty (its first line is the passphrase)", path);
  return p;
}

Passphrase Passphrase::from_env(const std::string& name) {
  const char* value = std::getenv(name.c_str());
  if (!value) return {};
  if (!*value) throw Error(Errc::usage, "the environment variable " + name + " is set but empty");
  return Passphrase(value);
}

namespace {
bool encrypted_block(const ossl::PemBlock& block) {
  return block.label == "ENCRYPTED PRIVATE KEY" || block.header.find("ENCRYPTED") != std::string::npos;
}

// An "ENCRYPTED PRIVATE KEY" block (PKCS#8 EncryptedPrivateKeyInfo), decrypted.
ossl::PKey decrypt_pkcs8(const ossl::PemBlock& block, const std::string& source, const Passphrase& given) {
  const Passphrase passphrase = given.or_ask(source);
  if (passphrase.empty())
    throw Error(Errc::key, "the private key is encrypted and no passphrase was given", source).with_hint(Hint::passphrase);
  const unsigned char* p = block.der;
  ossl::X509Sig sig(d2i_X509_SIG(nullptr, &p, block.len));
  if (!sig) throw_openssl(Errc::key, "cannot parse the ENCRYPTED PRIVATE KEY", source);
  std::string_view pass = passphrase.view();
  ossl::P8Info info(PKCS8_decrypt_ex(sig.get(), pass.data(), static_cast<int>(pass.size()), nullptr, nullptr));
  if (!info) {
    ERR_clear_error();
    throw Error(Errc::key, "cannot decrypt the private key: wrong passphrase (or a damaged key)", source);
  }
  ossl::PKey key(EVP_PKCS82PKEY_ex(info.get(), nullptr, nullptr));
  if (!key) throw_openssl(Errc::key, "cannot parse the decrypted private key", source);
  return key;
}
}  // namespace

bool KeyPair::is_encrypted_pem(std::string_view pem) {
  auto bio = ossl::mem_bio(pem);
  while (auto block = ossl::next_pem_block(bio.get()))
    if (block->label.ends_with("PRIVATE KEY")) return encrypted_block(*block);
  return false;
}

KeyPair KeyPair::from_pem(std::string_view pem, const std::string& source, const Passphrase& passphrase) {
  ossl::ClearErrors clear;
  auto bio = ossl::mem_bio(pem);
  for (;;) {
    auto block = ossl::next_pem_block(bio.get());
    if (!block) throw Error(Errc::key, "no PEM private key found", source);
    const std::string& label = block->label;
    if (label == "EC PARAMETERS") continue;
    if (encrypted_block(*block) && label != "ENCRYPTED PRIVATE KEY")
      throw Error(Errc::key,
                  "legacy PEM encryption (Proc-Type: 4,ENCRYPTED) is not supported; convert the key to encrypted PKCS#8: "
                  "openssl pkcs8 -topk8 -v2 aes-256-cbc -in KEY -out NEW-KEY",
                  source);
    if (label != "PRIVATE KEY" && label != "RSA PRIVATE KEY" && label != "EC PRIVATE KEY" &&
        label != "Ed25519 PRIVATE KEY" && label != "ENCRYPTED PRIVATE KEY")
      throw Error(Errc::key, "expected a private key, found a PEM \"" + label + "\" block", source);
    std::span<const unsigned char> der{block->der, static_cast<size_t>(block->len)};
    ossl::PKey pkey;
    if (label == "ENCRYPTED PRIVATE KEY") pkey = decrypt_pkcs8(*block, source, passphrase);
    else if (!(pkey = detail::fast_private_key(label, der)))  // the common SEC1 and PKCS#1 keys
      pkey = detail::openssl_private_key(label, der);    // every other form
    if (!pkey) throw_openssl(Errc::key, "cannot parse the " + label, source);
    // An EC key read with a compressed (or hybrid) point would keep that form for its public key
    // (i2d_PUBKEY), unlike the certificates and CSRs made for it and the PEM written for it:
    // always uncompressed, as Go and cfssl write it.
    if (EVP_PKEY_get_base_id(pkey.get()) == EVP_PKEY_EC)
      ossl::check(EVP_PKEY_set_utf8_string_param(pkey.get(), OSSL_PKEY_PARAM_EC_POINT_CONVERSION_FORMAT,
                                                 OSSL_PKEY_EC_POINT_CONVERSION_FORMAT_UNCOMPRESSED),
                  "setting the EC point format", Errc::key);
    KeyPair kp(share(std::move(pkey)));
    try {
      (void)kp.spec();
    } catch (const Error& e) {
      throw e.with_source(source);
    }
    return kp;
  }
}

std::string KeyPair::to_pem() const {
  ossl::ClearErrors clear;
  auto bio = ossl::secret_bio();
  int rc = EVP_PKEY_get_base_id(pkey_.get()) == EVP_PKEY_ED25519
               ? PEM_write_bio_PrivateKey(bio.get(), pkey_.get(), nullptr, nullptr, 0, nullptr, nullptr)
               : PEM_write_bio_PrivateKey_traditional(bio.get(), pkey_.get(), nullptr, nullptr, 0, nullptr, nullptr);
  ossl::check(rc, "encoding the private key");
  return ossl::bio_string(bio.get());
}

std::string KeyPair::to_pem_encrypted(const Passphrase& passphrase) const {
  if (passphrase.empty()) throw Error(Errc::usage, "an empty passphrase cannot encrypt a key");
  ossl::ClearErrors clear;
  auto info = ossl::check<ossl::P8Info>(EVP_PKEY2PKCS8(pkey_.get()), "encoding the private key as PKCS#8");
  // A NULL salt of 16 bytes: a random one.
  auto pbe = ossl::check<ossl::Algor>(
      PKCS5_pbe2_set_iv_ex(EVP_aes_256_cbc(), kPbkdf2Iterations, nullptr, 16, nullptr, NID_hmacWithSHA256, nullptr),
      "setting up PBKDF2 and AES-256-CBC");
  std::string_view pass = passphrase.view();
  ossl::X509Sig sig(PKCS8_set0_pbe_ex(pass.data(), static_cast<int>(pass.size()), info.get(), pbe.get(), nullptr, nullptr));
  if (!sig) throw_openssl(Errc::crypto, "encrypting the private key");
  (void)pbe.release();  // owned by sig now
  auto bio = ossl::mem_bio();
  ossl::check(PEM_write_bio_PKCS8(bio.get(), sig.get()), "encoding the encrypted private key");
  return ossl::bio_string(bio.get());
}

KeySpec KeyPair::spec() const {
  switch (EVP_PKEY_get_base_id(pkey_.get())) {
    case EVP_PKEY_RSA: return {KeyAlgo::rsa, EVP_PKEY_get_bits(pkey_.get())};
    case EVP_PKEY_EC: {
      char group[64] = {};
      size_t len = 0;
      EVP_PKEY_get_utf8_string_param(pkey_.get(), OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof group, &len);
      std::string g = group;
      if (g == "prime256v1" || g == "P-256") return {KeyAlgo::ecdsa, 256};
      if (g == "secp384r1" || g == "P-384") return {KeyAlgo::ecdsa, 384};
      if (g == "secp521r1" || g == "P-521") return {KeyAlgo::ecdsa, 521};
      throw Error(Errc::key, "unsupported elliptic curve \"" + g + "\" (use P-256, P-384 or P-521)");
    }
    case EVP_PKEY_ED25519: return {KeyAlgo::ed25519, 0};
    default: throw Error(Errc::key, std::string("unsupported key type ") + EVP_PKEY_get0_type_name(pkey_.get()));
  }
}

std::string KeyPair::public_key_der() const { return ossl::to_der<i2d_PUBKEY>(pkey_.get(), "encoding the public key"); }

bool KeyPair::same_public_key(const KeyPair& other) const { return same_public_key(other.pkey_.get()); }
bool KeyPair::same_public_key(EVP_PKEY* other) const {
  bool same = other && EVP_PKEY_eq(pkey_.get(), other) == 1;
  ERR_clear_error();
  return same;
}

namespace detail {
const EVP_MD* signature_digest(const KeyPair& key) {
  KeySpec s = key.spec();
  switch (s.algo) {
    case KeyAlgo::rsa: return s.size >= 4096 ? EVP_sha512() : s.size >= 3072 ? EVP_sha384() : EVP_sha256();
    case KeyAlgo::ecdsa: return s.size == 521 ? EVP_sha512() : s.size == 384 ? EVP_sha384() : EVP_sha256();
    case KeyAlgo::ed25519: return nullptr;
  }
  return nullptr;
}
}  // namespace detail

}  // namespace etcd_pki
