// hosts.hpp: cfssl's classification of "hosts" entries into SANs (IP, email, URI, DNS).
#include "support.hpp"

using namespace test;

namespace {
IpAddress ip(std::initializer_list<uint8_t> b) { return IpAddress{std::vector<uint8_t>(b)}; }
}  // namespace

TEST_CASE("classify_host: the cfssl TV11 list and more", "[hosts]") {
  struct Case {
    const char* host;
    SanType type;
  };
  const Case cases[] = {
      // TV11
      {"spiffe://cluster.local/ns/default/sa/x", SanType::uri},
      {"a@b.com", SanType::email},
      {"Foo Bar <foo@bar.com>", SanType::email},
      {"1.2.3.4", SanType::ip},
      {"::ffff:1.2.3.4", SanType::ip},
      {"2001:db8::1", SanType::ip},
      {"*.example.com", SanType::dns},
      {"localhost:8080", SanType::uri},
      {"/just/path", SanType::uri},
      {"etcd_1", SanType::dns},
      {"UPPER.Example.COM", SanType::dns},
      {"10.0.0.0/8", SanType::dns},
      // more
      {"127.0.0.1", SanType::ip},
      {"::1", SanType::ip},
      {"::", SanType::ip},
      {"fe80::1", SanType::ip},
      {"[::1]", SanType::dns},            // brackets do not parse as an IP
      {"1.2.3.04", SanType::dns},         // leading zeros: not an IP (Go >= 1.17)
      {"1.2.3", SanType::dns},
      {"256.1.1.1", SanType::dns},
      {"localhost", SanType::dns},
      {"etcd0.example.com", SanType::dns},
      {"z-b-data-1", SanType::dns},
      {"<admin@example.com>", SanType::email},
      {"\"quoted name\" <q@example.org>", SanType::email},
      {"admin@example.com", SanType::email},
      {"https://etcd.example.com:2379/health", SanType::uri},
      {"http://[::1]:2379", SanType::uri},
      {"mailto:foo", SanType::uri},
      {"urn:uuid:6e8bc430-9c3a-11d9-9669-0800200c9a66", SanType::uri},
      {"host:port", SanType::uri},        // scheme "host" with an opaque part, as Go reads it
      {"*", SanType::uri},                // Go's ParseRequestURI accepts "*"
  };
  for (const auto& c : cases) {
    INFO("\"" << c.host << "\"");
    CHECK(classify_host(c.host) == c.type);
  }
}

TEST_CASE("parse_ip: IPv4, IPv4-mapped IPv6 as 4 bytes, IPv6 as 16 bytes", "[hosts]") {
  struct Case {
    const char* text;
    std::vector<uint8_t> bytes;  // empty: not an IP
    const char* printed;
  };
  const Case cases[] = {
      {"1.2.3.4", {1, 2, 3, 4}, "1.2.3.4"},
      {"::ffff:1.2.3.4", {1, 2, 3, 4}, "1.2.3.4"},
      {"::ffff:10.0.0.1", {10, 0, 0, 1}, "10.0.0.1"},
      {"2001:db8::1", {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}, "2001:db8::1"},
      {"::1", {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}, "::1"},
      {"0.0.0.0", {0, 0, 0, 0}, "0.0.0.0"},
      {"255.255.255.255", {255, 255, 255, 255}, "255.255.255.255"},
      {"", {}, ""},
      {"10.0.0.0/8", {}, ""},
      {"[::1]", {}, ""},
      {"fe80::1%eth0", {}, ""},
      {" 1.2.3.4", {}, ""},  // parse_ip itself does not trim
      {"example.com", {}, ""},
  };
  for (const auto& c : cases) {
    INFO("\"" << c.text << "\"");
    auto got = parse_ip(c.text);
    if (c.bytes.empty()) {
      CHECK_FALSE(got.has_value());
    } else {
      REQUIRE(got.has_value());
      CHECK(got->bytes == c.bytes);
      CHECK(got->to_string() == c.printed);
    }
  }
}

