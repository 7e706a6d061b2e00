#include "etcd_pki/inspect.hpp"

#include <nlohmann/json.hpp>

#include "etcd_pki/files.hpp"
#include "etcd_pki/csr.hpp"
#include "etcd_pki/profile.hpp"
#include "ossl.hpp"
#include "x509_util.hpp"
#include "json_fields.hpp"

namespace etcd_pki {

using Json = nlohmann::ordered_json;

namespace {

using detail::utf8;

// certinfo's Name: the standard attributes (multi-values joined with ","), then every value in order.
Json certinfo_name(const X509_NAME* name) {
  struct Attr {
    int nid;
    const char* key;
  };
  static const Attr attrs[] = {{NID_commonName, "common_name"},        {NID_serialNumber, "serial_number"},
                               {NID_countryName, "country"},           {NID_organizationName, "organization"},
                               {NID_organizationalUnitName, "organizational_unit"}, {NID_localityName, "locality"},
                               {NID_stateOrProvinceName, "province"},  {NID_streetAddress, "street_address"},
                               {NID_postalCode, "postal_code"}};
  Json j = Json::object();
  for (const auto& a : attrs) {
    std::string joined;
    for (int i = -1; (i = X509_NAME_get_index_by_NID(name, a.nid, i)) >= 0;) {
      std::string v = utf8(X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, i)));
      joined += (joined.empty() ? "" : ",") + v;
    }
    if (!joined.empty()) j[a.key] = joined;
  }
  Json names = Json::array();
  for (int i = 0; i < X509_NAME_entry_count(name); ++i) names.push_back(utf8(X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, i))));
  j["names"] = names;
  return j;
}

std::string colon_hex(const std::string& bytes) {
  return detail::to_hex(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size());
}

std::string serial_colon(const std::string& hex) {  // "1A2B3" -> "01:A2:B3"
  std::string h = hex.size() % 2 ? "0" + hex : hex, out;
  for (size_t i = 0; i < h.size(); i += 2) {
    if (i) out += ':';
    out.append(h, i, 2);
  }
  return out;
}

std::string pubkey_fingerprint(const KeyPair& key) { return detail::sha256_hex(key.public_key_der()); }

std::string key_description(const KeyPair& key) {
  try {
    return key.spec().to_string();
  } catch (const Error&) {
    return std::string(EVP_PKEY_get0_type_name(key.native_handle())) + " " + std::to_string(EVP_PKEY_get_bits(key.native_handle())) + " bits";
  }
}

void add_key_fields(InspectedItem& item, Json& j, const KeyPair& key) {
  std::string desc = key_description(key);
  item.public_key_sha256 = pubkey_fingerprint(key);
  j["public_key_sha256"] = item.public_key_sha256;
  item.fields.push_back({"Key", desc});
  j["key_algorithm"] = EVP_PKEY_get0_type_name(key.native_handle()) ? EVP_PKEY_get0_type_name(key.native_handle()) : "";
  j["key_size"] = EVP_PKEY_get_bits(key.native_handle());
  j["key"] = desc;
}

std::string sans_text(const Sans& s) { return s.empty() ? "(none)" : s.to_string(); }

Json sans_json(const Sans& s) {  // certinfo: DNS names, then IPs
  Json a = Json::array();
  for (const auto& d : s.dns) a.push_back(d);
  for (const auto& ip : s.ip) a.push_back(ip.to_string());
  return a;
}

