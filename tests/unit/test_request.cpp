// request.hpp: cfssl CSR JSON, read strictly.
#include "support.hpp"

using namespace test;

namespace {
const char* kEmail = "1.2.840.113549.1.9.1";
}

TEST_CASE("Request::from_json reads cfssl TV3 completely", "[request]") {
  const char* json = R"({"CN":"etcd-ca","hosts":["ca.example.com","10.0.0.1","admin@example.com","spiffe://cluster.local/ca"],
 "key":{"algo":"rsa","size":2048},
 "names":[{"C":"US","ST":"California","L":"San Francisco","O":"Org1","OU":"Unit1"},
          {"O":"Org2","OU":"Unit2","E":"ca@example.com"}],
 "serialnumber":"SN-123","ca":{"expiry":"87600h","pathlen":1}})";
  Request r = Request::from_json(json, "tv3.json");
  CHECK(r.subject.common_name == "etcd-ca");
  CHECK(r.subject.country == std::vector<std::string>{"US"});
  CHECK(r.subject.province == std::vector<std::string>{"California"});
  CHECK(r.subject.locality == std::vector<std::string>{"San Francisco"});
  CHECK(r.subject.organization == std::vector<std::string>{"Org1", "Org2"});
  CHECK(r.subject.org_unit == std::vector<std::string>{"Unit1", "Unit2"});
  CHECK(r.subject.serial_number == "SN-123");
  REQUIRE(r.subject.extra.size() == 1);
  CHECK(r.subject.extra[0] == Subject::Attribute{kEmail, "ca@example.com"});
  CHECK(r.subject.street.empty());
  CHECK(r.subject.postal_code.empty());
  CHECK(r.hosts == std::vector<std::string>{"ca.example.com", "10.0.0.1", "admin@example.com", "spiffe://cluster.local/ca"});
  CHECK(r.key == KeySpec{KeyAlgo::rsa, 2048});
  REQUIRE(r.ca.has_value());
  REQUIRE(r.ca->expiry.has_value());
  CHECK(r.ca->expiry->count() == 87600LL * 3600);
  CHECK(r.ca->pathlen == 1);
  CHECK_FALSE(r.ca->pathlenzero);
  CHECK_FALSE(r.ca->backdate.has_value());
  CHECK(r.crl_url.empty());
  CHECK(r.warnings.empty());
}

TEST_CASE("Request::from_json reads the seed fixtures", "[request]") {
  Request r = Request::from_json(read_fixture("fixtures/seed-etcd-single/etcd-csr.json"), "etcd-csr.json");
  CHECK(r.subject.common_name == "etcd");
  CHECK(r.hosts == std::vector<std::string>{"127.0.0.1", "10.20.13.10", "10.20.13.11", "10.20.13.12"});
  CHECK(r.key == KeySpec{KeyAlgo::rsa, 2048});
  CHECK(r.subject.country == std::vector<std::string>{"CN"});
  CHECK(r.subject.locality == std::vector<std::string>{"beijing"});
  CHECK(r.subject.province == std::vector<std::string>{"BeiJing"});
  CHECK(r.subject.organization == std::vector<std::string>{"ETCD"});
  CHECK(r.subject.org_unit == std::vector<std::string>{"System"});
  CHECK_FALSE(r.ca.has_value());

  // client.json has "hosts": [""]: kept as written, with a warning (dropped when classified).
  Request c = Request::from_json(read_fixture("fixtures/seed-per-host/client.json"), "client.json");
  CHECK(c.hosts == std::vector<std::string>{""});
  REQUIRE(c.warnings.size() == 1);
  CHECK_THAT(c.warnings[0], Contains("hosts[0]: empty entry dropped"));
  CHECK(c.key == KeySpec{KeyAlgo::ecdsa, 256});
  CHECK(classify_hosts(c.hosts).empty());
}

