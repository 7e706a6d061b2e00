#include "etcd_pki/process.hpp"

#include <openssl/crypto.h>

#include <cstdlib>

#include "ossl.hpp"

namespace etcd_pki {

void init_command_line_process() {
  uint64_t opts = OPENSSL_INIT_NO_ATEXIT;
  if (const char* conf = std::getenv("OPENSSL_CONF"); !conf || !*conf) opts |= OPENSSL_INIT_NO_LOAD_CONFIG;
  else opts |= OPENSSL_INIT_LOAD_CONFIG;
  ossl::check(OPENSSL_init_crypto(opts, nullptr), "initialising OpenSSL");
}

}  // namespace etcd_pki