InspectedItem describe_certificate(const Certificate& cert, const std::string& file, const InspectOptions& opt, TimePoint now) {
  InspectedItem item{file, ItemKind::certificate, {}, {}, {}};
  X509* x = cert.native_handle();
  Json j;
  j["subject"] = certinfo_name(X509_get_subject_name(x));
  j["issuer"] = certinfo_name(X509_get_issuer_name(x));
  j["serial_number"] = detail::integer_decimal(X509_get0_serialNumber(x));
  Sans sans = cert.sans();
  if (Json s = sans_json(sans); !s.empty()) j["sans"] = s;
  j["not_before"] = format_rfc3339(cert.not_before());
  j["not_after"] = format_rfc3339(cert.not_after());
  j["sigalg"] = signature_algorithm_name(cert);
  j["authority_key_id"] = colon_hex(cert.authority_key_id());
  j["subject_key_id"] = colon_hex(cert.subject_key_id());
  j["pem"] = cert.to_pem();
  // etcd-pki's own fields.
  j["type"] = "certificate";
  j["file"] = file;
  j["serial_hex"] = serial_colon(cert.serial_hex());
  j["emails"] = sans.email;
  j["uris"] = sans.uri;
  Usages u{cert.key_usage().value_or(0), cert.ext_key_usage()};
  j["usages"] = usage_names(u);
  j["is_ca"] = cert.is_ca();
  if (auto pl = cert.path_len()) j["path_len"] = *pl;
  j["self_signed"] = cert.self_signed();
  j["sha256_fingerprint"] = cert.sha256_fingerprint();
  j["seconds_left"] = (cert.not_after() - now).count();

  std::string validity = format_rfc3339(cert.not_after());
  if (cert.not_before() > now) validity += " (NOT YET VALID: starts " + format_time_left(cert.not_before(), now) + ")";
  else if (cert.not_after() < now) validity += " (EXPIRED " + format_time_left(cert.not_after(), now) + ")";
  else validity += " (" + format_time_left(cert.not_after(), now) + ")";
  item.fields = {{"Subject", cert.subject_string()},
                 {"Issuer", cert.issuer_string()},
                 {"Serial", serial_colon(cert.serial_hex())},
                 {"Not before", format_rfc3339(cert.not_before())},
                 {"Not after", validity},
                 {"SANs", sans_text(sans)},
                 {"Key usage", cert.key_usage() ? key_usage_string(*cert.key_usage()) : "(none)"},
                 {"Ext key usage", u.ext_key_usage.empty() ? "(none)" : ext_key_usage_string(u.ext_key_usage)}};
  std::string ca = cert.is_ca() ? "yes" : "no";
  if (auto pl = cert.path_len()) ca += ", path length " + std::to_string(*pl);
  if (cert.self_signed()) ca += ", self-signed";
  item.fields.push_back({"CA", ca});
  add_key_fields(item, j, cert.public_key());
  item.fields.push_back({"Signature", signature_algorithm_name(cert)});
  item.fields.push_back({"SHA-256", cert.sha256_fingerprint()});
  item.fields.push_back({"SKI", cert.subject_key_id().empty() ? "(none)" : colon_hex(cert.subject_key_id())});
  item.fields.push_back({"AKI", cert.authority_key_id().empty() ? "(none)" : colon_hex(cert.authority_key_id())});
  if (opt.ca) {
    bool ok = cert.signed_by(*opt.ca);
    item.fields.push_back({"Signed by CA", ok ? "yes" : "NO: not signed by " + opt.ca->subject_string()});
    j["signed_by_ca"] = ok;
  }
  if (opt.crl) {
    std::string serial = normalize_serial_hex(cert.serial_hex());
    std::string status = "no";
    j["revoked"] = false;
    for (const auto& r : opt.crl->revoked())
      if (r.serial == serial) {
        status = "REVOKED on " + format_rfc3339(r.revoked_at) + (r.reason ? std::string(", ") + to_string(*r.reason) : "");
        j["revoked"] = true;
        j["revoked_at"] = format_rfc3339(r.revoked_at);
      }
    item.fields.push_back({"Revoked", status});
  }
  item.json = detail::json_text(j);
  return item;
}

InspectedItem describe_csr(const Csr& csr, const std::string& file) {
  InspectedItem item{file, ItemKind::csr, {}, {}, {}};
  Json j;
  j["type"] = "csr";
  j["file"] = file;
  j["subject"] = certinfo_name(X509_REQ_get_subject_name(csr.native_handle()));
  Sans sans = csr.sans();
  j["sans"] = sans_json(sans);
  j["emails"] = sans.email;
  j["uris"] = sans.uri;
  item.fields = {{"Subject", detail::subject_string(X509_REQ_get_subject_name(csr.native_handle()))}, {"SANs", sans_text(sans)}};
  auto bc = csr.basic_constraints();
  j["is_ca"] = bc && bc->is_ca;
  std::string ca = bc && bc->is_ca ? "requested" : "no";
  if (bc && bc->path_len) ca += ", path length " + std::to_string(*bc->path_len);
  item.fields.push_back({"CA", ca});
  add_key_fields(item, j, csr.public_key());
  item.fields.push_back({"Signature", "valid"});  // Csr::from_pem verified it
  j["signature_valid"] = true;
  item.fields.push_back({"Public key SHA-256", item.public_key_sha256});
  item.json = detail::json_text(j);
  return item;
}

InspectedItem describe_key(const KeyPair& key, const std::string& file, bool is_private) {
  InspectedItem item{file, is_private ? ItemKind::private_key : ItemKind::public_key, {}, {}, {}};
  Json j;
  j["type"] = is_private ? "private key" : "public key";
  j["file"] = file;
  add_key_fields(item, j, key);
  item.fields.push_back({"Public key SHA-256", item.public_key_sha256});
  item.json = detail::json_text(j);
  return item;
}