TEST_CASE("parse_email keeps only the address part", "[hosts]") {
  struct Case {
    const char* text;
    const char* address;  // nullptr: not an email
  };
  const Case cases[] = {
      {"a@b.com", "a@b.com"},
      {"Foo Bar <foo@bar.com>", "foo@bar.com"},
      {"<foo@bar.com>", "foo@bar.com"},
      {"\"Foo, Bar\" <foo@bar.com>", "foo@bar.com"},
      {"first.last+tag@sub.example.org", "first.last+tag@sub.example.org"},
      {"a@b.com (comment)", "a@b.com"},
      {"foo", nullptr},
      {"foo@", nullptr},
      {"@bar.com", nullptr},
      {"a@b@c", nullptr},
      {"Foo <foo@bar.com", nullptr},
      {"foo@bar.com>", nullptr},
      {"", nullptr},
      {"spiffe://x/y", nullptr},
  };
  for (const auto& c : cases) {
    INFO("\"" << c.text << "\"");
    auto got = parse_email(c.text);
    if (!c.address) {
      CHECK_FALSE(got.has_value());
    } else {
      REQUIRE(got.has_value());
      CHECK(*got == c.address);
    }
  }
}

TEST_CASE("is_request_uri follows Go's url.ParseRequestURI", "[hosts]") {
  struct Case {
    const char* text;
    bool uri;
  };
  const Case cases[] = {
      {"spiffe://cluster.local/ns/default/sa/x", true},
      {"localhost:8080", true},
      {"/just/path", true},
      {"/", true},
      {"*", true},
      {"https://etcd.example.com:2379", true},
      {"http://[::1]:2379/x", true},
      {"http://user@host/x", true},
      {"mailto:a@b", true},
      {"a+b-c.d:rest", true},
      {"", false},
      {"etcd_1", false},
      {"example.com", false},
      {"10.0.0.0/8", false},
      {"relative/path", false},
      {":8080", false},             // missing scheme
      {"1http://x", false},         // a scheme cannot start with a digit
      {"http://a b/", false},       // space in the host
      {"http://host:port/", false}, // port must be numeric
      {"/bad%zzescape", false},
      {"http://x/\x01", false},     // control character
  };
  for (const auto& c : cases) {
    INFO("\"" << c.text << "\"");
    CHECK(is_request_uri(c.text) == c.uri);
  }
}

TEST_CASE("classify_hosts: TV11 gives the SAN lists in input order per type", "[hosts]") {
  std::vector<std::string> hosts = {"spiffe://cluster.local/ns/default/sa/x",
                                    "a@b.com",
                                    "Foo Bar <foo@bar.com>",
                                    "1.2.3.4",
                                    "::ffff:1.2.3.4",
                                    "2001:db8::1",
                                    "*.example.com",
                                    "localhost:8080",
                                    "/just/path",
                                    "etcd_1",
                                    "UPPER.Example.COM",
                                    " spaced ",
                                    "10.0.0.0/8"};
  Sans s = classify_hosts(hosts);
  // Deliberate difference from cfssl: " spaced " is trimmed.
  CHECK(s.dns == std::vector<std::string>{"*.example.com", "etcd_1", "UPPER.Example.COM", "spaced", "10.0.0.0/8"});
  CHECK(s.email == std::vector<std::string>{"a@b.com", "foo@bar.com"});
  REQUIRE(s.ip.size() == 3);
  CHECK(s.ip[0] == ip({1, 2, 3, 4}));
  CHECK(s.ip[1] == ip({1, 2, 3, 4}));
  CHECK(s.ip[1].bytes.size() == 4);
  CHECK(s.ip[2].bytes.size() == 16);
  CHECK(s.ip[2].to_string() == "2001:db8::1");
  CHECK(s.uri == std::vector<std::string>{"spiffe://cluster.local/ns/default/sa/x", "localhost:8080", "/just/path"});
  CHECK_FALSE(s.empty());
  CHECK(s.to_string() ==
        "DNS:*.example.com, DNS:etcd_1, DNS:UPPER.Example.COM, DNS:spaced, DNS:10.0.0.0/8, "
        "email:a@b.com, email:foo@bar.com, IP:1.2.3.4, IP:1.2.3.4, IP:2001:db8::1, "
        "URI:spiffe://cluster.local/ns/default/sa/x, URI:localhost:8080, URI:/just/path");
}

