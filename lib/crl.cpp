#include "etcd_pki/crl.hpp"

#include <functional>

#include <algorithm>
#include <cctype>
#include <filesystem>

#include <unistd.h>

#include "etcd_pki/files.hpp"
#include "internal.hpp"
#include "fileio.hpp"
#include "member_files.hpp"
#include "ossl.hpp"
#include "transaction.hpp"
#include "x509_util.hpp"
#include "text.hpp"

namespace etcd_pki {

namespace {

struct ReasonName {
  RevocationReason reason;
  const char* name;
};
constexpr ReasonName kReasons[] = {
    {RevocationReason::unspecified, "unspecified"},
    {RevocationReason::key_compromise, "keyCompromise"},
    {RevocationReason::ca_compromise, "CACompromise"},
    {RevocationReason::affiliation_changed, "affiliationChanged"},
    {RevocationReason::superseded, "superseded"},
    {RevocationReason::cessation_of_operation, "cessationOfOperation"},
    {RevocationReason::certificate_hold, "certificateHold"},
    {RevocationReason::remove_from_crl, "removeFromCRL"},
    {RevocationReason::privilege_withdrawn, "privilegeWithdrawn"},
    {RevocationReason::aa_compromise, "AACompromise"},
};

std::string squash(std::string_view s) {  // lower case, without '-', '_' and spaces
  std::string out;
  for (char c : s)
    if (c != '-' && c != '_' && c != ' ') out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string strip_zeros(std::string hex) {
  size_t i = hex.find_first_not_of('0');
  return i == std::string::npos ? "0" : hex.substr(i);
}

std::string asn1_int_hex(const ASN1_INTEGER* i) { return strip_zeros(detail::integer_hex(i)); }

TimePoint asn1_time(const ASN1_TIME* t) { return detail::to_time_point(t, Errc::input); }

ossl::Asn1Time to_asn1(TimePoint t) {
  return ossl::check<ossl::Asn1Time>(ASN1_TIME_set(nullptr, t.time_since_epoch().count()), "ASN1_TIME_set");
}

// OpenSSL's index.txt time: UTCTime "YYMMDDHHMMSSZ" for 1950-2049, else "YYYYMMDDHHMMSSZ".
std::string index_time(TimePoint t) {
  auto asn = to_asn1(t);
  return std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(asn.get())),
                     static_cast<size_t>(ASN1_STRING_length(asn.get())));
}

std::optional<TimePoint> parse_index_time(std::string_view s) {
  ossl::Asn1Time t(ASN1_TIME_new());
  if (!t || ASN1_TIME_set_string(t.get(), std::string(s).c_str()) != 1) {
    ERR_clear_error();
    return std::nullopt;
  }
  struct tm tm {};
  if (ASN1_TIME_to_tm(t.get(), &tm) != 1) {
    ERR_clear_error();
    return std::nullopt;
  }
  return TimePoint(std::chrono::seconds(timegm(&tm)));
}

// Index updates lock the CA's folder: the index itself is replaced by rename.
std::string folder_of(const std::string& path) {
  std::string dir = std::filesystem::path(path).parent_path().string();
  return dir.empty() ? "." : dir;
}

std::string oneline_subject(const X509_NAME* name) {
  return ossl::take_string(X509_NAME_oneline(name, nullptr, 0));
}

}  // namespace

RevocationReason parse_revocation_reason(std::string_view text) {
  std::string want = squash(text);
  if (!text.empty() && text.size() < 3 && std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    int n = std::stoi(std::string(text));
    for (const auto& r : kReasons)
      if (static_cast<int>(r.reason) == n) return r.reason;
  }
  for (const auto& r : kReasons)
    if (squash(r.name) == want) return r.reason;
  std::string names;
  for (const auto& r : kReasons) names += (names.empty() ? "" : ", ") + std::string(r.name);
  throw Error(Errc::usage, "unknown revocation reason \"" + std::string(text) + "\" (use one of: " + names + ")", "", "reason");
}

