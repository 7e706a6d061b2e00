// csr.hpp: PKCS#10 requests in cfssl's shape: subject order and string types, SANs, CA requests.
#include <openssl/objects.h>

#include "support.hpp"

using namespace test;

namespace {

const char* kEmailOid = "1.2.840.113549.1.9.1";

// One RDN entry as read from the DER: attribute NID (or dotted OID), RDN index, string type, value.
struct Rdn {
  std::string type;
  int set;
  int asn1_type;
  std::string value;
  bool operator==(const Rdn&) const = default;
};

std::ostream& operator<<(std::ostream& os, const Rdn& r) {
  return os << "{" << r.type << ", set " << r.set << ", asn1 " << r.asn1_type << ", " << r.value << "}";
}

std::vector<Rdn> rdns(const X509_NAME* name) {
  std::vector<Rdn> out;
  for (int i = 0; i < X509_NAME_entry_count(name); ++i) {
    const X509_NAME_ENTRY* e = X509_NAME_get_entry(name, i);
    const ASN1_OBJECT* obj = X509_NAME_ENTRY_get_object(e);
    int nid = OBJ_obj2nid(obj);
    char buf[80];
    OBJ_obj2txt(buf, sizeof buf, obj, 1);
    const ASN1_STRING* d = X509_NAME_ENTRY_get_data(e);
    out.push_back({nid != NID_undef ? OBJ_nid2sn(nid) : buf, X509_NAME_ENTRY_set(e), ASN1_STRING_type(d),
                   std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(d)),
                               static_cast<size_t>(ASN1_STRING_length(d)))});
  }
  return out;
}

// The CSR as a relying party sees it: written out and read back.
Csr reparsed(const Csr& csr) { return Csr::from_pem(csr.to_pem()); }

constexpr int P = V_ASN1_PRINTABLESTRING;
constexpr int U = V_ASN1_UTF8STRING;

struct ExtInfo {
  bool present = false;
  bool critical = false;
};

ExtInfo csr_ext(const Csr& csr, int nid) {
  ExtInfo info;
  STACK_OF(X509_EXTENSION)* exts = X509_REQ_get_extensions(csr.native_handle());
  for (int i = 0; exts && i < sk_X509_EXTENSION_num(exts); ++i) {
    X509_EXTENSION* ext = sk_X509_EXTENSION_value(exts, i);
    if (OBJ_obj2nid(X509_EXTENSION_get_object(ext)) == nid) {
      info.present = true;
      info.critical = X509_EXTENSION_get_critical(ext) != 0;
    }
  }
  sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
  return info;
}

}  // namespace

TEST_CASE("Csr: TV12 Kubernetes groups form one multi-valued, DER-sorted O RDN", "[csr]") {
  Request req = Request::from_json(
      R"({"CN":"system:node:worker-1","names":[{"O":"Zeta-longer"},{"O":"system:nodes"},{"O":"Alpha"}]})");
  Csr csr = reparsed(Csr::create(req, shared_leaf_key()));
  std::vector<Rdn> expect = {
      {"O", 0, P, "Alpha"},
      {"O", 0, P, "Zeta-longer"},
      {"O", 0, P, "system:nodes"},
      {"CN", 1, P, "system:node:worker-1"},
  };
  CHECK(rdns(X509_REQ_get_subject_name(csr.native_handle())) == expect);
  CHECK(csr.subject().organization == std::vector<std::string>{"Alpha", "Zeta-longer", "system:nodes"});
  CHECK(csr.subject().common_name == "system:node:worker-1");
  // No hosts: no SAN extension, and no extensions at all.
  CHECK_FALSE(csr_ext(csr, NID_subject_alt_name).present);
  CHECK(csr.sans().empty());
  CHECK_FALSE(csr.basic_constraints().has_value());
}

TEST_CASE("Csr: a fresh CSR reports the subject its DER carries", "[csr]") {
  Request req = Request::from_json(R"({"CN":"n","names":[{"O":"Zeta-longer"},{"O":"system:nodes"},{"O":"Alpha"}]})");
  Csr fresh = Csr::create(req, shared_leaf_key());
  CHECK(fresh.subject() == reparsed(fresh).subject());
  CHECK(fresh.to_pem() == reparsed(fresh).to_pem());
}

