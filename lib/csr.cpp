#include "etcd_pki/csr.hpp"

#include <openssl/pem.h>

#include "internal.hpp"
#include "x509_util.hpp"

namespace etcd_pki {

using ossl::share;

Csr Csr::create(const Request& request, const KeyPair& key) {
  std::optional<CsrBasicConstraints> bc;
  if (request.ca) {
    bc = CsrBasicConstraints{true, std::nullopt};
    if (request.ca->pathlen > 0 || request.ca->pathlenzero) bc->path_len = request.ca->pathlen;
  }
  return create(request.subject, classify_hosts(request.hosts), key, bc);
}

Csr Csr::create(const Subject& subject, const Sans& sans, const KeyPair& key, std::optional<CsrBasicConstraints> ca) {
  ossl::ClearErrors clear;
  auto req = ossl::check<ossl::Req>(X509_REQ_new(), "X509_REQ_new");
  ossl::check(X509_REQ_set_version(req.get(), 0), "X509_REQ_set_version");
  auto name = detail::encode_subject(subject);
  ossl::check(X509_REQ_set_subject_name(req.get(), name.get()), "X509_REQ_set_subject_name");
  detail::set_public_key(X509_REQ_get_X509_PUBKEY(req.get()), key.native_handle());

  auto exts = ossl::check<ossl::ExtStack>(sk_X509_EXTENSION_new_null(), "sk_X509_EXTENSION_new_null");
  auto push = [&](ossl::Ext ext) {
    ossl::check(sk_X509_EXTENSION_push(exts.get(), ext.get()), "sk_X509_EXTENSION_push");
    ext.release();
  };
  if (!sans.empty()) {
    auto names = detail::encode_sans(sans);
    push(detail::make_ext(NID_subject_alt_name, subject.empty(), names.get()));
  }
  if (ca) {
    auto bc = ossl::check<ossl::BasicConstraints>(BASIC_CONSTRAINTS_new(), "BASIC_CONSTRAINTS_new");
    bc->ca = ca->is_ca ? 0xFF : 0;
    if (ca->path_len) {
      bc->pathlen = ASN1_INTEGER_new();
      ossl::check(ASN1_INTEGER_set(bc->pathlen, *ca->path_len), "ASN1_INTEGER_set");
    }
    push(detail::make_ext(NID_basic_constraints, true, bc.get()));
  }
  if (sk_X509_EXTENSION_num(exts.get()) > 0)
    ossl::check(X509_REQ_add_extensions(req.get(), exts.get()), "X509_REQ_add_extensions");
  ossl::check(X509_REQ_sign(req.get(), key.native_handle(), detail::signature_digest(key)), "signing the CSR");
  Csr csr(share(std::move(req)));
  csr.spec_ = key.spec();
  return csr;
}

Csr Csr::from_pem(std::string_view pem, const std::string& source) {
  ossl::ClearErrors clear;
  auto bio = ossl::mem_bio(pem);
  auto block = ossl::next_pem_block(bio.get());
  if (!block) throw Error(Errc::csr, "no PEM \"CERTIFICATE REQUEST\" found", source);
  if (block->label != "CERTIFICATE REQUEST" && block->label != "NEW CERTIFICATE REQUEST")
    throw Error(Errc::csr, "not a CSR: found a PEM \"" + block->label + "\" block", source);
  const unsigned char* p = block->der;
  ossl::Req req(d2i_X509_REQ(nullptr, &p, block->len));
  if (!req) throw_openssl(Errc::csr, "cannot parse the certificate request", source);
  EVP_PKEY* pub = X509_REQ_get0_pubkey(req.get());
  if (!pub) throw_openssl(Errc::csr, "the certificate request has no usable public key", source);
  if (X509_REQ_verify(req.get(), pub) != 1) throw_openssl(Errc::csr, "the CSR signature does not verify", source);
  Csr csr(share(std::move(req)));
  try {
    (void)csr.public_key().spec();
  } catch (const Error& e) {
    throw Error(Errc::csr, e.message(), source);
  }
  return csr;
}

std::string Csr::to_pem() const {
  auto bio = ossl::mem_bio();
  ossl::check(PEM_write_bio_X509_REQ(bio.get(), req_.get()), "encoding the CSR");
  return ossl::bio_string(bio.get());
}

Subject Csr::subject() const { return detail::decode_subject(X509_REQ_get_subject_name(req_.get())); }

namespace {
template <class F>
void for_each_ext(X509_REQ* req, F f) {
  ossl::ExtStack exts(X509_REQ_get_extensions(req));
  ERR_clear_error();
  for (int i = 0; exts && i < sk_X509_EXTENSION_num(exts.get()); ++i) f(sk_X509_EXTENSION_value(exts.get(), i));
}
}  // namespace

Sans Csr::sans() const {
  Sans out;
  for_each_ext(req_.get(), [&](X509_EXTENSION* ext) {
    if (OBJ_obj2nid(X509_EXTENSION_get_object(ext)) != NID_subject_alt_name) return;
    ossl::GeneralNames names(static_cast<GENERAL_NAMES*>(X509V3_EXT_d2i(ext)));
    if (!names) throw_openssl(Errc::csr, "cannot parse the CSR's subjectAltName");
    out = detail::decode_sans(names.get());
  });
  return out;
}

std::optional<CsrBasicConstraints> Csr::basic_constraints() const {
  std::optional<CsrBasicConstraints> out;
  for_each_ext(req_.get(), [&](X509_EXTENSION* ext) {
    if (OBJ_obj2nid(X509_EXTENSION_get_object(ext)) != NID_basic_constraints) return;
    ossl::BasicConstraints bc(static_cast<BASIC_CONSTRAINTS*>(X509V3_EXT_d2i(ext)));
    if (!bc) throw_openssl(Errc::csr, "cannot parse the CSR's basicConstraints");
    out = CsrBasicConstraints{bc->ca != 0, std::nullopt};
    if (bc->pathlen) out->path_len = static_cast<int>(ASN1_INTEGER_get(bc->pathlen));
  });
  return out;
}

KeyPair Csr::public_key() const {
  if (EVP_PKEY* pk = X509_REQ_get0_pubkey(req_.get())) return KeyPair::from_native(pk);
  // A CSR made by create(): its SubjectPublicKeyInfo was set without decoding (x509_util.hpp).
  ossl::ClearErrors clear;
  std::string der = ossl::to_der<i2d_X509_PUBKEY>(X509_REQ_get_X509_PUBKEY(req_.get()),
                                                   "the CSR's public key cannot be encoded", Errc::csr);
  const auto* p = reinterpret_cast<const unsigned char*>(der.data());
  ossl::PKey pk(d2i_PUBKEY(nullptr, &p, static_cast<long>(der.size())));
  if (!pk) throw_openssl(Errc::csr, "the CSR's public key cannot be read");
  return KeyPair::from_native(pk.get());
}

KeySpec Csr::key_spec() const { return spec_ ? *spec_ : public_key().spec(); }

}  // namespace etcd_pki
