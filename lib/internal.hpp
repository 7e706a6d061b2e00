#pragma once
// Private helpers shared by the stages.
#include <openssl/evp.h>

#include "etcd_pki/key.hpp"
#include "ossl.hpp"

namespace etcd_pki::detail {

// Signature hash chosen from the signing key, as cfssl does: RSA >= 4096 SHA-512, >= 3072
// SHA-384, else SHA-256; ECDSA P-256/384/521 SHA-256/384/512; Ed25519 none (nullptr).
const EVP_MD* signature_digest(const KeyPair& key);

}  // namespace etcd_pki::detail
