#include "x509_util.hpp"

#include "fast/public_key.hpp"
#include "text.hpp"

#include <cstring>

namespace etcd_pki::detail {
namespace {

bool go_printable(const std::string& s) {
  for (unsigned char c : s) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              std::strchr(" '()+,-./:=?", c) != nullptr;
    if (!ok || c == 0) return false;
  }
  return true;
}

std::string oid_text(const ASN1_OBJECT* obj) {
  char buf[128];
  int n = OBJ_obj2txt(buf, sizeof buf, obj, 1);
  return n > 0 ? std::string(buf, std::min<size_t>(static_cast<size_t>(n), sizeof buf - 1)) : std::string();
}

std::string attribute_name(const ASN1_OBJECT* obj) {
  int nid = OBJ_obj2nid(obj);
  if (nid == NID_pkcs9_emailAddress) return "E";
  if (const char* sn = nid != NID_undef ? OBJ_nid2sn(nid) : nullptr) return sn;
  std::string text = oid_text(obj);
  return text.empty() ? "?" : text;
}

void add_entry(X509_NAME* name, const ASN1_OBJECT* obj, const std::string& value, bool new_rdn) {
  if (auto problem = subject_value_problem(value))
    throw Error(Errc::input, "subject " + attribute_name(obj) + ": " + *problem);
  int type = go_printable(value) ? V_ASN1_PRINTABLESTRING : V_ASN1_UTF8STRING;
  ossl::check(X509_NAME_add_entry_by_OBJ(name, obj, type, reinterpret_cast<const unsigned char*>(value.data()),
                                         static_cast<int>(value.size()), -1, new_rdn ? 0 : -1),
              "adding a subject attribute", Errc::input);
}

void add_rdn(X509_NAME* name, int nid, const std::vector<std::string>& values) {
  bool first = true;
  for (const auto& v : values) {
    add_entry(name, OBJ_nid2obj(nid), v, first);
    first = false;
  }
}

}  // namespace

std::optional<std::string> subject_value_problem(std::string_view value) {
  if (!detail::valid_utf8(value)) return "not valid UTF-8";
  if (auto problem = detail::control_character_problem(value)) return problem;
  if (value.size() > kMaxSubjectValue)
    return "too long (" + std::to_string(value.size()) + " bytes; at most " + std::to_string(kMaxSubjectValue) + ")";
  return std::nullopt;
}

ossl::Name encode_subject(const Subject& s) {
  auto name = ossl::check<ossl::Name>(X509_NAME_new(), "X509_NAME_new");
  add_rdn(name.get(), NID_countryName, s.country);
  add_rdn(name.get(), NID_stateOrProvinceName, s.province);
  add_rdn(name.get(), NID_localityName, s.locality);
  add_rdn(name.get(), NID_streetAddress, s.street);
  add_rdn(name.get(), NID_postalCode, s.postal_code);
  add_rdn(name.get(), NID_organizationName, s.organization);
  add_rdn(name.get(), NID_organizationalUnitName, s.org_unit);
  if (!s.common_name.empty()) add_rdn(name.get(), NID_commonName, {s.common_name});
  if (!s.serial_number.empty()) add_rdn(name.get(), NID_serialNumber, {s.serial_number});
  for (const auto& a : s.extra) {
    auto obj = ossl::check<ossl::Asn1Object>(OBJ_txt2obj(a.oid.c_str(), 1), "invalid OID " + a.oid, Errc::input);
    add_entry(name.get(), obj.get(), a.value, true);
  }
  int der = i2d_X509_NAME(name.get(), nullptr);
  if (der < 0) throw_openssl(Errc::input, "encoding the subject");
  if (static_cast<size_t>(der) > kMaxSubjectDer)
    throw Error(Errc::input, "the subject is too large (" + std::to_string(der) + " bytes encoded; at most " +
                                 std::to_string(kMaxSubjectDer) + ")");
  return name;
}