TEST_CASE("Csr: subject in cfssl's fixed RDN order, one RDN per type", "[csr]") {
  Subject s;
  // Filled in a different order than it is encoded.
  s.extra = {{kEmailOid, "ca@example.com"}, {"1.2.3.4", "custom"}};
  s.serial_number = "SN-123";
  s.common_name = "etcd-ca";
  s.org_unit = {"Unit1", "Unit2"};
  s.organization = {"Org1", "Org2"};
  s.postal_code = {"94107"};
  s.street = {"1 Main St"};
  s.locality = {"San Francisco"};
  s.province = {"California"};
  s.country = {"US"};
  Csr csr = reparsed(Csr::create(s, Sans{}, shared_leaf_key()));
  std::vector<Rdn> expect = {
      {"C", 0, P, "US"},
      {"ST", 1, P, "California"},
      {"L", 2, P, "San Francisco"},
      {"street", 3, P, "1 Main St"},
      {"postalCode", 4, P, "94107"},
      {"O", 5, P, "Org1"},
      {"O", 5, P, "Org2"},
      {"OU", 6, P, "Unit1"},
      {"OU", 6, P, "Unit2"},
      {"CN", 7, P, "etcd-ca"},
      {"serialNumber", 8, P, "SN-123"},
      {"emailAddress", 9, U, "ca@example.com"},  // '@' is not printable: UTF8String, as Go
      {"1.2.3.4", 10, P, "custom"},
  };
  CHECK(rdns(X509_REQ_get_subject_name(csr.native_handle())) == expect);
  CHECK(csr.subject() == s);  // decoding gives the same model back
}

TEST_CASE("Csr: PrintableString when Go allows it, else UTF8String", "[csr]") {
  struct Case {
    const char* value;
    int type;
  };
  const Case cases[] = {
      {"system:node:worker-1", P},
      {"Private Cloud", P},
      {"A-Z a-z 0-9 '()+,-./:=?", P},
      {"etcd_1", U},
      {"*.example.com", U},
      {"Acme & Sons", U},
      {"e@x", U},
      {"semi;colon", U},
      {"quote\"d", U},
      {"caf\xC3\xA9", U},
      {"M\xC3\xBCnchen", U},
  };
  for (const auto& c : cases) {
    INFO(c.value);
    Subject s;
    s.common_name = c.value;
    Csr csr = reparsed(Csr::create(s, Sans{}, shared_leaf_key()));
    auto got = rdns(X509_REQ_get_subject_name(csr.native_handle()));
    REQUIRE(got.size() == 1);
    CHECK(got[0].asn1_type == c.type);
    CHECK(got[0].value == c.value);
    CHECK(csr.subject().common_name == c.value);
  }
}

TEST_CASE("Csr: SANs from hosts, encoded DNS, email, IP, URI", "[csr]") {
  std::vector<std::string> hosts = {"spiffe://cluster.local/ns/default/sa/x", "a@b.com", "1.2.3.4", "::ffff:1.2.3.4",
                                    "2001:db8::1", "*.example.com", "localhost:8080", "etcd_1", "", " 10.0.0.0/8 "};
  Request req;
  req.subject.common_name = "sans";
  req.hosts = hosts;
  Csr csr = reparsed(Csr::create(req, shared_leaf_key()));
  CHECK(csr.sans() == classify_hosts(hosts));
  CHECK(csr.sans().to_string() ==
        "DNS:*.example.com, DNS:etcd_1, DNS:10.0.0.0/8, email:a@b.com, IP:1.2.3.4, IP:1.2.3.4, IP:2001:db8::1, "
        "URI:spiffe://cluster.local/ns/default/sa/x, URI:localhost:8080");
  REQUIRE(csr.sans().ip.size() == 3);
  CHECK(csr.sans().ip[1].bytes.size() == 4);
  CHECK(csr.sans().ip[2].bytes.size() == 16);

  // The raw GeneralNames order: all DNS, then email, then IP, then URI.
  STACK_OF(X509_EXTENSION)* exts = X509_REQ_get_extensions(csr.native_handle());
  REQUIRE(exts != nullptr);
  auto* names = static_cast<GENERAL_NAMES*>(X509V3_get_d2i(exts, NID_subject_alt_name, nullptr, nullptr));
  sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
  REQUIRE(names != nullptr);
  std::vector<int> types;
  for (int i = 0; i < sk_GENERAL_NAME_num(names); ++i) types.push_back(sk_GENERAL_NAME_value(names, i)->type);
  GENERAL_NAMES_free(names);
  CHECK(types == std::vector<int>{GEN_DNS, GEN_DNS, GEN_DNS, GEN_EMAIL, GEN_IPADD, GEN_IPADD, GEN_IPADD, GEN_URI, GEN_URI});

  // With a subject, the SAN extension is not critical.
  CHECK(csr_ext(csr, NID_subject_alt_name).present);
  CHECK_FALSE(csr_ext(csr, NID_subject_alt_name).critical);
}

