#include "rsa_keygen.hpp"

#include <openssl/core_names.h>
#include <openssl/rsa.h>

#include <array>
#include <atomic>

#include "../parallel.hpp"

namespace etcd_pki::detail {

namespace {

// BN_generate_prime_ex2 calls this for each candidate; 0 stops the search.
int keep_searching(int, int, BN_GENCB* cb) {
  return static_cast<const std::atomic<bool>*>(BN_GENCB_get_arg(cb))->load(std::memory_order_relaxed) ? 0 : 1;
}

ossl::Bignum public_exponent() {
  auto e = ossl::check<ossl::Bignum>(BN_new(), "BN_new");
  ossl::check(BN_set_word(e.get(), RSA_F4), "BN_set_word");  // 65537
  return e;
}

// One prime of `pbits` bits with gcd(e, prime - 1) = 1; null if `stop` is set before it is found.
ossl::Bignum rsa_prime(int pbits, std::atomic<bool>* stop = nullptr) {
  ossl::ClearErrors clear;
  auto ctx = ossl::check<ossl::BnCtx>(BN_CTX_secure_new(), "BN_CTX_secure_new");
  auto e = public_exponent();
  auto prime = ossl::secret_bn(), minus1 = ossl::secret_bn(), gcd = ossl::secret_bn();
  ossl::GenCb cb;
  if (stop) {
    cb = ossl::check<ossl::GenCb>(BN_GENCB_new(), "BN_GENCB_new");
    BN_GENCB_set(cb.get(), keep_searching, stop);
  }
  for (;;) {
    if (BN_generate_prime_ex2(prime.get(), pbits, 0, nullptr, nullptr, cb.get(), ctx.get()) != 1) {
      if (stop && stop->load()) {
        ERR_clear_error();
        return nullptr;
      }
      throw_openssl(Errc::crypto, "generating an RSA prime");
    }
    ossl::check(BN_sub(minus1.get(), prime.get(), BN_value_one()), "BN_sub");
    ossl::check(BN_gcd(gcd.get(), minus1.get(), e.get(), ctx.get()), "BN_gcd");
    if (BN_is_one(gcd.get())) return prime;
  }
}

int rsa_prime_bits(int bits, int which) { return which == 0 ? (bits + 1) / 2 : bits / 2; }

// Pairwise consistency: sign with the private key (CRT), verify with the public key.
void pairwise_test(EVP_PKEY* key) {
  static const unsigned char msg[] = "etcd-pki RSA pairwise consistency test";
  std::string sig(static_cast<size_t>(EVP_PKEY_get_size(key)), '\0');
  size_t siglen = sig.size();
  auto md = ossl::check<ossl::MdCtx>(EVP_MD_CTX_new(), "EVP_MD_CTX_new");
  ossl::check(EVP_DigestSignInit_ex(md.get(), nullptr, "SHA256", nullptr, nullptr, key, nullptr), "RSA pairwise test");
  ossl::check(EVP_DigestSign(md.get(), reinterpret_cast<unsigned char*>(sig.data()), &siglen, msg, sizeof msg),
              "RSA pairwise test");
  auto vmd = ossl::check<ossl::MdCtx>(EVP_MD_CTX_new(), "EVP_MD_CTX_new");
  ossl::check(EVP_DigestVerifyInit_ex(vmd.get(), nullptr, "SHA256", nullptr, nullptr, key, nullptr),
              "RSA pairwise test");
  if (EVP_DigestVerify(vmd.get(), reinterpret_cast<const unsigned char*>(sig.data()), siglen, msg, sizeof msg) != 1)
    throw Error(Errc::crypto, "the generated RSA key failed its pairwise consistency test");
}

// The key of `bits` bits from primes p and q (rsa_prime(rsa_prime_bits(bits, 0 and 1))). When the
// pair fails a check (|p - q| too small, d too small: each about 2^-100 likely) new primes are
// found here, on this thread.
ossl::PKey assemble_rsa(int bits, ossl::Bignum p, ossl::Bignum q) {
  ossl::ClearErrors clear;
  auto ctx = ossl::check<ossl::BnCtx>(BN_CTX_secure_new(), "BN_CTX_secure_new");
  auto e = public_exponent();
  auto n = ossl::check<ossl::Bignum>(BN_new(), "BN_new");
  using ossl::secret_bn;
  auto p1 = secret_bn(), q1 = secret_bn(), lambda = secret_bn(), gcd = secret_bn(), d = secret_bn();
  auto dp = secret_bn(), dq = secret_bn(), qinv = secret_bn(), diff = secret_bn(), tmp = secret_bn();
  for (bool first = true;; first = false) {
    if (!first) p = rsa_prime(rsa_prime_bits(bits, 0)), q = rsa_prime(rsa_prime_bits(bits, 1));
    if (BN_cmp(p.get(), q.get()) < 0) std::swap(p, q);
    ossl::check(BN_sub(p1.get(), p.get(), BN_value_one()), "BN_sub");
    ossl::check(BN_sub(q1.get(), q.get(), BN_value_one()), "BN_sub");
    ossl::check(BN_sub(diff.get(), p.get(), q.get()), "BN_sub");
    if (BN_num_bits(diff.get()) <= bits / 2 - 100) continue;
    ossl::check(BN_mul(n.get(), p.get(), q.get(), ctx.get()), "BN_mul");
    if (BN_num_bits(n.get()) != bits) continue;
    // lambda = lcm(p-1, q-1); d = e^-1 mod lambda
    ossl::check(BN_gcd(gcd.get(), p1.get(), q1.get(), ctx.get()), "BN_gcd");
    ossl::check(BN_mul(tmp.get(), p1.get(), q1.get(), ctx.get()), "BN_mul");
    ossl::check(BN_div(lambda.get(), nullptr, tmp.get(), gcd.get(), ctx.get()), "BN_div");
    if (!BN_mod_inverse(d.get(), e.get(), lambda.get(), ctx.get())) throw_openssl(Errc::crypto, "RSA private exponent");
    if (BN_num_bits(d.get()) <= bits / 2) continue;
    break;
  }
  ossl::check(BN_mod(dp.get(), d.get(), p1.get(), ctx.get()), "BN_mod");
  ossl::check(BN_mod(dq.get(), d.get(), q1.get(), ctx.get()), "BN_mod");
  if (!BN_mod_inverse(qinv.get(), q.get(), p.get(), ctx.get())) throw_openssl(Errc::crypto, "RSA CRT coefficient");
  auto bld = ossl::check<ossl::ParamBld>(OSSL_PARAM_BLD_new(), "OSSL_PARAM_BLD_new");
  const std::pair<const char*, const BIGNUM*> fields[] = {
      {OSSL_PKEY_PARAM_RSA_N, n.get()},           {OSSL_PKEY_PARAM_RSA_E, e.get()},
      {OSSL_PKEY_PARAM_RSA_D, d.get()},           {OSSL_PKEY_PARAM_RSA_FACTOR1, p.get()},
      {OSSL_PKEY_PARAM_RSA_FACTOR2, q.get()},     {OSSL_PKEY_PARAM_RSA_EXPONENT1, dp.get()},
      {OSSL_PKEY_PARAM_RSA_EXPONENT2, dq.get()},  {OSSL_PKEY_PARAM_RSA_COEFFICIENT1, qinv.get()}};
  for (auto [name, bn] : fields) ossl::check(OSSL_PARAM_BLD_push_BN(bld.get(), name, bn), "OSSL_PARAM_BLD_push_BN");
  ossl::PKey key = ossl::key_from_params("RSA", bld.get());
  if (!key) throw_openssl(Errc::crypto, "assembling the RSA key");
  pairwise_test(key.get());
  return key;
}

// One key of a generate_keys call, or (for RSA, `part` 0 and 1) one of its primes.
struct KeyJob {
  size_t key;
  int part;
  // A prime is searched for by the worker that takes the job and, once no job is left to start, by
  // idle workers too: the first to find one keeps it and stops the others' searches.
  std::atomic<bool> found{false};
  std::atomic<int> searchers{0};
};

}  // namespace

ossl::PKey fast_rsa_key(int bits) { return assemble_rsa(bits, rsa_prime(rsa_prime_bits(bits, 0)), rsa_prime(rsa_prime_bits(bits, 1))); }

ossl::PKey openssl_rsa_key(int bits) {
  ossl::ClearErrors clear;
  return ossl::check<ossl::PKey>(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<size_t>(bits)),
                                 "generating an RSA-" + std::to_string(bits) + " key");
}