TEST_CASE("Request keys match case-insensitively, as Go's encoding/json", "[request]") {
  const char* json = R"({"cn":"x","Hosts":["a.example"],"KEY":{"Algo":"ecdsa","SIZE":384},
                         "NAMES":[{"c":"US","o":"Org","Ou":"U","st":"CA","l":"SF"}],"SerialNumber":"7","Ca":{"EXPIRY":"1h","PathLen":2}})";
  Request r = Request::from_json(json);
  CHECK(r.subject.common_name == "x");
  CHECK(r.hosts == std::vector<std::string>{"a.example"});
  CHECK(r.key == KeySpec{KeyAlgo::ecdsa, 384});
  CHECK(r.subject.country == std::vector<std::string>{"US"});
  CHECK(r.subject.organization == std::vector<std::string>{"Org"});
  CHECK(r.subject.org_unit == std::vector<std::string>{"U"});
  CHECK(r.subject.province == std::vector<std::string>{"CA"});
  CHECK(r.subject.locality == std::vector<std::string>{"SF"});
  CHECK(r.subject.serial_number == "7");
  REQUIRE(r.ca.has_value());
  CHECK(r.ca->expiry == Seconds(3600));
  CHECK(r.ca->pathlen == 2);
}

TEST_CASE("Request key block: defaults and cfssl's key spec rules", "[request]") {
  struct Case {
    const char* json;
    KeySpec expect;
  };
  const Case cases[] = {
      {R"({})", {KeyAlgo::ecdsa, 256}},
      {R"({"key":null})", {KeyAlgo::ecdsa, 256}},
      {R"({"key":{}})", {KeyAlgo::ecdsa, 256}},
      {R"({"key":{"algo":"ecdsa"}})", {KeyAlgo::ecdsa, 256}},
      {R"({"key":{"size":384}})", {KeyAlgo::ecdsa, 384}},  // cfssl pre-fills algo ecdsa
      {R"({"key":{"algo":"ecdsa","size":521}})", {KeyAlgo::ecdsa, 521}},
      {R"({"key":{"algo":"rsa"}})", {KeyAlgo::rsa, 2048}},  // deliberate: cfssl fails ("too weak")
      {R"({"key":{"algo":"rsa","size":4096}})", {KeyAlgo::rsa, 4096}},
      {R"({"key":{"algo":"ed25519"}})", {KeyAlgo::ed25519, 0}},
      {R"({"key":{"algo":"ed25519","size":256}})", {KeyAlgo::ed25519, 0}},
  };
  for (const auto& c : cases) {
    INFO(c.json);
    CHECK(Request::from_json(c.json).key == c.expect);
  }
}

TEST_CASE("Request key block errors are Errc::key with cfssl's wording", "[request]") {
  struct Case {
    const char* json;
    const char* message;
    const char* field;
  };
  const Case cases[] = {
      {R"({"key":{"algo":"rsa","size":1024}})", "RSA key is too weak", "key.size"},
      {R"({"key":{"algo":"rsa","size":2047}})", "RSA key is too weak", "key.size"},
      {R"({"key":{"algo":"rsa","size":16384}})", "RSA key size too large", "key.size"},
      {R"({"key":{"algo":"ecdsa","size":224}})", "invalid curve", "key.size"},
      {R"({"key":{"algo":"RSA","size":2048}})", "invalid algorithm", "key.algo"},
      {R"({"key":{"algo":"dsa"}})", "invalid algorithm", "key.algo"},
      {R"({"key":{"algo":"rsa","size":-5}})", "invalid key size", "key.size"},
      {R"({"key":{"algo":"rsa","size":99999999}})", "invalid key size", "key.size"},
  };
  for (const auto& c : cases) {
    INFO(c.json);
    Error e = catch_error([&] { Request::from_json(c.json, "k.json"); });
    CHECK(e.category() == Errc::key);
    CHECK_THAT(e.message(), StartsWith(c.message));
    CHECK(e.field() == c.field);
    CHECK(e.source() == "k.json");
  }
}

