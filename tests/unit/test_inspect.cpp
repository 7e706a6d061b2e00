// inspect.hpp: what is in a file. Kinds and order of the objects, cfssl certinfo's certificate
// JSON checked against values read independently with OpenSSL, the readable form (validity,
// key matching, CA and CRL checks), encrypted keys, DER input and errors.
#include <algorithm>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>

#include "support.hpp"

using namespace test;
using Json = nlohmann::json;

namespace {

const Ca& rsa_root() {
  static const Ca root = make_root(KeySpec{KeyAlgo::rsa, 2048}, "inspect-rsa-root");
  return root;
}

const Ca& ed25519_root() {
  static const Ca root = make_root(KeySpec{KeyAlgo::ed25519, 0}, "inspect-ed25519-root");
  return root;
}

const Ca& p384_root() {
  static const Ca root = make_root(KeySpec{KeyAlgo::ecdsa, 384}, "inspect-p384-root");
  return root;
}

const Ca& foreign_root() {
  static const Ca root = make_root(KeySpec{KeyAlgo::ecdsa, 256}, "inspect-foreign-root");
  return root;
}

Request etcd1_request() {
  Request req;
  req.subject.country = {"US"};
  req.subject.province = {"CA"};
  req.subject.locality = {"San Francisco"};
  req.subject.organization = {"etcd", "ops team"};
  req.subject.org_unit = {"storage"};
  req.subject.common_name = "etcd-1";
  // IPs and names mixed: certinfo lists the DNS names first, then the IPs.
  req.hosts = {"10.0.0.1", "etcd-1.example", "::1", "etcd-1"};
  return req;
}

// A peer certificate for etcd-1, issued by `ca` at the fixed clock with the shared leaf key.
Certificate etcd1_cert(const Ca& ca = shared_root()) {
  Csr csr = Csr::create(etcd1_request(), shared_leaf_key());
  Profile p = profile_with({"signing", "key encipherment", "server auth", "client auth"}, Seconds(8760 * 3600), "peer");
  return ca.signer().sign(csr, p, at_time(fixed_now())).certificate;
}

Certificate simple_leaf(const Ca& ca, const std::string& cn, const KeyPair& key = shared_leaf_key()) {
  return ca.signer().sign(leaf_csr(cn, {cn + ".example"}, key), profile_with({"signing", "client auth"}), at_time(fixed_now()))
      .certificate;
}

InspectOptions at_fixed_now() {
  InspectOptions o;
  o.now = fixed_now();
  return o;
}

std::string field(const InspectedItem& item, const std::string& label) {
  for (const auto& [l, v] : item.fields)
    if (l == label) return v;
  FAIL("no field \"" << label << "\" in the " << to_string(item.kind) << " from " << item.file);
  return {};
}

bool has_field(const InspectedItem& item, const std::string& label) {
  return std::any_of(item.fields.begin(), item.fields.end(), [&](auto& f) { return f.first == label; });
}

// The values of every "  Label: value" line of a rendered text.
std::vector<std::string> text_values(const std::string& text, const std::string& label) {
  std::vector<std::string> out;
  std::istringstream in(text);
  std::string line;
  const std::string head = "  " + label + ":";
  while (std::getline(in, line)) {
    if (line.rfind(head, 0) != 0) continue;
    std::string v = line.substr(head.size());
    v.erase(0, v.find_first_not_of(' '));
    out.push_back(v);
  }
  return out;
}

std::string colon_hex(const unsigned char* p, size_t n) {
  std::string out;
  char buf[4];
  for (size_t i = 0; i < n; ++i) {
    std::snprintf(buf, sizeof buf, "%02X", p[i]);
    out += (i ? ":" : "") + std::string(buf);
  }
  return out;
}

std::string colon_hex(const std::string& bytes) {
  return colon_hex(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size());
}

std::string openssl_fingerprint(const Certificate& c) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  REQUIRE(X509_digest(c.native_handle(), EVP_sha256(), md, &n) == 1);
  return colon_hex(md, n);
}

std::string openssl_serial_decimal(const Certificate& c) {
  std::unique_ptr<BIGNUM, decltype(&BN_free)> bn(ASN1_INTEGER_to_BN(X509_get0_serialNumber(c.native_handle()), nullptr), BN_free);
  REQUIRE(bn);
  char* dec = BN_bn2dec(bn.get());
  REQUIRE(dec != nullptr);
  std::string out = dec;
  OPENSSL_free(dec);
  return out;
}

std::vector<std::string> openssl_name_values(const X509_NAME* name) {
  std::vector<std::string> out;
  for (int i = 0; i < X509_NAME_entry_count(name); ++i) {
    unsigned char* utf8 = nullptr;
    int n = ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, i)));
    REQUIRE(n >= 0);
    out.emplace_back(reinterpret_cast<char*>(utf8), static_cast<size_t>(n));
    OPENSSL_free(utf8);
  }
  return out;
}

