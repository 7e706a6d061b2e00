#pragma once
// Stage 5 of the pipeline: the signer turns a Csr and a Profile into a Certificate.
// What goes into the certificate is decided first, by the pure function plan_certificate
// (tested without signing anything); Signer then encodes and signs the plan.
#include <optional>
#include <string>
#include <vector>

#include "etcd_pki/certificate.hpp"
#include "etcd_pki/csr.hpp"
#include "etcd_pki/key.hpp"
#include "etcd_pki/profile.hpp"

namespace etcd_pki {

struct SignOptions {
  std::optional<std::vector<std::string>> hosts;  // replaces the CSR's SANs (as cfssl -hostname)
  std::optional<TimePoint> now;                    // the clock, for tests; default: system time
  std::optional<std::string> crl_url;              // replaces the profile's CRL URL (cfssl -crl)
};

// What the issuer contributes to the decision.
struct IssuerInfo {
  std::optional<TimePoint> not_after;  // the leaf is capped here; nullopt for a self-signed root
  std::optional<int> path_len;         // the issuing CA's pathLen constraint
  bool self_signed = false;
};

struct CertificatePlan {
  Subject subject;
  Sans sans;
  bool san_critical = false;
  TimePoint not_before, not_after;
  Usages usages;
  bool is_ca = false;
  std::optional<int> path_len;
  std::string ocsp_url, crl_url;
  std::vector<std::string> issuer_urls;
  bool ocsp_no_check = false;
  std::vector<std::string> warnings;
};

// cfssl's rules (docs/cfssl-compat.md lists where etcd-pki differs): subject in cfssl's canonical
// order; SANs from the CSR or options.hosts, only IP SANs on a CA; notBefore = now rounded to the
// minute minus backdate (5 min), notAfter = notBefore + expiry, capped at the issuer's notAfter;
// key encipherment dropped for non-RSA keys; CA requests only under a ca_constraint profile.
// Throws Errc::policy / Errc::config.
CertificatePlan plan_certificate(const Csr& csr, const Profile& profile, const IssuerInfo& issuer,
                                 const SignOptions& options = {});

struct Issued {
  Certificate certificate;
  std::vector<std::string> warnings;
};

class Signer {
 public:
  // Refuses a certificate that is not a CA (or lacks keyCertSign), a key that does not match it,
  // and RSA keys under 2048 bits (Errc::ca). The names are used in messages.
  Signer(Certificate ca, KeyPair ca_key, std::string ca_source = "CA certificate",
         std::string key_source = "CA key");

  // Signs the CSR (keeping the CSR's own public key) under the profile. Thread-safe.
  Issued sign(const Csr& csr, const Profile& profile, const SignOptions& options = {}) const;

  // A self-signed root from a CSR and its key (cfssl gencert -initca).
  static Issued self_sign(const Csr& csr, const KeyPair& key, const Profile& profile,
                          const SignOptions& options = {});

  const Certificate& ca_certificate() const { return ca_; }
  const KeyPair& ca_key() const { return key_; }
  const std::string& ca_source() const { return ca_source_; }  // the CA certificate's name in messages

  // The CA's own issuers, nearest first, up to the root when known (load_signer reads them from the
  // CA file's further certificates, else from its chain file). Each must have signed the one
  // before it and be a CA, else Errc::ca naming `source`.
  void set_issuers(std::vector<Certificate> issuers, const std::string& source = {});
  const std::vector<Certificate>& issuers() const { return issuers_; }
  // What a certificate it signs is issued under: the CA, then its issuers (Bundle::issuers).
  std::vector<Certificate> issuer_chain() const;
  // The top of issuer_chain(): the root when it is known (the CA itself for a root).
  const Certificate& root() const { return issuers_.empty() ? ca_ : issuers_.back(); }

 private:
  Certificate ca_;
  KeyPair key_;
  std::string ca_source_;
  std::vector<Certificate> issuers_;
};

// Go (so etcd) requires the EKU of every intermediate CA, when it has one, to allow the leaf's
// server and client auth (etcd#16802): an intermediate of `issuer_chain` that does not allow those
// of `usages` is Errc::ca naming `source`. A root's EKU is not checked. issue, sign_csr, cluster and
// renew check it before signing; Signer::sign does not (tests make such chains on purpose).
void check_chain_allows(const std::vector<Certificate>& issuer_chain, const Usages& usages, const std::string& source);

// What follows a leaf in its certificate file: the certificates of `issuers` that are not
// self-signed (the intermediates, nearest first; never the root), as PEM. Empty for a leaf signed
// by a root. Go's tls.LoadX509KeyPair and etcd read a file so made as leaf + chain.
std::string intermediates_pem(const std::vector<Certificate>& issuers);

// The CA profile for a request's "ca" block: built-in "ca" profile with the request's expiry
// (default 43800h), backdate, pathlen/pathlenzero and crl_url.
Profile ca_profile_for(const Request& request);

}  // namespace etcd_pki