TEST_CASE("Request: an unknown top-level key is an error with a hint", "[request]") {
  SECTION("\"name\" instead of \"names\" (cfssl#1405)") {
    Error e = catch_error([] { Request::from_json(R"({"CN":"x","name":[{"O":"y"}]})", "etcd-csr.json"); });
    CHECK(e.category() == Errc::input);
    CHECK(e.source() == "etcd-csr.json");
    CHECK(e.field() == "name");
    CHECK_THAT(e.message(), Contains("unknown field \"name\""));
    CHECK_THAT(e.message(), Contains("did you mean \"names\""));
  }
  SECTION("\"host\" instead of \"hosts\"") {
    Error e = catch_error([] { Request::from_json(R"({"host":["a"]})"); });
    CHECK(e.field() == "host");
    CHECK_THAT(e.message(), Contains("did you mean \"hosts\""));
  }
  SECTION("a key far from every field lists the known fields") {
    Error e = catch_error([] { Request::from_json(R"({"zzzzzzzzzz":1})"); });
    CHECK(e.category() == Errc::input);
    CHECK_THAT(e.message(), Contains("known fields:"));
    CHECK_THAT(e.message(), Contains("names"));
    CHECK_THAT(e.message(), Contains("hosts"));
  }
  SECTION("\"expire\" inside ca (cfssl#1020)") {
    Error e = catch_error([] { Request::from_json(R"({"CN":"x","ca":{"expire":"87600h"}})"); });
    CHECK(e.category() == Errc::input);
    CHECK(e.field() == "ca.expire");
    CHECK_THAT(e.message(), Contains("did you mean \"expiry\""));
  }
  SECTION("unknown key in the key block") {
    Error e = catch_error([] { Request::from_json(R"({"key":{"algo":"rsa","bits":2048}})"); });
    CHECK(e.field() == "key.bits");
    CHECK_THAT(e.message(), Contains("unknown field \"bits\""));
  }
}

TEST_CASE("Request: CN inside names[] is an error (cfssl#884)", "[request]") {
  Error e = catch_error([] { Request::from_json(R"({"names":[{"O":"etcd"},{"CN":"etcd-server"}]})", "s.json"); });
  CHECK(e.category() == Errc::input);
  CHECK(e.source() == "s.json");
  CHECK(e.field() == "names[1].CN");
  CHECK_THAT(e.message(), Contains("unknown field \"CN\""));
  CHECK_THAT(e.message(), Contains("top level"));
  CHECK_THAT(e.message(), !Contains("did you mean \"C\""));  // not the misleading near match
  Error lower = catch_error([] { Request::from_json(R"({"names":[{"O":"etcd","cn":"x"}]})"); });
  CHECK(lower.field() == "names[0].cn");
  CHECK_THAT(lower.message(), Contains("top level"));
}

TEST_CASE("Request: a key given twice (in any case) is an error", "[request]") {
  Error e = catch_error([] { Request::from_json(R"({"CN":"a","cn":"b"})"); });
  CHECK(e.category() == Errc::input);
  CHECK_THAT(e.message(), Contains("given twice"));
  CHECK(e.field() == "CN");
}

TEST_CASE("Request: wrong JSON types name the field", "[request]") {
  struct Case {
    const char* json;
    const char* field;
    const char* message;
  };
  const Case cases[] = {
      {R"({"CN":5})", "CN", "expected a string, found integer"},
      {R"({"CN":["x"]})", "CN", "expected a string, found array"},
      {R"({"serialnumber":1.5})", "serialnumber", "expected a string, found number"},
      {R"({"hosts":"a.example"})", "hosts", "expected an array of strings, found string"},
      {R"({"hosts":["a",1]})", "hosts[1]", "expected a string, found integer"},
      {R"({"names":{"O":"x"}})", "names", "expected an array of objects, found object"},
      {R"({"names":["O=x"]})", "names[0]", "expected a JSON object, found string"},
      {R"({"names":[{"O":7}]})", "names[0].O", "expected a string, found integer"},
      {R"({"names":[{"OID":"1.2.3"}]})", "names[0].OID", "expected an object"},
      {R"({"names":[{"OID":{"1.2.3":4}}]})", "names[0].OID", "must be a string"},
      {R"({"key":"rsa"})", "key", "expected a JSON object, found string"},
      {R"({"key":{"algo":"rsa","size":"2048"}})", "key.size", "expected an integer, found string"},
      {R"({"key":{"algo":"rsa","size":2048.5}})", "key.size", "expected an integer, found number"},
      {R"({"ca":true})", "ca", "expected a JSON object, found boolean"},
      {R"({"ca":{"pathlen":"1"}})", "ca.pathlen", "expected an integer, found string"},
      {R"({"ca":{"pathlenzero":1}})", "ca.pathlenzero", "expected true or false, found integer"},
      {R"({"ca":{"expiry":8760}})", "ca.expiry", "expected a string, found integer"},
      {R"({"crl_url":false})", "crl_url", "expected a string, found boolean"},
      {R"([])", "(top level)", "expected a JSON object, found array"},
      {R"("x")", "(top level)", "expected a JSON object, found string"},
  };
  for (const auto& c : cases) {
    INFO(c.json);
    Error e = catch_error([&] { Request::from_json(c.json, "t.json"); });
    CHECK(e.category() == Errc::input);
    CHECK(e.source() == "t.json");
    CHECK(e.field() == c.field);
    CHECK_THAT(e.message(), Contains(c.message));
  }
}

