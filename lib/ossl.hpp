#pragma once
// Private: RAII for every OpenSSL type the library touches. No raw *_free outside this file.
#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <memory>
#include <optional>
#include <string>
#include <string_view>
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

inline void free_general_names(GENERAL_NAMES* p) { sk_GENERAL_NAME_pop_free(p, GENERAL_NAME_free); }
inline void free_ext_stack(STACK_OF(X509_EXTENSION) * p) { sk_X509_EXTENSION_pop_free(p, X509_EXTENSION_free); }
inline void free_object_stack(STACK_OF(ASN1_OBJECT) * p) { sk_ASN1_OBJECT_pop_free(p, ASN1_OBJECT_free); }
using GeneralNames = Ptr<GENERAL_NAMES, free_general_names>;             // owning
using ExtStack = Ptr<STACK_OF(X509_EXTENSION), free_ext_stack>;         // owning
using ObjectStack = Ptr<STACK_OF(ASN1_OBJECT), free_object_stack>;     // owning

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

// Clears the thread's error queue before an operation, so a failure reports only its own errors.
struct ClearErrors {
  ClearErrors() { ERR_clear_error(); }
};

}  // namespace etcd_pki::ossl
