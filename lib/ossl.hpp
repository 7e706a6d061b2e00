#pragma once
// Private: RAII for every OpenSSL type the library touches. No raw *_free outside this file.
#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

#include "etcd_pki/error.hpp"

namespace etcd_pki::ossl {

template <auto Fn>
struct Deleter {
  template <class T>
  void operator()(T* p) const noexcept { Fn(p); }
};
template <class T, auto Fn>
using Ptr = std::unique_ptr<T, Deleter<Fn>>;

using Bio = Ptr<BIO, BIO_vfree>;
using Bignum = Ptr<BIGNUM, BN_clear_free>;
using PKey = Ptr<EVP_PKEY, EVP_PKEY_free>;
using PKeyCtx = Ptr<EVP_PKEY_CTX, EVP_PKEY_CTX_free>;
using X509Ptr = Ptr<X509, X509_free>;
using Req = Ptr<X509_REQ, X509_REQ_free>;
using Name = Ptr<X509_NAME, X509_NAME_free>;
using Ext = Ptr<X509_EXTENSION, X509_EXTENSION_free>;
using Asn1Int = Ptr<ASN1_INTEGER, ASN1_INTEGER_free>;
using Asn1Time = Ptr<ASN1_TIME, ASN1_TIME_free>;
using Asn1Object = Ptr<ASN1_OBJECT, ASN1_OBJECT_free>;
using Asn1Octets = Ptr<ASN1_OCTET_STRING, ASN1_OCTET_STRING_free>;
using Asn1Bits = Ptr<ASN1_BIT_STRING, ASN1_BIT_STRING_free>;
using GeneralName = Ptr<GENERAL_NAME, GENERAL_NAME_free>;
using BasicConstraints = Ptr<BASIC_CONSTRAINTS, BASIC_CONSTRAINTS_free>;
using X509Sig = Ptr<X509_SIG, X509_SIG_free>;                               // encrypted PKCS#8
using P8Info = Ptr<PKCS8_PRIV_KEY_INFO, PKCS8_PRIV_KEY_INFO_free>;           // cleansed when freed
using Algor = Ptr<X509_ALGOR, X509_ALGOR_free>;
using AuthorityKeyId = Ptr<AUTHORITY_KEYID, AUTHORITY_KEYID_free>;
using Ia5String = Ptr<ASN1_IA5STRING, ASN1_IA5STRING_free>;
using Asn1String = Ptr<ASN1_STRING, ASN1_STRING_free>;
using PubKeyInfo = Ptr<X509_PUBKEY, X509_PUBKEY_free>;                      // a SubjectPublicKeyInfo
using CrlPtr = Ptr<X509_CRL, X509_CRL_free>;
using Revoked = Ptr<X509_REVOKED, X509_REVOKED_free>;
using Enumerated = Ptr<ASN1_ENUMERATED, ASN1_ENUMERATED_free>;
using BnCtx = Ptr<BN_CTX, BN_CTX_free>;
using GenCb = Ptr<BN_GENCB, BN_GENCB_free>;
using ParamBld = Ptr<OSSL_PARAM_BLD, OSSL_PARAM_BLD_free>;
using Params = Ptr<OSSL_PARAM, OSSL_PARAM_free>;
using MdCtx = Ptr<EVP_MD_CTX, EVP_MD_CTX_free>;
using LibCtx = Ptr<OSSL_LIB_CTX, OSSL_LIB_CTX_free>;
using StorePtr = Ptr<X509_STORE, X509_STORE_free>;
using StoreCtx = Ptr<X509_STORE_CTX, X509_STORE_CTX_free>;
using SslCtx = Ptr<SSL_CTX, SSL_CTX_free>;
using Ssl = Ptr<SSL, SSL_free>;

// Memory OpenSSL allocated for the caller: strings (BN_bn2hex, X509_NAME_oneline), encodings (i2d_*).
inline void openssl_free(void* p) { OPENSSL_free(p); }
using OsslString = Ptr<char, openssl_free>;
using OsslBytes = Ptr<unsigned char, openssl_free>;

inline void free_general_names(GENERAL_NAMES* p) { sk_GENERAL_NAME_pop_free(p, GENERAL_NAME_free); }
inline void free_ext_stack(STACK_OF(X509_EXTENSION) * p) { sk_X509_EXTENSION_pop_free(p, X509_EXTENSION_free); }
inline void free_object_stack(STACK_OF(ASN1_OBJECT) * p) { sk_ASN1_OBJECT_pop_free(p, ASN1_OBJECT_free); }
inline void free_x509_stack(STACK_OF(X509) * p) { sk_X509_pop_free(p, X509_free); }
using GeneralNames = Ptr<GENERAL_NAMES, free_general_names>;             // owning
using ExtStack = Ptr<STACK_OF(X509_EXTENSION), free_ext_stack>;         // owning
using ObjectStack = Ptr<STACK_OF(ASN1_OBJECT), free_object_stack>;     // owning
using X509Stack = Ptr<STACK_OF(X509), free_x509_stack>;                 // owning

// An owning pointer as a shared handle (for the library's immutable value types).
template <class T, auto Fn>
std::shared_ptr<T> share(Ptr<T, Fn> p) {
  return std::shared_ptr<T>(p.release(), Deleter<Fn>{});
}

// Takes ownership of a freshly returned pointer, or throws with the OpenSSL error queue.
template <class P, class T>
P check(T* raw, std::string_view what, Errc category = Errc::crypto) {
  if (!raw) throw_openssl(category, what);
  return P(raw);
}
inline void check(int rc, std::string_view what, Errc category = Errc::crypto) {
  if (rc <= 0) throw_openssl(category, what);
}

// A string OpenSSL returned (BN_bn2hex, BN_bn2dec, X509_NAME_oneline), freed; `fallback` for none.
inline std::string take_string(char* s, std::string_view fallback = {}) {
  OsslString owned(s);
  return owned ? std::string(owned.get()) : std::string(fallback);
}

// The DER encoding of `obj` by `I2d` (i2d_X509, i2d_PUBKEY, ...), as std::string or
// std::vector<unsigned char>; empty when the encoding fails.
template <auto I2d, class Out = std::string, class T>
Out der_or_empty(const T* obj) {
  unsigned char* raw = nullptr;
  int len = I2d(obj, &raw);
  OsslBytes der(raw);
  if (len <= 0 || !der) return Out();
  if constexpr (std::is_same_v<Out, std::string>)
    return Out(reinterpret_cast<const char*>(der.get()), static_cast<size_t>(len));
  else
    return Out(der.get(), der.get() + len);
}
// The same, throwing with the OpenSSL error queue when the encoding fails.
template <auto I2d, class Out = std::string, class T>
Out to_der(const T* obj, std::string_view what, Errc category = Errc::crypto) {
  Out out = der_or_empty<I2d, Out>(obj);
  if (out.empty()) throw_openssl(category, what);
  return out;
}

// A BIGNUM for a secret: in secure memory, constant-time operations, cleared when freed.
inline Bignum secret_bn() {
  auto bn = check<Bignum>(BN_secure_new(), "BN_secure_new");
  BN_set_flags(bn.get(), BN_FLG_CONSTTIME);
  return bn;
}

// A key pair of `type` ("RSA", "EC") from the parameters in `bld`; nullptr if OpenSSL refuses them.
inline PKey key_from_params(const char* type, OSSL_PARAM_BLD* bld) {
  Params params(OSSL_PARAM_BLD_to_param(bld));
  PKeyCtx ctx(EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr));
  EVP_PKEY* raw = nullptr;
  if (params && ctx && EVP_PKEY_fromdata_init(ctx.get()) == 1)
    EVP_PKEY_fromdata(ctx.get(), &raw, EVP_PKEY_KEYPAIR, params.get());
  return PKey(raw);
}