TEST_CASE("Request: invalid JSON is Errc::input with the position", "[request]") {
  const char* bad[] = {"", "{", R"({"CN":"x",})", "{'CN':'x'}", R"({"CN":"x"} trailing)"};
  for (const char* text : bad) {
    INFO("\"" << text << "\"");
    Error e = catch_error([&] { Request::from_json(text, "bad.json"); });
    CHECK(e.category() == Errc::input);
    CHECK(e.source() == "bad.json");
    CHECK_THAT(e.message(), StartsWith("invalid JSON: "));
    CHECK_THAT(e.message(), !Contains("[json.exception"));
  }
}

TEST_CASE("Request: cfssl fields etcd-pki does not support are errors", "[request]") {
  for (const char* json : {R"({"delegation_enabled":true})", R"({"extensions":[]})"}) {
    INFO(json);
    Error e = catch_error([&] { Request::from_json(json); });
    CHECK(e.category() == Errc::input);
    CHECK_THAT(e.message(), Contains("not supported"));
  }
}

TEST_CASE("Request: names[] builds the subject lists in order", "[request]") {
  Request r = Request::from_json(R"({"CN":"system:node:worker-1",
    "names":[{"O":"Zeta-longer"},{"O":"system:nodes","OU":""},{"O":"Alpha","C":"","E":"a@b.c"},
             {"OID":{"1.2.3.4":"custom","2.5.4.9":"Street 1"}}]})");
  CHECK(r.subject.organization == std::vector<std::string>{"Zeta-longer", "system:nodes", "Alpha"});
  CHECK(r.subject.org_unit.empty());  // empty values are skipped
  CHECK(r.subject.country.empty());
  REQUIRE(r.subject.extra.size() == 3);
  CHECK(r.subject.extra[0] == Subject::Attribute{kEmail, "a@b.c"});
  CHECK(r.subject.extra[1] == Subject::Attribute{"1.2.3.4", "custom"});
  CHECK(r.subject.extra[2] == Subject::Attribute{"2.5.4.9", "Street 1"});
  CHECK(r.warnings.empty());
}

