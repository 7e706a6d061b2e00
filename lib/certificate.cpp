#include "etcd_pki/certificate.hpp"

#include <openssl/pem.h>

#include <mutex>
#include <optional>

#include "fast/fields_only.hpp"
#include "x509_util.hpp"

namespace etcd_pki {

using detail::to_time_point;

struct Certificate::Parsed {
  std::once_flag once;
  ossl::X509Ptr x509;
};

namespace {

// One DER certificate, its key decoded now or when needed (then read back by native_handle()).
std::optional<Certificate> parse_der(const unsigned char** p, long len, Certificate::KeyDecoding decode) {
  if (decode == Certificate::KeyDecoding::when_needed && detail::fields_only_available()) {
    ossl::X509Ptr x = detail::fields_only_certificate(p, len);
    if (!x) return std::nullopt;
    return detail_certificate_built(x.get());
  }
  ossl::X509Ptr x = detail::openssl_certificate(p, len);
  if (!x) return std::nullopt;
  return Certificate::from_native(x.get());
}

}  // namespace

Certificate Certificate::from_pem(std::string_view pem, const std::string& source, Errc category, KeyDecoding decode) {
  ossl::ClearErrors clear;
  auto bio = ossl::mem_bio(pem);
  std::optional<Certificate> first;
  int count = 0;
  while (auto block = ossl::next_pem_block(bio.get())) {
    if (block->label != "CERTIFICATE")
      throw Error(category, "expected a certificate, found a PEM \"" + block->label + "\" block", source);
    const unsigned char* p = block->der;
    auto c = parse_der(&p, block->len, decode);
    if (!c) throw_openssl(category, "cannot parse the certificate", source);
    if (count++ == 0) first = std::move(c);
  }
  if (count == 0) throw Error(category, "no PEM certificate found", source);
  if (count > 1)
    throw Error(category, "the file holds " + std::to_string(count) + " certificates; expected exactly one", source);
  return std::move(*first);
}

std::vector<Certificate> Certificate::all_from_pem(std::string_view data, const std::string& source, Errc category,
                                                   KeyDecoding decode) {
  ossl::ClearErrors clear;
  std::vector<Certificate> out;
  if (data.find("-----BEGIN") == std::string_view::npos) {
    const unsigned char* p = reinterpret_cast<const unsigned char*>(data.data());
    if (auto c = parse_der(&p, static_cast<long>(data.size()), decode)) out.push_back(std::move(*c));
    ERR_clear_error();
    return out;
  }
  auto bio = ossl::mem_bio(data);
  while (auto block = ossl::next_pem_block(bio.get())) {
    if (block->label != "CERTIFICATE") continue;
    const unsigned char* p = block->der;
    auto c = parse_der(&p, block->len, decode);
    if (!c) throw_openssl(category, "cannot parse certificate " + std::to_string(out.size() + 1), source);
    out.push_back(std::move(*c));
  }
  return out;
}

Certificate detail_certificate_built(X509* x509) {
  if (!x509 || X509_up_ref(x509) != 1) throw Error(Errc::crypto, "no certificate given");
  return Certificate(ossl::share(ossl::X509Ptr(x509)), std::make_shared<Certificate::Parsed>());
}

X509* detail_certificate_fields(const Certificate& c) { return c.x509_.get(); }

X509* Certificate::native_handle() const {
  if (!parsed_) return x509_.get();
  std::call_once(parsed_->once, [&] {
    ossl::ClearErrors clear;
    parsed_->x509 = detail::with_decoded_key(x509_.get());
  });
  return parsed_->x509.get();
}

Certificate Certificate::from_native(X509* x509) {
  if (!x509 || X509_up_ref(x509) != 1) throw Error(Errc::crypto, "no certificate given");
  return Certificate(ossl::share(ossl::X509Ptr(x509)));
}

std::string Certificate::to_pem() const {
  auto bio = ossl::mem_bio();
  ossl::check(PEM_write_bio_X509(bio.get(), x509_.get()), "encoding the certificate");
  return ossl::bio_string(bio.get());
}

Subject Certificate::subject() const { return detail::decode_subject(X509_get_subject_name(x509_.get())); }
std::string Certificate::subject_string() const { return detail::subject_string(X509_get_subject_name(x509_.get())); }
std::string Certificate::issuer_string() const { return detail::subject_string(X509_get_issuer_name(x509_.get())); }

Subject Certificate::issuer() const { return detail::decode_subject(X509_get_issuer_name(x509_.get())); }

std::string Certificate::serial_hex() const { return detail::integer_hex(X509_get0_serialNumber(x509_.get())); }
std::string Certificate::serial_decimal() const { return detail::integer_decimal(X509_get0_serialNumber(x509_.get())); }

Sans Certificate::sans() const {
  ossl::GeneralNames names(static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(x509_.get(), NID_subject_alt_name, nullptr, nullptr)));
  return names ? detail::decode_sans(names.get()) : Sans{};
}

