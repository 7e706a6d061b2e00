// prometheus.hpp (private): the text exposition format 0.0.4 as node_exporter's textfile collector
// reads it: label value and HELP escaping, sample values, # HELP and # TYPE once per family before
// its samples, families without samples left out, names the format does not allow refused.
#include <cmath>
#include <limits>
#include <stdexcept>

#include "prometheus.hpp"
#include "support.hpp"

using namespace etcd_pki::detail;

TEST_CASE("prometheus: label values escape backslash, double quote and line feed, nothing else", "[prometheus]") {
  struct Case {
    std::string in, out;
  };
  const Case cases[] = {
      {"", ""},
      {"etcd-1", "etcd-1"},
      {"a\\b", "a\\\\b"},
      {"say \"hi\"", "say \\\"hi\\\""},
      {"two\nlines", "two\\nlines"},
      {"\\n", "\\\\n"},  // a backslash then n: not a line feed
      {"tab\there, cr\r", "tab\there, cr\r"},
      {"/etc/etcd/pki/ca.pem", "/etc/etcd/pki/ca.pem"},
      {"caf\xC3\xA9 \xE2\x82\xAC", "caf\xC3\xA9 \xE2\x82\xAC"},  // UTF-8 kept
      {"bad\xFF" "byte", "bad\xEF\xBF\xBD" "byte"},        // not UTF-8: U+FFFD
      {"\xC3", "\xEF\xBF\xBD"},                                  // truncated sequence
  };
  for (const auto& c : cases) {
    INFO(c.in);
    CHECK(escape_label_value(c.in) == c.out);
  }
  // HELP escapes backslash and line feed; a double quote stays.
  CHECK(escape_help("a \"b\" c\\d\ne") == "a \"b\" c\\\\d\\ne");
}

TEST_CASE("prometheus: sample values", "[prometheus]") {
  CHECK(format_sample_value(0) == "0");
  CHECK(format_sample_value(-0.0) == "0");
  CHECK(format_sample_value(1) == "1");
  CHECK(format_sample_value(1767225600) == "1767225600");  // Unix seconds: never 1.7672256e+09
  CHECK(format_sample_value(1000000000) == "1000000000");
  CHECK(format_sample_value(-86400) == "-86400");
  CHECK(format_sample_value(253402300799.0) == "253402300799");  // 9999-12-31T23:59:59Z
  CHECK(format_sample_value(0.5) == "0.5");
  CHECK(format_sample_value(0.1) == "0.1");
  CHECK(format_sample_value(1e21) == "1e+21");
  CHECK(std::stod(format_sample_value(1.0 / 3)) == 1.0 / 3);  // reads back exactly
  CHECK(format_sample_value(std::numeric_limits<double>::infinity()) == "+Inf");
  CHECK(format_sample_value(-std::numeric_limits<double>::infinity()) == "-Inf");
  CHECK(format_sample_value(std::nan("")) == "NaN");
}

TEST_CASE("prometheus: the exact text of two families", "[prometheus]") {
  Metrics m;
  m.family("x509_cert_not_after", "notAfter, Unix seconds");
  m.sample({{"subject_CN", "etcd-1"}, {"role", "server"}}, 1767225600);
  m.sample({{"subject_CN", "say \"hi\""}, {"role", "client"}}, 1767225601);
  m.family("x509_crl_next_update", "nextUpdate\nof the CRL", "gauge");
  m.sample({}, 42);
  CHECK(m.text() ==
        "# HELP x509_cert_not_after notAfter, Unix seconds\n"
        "# TYPE x509_cert_not_after gauge\n"
        "x509_cert_not_after{subject_CN=\"etcd-1\",role=\"server\"} 1767225600\n"
        "x509_cert_not_after{subject_CN=\"say \\\"hi\\\"\",role=\"client\"} 1767225601\n"
        "# HELP x509_crl_next_update nextUpdate\\nof the CRL\n"
        "# TYPE x509_crl_next_update gauge\n"
        "x509_crl_next_update 42\n");
}

TEST_CASE("prometheus: HELP and TYPE once per family, its samples together, empty families left out", "[prometheus]") {
  Metrics m;
  CHECK(m.text().empty());
  m.family("a_total", "A.", "counter");
  m.sample({{"k", "1"}}, 1);
  m.family("empty", "Never sampled.");
  m.family("b", "B.");
  m.sample({{"k", "1"}}, 2);
  m.family("a_total", "A.", "counter");  // back to a: its samples still go under its one HELP
  m.sample({{"k", "2"}}, 3);
  m.family("c", "C.", "untyped");
  m.sample({{"k", "x\ny"}}, 4);

  std::vector<std::string> order;
  auto families = test::parse_exposition(m.text(), &order);
  CHECK(order == std::vector<std::string>{"a_total", "b", "c"});
  CHECK(families.at("a_total").type == "counter");
  CHECK(families.at("a_total").help == "A.");
  REQUIRE(families.at("a_total").samples.size() == 2);
  CHECK(families.at("a_total").samples[0].value == "1");
  CHECK(families.at("a_total").samples[1].labels.at("k") == "2");
  CHECK(families.at("b").type == "gauge");
  CHECK(families.at("c").type == "untyped");
  CHECK(families.at("c").samples.at(0).labels.at("k") == "x\ny");
  CHECK(m.text().find("empty") == std::string::npos);
}

TEST_CASE("prometheus: names the format does not allow are programming errors", "[prometheus]") {
  Metrics m;
  CHECK_THROWS_AS(m.sample({}, 1), std::invalid_argument);  // no family yet
  for (const char* bad : {"", "1x", "x509-cert", "x y", "x{}", "é"}) {
    INFO(bad);
    CHECK_THROWS_AS(m.family(bad, "h"), std::invalid_argument);
  }
  CHECK_THROWS_AS(m.family("ok", "h", "histogram"), std::invalid_argument);  // no buckets here
  m.family("ns:metric_1", "colons are allowed in metric names");
  for (const char* bad : {"", "__name__", "a:b", "1a", "a-b"}) {
    INFO(bad);
    CHECK_THROWS_AS(m.sample({{bad, "v"}}, 1), std::invalid_argument);
  }
  m.sample({{"_ok", "v"}, {"A9", "w"}}, 1);
  CHECK(m.text() == "# HELP ns:metric_1 colons are allowed in metric names\n# TYPE ns:metric_1 gauge\nns:metric_1{_ok=\"v\",A9=\"w\"} 1\n");
}
