#include "etcd_pki/signer.hpp"

#include <openssl/rand.h>

#include <algorithm>
#include <regex>

#include "fast/public_key.hpp"
#include "internal.hpp"
#include "text.hpp"
#include "x509_util.hpp"

namespace etcd_pki {

namespace {

// Nearest minute, half rounding up (Go's Time.Round).
TimePoint round_minute(TimePoint t) {
  return std::chrono::floor<std::chrono::minutes>(t + std::chrono::seconds(30));
}

std::string date(TimePoint t) { return format_rfc3339(t); }

void check_whitelist(const CertificatePlan& plan, const Profile& profile) {
  if (profile.name_whitelist.empty()) return;
  // A profile made in code has not been through Policy::from_json's checks.
  if (auto problem = detail::regex_problem(profile.name_whitelist))
    throw Error(Errc::config, "profile \"" + profile.name + "\": name_whitelist: invalid regular expression: " + *problem);
  std::regex re(profile.name_whitelist);
  auto check = [&](const std::string& name) {
    if (!std::regex_search(name, re))
      throw Error(Errc::policy, "\"" + name + "\" does not match the profile's name_whitelist \"" +
                                    profile.name_whitelist + "\"");
  };
  if (!plan.subject.common_name.empty()) check(plan.subject.common_name);
  for (const auto& n : plan.sans.dns) check(n);
  for (const auto& n : plan.sans.email) check(n);
  for (const auto& n : plan.sans.uri) check(n);
}

// CA or not, and the path length.
void plan_ca(CertificatePlan& plan, const Csr& csr, const Profile& profile, const IssuerInfo& issuer,
             const std::string& pname) {
  auto csr_bc = csr.basic_constraints();
  if (csr_bc && csr_bc->is_ca && !profile.ca.is_ca)
    throw Error(Errc::policy, "the CSR asks for a CA certificate but " + pname +
                                  " does not allow CAs (set \"ca_constraint\": {\"is_ca\": true})");
  plan.is_ca = profile.ca.is_ca;
  if (!plan.is_ca) return;
  if (profile.ca.max_path_len > 0) plan.path_len = profile.ca.max_path_len;
  else if (profile.ca.max_path_len_zero) plan.path_len = 0;
  if (issuer.self_signed || !issuer.path_len) return;
  if (*issuer.path_len == 0)
    throw Error(Errc::policy, "the issuing CA has pathlen 0 and cannot sign another CA");
  if (csr_bc && csr_bc->path_len && *csr_bc->path_len >= *issuer.path_len)
    throw Error(Errc::policy, "the CSR asks for pathlen " + std::to_string(*csr_bc->path_len) +
                                  " but the issuing CA allows less than " + std::to_string(*issuer.path_len));
  if (!plan.path_len || *plan.path_len >= *issuer.path_len)
    throw Error(Errc::policy, pname + " would make a CA with " +
                                  (plan.path_len ? "pathlen " + std::to_string(*plan.path_len) : "no pathlen") +
                                  " under a CA with pathlen " + std::to_string(*issuer.path_len) +
                                  " (set ca_constraint.max_path_len lower)");
}

// The profile's usages for the CSR's key, with the warnings they call for.
void plan_usages(CertificatePlan& plan, const Csr& csr, const Profile& profile, const std::string& pname) {
  plan.usages = profile.usages;
  KeySpec key = csr.key_spec();
  if (key.algo != KeyAlgo::rsa && (plan.usages.key_usage & ku::key_encipherment)) {
    plan.usages.key_usage &= ~ku::key_encipherment;
    if (!profile.builtin)
      plan.warnings.push_back(pname + ": \"key encipherment\" dropped for the " + key.to_string() +
                              " key (it only applies to RSA; RFC 5480)");
  }
  if (plan.usages.key_usage == 0 && plan.usages.ext_key_usage.empty())
    throw Error(Errc::policy, pname + " has no key usage (cfssl: \"Invalid policy: no key usage available\")");
  bool server = false;
  for (const auto& e : plan.usages.ext_key_usage) server |= e == eku::server_auth;
  if (server && plan.sans.empty() && !plan.is_ca)
    plan.warnings.push_back("the certificate is for server auth but has no SANs (hosts): TLS clients such as etcd and "
                            "etcdctl will reject it; add the member's names and IPs");
}

// notBefore and notAfter, capped at the issuer's notAfter.
void plan_validity(CertificatePlan& plan, const Profile& profile, const IssuerInfo& issuer, TimePoint now,
                   const std::string& pname) {
  plan.not_before = profile.not_before ? *profile.not_before
                                       : round_minute(now) - profile.backdate.value_or(std::chrono::minutes(5));
  plan.not_after = profile.not_after ? *profile.not_after : plan.not_before + profile.expiry;
  if (issuer.not_after && plan.not_after > *issuer.not_after) {
    plan.warnings.push_back(pname + " asks for validity until " + date(plan.not_after) +
                            ", capped at the CA's notAfter " + date(*issuer.not_after));
    plan.not_after = *issuer.not_after;
  }
  // When the profile's own fixed date is what fails, name its file and field (the caller would
  // otherwise blame the CSR file).
  auto validity_error = [&](Errc category, const std::string& message, bool fixed, const char* field) {
    if (!fixed || profile.path.empty()) return Error(category, message);
    return Error(category, pname + ": " + message, profile.source, profile.path + "." + field);
  };
  if (plan.not_after <= plan.not_before)
    throw validity_error(Errc::config, "notAfter " + date(plan.not_after) + " is not after notBefore " + date(plan.not_before),
                         profile.not_after || profile.not_before, profile.not_after ? "not_after" : "not_before");
  if (plan.not_after <= now)
    throw validity_error(Errc::policy, "the certificate would already be expired (notAfter " + date(plan.not_after) + ")",
                         profile.not_after.has_value(), "not_after");
}

// The OCSP, CRL and issuer URLs.
void plan_urls(CertificatePlan& plan, const Profile& profile, const SignOptions& options, const std::string& pname) {
  plan.ocsp_url = profile.ocsp_url;
  // A ',' would split the URL in OpenSSL's extension syntax (a bare item there names a config
  // section, which crashes OpenSSL without a config), so it is refused here as in profiles.
  if (options.crl_url && options.crl_url->find(',') != std::string::npos)
    throw Error(Errc::usage, "the CRL URL must not contain ','", "", "crl");
  // The same for a Profile made in code rather than read from ca-config.json.
  std::vector<const std::string*> urls = {&profile.ocsp_url, &profile.crl_url};
  for (const auto& u : profile.issuer_urls) urls.push_back(&u);
  for (const std::string* url : urls)
    if (url->find(',') != std::string::npos)
      throw Error(Errc::config, pname + ": URL \"" + *url + "\" must not contain ','");
  plan.crl_url = options.crl_url ? *options.crl_url : profile.crl_url;
  plan.issuer_urls = profile.issuer_urls;
}

}  // namespace

CertificatePlan plan_certificate(const Csr& csr, const Profile& profile, const IssuerInfo& issuer,
                                 const SignOptions& options) {
  CertificatePlan plan;
  const std::string pname = "profile \"" + profile.name + "\"";
  plan_ca(plan, csr, profile, issuer, pname);

  // Subject and SANs.
  plan.subject = csr.subject();
  plan.sans = options.hosts ? classify_hosts(*options.hosts) : csr.sans();
  if (plan.is_ca) plan.sans.dns.clear(), plan.sans.email.clear(), plan.sans.uri.clear();
  plan.san_critical = plan.subject.empty() && !plan.sans.empty();

  plan_usages(plan, csr, profile, pname);
  plan_validity(plan, profile, issuer, now_or(options.now), pname);
  plan_urls(plan, profile, options, pname);
  plan.ocsp_no_check = profile.ocsp_no_check;
  check_whitelist(plan, profile);
  return plan;
}

namespace {

ossl::Asn1Int random_serial() {
  unsigned char buf[20];
  ossl::check(RAND_bytes(buf, sizeof buf), "RAND_bytes");
  buf[0] &= 0x7F;
  ossl::Bignum bn(BN_bin2bn(buf, sizeof buf, nullptr));
  if (!bn) throw_openssl(Errc::crypto, "BN_bin2bn");
  return ossl::check<ossl::Asn1Int>(BN_to_ASN1_INTEGER(bn.get(), nullptr), "BN_to_ASN1_INTEGER");
}

void set_time(ASN1_TIME* t, TimePoint tp) {
  // ASN1_TIME_set picks UTCTime through 2049 and GeneralizedTime from 2050, as RFC 5280 says.
  if (!ASN1_TIME_set(t, static_cast<time_t>(tp.time_since_epoch().count())))
    throw_openssl(Errc::crypto, "time out of range: " + format_rfc3339(tp));
}

void add(X509* x, ossl::Ext ext) { ossl::check(X509_add_ext(x, ext.get(), -1), "X509_add_ext"); }

ossl::Ext conf_ext(int nid, const std::string& value) {
  return ossl::check<ossl::Ext>(X509V3_EXT_nconf_nid(nullptr, nullptr, nid, value.c_str()),
                                "encoding extension " + value, Errc::config);
}

// `subject_key`: the CSR's SubjectPublicKeyInfo, copied as it is.
Certificate encode(const CertificatePlan& plan, const X509_PUBKEY* subject_key, X509* issuer_cert,
                   const KeyPair& signing_key) {
  ossl::ClearErrors clear;
  auto x = ossl::check<ossl::X509Ptr>(X509_new(), "X509_new");
  ossl::check(X509_set_version(x.get(), X509_VERSION_3), "X509_set_version");
  auto serial = random_serial();
  ossl::check(X509_set_serialNumber(x.get(), serial.get()), "X509_set_serialNumber");
  auto subject = detail::encode_subject(plan.subject);
  ossl::check(X509_set_subject_name(x.get(), subject.get()), "X509_set_subject_name");
  ossl::check(X509_set_issuer_name(x.get(), issuer_cert ? X509_get_subject_name(issuer_cert) : subject.get()),
              "X509_set_issuer_name");
  set_time(X509_getm_notBefore(x.get()), plan.not_before);
  set_time(X509_getm_notAfter(x.get()), plan.not_after);
  detail::copy_public_key(X509_get_X509_PUBKEY(x.get()), subject_key);

  // Extensions in the order Go's crypto/x509 writes them.
  if (plan.usages.key_usage) {
    auto bits = ossl::check<ossl::Asn1Bits>(ASN1_BIT_STRING_new(), "ASN1_BIT_STRING_new");
    static const std::pair<uint32_t, int> order[] = {
        {ku::digital_signature, 0}, {ku::content_commitment, 1}, {ku::key_encipherment, 2},
        {ku::data_encipherment, 3}, {ku::key_agreement, 4},      {ku::cert_sign, 5},
        {ku::crl_sign, 6},          {ku::encipher_only, 7},      {ku::decipher_only, 8}};
    for (auto [bit, n] : order)
      if (plan.usages.key_usage & bit) ossl::check(ASN1_BIT_STRING_set_bit(bits.get(), n, 1), "set_bit");
    add(x.get(), detail::make_ext(NID_key_usage, true, bits.get()));
  }
  if (!plan.usages.ext_key_usage.empty()) {
    auto objs = ossl::check<ossl::ObjectStack>(sk_ASN1_OBJECT_new_null(), "sk_ASN1_OBJECT_new_null");
    for (const auto& oid : plan.usages.ext_key_usage) {
      auto obj = ossl::check<ossl::Asn1Object>(OBJ_txt2obj(oid.c_str(), 1), "EKU " + oid);
      ossl::check(sk_ASN1_OBJECT_push(objs.get(), obj.get()), "EKU " + oid);
      (void)obj.release();  // owned by objs now
    }
    add(x.get(), detail::make_ext(NID_ext_key_usage, false, objs.get()));
  }
  {
    auto bc = ossl::check<ossl::BasicConstraints>(BASIC_CONSTRAINTS_new(), "BASIC_CONSTRAINTS_new");
    bc->ca = plan.is_ca ? 0xFF : 0;
    if (plan.is_ca && plan.path_len) {
      bc->pathlen = ASN1_INTEGER_new();
      ossl::check(ASN1_INTEGER_set(bc->pathlen, *plan.path_len), "ASN1_INTEGER_set");
    }
    add(x.get(), detail::make_ext(NID_basic_constraints, true, bc.get()));
  }
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int mdlen = 0;
  ossl::check(X509_pubkey_digest(x.get(), EVP_sha1(), md, &mdlen), "X509_pubkey_digest");
  auto ski = ossl::check<ossl::Asn1Octets>(ASN1_OCTET_STRING_new(), "ASN1_OCTET_STRING_new");
  ossl::check(ASN1_OCTET_STRING_set(ski.get(), md, static_cast<int>(mdlen)), "ASN1_OCTET_STRING_set");
  add(x.get(), detail::make_ext(NID_subject_key_identifier, false, ski.get()));
  if (issuer_cert) {
    if (const ASN1_OCTET_STRING* issuer_ski = X509_get0_subject_key_id(issuer_cert)) {
      auto aki = ossl::check<ossl::AuthorityKeyId>(AUTHORITY_KEYID_new(), "AUTHORITY_KEYID_new");
      aki->keyid = ASN1_OCTET_STRING_dup(issuer_ski);
      add(x.get(), detail::make_ext(NID_authority_key_identifier, false, aki.get()));
    }
  }
  if (!plan.ocsp_url.empty() || !plan.issuer_urls.empty()) {
    std::string aia;
    if (!plan.ocsp_url.empty()) aia = "OCSP;URI:" + plan.ocsp_url;
    for (const auto& u : plan.issuer_urls) aia += (aia.empty() ? "" : ",") + std::string("caIssuers;URI:") + u;
    add(x.get(), conf_ext(NID_info_access, aia));
  }
  if (!plan.sans.empty()) {
    auto names = detail::encode_sans(plan.sans);
    add(x.get(), detail::make_ext(NID_subject_alt_name, plan.san_critical, names.get()));
  }
  if (!plan.crl_url.empty()) add(x.get(), conf_ext(NID_crl_distribution_points, "URI:" + plan.crl_url));
  if (plan.ocsp_no_check) add(x.get(), conf_ext(NID_id_pkix_OCSP_noCheck, "ignored"));

  if (X509_sign(x.get(), signing_key.native_handle(), detail::signature_digest(signing_key)) <= 0)
    throw_openssl(Errc::crypto, "signing the certificate");
  return detail_certificate_built(x.get());  // its public key is decoded when first needed
}

}  // namespace

Signer::Signer(Certificate ca, KeyPair ca_key, std::string ca_source, std::string key_source)
    : ca_(std::move(ca)), key_(std::move(ca_key)), ca_source_(ca_source) {
  if (!ca_.is_ca())
    throw Error(Errc::ca, "not a CA certificate (basicConstraints CA:FALSE or missing); subject " + ca_.subject_string(),
                ca_source);
  if (auto kuse = ca_.key_usage(); kuse && !(*kuse & ku::cert_sign))
    throw Error(Errc::ca, "the CA certificate's key usage lacks \"cert sign\"", ca_source);
  // The certificate's fields and its key as DER: a CA read with KeyDecoding::when_needed (as
  // load_signer does) is never decoded to sign.
  X509* fields = detail_certificate_fields(ca_);
  if (!detail::public_key_matches(X509_get_X509_PUBKEY(fields), key_.native_handle()))
    throw Error(Errc::ca, "the CA key does not match the CA certificate " + ca_source, key_source);
  KeySpec spec = key_.spec();
  if (spec.algo == KeyAlgo::rsa && spec.size < 2048)
    throw Error(Errc::ca, "the CA key is RSA-" + std::to_string(spec.size) + ", too weak (at least 2048 bits)", key_source);
  // MD5 and SHA-1 (OpenSSL rates them 39 and 63 bits): Go refuses such signatures, and a CA that
  // was made with one is due for replacement, not for signing more.
  int md = NID_undef, secbits = -1;
  if (X509_get_signature_info(fields, &md, nullptr, &secbits, nullptr) == 1 && secbits >= 0 && secbits < 112)
    throw Error(Errc::ca,
                std::string("the CA certificate is signed with ") + (md == NID_undef ? "a weak hash" : OBJ_nid2sn(md)) +
                    ", a broken hash (" + std::to_string(secbits) + "-bit security); make a new CA",
                ca_source);
  ERR_clear_error();
}

void Signer::set_issuers(std::vector<Certificate> issuers, const std::string& source) {
  const std::string& where = source.empty() ? ca_source_ : source;
  const Certificate* below = &ca_;
  for (size_t i = 0; i < issuers.size(); ++i) {
    const Certificate& c = issuers[i];
    if (!c.is_ca())
      throw Error(Errc::ca, "certificate " + std::to_string(i + 2) + " of the chain is not a CA: " + c.subject_string(), where);
    if (!below->signed_by(c))
      throw Error(Errc::ca,
                  "the chain is out of order or incomplete: certificate " + std::to_string(i + 2) + " (" + c.subject_string() +
                      ") did not sign " + below->subject_string() + " (each certificate must be followed by its issuer)",
                  where);
    below = &c;
  }
  issuers_ = std::move(issuers);
}

std::vector<Certificate> Signer::issuer_chain() const {
  std::vector<Certificate> chain{ca_};
  chain.insert(chain.end(), issuers_.begin(), issuers_.end());
  return chain;
}

std::string intermediates_pem(const std::vector<Certificate>& issuers) {
  std::string pem;
  for (const auto& c : issuers)
    if (!c.self_signed()) pem += c.to_pem();
  return pem;
}

void check_chain_allows(const std::vector<Certificate>& issuer_chain, const Usages& usages, const std::string& source) {
  for (const Certificate& ca : issuer_chain) {
    auto ca_ekus = ca.ext_key_usage();
    if (ca_ekus.empty() || ca.self_signed()) continue;
    for (const auto& need : usages.ext_key_usage) {
      if (need != eku::server_auth && need != eku::client_auth) continue;
      bool allowed = std::find(ca_ekus.begin(), ca_ekus.end(), need) != ca_ekus.end() ||
                     std::find(ca_ekus.begin(), ca_ekus.end(), "2.5.29.37.0") != ca_ekus.end();
      if (!allowed)
        throw Error(Errc::ca,
                    "the intermediate CA " + ca.subject_string() + " has an extended key usage without \"" +
                        (need == eku::server_auth ? "server auth" : "client auth") +
                        "\": etcd (Go) rejects every certificate it signs for that (x509: certificate specifies an "
                        "incompatible key usage; etcd#16802)",
                    source);
    }
  }
}

Issued Signer::sign(const Csr& csr, const Profile& profile, const SignOptions& options) const {
  TimePoint now = now_or(options.now);
  if (ca_.not_after() <= now)
    throw Error(Errc::ca, "the CA certificate expired on " + format_rfc3339(ca_.not_after()), ca_source_);
  IssuerInfo issuer{ca_.not_after(), ca_.path_len(), false};
  SignOptions opts = options;
  opts.now = now;
  CertificatePlan plan = plan_certificate(csr, profile, issuer, opts);
  if (ca_.not_before() > now)
    plan.warnings.push_back(ca_source_ + ": the CA is not valid before " + format_rfc3339(ca_.not_before()) +
                            " (clock skew?)");
  return {encode(plan, X509_REQ_get_X509_PUBKEY(csr.native_handle()), detail_certificate_fields(ca_), key_),
          std::move(plan.warnings)};
}

Issued Signer::self_sign(const Csr& csr, const KeyPair& key, const Profile& profile, const SignOptions& options) {
  if (!detail::public_key_matches(X509_REQ_get_X509_PUBKEY(csr.native_handle()), key.native_handle()))
    throw Error(Errc::key, "the key does not match the CSR");
  CertificatePlan plan = plan_certificate(csr, profile, IssuerInfo{std::nullopt, std::nullopt, true}, options);
  return {encode(plan, X509_REQ_get_X509_PUBKEY(csr.native_handle()), nullptr, key), std::move(plan.warnings)};
}

Profile ca_profile_for(const Request& request) {
  Profile p = Policy::builtin().profile("ca");
  if (request.ca) {
    if (request.ca->expiry) p.expiry = *request.ca->expiry;
    p.backdate = request.ca->backdate;
    p.ca.max_path_len = request.ca->pathlen;
    p.ca.max_path_len_zero = request.ca->pathlen == 0 && request.ca->pathlenzero;
  }
  p.crl_url = request.crl_url;
  return p;
}

}  // namespace etcd_pki
