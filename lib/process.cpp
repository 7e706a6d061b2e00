#include "etcd_pki/process.hpp"

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include <cstdlib>

#include "ossl.hpp"

namespace etcd_pki {

void init_command_line_process() {
  if (const char* conf = std::getenv("OPENSSL_CONF"); conf && *conf) {  // the user's configuration, as it is
    ossl::check(OPENSSL_init_crypto(OPENSSL_INIT_NO_ATEXIT | OPENSSL_INIT_LOAD_CONFIG, nullptr), "initialising OpenSSL");
    return;
  }
  // No legacy cipher name table: nothing here looks a cipher up by its legacy name (PKCS#8
  // decryption fetches it from the provider).
  ossl::check(OPENSSL_init_crypto(OPENSSL_INIT_NO_ATEXIT | OPENSSL_INIT_NO_LOAD_CONFIG | OPENSSL_INIT_NO_ADD_ALL_CIPHERS, nullptr),
              "initialising OpenSSL");
  // SP 800-90A Hash_DRBG with SHA-256 (256-bit strength, seeded from the kernel like the default)
  // instead of OpenSSL's CTR_DRBG with AES-256: the CTR_DRBG's first use builds OpenSSL's table of
  // every cipher (its cost: docs/performance.md, "Process start"); SHA-256 is needed for signing anyway.
  ossl::check(RAND_set_DRBG_type(nullptr, "HASH-DRBG", nullptr, nullptr, "SHA256"), "choosing the random generator");
}

}  // namespace etcd_pki
