// error.hpp: categories, exit codes, the one-line message, OpenSSL error queues.
#include <openssl/err.h>
#include <openssl/evp.h>

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
