#pragma once
// Private: a key's SubjectPublicKeyInfo built from the key's parameters, without OpenSSL 3.0's
// encoder and decoder round trip. Figures in docs/performance.md ("Where the speed paths are").
#include <string>

#include "../ossl.hpp"

namespace etcd_pki::detail {

// Sets `dst` (the SubjectPublicKeyInfo inside an X509 or X509_REQ) to `key`'s public key, built
// from the key's parameters: the same bytes as i2d_PUBKEY. RSA, ECDSA on a named curve and
// Ed25519; false for any other key (then `dst` is unchanged and the caller takes
// openssl_set_public_key).
bool build_public_key(X509_PUBKEY* dst, EVP_PKEY* key);
// The DER SubjectPublicKeyInfo build_public_key makes for `key`; empty for a key it does not build.
std::string fast_public_key_der(EVP_PKEY* key);

// OpenSSL's path, for every key: i2d_PUBKEY's encoding, decoded and copied into `dst`.
void openssl_set_public_key(X509_PUBKEY* dst, EVP_PKEY* key);

// Copies the SubjectPublicKeyInfo `src` into `dst` field by field (no decoding).
void copy_public_key(X509_PUBKEY* dst, const X509_PUBKEY* src);

}  // namespace etcd_pki::detail