const char* to_string(RevocationReason r) {
  for (const auto& n : kReasons)
    if (n.reason == r) return n.name;
  return "unspecified";
}

std::optional<std::string> decimal_to_serial_hex(std::string_view digits) {
  if (digits.empty() || digits.size() > 200 || !std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; }))
    return std::nullopt;
  BIGNUM* raw = nullptr;
  if (BN_dec2bn(&raw, std::string(digits).c_str()) == 0) return std::nullopt;
  ossl::Bignum bn(raw);
  return strip_zeros(ossl::take_string(BN_bn2hex(bn.get()), "0"));
}

std::string openssl_serial_hex(const std::string& serial_hex) {
  return serial_hex.size() % 2 ? "0" + serial_hex : serial_hex;
}

std::string normalize_serial_hex(std::string_view text) {
  std::string_view s = text;
  auto bad = [&] {
    return Error(Errc::usage, "invalid serial number \"" + std::string(text) +
                                  "\" (hex as openssl prints it, 1A:2B or 0x1A2B; decimal as dec:123)");
  };
  if (s.rfind("dec:", 0) == 0) {
    auto hex = decimal_to_serial_hex(s.substr(4));
    if (!hex) throw bad();
    return *hex;
  }
  if (s.rfind("0x", 0) == 0 || s.rfind("0X", 0) == 0) s.remove_prefix(2);
  std::string hex;
  for (char c : s) {
    if (c == ':') continue;
    if (!std::isxdigit(static_cast<unsigned char>(c))) throw bad();
    hex += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  if (hex.empty() || hex.size() > 64) throw bad();
  return strip_zeros(hex);
}

// ---------------------------------------------------------------------------------------------
// Index
// ---------------------------------------------------------------------------------------------

std::string CaIndex::path_for(const std::string& ca_cert_path) {
  std::filesystem::path p(ca_cert_path);
  return (p.parent_path() / (p.stem().string() + "-index.txt")).string();
}

CaIndex CaIndex::load(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return CaIndex{};
  return parse(read_text_file(path, Errc::io), path);
}

CaIndex CaIndex::parse(std::string_view text, const std::string& source) {
  CaIndex index;
  size_t line_no = 0;
  while (!text.empty()) {
    size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) continue;
    std::vector<std::string_view> f;
    for (size_t start = 0;;) {
      size_t tab = line.find('\t', start);
      f.push_back(line.substr(start, tab == std::string_view::npos ? std::string_view::npos : tab - start));
      if (tab == std::string_view::npos) break;
      start = tab + 1;
    }
    auto fail = [&](const std::string& why) { return Error(Errc::input, why, source, "line " + std::to_string(line_no)); };
    if (f.size() != 6) throw fail("expected 6 tab-separated fields (status, expiry, revocation, serial, file, subject)");
    // OpenSSL writes control characters in a subject as \xNN; a raw one (a stray '\r' before the
    // line's end, say) would not survive a rewrite of the file.
    for (size_t i = 0; i < f.size(); ++i)
      if (auto problem = detail::control_character_problem(f[i])) throw fail("field " + std::to_string(i + 1) + " " + *problem);
    IndexEntry e;
    if (f[0] != "V" && f[0] != "R" && f[0] != "E") throw fail("status must be V, R or E");
    e.status = f[0][0];
    auto na = parse_index_time(f[1]);
    if (!na) throw fail("invalid expiry time \"" + std::string(f[1]) + "\"");
    e.not_after = *na;
    if (e.status == 'R') {
      std::string_view rev = f[2], reason;
      if (auto comma = rev.find(','); comma != std::string_view::npos) {
        reason = rev.substr(comma + 1);
        rev = rev.substr(0, comma);
      }
      auto at = parse_index_time(rev);
      if (!at) throw fail("invalid revocation time \"" + std::string(rev) + "\"");
      e.revoked_at = *at;
      if (!reason.empty()) {
        // `openssl ca` writes "holdInstruction,OID", "keyTime,TIME" and "CAkeyTime,TIME" too.
        std::string_view name = reason.substr(0, reason.find(','));
        if (name == "holdInstruction") e.reason = RevocationReason::certificate_hold;
        else if (name == "keyTime") e.reason = RevocationReason::key_compromise;
        else if (name == "CAkeyTime") e.reason = RevocationReason::ca_compromise;
        else try {
          e.reason = parse_revocation_reason(name);
        } catch (const Error&) {
          throw fail("unknown revocation reason \"" + std::string(reason) + "\"");
        }
      }
    }
    try {
      e.serial = normalize_serial_hex(f[3]);
    } catch (const Error&) {
      throw fail("invalid serial \"" + std::string(f[3]) + "\"");
    }
    e.subject = std::string(f[5]);
    index.entries_.push_back(std::move(e));
  }
  return index;
}

