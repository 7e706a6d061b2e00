#pragma once
// Revocation: the CA's small issued/revoked index (OpenSSL's index.txt format, so `openssl ca
// -gencrl` reads it too) and the CRL made from it, in DER (what etcd >= 3.6 reads) and PEM.
//
//   CA folder/ca.pem            the CA certificate
//   CA folder/ca-index.txt      V/R lines: status, notAfter, revoked at[,reason], serial, -, subject
//   CA folder/ca.crl            the CRL, DER  (etcd --client-crl-file / --peer-crl-file)
//   CA folder/ca-crl.pem        the same CRL, PEM
#include <openssl/types.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "etcd_pki/bundle.hpp"
#include "etcd_pki/certificate.hpp"
#include "etcd_pki/duration.hpp"
#include "etcd_pki/signer.hpp"

namespace etcd_pki {

// RFC 5280 CRLReason codes (7 is unused).
enum class RevocationReason : int {
  unspecified = 0, key_compromise = 1, ca_compromise = 2, affiliation_changed = 3, superseded = 4,
  cessation_of_operation = 5, certificate_hold = 6, remove_from_crl = 8, privilege_withdrawn = 9, aa_compromise = 10,
};
// "keyCompromise", "key-compromise", "key_compromise" (any case) or the number; Errc::usage otherwise.
RevocationReason parse_revocation_reason(std::string_view text);
const char* to_string(RevocationReason r);  // RFC 5280 / OpenSSL name: "keyCompromise"

// A serial as upper-case hex without leading zeros ("0" for zero): the one form used for
// comparisons. Accepts "0x1A", "1a:2b", "1A2B" (hex) and "dec:123"; Errc::usage otherwise.
std::string normalize_serial_hex(std::string_view text);
std::optional<std::string> decimal_to_serial_hex(std::string_view digits);  // nullopt if not all digits
// A normalize_serial_hex serial as OpenSSL prints it, with an even number of digits ("5A1F" ->
// "5A1F", "55001D" -> "55001D", "5001D" -> "05001D"): for the index file and for messages, so
// that they match `openssl x509 -serial`.
std::string openssl_serial_hex(const std::string& serial_hex);

struct IndexEntry {
  char status = 'V';  // 'V' valid, 'R' revoked ('E' expired is read, never written)
  TimePoint not_after;
  std::optional<TimePoint> revoked_at;
  RevocationReason reason = RevocationReason::unspecified;
  std::string serial;   // normalize_serial_hex form
  std::string subject;  // OpenSSL's one-line form "/C=CN/CN=etcd-1"
};

class CaIndex {
 public:
  // DIR/ca.pem -> DIR/ca-index.txt (the CA file's base name without extension, "-index.txt").
  static std::string path_for(const std::string& ca_cert_path);
  // A missing file is an empty index; a malformed line is Errc::input naming the file and line.
  static CaIndex load(const std::string& path);
  static CaIndex parse(std::string_view text, const std::string& source);
  std::string to_text() const;

  const std::vector<IndexEntry>& entries() const { return entries_; }
  const IndexEntry* find(const std::string& serial_hex) const;

  // Adds (or refreshes) a 'V' entry for an issued certificate; a known revoked serial stays revoked.
  void record_issued(const Certificate& cert);
  // Marks the serial revoked (privilegeWithdrawn and AACompromise, which OpenSSL's index format
  // cannot hold, are Errc::usage). A serial that is not in the index is added when `cert` gives its
  // details (or with an unknown expiry otherwise). Returns false if it was already revoked.
  bool revoke(const std::string& serial_hex, TimePoint when, RevocationReason reason,
              const std::optional<Certificate>& cert = std::nullopt);