InspectedItem describe_crl(const Crl& crl, const std::string& file, const InspectOptions& opt, TimePoint now) {
  InspectedItem item{file, ItemKind::crl, {}, {}, {}};
  Json j;
  j["type"] = "crl";
  j["file"] = file;
  j["issuer"] = certinfo_name(X509_CRL_get_issuer(crl.native_handle()));
  j["this_update"] = format_rfc3339(crl.this_update());
  item.fields = {{"Issuer", crl.issuer_string()}, {"This update", format_rfc3339(crl.this_update())}};
  if (auto next = crl.next_update()) {
    j["next_update"] = format_rfc3339(*next);
    j["seconds_left"] = (*next - now).count();
    item.fields.push_back({"Next update", format_rfc3339(*next) + (*next <= now ? " (STALE: " : " (") + format_time_left(*next, now) + ")"});
  } else {
    item.fields.push_back({"Next update", "(none)"});
  }
  if (auto n = crl.crl_number()) {
    j["crl_number"] = *n;
    item.fields.push_back({"CRL number", *n});
  }
  j["authority_key_id"] = colon_hex(crl.authority_key_id());
  auto revoked = crl.revoked();
  Json list = Json::array();
  std::string text;
  for (const auto& r : revoked) {
    Json e{{"serial_hex", serial_colon(r.serial)}, {"revoked_at", format_rfc3339(r.revoked_at)}};
    if (r.reason) e["reason"] = to_string(*r.reason);
    list.push_back(e);
    text += (text.empty() ? "" : "; ") + serial_colon(r.serial) + " (" + format_rfc3339(r.revoked_at) +
            (r.reason ? std::string(", ") + to_string(*r.reason) : "") + ")";
  }
  j["revoked"] = list;
  item.fields.push_back({"Revoked", std::to_string(revoked.size()) + (revoked.empty() ? "" : ": " + text)});
  if (opt.ca) {
    bool ok = crl.signed_by(*opt.ca);
    j["signed_by_ca"] = ok;
    item.fields.push_back({"Signed by CA", ok ? "yes" : "NO: not signed by " + opt.ca->subject_string()});
  }
  item.fields.push_back({"SHA-256", crl.sha256_fingerprint()});
  j["sha256_fingerprint"] = crl.sha256_fingerprint();
  item.json = detail::json_text(j);
  return item;
}

std::string pem_of(const ossl::PemBlock& b) {
  auto bio = ossl::mem_bio();
  ossl::check(PEM_write_bio(bio.get(), b.label.c_str(), b.header.c_str(), b.der, b.len), "PEM_write_bio");
  return ossl::bio_string(bio.get());
}

}  // namespace

const char* to_string(ItemKind k) {
  switch (k) {
    case ItemKind::certificate: return "certificate";
    case ItemKind::csr: return "csr";
    case ItemKind::private_key: return "private key";
    case ItemKind::public_key: return "public key";
    case ItemKind::crl: return "crl";
  }
  return "?";
}

std::string signature_algorithm_name(const Certificate& cert) {
  switch (X509_get_signature_nid(cert.native_handle())) {
    case NID_sha1WithRSAEncryption: return "SHA1WithRSA";
    case NID_sha256WithRSAEncryption: return "SHA256WithRSA";
    case NID_sha384WithRSAEncryption: return "SHA384WithRSA";
    case NID_sha512WithRSAEncryption: return "SHA512WithRSA";
    case NID_md5WithRSAEncryption: return "MD5WithRSA";
    case NID_ecdsa_with_SHA1: return "ECDSAWithSHA1";
    case NID_ecdsa_with_SHA256: return "ECDSAWithSHA256";
    case NID_ecdsa_with_SHA384: return "ECDSAWithSHA384";
    case NID_ecdsa_with_SHA512: return "ECDSAWithSHA512";
    case NID_ED25519: return "Ed25519";
    case NID_rsassaPss: return "SHA256WithRSAPSS";
    default: {
      const char* ln = OBJ_nid2ln(X509_get_signature_nid(cert.native_handle()));
      return ln ? ln : "unknown";
    }
  }
}

