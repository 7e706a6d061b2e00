#include "etcd_pki/pipeline.hpp"

#include <openssl/crypto.h>

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
  Bundle b{issued.certificate, csr, key, {}};
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
  Issued issued = attributed(source, [&] { return signer.sign(csr, profile, options); });
  Bundle b{issued.certificate, csr, key, {}};
  append(b.warnings, request.warnings, source);
  append(b.warnings, issued.warnings, source);
  return b;
}

Bundle sign_csr(const std::string& csr_pem, const Signer& signer, const Profile& profile, const SignOptions& options,
                const std::string& source) {
  Csr csr = Csr::from_pem(csr_pem, source);
  Issued issued = attributed(source, [&] { return signer.sign(csr, profile, options); });
  Bundle b{issued.certificate, csr, std::nullopt, {}};
  append(b.warnings, issued.warnings, source);
  return b;
}

Signer load_signer(const std::string& ca_path, const std::string& ca_key_path, const Passphrase& passphrase) {
  // Its key stays undecoded: the Signer compares it with the CA key as DER.
  Certificate ca = Certificate::from_pem(read_text_file(ca_path, Errc::ca), ca_path, Errc::ca, Certificate::KeyDecoding::when_needed);
  std::string key_pem = read_text_file(ca_key_path, Errc::ca);
  struct Wipe {  // the key file's text, cleansed however this returns
    std::string& text;
    ~Wipe() { OPENSSL_cleanse(text.data(), text.size()); }
  } wipe{key_pem};
  KeyPair key = KeyPair::from_pem(key_pem, ca_key_path, passphrase);
  return Signer(std::move(ca), std::move(key), ca_path, ca_key_path);
}

}  // namespace etcd_pki
