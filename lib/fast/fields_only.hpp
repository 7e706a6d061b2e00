#pragma once
// Private: parsing a certificate for its fields only, its public key left undecoded until
// something needs it (Certificate::KeyDecoding::when_needed). Figures in docs/performance.md
// ("Where the speed paths are").
#include "../ossl.hpp"

namespace etcd_pki::detail {

// Whether fields_only_certificate can be used: its library context could be made.
bool fields_only_available();

// One DER certificate parsed in a library context without algorithms (only the null provider):
// it gets its fields, and its public key stays undecoded, as OpenSSL 3.0's decoder finds nothing
// to try. nullptr when it does not parse, or when !fields_only_available().
ossl::X509Ptr fields_only_certificate(const unsigned char** p, long len);

// The certificate parsed by d2i_X509, its public key decoded: what fields_only_certificate
// replaces. nullptr when it does not parse.
ossl::X509Ptr openssl_certificate(const unsigned char** p, long len);

// `fields_only`, read back from its DER with its public key decoded.
ossl::X509Ptr with_decoded_key(const X509* fields_only);

}  // namespace etcd_pki::detail
