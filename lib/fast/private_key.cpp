#include "private_key.hpp"

#include <openssl/core_names.h>

#include <algorithm>

namespace etcd_pki::detail {

namespace {

using Bytes = std::span<const unsigned char>;

// A strict DER reader for fast_private_key: one-byte tags, definite lengths in their shortest
// form. A read that does not find what it expects fails the reader for good; done() says whether
// everything was read and nothing failed. What it refuses goes to OpenSSL's decoder, so refusing
// valid DER costs only time; accepting anything else would be a bug.
class Der {
 public:
  explicit Der(Bytes in) : in_(in) {}
  // The contents of the next element, which must have `tag`.
  Bytes read(unsigned char tag) {
    if (in_.size() < 2 || in_[0] != tag) return fail();
    size_t len = in_[1], head = 2;
    if (len >= 0x80) {  // 1 to 3 length bytes, no leading zero, for a length of 128 or more
      head += len - 0x80;
      if (head == 2 || head > 5 || in_.size() < head || in_[2] == 0) return fail();
      len = 0;
      for (size_t i = 2; i < head; ++i) len = len << 8 | in_[i];
      if (len < 0x80) return fail();
    }
    if (in_.size() - head < len) return fail();
    Bytes out = in_.subspan(head, len);
    in_ = in_.subspan(head + len);
    return out;
  }
  bool done() const { return ok_ && in_.empty(); }

 private:
  Bytes fail() {
    ok_ = false;
    in_ = {};
    return {};
  }
  Bytes in_;
  bool ok_ = true;
};

bool is_byte(Bytes b, unsigned char value) { return b.size() == 1 && b[0] == value; }
// A positive INTEGER in its shortest form.
bool positive(Bytes b) { return !b.empty() && b[0] < 0x80 && (b[0] != 0 || (b.size() > 1 && b[1] >= 0x80)); }

std::string_view chars(Bytes b) { return {reinterpret_cast<const char*>(b.data()), b.size()}; }

// ECPrivateKey ::= SEQUENCE { version INTEGER (1), privateKey OCTET STRING,
//   parameters [0] EXPLICIT OBJECT IDENTIFIER, publicKey [1] EXPLICIT BIT STRING } (RFC 5915;
// both optional fields required here).
ossl::PKey sec1_key(Bytes der) {
  using namespace std::literals;
  struct Curve {
    std::string_view oid;
    const char* name;
    size_t bytes;
  };
  static constexpr Curve curves[] = {{"\x2a\x86\x48\xce\x3d\x03\x01\x07"sv, "P-256", 32},  // 1.2.840.10045.3.1.7
                                     {"\x2b\x81\x04\x00\x22"sv, "P-384", 48},                  // 1.3.132.0.34
                                     {"\x2b\x81\x04\x00\x23"sv, "P-521", 66}};                 // 1.3.132.0.35
  Der outer(der);
  Der key(outer.read(0x30));
  Bytes version = key.read(0x02), priv = key.read(0x04);
  Der params(key.read(0xa0)), public_key(key.read(0xa1));
  Bytes oid = params.read(0x06), bits = public_key.read(0x03);
  if (!outer.done() || !key.done() || !params.done() || !public_key.done() || !is_byte(version, 1)) return nullptr;
  auto curve = std::ranges::find(curves, chars(oid), &Curve::oid);
  if (curve == std::end(curves)) return nullptr;
  // No unused bits, then the point, uncompressed (0x04): a key OpenSSL reads with a compressed
  // point keeps that form for its public key (i2d_PUBKEY), a fromdata key would not.
  if (priv.empty() || priv.size() > curve->bytes || bits.size() != 2 + 2 * curve->bytes || bits[0] != 0 ||
      bits[1] != 0x04)
    return nullptr;
  auto d = ossl::secret_bn();
  ossl::ParamBld bld(OSSL_PARAM_BLD_new());
  if (!bld || !BN_bin2bn(priv.data(), static_cast<int>(priv.size()), d.get()) ||
      !OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, curve->name, 0) ||
      !OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_PRIV_KEY, d.get()) ||
      !OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, bits.data() + 1, bits.size() - 1))
    return nullptr;
  return ossl::key_from_params("EC", bld.get());
}

// RSAPrivateKey ::= SEQUENCE { version INTEGER (0: two primes), n, e, d, p, q, dP, dQ, qInv INTEGER }
// (RFC 8017 A.1.2; version 1 adds otherPrimeInfos).
ossl::PKey pkcs1_key(Bytes der) {
  static const char* const names[] = {OSSL_PKEY_PARAM_RSA_N,         OSSL_PKEY_PARAM_RSA_E,
                                      OSSL_PKEY_PARAM_RSA_D,         OSSL_PKEY_PARAM_RSA_FACTOR1,
                                      OSSL_PKEY_PARAM_RSA_FACTOR2,   OSSL_PKEY_PARAM_RSA_EXPONENT1,
                                      OSSL_PKEY_PARAM_RSA_EXPONENT2, OSSL_PKEY_PARAM_RSA_COEFFICIENT1};
  Der outer(der);
  Der key(outer.read(0x30));
  Bytes version = key.read(0x02);
  Bytes values[std::size(names)];
  for (Bytes& v : values) v = key.read(0x02);
  if (!outer.done() || !key.done() || !is_byte(version, 0) || !std::ranges::all_of(values, positive)) return nullptr;
  ossl::Bignum bns[std::size(names)];  // all secret but n and e; all in secure memory, cleared when freed
  ossl::ParamBld bld(OSSL_PARAM_BLD_new());
  if (!bld) return nullptr;
  for (size_t i = 0; i < std::size(names); ++i) {
    bns[i] = ossl::secret_bn();
    if (!BN_bin2bn(values[i].data(), static_cast<int>(values[i].size()), bns[i].get()) ||
        !OSSL_PARAM_BLD_push_BN(bld.get(), names[i], bns[i].get()))
      return nullptr;
  }
  return ossl::key_from_params("RSA", bld.get());
}
}  // namespace

ossl::PKey fast_private_key(std::string_view label, std::span<const unsigned char> der) {
  ERR_set_mark();
  ossl::PKey key = label == "EC PRIVATE KEY" ? sec1_key(der) : label == "RSA PRIVATE KEY" ? pkcs1_key(der) : nullptr;
  ERR_pop_to_mark();  // a refusal leaves no errors behind: openssl_private_key's are the ones reported
  return key;
}

ossl::PKey openssl_private_key(std::string_view label, std::span<const unsigned char> der) {
  const unsigned char* p = der.data();
  long len = static_cast<long>(der.size());
  if (label == "RSA PRIVATE KEY") return ossl::PKey(d2i_PrivateKey(EVP_PKEY_RSA, nullptr, &p, len));
  if (label == "EC PRIVATE KEY") return ossl::PKey(d2i_PrivateKey(EVP_PKEY_EC, nullptr, &p, len));
  return ossl::PKey(d2i_AutoPrivateKey(nullptr, &p, len));
}

}  // namespace etcd_pki::detail
