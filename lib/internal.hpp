#pragma once
// Private helpers shared by the stages.
#include <openssl/evp.h>

#include <span>
#include <string>
#include <string_view>

#include "etcd_pki/key.hpp"
#include "ossl.hpp"

namespace etcd_pki::detail {

// Signature hash chosen from the signing key, as cfssl does: RSA >= 4096 SHA-512, >= 3072
// SHA-384, else SHA-256; ECDSA P-256/384/521 SHA-256/384/512; Ed25519 none (nullptr).
const EVP_MD* signature_digest(const KeyPair& key);

// The private key of a PEM block labelled `label`, read without OpenSSL 3.0's decoder, which
// d2i_PrivateKey builds anew for every call (28% of `verify`'s instructions over 1000 members;
// 0.13 ms a P-256 key against 0.02 ms here). Two forms only, checked by a strict DER reader and
// assembled with EVP_PKEY_fromdata:
//   "EC PRIVATE KEY": SEC1 version 1 on P-256, P-384 or P-521 by name, public key present and
//     uncompressed (what OpenSSL, Go and cfssl write);
//   "RSA PRIVATE KEY": two-prime PKCS#1 (version 0), every integer positive.
// nullptr for anything else, and for values EVP_PKEY_fromdata refuses, with the error queue as it
// was: the caller then reads the block with d2i_PrivateKey, so its results and errors are unchanged.
ossl::PKey fast_private_key(std::string_view label, std::span<const unsigned char> der);

}  // namespace etcd_pki::detail