 private:
  std::vector<IndexEntry> entries_;
};

// Read-modify-write of an index file under an exclusive lock (flock on its folder), written
// atomically (temp file + rename). Returns the index as written.
CaIndex update_ca_index(const std::string& index_path, const std::function<void(CaIndex&)>& change);

// Records issued certificates in the index next to the CA (best effort is not good enough for a
// revocation index: an unwritable index is an Errc::io error the caller reports).
void record_issued(const std::string& ca_cert_path, const std::vector<Certificate>& certs);

// Writes `files` (write_files) and records `certs` in the index next to the CA in the same
// all-or-nothing write: the certificates are in the index exactly when their files exist, and the
// index costs no flush of its own. The folders' locks are held from reading the index to the last
// rename, all taken at once in FolderLocks' order (missing folders are made with `dir_mode`). A
// malformed index is Errc::input naming it, before anything is written.
// `journal_dir`: as for write_files (default: the deepest folder common to the files and the
// index); an interrupted change found there is completed first, before the index is read.
void write_files_recorded(std::vector<OutputFile> files, bool overwrite, const std::string& ca_cert_path,
                          const std::vector<Certificate>& certs, mode_t dir_mode = 0755, const std::string& journal_dir = {});

// What issue, sign and cluster do: write_files_recorded when the index can go in the write; when
// the CA's folder is not writable (a CA on read-only media) or its index is malformed, the files
// are written alone and record_issued is tried after. Returns "" when the certificates are
// recorded, else why not (the files are written either way; the caller warns).
std::string write_files_and_record(const std::vector<OutputFile>& files, bool overwrite, const std::string& ca_cert_path,
                                   const std::vector<Certificate>& certs, mode_t dir_mode = 0755,
                                   const std::string& journal_dir = {});

struct CrlOptions {
  Seconds next_update{7LL * 24 * 3600};  // cfssl gencrl's default: one week
  std::optional<TimePoint> now;
  std::optional<int64_t> number;  // the CRL number; default: thisUpdate as a Unix time
  // write_crl and revoke_and_write_crl: a cluster output folder whose member folders get the CRL
  // too (ca.crl next to each one's trust file, the MANIFEST refreshed), in the same write.
  std::string cluster_dir;
};

// A v2 CRL signed by the CA: thisUpdate = now, nextUpdate = now + next_update, every revoked
// index entry with its date and reason, AKI (the CA's SKI) and a CRL number (thisUpdate as a
// Unix time, so numbers increase without state).
class Crl {
 public:
  static Crl make(const Signer& signer, const CaIndex& index, const CrlOptions& options = {});
  // DER or PEM ("X509 CRL"); Errc::input naming `source` otherwise.
  static Crl from_bytes(std::string_view data, const std::string& source = {});

  std::string to_der() const;
  std::string to_pem() const;

  struct Revoked {
    std::string serial;  // normalize_serial_hex form
    TimePoint revoked_at;
    std::optional<RevocationReason> reason;
  };
  std::string issuer_string() const;
  Subject issuer() const;
  TimePoint this_update() const;
  std::optional<TimePoint> next_update() const;
  std::optional<std::string> crl_number() const;  // hex
  std::string authority_key_id() const;           // raw bytes, "" when absent
  std::vector<Revoked> revoked() const;
  bool is_revoked(const std::string& serial_hex) const;
  bool signed_by(const Certificate& ca) const;  // signature verifies with the CA's public key
  std::string sha256_fingerprint() const;

  X509_CRL* native_handle() const { return crl_.get(); }

 private:
  explicit Crl(std::shared_ptr<X509_CRL> c) : crl_(std::move(c)) {}
  std::shared_ptr<X509_CRL> crl_;
};

// The CRL files next to the CA: DIR/ca.crl (DER) and DIR/ca-crl.pem.
struct CrlPaths {
  std::string der, pem;
  static CrlPaths for_ca(const std::string& ca_cert_path);
};

// The CRL that replaces the one next to the CA: Crl::make from `index`, its number above the
// previous CRL's, even within the same second (RFC 5280 5.2.3), unless options.number is set.
Crl next_crl(const Signer& signer, const CaIndex& index, const std::string& ca_cert_path, CrlOptions options = {});

// Makes the CRL from the CA's index and writes both files (replacing the previous CRL). Its CRL
// number is above the previous CRL's, even within the same second (RFC 5280 5.2.3).
Crl write_crl(const Signer& signer, const std::string& ca_cert_path, const CrlOptions& options = {});

// Revokes `serial_hex` in the CA's index (CaIndex::revoke) and writes the CRL made from it: the
// index and both CRL files change together or not at all. `changed` is false when the serial was
// revoked already (the CRL is written anyway).
struct Revocation {
  bool changed = false;
  Crl crl;
};
Revocation revoke_and_write_crl(const Signer& signer, const std::string& ca_cert_path, const std::string& serial_hex,
                                RevocationReason reason, const std::optional<Certificate>& cert = std::nullopt,
                                const CrlOptions& options = {});

}  // namespace etcd_pki
