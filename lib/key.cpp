#include "etcd_pki/key.hpp"

#include <openssl/core_names.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <openssl/rsa.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <span>
#include <string_view>

#include "etcd_pki/bundle.hpp"

#include "internal.hpp"
#include "ossl.hpp"
#include "parallel.hpp"

namespace etcd_pki {

KeySpec KeySpec::parse(std::string_view algo, int size, const std::string& source, const std::string& field) {
  auto fail = [&](const std::string& msg, const char* sub) {
    return Error(Errc::key, msg, source, field + sub);
  };
  if (algo == "rsa") {
    if (size == 0) size = 2048;
    if (size < 2048) throw fail("RSA key is too weak (" + std::to_string(size) + " bits; use 2048 to 8192)", ".size");
    if (size > 8192) throw fail("RSA key size too large (" + std::to_string(size) + " bits; use 2048 to 8192)", ".size");
    return {KeyAlgo::rsa, size};
  }
  if (algo == "ecdsa") {
    if (size == 0) size = 256;
    if (size != 256 && size != 384 && size != 521)
      throw fail("invalid curve (size " + std::to_string(size) + "; use 256, 384 or 521)", ".size");
    return {KeyAlgo::ecdsa, size};
  }
  if (algo == "ed25519") return {KeyAlgo::ed25519, 0};
  throw fail("invalid algorithm \"" + std::string(algo) + "\" (use \"rsa\", \"ecdsa\" or \"ed25519\", lower case)",
             ".algo");
}

std::string KeySpec::algo_name() const {
  switch (algo) {
    case KeyAlgo::rsa: return "rsa";
    case KeyAlgo::ecdsa: return "ecdsa";
    case KeyAlgo::ed25519: return "ed25519";
  }
  return "?";
}

std::string KeySpec::to_string() const {
  switch (algo) {
    case KeyAlgo::rsa: return "RSA-" + std::to_string(size);
    case KeyAlgo::ecdsa: return "ECDSA P-" + std::to_string(size);
    case KeyAlgo::ed25519: return "Ed25519";
  }
  return "?";
}

namespace {
using ossl::share;

using BnCtx = ossl::Ptr<BN_CTX, BN_CTX_free>;
using ParamBld = ossl::Ptr<OSSL_PARAM_BLD, OSSL_PARAM_BLD_free>;
using Params = ossl::Ptr<OSSL_PARAM, OSSL_PARAM_free>;

ossl::Bignum secret_bn() {
  auto bn = ossl::check<ossl::Bignum>(BN_secure_new(), "BN_secure_new");
  BN_set_flags(bn.get(), BN_FLG_CONSTTIME);
  return bn;
}

// A key pair of `type` ("RSA", "EC") from the parameters in `bld`; nullptr if OpenSSL refuses them.
ossl::PKey key_from_params(const char* type, OSSL_PARAM_BLD* bld) {
  Params params(OSSL_PARAM_BLD_to_param(bld));
  ossl::PKeyCtx ctx(EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr));
  EVP_PKEY* raw = nullptr;
  if (params && ctx && EVP_PKEY_fromdata_init(ctx.get()) == 1)
    EVP_PKEY_fromdata(ctx.get(), &raw, EVP_PKEY_KEYPAIR, params.get());
  return ossl::PKey(raw);
}

// RSA with e = 65537 from two random probable primes of half the size each (BN_generate_prime_ex2:
// top two bits set, so n has exactly `bits` bits; Miller-Rabin with OpenSSL's 64 rounds), the way
// OpenSSL 1.1.1, Go and BoringSSL make RSA keys. OpenSSL 3.0's default for >= 2048 bits is the
// FIPS 186-4 method with auxiliary primes, about 2.3x slower here for no practical gain outside
// FIPS mode (docs/performance.md). The checks SP 800-56B asks for are kept: gcd(e, p-1) =
// gcd(e, q-1) = 1, |p - q| > 2^(bits/2 - 100), d > 2^(bits/2); then a pairwise sign/verify test.
// The two primes are independent jobs (rsa_prime), so generate_many finds them on two cores.

using GenCb = ossl::Ptr<BN_GENCB, BN_GENCB_free>;

// BN_generate_prime_ex2 calls this for each candidate; 0 stops the search.
int keep_searching(int, int, BN_GENCB* cb) {
  return static_cast<const std::atomic<bool>*>(BN_GENCB_get_arg(cb))->load(std::memory_order_relaxed) ? 0 : 1;
}

constexpr int kRsaE = RSA_F4;

// One prime of `pbits` bits with gcd(e, prime - 1) = 1; null if `stop` is set before it is found.
ossl::Bignum rsa_prime(int pbits, std::atomic<bool>* stop = nullptr) {
  ossl::ClearErrors clear;
  auto ctx = ossl::check<BnCtx>(BN_CTX_secure_new(), "BN_CTX_secure_new");
  auto e = ossl::check<ossl::Bignum>(BN_new(), "BN_new");
  ossl::check(BN_set_word(e.get(), kRsaE), "BN_set_word");
  auto prime = secret_bn(), minus1 = secret_bn(), gcd = secret_bn();
  GenCb cb;
  if (stop) {
    cb = ossl::check<GenCb>(BN_GENCB_new(), "BN_GENCB_new");
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

// The key of `bits` bits from primes p and q (rsa_prime(rsa_prime_bits(bits, 0 and 1))). When the
// pair fails a check (|p - q| too small, d too small: each about 2^-100 likely) new primes are
// found here, on this thread.
ossl::PKey assemble_rsa(int bits, ossl::Bignum p, ossl::Bignum q) {
  ossl::ClearErrors clear;
  auto ctx = ossl::check<BnCtx>(BN_CTX_secure_new(), "BN_CTX_secure_new");
  auto e = ossl::check<ossl::Bignum>(BN_new(), "BN_new");
  ossl::check(BN_set_word(e.get(), kRsaE), "BN_set_word");
  auto n = ossl::check<ossl::Bignum>(BN_new(), "BN_new");
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
  auto bld = ossl::check<ParamBld>(OSSL_PARAM_BLD_new(), "OSSL_PARAM_BLD_new");
  const std::pair<const char*, const BIGNUM*> fields[] = {
      {OSSL_PKEY_PARAM_RSA_N, n.get()},           {OSSL_PKEY_PARAM_RSA_E, e.get()},
      {OSSL_PKEY_PARAM_RSA_D, d.get()},           {OSSL_PKEY_PARAM_RSA_FACTOR1, p.get()},
      {OSSL_PKEY_PARAM_RSA_FACTOR2, q.get()},     {OSSL_PKEY_PARAM_RSA_EXPONENT1, dp.get()},
      {OSSL_PKEY_PARAM_RSA_EXPONENT2, dq.get()},  {OSSL_PKEY_PARAM_RSA_COEFFICIENT1, qinv.get()}};
  for (auto [name, bn] : fields) ossl::check(OSSL_PARAM_BLD_push_BN(bld.get(), name, bn), "OSSL_PARAM_BLD_push_BN");
  ossl::PKey key = key_from_params("RSA", bld.get());
  if (!key) throw_openssl(Errc::crypto, "assembling the RSA key");

  // Pairwise consistency: sign with the private key (CRT), verify with the public key.
  static const unsigned char msg[] = "etcd-pki RSA pairwise consistency test";
  std::string sig(static_cast<size_t>(EVP_PKEY_get_size(key.get())), '\0');
  size_t siglen = sig.size();
  using MdCtx = ossl::Ptr<EVP_MD_CTX, EVP_MD_CTX_free>;
  auto md = ossl::check<MdCtx>(EVP_MD_CTX_new(), "EVP_MD_CTX_new");
  ossl::check(EVP_DigestSignInit_ex(md.get(), nullptr, "SHA256", nullptr, nullptr, key.get(), nullptr), "RSA pairwise test");
  ossl::check(EVP_DigestSign(md.get(), reinterpret_cast<unsigned char*>(sig.data()), &siglen, msg, sizeof msg),
              "RSA pairwise test");
  auto vmd = ossl::check<MdCtx>(EVP_MD_CTX_new(), "EVP_MD_CTX_new");
  ossl::check(EVP_DigestVerifyInit_ex(vmd.get(), nullptr, "SHA256", nullptr, nullptr, key.get(), nullptr),
              "RSA pairwise test");
  if (EVP_DigestVerify(vmd.get(), reinterpret_cast<const unsigned char*>(sig.data()), siglen, msg, sizeof msg) != 1)
    throw Error(Errc::crypto, "the generated RSA key failed its pairwise consistency test");
  return key;
}

// One key of a generate_many call, or (for RSA, `part` 0 and 1) one of its primes.
struct KeyJob {
  size_t key;
  int part;
  // A prime is searched for by the worker that takes the job and, once no job is left to start, by
  // idle workers too: the first to find one keeps it and stops the others' searches.
  std::atomic<bool> found{false};
  std::atomic<int> searchers{0};
};

ossl::PKey generate_one(const KeySpec& spec) {
  EVP_PKEY* raw = nullptr;
  switch (spec.algo) {
    case KeyAlgo::rsa: return assemble_rsa(spec.size, rsa_prime(rsa_prime_bits(spec.size, 0)), rsa_prime(rsa_prime_bits(spec.size, 1)));
    case KeyAlgo::ecdsa: {
      const char* curve = spec.size == 384 ? "P-384" : spec.size == 521 ? "P-521" : "P-256";
      raw = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", curve);
      break;
    }
    case KeyAlgo::ed25519: raw = EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519"); break;
  }
  return ossl::check<ossl::PKey>(raw, "generating an " + spec.to_string() + " key", Errc::crypto);
}

}  // namespace

KeyPair KeyPair::generate(const KeySpec& spec, unsigned threads) {
  if (spec.algo != KeyAlgo::rsa || threads == 1) {
    ossl::ClearErrors clear;
    return KeyPair(share(generate_one(spec)));
  }
  return std::move(generate_many({spec}, threads).front());
}

std::vector<KeyPair> KeyPair::generate_many(const std::vector<KeySpec>& specs, unsigned threads,
                                            const std::function<void(size_t, size_t)>& progress) {
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
        keys[job.key] = generate_one(specs[job.key]);
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
  std::vector<KeyPair> out;
  out.reserve(specs.size());
  for (auto& k : keys) out.push_back(KeyPair(share(std::move(k))));
  return out;
}

KeyPair KeyPair::from_native(EVP_PKEY* pkey) {
  if (!pkey || EVP_PKEY_up_ref(pkey) != 1) throw Error(Errc::key, "no key given");
  return KeyPair(share(ossl::PKey(pkey)));
}

Passphrase::~Passphrase() {
  if (!text_.empty()) OPENSSL_cleanse(text_.data(), text_.size());
}

Passphrase Passphrase::from_file(const std::string& path) {
  std::string text = read_text_file(path, Errc::usage);
  Passphrase p(text.substr(0, text.find_first_of("\r\n")));
  OPENSSL_cleanse(text.data(), text.size());
  if (p.empty()) throw Error(Errc::usage, "the passphrase file is empty (its first line is the passphrase)", path);
  return p;
}

Passphrase Passphrase::from_env(const std::string& name) {
  const char* value = std::getenv(name.c_str());
  if (!value) return {};
  if (!*value) throw Error(Errc::usage, "the environment variable " + name + " is set but empty");
  return Passphrase(value);
}

namespace {
bool encrypted_block(const ossl::PemBlock& block) {
  return block.label == "ENCRYPTED PRIVATE KEY" || block.header.find("ENCRYPTED") != std::string::npos;
}

// An "ENCRYPTED PRIVATE KEY" block (PKCS#8 EncryptedPrivateKeyInfo), decrypted.
EVP_PKEY* decrypt_pkcs8(const ossl::PemBlock& block, const std::string& source, const Passphrase& passphrase) {
  if (passphrase.empty())
    throw Error(Errc::key, "the private key is encrypted and no passphrase was given (--passphrase-file FILE or ETCD_PKI_CA_PASSPHRASE)",
                source);
  const unsigned char* p = block.der;
  ossl::X509Sig sig(d2i_X509_SIG(nullptr, &p, block.len));
  if (!sig) throw_openssl(Errc::key, "cannot parse the ENCRYPTED PRIVATE KEY", source);
  std::string_view pass = passphrase.view();
  ossl::P8Info info(PKCS8_decrypt_ex(sig.get(), pass.data(), static_cast<int>(pass.size()), nullptr, nullptr));
  if (!info) {
    ERR_clear_error();
    throw Error(Errc::key, "cannot decrypt the private key: wrong passphrase (or a damaged key)", source);
  }
  EVP_PKEY* raw = EVP_PKCS82PKEY_ex(info.get(), nullptr, nullptr);
  if (!raw) throw_openssl(Errc::key, "cannot parse the decrypted private key", source);
  return raw;
}

using Bytes = std::span<const unsigned char>;

// A strict DER reader for fast_private_key: one-byte tags, definite lengths in their shortest
// form. A read that does not find what it expects fails the reader for good; done() says whether
// everything was read and nothing failed. What it refuses goes to OpenSSL's decoder, so refusing
// valid DER costs only time; accepting anything else would be a bug.
class Der {
 public:
  explicit Der(Bytes in) : in_(in) {}
  // The contents of the next element, which must have `tag`.
  Bytes read(unsigned char tag) {
    if (in_.size() < 2 || in_[0] != tag) return fail();
    size_t len = in_[1], head = 2;
    if (len >= 0x80) {  // 1 to 3 length bytes, no leading zero, for a length of 128 or more
      head += len - 0x80;
      if (head == 2 || head > 5 || in_.size() < head || in_[2] == 0) return fail();
      len = 0;
      for (size_t i = 2; i < head; ++i) len = len << 8 | in_[i];
      if (len < 0x80) return fail();
    }
    if (in_.size() - head < len) return fail();
    Bytes out = in_.subspan(head, len);
    in_ = in_.subspan(head + len);
    return out;
  }
  bool done() const { return ok_ && in_.empty(); }

 private:
  Bytes fail() {
    ok_ = false;
    in_ = {};
    return {};
  }
  Bytes in_;
  bool ok_ = true;
};

bool is_byte(Bytes b, unsigned char value) { return b.size() == 1 && b[0] == value; }
// A positive INTEGER in its shortest form.
bool positive(Bytes b) { return !b.empty() && b[0] < 0x80 && (b[0] != 0 || (b.size() > 1 && b[1] >= 0x80)); }

std::string_view chars(Bytes b) { return {reinterpret_cast<const char*>(b.data()), b.size()}; }

// ECPrivateKey ::= SEQUENCE { version INTEGER (1), privateKey OCTET STRING,
//   parameters [0] EXPLICIT OBJECT IDENTIFIER, publicKey [1] EXPLICIT BIT STRING } (RFC 5915;
// both optional fields required here).
ossl::PKey sec1_key(Bytes der) {
  using namespace std::literals;
  struct Curve {
    std::string_view oid;
    const char* name;
    size_t bytes;
  };
  static constexpr Curve curves[] = {{"\x2a\x86\x48\xce\x3d\x03\x01\x07"sv, "P-256", 32},  // 1.2.840.10045.3.1.7
                                     {"\x2b\x81\x04\x00\x22"sv, "P-384", 48},                  // 1.3.132.0.34
                                     {"\x2b\x81\x04\x00\x23"sv, "P-521", 66}};                 // 1.3.132.0.35
  Der outer(der);
  Der key(outer.read(0x30));
  Bytes version = key.read(0x02), priv = key.read(0x04);
  Der params(key.read(0xa0)), public_key(key.read(0xa1));
  Bytes oid = params.read(0x06), bits = public_key.read(0x03);
  if (!outer.done() || !key.done() || !params.done() || !public_key.done() || !is_byte(version, 1)) return nullptr;
  auto curve = std::ranges::find(curves, chars(oid), &Curve::oid);
  if (curve == std::end(curves)) return nullptr;
  // No unused bits, then the point, uncompressed (0x04): a key OpenSSL reads with a compressed
  // point keeps that form for its public key (i2d_PUBKEY), a fromdata key would not.
  if (priv.empty() || priv.size() > curve->bytes || bits.size() != 2 + 2 * curve->bytes || bits[0] != 0 ||
      bits[1] != 0x04)
    return nullptr;
  auto d = secret_bn();
  ParamBld bld(OSSL_PARAM_BLD_new());
  if (!bld || !BN_bin2bn(priv.data(), static_cast<int>(priv.size()), d.get()) ||
      !OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, curve->name, 0) ||
      !OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_PRIV_KEY, d.get()) ||
      !OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, bits.data() + 1, bits.size() - 1))
    return nullptr;
  return key_from_params("EC", bld.get());
}

