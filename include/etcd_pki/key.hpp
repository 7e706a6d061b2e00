#pragma once
// Stage 2 of the pipeline: the key pair. Generated from a KeySpec, loaded from PEM, written
// the way cfssl writes it (RSA: PKCS#1 "RSA PRIVATE KEY", ECDSA: SEC1 "EC PRIVATE KEY",
// Ed25519: PKCS#8 "PRIVATE KEY").
#include <openssl/types.h>

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace etcd_pki {

enum class KeyAlgo { rsa, ecdsa, ed25519 };

struct KeySpec {
  KeyAlgo algo = KeyAlgo::ecdsa;
  int size = 256;  // RSA modulus bits; ECDSA curve size (256, 384, 521); 0 for Ed25519

  // cfssl's names and limits: "rsa" 2048-8192, "ecdsa" 256/384/521, "ed25519". Errors use cfssl's
  // wording ("RSA key is too weak", "RSA key size too large", "invalid curve",
  // "invalid algorithm") and are Errc::key. A size of 0 means the default for the algorithm
  // (RSA 2048, ECDSA 256).
  static KeySpec parse(std::string_view algo, int size, const std::string& source = {},
                       const std::string& field = "key");
  // "rsa", "ecdsa", "ed25519"
  std::string algo_name() const;
  // "RSA-2048", "ECDSA P-256", "Ed25519"
  std::string to_string() const;
  bool operator==(const KeySpec&) const = default;
};

// The passphrase of an encrypted private key (a CA key at rest). Its bytes are cleansed when it
// is destroyed. Never taken from the command line: from a file, an environment variable, or asked
// for (the CLI's prompt on a terminal) only when a key turns out to need it.
class Passphrase {
 public:
  Passphrase() = default;  // none
  explicit Passphrase(std::string text) : text_(std::move(text)) {}
  // Asks for the passphrase of the key `source`; `confirm`: a new key is to be encrypted with it
  // (asked twice). Returns the text; an empty answer or an error is the asker's to throw.
  using Asker = std::function<std::string(const std::string& source, bool confirm)>;
  // None given, but `ask` is called the first time one is needed (or_ask); its answer is kept and
  // shared by the copies, so a command asks at most once.
  static Passphrase asking(Asker ask);
  // The file's first line (without its line ending). A missing, unreadable or empty file is
  // Errc::usage naming the path.
  static Passphrase from_file(const std::string& path);
  // The variable's value; unset is "none", set but empty is Errc::usage.
  static Passphrase from_env(const std::string& name);
  Passphrase(const Passphrase&) = default;
  Passphrase(Passphrase&&) noexcept = default;
  Passphrase& operator=(const Passphrase&) = default;
  Passphrase& operator=(Passphrase&&) noexcept = default;
  ~Passphrase();

  bool empty() const { return text_.empty(); }
  std::string_view view() const { return text_; }
  // This passphrase; when none was given, the asker's answer (asked once); else none.
  Passphrase or_ask(const std::string& source, bool confirm = false) const;

 private:
  struct Asked;
  std::string text_;
  std::shared_ptr<Asked> asked_;
};

class KeyPair {
 public:
  // A new key. An RSA key's two primes are found on `threads` threads (0 = all cores, at most 2
  // used); ECDSA and Ed25519 keys take microseconds and are made on the calling thread.
  static KeyPair generate(const KeySpec& spec, unsigned threads = 0);
  // New keys for all `specs`, in order, on `threads` threads (0 = all cores): one job per ECDSA
  // or Ed25519 key, one per RSA prime, so the cores stay busy until the last key is done.
  // `progress(done, total)` is called from the workers as each key is finished.
  static std::vector<KeyPair> generate_many(const std::vector<KeySpec>& specs, unsigned threads = 0,
                                            const std::function<void(size_t done, size_t total)>& progress = {});
  // Reads the first private key in a PEM text: PKCS#1, SEC1, PKCS#8 or cfssl's
  // "Ed25519 PRIVATE KEY"; "EC PARAMETERS" blocks before it are skipped. An encrypted PKCS#8 key
  // ("ENCRYPTED PRIVATE KEY") is decrypted with `passphrase`; without one, with a wrong one, and
  // for OpenSSL's legacy "Proc-Type: 4,ENCRYPTED" keys it is Errc::key. Other PEM types are
  // refused (Errc::key, naming `source`).
  static KeyPair from_pem(std::string_view pem, const std::string& source = {}, const Passphrase& passphrase = {});
  // Whether the first private key in a PEM text is encrypted.
  static bool is_encrypted_pem(std::string_view pem);
  // Takes a reference to an existing OpenSSL key (interop).
  static KeyPair from_native(EVP_PKEY* pkey);

  std::string to_pem() const;
  // Encrypted PKCS#8 ("ENCRYPTED PRIVATE KEY"): AES-256-CBC, key from PBKDF2-HMAC-SHA256 with a
  // random 16-byte salt and kPbkdf2Iterations; what `openssl pkcs8 -topk8 -v2 aes-256-cbc` and
  // Go's x509 PKCS#8 readers understand. An empty passphrase is Errc::usage.
  std::string to_pem_encrypted(const Passphrase& passphrase) const;
  static constexpr int kPbkdf2Iterations = 200000;
  KeySpec spec() const;
  // DER SubjectPublicKeyInfo.
  std::string public_key_der() const;
  bool same_public_key(const KeyPair& other) const;
  bool same_public_key(EVP_PKEY* other) const;

  EVP_PKEY* native_handle() const { return pkey_.get(); }

 private:
  explicit KeyPair(std::shared_ptr<EVP_PKEY> p) : pkey_(std::move(p)) {}
  std::shared_ptr<EVP_PKEY> pkey_;  // immutable once made; safe to share between threads
};

}  // namespace etcd_pki
