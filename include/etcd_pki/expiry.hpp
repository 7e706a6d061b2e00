#pragma once
// When does what expire: every certificate (and CRL nextUpdate) under the given folders and
// files, identical copies counted once, sorted by expiry. For cron and monitoring checks.
#include <optional>
#include <string>
#include <vector>

#include "etcd_pki/certificate.hpp"
#include "etcd_pki/duration.hpp"

namespace etcd_pki {

// The role of a certificate file: "ca", "server", "peer", "client", "server+peer" (a name that
// says nothing, with server auth) or "leaf".
std::string guess_role(const std::string& path, const Certificate& cert);

struct ExpiryEntry {
  std::string file;                 // the first file holding it ("FILE#2": the second certificate in FILE)
  std::vector<std::string> copies;  // the other files with the same certificate
  std::string role;                 // guess_role, "intermediate" (a CA not self-signed), or "crl"
  TimePoint expires;                // notAfter, or the CRL's nextUpdate
  std::string ca;                   // the issuer's CN (or whole subject when it has no CN)
  std::string subject;              // "CRL" for a CRL
  // For monitoring (render_prometheus):
  TimePoint not_before{};           // notBefore, or the CRL's thisUpdate
  std::string serial;               // decimal (Certificate::serial_decimal); "" for a CRL
  std::string subject_cn;           // "" when the subject has none, and for a CRL
  std::string issuer_cn;            // "" when the issuer has none
  std::string member;               // the member whose folder holds `file` (its etcd config's name); else ""
};

struct ExpiryReport {
  TimePoint now;
  Seconds within;                    // for certificates
  Seconds crl_within;                // for CRLs (their nextUpdate is days away by design)
  std::vector<ExpiryEntry> entries;  // soonest first
  std::vector<std::string> skipped;  // files that hold no certificate or CRL (keys, CSRs, configs)
  bool due(const ExpiryEntry& e) const;  // expires (or has expired) before now + its window
  bool any_within() const;               // any entry is due
};

// Walks folders (hidden folders, such as renew's backups in .etcd-pki, are skipped) and reads
// files. A path that does not exist is Errc::input (as a missing input file elsewhere); an unreadable certificate Errc::input.
ExpiryReport scan_expiry(const std::vector<std::string>& paths, Seconds within, std::optional<TimePoint> now = std::nullopt,
                         Seconds crl_within = Seconds(24 * 3600));

// A table: NAME, ROLE, EXPIRES, LEFT, CA; rows within the window are marked "!".
std::string render_text(const ExpiryReport& report);
std::string render_json(const ExpiryReport& report);
// Metrics for node_exporter's textfile collector (Prometheus text format 0.0.4), with the
// x509-certificate-exporter's names: per certificate x509_cert_not_after, x509_cert_not_before
// (Unix seconds) and x509_cert_expired (1 when report.now is past notAfter), per CRL
// x509_crl_next_update; labels subject_CN, issuer_CN, serial_number (decimal), filepath (the
// entry's file), member and role. One series per entry, sorted by filepath (docs/operate.md).
std::string render_prometheus(const ExpiryReport& report);

}  // namespace etcd_pki