// RSAPrivateKey ::= SEQUENCE { version INTEGER (0: two primes), n, e, d, p, q, dP, dQ, qInv INTEGER }
// (RFC 8017 A.1.2; version 1 adds otherPrimeInfos).
ossl::PKey pkcs1_key(Bytes der) {
  static const char* const names[] = {OSSL_PKEY_PARAM_RSA_N,         OSSL_PKEY_PARAM_RSA_E,
                                      OSSL_PKEY_PARAM_RSA_D,         OSSL_PKEY_PARAM_RSA_FACTOR1,
                                      OSSL_PKEY_PARAM_RSA_FACTOR2,   OSSL_PKEY_PARAM_RSA_EXPONENT1,
                                      OSSL_PKEY_PARAM_RSA_EXPONENT2, OSSL_PKEY_PARAM_RSA_COEFFICIENT1};
  Der outer(der);
  Der key(outer.read(0x30));
  Bytes version = key.read(0x02);
  Bytes values[std::size(names)];
  for (Bytes& v : values) v = key.read(0x02);
  if (!outer.done() || !key.done() || !is_byte(version, 0) || !std::ranges::all_of(values, positive)) return nullptr;
  ossl::Bignum bns[std::size(names)];  // all secret but n and e; all in secure memory, cleared when freed
  ParamBld bld(OSSL_PARAM_BLD_new());
  if (!bld) return nullptr;
  for (size_t i = 0; i < std::size(names); ++i) {
    bns[i] = secret_bn();
    if (!BN_bin2bn(values[i].data(), static_cast<int>(values[i].size()), bns[i].get()) ||
        !OSSL_PARAM_BLD_push_BN(bld.get(), names[i], bns[i].get()))
      return nullptr;
  }
  return key_from_params("RSA", bld.get());
}
}  // namespace