std::vector<InspectedItem> inspect_data(const std::string& data, const std::string& file, const InspectOptions& opt) {
  ossl::ClearErrors clear;
  TimePoint now = now_or(opt.now);
  std::vector<InspectedItem> items;
  if (data.find("-----BEGIN ") != std::string::npos) {
    auto bio = ossl::mem_bio(data);
    int index = 0;
    while (auto block = ossl::next_pem_block(bio.get())) {
      ++index;
      std::string where = file + " (block " + std::to_string(index) + ", " + block->label + ")";
      const std::string& label = block->label;
      const unsigned char* p = block->der;
      if (label == "CERTIFICATE") {
        items.push_back(describe_certificate(Certificate::from_pem(pem_of(*block), where, Errc::input), file, opt, now));
      } else if (label == "CERTIFICATE REQUEST" || label == "NEW CERTIFICATE REQUEST") {
        items.push_back(describe_csr(Csr::from_pem(pem_of(*block), where), file));
      } else if (label == "X509 CRL") {
        items.push_back(describe_crl(Crl::from_bytes(pem_of(*block), where), file, opt, now));
      } else if (label == "PUBLIC KEY") {
        ossl::PKey k(d2i_PUBKEY(nullptr, &p, block->len));
        if (!k) throw_openssl(Errc::input, "cannot parse the public key", where);
        items.push_back(describe_key(KeyPair::from_native(k.get()), file, false));
      } else if (label == "ENCRYPTED PRIVATE KEY" || block->header.find("ENCRYPTED") != std::string::npos) {
        InspectedItem item{file, ItemKind::private_key, {{"Key", "encrypted (etcd cannot read an encrypted key file)"}}, {}, {}};
        item.json = detail::json_text(Json{{"type", "private key"}, {"file", file}, {"encrypted", true}});
        items.push_back(std::move(item));
      } else if (label == "EC PARAMETERS") {
        continue;
      } else if (label.ends_with("PRIVATE KEY")) {
        items.push_back(describe_key(KeyPair::from_pem(pem_of(*block), where), file, true));
      } else {
        throw Error(Errc::input, "unsupported PEM block \"" + label + "\"", file);
      }
    }
  } else if (!data.empty()) {
    // One DER object: a certificate, a CRL or a CSR.
    const unsigned char* p = reinterpret_cast<const unsigned char*>(data.data());
    long len = static_cast<long>(data.size());
    if (ossl::X509Ptr x{d2i_X509(nullptr, &p, len)}) {
      items.push_back(describe_certificate(Certificate::from_native(x.get()), file, opt, now));
    } else if (p = reinterpret_cast<const unsigned char*>(data.data()); ossl::CrlPtr{d2i_X509_CRL(nullptr, &p, len)}) {
      items.push_back(describe_crl(Crl::from_bytes(data, file), file, opt, now));
    } else if (p = reinterpret_cast<const unsigned char*>(data.data()); ossl::Req req{d2i_X509_REQ(nullptr, &p, len)}) {
      auto bio = ossl::mem_bio();
      ossl::check(PEM_write_bio_X509_REQ(bio.get(), req.get()), "PEM_write_bio_X509_REQ");
      items.push_back(describe_csr(Csr::from_pem(ossl::bio_string(bio.get()), file), file));
    }
    ERR_clear_error();
  }
  if (items.empty()) throw Error(Errc::input, "no certificate, CSR, key or CRL found (PEM or DER)", file);
  return items;
}

std::vector<InspectedItem> inspect_file(const std::string& path, const InspectOptions& opt) {
  return inspect_data(read_text_file(path, Errc::input), path, opt);
}

std::string render_text(const std::vector<InspectedItem>& items) {
  // Which certificate does each private key belong to?
  std::vector<std::pair<std::string, std::string>> cert_keys;  // public key SHA-256, file
  for (const auto& it : items)
    if (it.kind == ItemKind::certificate) cert_keys.push_back({it.public_key_sha256, it.file});
  std::string out;
  for (const auto& it : items) {
    if (!out.empty()) out += "\n";
    out += it.file + ": " + to_string(it.kind) + "\n";
    size_t width = 0;
    for (const auto& [label, value] : it.fields) width = std::max(width, label.size());
    auto line = [&](const std::string& label, const std::string& value) {
      out += "  " + label + ":" + std::string(width - label.size() + 1, ' ') + value + "\n";
    };
    for (const auto& [label, value] : it.fields) line(label, value);
    if (it.kind == ItemKind::private_key && !it.public_key_sha256.empty() && !cert_keys.empty()) {
      std::string match;
      for (const auto& [fp, f] : cert_keys)
        if (fp == it.public_key_sha256) match += (match.empty() ? "" : ", ") + f;
      line("Matches", match.empty() ? "none of the certificates given" : match);
    }
  }
  return out;
}

std::string render_json(const std::vector<InspectedItem>& items) {
  if (items.size() == 1) return items.front().json + "\n";
  Json a = Json::array();
  for (const auto& it : items) a.push_back(Json::parse(it.json));
  return detail::json_text(a) + "\n";
}

}  // namespace etcd_pki