std::string CaIndex::to_text() const {
  std::string out;
  for (const auto& e : entries_) {
    std::string rev;
    if (e.status == 'R' && e.revoked_at) {
      rev = index_time(*e.revoked_at);
      if (e.reason != RevocationReason::unspecified) rev += std::string(",") + to_string(e.reason);
    }
    std::string serial = openssl_serial_hex(e.serial);
    out += std::string(1, e.status) + "\t" + index_time(e.not_after) + "\t" + rev + "\t" + serial + "\tunknown\t" + e.subject + "\n";
  }
  return out;
}

const IndexEntry* CaIndex::find(const std::string& serial_hex) const {
  for (const auto& e : entries_)
    if (e.serial == serial_hex) return &e;
  return nullptr;
}

void CaIndex::record_issued(const Certificate& cert) {
  std::string serial = normalize_serial_hex(cert.serial_hex());
  for (auto& e : entries_)
    if (e.serial == serial) {
      e.not_after = cert.not_after();
      e.subject = oneline_subject(X509_get_subject_name(detail_certificate_fields(cert)));
      return;
    }
  IndexEntry e;
  e.status = 'V';
  e.not_after = cert.not_after();
  e.serial = serial;
  e.subject = oneline_subject(X509_get_subject_name(detail_certificate_fields(cert)));
  entries_.push_back(std::move(e));
}

bool CaIndex::revoke(const std::string& serial_hex, TimePoint when, RevocationReason reason,
                     const std::optional<Certificate>& cert) {
  std::string serial = normalize_serial_hex(serial_hex);
  if (reason == RevocationReason::privilege_withdrawn || reason == RevocationReason::aa_compromise)
    throw Error(Errc::usage, std::string("revocation reason ") + to_string(reason) +
                                 " cannot be kept in OpenSSL's index format; use another reason", "", "reason");
  auto it = std::find_if(entries_.begin(), entries_.end(), [&](auto& e) { return e.serial == serial; });
  if (it == entries_.end()) {
    IndexEntry e;
    e.serial = serial;
    // Without the certificate the expiry is unknown; OpenSSL needs a time: the far future keeps
    // the serial on every CRL.
    e.not_after = cert ? cert->not_after() : TimePoint(std::chrono::seconds(253402300799LL));  // 9999-12-31
    e.subject = cert ? oneline_subject(X509_get_subject_name(detail_certificate_fields(*cert))) : "unknown";
    entries_.push_back(std::move(e));
    it = entries_.end() - 1;
  }
  if (it->status == 'R') return false;
  it->status = 'R';
  it->revoked_at = when;
  it->reason = reason;
  return true;
}

CaIndex update_ca_index(const std::string& index_path, const std::function<void(CaIndex&)>& change) {
  FileLock lock(folder_of(index_path));
  CaIndex index = CaIndex::load(index_path);
  change(index);
  write_files({OutputFile{index_path, index.to_text(), 0644, true}}, false);
  return index;
}

