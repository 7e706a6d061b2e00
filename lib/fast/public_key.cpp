#include "public_key.hpp"

#include <openssl/core_names.h>
#include <openssl/ec.h>

namespace etcd_pki::detail {

namespace {

// DER length octets.
void der_length(std::string& out, size_t n) {
  if (n < 0x80) {
    out += static_cast<char>(n);
    return;
  }
  std::string len;
  for (; n; n >>= 8) len.insert(len.begin(), static_cast<char>(n & 0xFF));
  out += static_cast<char>(0x80 | len.size());
  out += len;
}

// DER INTEGER of a non-negative BIGNUM.
std::string der_integer(const BIGNUM* bn) {
  std::string mag(static_cast<size_t>(BN_num_bytes(bn)), '\0');
  BN_bn2bin(bn, reinterpret_cast<unsigned char*>(mag.data()));
  if (mag.empty() || (static_cast<unsigned char>(mag[0]) & 0x80)) mag.insert(mag.begin(), '\0');
  std::string out = "\x02";
  der_length(out, mag.size());
  return out + mag;
}

std::string octet_param(EVP_PKEY* key, const char* name) {
  size_t len = 0;
  if (EVP_PKEY_get_octet_string_param(key, name, nullptr, 0, &len) != 1 || len == 0) return {};
  std::string out(len, '\0');
  if (EVP_PKEY_get_octet_string_param(key, name, reinterpret_cast<unsigned char*>(out.data()), len, &len) != 1) return {};
  out.resize(len);
  return out;
}

// The BIGNUM parameter `name` of `key`; nullptr when it has none.
ossl::Bignum bn_param(EVP_PKEY* key, const char* name) {
  BIGNUM* raw = nullptr;
  int rc = EVP_PKEY_get_bn_param(key, name, &raw);
  ossl::Bignum bn(raw);
  if (rc != 1) bn.reset();
  return bn;
}

void set_bits(X509_PUBKEY* dst, ASN1_OBJECT* alg, int ptype, void* pval, const std::string& bits) {
  ossl::OsslBytes enc(static_cast<unsigned char*>(OPENSSL_memdup(bits.data(), bits.size())));
  if (!enc) throw Error(Errc::crypto, "out of memory");
  if (X509_PUBKEY_set0_param(dst, alg, ptype, pval, enc.get(), static_cast<int>(bits.size())) != 1)
    throw_openssl(Errc::crypto, "X509_PUBKEY_set0_param");
  (void)enc.release();  // owned by dst now
}

}  // namespace

bool build_public_key(X509_PUBKEY* dst, EVP_PKEY* key) {
  switch (EVP_PKEY_get_base_id(key)) {
    case EVP_PKEY_RSA: {
      ossl::Bignum n = bn_param(key, OSSL_PKEY_PARAM_RSA_N);
      ossl::Bignum e = n ? bn_param(key, OSSL_PKEY_PARAM_RSA_E) : nullptr;
      if (!e) return false;
      std::string body = der_integer(n.get()) + der_integer(e.get());
      std::string seq = "\x30";
      der_length(seq, body.size());
      set_bits(dst, OBJ_nid2obj(NID_rsaEncryption), V_ASN1_NULL, nullptr, seq + body);
      return true;
    }
    case EVP_PKEY_EC: {
      char group[64] = {};
      size_t glen = 0;
      if (EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof group, &glen) != 1) return false;
      int nid = OBJ_sn2nid(group);
      if (nid == NID_undef) nid = EC_curve_nist2nid(group);
      std::string point = octet_param(key, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY);
      if (nid == NID_undef || point.empty()) return false;
      set_bits(dst, OBJ_nid2obj(NID_X9_62_id_ecPublicKey), V_ASN1_OBJECT, OBJ_nid2obj(nid), point);
      return true;
    }
    case EVP_PKEY_ED25519: {
      std::string pub = octet_param(key, OSSL_PKEY_PARAM_PUB_KEY);
      if (pub.size() != 32) return false;
      set_bits(dst, OBJ_nid2obj(NID_ED25519), V_ASN1_UNDEF, nullptr, pub);
      return true;
    }
    default: return false;
  }
}

std::string fast_public_key_der(EVP_PKEY* key) {
  ossl::PubKeyInfo pub(X509_PUBKEY_new());
  if (!pub || !build_public_key(pub.get(), key)) return {};
  return ossl::der_or_empty<i2d_X509_PUBKEY>(pub.get());
}

void openssl_set_public_key(X509_PUBKEY* dst, EVP_PKEY* key) {
  std::string der = ossl::to_der<i2d_PUBKEY>(key, "encoding the public key");
  const auto* p = reinterpret_cast<const unsigned char*>(der.data());
  ossl::PubKeyInfo tmp(d2i_X509_PUBKEY(nullptr, &p, static_cast<long>(der.size())));
  if (!tmp) throw_openssl(Errc::crypto, "decoding the public key");
  copy_public_key(dst, tmp.get());
}

void copy_public_key(X509_PUBKEY* dst, const X509_PUBKEY* src) {
  const unsigned char* bits = nullptr;
  int len = 0;
  X509_ALGOR* alg = nullptr;
  if (X509_PUBKEY_get0_param(nullptr, &bits, &len, &alg, src) != 1) throw_openssl(Errc::crypto, "reading the public key");
  const ASN1_OBJECT* obj = nullptr;
  int ptype = V_ASN1_UNDEF;
  const void* pval = nullptr;
  X509_ALGOR_get0(&obj, &ptype, &pval, alg);
  // A copy of the algorithm's parameters, owned by `dst` once set.
  ossl::Asn1Object object_param;
  ossl::Asn1String string_param;
  void* param = nullptr;
  if (ptype == V_ASN1_OBJECT) param = (object_param = ossl::Asn1Object(OBJ_dup(static_cast<const ASN1_OBJECT*>(pval)))).get();
  else if (ptype != V_ASN1_UNDEF && ptype != V_ASN1_NULL) {
    if (ptype == V_ASN1_BOOLEAN) throw Error(Errc::crypto, "unexpected public key algorithm parameters");
    param = (string_param = ossl::Asn1String(ASN1_STRING_dup(static_cast<const ASN1_STRING*>(pval)))).get();
  }
  if (ptype != V_ASN1_UNDEF && ptype != V_ASN1_NULL && !param) throw_openssl(Errc::crypto, "copying the public key");
  set_bits(dst, OBJ_dup(obj), ptype, param, std::string(reinterpret_cast<const char*>(bits), static_cast<size_t>(len)));
  (void)object_param.release(), (void)string_param.release();
}

}  // namespace etcd_pki::detail