namespace detail {
ossl::PKey fast_private_key(std::string_view label, std::span<const unsigned char> der) {
  ERR_set_mark();
  ossl::PKey key = label == "EC PRIVATE KEY" ? sec1_key(der) : label == "RSA PRIVATE KEY" ? pkcs1_key(der) : nullptr;
  ERR_pop_to_mark();  // a refusal leaves no errors behind: d2i_PrivateKey's are the ones reported
  return key;
}
}  // namespace detail

bool KeyPair::is_encrypted_pem(std::string_view pem) {
  auto bio = ossl::mem_bio(pem);
  while (auto block = ossl::next_pem_block(bio.get()))
    if (block->label.ends_with("PRIVATE KEY")) return encrypted_block(*block);
  return false;
}

KeyPair KeyPair::from_pem(std::string_view pem, const std::string& source, const Passphrase& passphrase) {
  ossl::ClearErrors clear;
  auto bio = ossl::mem_bio(pem);
  for (;;) {
    auto block = ossl::next_pem_block(bio.get());
    if (!block) throw Error(Errc::key, "no PEM private key found", source);
    const std::string& label = block->label;
    if (label == "EC PARAMETERS") continue;
    if (encrypted_block(*block) && label != "ENCRYPTED PRIVATE KEY")
      throw Error(Errc::key,
                  "legacy PEM encryption (Proc-Type: 4,ENCRYPTED) is not supported; convert the key to encrypted PKCS#8: "
                  "openssl pkcs8 -topk8 -v2 aes-256-cbc -in KEY -out NEW-KEY",
                  source);
    if (label != "PRIVATE KEY" && label != "RSA PRIVATE KEY" && label != "EC PRIVATE KEY" &&
        label != "Ed25519 PRIVATE KEY" && label != "ENCRYPTED PRIVATE KEY")
      throw Error(Errc::key, "expected a private key, found a PEM \"" + label + "\" block", source);
    const unsigned char* p = block->der;
    EVP_PKEY* raw = nullptr;
    if (label == "ENCRYPTED PRIVATE KEY") raw = decrypt_pkcs8(*block, source, passphrase);
    else if (auto key = detail::fast_private_key(label, {block->der, static_cast<size_t>(block->len)}))
      raw = key.release();  // the common SEC1 and PKCS#1 keys; the other forms of them just below
    else if (label == "RSA PRIVATE KEY") raw = d2i_PrivateKey(EVP_PKEY_RSA, nullptr, &p, block->len);
    else if (label == "EC PRIVATE KEY") raw = d2i_PrivateKey(EVP_PKEY_EC, nullptr, &p, block->len);
    else raw = d2i_AutoPrivateKey(nullptr, &p, block->len);
    if (!raw) throw_openssl(Errc::key, "cannot parse the " + label, source);
    ossl::PKey pkey(raw);
    // An EC key read with a compressed (or hybrid) point would keep that form for its public key
    // (i2d_PUBKEY), unlike the certificates and CSRs made for it and the PEM written for it:
    // always uncompressed, as Go and cfssl write it.
    if (EVP_PKEY_get_base_id(pkey.get()) == EVP_PKEY_EC)
      ossl::check(EVP_PKEY_set_utf8_string_param(pkey.get(), OSSL_PKEY_PARAM_EC_POINT_CONVERSION_FORMAT,
                                                 OSSL_PKEY_EC_POINT_CONVERSION_FORMAT_UNCOMPRESSED),
                  "setting the EC point format", Errc::key);
    KeyPair kp(share(std::move(pkey)));
    try {
      (void)kp.spec();
    } catch (const Error& e) {
      throw e.with_source(source);
    }
    return kp;
  }
}