void record_issued(const std::string& ca_cert_path, const std::vector<Certificate>& certs) {
  if (certs.empty()) return;
  update_ca_index(CaIndex::path_for(ca_cert_path), [&](CaIndex& index) {
    for (const auto& c : certs) index.record_issued(c);
  });
}

namespace {

// Every folder a write of `files` plus the index touches, for one FolderLocks: taking the CA's
// first and the others in write_files could deadlock with a writer that takes them the other way.
std::vector<std::string> folders_with_index(const std::vector<OutputFile>& files, const std::string& index_path) {
  std::vector<std::string> dirs{folder_of(index_path)};
  for (const auto& f : files) dirs.push_back(folder_of(f.path));
  return dirs;
}

// `files` and `index` with `certs` recorded, in one write (the caller holds the folders' locks).
void write_with_index(std::vector<OutputFile> files, bool overwrite, mode_t dir_mode, const std::string& index_path,
                      CaIndex index, const std::vector<Certificate>& certs, const std::string& journal_dir) {
  for (const auto& c : certs) index.record_issued(c);
  files.push_back(OutputFile{index_path, index.to_text(), 0644, true});
  write_files(files, overwrite, dir_mode, journal_dir);
}

// The journal folder of a write of `files` with the index, with any interrupted change found there
// completed: the index is read after that.
std::string recovered_journal(const std::vector<OutputFile>& files, const std::string& index_path, const std::string& journal_dir) {
  std::vector<std::string> paths{index_path};
  for (const auto& f : files) paths.push_back(f.path);
  return detail::recovered_journal_dir(paths, journal_dir);
}

}  // namespace

void write_files_recorded(std::vector<OutputFile> files, bool overwrite, const std::string& ca_cert_path,
                          const std::vector<Certificate>& certs, mode_t dir_mode, const std::string& journal_dir) {
  std::string index_path = CaIndex::path_for(ca_cert_path);
  std::string journal = recovered_journal(files, index_path, journal_dir);
  FolderLocks locks(folders_with_index(files, index_path), dir_mode);
  write_with_index(std::move(files), overwrite, dir_mode, index_path, CaIndex::load(index_path), certs, journal);
}

std::string write_files_and_record(const std::vector<OutputFile>& files, bool overwrite, const std::string& ca_cert_path,
                                   const std::vector<Certificate>& certs, mode_t dir_mode, const std::string& journal_dir) {
  if (certs.empty()) {
    write_files(files, overwrite, dir_mode, journal_dir);
    return {};
  }
  std::string index_path = CaIndex::path_for(ca_cert_path);
  std::string journal = recovered_journal(files, index_path, journal_dir);
  {
    FolderLocks locks(folders_with_index(files, index_path), dir_mode);
    std::optional<CaIndex> index;
    if (::access(folder_of(index_path).c_str(), W_OK) == 0) try {
        index = CaIndex::load(index_path);
      } catch (const Error&) {  // malformed: record_issued below says so
      }
    if (index) {
      write_with_index(files, overwrite, dir_mode, index_path, std::move(*index), certs, journal);
      return {};
    }
    write_files(files, overwrite, dir_mode, journal);
  }
  try {
    record_issued(ca_cert_path, certs);
    return {};
  } catch (const Error& e) {
    return e.what();
  }
}

// ---------------------------------------------------------------------------------------------
// CRL
// ---------------------------------------------------------------------------------------------