TEST_CASE("Csr: with an empty subject the SAN extension is critical", "[csr]") {
  Csr csr = reparsed(Csr::create(Request::from_json(R"({"hosts":["nosubj.example"]})"), shared_leaf_key()));
  CHECK(csr.subject().empty());
  CHECK(X509_NAME_entry_count(X509_REQ_get_subject_name(csr.native_handle())) == 0);
  CHECK(csr.sans().dns == std::vector<std::string>{"nosubj.example"});
  CHECK(csr_ext(csr, NID_subject_alt_name).critical);
}

TEST_CASE("Csr: no hosts and no ca block means no extension request content", "[csr]") {
  Csr csr = reparsed(Csr::create(Request::from_json(R"({})"), shared_leaf_key()));
  CHECK(X509_REQ_get_version(csr.native_handle()) == 0);
  CHECK(X509_REQ_get_attr_count(csr.native_handle()) == 0);
  CHECK(csr.sans().empty());
  CHECK_FALSE(csr.basic_constraints().has_value());
}

TEST_CASE("Csr: a request with a ca block gets a critical BasicConstraints CA:TRUE", "[csr]") {
  struct Case {
    const char* json;
    std::optional<int> path_len;
  };
  const Case cases[] = {
      {R"({"CN":"ca","ca":{}})", std::nullopt},
      {R"({"CN":"ca","ca":{"pathlen":0}})", std::nullopt},  // 0 without pathlenzero: unlimited
      {R"({"CN":"ca","ca":{"pathlen":0,"pathlenzero":true}})", 0},
      {R"({"CN":"ca","ca":{"pathlen":1}})", 1},
      {R"({"CN":"ca","ca":{"pathlen":2,"pathlenzero":true}})", 2},
      {R"({"CN":"ca","ca":{"pathlen":-3}})", std::nullopt},
  };
  for (const auto& c : cases) {
    INFO(c.json);
    Csr csr = reparsed(Csr::create(Request::from_json(c.json), shared_leaf_key()));
    auto bc = csr.basic_constraints();
    REQUIRE(bc.has_value());
    CHECK(bc->is_ca);
    CHECK(bc->path_len == c.path_len);
    CHECK(csr_ext(csr, NID_basic_constraints).critical);
  }
}

TEST_CASE("Csr: TV3 CSR keeps every host and the CA constraint", "[csr]") {
  Request req = Request::from_json(
      R"({"CN":"etcd-ca","hosts":["ca.example.com","10.0.0.1","admin@example.com","spiffe://cluster.local/ca"],
          "ca":{"expiry":"87600h","pathlen":1}})");
  Csr csr = reparsed(Csr::create(req, shared_leaf_key()));
  CHECK(csr.sans().to_string() == "DNS:ca.example.com, email:admin@example.com, IP:10.0.0.1, URI:spiffe://cluster.local/ca");
  REQUIRE(csr.basic_constraints().has_value());
  CHECK(csr.basic_constraints()->path_len == 1);
}

