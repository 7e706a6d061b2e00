#pragma once
// Stage 3 of the pipeline: the PKCS#10 certificate signing request.
#include <openssl/types.h>

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "etcd_pki/hosts.hpp"
#include "etcd_pki/key.hpp"
#include "etcd_pki/request.hpp"

// <openssl/types.h> does not name X509_REQ; this is the same declaration <openssl/x509.h> makes.
typedef struct X509_req_st X509_REQ;

namespace etcd_pki {

struct CsrBasicConstraints {
  bool is_ca = false;
  std::optional<int> path_len;  // absent = unlimited
};

class Csr {
 public:
  // The subject in cfssl's RDN order, the SANs from `hosts` (classified as in hosts.hpp; the SAN
  // extension is critical when the subject is empty) and, for a request with a "ca" block, a
  // critical BasicConstraints CA:TRUE. Signed with `key` (hash chosen from the key as cfssl does).
  static Csr create(const Request& request, const KeyPair& key);
  static Csr create(const Subject& subject, const Sans& sans, const KeyPair& key,
                    std::optional<CsrBasicConstraints> ca = std::nullopt);

  // Reads a PEM "CERTIFICATE REQUEST" (or "NEW CERTIFICATE REQUEST") and verifies its signature.
  // Errors are Errc::csr naming `source`.
  static Csr from_pem(std::string_view pem, const std::string& source = {});

  std::string to_pem() const;
  Subject subject() const;
  Sans sans() const;
  std::optional<CsrBasicConstraints> basic_constraints() const;
  KeyPair public_key() const;  // a public-only KeyPair
  // The public key's type and size (known without decoding the key for a CSR made by create()).
  KeySpec key_spec() const;

  // For a CSR made by create(), X509_REQ_get0_pubkey(native_handle()) is NULL: the public key is
  // set from the key's parameters without OpenSSL 3.0's costly decode; use public_key().
  X509_REQ* native_handle() const { return req_.get(); }

 private:
  explicit Csr(std::shared_ptr<X509_REQ> r) : req_(std::move(r)) {}
  std::shared_ptr<X509_REQ> req_;
  std::optional<KeySpec> spec_;
};

}  // namespace etcd_pki