Crl Crl::make(const Signer& signer, const CaIndex& index, const CrlOptions& options) {
  ossl::ClearErrors clear;
  if (options.next_update.count() <= 0) throw Error(Errc::usage, "the next update must be in the future", "", "next update");
  TimePoint now = now_or(options.now);
  const Certificate& ca = signer.ca_certificate();
  if (auto kuse = ca.key_usage(); kuse && !(*kuse & ku::crl_sign))
    throw Error(Errc::ca, "the CA certificate's key usage lacks \"crl sign\": it cannot sign a CRL");
  ossl::CrlPtr crl = ossl::check<ossl::CrlPtr>(X509_CRL_new(), "X509_CRL_new");
  ossl::check(X509_CRL_set_version(crl.get(), X509_CRL_VERSION_2), "X509_CRL_set_version");
  ossl::check(X509_CRL_set_issuer_name(crl.get(), X509_get_subject_name(ca.native_handle())), "X509_CRL_set_issuer_name");
  ossl::check(X509_CRL_set1_lastUpdate(crl.get(), to_asn1(now).get()), "X509_CRL_set1_lastUpdate");
  ossl::check(X509_CRL_set1_nextUpdate(crl.get(), to_asn1(now + options.next_update).get()), "X509_CRL_set1_nextUpdate");
  for (const auto& e : index.entries()) {
    if (e.status != 'R') continue;
    ossl::Revoked r = ossl::check<ossl::Revoked>(X509_REVOKED_new(), "X509_REVOKED_new");
    BIGNUM* raw = nullptr;
    if (BN_hex2bn(&raw, e.serial.c_str()) == 0) throw Error(Errc::input, "invalid serial " + e.serial);
    ossl::Bignum bn(raw);
    ossl::Asn1Int serial = ossl::check<ossl::Asn1Int>(BN_to_ASN1_INTEGER(bn.get(), nullptr), "BN_to_ASN1_INTEGER");
    ossl::check(X509_REVOKED_set_serialNumber(r.get(), serial.get()), "X509_REVOKED_set_serialNumber");
    ossl::check(X509_REVOKED_set_revocationDate(r.get(), to_asn1(e.revoked_at.value_or(now)).get()),
                "X509_REVOKED_set_revocationDate");
    if (e.reason != RevocationReason::unspecified) {
      ossl::Enumerated code = ossl::check<ossl::Enumerated>(ASN1_ENUMERATED_new(), "ASN1_ENUMERATED_new");
      ossl::check(ASN1_ENUMERATED_set(code.get(), static_cast<long>(e.reason)), "ASN1_ENUMERATED_set");
      ossl::check(X509_REVOKED_add1_ext_i2d(r.get(), NID_crl_reason, code.get(), 0, 0), "adding the CRL reason");
    }
    ossl::check(X509_CRL_add0_revoked(crl.get(), r.get()), "X509_CRL_add0_revoked");
    r.release();
  }
  ossl::check(X509_CRL_sort(crl.get()), "X509_CRL_sort");
  if (std::string ski = ca.subject_key_id(); !ski.empty()) {
    ossl::AuthorityKeyId aki = ossl::check<ossl::AuthorityKeyId>(AUTHORITY_KEYID_new(), "AUTHORITY_KEYID_new");
    aki->keyid = ossl::check<ossl::Asn1Octets>(ASN1_OCTET_STRING_new(), "ASN1_OCTET_STRING_new").release();
    ossl::check(ASN1_OCTET_STRING_set(aki->keyid, reinterpret_cast<const unsigned char*>(ski.data()), static_cast<int>(ski.size())),
                "ASN1_OCTET_STRING_set");
    ossl::check(X509_CRL_add1_ext_i2d(crl.get(), NID_authority_key_identifier, aki.get(), 0, 0), "adding the AKI");
  }
  ossl::Asn1Int number = ossl::check<ossl::Asn1Int>(ASN1_INTEGER_new(), "ASN1_INTEGER_new");
  ossl::check(ASN1_INTEGER_set_int64(number.get(), options.number.value_or(now.time_since_epoch().count())), "ASN1_INTEGER_set_int64");
  ossl::check(X509_CRL_add1_ext_i2d(crl.get(), NID_crl_number, number.get(), 0, 0), "adding the CRL number");
  if (X509_CRL_sign(crl.get(), signer.ca_key().native_handle(), detail::signature_digest(signer.ca_key())) <= 0)
    throw_openssl(Errc::crypto, "signing the CRL");
  return Crl(ossl::share(std::move(crl)));
}

