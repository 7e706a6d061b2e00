#pragma once
// Private: reading a private key's DER, with a strict reader of its own for the common forms and
// OpenSSL's decoder for the rest. Figures in docs/performance.md ("Where the speed paths are").
#include <span>
#include <string_view>

#include "../ossl.hpp"

namespace etcd_pki::detail {

// The private key of a PEM block labelled `label`, read without OpenSSL 3.0's decoder, which
// d2i_PrivateKey builds anew for every call. Two forms only, checked by a strict DER reader and
// assembled with EVP_PKEY_fromdata:
//   "EC PRIVATE KEY": SEC1 version 1 on P-256, P-384 or P-521 by name, public key present and
//     uncompressed (what OpenSSL, Go and cfssl write);
//   "RSA PRIVATE KEY": two-prime PKCS#1 (version 0), every integer positive.
// nullptr for anything else, and for values EVP_PKEY_fromdata refuses, with the error queue as it
// was: the caller then reads the block with openssl_private_key, so its results and errors are
// unchanged.
ossl::PKey fast_private_key(std::string_view label, std::span<const unsigned char> der);

// The same block read by OpenSSL's decoder (d2i_PrivateKey for "RSA PRIVATE KEY" and "EC PRIVATE
// KEY", d2i_AutoPrivateKey for anything else); nullptr with the OpenSSL error queue when it fails.
ossl::PKey openssl_private_key(std::string_view label, std::span<const unsigned char> der);

}  // namespace etcd_pki::detail