std::string KeyPair::to_pem() const {
  ossl::ClearErrors clear;
  auto bio = ossl::secret_bio();
  int rc = EVP_PKEY_get_base_id(pkey_.get()) == EVP_PKEY_ED25519
               ? PEM_write_bio_PrivateKey(bio.get(), pkey_.get(), nullptr, nullptr, 0, nullptr, nullptr)
               : PEM_write_bio_PrivateKey_traditional(bio.get(), pkey_.get(), nullptr, nullptr, 0, nullptr, nullptr);
  ossl::check(rc, "encoding the private key");
  return ossl::bio_string(bio.get());
}

std::string KeyPair::to_pem_encrypted(const Passphrase& passphrase) const {
  if (passphrase.empty()) throw Error(Errc::usage, "an empty passphrase cannot encrypt a key");
  ossl::ClearErrors clear;
  auto info = ossl::check<ossl::P8Info>(EVP_PKEY2PKCS8(pkey_.get()), "encoding the private key as PKCS#8");
  // A NULL salt of 16 bytes: a random one.
  auto pbe = ossl::check<ossl::Algor>(
      PKCS5_pbe2_set_iv_ex(EVP_aes_256_cbc(), kPbkdf2Iterations, nullptr, 16, nullptr, NID_hmacWithSHA256, nullptr),
      "setting up PBKDF2 and AES-256-CBC");
  std::string_view pass = passphrase.view();
  ossl::X509Sig sig(PKCS8_set0_pbe_ex(pass.data(), static_cast<int>(pass.size()), info.get(), pbe.get(), nullptr, nullptr));
  if (!sig) throw_openssl(Errc::crypto, "encrypting the private key");
  (void)pbe.release();  // owned by sig now
  auto bio = ossl::mem_bio();
  ossl::check(PEM_write_bio_PKCS8(bio.get(), sig.get()), "encoding the encrypted private key");
  return ossl::bio_string(bio.get());
}

