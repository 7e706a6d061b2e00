#pragma once
// What is in a file: every certificate, CSR, private or public key and CRL it holds (PEM, or a
// single DER object), described for people and as JSON. Certificates use cfssl certinfo's JSON
// fields (subject, issuer, serial_number, sans, not_before, not_after, sigalg,
// authority_key_id, subject_key_id, pem) plus etcd-pki's own (see docs/cli.md).
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "etcd_pki/certificate.hpp"
#include "etcd_pki/crl.hpp"
#include "etcd_pki/duration.hpp"

namespace etcd_pki {

enum class ItemKind { certificate, csr, private_key, public_key, crl };
const char* to_string(ItemKind k);  // "certificate", "csr", "private key", "public key", "crl"

struct InspectedItem {
  std::string file;
  ItemKind kind = ItemKind::certificate;
  std::vector<std::pair<std::string, std::string>> fields;  // label, value: the readable summary
  std::string json;                                          // one JSON object
  std::string public_key_sha256;                             // certificates, CSRs, keys: "AB:CD:..."
};

struct InspectOptions {
  std::optional<TimePoint> now;        // for "time left"; default: system time
  std::optional<Certificate> ca;       // checks certificate and CRL signatures against it
  std::optional<Crl> crl;              // reports whether each certificate is revoked
};

// Every object in `data` (read from `file`). Nothing recognisable is Errc::input naming the file;
// an encrypted private key is described as such (its type cannot be read without the passphrase).
std::vector<InspectedItem> inspect_data(const std::string& data, const std::string& file, const InspectOptions& options = {});
std::vector<InspectedItem> inspect_file(const std::string& path, const InspectOptions& options = {});

// The readable form: "FILE: certificate" then one "  Label: value" line per field, items apart
// by a blank line. Private keys that match a certificate among `items` say which.
std::string render_text(const std::vector<InspectedItem>& items);
// One item: its object (as cfssl certinfo prints one certificate); several: an array.
std::string render_json(const std::vector<InspectedItem>& items);

// Go's names of signature algorithms, as certinfo prints them: "SHA256WithRSA", "ECDSAWithSHA256", "Ed25519".
std::string signature_algorithm_name(const Certificate& cert);

}  // namespace etcd_pki