Crl Crl::from_bytes(std::string_view data, const std::string& source) {
  ossl::ClearErrors clear;
  if (data.find("-----BEGIN") != std::string_view::npos) {
    auto bio = ossl::mem_bio(data);
    while (auto block = ossl::next_pem_block(bio.get())) {
      if (block->label != "X509 CRL") continue;
      const unsigned char* p = block->der;
      ossl::CrlPtr c(d2i_X509_CRL(nullptr, &p, block->len));
      if (!c) throw_openssl(Errc::input, "cannot parse the CRL", source);
      return Crl(ossl::share(std::move(c)));
    }
    throw Error(Errc::input, "no PEM \"X509 CRL\" block found", source);
  }
  const unsigned char* p = reinterpret_cast<const unsigned char*>(data.data());
  ossl::CrlPtr c(d2i_X509_CRL(nullptr, &p, static_cast<long>(data.size())));
  if (!c) throw_openssl(Errc::input, "not a CRL (neither DER nor PEM)", source);
  return Crl(ossl::share(std::move(c)));
}

std::string Crl::to_der() const { return ossl::to_der<i2d_X509_CRL>(crl_.get(), "encoding the CRL"); }

std::string Crl::to_pem() const {
  auto bio = ossl::mem_bio();
  ossl::check(PEM_write_bio_X509_CRL(bio.get(), crl_.get()), "encoding the CRL");
  return ossl::bio_string(bio.get());
}

std::string Crl::issuer_string() const { return detail::subject_string(X509_CRL_get_issuer(crl_.get())); }
Subject Crl::issuer() const { return detail::decode_subject(X509_CRL_get_issuer(crl_.get())); }
TimePoint Crl::this_update() const { return asn1_time(X509_CRL_get0_lastUpdate(crl_.get())); }
std::optional<TimePoint> Crl::next_update() const {
  const ASN1_TIME* t = X509_CRL_get0_nextUpdate(crl_.get());
  return t ? std::optional<TimePoint>(asn1_time(t)) : std::nullopt;
}

std::optional<std::string> Crl::crl_number() const {
  ossl::Asn1Int n(static_cast<ASN1_INTEGER*>(X509_CRL_get_ext_d2i(crl_.get(), NID_crl_number, nullptr, nullptr)));
  if (!n) return std::nullopt;
  return asn1_int_hex(n.get());
}

std::string Crl::authority_key_id() const {
  ossl::AuthorityKeyId aki(static_cast<AUTHORITY_KEYID*>(X509_CRL_get_ext_d2i(crl_.get(), NID_authority_key_identifier, nullptr, nullptr)));
  if (!aki || !aki->keyid) return {};
  return std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(aki->keyid)), static_cast<size_t>(ASN1_STRING_length(aki->keyid)));
}

std::vector<Crl::Revoked> Crl::revoked() const {
  std::vector<Revoked> out;
  STACK_OF(X509_REVOKED)* list = X509_CRL_get_REVOKED(crl_.get());
  for (int i = 0; list && i < sk_X509_REVOKED_num(list); ++i) {
    const X509_REVOKED* r = sk_X509_REVOKED_value(list, i);
    Revoked item{asn1_int_hex(X509_REVOKED_get0_serialNumber(r)), asn1_time(X509_REVOKED_get0_revocationDate(r)), std::nullopt};
    ossl::Enumerated code(static_cast<ASN1_ENUMERATED*>(X509_REVOKED_get_ext_d2i(r, NID_crl_reason, nullptr, nullptr)));
    if (code) item.reason = static_cast<RevocationReason>(ASN1_ENUMERATED_get(code.get()));
    out.push_back(std::move(item));
  }
  return out;
}

bool Crl::is_revoked(const std::string& serial_hex) const {
  std::string want = normalize_serial_hex(serial_hex);
  for (const auto& r : revoked())
    if (r.serial == want) return true;
  return false;
}