TEST_CASE("classify_hosts trims entries and drops empty ones, without de-duplication", "[hosts]") {
  struct Case {
    std::vector<std::string> hosts;
    std::vector<std::string> dns;
    std::vector<std::string> ips;
  };
  const Case cases[] = {
      {{}, {}, {}},
      {{""}, {}, {}},
      {{"", "  ", "\t\n"}, {}, {}},
      {{" 127.0.0.1 ", "\tlocalhost\n"}, {"localhost"}, {"127.0.0.1"}},
      {{"a", "", "a", " a"}, {"a", "a", "a"}, {}},
      {{"10.0.0.1", "10.0.0.1"}, {}, {"10.0.0.1", "10.0.0.1"}},
      {{"b.example.com", "a.example.com"}, {"b.example.com", "a.example.com"}, {}},
  };
  for (const auto& c : cases) {
    Sans s = classify_hosts(c.hosts);
    CHECK(s.dns == c.dns);
    std::vector<std::string> ips;
    for (const auto& i : s.ip) ips.push_back(i.to_string());
    CHECK(ips == c.ips);
    CHECK(s.email.empty());
    CHECK(s.uri.empty());
    CHECK(s.empty() == (c.dns.empty() && c.ips.empty()));
  }
}

TEST_CASE("Sans::to_string and equality", "[hosts]") {
  Sans empty;
  CHECK(empty.empty());
  CHECK(empty.to_string() == "");
  Sans a = classify_hosts({"x.example", "10.1.1.1"});
  Sans b = classify_hosts({"10.1.1.1", "x.example"});
  CHECK(a == b);  // classification is per type; only the order within a type matters
  CHECK(a.to_string() == "DNS:x.example, IP:10.1.1.1");
  Sans c = classify_hosts({"y.example", "x.example"});
  Sans d = classify_hosts({"x.example", "y.example"});
  CHECK_FALSE(c == d);
}

TEST_CASE("to_string(SanType)", "[hosts]") {
  CHECK(std::string(to_string(SanType::dns)) == "DNS");
  CHECK(std::string(to_string(SanType::email)) == "email");
  CHECK(std::string(to_string(SanType::ip)) == "IP");
  CHECK(std::string(to_string(SanType::uri)) == "URI");
}

TEST_CASE("split_hostnames splits on commas, trims and drops empty items", "[hosts]") {
  struct Case {
    const char* csv;
    std::vector<std::string> items;
  };
  const Case cases[] = {
      {"a.example.com,10.1.1.1, b.example.com", {"a.example.com", "10.1.1.1", "b.example.com"}},  // TV10
      {"a.example.com,,10.0.0.1,", {"a.example.com", "10.0.0.1"}},                                 // TV10
      {"", {}},
      {",", {}},
      {" , ,\t", {}},
      {"single", {"single"}},
      {"  padded  ", {"padded"}},
      {",lead,trail,", {"lead", "trail"}},
      {"x,x", {"x", "x"}},
      {"Foo Bar <foo@bar.com>", {"Foo Bar <foo@bar.com>"}},  // inner spaces kept
  };
  for (const auto& c : cases) {
    INFO("\"" << c.csv << "\"");
    CHECK(split_hostnames(c.csv) == c.items);
  }
}

TEST_CASE("dns_name_problem accepts host names and names what is wrong", "[hosts]") {
  const char* good[] = {"etcd0.example.com", "*.example.com", "etcd_1", "localhost", "example.com.",
                        "a", "xn--bcher-kva.example", "z-b-data-1"};
  for (const char* name : good) {
    INFO("\"" << name << "\"");
    CHECK_FALSE(dns_name_problem(name).has_value());
  }
  CHECK_FALSE(dns_name_problem(std::string(63, 'a') + ".example").has_value());

  struct Case {
    std::string name;
    const char* problem;
  };
  const Case cases[] = {
      {"", "empty name"},
      {"a..b", "empty label"},
      {".example.com", "empty label"},
      {"-bad.example.com", "starts or ends with '-'"},
      {"bad-.example.com", "starts or ends with '-'"},
      {"a b.example", "invalid character ' '"},
      {"*.*.example.com", "invalid character '*'"},
      {"foo*.example.com", "invalid character '*'"},
      {"10.0.0.0/8", "invalid character '/'"},
      {"host:8080", "invalid character ':'"},
      {std::string(64, 'a') + ".example", "longer than 63 characters"},
      {"256.1.1.1", "looks like an IP address but is not a valid one"},
      {"1.2.3.04", "looks like an IP address but is not a valid one"},
      {std::string(250, 'a').insert(50, ".").insert(120, ".").insert(190, ".") + ".com", "longer than 253 characters"},
  };
  for (const auto& c : cases) {
    INFO("\"" << c.name << "\"");
    auto p = dns_name_problem(c.name);
    REQUIRE(p.has_value());
    CHECK_THAT(*p, Contains(c.problem));
  }
}

