#include "fields_only.hpp"

#include <openssl/provider.h>

namespace etcd_pki::detail {

namespace {

// Never freed: the certificates parsed in it refer to it. nullptr when it cannot be made.
OSSL_LIB_CTX* fields_only_context() {
  static OSSL_LIB_CTX* const ctx = [] {
    ossl::LibCtx c(OSSL_LIB_CTX_new());
    if (c && !OSSL_PROVIDER_load(c.get(), "null")) c.reset();
    ERR_clear_error();
    return c.release();
  }();
  return ctx;
}

}  // namespace

bool fields_only_available() { return fields_only_context() != nullptr; }

ossl::X509Ptr fields_only_certificate(const unsigned char** p, long len) {
  OSSL_LIB_CTX* ctx = fields_only_context();
  if (!ctx) return nullptr;
  return ossl::X509Ptr(reinterpret_cast<X509*>(ASN1_item_d2i_ex(nullptr, p, len, ASN1_ITEM_rptr(X509), ctx, nullptr)));
}

ossl::X509Ptr openssl_certificate(const unsigned char** p, long len) { return ossl::X509Ptr(d2i_X509(nullptr, p, len)); }

ossl::X509Ptr with_decoded_key(const X509* fields_only) {
  std::string der = ossl::to_der<i2d_X509>(fields_only, "encoding the certificate");
  const auto* p = reinterpret_cast<const unsigned char*>(der.data());
  ossl::X509Ptr x = openssl_certificate(&p, static_cast<long>(der.size()));
  if (!x) throw_openssl(Errc::crypto, "reading the certificate back");
  return x;
}

}  // namespace etcd_pki::detail
