#pragma once
// The pipeline run end to end, as the CLI commands use it:
//   init-ca: Request -> KeyPair -> Csr -> ca profile -> self-signed Certificate -> Bundle
//   issue:   Request -> KeyPair -> Csr -> Profile -> Signer -> Certificate -> Bundle
//   sign:    external Csr -> Profile -> Signer -> Certificate -> Bundle (no key)
#include <optional>
#include <string>
#include <vector>

#include "etcd_pki/bundle.hpp"
#include "etcd_pki/csr.hpp"
#include "etcd_pki/profile.hpp"
#include "etcd_pki/request.hpp"
#include "etcd_pki/signer.hpp"

namespace etcd_pki {

// A new self-signed CA from a request (cfssl gencert -initca). The request must name a subject
// (Request::validate_for_ca); its "ca" block sets expiry, backdate and pathlen.
Bundle make_ca(const Request& request, const SignOptions& options = {}, const std::string& source = {});
// The same with a key made beforehand (KeyPair::generate_many); its type must be request.key
// (Errc::key otherwise).
Bundle make_ca(const Request& request, const KeyPair& key, const SignOptions& options = {}, const std::string& source = {});

// A new intermediate CA signed by `signer` (init-ca --ca): as make_ca, but issued by the signer's
// CA, with pathlen 0 unless the request's "ca" block asks for more, and no extended key usage
// (an intermediate's EKU must allow its leaves' server and client auth: etcd#16802). The bundle's
// `issuers` are the signer's issuer_chain(): its chain file. The signer's own pathlen is enforced
// (Errc::policy).
Bundle make_intermediate_ca(const Request& request, const Signer& signer, const SignOptions& options = {},
                            const std::string& source = {});

// A new key, CSR and certificate from a request, signed under `profile`. options.hosts, when set,
// replaces the request's hosts in the CSR and in the certificate (cfssl -hostname). A request
// with a "ca" block is refused: CA requests go through make_ca.
Bundle issue(const Request& request, const Signer& signer, const Profile& profile, const SignOptions& options = {},
             const std::string& source = {});
// The same with a key made beforehand; its type must be request.key (Errc::key otherwise).
Bundle issue(const Request& request, const KeyPair& key, const Signer& signer, const Profile& profile,
             const SignOptions& options = {}, const std::string& source = {});

// Signs an existing CSR (its key stays where it is); the bundle holds the CSR as read (cfssl sign
// echoes csr_pem byte for byte: the CLI passes on the text it read).
Bundle sign_csr(const std::string& csr_pem, const Signer& signer, const Profile& profile,
                const SignOptions& options = {}, const std::string& source = {});

// Loads ca.pem and ca-key.pem and checks they belong together (Errc::ca / Errc::key naming the files).
// An encrypted CA key needs its passphrase. The key file's text is cleansed once read.
// The CA's issuers (Signer::set_issuers) are the CA file's further certificates, else those after
// the first in its chain file (ca-chain.pem next to ca.pem), when that starts with the same CA.
Signer load_signer(const std::string& ca_path, const std::string& ca_key_path, const Passphrase& passphrase = {});

}  // namespace etcd_pki