Subject decode_subject(const X509_NAME* name) {
  Subject s;
  for (int i = 0; i < X509_NAME_entry_count(name); ++i) {
    const X509_NAME_ENTRY* e = X509_NAME_get_entry(name, i);
    const ASN1_OBJECT* obj = X509_NAME_ENTRY_get_object(e);
    std::string v = utf8(X509_NAME_ENTRY_get_data(e));
    switch (OBJ_obj2nid(obj)) {
      case NID_countryName: s.country.push_back(v); break;
      case NID_stateOrProvinceName: s.province.push_back(v); break;
      case NID_localityName: s.locality.push_back(v); break;
      case NID_streetAddress: s.street.push_back(v); break;
      case NID_postalCode: s.postal_code.push_back(v); break;
      case NID_organizationName: s.organization.push_back(v); break;
      case NID_organizationalUnitName: s.org_unit.push_back(v); break;
      case NID_commonName: s.common_name = v; break;
      case NID_serialNumber: s.serial_number = v; break;
      default: s.extra.push_back({oid_text(obj), v});
    }
  }
  return s;
}

std::string subject_string(const X509_NAME* name) {
  auto bio = ossl::mem_bio();
  X509_NAME_print_ex(bio.get(), name, 0,
                     (XN_FLAG_RFC2253 & ~XN_FLAG_DN_REV & ~ASN1_STRFLGS_ESC_MSB & ~XN_FLAG_SEP_MASK) | XN_FLAG_SEP_CPLUS_SPC);
  return ossl::bio_string(bio.get());
}

ossl::GeneralNames encode_sans(const Sans& sans) {
  auto names = ossl::check<ossl::GeneralNames>(sk_GENERAL_NAME_new_null(), "sk_GENERAL_NAME_new_null");
  auto push_string = [&](int type, const std::string& v) {
    SanType t = type == GEN_DNS ? SanType::dns : type == GEN_EMAIL ? SanType::email : SanType::uri;
    if (auto problem = san_problem(t, v))
      throw Error(Errc::input, std::string("invalid ") + to_string(t) + " SAN \"" + v + "\": " + *problem);
    auto gn = ossl::check<ossl::GeneralName>(GENERAL_NAME_new(), "GENERAL_NAME_new");
    auto str = ossl::check<ossl::Ia5String>(ASN1_IA5STRING_new(), "ASN1_IA5STRING_new");
    ossl::check(ASN1_STRING_set(str.get(), v.data(), static_cast<int>(v.size())), "ASN1_STRING_set");
    GENERAL_NAME_set0_value(gn.get(), type, str.release());
    ossl::check(sk_GENERAL_NAME_push(names.get(), gn.get()), "sk_GENERAL_NAME_push");
    gn.release();
  };
  for (const auto& d : sans.dns) push_string(GEN_DNS, d);
  for (const auto& e : sans.email) push_string(GEN_EMAIL, e);
  for (const auto& ip : sans.ip) {
    auto gn = ossl::check<ossl::GeneralName>(GENERAL_NAME_new(), "GENERAL_NAME_new");
    auto str = ossl::check<ossl::Asn1Octets>(ASN1_OCTET_STRING_new(), "ASN1_OCTET_STRING_new");
    ossl::check(ASN1_OCTET_STRING_set(str.get(), ip.bytes.data(), static_cast<int>(ip.bytes.size())), "ASN1_OCTET_STRING_set");
    GENERAL_NAME_set0_value(gn.get(), GEN_IPADD, str.release());
    ossl::check(sk_GENERAL_NAME_push(names.get(), gn.get()), "sk_GENERAL_NAME_push");
    gn.release();
  }
  for (const auto& u : sans.uri) push_string(GEN_URI, u);
  return names;
}