bool Crl::signed_by(const Certificate& ca) const {
  EVP_PKEY* pk = X509_get0_pubkey(ca.native_handle());
  bool ok = pk && X509_CRL_verify(crl_.get(), pk) == 1;
  ERR_clear_error();
  return ok;
}

std::string Crl::sha256_fingerprint() const {
  return detail::sha256_fingerprint_of<X509_CRL_digest>(crl_.get(), "X509_CRL_digest");
}

CrlPaths CrlPaths::for_ca(const std::string& ca_cert_path) {
  std::filesystem::path p(ca_cert_path);
  std::string stem = (p.parent_path() / p.stem()).string();
  return {stem + ".crl", stem + "-crl.pem"};
}

namespace {

// The CRL's number: above the previous CRL's, even within the same second (RFC 5280 5.2.3).
int64_t next_crl_number(const CrlPaths& paths, TimePoint now) {
  int64_t n = now.time_since_epoch().count();
  std::error_code ec;
  if (std::filesystem::exists(paths.der, ec)) {
    try {  // an unreadable previous CRL is replaced; its number cannot be known
      if (auto prev = Crl::from_bytes(read_text_file(paths.der, Errc::input), paths.der).crl_number())
        if (prev->size() <= 15) n = std::max<int64_t>(n, std::stoll(*prev, nullptr, 16) + 1);
    } catch (const Error&) {
    }
  }
  return n;
}

// The index changed by `change` (when given: it returns whether it changed anything), the CRL
// made from it, and the index (when changed) and both CRL files written in one all-or-nothing
// write, an interrupted earlier change completed first.
Revocation publish_crl(const Signer& signer, const std::string& ca_cert_path, const CrlOptions& options,
                       const std::function<bool(CaIndex&)>& change) {
  std::string index_path = CaIndex::path_for(ca_cert_path);
  CrlPaths paths = CrlPaths::for_ca(ca_cert_path);
  std::vector<std::string> written{index_path, paths.der, paths.pem}, dirs{folder_of(index_path), folder_of(paths.der)};
  if (!options.cluster_dir.empty())
    for (const auto& copy : detail::member_crl_paths(options.cluster_dir)) {
      written.push_back(copy);
      dirs.push_back(folder_of(copy));
    }
  std::string journal = detail::recovered_journal_dir(written);
  dirs.push_back(journal);
  FolderLocks locks(dirs);
  CaIndex index = CaIndex::load(index_path);
  bool changed = change && change(index);
  Crl crl = next_crl(signer, index, ca_cert_path, options);
  std::vector<OutputFile> files;
  if (changed) files.push_back(OutputFile{index_path, index.to_text(), 0644, true});
  files.push_back(OutputFile{paths.der, crl.to_der(), 0644, true});
  files.push_back(OutputFile{paths.pem, crl.to_pem(), 0644, true});
  if (!options.cluster_dir.empty())
    for (auto& f : detail::member_crl_files(options.cluster_dir, files[changed ? 1 : 0].content)) files.push_back(std::move(f));
  write_files(files, false, 0755, journal);
  return Revocation{changed, crl};
}

}  // namespace

Crl next_crl(const Signer& signer, const CaIndex& index, const std::string& ca_cert_path, CrlOptions options) {
  if (!options.number) options.number = next_crl_number(CrlPaths::for_ca(ca_cert_path), now_or(options.now));
  return Crl::make(signer, index, options);
}

Crl write_crl(const Signer& signer, const std::string& ca_cert_path, const CrlOptions& options) {
  return publish_crl(signer, ca_cert_path, options, nullptr).crl;
}

Revocation revoke_and_write_crl(const Signer& signer, const std::string& ca_cert_path, const std::string& serial_hex,
                                RevocationReason reason, const std::optional<Certificate>& cert, const CrlOptions& options) {
  return publish_crl(signer, ca_cert_path, options,
                     [&](CaIndex& index) { return index.revoke(serial_hex, now_or(options.now), reason, cert); });
}

}  // namespace etcd_pki
