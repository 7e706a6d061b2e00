// error.hpp: categories, exit codes, the one-line message, OpenSSL error queues.
#include <openssl/err.h>
#include <openssl/evp.h>

#include "error_line.hpp"
#include "support.hpp"

using namespace test;

TEST_CASE("Errc values are the documented exit codes and have names", "[error]") {
  struct Case {
    Errc c;
    int code;
    const char* name;
  };
  const Case cases[] = {
      {Errc::usage, 2, "usage"}, {Errc::input, 3, "input"},   {Errc::config, 4, "config"},
      {Errc::key, 5, "key"},     {Errc::ca, 6, "ca"},         {Errc::csr, 7, "csr"},
      {Errc::policy, 8, "policy"}, {Errc::io, 9, "io"},       {Errc::exists, 10, "exists"},
      {Errc::crypto, 11, "crypto"},
  };
  for (const auto& c : cases) {
    INFO(c.name);
    CHECK(static_cast<int>(c.c) == c.code);
    CHECK(std::string(to_string(c.c)) == c.name);
    CHECK(Error(c.c, "m").exit_code() == c.code);
    CHECK(Error(c.c, "m").category() == c.c);
  }
  CHECK(std::string(to_string(static_cast<Errc>(99))) == "unknown");
}

TEST_CASE("Error::what is SOURCE: FIELD: MESSAGE without the empty parts", "[error]") {
  struct Case {
    const char* source;
    const char* field;
    const char* what;
  };
  const Case cases[] = {
      {"", "", "bad thing"},
      {"csr.json", "", "csr.json: bad thing"},
      {"", "key.size", "key.size: bad thing"},
      {"csr.json", "key.size", "csr.json: key.size: bad thing"},
  };
  for (const auto& c : cases) {
    Error e(Errc::input, "bad thing", c.source, c.field);
    CHECK(std::string(e.what()) == c.what);
    CHECK(e.message() == "bad thing");
    CHECK(e.source() == c.source);
    CHECK(e.field() == c.field);
  }
}

TEST_CASE("Error::what is always one line", "[error]") {
  Error e(Errc::config, "line one\nline two\r\nthree", "a\nb", "f\rg");
  CHECK(std::string(e.what()) == "a b: f g: line one line two  three");
  // The parts themselves are kept as given.
  CHECK(e.message() == "line one\nline two\r\nthree");
}

TEST_CASE("Error::with_source sets the source once", "[error]") {
  Error plain(Errc::key, "too weak", "", "key.size");
  Error named = plain.with_source("etcd-csr.json");
  CHECK(named.source() == "etcd-csr.json");
  CHECK(named.field() == "key.size");
  CHECK(named.category() == Errc::key);
  CHECK(std::string(named.what()) == "etcd-csr.json: key.size: too weak");

  Error again = named.with_source("other.json");
  CHECK(again.source() == "etcd-csr.json");
  CHECK(std::string(again.what()) == "etcd-csr.json: key.size: too weak");
}

TEST_CASE("Error is a std::runtime_error", "[error]") {
  try {
    throw Error(Errc::io, "cannot read", "x.pem");
  } catch (const std::runtime_error& e) {
    CHECK(std::string(e.what()) == "x.pem: cannot read");
  }
}

TEST_CASE("throw_openssl drains the whole OpenSSL error queue into the message", "[error]") {
  ERR_clear_error();
  ERR_raise_data(ERR_LIB_EVP, EVP_R_UNSUPPORTED_ALGORITHM, "first detail");
  ERR_raise(ERR_LIB_PEM, PEM_R_NO_START_LINE);
  Error e = catch_error([] { throw_openssl(Errc::crypto, "doing a thing", "src", "fld"); });
  CHECK(e.category() == Errc::crypto);
  CHECK(e.source() == "src");
  CHECK(e.field() == "fld");
  std::string msg = e.message();
  CHECK_THAT(msg, StartsWith("doing a thing: "));
  CHECK_THAT(msg, Contains("unsupported algorithm"));
  CHECK_THAT(msg, Contains("(first detail)"));
  CHECK_THAT(msg, Contains("; "));  // the second entry follows the first
  CHECK_THAT(msg, Contains("no start line"));
  CHECK(msg.find("unsupported algorithm") < msg.find("no start line"));
  CHECK(ERR_peek_error() == 0);  // the queue is cleared
}