KeySpec KeyPair::spec() const {
  switch (EVP_PKEY_get_base_id(pkey_.get())) {
    case EVP_PKEY_RSA: return {KeyAlgo::rsa, EVP_PKEY_get_bits(pkey_.get())};
    case EVP_PKEY_EC: {
      char group[64] = {};
      size_t len = 0;
      EVP_PKEY_get_utf8_string_param(pkey_.get(), OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof group, &len);
      std::string g = group;
      if (g == "prime256v1" || g == "P-256") return {KeyAlgo::ecdsa, 256};
      if (g == "secp384r1" || g == "P-384") return {KeyAlgo::ecdsa, 384};
      if (g == "secp521r1" || g == "P-521") return {KeyAlgo::ecdsa, 521};
      throw Error(Errc::key, "unsupported elliptic curve \"" + g + "\" (use P-256, P-384 or P-521)");
    }
    case EVP_PKEY_ED25519: return {KeyAlgo::ed25519, 0};
    default: throw Error(Errc::key, std::string("unsupported key type ") + EVP_PKEY_get0_type_name(pkey_.get()));
  }
}

std::string KeyPair::public_key_der() const {
  unsigned char* der = nullptr;
  int len = i2d_PUBKEY(pkey_.get(), &der);
  if (len <= 0) throw_openssl(Errc::crypto, "encoding the public key");
  std::string out(reinterpret_cast<char*>(der), static_cast<size_t>(len));
  OPENSSL_free(der);
  return out;
}

bool KeyPair::same_public_key(const KeyPair& other) const { return same_public_key(other.pkey_.get()); }
bool KeyPair::same_public_key(EVP_PKEY* other) const {
  bool same = other && EVP_PKEY_eq(pkey_.get(), other) == 1;
  ERR_clear_error();
  return same;
}

namespace detail {
const EVP_MD* signature_digest(const KeyPair& key) {
  KeySpec s = key.spec();
  switch (s.algo) {
    case KeyAlgo::rsa: return s.size >= 4096 ? EVP_sha512() : s.size >= 3072 ? EVP_sha384() : EVP_sha256();
    case KeyAlgo::ecdsa: return s.size == 521 ? EVP_sha512() : s.size == 384 ? EVP_sha384() : EVP_sha256();
    case KeyAlgo::ed25519: return nullptr;
  }
  return nullptr;
}
}  // namespace detail

}  // namespace etcd_pki