inline Bio mem_bio() { return check<Bio>(BIO_new(BIO_s_mem()), "BIO_new"); }
// A memory BIO whose buffer is cleansed when freed: for private key encodings.
inline Bio secret_bio() { return check<Bio>(BIO_new(BIO_s_secmem()), "BIO_new"); }
inline Bio mem_bio(std::string_view data) {
  return check<Bio>(BIO_new_mem_buf(data.data(), static_cast<int>(data.size())), "BIO_new_mem_buf");
}
inline std::string bio_string(BIO* bio) {
  char* data = nullptr;
  long n = BIO_get_mem_data(bio, &data);
  return std::string(data, static_cast<size_t>(n));
}

// One PEM block. Its DER bytes are cleansed when freed: the block may be a private key.
struct PemBlock {
  std::string label, header;
  unsigned char* der = nullptr;
  long len = 0;

  PemBlock() = default;
  PemBlock(PemBlock&& o) noexcept
      : label(std::move(o.label)), header(std::move(o.header)), der(std::exchange(o.der, nullptr)), len(o.len) {}
  PemBlock(const PemBlock&) = delete;
  PemBlock& operator=(const PemBlock&) = delete;
  PemBlock& operator=(PemBlock&&) = delete;
  ~PemBlock() {
    if (der) OPENSSL_clear_free(der, static_cast<size_t>(len));
  }
};

// The next PEM block of `bio`; nullopt at the end of the input (the error queue is then cleared).
inline std::optional<PemBlock> next_pem_block(BIO* bio) {
  char *label = nullptr, *header = nullptr;
  PemBlock block;
  if (PEM_read_bio(bio, &label, &header, &block.der, &block.len) != 1) {
    ERR_clear_error();
    return std::nullopt;
  }
  block.label = label;
  block.header = header;
  OPENSSL_free(label);
  OPENSSL_free(header);
  return block;
}

// The thread's whole error queue as one line ("error:...; error:..."), emptied; "" when empty.
std::string take_error_queue();

// Clears the thread's error queue before an operation, so a failure reports only its own errors.
struct ClearErrors {
  ClearErrors() { ERR_clear_error(); }
};

}  // namespace etcd_pki::ossl