TEST_CASE("Csr::create with explicit subject, SANs and constraints", "[csr]") {
  Subject s;
  s.common_name = "inter";
  Sans sans = classify_hosts({"inter.example.com", "10.9.9.9"});
  Csr csr = reparsed(Csr::create(s, sans, shared_leaf_key(), CsrBasicConstraints{true, 3}));
  CHECK(csr.sans() == sans);
  REQUIRE(csr.basic_constraints().has_value());
  CHECK(csr.basic_constraints()->is_ca);
  CHECK(csr.basic_constraints()->path_len == 3);

  Csr not_ca = reparsed(Csr::create(s, sans, shared_leaf_key(), CsrBasicConstraints{false, std::nullopt}));
  REQUIRE(not_ca.basic_constraints().has_value());
  CHECK_FALSE(not_ca.basic_constraints()->is_ca);
}

TEST_CASE("Csr: an invalid extra OID is Errc::input", "[csr]") {
  Subject s;
  s.common_name = "x";
  s.extra = {{"not-an-oid", "v"}};
  Error e = catch_error([&] { Csr::create(s, Sans{}, shared_leaf_key()); });
  CHECK(e.category() == Errc::input);
  CHECK_THAT(e.message(), Contains("invalid OID not-an-oid"));
}

TEST_CASE("Csr: signed with the hash cfssl picks from the key", "[csr]") {
  struct Case {
    KeySpec spec;
    int sig_nid;
  };
  const Case cases[] = {
      {{KeyAlgo::ecdsa, 256}, NID_ecdsa_with_SHA256},
      {{KeyAlgo::ecdsa, 384}, NID_ecdsa_with_SHA384},
      {{KeyAlgo::ecdsa, 521}, NID_ecdsa_with_SHA512},
      {{KeyAlgo::ed25519, 0}, NID_ED25519},
      {{KeyAlgo::rsa, 2048}, NID_sha256WithRSAEncryption},
  };
  for (const auto& c : cases) {
    INFO(c.spec.to_string());
    KeyPair key = c.spec.algo == KeyAlgo::rsa ? shared_rsa2048() : KeyPair::generate(c.spec);
    Csr csr = reparsed(leaf_csr("sig", {"a.example"}, key));
    CHECK(X509_REQ_get_signature_nid(csr.native_handle()) == c.sig_nid);
    CHECK(csr.public_key().same_public_key(key));
    CHECK(csr.public_key().spec() == c.spec);
  }
}

TEST_CASE("Csr::from_pem round-trips and accepts NEW CERTIFICATE REQUEST", "[csr]") {
  Csr orig = leaf_csr("round", {"r.example", "10.1.2.3"});
  std::string pem = orig.to_pem();
  CHECK(first_line(pem) == "-----BEGIN CERTIFICATE REQUEST-----");
  Csr back = Csr::from_pem(pem, "r.csr");
  CHECK(back.to_pem() == pem);
  CHECK(back.subject().common_name == "round");
  CHECK(back.sans() == orig.sans());
  CHECK(back.public_key().same_public_key(shared_leaf_key()));

  Csr old_label = Csr::from_pem(pem_encode("NEW CERTIFICATE REQUEST", pem_decode(pem).der));
  CHECK(old_label.to_pem() == pem);

  // Text before the PEM block is skipped.
  CHECK(Csr::from_pem("Certificate Request:\n  Data: ...\n" + pem).to_pem() == pem);
}

TEST_CASE("Csr::from_pem verifies the signature", "[csr]") {
  std::string pem = leaf_csr("tamper-me", {"t.example"}).to_pem();
  PemBlock b = pem_decode(pem);
  auto pos = b.der.find("tamper-me");
  REQUIRE(pos != std::string::npos);
  b.der[pos + 7] = 'y';  // "tamper-ye": still a valid PrintableString, but no longer what was signed
  std::string tampered = pem_encode("CERTIFICATE REQUEST", b.der);
  Error e = catch_error([&] { Csr::from_pem(tampered, "evil.csr"); });
  CHECK(e.category() == Errc::csr);
  CHECK(e.source() == "evil.csr");
  CHECK_THAT(e.message(), Contains("signature does not verify"));
  CHECK(ERR_peek_error() == 0);

  // The untampered one still reads.
  CHECK_NOTHROW(Csr::from_pem(pem));
}