TEST_CASE("throw_openssl with an empty queue gives the bare message", "[error]") {
  ERR_clear_error();
  Error e = catch_error([] { throw_openssl(Errc::ca, "nothing queued"); });
  CHECK(std::string(e.what()) == "nothing queued");
  CHECK(e.category() == Errc::ca);
}

TEST_CASE("Error::what escapes what would cut or garble the line", "[error]") {
  // A NUL used to end what() early (a JSON key "\u0000" gave "file: " and nothing more); other
  // control characters and bytes that are not UTF-8 (quoted from a hostile input) are \xNN.
  Error nul(Errc::input, std::string("unknown field \"a\0b\"", 19), "t.json", std::string("a\0b", 3));
  CHECK(std::string(nul.what()) == "t.json: a\\x00b: unknown field \"a\\x00b\"");
  Error ctl(Errc::input, "x\x1b[31mred\x7f", "s");
  CHECK(std::string(ctl.what()) == "s: x\\x1b[31mred\\x7f");
  Error bad(Errc::input, "last read: '\"\xff\xfe'; overlong \xc0\x80; cut \xe2\x82");
  CHECK(std::string(bad.what()) == "last read: '\"\\xff\\xfe'; overlong \\xc0\\x80; cut \\xe2\\x82");
  // Valid UTF-8 and tabs are kept as they are.
  Error ok(Errc::input, "Bücher \xe2\x82\xac \xf0\x9f\x94\x91\tend");
  CHECK(std::string(ok.what()) == "Bücher \xe2\x82\xac \xf0\x9f\x94\x91\tend");
  // The parts keep the raw text.
  CHECK(nul.field() == std::string("a\0b", 3));
}

TEST_CASE("Error::what cuts a message quoting a huge value", "[error]") {
  Error e(Errc::input, "unknown field \"" + std::string(100000, 'k') + "\"", "big.json");
  std::string what = e.what();
  CHECK(what.size() < 4200);
  CHECK_THAT(what, StartsWith("big.json: unknown field \"kkkk"));
  CHECK_THAT(what, EndsWith("more bytes cut)"));
  CHECK(e.message().size() == 100016);
}

// ---------------------------------------------------------------------------------------------
// One rule per input kind (error.hpp)
// ---------------------------------------------------------------------------------------------

TEST_CASE("A bad duration takes the category of the file it is in, whatever is wrong with it", "[error]") {
  const char* bad[] = {"abc", "10x", "999999999h", "1e400h", "", "0h", "-1h"};
  for (const char* d : bad) {
    INFO(d);
    const std::string q = std::string("\"") + d + "\"";
    // CSR JSON: input.
    Error csr = catch_error([&] { Request::from_json(R"({"CN":"ca","ca":{"expiry":)" + q + "}}", "ca-csr.json"); });
    CHECK(csr.category() == Errc::input);
    CHECK(csr.field() == "ca.expiry");
    if (std::string(d) != "0h") {  // a zero backdate is allowed
      Error backdate = catch_error([&] { Request::from_json(R"({"CN":"ca","ca":{"backdate":)" + q + "}}", "ca-csr.json"); });
      CHECK(backdate.category() == Errc::input);
    }
    // Cluster spec: input.
    for (const char* field : {"expiry", "ca_expiry"}) {
      Error spec = catch_error([&] {
        ClusterSpec::from_json(R"({"members":[{"name":"a","ips":["10.0.0.1"]}],")" + std::string(field) + "\":" + q + "}",
                               "cluster.json");
      });
      CHECK(spec.category() == Errc::input);
      CHECK(spec.source() == "cluster.json");
    }
    // ca-config.json: config.
    Error config = catch_error(
        [&] { Policy::from_json(R"({"signing":{"default":{"expiry":)" + q + R"(,"usages":["server auth"]}}})", "ca-config.json"); });
    CHECK(config.category() == Errc::config);
    CHECK(config.source() == "ca-config.json");
  }
}

