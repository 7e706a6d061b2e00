#include "etcd_pki/pipeline.hpp"

#include <openssl/crypto.h>

#include <filesystem>

#include "layout.hpp"

namespace etcd_pki {

namespace {
void append(std::vector<std::string>& to, const std::vector<std::string>& from, const std::string& source) {
  for (const auto& w : from) to.push_back(source.empty() ? w : source + ": " + w);
}

// Runs f; an Error without a file name gets `source`.
template <class F>
auto attributed(const std::string& source, F f) -> decltype(f()) {
  try {
    return f();
  } catch (const Error& e) {
    throw e.with_source(source);
  }
}

void check_key_type(const Request& request, const KeyPair& key, const std::string& source) {
  KeySpec have = key.spec();
  if (have != request.key)
    throw Error(Errc::key, "the key given is " + have.to_string() + " but the request asks for " + request.key.to_string(),
                source, "key");
}

void refuse_ca_section(const Request& request, const std::string& source) {
  if (request.ca)
    throw Error(Errc::input, "a \"ca\" section is only allowed for init-ca (remove it, or use init-ca)", source, "ca");
}
}  // namespace

Bundle make_ca(const Request& request, const SignOptions& options, const std::string& source) {
  request.validate_for_ca(source);
  return make_ca(request, KeyPair::generate(request.key), options, source);
}

Bundle make_ca(const Request& request, const KeyPair& key, const SignOptions& options, const std::string& source) {
  request.validate_for_ca(source);
  check_key_type(request, key, source);
  Csr csr = Csr::create(request, key);
  Issued issued = attributed(source, [&] { return Signer::self_sign(csr, key, ca_profile_for(request), options); });
  Bundle b{issued.certificate, csr, key, {}, {}};
  append(b.warnings, request.warnings, source);
  append(b.warnings, issued.warnings, source);
  return b;
}

Bundle make_intermediate_ca(const Request& request, const Signer& signer, const SignOptions& options,
                            const std::string& source) {
  request.validate_for_ca(source);
  KeyPair key = KeyPair::generate(request.key);
  Csr csr = Csr::create(request, key);
  Profile profile = ca_profile_for(request);
  profile.ca.max_path_len = request.ca ? request.ca->pathlen : 0;
  profile.ca.max_path_len_zero = profile.ca.max_path_len == 0;
  Issued issued = attributed(source, [&] { return signer.sign(csr, profile, options); });
  Bundle b{issued.certificate, csr, key, {}, signer.issuer_chain()};
  append(b.warnings, request.warnings, source);
  append(b.warnings, issued.warnings, source);
  return b;
}

Bundle issue(const Request& request, const Signer& signer, const Profile& profile, const SignOptions& options,
             const std::string& source) {
  refuse_ca_section(request, source);
  return issue(request, KeyPair::generate(request.key), signer, profile, options, source);
}

Bundle issue(const Request& request, const KeyPair& key, const Signer& signer, const Profile& profile,
             const SignOptions& options, const std::string& source) {
  refuse_ca_section(request, source);
  check_key_type(request, key, source);
  Request req = request;
  if (options.hosts) req.hosts = *options.hosts;
  Csr csr = Csr::create(req, key);
  check_chain_allows(signer.issuer_chain(), profile.usages, signer.ca_source());
  Issued issued = attributed(source, [&] { return signer.sign(csr, profile, options); });
  Bundle b{issued.certificate, csr, key, {}, signer.issuer_chain()};
  append(b.warnings, request.warnings, source);
  append(b.warnings, issued.warnings, source);
  return b;
}

Bundle sign_csr(const std::string& csr_pem, const Signer& signer, const Profile& profile, const SignOptions& options,
                const std::string& source) {
  Csr csr = Csr::from_pem(csr_pem, source);
  check_chain_allows(signer.issuer_chain(), profile.usages, signer.ca_source());
  Issued issued = attributed(source, [&] { return signer.sign(csr, profile, options); });
  Bundle b{issued.certificate, csr, std::nullopt, {}, signer.issuer_chain()};
  append(b.warnings, issued.warnings, source);
  return b;
}

Signer load_signer(const std::string& ca_path, const std::string& ca_key_path, const Passphrase& passphrase) {
  // Its key stays undecoded: the Signer compares it with the CA key as DER.
  // The CA first, then its issuers when the file holds its chain.
  const std::string ca_text = read_text_file(ca_path, Errc::ca);
  std::vector<Certificate> in_file = Certificate::all_from_pem(ca_text, ca_path, Errc::ca, Certificate::KeyDecoding::when_needed);
  Certificate ca = in_file.size() > 1 ? in_file.front()
                                      : Certificate::from_pem(ca_text, ca_path, Errc::ca, Certificate::KeyDecoding::when_needed);
  std::string key_pem = read_text_file(ca_key_path, Errc::ca);
  struct Wipe {  // the key file's text, cleansed however this returns
    std::string& text;
    ~Wipe() { OPENSSL_cleanse(text.data(), text.size()); }
  } wipe{key_pem};
  KeyPair key = KeyPair::from_pem(key_pem, ca_key_path, passphrase);
  Signer signer(std::move(ca), std::move(key), ca_path, ca_key_path);
  // The CA's issuers: the CA file's further certificates, else its chain file's.
  std::string chain_path = detail::chain_path_for_ca(ca_path);
  if (in_file.size() > 1) {
    signer.set_issuers({in_file.begin() + 1, in_file.end()}, ca_path);
  } else if (std::error_code ec; std::filesystem::exists(chain_path, ec)) {
    std::vector<Certificate> chain = Certificate::all_from_pem(read_text_file(chain_path, Errc::ca), chain_path, Errc::ca);
    if (chain.empty() || chain.front().sha256_fingerprint() != signer.ca_certificate().sha256_fingerprint())
      throw Error(Errc::ca, "does not start with the CA certificate " + ca_path + " (it must hold that CA, then its issuers)",
                  chain_path);
    signer.set_issuers({chain.begin() + 1, chain.end()}, chain_path);
  }
  return signer;
}

}  // namespace etcd_pki