Sans decode_sans(const GENERAL_NAMES* names) {
  Sans s;
  for (int i = 0; i < sk_GENERAL_NAME_num(names); ++i) {
    const GENERAL_NAME* gn = sk_GENERAL_NAME_value(names, i);
    int type = 0;
    auto* value = static_cast<const ASN1_STRING*>(GENERAL_NAME_get0_value(gn, &type));
    std::string text(reinterpret_cast<const char*>(ASN1_STRING_get0_data(value)), static_cast<size_t>(ASN1_STRING_length(value)));
    switch (type) {
      case GEN_DNS: s.dns.push_back(text); break;
      case GEN_EMAIL: s.email.push_back(text); break;
      case GEN_URI: s.uri.push_back(text); break;
      case GEN_IPADD: s.ip.push_back(IpAddress{{text.begin(), text.end()}}); break;
      default: break;
    }
  }
  return s;
}

ossl::Ext make_ext(int nid, bool critical, void* value) {
  return ossl::check<ossl::Ext>(X509V3_EXT_i2d(nid, critical ? 1 : 0, value), "encoding an extension");
}

TimePoint to_time_point(const ASN1_TIME* t, Errc category) {
  struct tm tm {};
  if (!t || ASN1_TIME_to_tm(t, &tm) != 1) throw_openssl(category, "invalid time");
  return TimePoint(std::chrono::seconds(timegm(&tm)));
}

std::string integer_hex(const ASN1_INTEGER* i) {
  ossl::Bignum bn(ASN1_INTEGER_to_BN(i, nullptr));
  if (!bn) throw_openssl(Errc::crypto, "reading an integer");
  return ossl::take_string(BN_bn2hex(bn.get()), "0");
}

std::string integer_decimal(const ASN1_INTEGER* i) {
  ossl::Bignum bn(ASN1_INTEGER_to_BN(i, nullptr));
  if (!bn) throw_openssl(Errc::crypto, "reading an integer");
  return ossl::take_string(BN_bn2dec(bn.get()), "0");
}

std::string sha256_hex(std::string_view data, char sep) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  ossl::check(EVP_Digest(data.data(), data.size(), md, &n, EVP_sha256(), nullptr), "EVP_Digest");
  return to_hex(md, n, sep);
}

std::string utf8(const ASN1_STRING* s) {
  unsigned char* raw = nullptr;
  int n = ASN1_STRING_to_UTF8(&raw, s);
  ossl::OsslBytes out(raw);
  if (n < 0) {
    ERR_clear_error();
    return {};
  }
  return std::string(reinterpret_cast<const char*>(out.get()), static_cast<size_t>(n));
}

std::string to_hex(const unsigned char* p, size_t n, char sep) {
  static const char* digits = "0123456789ABCDEF";
  std::string out;
  for (size_t i = 0; i < n; ++i) {
    if (i && sep) out += sep;
    out += digits[p[i] >> 4];
    out += digits[p[i] & 15];
  }
  return out;
}


void set_public_key(X509_PUBKEY* dst, EVP_PKEY* key) {
  if (detail::build_public_key(dst, key)) return;
  ERR_clear_error();
  detail::openssl_set_public_key(dst, key);
}

bool public_key_matches(const X509_PUBKEY* spki, EVP_PKEY* key) {
  ossl::ClearErrors clear;
  std::string have = ossl::der_or_empty<i2d_X509_PUBKEY>(spki);
  if (have.empty()) return false;
  if (detail::fast_public_key_der(key) == have) return true;
  const auto* p = reinterpret_cast<const unsigned char*>(have.data());
  ossl::PKey decoded(d2i_PUBKEY(nullptr, &p, static_cast<long>(have.size())));
  return decoded && EVP_PKEY_eq(decoded.get(), key) == 1;
}

Certificate first_certificate(std::string_view pem, const std::string& source, Errc category) {
  std::vector<Certificate> certs = Certificate::all_from_pem(pem, source, category);
  if (certs.empty()) throw Error(category, "no PEM certificate found", source);
  return std::move(certs.front());
}

}  // namespace etcd_pki::detail
