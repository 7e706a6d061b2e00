#pragma once
// Private: RSA key generation with the library's own prime search, and the worker pool that makes
// the keys of a command (one job per RSA prime). Figures in docs/performance.md ("Where the
// speed paths are").
#include <functional>
#include <vector>

#include "etcd_pki/key.hpp"
#include "../ossl.hpp"

namespace etcd_pki::detail {

// RSA with e = 65537 from two random probable primes of half the size each (BN_generate_prime_ex2:
// top two bits set, so n has exactly `bits` bits; Miller-Rabin with OpenSSL's 64 rounds), the way
// OpenSSL 1.1.1, Go and BoringSSL make RSA keys, instead of OpenSSL 3.0's default for >= 2048
// bits, the FIPS 186-4 method with auxiliary primes (openssl_rsa_key), which is slower for no
// practical gain outside FIPS mode. The checks SP 800-56B asks for are kept: gcd(e, p-1) =
// gcd(e, q-1) = 1, |p - q| > 2^(bits/2 - 100), d > 2^(bits/2); then a pairwise sign/verify test.
ossl::PKey fast_rsa_key(int bits);

// OpenSSL's own RSA key generation (EVP_PKEY_keygen), which fast_rsa_key replaces.
ossl::PKey openssl_rsa_key(int bits);

// The keys of `specs` in one pool of `threads` workers (0 = all cores): one job per RSA prime
// (the job that finds a key's second prime assembles it; once no job is left to start, idle
// workers race the unfinished prime searches), one per other key, made by `other`.
// `progress(done, total)` is called after each key, from the workers.
std::vector<ossl::PKey> generate_keys(const std::vector<KeySpec>& specs, unsigned threads,
                                      const std::function<void(size_t, size_t)>& progress,
                                      ossl::PKey (*other)(const KeySpec&));

}  // namespace etcd_pki::detail