std::string der_of(const Certificate& c) {
  unsigned char* der = nullptr;
  int len = i2d_X509(c.native_handle(), &der);
  REQUIRE(len > 0);
  std::string out(reinterpret_cast<char*>(der), static_cast<size_t>(len));
  OPENSSL_free(der);
  return out;
}

std::string encrypted_pkcs8(const KeyPair& key) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), BIO_free);
  static char pass[] = "correct horse";
  REQUIRE(PEM_write_bio_PKCS8PrivateKey(bio.get(), key.native_handle(), EVP_aes_256_cbc(), pass,
                                        static_cast<int>(sizeof pass - 1), nullptr, nullptr) == 1);
  char* p = nullptr;
  long n = BIO_get_mem_data(bio.get(), &p);
  return std::string(p, static_cast<size_t>(n));
}

std::string encrypted_traditional(const KeyPair& key) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), BIO_free);
  static unsigned char pass[] = "correct horse";
  REQUIRE(PEM_write_bio_PrivateKey_traditional(bio.get(), key.native_handle(), EVP_aes_256_cbc(), pass,
                                               static_cast<int>(sizeof pass - 1), nullptr, nullptr) == 1);
  char* p = nullptr;
  long n = BIO_get_mem_data(bio.get(), &p);
  return std::string(p, static_cast<size_t>(n));
}

Crl crl_revoking(const Ca& ca, const std::vector<std::string>& serials, TimePoint when, RevocationReason reason) {
  CaIndex index;
  for (const auto& s : serials) REQUIRE(index.revoke(s, when, reason));
  CrlOptions o;
  o.now = fixed_now();
  return Crl::make(ca.signer(), index, o);
}

