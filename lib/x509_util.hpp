#pragma once
// Private: encoding and decoding of subjects, SANs and extensions shared by Csr, Certificate
// and Signer.
#include <optional>
#include <string>
#include <string_view>

#include "etcd_pki/certificate.hpp"
#include "etcd_pki/hosts.hpp"
#include "etcd_pki/request.hpp"
#include "ossl.hpp"

namespace etcd_pki::detail {

// Limits on a subject: each value (no real name comes near; RFC 5280 bounds most at 64 or 128
// characters, but Go and cfssl do not enforce them), and the whole encoded name (OpenSSL cannot
// read back a name over 1 MiB).
inline constexpr size_t kMaxSubjectValue = 1024;
inline constexpr size_t kMaxSubjectDer = 64 * 1024;

// What makes `value` unfit for a subject attribute, or nothing: not UTF-8, a control character
// (NUL included: "www.bank.com\0.evil.com"), or longer than kMaxSubjectValue bytes.
std::optional<std::string> subject_value_problem(std::string_view value);

// cfssl's order and string types (PrintableString when every character allows it, else UTF8String).
// A value with a subject_value_problem, or a name over kMaxSubjectDer bytes, is Errc::input.
ossl::Name encode_subject(const Subject& s);
// Reads a name back into cfssl's model: standard attributes into their lists, everything else
// (emailAddress, DC, custom OIDs) into `extra` in order. Encoding it again gives cfssl's
// canonical order.
Subject decode_subject(const X509_NAME* name);
// "C=US, O=a + O=b, CN=x" (one line, RFC 2253 escaping, in encoded order).
std::string subject_string(const X509_NAME* name);

// A DNS, email or URI name with a san_problem (hosts.hpp) is Errc::input.
ossl::GeneralNames encode_sans(const Sans& sans);
Sans decode_sans(const GENERAL_NAMES* names);

// The first certificate of a file that may hold a chain (leaf first, as etcd reads cert-file); a
// file without one is an error of `category` naming `source`.
Certificate first_certificate(std::string_view pem, const std::string& source, Errc category = Errc::input);

// An extension from an OpenSSL v3 struct (X509V3_EXT_i2d).
ossl::Ext make_ext(int nid, bool critical, void* value);

std::string to_hex(const unsigned char* p, size_t n, char sep = ':');

// The SHA-256 fingerprint of an OpenSSL object through its digest function (X509_digest,
// X509_CRL_digest), as colon-separated hex.
template <auto Digest, class T>
std::string sha256_fingerprint_of(const T* object, const char* what) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  ossl::check(Digest(object, EVP_sha256(), md, &n), what);
  return to_hex(md, n);
}

// An ASN.1 time as a TimePoint; an invalid one is an error of `category`.
TimePoint to_time_point(const ASN1_TIME* t, Errc category = Errc::crypto);
// An ASN.1 integer as upper-case hex (OpenSSL's BN_bn2hex: whole bytes, "0" for zero).
std::string integer_hex(const ASN1_INTEGER* i);
// An ASN.1 integer in decimal (OpenSSL's BN_bn2dec: "-" for a negative one).
std::string integer_decimal(const ASN1_INTEGER* i);
// SHA-256 of `data` in upper-case hex, bytes separated by `sep` ('\0' for none).
std::string sha256_hex(std::string_view data, char sep = ':');

// An ASN.1 string as UTF-8 ("" when it cannot be converted).
std::string utf8(const ASN1_STRING* s);

// Sets `dst` (the SubjectPublicKeyInfo inside an X509 or X509_REQ) to `key`'s public key: built
// from the key's parameters (detail::build_public_key, the same bytes as i2d_PUBKEY), or for a key
// of another kind through OpenSSL's encoder (detail::openssl_set_public_key).
void set_public_key(X509_PUBKEY* dst, EVP_PKEY* key);
// Whether the SubjectPublicKeyInfo `spki` holds `key`'s public key. Compares DER first (the bytes
// set_public_key would write), so the common case decodes nothing; when the bytes differ (another
// encoding of the same key, e.g. a compressed EC point) the key is decoded and compared.
bool public_key_matches(const X509_PUBKEY* spki, EVP_PKEY* key);

}  // namespace etcd_pki::detail