TEST_CASE("parse_ip: text after a NUL is not ignored", "[hosts]") {
  // inet_pton reads a C string: this used to parse as 10.0.0.1.
  CHECK_FALSE(parse_ip(std::string("10.0.0.1\0.evil.com", 18)).has_value());
  CHECK_FALSE(parse_ip(std::string("::1\0", 4)).has_value());
  CHECK(classify_host(std::string("10.0.0.1\0x", 10)) == SanType::dns);
}

TEST_CASE("san_problem and host_problem: what cannot be written as a SAN", "[hosts]") {
  struct Case {
    std::string host;
    const char* problem;  // nullptr: fine
  };
  const Case cases[] = {
      {"etcd-1.example.com", nullptr},
      {"10.0.0.0/8", nullptr},  // cfssl's DNS SAN, kept
      {"1.2.3.04", nullptr},
      {"*.example.com", nullptr},
      {"admin@example.com", nullptr},
      {"spiffe://cluster.local/ns/x", nullptr},
      {"::ffff:1.2.3.4", nullptr},
      {" padded.example ", nullptr},  // trimmed first, as classify_hosts does
      {std::string(63, 'a') + ".example.com", nullptr},
      {std::string(63, 'a') + ".", nullptr},
      {std::string("a\0b", 3), "control character U+0000 at byte 2"},
      {"a\tb", "control character U+0009"},
      {"a\x7f", "control character U+007F"},
      {"b\xc3\xbc" "cher.example", "non-ASCII character at byte 2"},
      {"x@b\xc3\xbc" "cher.example", "non-ASCII"},
      {"spiffe://\xc3\xbc", "non-ASCII"},
      {std::string(64, 'a') + ".example.com", "is longer than 63 characters (64)"},
      {"x." + std::string(64, 'a'), "is longer than 63 characters (64)"},
      {std::string(63, 'a') + "." + std::string(63, 'a') + "." + std::string(63, 'a') + "." + std::string(63, 'a'),
       "DNS name longer than 253 characters (255)"},
  };
  for (const auto& c : cases) {
    INFO("\"" << c.host << "\"");
    auto p = host_problem(c.host);
    if (!c.problem) {
      CHECK_FALSE(p.has_value());
    } else {
      REQUIRE(p.has_value());
      CHECK_THAT(*p, Contains(c.problem));
    }
  }
  CHECK_FALSE(san_problem(SanType::ip, std::string("\0", 1)).has_value());
  CHECK(san_problem(SanType::uri, std::string(300, 'u')) == std::nullopt);  // the length rules are DNS's
}

TEST_CASE("looks_like_ip: mistyped addresses that classify as DNS", "[hosts]") {
  for (const char* h : {"1.2.3", "256.1.1.1", "1.2.3.04", "1.2.3.4.5", "999.999.999.999", "1::2::3", " 1.2.3 "}) {
    INFO(h);
    CHECK(looks_like_ip(h));
    CHECK(classify_hosts({h}).dns.size() == 1);
  }
  for (const char* h : {"1.2.3.4", "::ffff:1.2.3.4", "::ffff:0:1.2.3.4", "fe80::1", "10.0.0.0/8", "1.2", "a.b.c",
                        "etcd-1.example.com", "", "dead.beef.cafe"}) {
    INFO(h);
    CHECK_FALSE(looks_like_ip(h));
  }
}