std::vector<ossl::PKey> generate_keys(const std::vector<KeySpec>& specs, unsigned threads,
                                      const std::function<void(size_t, size_t)>& progress,
                                      ossl::PKey (*other)(const KeySpec&)) {
  size_t n_jobs = 0;
  for (const KeySpec& spec : specs) n_jobs += spec.algo == KeyAlgo::rsa ? 2 : 1;
  std::vector<KeyJob> jobs(n_jobs);
  for (size_t k = 0, j = 0; k < specs.size(); ++k)
    for (int part = 0; part < (specs[k].algo == KeyAlgo::rsa ? 2 : 1); ++part) jobs[j].key = k, jobs[j++].part = part;
  std::vector<ossl::PKey> keys(specs.size());
  std::vector<std::array<ossl::Bignum, 2>> primes(specs.size());
  std::vector<std::atomic<int>> primes_left(specs.size());  // RSA: primes not found yet
  for (auto& left : primes_left) left = 2;
  std::atomic<size_t> next{0}, done{0};
  auto key_done = [&] {
    if (progress) progress(++done, specs.size());
  };
  auto search = [&](KeyJob& job) {
    const KeySpec& spec = specs[job.key];
    ossl::Bignum prime = rsa_prime(rsa_prime_bits(spec.size, job.part), &job.found);
    if (!prime || job.found.exchange(true)) return;  // another searcher was first
    primes[job.key][static_cast<size_t>(job.part)] = std::move(prime);
    if (--primes_left[job.key] > 0) return;  // the other prime's winner assembles the key
    keys[job.key] = assemble_rsa(spec.size, std::move(primes[job.key][0]), std::move(primes[job.key][1]));
    key_done();
  };
  auto worker = [&](size_t) {
    for (size_t j; (j = next++) < jobs.size();) {
      KeyJob& job = jobs[j];
      if (specs[job.key].algo != KeyAlgo::rsa) {
        ossl::ClearErrors clear;
        keys[job.key] = other(specs[job.key]);
        key_done();
        continue;
      }
      ++job.searchers;
      search(job);
    }
    // Nothing left to start: join the unfinished prime search with the fewest searchers.
    for (;;) {
      KeyJob* help = nullptr;
      for (KeyJob& job : jobs)
        if (specs[job.key].algo == KeyAlgo::rsa && !job.found && job.searchers > 0 &&
            (!help || job.searchers < help->searchers))
          help = &job;
      if (!help) return;
      ++help->searchers;
      search(*help);
    }
  };
  unsigned workers = detail::worker_count(threads, jobs.size());
  detail::parallel_for(workers, workers, worker);
  return keys;
}

}  // namespace etcd_pki::detail
