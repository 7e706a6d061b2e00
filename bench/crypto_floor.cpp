// Prints the median cost, in microseconds, of one key generation and one signature per key type
// on this machine, single-threaded, as JSON lines:
//   {"op":"keygen","key":"ECDSA P-256","via":"openssl","us":52.1,"reps":2001}
// "via": "openssl" is EVP_PKEY_Q_keygen (for RSA: OpenSSL 3.0's FIPS 186-4 generator), "etcd-pki"
// is KeyPair::generate on one thread (for RSA: two BN_generate_prime_ex2 primes; see
// docs/performance.md).
// A signature is EVP_DigestSign of a 1 KiB message (about a certificate's to-be-signed part).
//   crypto_floor [--quick]
#include <openssl/evp.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "etcd_pki/key.hpp"

namespace {

using Clock = std::chrono::steady_clock;

// The median of `reps` timed calls (each call timed on its own), in microseconds.
double median_us(int reps, const std::function<void()>& f) {
  std::vector<double> t;
  t.reserve(static_cast<size_t>(reps));
  for (int i = 0; i < reps; ++i) {
    auto s = Clock::now();
    f();
    t.push_back(std::chrono::duration<double, std::micro>(Clock::now() - s).count());
  }
  std::nth_element(t.begin(), t.begin() + static_cast<long>(t.size() / 2), t.end());
  return t[t.size() / 2];
}

void report(const char* op, const std::string& key, const char* via, double us, int reps) {
  std::printf("{\"op\":\"%s\",\"key\":\"%s\",\"via\":\"%s\",\"us\":%.1f,\"reps\":%d}\n", op, key.c_str(), via, us, reps);
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  bool quick = argc > 1 && std::strcmp(argv[1], "--quick") == 0;
  struct Kind {
    etcd_pki::KeySpec spec;
    const char* name;
    const char* param;
    int keygen_reps, sign_reps;
  };
  const Kind kinds[] = {{{etcd_pki::KeyAlgo::rsa, 2048}, "RSA", nullptr, quick ? 3 : 41, quick ? 20 : 401},
                        {{etcd_pki::KeyAlgo::ecdsa, 256}, "EC", "P-256", quick ? 20 : 2001, quick ? 20 : 2001}};
  std::string msg(1024, 'x');
  for (const auto& k : kinds) {
    std::string label = k.spec.to_string();
    auto q_keygen = [&] {
      return k.spec.algo == etcd_pki::KeyAlgo::rsa ? EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", size_t{2048})
                                                   : EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", k.param);
    };
    report("keygen", label, "openssl", median_us(k.keygen_reps, [&] { EVP_PKEY_free(q_keygen()); }), k.keygen_reps);
    report("keygen", label, "etcd-pki", median_us(k.keygen_reps, [&] { (void)etcd_pki::KeyPair::generate(k.spec, 1); }),
           k.keygen_reps);
    EVP_PKEY* key = q_keygen();
    std::vector<unsigned char> sig(static_cast<size_t>(EVP_PKEY_get_size(key)));
    report("sign", label, "openssl", median_us(k.sign_reps, [&] {
             EVP_MD_CTX* ctx = EVP_MD_CTX_new();
             size_t len = sig.size();
             if (EVP_DigestSignInit(ctx, nullptr, EVP_sha256(), nullptr, key) != 1 ||
                 EVP_DigestSign(ctx, sig.data(), &len, reinterpret_cast<const unsigned char*>(msg.data()), msg.size()) != 1)
               std::abort();
             EVP_MD_CTX_free(ctx);
           }),
           k.sign_reps);
    EVP_PKEY_free(key);
  }
  return 0;
}