TimePoint Certificate::not_before() const { return to_time_point(X509_get0_notBefore(x509_.get())); }
TimePoint Certificate::not_after() const { return to_time_point(X509_get0_notAfter(x509_.get())); }

bool Certificate::is_ca() const {
  ossl::BasicConstraints bc(static_cast<BASIC_CONSTRAINTS*>(X509_get_ext_d2i(x509_.get(), NID_basic_constraints, nullptr, nullptr)));
  return bc && bc->ca;
}

std::optional<int> Certificate::path_len() const {
  ossl::BasicConstraints bc(static_cast<BASIC_CONSTRAINTS*>(X509_get_ext_d2i(x509_.get(), NID_basic_constraints, nullptr, nullptr)));
  if (!bc || !bc->ca || !bc->pathlen) return std::nullopt;
  return static_cast<int>(ASN1_INTEGER_get(bc->pathlen));
}

std::optional<uint32_t> Certificate::key_usage() const {
  if (X509_get_ext_by_NID(x509_.get(), NID_key_usage, -1) < 0) return std::nullopt;
  return X509_get_key_usage(x509_.get());
}

std::vector<std::string> Certificate::ext_key_usage() const {
  std::vector<std::string> out;
  ossl::ObjectStack eku(static_cast<STACK_OF(ASN1_OBJECT)*>(X509_get_ext_d2i(x509_.get(), NID_ext_key_usage, nullptr, nullptr)));
  for (int i = 0; eku && i < sk_ASN1_OBJECT_num(eku.get()); ++i) {
    char buf[128];
    OBJ_obj2txt(buf, sizeof buf, sk_ASN1_OBJECT_value(eku.get(), i), 1);
    out.emplace_back(buf);
  }
  return out;
}

std::string Certificate::subject_key_id() const {
  const ASN1_OCTET_STRING* ski = X509_get0_subject_key_id(x509_.get());
  return ski ? std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(ski)), static_cast<size_t>(ASN1_STRING_length(ski)))
             : std::string();
}

std::string Certificate::authority_key_id() const {
  const ASN1_OCTET_STRING* aki = X509_get0_authority_key_id(x509_.get());
  return aki ? std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(aki)), static_cast<size_t>(ASN1_STRING_length(aki)))
             : std::string();
}

KeyPair Certificate::public_key() const {
  EVP_PKEY* pk = X509_get0_pubkey(native_handle());
  if (!pk) throw_openssl(Errc::ca, "the certificate's public key cannot be read");
  return KeyPair::from_native(pk);
}

bool Certificate::self_signed() const { return X509_self_signed(native_handle(), 0) == 1; }  // compares key types

bool Certificate::signed_by(const Certificate& issuer) const {
  EVP_PKEY* pk = X509_get0_pubkey(issuer.native_handle());
  bool ok = pk && X509_verify(x509_.get(), pk) == 1;  // the subject needs no decoded key
  ERR_clear_error();
  return ok;
}

std::string Certificate::sha256_fingerprint() const {
  return detail::sha256_fingerprint_of<X509_digest>(x509_.get(), "X509_digest");
}

}  // namespace etcd_pki