TEST_CASE("Csr::from_pem refuses what is not a CSR", "[csr]") {
  struct Case {
    std::string pem;
    const char* expect;
  };
  const Case cases[] = {
      {shared_root().cert.to_pem(), "not a CSR: found a PEM \"CERTIFICATE\" block"},
      {shared_leaf_key().to_pem(), "not a CSR: found a PEM \"EC PRIVATE KEY\" block"},
      {"", "no PEM \"CERTIFICATE REQUEST\" found"},
      {"{\"CN\":\"x\"}", "no PEM \"CERTIFICATE REQUEST\" found"},
      {pem_encode("CERTIFICATE REQUEST", "\x30\x03\x02\x01\x00"), "cannot parse the certificate request"},
  };
  for (const auto& c : cases) {
    INFO(c.expect);
    Error e = catch_error([&] { Csr::from_pem(c.pem, "in.csr"); });
    CHECK(e.category() == Errc::csr);
    CHECK(e.source() == "in.csr");
    CHECK_THAT(e.message(), StartsWith(c.expect));
  }
}

TEST_CASE("Csr: a subject value that is not UTF-8, has a control character or is huge is Errc::input", "[csr]") {
  // Subjects built in code skip Request::from_json's checks; encoding refuses them instead of
  // writing a UTF8String that is not UTF-8 or a CN with a NUL inside.
  struct Case {
    std::string value;
    const char* message;
  };
  const Case cases[] = {
      {"\xff\xfe", "subject CN: not valid UTF-8"},
      {"\xc0\x80", "subject CN: not valid UTF-8"},        // overlong NUL
      {"\xed\xa0\x80", "subject CN: not valid UTF-8"},    // surrogate
      {std::string("www.bank.com\0.evil.com", 22), "subject CN: contains the control character U+0000 at byte 13"},
      {std::string(1025, 'a'), "subject CN: too long (1025 bytes; at most 1024)"},
  };
  for (const auto& c : cases) {
    Subject s;
    s.common_name = c.value;
    Error e = catch_error([&] { Csr::create(s, Sans{}, shared_leaf_key()); });
    CHECK(e.category() == Errc::input);
    CHECK(e.message() == c.message);
  }
  Subject o;
  o.organization = {"ok", "bad\x01"};
  CHECK(catch_error([&] { Csr::create(o, Sans{}, shared_leaf_key()); }).message() ==
        "subject O: contains the control character U+0001 at byte 4");
  Subject big;
  big.org_unit.assign(100, std::string(1000, 'u'));
  CHECK_THAT(catch_error([&] { Csr::create(big, Sans{}, shared_leaf_key()); }).message(),
             StartsWith("the subject is too large ("));
  Subject fine;
  fine.common_name = "Bücher GmbH \xe2\x82\xac";
  CHECK(Csr::create(fine, Sans{}, shared_leaf_key()).subject().common_name == fine.common_name);
}

TEST_CASE("Csr: a SAN with a control character, non-ASCII or an overlong DNS label is Errc::input", "[csr]") {
  Subject s;
  s.common_name = "x";
  Sans dns;
  dns.dns = {std::string("a\0b.example", 11)};
  CHECK(std::string(catch_error([&] { Csr::create(s, dns, shared_leaf_key()); }).what()) ==
        "invalid DNS SAN \"a\\x00b.example\": contains the control character U+0000 at byte 2");
  Sans email;
  email.email = {"x@b\xc3\xbc" "cher.example"};
  CHECK_THAT(catch_error([&] { Csr::create(s, email, shared_leaf_key()); }).message(),
             StartsWith("invalid email SAN") && Contains("non-ASCII"));
  Sans label;
  label.dns = {std::string(64, 'l') + ".example"};
  Error e = catch_error([&] { Csr::create(s, label, shared_leaf_key()); });
  CHECK(e.category() == Errc::input);
  CHECK_THAT(e.message(), Contains("is longer than 63 characters"));
}