TEST_CASE("A bad key spec is Errc::key wherever it is written", "[error]") {
  struct Case {
    const char* key;  // the "key" object
  };
  const Case cases[] = {
      {R"({"algo":"rsa","size":1024})"},       // too weak (KeySpec::parse)
      {R"({"algo":"rsa","size":16384})"},      // too large (KeySpec::parse)
      {R"({"algo":"rsa","size":4294967297})"}, // out of range before KeySpec::parse
      {R"({"algo":"ecdsa","size":-1})"},
      {R"({"algo":"ecdsa","size":224})"},      // invalid curve
      {R"({"algo":"dsa"})"},                   // invalid algorithm
  };
  for (const auto& c : cases) {
    INFO(c.key);
    Error csr = catch_error([&] { Request::from_json(std::string(R"({"CN":"x","key":)") + c.key + "}", "x.json"); });
    CHECK(csr.category() == Errc::key);
    CHECK(csr.source() == "x.json");
    Error spec = catch_error([&] {
      ClusterSpec::from_json(std::string(R"({"members":[{"name":"a","ips":["10.0.0.1"]}],"key":)") + c.key + "}", "cluster.json");
    });
    CHECK(spec.category() == Errc::key);
    CHECK(spec.source() == "cluster.json");
  }
  CHECK(catch_error([] { KeySpec::parse("rsa", 1024, "--key-algo/--key-size"); }).category() == Errc::key);
}

TEST_CASE("Error hints: the library names no flag, the CLI line adds it", "[error]") {
  TempDir tmp;
  write_files({{tmp / "a.pem", "old", 0644, false}}, false);
  Error e = catch_error([&] { write_files({{tmp / "a.pem", "new", 0644, false}}, false); });
  CHECK(e.category() == Errc::exists);
  CHECK(e.hint() == Hint::replace);
  CHECK(std::string(e.what()) == tmp / "a.pem" + ": already exists; not overwritten");
  CHECK_THAT(e.what(), !Contains("--"));
  CHECK(cli::error_line(e) == "etcd-pki: error: " + tmp / "a.pem" + ": already exists; not overwritten (use --force to replace it)");

  // The hint survives with_source; an error without one is printed as it is.
  Error moved = Error(Errc::exists, "exists but cannot be kept: its key is missing").with_hint(Hint::reissue).with_source("m1/server.pem");
  CHECK(moved.hint() == Hint::reissue);
  CHECK(cli::error_line(moved) == "etcd-pki: error: m1/server.pem: exists but cannot be kept: its key is missing; use --force to re-issue it");
  CHECK(cli::error_line(Error(Errc::exists, "the existing CA expired", "ca/ca.pem").with_hint(Hint::new_ca)) ==
        "etcd-pki: error: ca/ca.pem: the existing CA expired; use --force to make a new CA");
  CHECK(Error(Errc::input, "bad").hint() == Hint::none);
  CHECK(cli::error_line(Error(Errc::input, "bad", "x.json")) == "etcd-pki: error: x.json: bad");
  CHECK(cli::error_line(Error(Errc::key, "the private key is encrypted and no passphrase was given", "ca-key.pem")
                            .with_hint(Hint::passphrase)) ==
        "etcd-pki: error: ca-key.pem: the private key is encrypted and no passphrase was given (--passphrase-file FILE or "
        "ETCD_PKI_CA_PASSPHRASE)");
  CHECK(cli::error_line(Error(Errc::usage, "no CA certificate found in the folder (ca.pem)", "p").with_hint(Hint::trust)) ==
        "etcd-pki: error: p: no CA certificate found in the folder (ca.pem); give --ca");
}
