#pragma once
// Stage 6 of the pipeline: what was made, written out. NAME.pem (0644), NAME-key.pem (0600,
// created with that mode), NAME.csr (0644), all or none (temp file, fsync, rename), or cfssl's
// JSON on stdout.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "etcd_pki/certificate.hpp"
#include "etcd_pki/csr.hpp"
#include "etcd_pki/files.hpp"
#include "etcd_pki/key.hpp"

namespace etcd_pki {

// What make_ca, issue and sign_csr made, as objects; PEM is written only at the edge
// (to_pem, to_cfssl_json, bundle_files).
struct Bundle {
  std::optional<Certificate> certificate;
  std::optional<Csr> csr;
  std::optional<KeyPair> key;
  std::vector<std::string> warnings;
  // The certificate's issuers, nearest first, up to the root when known (Signer::issuer_chain).
  // A leaf's PEM is the leaf, then those that are not self-signed (intermediates_pem); a CA signed
  // by another gets them in its chain file instead (CfsslOutput::chain), its own PEM stays alone.
  std::vector<Certificate> issuers;
};

// PEM text as cfssl prints it and cfssljson reads it: a rendered Bundle, or what
// from_cfssl_json found (text someone else made, passed on unparsed).
struct CfsslOutput {
  std::optional<std::string> cert, csr, key;
  std::optional<std::string> chain;  // an intermediate CA's chain file: it, then its issuers (not in cfssl's JSON)
};

// The bundle's objects as PEM; the key is encrypted (KeyPair::to_pem_encrypted) when a
// passphrase is given.
CfsslOutput to_pem(const Bundle& bundle, const Passphrase& key_passphrase = {});

// {"cert":"...","csr":"...","key":"..."}: one line, keys sorted, only those present, Go's JSON
// escaping, then "\n" (what cfssl gencert prints).
std::string to_cfssl_json(const CfsslOutput& pem);
std::string to_cfssl_json(const Bundle& bundle);

// Reads what cfssl prints, as cfssljson does: with `bare`, the {"cert","csr","key"} map (also
// "certificate", "certificate_request", "private_key"); without, the API envelope
// {"success":true,"result":{...}}. A failed envelope or bad JSON is Errc::input. The PEM text is
// returned as given (not parsed).
CfsslOutput from_cfssl_json(std::string_view text, bool bare, const std::string& source = "stdin");

// The files of a bundle: DIR/BASE.pem, DIR/BASE-key.pem, DIR/BASE.csr, DIR/BASE-chain.pem (those present).
std::vector<OutputFile> bundle_files(const CfsslOutput& pem, const std::string& dir, const std::string& base);
std::vector<OutputFile> bundle_files(const Bundle& bundle, const std::string& dir, const std::string& base);

// The key next to a certificate, by the naming of cfssl and kubeadm: NAME.pem -> NAME-key.pem,
// NAME.crt -> NAME.key.
std::string key_path_for_cert(const std::string& cert_path);

}  // namespace etcd_pki