TEST_CASE("Request: names[] warnings and OID validation", "[request]") {
  Request r = Request::from_json(R"({"CN":"x","names":[{"C":"USA","SerialNumber":"5"}]})", "w.json");
  CHECK(r.subject.country == std::vector<std::string>{"USA"});  // accepted, as cfssl
  CHECK(r.subject.serial_number.empty());                       // names[].SerialNumber is unused, as cfssl
  REQUIRE(r.warnings.size() == 2);
  CHECK_THAT(r.warnings[0], Contains("names[0].C") && Contains("two-letter"));
  CHECK_THAT(r.warnings[1], Contains("names[0].SerialNumber") && Contains("serialnumber"));

  for (const char* oid : {"x", "1.x", "1..2", ".1.2", "1.2.", "12"}) {
    INFO(oid);
    std::string json = std::string(R"({"names":[{"OID":{")") + oid + R"(":"v"}}]})";
    Error e = catch_error([&] { Request::from_json(json); });
    CHECK(e.category() == Errc::input);
    CHECK(e.field() == "names[0].OID");
    CHECK_THAT(e.message(), Contains("invalid OID"));
  }
}

TEST_CASE("Request: the ca block", "[request]") {
  SECTION("all fields") {
    Request r = Request::from_json(R"({"CN":"r","ca":{"expiry":"10y","backdate":"1h","pathlen":0,"pathlenzero":true}})");
    REQUIRE(r.ca.has_value());
    CHECK(r.ca->expiry == Seconds(10LL * 365 * 86400));
    CHECK(r.ca->backdate == Seconds(3600));
    CHECK(r.ca->pathlen == 0);
    CHECK(r.ca->pathlenzero);
    CHECK(r.warnings.empty());
  }
  SECTION("empty block: defaults left to the profile") {
    Request r = Request::from_json(R"({"CN":"r","ca":{}})");
    REQUIRE(r.ca.has_value());
    CHECK_FALSE(r.ca->expiry.has_value());
    CHECK_FALSE(r.ca->backdate.has_value());
    CHECK(r.ca->pathlen == 0);
    CHECK_FALSE(r.ca->pathlenzero);
  }
  SECTION("pathlen with pathlenzero: pathlenzero ignored with a warning") {
    Request r = Request::from_json(R"({"CN":"r","ca":{"pathlen":2,"pathlenzero":true}})");
    CHECK(r.ca->pathlen == 2);
    REQUIRE(r.warnings.size() == 1);
    CHECK_THAT(r.warnings[0], Contains("pathlenzero") && Contains("ignored"));
  }
  SECTION("negative pathlen means no pathlen") {
    Request r = Request::from_json(R"({"CN":"r","ca":{"pathlen":-1}})");
    CHECK(r.ca->pathlen == 0);
  }
  SECTION("no ca block") {
    CHECK_FALSE(Request::from_json(R"({"CN":"r"})").ca.has_value());
    CHECK_FALSE(Request::from_json(R"({"CN":"r","ca":null})").ca.has_value());
  }
  SECTION("crl_url") {
    CHECK(Request::from_json(R"({"CN":"r","crl_url":"http://crl.example/ca.crl"})").crl_url ==
          "http://crl.example/ca.crl");
  }
}

TEST_CASE("Request: ca block errors", "[request]") {
  struct Case {
    const char* json;
    Errc category;
    const char* field;
    const char* message;
  };
  // A CSR JSON's errors are all Errc::input, a duration that does not parse included (error.hpp).
  const Case cases[] = {
      {R"({"ca":{"expiry":"10x"}})", Errc::input, "ca.expiry", "unknown unit \"x\""},
      {R"({"ca":{"expiry":""}})", Errc::input, "ca.expiry", "empty"},
      {R"({"ca":{"expiry":"0h"}})", Errc::input, "ca.expiry", "must be positive"},
      {R"({"ca":{"expiry":"-1h"}})", Errc::input, "ca.expiry", "must be positive"},
      {R"({"ca":{"backdate":"-5m"}})", Errc::input, "ca.backdate", "must not be negative"},
      {R"({"ca":{"backdate":"5 minutes"}})", Errc::input, "ca.backdate", "unknown unit"},
      {R"({"ca":{"pathlen":1001}})", Errc::input, "ca.pathlen", "absurd path length"},
  };
  for (const auto& c : cases) {
    INFO(c.json);
    Error e = catch_error([&] { Request::from_json(c.json, "ca.json"); });
    CHECK(e.category() == c.category);
    CHECK(e.source() == "ca.json");
    CHECK(e.field() == c.field);
    CHECK_THAT(e.message(), Contains(c.message));
  }
}

TEST_CASE("Request::default_ca is the built-in etcd CA request", "[request]") {
  Request r = Request::default_ca();
  CHECK(r.subject.common_name == "etcd-ca");
  CHECK(r.key == KeySpec{KeyAlgo::ecdsa, 256});
  REQUIRE(r.ca.has_value());
  CHECK(r.ca->expiry == Seconds(87600LL * 3600));
  CHECK(r.hosts.empty());
  CHECK_NOTHROW(r.validate_for_ca());
}

TEST_CASE("Request::validate_for_ca: a CN, or names that each carry C/ST/L/O/OU", "[request]") {
  struct Case {
    const char* json;
    bool ok;
  };
  const Case cases[] = {
      {R"({"CN":"x"})", true},
      {R"({"names":[{"O":"x"}]})", true},  // TV17
      {R"({"names":[{"C":"US"}]})", true},
      {R"({"names":[{"ST":"CA"}]})", true},
      {R"({"names":[{"L":"SF"}]})", true},
      {R"({"names":[{"OU":"ops"}]})", true},
      {R"({"CN":"x","names":[{"E":"x@y"}]})", true},
      {R"({})", false},                       // TV17
      {R"({"hosts":["a.example"]})", false},
      {R"({"names":[{"E":"x@y"}]})", false},  // TV17: E does not count
      {R"({"names":[{"OID":{"1.2.3.4":"v"}}]})", false},
      {R"({"CN":"   "})", false},               // blank counts as missing
      {R"({"names":[{"O":"  "}]})", false},
      {R"({"serialnumber":"1"})", false},
  };
  for (const auto& c : cases) {
    INFO(c.json);
    Request r = Request::from_json(c.json);
    if (c.ok) {
      CHECK_NOTHROW(r.validate_for_ca("ca-csr.json"));
    } else {
      Error e = catch_error([&] { r.validate_for_ca("ca-csr.json"); });
      CHECK(e.category() == Errc::input);
      CHECK(e.source() == "ca-csr.json");
      CHECK_THAT(e.message(), Contains("missing subject information"));
    }
  }
}

TEST_CASE("Subject::empty", "[request]") {
  Subject s;
  CHECK(s.empty());
  s.serial_number = "1";
  CHECK_FALSE(s.empty());
  Subject t;
  t.extra.push_back({kEmail, "a@b"});
  CHECK_FALSE(t.empty());
  Subject u;
  u.street = {"Main St"};
  CHECK_FALSE(u.empty());
}

TEST_CASE("Request: NUL and control characters in names and hosts are errors naming the field", "[request]") {
  // "www.bank.com\0.evil.com": a NUL inside a name is the classic way to fool a client that
  // reads the name as a C string; "10.0.0.1\0.evil.com" used to become the IP SAN 10.0.0.1.
  struct Case {
    const char* json;
    const char* field;
    const char* message;
  };
  const Case cases[] = {
      {R"({"CN":"www.bank.com\u0000.evil.com"})", "CN", "control character U+0000 at byte 13"},
      {R"({"CN":"x","serialnumber":"1\u0007"})", "serialnumber", "control character U+0007"},
      {R"({"CN":"x","names":[{"O":"a\u0000b"}]})", "names[0].O", "control character U+0000"},
      {R"({"CN":"x","names":[{"C":"US"},{"OU":"\n"}]})", "names[1].OU", "control character U+000A"},
      {R"({"CN":"x","names":[{"E":"a@b\u007f"}]})", "names[0].E", "control character U+007F"},
      {R"({"CN":"x","names":[{"OID":{"1.2.3.4":"v\u0001"}}]})", "names[0].OID.1.2.3.4", "control character U+0001"},
      {R"({"CN":"x","hosts":["ok.example","10.0.0.1\u0000.evil.com"]})", "hosts[1]", "control character U+0000"},
      {R"({"CN":"x","hosts":["a\u0001b.example"]})", "hosts[0]", "control character U+0001"},
      {R"({"CN":"x","hosts":["bücher.example"]})", "hosts[0]", "non-ASCII character at byte 2"},
      {R"({"CN":"x","hosts":["admin@bücher.example"]})", "hosts[0]", "non-ASCII"},
      {R"({"CN":"x","crl_url":"http://crl.example/\u0000x"})", "crl_url", "invalid URL: contains the control character"},
  };
  for (const auto& c : cases) {
    INFO(c.json);
    Error e = catch_error([&] { Request::from_json(c.json, "t.json"); });
    CHECK(e.category() == Errc::input);
    CHECK(e.source() == "t.json");
    CHECK(e.field() == c.field);
    CHECK_THAT(e.message(), Contains(c.message));
    CHECK(std::string(e.what()).find('\0') == std::string::npos);
  }
  // Invalid UTF-8 cannot get past the JSON parser; the message shows the byte escaped.
  Error e = catch_error([&] { Request::from_json("{\"CN\":\"\xff\xfe\"}", "u.json"); });
  CHECK(e.category() == Errc::input);
  CHECK_THAT(e.message(), StartsWith("invalid JSON: ") && Contains("UTF-8"));
  CHECK_THAT(std::string(e.what()), Contains("\\xff") && !Contains("\xff"));
}

TEST_CASE("Request: DNS names over 253 characters or with a label over 63 are errors", "[request]") {
  std::string label64(64, 'a'), long_name;
  for (int i = 0; i < 4; ++i) long_name += std::string(62, 'b') + ".";
  long_name += "abcd";  // 256 characters
  for (auto [host, message] : {std::pair{label64 + ".example.com", "DNS label \"" + label64 + "\" is longer than 63 characters (64)"},
                               std::pair{long_name, std::string("DNS name longer than 253 characters (256)")}}) {
    INFO(host);
    Error e = catch_error([&] { Request::from_json(R"({"CN":"x","hosts":[")" + host + R"("]})", "l.json"); });
    CHECK(e.category() == Errc::input);
    CHECK(e.field() == "hosts[0]");
    CHECK_THAT(e.message(), Contains(message));
  }
  // At the limits, and what cfssl writes as DNS without being a host name, still work.
  std::string label63(63, 'a'), name253 = std::string(63, 'c') + "." + std::string(63, 'c') + "." + std::string(63, 'c') + "." + std::string(61, 'c');
  REQUIRE(name253.size() == 253);
  Request r = Request::from_json(R"({"CN":"x","hosts":[")" + label63 + R"(.example.com",")" + name253 + R"(","10.0.0.0/8","*.example.com"]})");
  CHECK(r.hosts.size() == 4);
}

TEST_CASE("Request: a host that looks like a mistyped IP is a DNS name, with a warning", "[request]") {
  Request r = Request::from_json(R"({"CN":"x","hosts":["1.2.3.4","256.1.1.1","1.2.3","1.2.3.04","1.2.3.4.5","::ffff:1.2.3.4","a.example"]})");
  REQUIRE(r.warnings.size() == 4);
  CHECK_THAT(r.warnings[0], StartsWith("hosts[1]: \"256.1.1.1\" is not a valid IP address; it is written as a DNS name"));
  CHECK_THAT(r.warnings[1], StartsWith("hosts[2]: \"1.2.3\""));
  CHECK_THAT(r.warnings[2], StartsWith("hosts[3]: \"1.2.3.04\""));
  CHECK_THAT(r.warnings[3], StartsWith("hosts[4]: \"1.2.3.4.5\""));
}

TEST_CASE("Request: absurdly long subject values and subjects are errors, not OpenSSL failures", "[request]") {
  // A 2 MiB CN used to fail in OpenSSL ("asn1 encoding routines::too long", exit 11).
  Error cn = catch_error([&] { Request::from_json(R"({"CN":")" + std::string(2 << 20, 'a') + R"("})", "big.json"); });
  CHECK(cn.category() == Errc::input);
  CHECK(cn.field() == "CN");
  CHECK(cn.message() == "too long (2097152 bytes; at most 1024)");
  Request ok = Request::from_json(R"({"CN":")" + std::string(1024, 'a') + R"("})");
  CHECK(ok.subject.common_name.size() == 1024);

  std::string names = R"({"CN":"x","names":[)";
  for (int i = 0; i < 100; ++i) names += std::string(i ? "," : "") + R"({"O":")" + std::string(1000, 'o') + R"("})";
  names += "]}";
  Error many = catch_error([&] { Request::from_json(names, "names.json"); });
  CHECK(many.category() == Errc::input);
  CHECK(many.source() == "names.json");
  CHECK(many.field() == "names");
  CHECK_THAT(many.message(), StartsWith("the subject is too large (") && Contains("at most 65536"));
}

TEST_CASE("Request: JSON nested deeper than 100 levels is refused before parsing", "[request]") {
  std::string deep = R"({"CN":"x","hosts":)" + std::string(100000, '[') + std::string(100000, ']') + "}";
  Error e = catch_error([&] { Request::from_json(deep, "deep.json"); });
  CHECK(e.category() == Errc::input);
  CHECK(e.message() == "invalid JSON: nested more than 100 levels deep at line 1, column 118");
  // Brackets inside strings do not count; 100 levels are fine.
  Request r = Request::from_json(R"({"CN":")" + std::string(500, '[') + R"(\"{{"})");
  CHECK(r.subject.common_name.size() == 503);
  std::string hundred = R"({"names":)" + std::string(99, '[') + std::string(99, ']') + "}";
  Error shallow = catch_error([&] { Request::from_json(hundred); });
  CHECK_THAT(shallow.message(), !Contains("nested"));
}

TEST_CASE("A number too large for a double is a clean input error (fuzz_request finding)", "[request]") {
  // nlohmann throws out_of_range.406, not parse_error, for 1e9384; it used to escape as exit 1.
  Error e = catch_error([] { (void)Request::from_json(R"({"CN":"x","key":{"algo":"ecdsa","size":1e9384}})", "big.json"); });
  CHECK(e.category() == Errc::input);
  CHECK(e.source() == "big.json");
  CHECK_THAT(e.message(), Contains("invalid JSON") && Contains("number overflow parsing '1e9384'"));
  Error p = catch_error([] { (void)Policy::from_json(R"({"signing":{"default":{"expiry":"1h","x":-1e400}}})", "cfg.json"); });
  CHECK(p.category() == Errc::config);
  CHECK_THAT(p.message(), Contains("number overflow"));
}
