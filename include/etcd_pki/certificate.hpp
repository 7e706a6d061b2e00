#pragma once
// An X.509 certificate: what the Signer returns, and what is read back from ca.pem.
#include <openssl/types.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "etcd_pki/duration.hpp"
#include "etcd_pki/error.hpp"
#include "etcd_pki/hosts.hpp"
#include "etcd_pki/key.hpp"
#include "etcd_pki/request.hpp"

namespace etcd_pki {

class Certificate {
 public:
  // When a certificate's public key is decoded: `now`, or `when_needed`: the fields now and the key
  // on the first native_handle() or public_key() call. OpenSSL 3.0 spends 90% of a parse on
  // decoding the key (a decoder chain per certificate); listing, comparing keys (as DER) and
  // checking fields and signatures need none of it.
  enum class KeyDecoding { now, when_needed };
  // Exactly one PEM "CERTIFICATE"; anything else is an error of `category` naming `source`.
  static Certificate from_pem(std::string_view pem, const std::string& source = {}, Errc category = Errc::ca,
                              KeyDecoding decode = KeyDecoding::now);
  static Certificate from_native(X509* x509);  // takes a new reference
  // Every "CERTIFICATE" block, in order (a chain or a CA bundle); other blocks are skipped. A DER
  // certificate is read too. An unparsable certificate is an error of `category`; none is an empty list.
  static std::vector<Certificate> all_from_pem(std::string_view data, const std::string& source = {},
                                               Errc category = Errc::input, KeyDecoding decode = KeyDecoding::now);

  std::string to_pem() const;

  Subject subject() const;
  std::string subject_string() const;  // "C=CN, ST=BeiJing, ..., CN=etcd"
  std::string issuer_string() const;
  Subject issuer() const;
  std::string serial_hex() const;
  std::string serial_decimal() const;  // as cfssl's certinfo and Go's big.Int print it ("-5" for a negative one)
  Sans sans() const;
  TimePoint not_before() const;
  TimePoint not_after() const;
  bool is_ca() const;                  // BasicConstraints CA:TRUE
  std::optional<int> path_len() const;
  std::optional<uint32_t> key_usage() const;  // KeyUsage bits (see profile.hpp), if present
  std::vector<std::string> ext_key_usage() const;  // dotted OIDs, in order
  std::string subject_key_id() const;   // raw bytes ("" when absent)
  std::string authority_key_id() const; // raw bytes ("" when absent)
  KeyPair public_key() const;           // a public-only KeyPair
  bool self_signed() const;
  bool signed_by(const Certificate& issuer) const;  // the signature verifies with issuer's public key
  std::string sha256_fingerprint() const;  // "AB:CD:..."

  // The OpenSSL certificate. For one the Signer has just made, or one read with
  // KeyDecoding::when_needed, this is the certificate read back from its DER on the first call
  // (once, thread-safe): OpenSSL 3.0 decodes the public key only when parsing, and that decode
  // costs more than making a P-256 key, so it is done only when something needs it.
  X509* native_handle() const;

 private:
  struct Parsed;
  friend Certificate detail_certificate_built(X509* x509);
  friend X509* detail_certificate_fields(const Certificate& c);
  explicit Certificate(std::shared_ptr<X509> x, std::shared_ptr<Parsed> p = nullptr)
      : x509_(std::move(x)), parsed_(std::move(p)) {}
  std::shared_ptr<X509> x509_;      // for the fields
  std::shared_ptr<Parsed> parsed_;  // set when x509_ was built in memory and not parsed
};

// Private (signer): a certificate built in memory, taking a new reference.
Certificate detail_certificate_built(X509* x509);
// Private: the X509 to read fields from (subject, serial...) without reading it back first.
X509* detail_certificate_fields(const Certificate& c);

}  // namespace etcd_pki