std::vector<InspectedItem> concat(std::vector<InspectedItem> a, const std::vector<InspectedItem>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Kinds
// ---------------------------------------------------------------------------------------------

TEST_CASE("inspect_data: certificate, key, CSR and CRL in one PEM, in order", "[inspect]") {
  Certificate cert = etcd1_cert();
  Csr csr = Csr::create(etcd1_request(), shared_leaf_key());
  Crl crl = crl_revoking(shared_root(), {"1A2B"}, fixed_now(), RevocationReason::superseded);
  const std::string pem = cert.to_pem() + shared_leaf_key().to_pem() + csr.to_pem() + crl.to_pem() +
                          shared_root().cert.to_pem();

  auto items = inspect_data(pem, "everything.pem", at_fixed_now());
  REQUIRE(items.size() == 5);
  CHECK(items[0].kind == ItemKind::certificate);
  CHECK(items[1].kind == ItemKind::private_key);
  CHECK(items[2].kind == ItemKind::csr);
  CHECK(items[3].kind == ItemKind::crl);
  CHECK(items[4].kind == ItemKind::certificate);
  for (const auto& it : items) {
    CHECK(it.file == "everything.pem");
    Json j = Json::parse(it.json);
    CHECK(j.at("type") == to_string(it.kind));
    CHECK(j.at("file") == "everything.pem");
  }
  CHECK(field(items[0], "Subject") == cert.subject_string());
  CHECK(field(items[4], "Subject") == shared_root().cert.subject_string());

  // The certificate, its key and its CSR share one public key fingerprint.
  CHECK_FALSE(items[0].public_key_sha256.empty());
  CHECK(items[1].public_key_sha256 == items[0].public_key_sha256);
  CHECK(items[2].public_key_sha256 == items[0].public_key_sha256);
  CHECK(items[4].public_key_sha256 != items[0].public_key_sha256);

  // A public key block.
  std::string pub = pem_encode("PUBLIC KEY", shared_leaf_key().public_key_der());
  auto pubs = inspect_data(pub, "pub.pem");
  REQUIRE(pubs.size() == 1);
  CHECK(pubs[0].kind == ItemKind::public_key);
  CHECK(pubs[0].public_key_sha256 == items[0].public_key_sha256);
  CHECK(Json::parse(pubs[0].json).at("type") == "public key");

  struct Kind {
    ItemKind k;
    const char* name;
  };
  for (const auto& k : {Kind{ItemKind::certificate, "certificate"}, Kind{ItemKind::csr, "csr"},
                        Kind{ItemKind::private_key, "private key"}, Kind{ItemKind::public_key, "public key"},
                        Kind{ItemKind::crl, "crl"}})
    CHECK(std::string(to_string(k.k)) == k.name);
}

// ---------------------------------------------------------------------------------------------
// Certificate JSON
// ---------------------------------------------------------------------------------------------

TEST_CASE("inspect: certificate JSON has certinfo's fields with the certificate's values", "[inspect]") {
  Certificate cert = etcd1_cert();
  auto items = inspect_data(cert.to_pem(), "etcd-1.pem", at_fixed_now());
  REQUIRE(items.size() == 1);
  Json j = Json::parse(items[0].json);

  // Subject and issuer: certinfo's Name.
  const Json& subject = j.at("subject");
  CHECK(subject.at("common_name") == "etcd-1");
  CHECK(subject.at("country") == "US");
  CHECK(subject.at("province") == "CA");
  CHECK(subject.at("locality") == "San Francisco");
  CHECK(subject.at("organization") == "etcd,ops team");  // multi-valued: joined with ","
  CHECK(subject.at("organizational_unit") == "storage");
  CHECK_FALSE(subject.contains("street_address"));
  std::vector<std::string> names = subject.at("names").get<std::vector<std::string>>();
  CHECK(names == openssl_name_values(X509_get_subject_name(cert.native_handle())));
  CHECK(names == std::vector<std::string>{"US", "CA", "San Francisco", "etcd", "ops team", "storage", "etcd-1"});
  CHECK(j.at("issuer").at("common_name") == "shared-test-root");
  CHECK(j.at("issuer").at("organization") == "etcd-pki tests");
  CHECK(j.at("issuer").at("names") == Json::array({"etcd-pki tests", "shared-test-root"}));

  // Serial: decimal, the certificate's own number.
  const std::string decimal = j.at("serial_number").get<std::string>();
  CHECK(decimal == openssl_serial_decimal(cert));
  CHECK(std::all_of(decimal.begin(), decimal.end(), [](char c) { return c >= '0' && c <= '9'; }));
  CHECK(decimal_to_serial_hex(decimal) == normalize_serial_hex(cert.serial_hex()));
  CHECK(normalize_serial_hex(j.at("serial_hex").get<std::string>()) == normalize_serial_hex(cert.serial_hex()));
  CHECK_THAT(j.at("serial_hex").get<std::string>(), Contains(":"));

  // SANs: DNS names, then IPs (certinfo has no emails or URIs there).
  CHECK(j.at("sans") == Json::array({"etcd-1.example", "etcd-1", "10.0.0.1", "::1"}));
  CHECK(j.at("emails") == Json::array());
  CHECK(j.at("uris") == Json::array());

  // Validity in RFC 3339 (notBefore: 12:34:29 rounded to 12:34, minus the 5-minute backdate).
  CHECK(j.at("not_before") == "2025-03-10T12:29:00Z");
  CHECK(j.at("not_after") == "2026-03-10T12:29:00Z");
  CHECK(j.at("not_before") == format_rfc3339(cert.not_before()));
  CHECK(j.at("not_after") == format_rfc3339(cert.not_after()));
  CHECK(j.at("seconds_left") == 8760LL * 3600 - 329);  // from 2025-03-10T12:34:29Z

  CHECK(j.at("sigalg") == "ECDSAWithSHA256");

  // Key identifiers: upper-case, zero-padded, colon-separated hex of the extensions' bytes.
  const std::regex colon_hex_re("^([0-9A-F]{2}:)*[0-9A-F]{2}$");
  const std::string ski = j.at("subject_key_id").get<std::string>(), aki = j.at("authority_key_id").get<std::string>();
  CHECK(std::regex_match(ski, colon_hex_re));
  CHECK(std::regex_match(aki, colon_hex_re));
  CHECK(ski == colon_hex(cert.subject_key_id()));
  CHECK(aki == colon_hex(cert.authority_key_id()));
  CHECK(aki == colon_hex(shared_root().cert.subject_key_id()));
  CHECK(ski.size() == 20 * 3 - 1);

  CHECK(j.at("pem") == cert.to_pem());

  // etcd-pki's own fields.
  CHECK(j.at("type") == "certificate");
  CHECK(j.at("file") == "etcd-1.pem");
  // ECDSA key: "key encipherment" was dropped from the user profile.
  CHECK(j.at("usages") == Json::array({"digital signature", "server auth", "client auth"}));
  CHECK(j.at("is_ca") == false);
  CHECK_FALSE(j.contains("path_len"));
  CHECK(j.at("self_signed") == false);
  CHECK(j.at("sha256_fingerprint") == openssl_fingerprint(cert));
  CHECK(j.at("sha256_fingerprint") == cert.sha256_fingerprint());
  CHECK(j.at("key") == "ECDSA P-256");
  CHECK(j.at("key_algorithm") == "EC");
  CHECK(j.at("key_size") == 256);
  CHECK(j.at("public_key_sha256") == items[0].public_key_sha256);
  CHECK_FALSE(j.contains("signed_by_ca"));
  CHECK_FALSE(j.contains("revoked"));

  // The certinfo fields come first, in certinfo's order.
  nlohmann::ordered_json in_order = nlohmann::ordered_json::parse(items[0].json);
  std::vector<std::string> first;
  for (auto it = in_order.begin(); it != in_order.end() && first.size() < 10; ++it) first.push_back(it.key());
  CHECK(first == std::vector<std::string>{"subject", "issuer", "serial_number", "sans", "not_before", "not_after", "sigalg",
                                          "authority_key_id", "subject_key_id", "pem"});

  // The readable fields say the same.
  CHECK(field(items[0], "Subject") == cert.subject_string());
  CHECK(field(items[0], "Issuer") == shared_root().cert.issuer_string());
  CHECK(field(items[0], "SANs") == "DNS:etcd-1.example, DNS:etcd-1, IP:10.0.0.1, IP:::1");
  CHECK(field(items[0], "Key usage") == "Digital Signature");
  CHECK(field(items[0], "Ext key usage") == "TLS Web Server Authentication, TLS Web Client Authentication");
  CHECK(field(items[0], "CA") == "no");
  CHECK(field(items[0], "SHA-256") == openssl_fingerprint(cert));
  CHECK(field(items[0], "SKI") == ski);
  CHECK(field(items[0], "AKI") == aki);
  CHECK(field(items[0], "Not before") == "2025-03-10T12:29:00Z");
  CHECK(field(items[0], "Not after") == "2026-03-10T12:29:00Z (in 364d 23h)");
}

TEST_CASE("inspect: CA certificates report is_ca, path_len and self_signed", "[inspect]") {
  struct Case {
    const char* what;
    int pathlen;
    bool zero;
    std::optional<int> want;
    const char* ca_text;
  };
  const Case cases[] = {
      {"no path length", 0, false, std::nullopt, "yes, self-signed"},
      {"path length 0", 0, true, 0, "yes, path length 0, self-signed"},
      {"path length 2", 2, false, 2, "yes, path length 2, self-signed"},
  };
  for (const auto& c : cases) {
    INFO(c.what);
    Ca ca = make_root(KeySpec{KeyAlgo::ecdsa, 256}, "pathlen-root", fixed_now(), c.pathlen, c.zero);
    auto items = inspect_data(ca.cert.to_pem(), "ca.pem", at_fixed_now());
    REQUIRE(items.size() == 1);
    Json j = Json::parse(items[0].json);
    CHECK(j.at("is_ca") == true);
    CHECK(j.at("self_signed") == true);
    if (c.want) {
      REQUIRE(j.contains("path_len"));
      CHECK(j.at("path_len") == *c.want);
    } else {
      CHECK_FALSE(j.contains("path_len"));
    }
    CHECK(j.at("usages") == Json::array({"cert sign", "crl sign"}));
    CHECK(j.at("subject_key_id") == colon_hex(ca.cert.subject_key_id()));
    CHECK(j.at("authority_key_id") == "");  // self-signed: no AKI, as Go writes roots
    CHECK(field(items[0], "AKI") == "(none)");
    CHECK(j.at("subject") == j.at("issuer"));
    CHECK(field(items[0], "CA") == c.ca_text);
    // No SANs on this CA: certinfo leaves "sans" out.
    CHECK_FALSE(j.contains("sans"));
    CHECK(field(items[0], "SANs") == "(none)");
  }
}

TEST_CASE("inspect: sigalg and signature_algorithm_name in Go's names", "[inspect]") {
  struct Case {
    const Ca* ca;
    const char* name;
  };
  const Case cases[] = {
      {&shared_root(), "ECDSAWithSHA256"},
      {&p384_root(), "ECDSAWithSHA384"},
      {&rsa_root(), "SHA256WithRSA"},
      {&ed25519_root(), "Ed25519"},
  };
  for (const auto& c : cases) {
    INFO(c.ca->cert.subject_string());
    // The root signs itself, and its leaves, with its own algorithm.
    CHECK(signature_algorithm_name(c.ca->cert) == c.name);
    Certificate leaf = simple_leaf(*c.ca, "sig-leaf");
    CHECK(signature_algorithm_name(leaf) == c.name);
    auto items = inspect_data(leaf.to_pem(), "leaf.pem", at_fixed_now());
    REQUIRE(items.size() == 1);
    CHECK(Json::parse(items[0].json).at("sigalg") == c.name);
    CHECK(field(items[0], "Signature") == c.name);
  }
  // The key of an RSA root is described too.
  auto rsa = inspect_data(rsa_root().cert.to_pem(), "rsa.pem", at_fixed_now());
  REQUIRE(rsa.size() == 1);
  Json j = Json::parse(rsa[0].json);
  CHECK(j.at("key") == "RSA-2048");
  CHECK(j.at("key_algorithm") == "RSA");
  CHECK(j.at("key_size") == 2048);
}

// ---------------------------------------------------------------------------------------------
// Text
// ---------------------------------------------------------------------------------------------

TEST_CASE("inspect: validity against a fixed clock", "[inspect]") {
  Certificate cert = etcd1_cert();  // 2025-03-10T12:29:00Z .. 2026-03-10T12:29:00Z
  struct Case {
    const char* now;
    const char* not_after_field;
    int64_t seconds_left;
  };
  const Case cases[] = {
      {"2025-03-10T11:29:00Z", "2026-03-10T12:29:00Z (NOT YET VALID: starts in 1h)", 8760LL * 3600 + 3600},
      {"2025-03-10T12:28:59Z", "2026-03-10T12:29:00Z (NOT YET VALID: starts in 1s)", 8760LL * 3600 + 1},
      {"2025-03-10T12:29:00Z", "2026-03-10T12:29:00Z (in 365d)", 8760LL * 3600},
      {"2026-03-09T12:29:00Z", "2026-03-10T12:29:00Z (in 1d)", 86400},
      {"2026-03-10T12:28:00Z", "2026-03-10T12:29:00Z (in 1m)", 60},
      {"2026-03-10T12:29:01Z", "2026-03-10T12:29:00Z (EXPIRED 1s ago)", -1},
      {"2026-03-12T14:29:00Z", "2026-03-10T12:29:00Z (EXPIRED 2d 2h ago)", -(2LL * 86400 + 7200)},
  };
  for (const auto& c : cases) {
    INFO("now " << c.now);
    InspectOptions o;
    o.now = at(c.now);
    auto items = inspect_data(cert.to_pem(), "etcd-1.pem", o);
    REQUIRE(items.size() == 1);
    CHECK(field(items[0], "Not after") == c.not_after_field);
    CHECK(Json::parse(items[0].json).at("seconds_left") == c.seconds_left);
    const std::string text = render_text(items);
    CHECK_THAT(text, StartsWith("etcd-1.pem: certificate\n"));
    CHECK(text_values(text, "Not after") == std::vector<std::string>{c.not_after_field});
  }
}

TEST_CASE("inspect: render_text says which certificate a private key matches", "[inspect]") {
  Certificate cert = etcd1_cert();
  auto cert_items = inspect_data(cert.to_pem(), "etcd-1.pem", at_fixed_now());
  auto key_items = inspect_data(shared_leaf_key().to_pem(), "etcd-1-key.pem", at_fixed_now());
  REQUIRE(key_items.size() == 1);
  CHECK(key_items[0].kind == ItemKind::private_key);

  // With its certificate.
  std::string text = render_text(concat(cert_items, key_items));
  CHECK_THAT(text, Contains("etcd-1.pem: certificate\n") && Contains("\n\netcd-1-key.pem: private key\n"));
  CHECK(text_values(text, "Matches") == std::vector<std::string>{"etcd-1.pem"});

  // Two certificates with the same key: both named, in order.
  auto copy_items = inspect_data(cert.to_pem(), "copy.pem", at_fixed_now());
  text = render_text(concat(concat(cert_items, copy_items), key_items));
  CHECK(text_values(text, "Matches") == std::vector<std::string>{"etcd-1.pem, copy.pem"});

  // With an unrelated certificate.
  static const KeyPair other_key = KeyPair::generate(KeySpec{KeyAlgo::ecdsa, 256});
  Certificate other = simple_leaf(shared_root(), "other", other_key);
  auto other_items = inspect_data(other.to_pem(), "other.pem", at_fixed_now());
  text = render_text(concat(other_items, key_items));
  CHECK(text_values(text, "Matches") == std::vector<std::string>{"none of the certificates given"});

  // The key in the same file as its certificate.
  auto both = inspect_data(cert.to_pem() + shared_leaf_key().to_pem(), "bundle.pem", at_fixed_now());
  CHECK(text_values(render_text(both), "Matches") == std::vector<std::string>{"bundle.pem"});

  // No certificate given: nothing to say.
  CHECK(text_values(render_text(key_items), "Matches").empty());

  // The key's own fields.
  CHECK(field(key_items[0], "Key") == "ECDSA P-256");
  CHECK(field(key_items[0], "Public key SHA-256") == cert_items[0].public_key_sha256);
  Json j = Json::parse(key_items[0].json);
  CHECK(j.at("type") == "private key");
  CHECK(j.at("public_key_sha256") == cert_items[0].public_key_sha256);

  // Fields are aligned: every value starts in the same column.
  std::istringstream in(render_text(cert_items));
  std::string line;
  std::set<size_t> columns;
  std::getline(in, line);  // "FILE: certificate"
  while (std::getline(in, line)) {
    size_t colon = line.find(": ");
    REQUIRE(colon != std::string::npos);
    columns.insert(line.find_first_not_of(' ', colon + 1));
  }
  CHECK(columns.size() == 1);
}

TEST_CASE("inspect: an encrypted private key is described, not an error", "[inspect]") {
  struct Case {
    const char* what;
    std::string pem;
    const char* label;
  };
  const Case cases[] = {
      {"PKCS#8 AES-256-CBC", encrypted_pkcs8(shared_leaf_key()), "-----BEGIN ENCRYPTED PRIVATE KEY-----"},
      {"traditional PEM with DEK-Info", encrypted_traditional(shared_leaf_key()), "-----BEGIN EC PRIVATE KEY-----"},
      {"RSA PKCS#8", encrypted_pkcs8(shared_rsa2048()), "-----BEGIN ENCRYPTED PRIVATE KEY-----"},
  };
  for (const auto& c : cases) {
    INFO(c.what);
    REQUIRE_THAT(c.pem, StartsWith(c.label));
    std::vector<InspectedItem> items;
    REQUIRE_NOTHROW(items = inspect_data(c.pem, "enc-key.pem", at_fixed_now()));
    REQUIRE(items.size() == 1);
    CHECK(items[0].kind == ItemKind::private_key);
    CHECK_THAT(field(items[0], "Key"), StartsWith("encrypted"));
    Json j = Json::parse(items[0].json);
    CHECK(j.at("type") == "private key");
    CHECK(j.at("encrypted") == true);
    CHECK(j.at("file") == "enc-key.pem");
    CHECK(items[0].public_key_sha256.empty());
  }
  // Next to a certificate: listed in order, and no claim about what it matches.
  auto items = inspect_data(etcd1_cert().to_pem() + encrypted_pkcs8(shared_leaf_key()), "pair.pem", at_fixed_now());
  REQUIRE(items.size() == 2);
  CHECK(items[1].kind == ItemKind::private_key);
  std::string text = render_text(items);
  CHECK_THAT(text, Contains("pair.pem: private key\n"));
  CHECK(text_values(text, "Key").back() == field(items[1], "Key"));
  CHECK(text_values(text, "Matches").empty());
}

// ---------------------------------------------------------------------------------------------
// DER, CSR and CRL
// ---------------------------------------------------------------------------------------------

TEST_CASE("inspect: DER certificates and CRLs are recognised", "[inspect]") {
  Certificate cert = etcd1_cert();
  auto from_der = inspect_data(der_of(cert), "etcd-1.der", at_fixed_now());
  auto from_pem = inspect_data(cert.to_pem(), "etcd-1.der", at_fixed_now());
  REQUIRE(from_der.size() == 1);
  CHECK(from_der[0].kind == ItemKind::certificate);
  CHECK(from_der[0].json == from_pem[0].json);
  CHECK(from_der[0].fields == from_pem[0].fields);

  Crl crl = crl_revoking(shared_root(), {"0A0B"}, fixed_now(), RevocationReason::key_compromise);
  auto crl_der = inspect_data(crl.to_der(), "ca.crl", at_fixed_now());
  auto crl_pem = inspect_data(crl.to_pem(), "ca.crl", at_fixed_now());
  REQUIRE(crl_der.size() == 1);
  CHECK(crl_der[0].kind == ItemKind::crl);
  CHECK(crl_der[0].json == crl_pem[0].json);
}

TEST_CASE("inspect: a DER CSR is recognised", "[inspect]") {
  // inspect.hpp: "every certificate, CSR, private or public key and CRL ... (PEM, or a single DER
  // object)"; lib/inspect.cpp's DER branch says "a certificate, a CRL or a CSR".
  Csr csr = Csr::create(etcd1_request(), shared_leaf_key());
  const std::string der = pem_decode(csr.to_pem()).der;
  std::vector<InspectedItem> items;
  try {
    items = inspect_data(der, "etcd-1.csr.der", at_fixed_now());
  } catch (const Error& e) {
    FAIL_CHECK("a DER CSR is refused: " << e.what());
  }
  REQUIRE(items.size() == 1);
  CHECK(items[0].kind == ItemKind::csr);
  CHECK(items[0].json == inspect_data(csr.to_pem(), "etcd-1.csr.der")[0].json);
}

TEST_CASE("inspect: CSR and CRL descriptions", "[inspect]") {
  Csr csr = Csr::create(etcd1_request(), shared_leaf_key());
  auto csr_items = inspect_data(csr.to_pem(), "etcd-1.csr");
  REQUIRE(csr_items.size() == 1);
  Json c = Json::parse(csr_items[0].json);
  CHECK(c.at("type") == "csr");
  CHECK(c.at("subject").at("common_name") == "etcd-1");
  CHECK(c.at("subject").at("names") ==
        Json::array({"US", "CA", "San Francisco", "etcd", "ops team", "storage", "etcd-1"}));
  CHECK(c.at("sans") == Json::array({"etcd-1.example", "etcd-1", "10.0.0.1", "::1"}));
  CHECK(c.at("is_ca") == false);
  CHECK(c.at("signature_valid") == true);
  CHECK(field(csr_items[0], "CA") == "no");

  Crl crl = crl_revoking(shared_root(), {"0A0B", "FF"}, at("2025-03-09T00:00:00Z"), RevocationReason::key_compromise);
  InspectOptions o = at_fixed_now();
  auto crl_items = inspect_data(crl.to_pem(), "ca-crl.pem", o);
  REQUIRE(crl_items.size() == 1);
  Json j = Json::parse(crl_items[0].json);
  CHECK(j.at("type") == "crl");
  CHECK(j.at("issuer").at("common_name") == "shared-test-root");
  CHECK(j.at("this_update") == "2025-03-10T12:34:29Z");
  CHECK(j.at("next_update") == "2025-03-17T12:34:29Z");
  CHECK(j.at("seconds_left") == 7 * 86400);
  CHECK(j.at("crl_number") == *crl.crl_number());
  CHECK(j.at("authority_key_id") == colon_hex(shared_root().cert.subject_key_id()));
  CHECK(j.at("sha256_fingerprint") == crl.sha256_fingerprint());
  REQUIRE(j.at("revoked").size() == 2);
  std::set<std::string> serials;
  for (const auto& r : j.at("revoked")) {
    serials.insert(r.at("serial_hex").get<std::string>());
    CHECK(r.at("revoked_at") == "2025-03-09T00:00:00Z");
    CHECK(r.at("reason") == "keyCompromise");
  }
  CHECK(serials == std::set<std::string>{"0A:0B", "FF"});
  CHECK_THAT(field(crl_items[0], "Revoked"), StartsWith("2: "));
  CHECK(field(crl_items[0], "Next update") == "2025-03-17T12:34:29Z (in 7d)");

  // A stale CRL says so.
  InspectOptions late;
  late.now = at("2025-03-18T12:34:29Z");
  auto stale = inspect_data(crl.to_pem(), "ca-crl.pem", late);
  CHECK(field(stale[0], "Next update") == "2025-03-17T12:34:29Z (STALE: 1d ago)");
}

// ---------------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------------

TEST_CASE("inspect: nothing recognisable is an input error naming the file", "[inspect]") {
  struct Case {
    const char* what;
    std::string data;
  };
  const Case cases[] = {
      {"empty", ""},
      {"text", "hello, world\n"},
      {"binary junk", std::string("\x30\x03\x02\x01\x05junk", 9)},
      {"PEM armour over nothing", "-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n"},
      {"JSON", "{\"cert\": \"not here\"}"},
  };
  for (const auto& c : cases) {
    INFO(c.what);
    Error e = catch_error([&] { inspect_data(c.data, "pki/mystery.pem"); });
    CHECK(e.category() == Errc::input);
    CHECK(e.source() == "pki/mystery.pem");
    CHECK_THAT(std::string(e.what()), Contains("pki/mystery.pem"));
  }

  // An unsupported PEM block is named.
  Error e = catch_error([&] { inspect_data(pem_encode("PKCS7", "xyz"), "bundle.p7b"); });
  CHECK(e.category() == Errc::input);
  CHECK_THAT(e.message(), Contains("unsupported PEM block \"PKCS7\""));
  CHECK(e.source() == "bundle.p7b");

  // A damaged certificate block names the file and the block.
  Error bad = catch_error([&] { inspect_data(pem_encode("CERTIFICATE", "not DER"), "bad.pem"); });
  CHECK(bad.category() == Errc::input);
  CHECK_THAT(std::string(bad.what()), Contains("bad.pem") && Contains("block 1"));

  // A file that does not exist.
  TempDir dir;
  Error missing = catch_error([&] { inspect_file(dir / "nope.pem"); });
  CHECK(missing.category() == Errc::input);
  CHECK_THAT(std::string(missing.what()), Contains(dir / "nope.pem"));

  // inspect_file reads what inspect_data reads.
  {
    std::ofstream out(dir / "ca.pem");
    out << shared_root().cert.to_pem();
  }
  auto items = inspect_file(dir / "ca.pem", at_fixed_now());
  REQUIRE(items.size() == 1);
  CHECK(items[0].file == dir / "ca.pem");
  CHECK(Json::parse(items[0].json).at("subject").at("common_name") == "shared-test-root");
}

// ---------------------------------------------------------------------------------------------
// Options: CA and CRL
// ---------------------------------------------------------------------------------------------

TEST_CASE("inspect: InspectOptions.ca checks certificate and CRL signatures", "[inspect]") {
  Certificate own = etcd1_cert();
  Certificate foreign = simple_leaf(foreign_root(), "foreign");
  Crl crl = crl_revoking(shared_root(), {"01"}, fixed_now(), RevocationReason::superseded);
  InspectOptions o = at_fixed_now();
  o.ca = shared_root().cert;

  auto items = inspect_data(own.to_pem() + foreign.to_pem() + crl.to_pem(), "mixed.pem", o);
  REQUIRE(items.size() == 3);
  CHECK(field(items[0], "Signed by CA") == "yes");
  CHECK(Json::parse(items[0].json).at("signed_by_ca") == true);
  CHECK(field(items[1], "Signed by CA") == "NO: not signed by " + shared_root().cert.subject_string());
  CHECK(Json::parse(items[1].json).at("signed_by_ca") == false);
  CHECK(field(items[2], "Signed by CA") == "yes");
  CHECK(Json::parse(items[2].json).at("signed_by_ca") == true);
  CHECK(text_values(render_text(items), "Signed by CA") ==
        std::vector<std::string>{"yes", "NO: not signed by " + shared_root().cert.subject_string(), "yes"});

  // Against the foreign root, the other way round.
  o.ca = foreign_root().cert;
  auto swapped = inspect_data(own.to_pem() + foreign.to_pem() + crl.to_pem(), "mixed.pem", o);
  CHECK_THAT(field(swapped[0], "Signed by CA"), StartsWith("NO: "));
  CHECK(field(swapped[1], "Signed by CA") == "yes");
  CHECK_THAT(field(swapped[2], "Signed by CA"), StartsWith("NO: "));

  // Without the option: no such field.
  auto plain = inspect_data(own.to_pem(), "own.pem", at_fixed_now());
  CHECK_FALSE(has_field(plain[0], "Signed by CA"));
}

TEST_CASE("inspect: InspectOptions.crl marks revoked certificates", "[inspect]") {
  Certificate revoked = simple_leaf(shared_root(), "revoked-client");
  Certificate fine = simple_leaf(shared_root(), "fine-client");
  REQUIRE(revoked.serial_hex() != fine.serial_hex());
  Crl crl = crl_revoking(shared_root(), {revoked.serial_hex()}, at("2025-03-11T08:00:00Z"), RevocationReason::key_compromise);
  InspectOptions o = at_fixed_now();
  o.crl = crl;

  auto items = inspect_data(revoked.to_pem() + fine.to_pem(), "clients.pem", o);
  REQUIRE(items.size() == 2);
  CHECK(field(items[0], "Revoked") == "REVOKED on 2025-03-11T08:00:00Z, keyCompromise");
  Json r = Json::parse(items[0].json);
  CHECK(r.at("revoked") == true);
  CHECK(r.at("revoked_at") == "2025-03-11T08:00:00Z");
  CHECK(field(items[1], "Revoked") == "no");
  Json f = Json::parse(items[1].json);
  CHECK(f.at("revoked") == false);
  CHECK_FALSE(f.contains("revoked_at"));

  // An entry without a reason.
  o.crl = crl_revoking(shared_root(), {revoked.serial_hex()}, at("2025-03-11T08:00:00Z"), RevocationReason::unspecified);
  auto no_reason = inspect_data(revoked.to_pem(), "r.pem", o);
  CHECK(field(no_reason[0], "Revoked") == "REVOKED on 2025-03-11T08:00:00Z");
}

// ---------------------------------------------------------------------------------------------
// JSON
// ---------------------------------------------------------------------------------------------

TEST_CASE("inspect: render_json gives an object for one item and an array for several", "[inspect]") {
  Certificate cert = etcd1_cert();
  auto one = inspect_data(cert.to_pem(), "etcd-1.pem", at_fixed_now());
  const std::string single = render_json(one);
  CHECK_THAT(single, EndsWith("}\n"));
  Json j1 = Json::parse(single);
  REQUIRE(j1.is_object());
  CHECK(j1 == Json::parse(one[0].json));
  CHECK(j1.at("subject").at("common_name") == "etcd-1");

  auto two = inspect_data(cert.to_pem() + shared_leaf_key().to_pem(), "pair.pem", at_fixed_now());
  Json j2 = Json::parse(render_json(two));
  REQUIRE(j2.is_array());
  REQUIRE(j2.size() == 2);
  CHECK(j2[0] == Json::parse(two[0].json));
  CHECK(j2[1].at("type") == "private key");
  CHECK(j2[1].at("public_key_sha256") == j2[0].at("public_key_sha256"));
}

TEST_CASE("inspect --json: bytes that are not UTF-8 (a file name, a certificate field) become U+FFFD", "[inspect]") {
  // nlohmann's dump threw type_error 316 on them (found by fuzz_inspect; the input is in
  // tests/data/fuzz-regressions/fuzz_inspect/). Go's encoding/json writes U+FFFD too.
  auto items = inspect_data(etcd1_cert().to_pem(), "bad\xff\xfe.pem", at_fixed_now());
  std::string json = render_json(items);
  CHECK_THAT(json, Contains("\"bad\xef\xbf\xbd\xef\xbf\xbd.pem\""));
  CHECK_NOTHROW(nlohmann::json::parse(json));
  // Its certificates, without the damaged CSR after them (an error of its own).
  std::string fuzz_input = read_fixture("fuzz-regressions/fuzz_inspect/invalid-utf8-in-certificate.pem");
  auto again = inspect_data(fuzz_input.substr(0, fuzz_input.find("-----BEGIN CERTIFICATE REQUEST")), "fuzzed.pem", at_fixed_now());
  REQUIRE_FALSE(again.empty());
  std::string fuzzed = render_json(again);
  CHECK_THAT(fuzzed, Contains("\xef\xbf\xbd"));
  CHECK_NOTHROW(nlohmann::json::parse(fuzzed));
}
