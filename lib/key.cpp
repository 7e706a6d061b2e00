#include "etcd_pki/key.hpp"

#include <openssl/core_names.h>
#include <openssl/pem.h>

#include <cstring>

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
}  // namespace

KeyPair KeyPair::generate(const KeySpec& spec) {
  ossl::ClearErrors clear;
  EVP_PKEY* raw = nullptr;
  switch (spec.algo) {
    case KeyAlgo::rsa: raw = EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<size_t>(spec.size)); break;
    case KeyAlgo::ecdsa: {
      const char* curve = spec.size == 384 ? "P-384" : spec.size == 521 ? "P-521" : "P-256";
      raw = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", curve);
      break;
    }
    case KeyAlgo::ed25519: raw = EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519"); break;
  }
  return KeyPair(share(ossl::check<ossl::PKey>(raw, "generating a " + spec.to_string() + " key", Errc::crypto)));
}

KeyPair KeyPair::from_native(EVP_PKEY* pkey) {
  if (!pkey || EVP_PKEY_up_ref(pkey) != 1) throw Error(Errc::key, "no key given");
  return KeyPair(share(ossl::PKey(pkey)));
}

KeyPair KeyPair::from_pem(std::string_view pem, const std::string& source) {
  ossl::ClearErrors clear;
  auto bio = ossl::mem_bio(pem);
  for (;;) {
    auto block = ossl::next_pem_block(bio.get());
    if (!block) throw Error(Errc::key, "no PEM private key found", source);
    const std::string& label = block->label;
    if (label == "EC PARAMETERS") continue;
    if (label == "ENCRYPTED PRIVATE KEY" || block->header.find("ENCRYPTED") != std::string::npos)
      throw Error(Errc::key, "private key is encrypted; give an unencrypted key (etcd cannot read encrypted keys either)",
                  source);
    if (label != "PRIVATE KEY" && label != "RSA PRIVATE KEY" && label != "EC PRIVATE KEY" &&
        label != "Ed25519 PRIVATE KEY")
      throw Error(Errc::key, "expected a private key, found a PEM \"" + label + "\" block", source);
    const unsigned char* p = block->der;
    EVP_PKEY* raw = nullptr;
    if (label == "RSA PRIVATE KEY") raw = d2i_PrivateKey(EVP_PKEY_RSA, nullptr, &p, block->len);
    else if (label == "EC PRIVATE KEY") raw = d2i_PrivateKey(EVP_PKEY_EC, nullptr, &p, block->len);
    else raw = d2i_AutoPrivateKey(nullptr, &p, block->len);
    if (!raw) throw_openssl(Errc::key, "cannot parse the " + label, source);
    KeyPair kp(share(ossl::PKey(raw)));
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
  auto bio = ossl::mem_bio();
  int rc = EVP_PKEY_get_base_id(pkey_.get()) == EVP_PKEY_ED25519
               ? PEM_write_bio_PrivateKey(bio.get(), pkey_.get(), nullptr, nullptr, 0, nullptr, nullptr)
               : PEM_write_bio_PrivateKey_traditional(bio.get(), pkey_.get(), nullptr, nullptr, 0, nullptr, nullptr);
  ossl::check(rc, "encoding the private key");
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

std::string KeyPair::public_key_der() const {
  unsigned char* der = nullptr;
  int len = i2d_PUBKEY(pkey_.get(), &der);
  if (len <= 0) throw_openssl(Errc::crypto, "encoding the public key");
  std::string out(reinterpret_cast<char*>(der), static_cast<size_t>(len));
  OPENSSL_free(der);
  return out;
}

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
