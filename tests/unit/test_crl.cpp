// crl.hpp: revocation reasons and serial spellings, the CA's index (OpenSSL's index.txt form,
// parse/print, record/revoke, the locked read-modify-write) and the CRL made from it, checked
// with OpenSSL's own X509_CRL_verify and X509_verify_cert with CRL checking.
#include <algorithm>
#include <atomic>
#include <cctype>
#include <cinttypes>
#include <cstdio>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "support.hpp"

using namespace test;
namespace fs = std::filesystem;

namespace {


// A leaf issued by the shared root at the fixed clock (each with its own random serial).
Certificate issue_leaf(const std::string& cn, std::vector<std::string> hosts = {},
                       std::vector<std::string> usages = {"signing", "client auth"}) {
  return shared_root().signer().sign(leaf_csr(cn, std::move(hosts)), profile_with(std::move(usages)), at_time(fixed_now()))
      .certificate;
}

const Ca& other_root() {
  static const Ca root = make_root(KeySpec{KeyAlgo::ecdsa, 256}, "other-test-root");
  return root;
}

std::string oneline(const X509_NAME* name) {
  char* s = X509_NAME_oneline(name, nullptr, 0);
  std::string out = s ? s : "";
  OPENSSL_free(s);
  return out;
}

std::string unix_hex(TimePoint t) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%" PRIX64, static_cast<uint64_t>(t.time_since_epoch().count()));
  return buf;
}

int crl_version(const Crl& crl) { return static_cast<int>(X509_CRL_get_version(crl.native_handle())); }

}  // namespace

// ---------------------------------------------------------------------------------------------
// Reasons and serials
// ---------------------------------------------------------------------------------------------

TEST_CASE("parse_revocation_reason: names in any case and spelling, and numbers", "[crl]") {
  struct Case {
    const char* text;
    RevocationReason want;
  };
  const Case cases[] = {
      {"unspecified", RevocationReason::unspecified},
      {"keyCompromise", RevocationReason::key_compromise},
      {"KEYCOMPROMISE", RevocationReason::key_compromise},
      {"key-compromise", RevocationReason::key_compromise},
      {"key_compromise", RevocationReason::key_compromise},
      {"Key_Compromise", RevocationReason::key_compromise},
      {"CACompromise", RevocationReason::ca_compromise},
      {"ca-compromise", RevocationReason::ca_compromise},
      {"affiliation_changed", RevocationReason::affiliation_changed},
      {"Superseded", RevocationReason::superseded},
      {"cessation-of-operation", RevocationReason::cessation_of_operation},
      {"certificatehold", RevocationReason::certificate_hold},
      {"remove_from_crl", RevocationReason::remove_from_crl},
      {"removeFromCRL", RevocationReason::remove_from_crl},
      {"privilege-withdrawn", RevocationReason::privilege_withdrawn},
      {"aa_compromise", RevocationReason::aa_compromise},
      {"0", RevocationReason::unspecified},
      {"1", RevocationReason::key_compromise},
      {"4", RevocationReason::superseded},
      {"6", RevocationReason::certificate_hold},
      {"8", RevocationReason::remove_from_crl},
      {"9", RevocationReason::privilege_withdrawn},
      {"10", RevocationReason::aa_compromise},
  };
  for (const auto& c : cases) {
    INFO("reason \"" << c.text << "\"");
    CHECK(parse_revocation_reason(c.text) == c.want);
  }
}

TEST_CASE("parse_revocation_reason: every name prints and parses back; 7 is no reason", "[crl]") {
  const RevocationReason all[] = {
      RevocationReason::unspecified,         RevocationReason::key_compromise,  RevocationReason::ca_compromise,
      RevocationReason::affiliation_changed, RevocationReason::superseded,      RevocationReason::cessation_of_operation,
      RevocationReason::certificate_hold,    RevocationReason::remove_from_crl, RevocationReason::privilege_withdrawn,
      RevocationReason::aa_compromise};
  for (auto r : all) {
    INFO(to_string(r));
    CHECK(parse_revocation_reason(to_string(r)) == r);
    CHECK(parse_revocation_reason(std::to_string(static_cast<int>(r))) == r);
  }
  CHECK(std::string(to_string(RevocationReason::key_compromise)) == "keyCompromise");
  CHECK(std::string(to_string(RevocationReason::ca_compromise)) == "CACompromise");

  for (const char* bad : {"7", "11", "99", "", "compromised", "keyCompromised", "hold", "0x1", "1.0", "+1"}) {
    INFO("reason \"" << bad << "\"");
    Error e = catch_error([&] { parse_revocation_reason(bad); });
    CHECK(e.category() == Errc::usage);
    CHECK_THAT(e.message(), Contains(std::string("\"") + bad + "\""));
    CHECK_THAT(e.message(), Contains("keyCompromise") && Contains("superseded") && Contains("AACompromise") &&
                                Contains("removeFromCRL") && Contains("unspecified"));
  }
}

TEST_CASE("parse_revocation_reason: dashes and underscores inside a number are not ignored", "[crl]") {
  // Dashes and underscores are spelling inside names ("key-compromise"), not inside numbers:
  // "-1" is not keyCompromise and "1-0" is not AACompromise.
  for (const char* bad : {"-1", "1-0", "_4", "-7"}) {
    INFO("reason \"" << bad << "\"");
    std::string outcome;
    try {
      outcome = std::string("parsed as ") + to_string(parse_revocation_reason(bad));
    } catch (const Error& e) {
      outcome = std::string("Errc::") + to_string(e.category());
    }
    CHECK(outcome == "Errc::usage");
  }
}

TEST_CASE("normalize_serial_hex: one spelling for every form", "[crl]") {
  struct Case {
    const char* text;
    const char* want;
  };
  const Case cases[] = {
      {"1A2B", "1A2B"},
      {"1a2b", "1A2B"},
      {"0x1a2b", "1A2B"},
      {"0X1A2B", "1A2B"},
      {"1a:2b", "1A2B"},
      {"01:A2:B3", "1A2B3"},
      {"0001A2B", "1A2B"},
      {"00", "0"},
      {"0", "0"},
      {"0x0", "0"},
      {"ff", "FF"},
      {"dec:0", "0"},
      {"dec:255", "FF"},
      {"dec:256", "100"},
      {"dec:000042", "2A"},
      {"dec:18446744073709551616", "10000000000000000"},  // 2^64
      {"4A:3F:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:01:02", "4A3F00112233445566778899AABBCCDDEEFF0102"},
  };
  for (const auto& c : cases) {
    INFO("serial \"" << c.text << "\"");
    CHECK(normalize_serial_hex(c.text) == c.want);
  }
  // Idempotent: the normal form is its own normal form.
  for (const auto& c : cases) CHECK(normalize_serial_hex(c.want) == c.want);
}

TEST_CASE("normalize_serial_hex: garbage is a usage error naming the text", "[crl]") {
  const std::string too_long(65, 'A');
  for (const std::string& bad : {std::string(""), std::string("0x"), std::string("xyz"), std::string("12g4"),
                                std::string("1A 2B"), std::string("-1"), std::string("dec:"), std::string("dec:12a"),
                                std::string("dec:-5"), std::string("dec:0x10"), std::string(":"), std::string("::"), too_long}) {
    INFO("serial \"" << bad << "\"");
    Error e = catch_error([&] { normalize_serial_hex(bad); });
    CHECK(e.category() == Errc::usage);
    CHECK_THAT(e.message(), Contains("invalid serial number \"" + bad + "\""));
  }
  // 64 hex digits is the limit, not an error.
  CHECK(normalize_serial_hex(std::string(64, 'A')) == std::string(64, 'A'));
}

TEST_CASE("decimal_to_serial_hex", "[crl]") {
  struct Case {
    const char* digits;
    std::optional<std::string> want;
  };
  const Case cases[] = {
      {"0", "0"},
      {"000", "0"},
      {"9", "9"},
      {"10", "A"},
      {"255", "FF"},
      {"4096", "1000"},
      {"18446744073709551615", "FFFFFFFFFFFFFFFF"},
      {"340282366920938463463374607431768211456", "100000000000000000000000000000000"},  // 2^128
      {"", std::nullopt},
      {"12a", std::nullopt},
      {"-1", std::nullopt},
      {"+1", std::nullopt},
      {" 1", std::nullopt},
      {"0x10", std::nullopt},
      {"1.5", std::nullopt},
  };
  for (const auto& c : cases) {
    INFO("digits \"" << c.digits << "\"");
    CHECK(decimal_to_serial_hex(c.digits) == c.want);
  }
  // The certificate's serial, printed in decimal by OpenSSL, converts back to its hex.
  Certificate leaf = issue_leaf("dec-serial");
  std::unique_ptr<BIGNUM, decltype(&BN_free)> bn(ASN1_INTEGER_to_BN(X509_get0_serialNumber(leaf.native_handle()), nullptr),
                                                 BN_free);
  REQUIRE(bn);
  char* dec = BN_bn2dec(bn.get());
  REQUIRE(dec != nullptr);
  std::string decimal = dec;
  OPENSSL_free(dec);
  CHECK(decimal_to_serial_hex(decimal) == normalize_serial_hex(leaf.serial_hex()));
  CHECK(normalize_serial_hex("dec:" + decimal) == normalize_serial_hex(leaf.serial_hex()));
}

// ---------------------------------------------------------------------------------------------
// CaIndex: text form
// ---------------------------------------------------------------------------------------------

// Lines as `openssl ca` writes them: UTCTime before 2050, GeneralizedTime from 2050, even-length
// upper-case serials, "unknown" as the file name, the subject in X509_NAME_oneline form.
const char* const kOpenSslIndex =
    "V\t350101000000Z\t\t1A2B\tunknown\t/O=etcd-pki tests/CN=etcd-1\n"
    "R\t260310123400Z\t250311080000Z,keyCompromise\t0F\tunknown\t/CN=ci\n"
    "V\t20510101000000Z\t\t01ABCDEF\tunknown\t/C=US/O=Example, Inc./CN=far future\n"
    "R\t20600229120000Z\t250312000000Z\tABCDEF0123456789\tunknown\t/CN=no reason\n"
    "R\t270101000000Z\t250313000000Z,superseded\t10\tunknown\t/CN=replaced\n"
    "E\t200101000000Z\t\t11\tunknown\t/CN=old\n";

TEST_CASE("CaIndex::parse: lines written by OpenSSL", "[crl]") {
  CaIndex index = CaIndex::parse(kOpenSslIndex, "index.txt");
  const auto& e = index.entries();
  REQUIRE(e.size() == 6);

  CHECK(e[0].status == 'V');
  CHECK(e[0].not_after == at("2035-01-01T00:00:00Z"));
  CHECK_FALSE(e[0].revoked_at.has_value());
  CHECK(e[0].reason == RevocationReason::unspecified);
  CHECK(e[0].serial == "1A2B");
  CHECK(e[0].subject == "/O=etcd-pki tests/CN=etcd-1");

  CHECK(e[1].status == 'R');
  CHECK(e[1].not_after == at("2026-03-10T12:34:00Z"));
  REQUIRE(e[1].revoked_at.has_value());
  CHECK(*e[1].revoked_at == at("2025-03-11T08:00:00Z"));
  CHECK(e[1].reason == RevocationReason::key_compromise);
  CHECK(e[1].serial == "F");
  CHECK(e[1].subject == "/CN=ci");

  CHECK(e[2].status == 'V');
  CHECK(e[2].not_after == at("2051-01-01T00:00:00Z"));  // GeneralizedTime
  CHECK(e[2].serial == "1ABCDEF");
  CHECK(e[2].subject == "/C=US/O=Example, Inc./CN=far future");  // commas and spaces kept

  CHECK(e[3].status == 'R');
  CHECK(e[3].not_after == at("2060-02-29T12:00:00Z"));
  REQUIRE(e[3].revoked_at.has_value());
  CHECK(*e[3].revoked_at == at("2025-03-12T00:00:00Z"));
  CHECK(e[3].reason == RevocationReason::unspecified);
  CHECK(e[3].serial == "ABCDEF0123456789");

  CHECK(e[4].reason == RevocationReason::superseded);
  CHECK(e[4].serial == "10");

  CHECK(e[5].status == 'E');
  CHECK(e[5].not_after == at("2020-01-01T00:00:00Z"));
  CHECK(e[5].serial == "11");

  // find() takes the normal form.
  REQUIRE(index.find("F") != nullptr);
  CHECK(index.find("F")->subject == "/CN=ci");
  CHECK(index.find("1ABCDEF")->status == 'V');
  CHECK(index.find("0F") == nullptr);  // not normalised by find: callers normalise
  CHECK(index.find("DEAD") == nullptr);
}

TEST_CASE("CaIndex::parse: the revocation forms openssl ca -revoke writes with -crl_hold and -crl_compromise", "[crl]") {
  // Written by `openssl ca -revoke` (OpenSSL 3) with -crl_reason keyCompromise, -crl_hold
  // holdInstructionReject, -crl_compromise 20250101000000Z and -crl_CA_compromise 20250101000000Z:
  // the last three add a third comma-separated field to the revocation column.
  const std::string text =
      "R\t261202011923Z\t261122011923Z,keyCompromise\t1000\tunknown\t/CN=a\n"
      "R\t261202011923Z\t261122011923Z,holdInstruction,holdInstructionReject\t1001\tunknown\t/CN=b\n"
      "R\t261202011923Z\t261122011923Z,keyTime,20250101000000Z\t1002\tunknown\t/CN=c\n"
      "R\t261202011923Z\t261122011923Z,CAkeyTime,20250101000000Z\t1003\tunknown\t/CN=d\n"
      "V\t261202011923Z\t\t1004\tunknown\t/CN=e\n";
  struct Want {
    const char* serial;
    RevocationReason reason;
  };
  const Want want[] = {{"1000", RevocationReason::key_compromise},
                       {"1001", RevocationReason::certificate_hold},
                       {"1002", RevocationReason::key_compromise},
                       {"1003", RevocationReason::ca_compromise}};
  std::optional<CaIndex> index;
  try {
    index = CaIndex::parse(text, "openssl-index.txt");
  } catch (const Error& e) {
    FAIL_CHECK("an index written by openssl ca is refused: " << e.what());
  }
  if (!index) return;
  REQUIRE(index->entries().size() == 5);
  for (const auto& w : want) {
    INFO("serial " << w.serial);
    const IndexEntry* e = index->find(w.serial);
    REQUIRE(e != nullptr);
    CHECK(e->status == 'R');
    CHECK(e->revoked_at == std::optional<TimePoint>(at("2026-11-22T01:19:23Z")));
    CHECK(e->reason == w.reason);
  }
}

TEST_CASE("CaIndex: to_text prints OpenSSL's form and parses back to the same entries", "[crl]") {
  CaIndex index = CaIndex::parse(kOpenSslIndex, "index.txt");
  const std::string text = index.to_text();
  // OpenSSL's own lines come back byte for byte (serials padded to an even length).
  CHECK(text == kOpenSslIndex);

  CaIndex again = CaIndex::parse(text, "again");
  REQUIRE(again.entries().size() == index.entries().size());
  for (size_t i = 0; i < index.entries().size(); ++i) {
    INFO("entry " << i);
    const auto& a = index.entries()[i];
    const auto& b = again.entries()[i];
    CHECK(a.status == b.status);
    CHECK(a.not_after == b.not_after);
    CHECK(a.revoked_at == b.revoked_at);
    CHECK(a.reason == b.reason);
    CHECK(a.serial == b.serial);
    CHECK(a.subject == b.subject);
  }
  CHECK(again.to_text() == text);

  // CRLF line ends and blank lines are read; the output uses "\n".
  std::string crlf = "\nV\t350101000000Z\t\t1A2B\tunknown\t/CN=a\r\n\r\nR\t350101000000Z\t250311080000Z,CACompromise\t3C\tunknown\t/CN=b\r\n";
  CaIndex windows = CaIndex::parse(crlf, "crlf");
  REQUIRE(windows.entries().size() == 2);
  CHECK(windows.entries()[0].subject == "/CN=a");
  CHECK(windows.entries()[1].reason == RevocationReason::ca_compromise);
  CHECK(windows.to_text() ==
        "V\t350101000000Z\t\t1A2B\tunknown\t/CN=a\n"
        "R\t350101000000Z\t250311080000Z,CACompromise\t3C\tunknown\t/CN=b\n");

  // An empty text is an empty index, printed as nothing.
  CHECK(CaIndex::parse("", "empty").entries().empty());
  CHECK(CaIndex().to_text().empty());
}

TEST_CASE("CaIndex::to_text: UTCTime before 2050, GeneralizedTime from 2050", "[crl]") {
  struct Case {
    const char* time;
    const char* printed;
  };
  const Case cases[] = {
      {"2025-03-10T12:34:29Z", "250310123429Z"},
      {"2049-12-31T23:59:59Z", "491231235959Z"},
      {"2050-01-01T00:00:00Z", "20500101000000Z"},
      {"2099-06-30T01:02:03Z", "20990630010203Z"},
  };
  for (const auto& c : cases) {
    INFO(c.time);
    CaIndex index;
    REQUIRE(index.revoke("AB", at(c.time), RevocationReason::key_compromise));
    // Expiry unknown (no certificate): 9999-12-31T23:59:59Z, GeneralizedTime.
    CHECK(index.to_text() == std::string("R\t99991231235959Z\t") + c.printed + ",keyCompromise\tAB\tunknown\tunknown\n");
    CaIndex back = CaIndex::parse(index.to_text(), "round trip");
    REQUIRE(back.entries().size() == 1);
    CHECK(back.entries()[0].revoked_at == at(c.time));
    CHECK(back.entries()[0].not_after == at("9999-12-31T23:59:59Z"));
  }
}

TEST_CASE("CaIndex::to_text: every reason is one openssl ca -gencrl reads back", "[crl]") {
  // crl.hpp: the index is OpenSSL's format "so `openssl ca -gencrl` reads it too". OpenSSL 3's
  // apps/ca.c accepts these reason names (crl_reasons[]) and fails on any other with
  // "invalid reason code".
  const std::set<std::string> openssl_reads{"unspecified",          "keyCompromise",  "CACompromise",
                                            "affiliationChanged",   "superseded",     "cessationOfOperation",
                                            "certificateHold",      "removeFromCRL",  "holdInstruction",
                                            "keyTime",              "CAkeyTime"};
  const RevocationReason all[] = {
      RevocationReason::key_compromise,   RevocationReason::ca_compromise,       RevocationReason::affiliation_changed,
      RevocationReason::superseded,       RevocationReason::cessation_of_operation, RevocationReason::certificate_hold,
      RevocationReason::remove_from_crl,  RevocationReason::privilege_withdrawn, RevocationReason::aa_compromise};
  for (auto r : all) {
    INFO("reason " << static_cast<int>(r));
    CaIndex index;
    if (r == RevocationReason::privilege_withdrawn || r == RevocationReason::aa_compromise) {
      // Not in OpenSSL's list: refused rather than written as something OpenSSL cannot read.
      CHECK(test::catch_error([&] { index.revoke("AB", fixed_now(), r); }).category() == Errc::usage);
      CHECK(index.entries().empty());
      continue;
    }
    REQUIRE(index.revoke("AB", fixed_now(), r));
    std::istringstream line(index.to_text());
    std::string status, expiry, column;
    std::getline(line, status, '\t');
    std::getline(line, expiry, '\t');
    std::getline(line, column, '\t');  // "250310123429Z,reason"
    REQUIRE_THAT(column, StartsWith("250310123429Z"));
    const std::string written = column.size() > 14 ? column.substr(14) : "unspecified";
    INFO("written as \"" << written << "\"");
    CHECK(openssl_reads.count(written) == 1);
  }
}

TEST_CASE("CaIndex::parse: a malformed line is an input error naming the file and line", "[crl]") {
  const std::string good = "V\t350101000000Z\t\t1A2B\tunknown\t/CN=ok\n";
  struct Case {
    std::string bad_line;
    const char* why;
  };
  const Case cases[] = {
      {"V\t350101000000Z\t\t1A2B\t/CN=five fields", "expected 6 tab-separated fields"},
      {"V\t350101000000Z\t\t1A2B\tunknown\t/CN=x\textra", "expected 6 tab-separated fields"},
      {"V 350101000000Z 1A2B unknown /CN=spaces", "expected 6 tab-separated fields"},
      {"X\t350101000000Z\t\t1A2B\tunknown\t/CN=x", "status must be V, R or E"},
      {"VR\t350101000000Z\t\t1A2B\tunknown\t/CN=x", "status must be V, R or E"},
      {"\t350101000000Z\t\t1A2B\tunknown\t/CN=x", "status must be V, R or E"},
      {"V\tnot-a-time\t\t1A2B\tunknown\t/CN=x", "invalid expiry time \"not-a-time\""},
      {"V\t\t\t1A2B\tunknown\t/CN=x", "invalid expiry time"},
      {"R\t350101000000Z\t\t1A2B\tunknown\t/CN=x", "invalid revocation time"},
      {"R\t350101000000Z\tyesterday,keyCompromise\t1A2B\tunknown\t/CN=x", "invalid revocation time \"yesterday\""},
      {"R\t350101000000Z\t250311080000Z,stolen\t1A2B\tunknown\t/CN=x", "unknown revocation reason \"stolen\""},
      {"V\t350101000000Z\t\tXYZ\tunknown\t/CN=x", "invalid serial \"XYZ\""},
      {"V\t350101000000Z\t\t\tunknown\t/CN=x", "invalid serial"},
      // fuzz_ca_index: a subject ending in '\r\r' lost one '\r' on every rewrite of the file.
      {"V\t350101000000Z\t\t1A2B\tunknown\t/CN=x\r\r", "field 6 contains the control character U+000D at byte 6"},
      {std::string("V\t350101000000Z\t\t1A2B\tunknown\t/CN=a") + '\0' + "b", "field 6 contains the control character U+0000 at byte 6"},
      {"V\t350101000000Z\t\t1A2B\tunk\x01\t/CN=x", "field 5 contains the control character U+0001"},
  };
  for (const auto& c : cases) {
    INFO("line: " << c.bad_line);
    // The bad line is line 3: a good line and a blank line come first.
    std::string text = good + "\n" + c.bad_line + "\n" + good;
    Error e = catch_error([&] { CaIndex::parse(text, "pki/ca-index.txt"); });
    CHECK(e.category() == Errc::input);
    CHECK(e.source() == "pki/ca-index.txt");
    CHECK(e.field() == "line 3");
    CHECK_THAT(e.message(), Contains(c.why));
    CHECK_THAT(std::string(e.what()), Contains("pki/ca-index.txt") && Contains("line 3"));
  }
}

// ---------------------------------------------------------------------------------------------
// CaIndex: record and revoke
// ---------------------------------------------------------------------------------------------

TEST_CASE("CaIndex::record_issued adds V entries, refreshes known ones and keeps R", "[crl]") {
  Certificate a = issue_leaf("record-a");
  Certificate b = issue_leaf("record-b");
  const std::string sa = normalize_serial_hex(a.serial_hex());
  const std::string sb = normalize_serial_hex(b.serial_hex());
  REQUIRE(sa != sb);

  CaIndex index;
  index.record_issued(a);
  index.record_issued(b);
  REQUIRE(index.entries().size() == 2);
  const IndexEntry* ea = index.find(sa);
  REQUIRE(ea != nullptr);
  CHECK(ea->status == 'V');
  CHECK(ea->not_after == a.not_after());
  CHECK_FALSE(ea->revoked_at.has_value());
  CHECK(ea->subject == "/CN=record-a");
  CHECK(ea->subject == oneline(X509_get_subject_name(a.native_handle())));
  CHECK(index.find(sb)->subject == "/CN=record-b");

  // Recording again does not add a line.
  index.record_issued(a);
  CHECK(index.entries().size() == 2);

  // A stale line for the same serial is refreshed (expiry and subject from the certificate).
  std::string stale = "V\t300101000000Z\t\t" + sa + "\tunknown\t/CN=stale\n";
  CaIndex refreshed = CaIndex::parse(stale, "stale");
  refreshed.record_issued(a);
  REQUIRE(refreshed.entries().size() == 1);
  CHECK(refreshed.entries()[0].status == 'V');
  CHECK(refreshed.entries()[0].not_after == a.not_after());
  CHECK(refreshed.entries()[0].subject == "/CN=record-a");

  // A revoked serial stays revoked, with its date and reason.
  std::string revoked = "R\t300101000000Z\t250311080000Z,keyCompromise\t" + sa + "\tunknown\t/CN=record-a\n";
  CaIndex kept = CaIndex::parse(revoked, "revoked");
  kept.record_issued(a);
  REQUIRE(kept.entries().size() == 1);
  CHECK(kept.entries()[0].status == 'R');
  CHECK(kept.entries()[0].revoked_at == std::optional<TimePoint>(at("2025-03-11T08:00:00Z")));
  CHECK(kept.entries()[0].reason == RevocationReason::key_compromise);
}

TEST_CASE("CaIndex::revoke: known, already revoked, unknown with and without the certificate", "[crl]") {
  Certificate a = issue_leaf("revoke-a");
  Certificate b = issue_leaf("revoke-b");
  const std::string sa = normalize_serial_hex(a.serial_hex());
  const std::string sb = normalize_serial_hex(b.serial_hex());
  const TimePoint t1 = at("2025-03-11T08:00:00Z"), t2 = at("2025-04-01T00:00:00Z");

  CaIndex index;
  index.record_issued(a);

  // Known serial, given in lower case with colons: revoked in place.
  std::string colons;
  std::string padded = sa.size() % 2 ? "0" + sa : sa;
  for (size_t i = 0; i < padded.size(); i += 2) colons += (i ? ":" : "") + padded.substr(i, 2);
  for (auto& ch : colons) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  CHECK(index.revoke(colons, t1, RevocationReason::key_compromise));
  REQUIRE(index.entries().size() == 1);
  const IndexEntry& ra = index.entries()[0];
  CHECK(ra.status == 'R');
  CHECK(ra.revoked_at == std::optional<TimePoint>(t1));
  CHECK(ra.reason == RevocationReason::key_compromise);
  CHECK(ra.not_after == a.not_after());
  CHECK(ra.subject == "/CN=revoke-a");

  // Again (another spelling, another date and reason): false, and the first revocation stands.
  CHECK_FALSE(index.revoke("0x" + sa, t2, RevocationReason::superseded));
  REQUIRE(index.entries().size() == 1);
  CHECK(index.entries()[0].revoked_at == std::optional<TimePoint>(t1));
  CHECK(index.entries()[0].reason == RevocationReason::key_compromise);

  // Unknown serial with its certificate: added with the certificate's expiry and subject.
  CHECK(index.revoke(sb, t2, RevocationReason::cessation_of_operation, b));
  REQUIRE(index.entries().size() == 2);
  const IndexEntry* rb = index.find(sb);
  REQUIRE(rb != nullptr);
  CHECK(rb->status == 'R');
  CHECK(rb->not_after == b.not_after());
  CHECK(rb->subject == "/CN=revoke-b");
  CHECK(rb->revoked_at == std::optional<TimePoint>(t2));
  CHECK(rb->reason == RevocationReason::cessation_of_operation);

  // Unknown serial without the certificate: far-future expiry, subject "unknown".
  CHECK(index.revoke("dec:4660", t2, RevocationReason::unspecified));
  const IndexEntry* rc = index.find("1234");
  REQUIRE(rc != nullptr);
  CHECK(rc->status == 'R');
  CHECK(rc->not_after == at("9999-12-31T23:59:59Z"));
  CHECK(rc->subject == "unknown");
  CHECK(rc->reason == RevocationReason::unspecified);
  CHECK_FALSE(index.revoke("1234", t1, RevocationReason::key_compromise));

  // A bad serial is the usage error of normalize_serial_hex, and nothing changes.
  Error e = catch_error([&] { index.revoke("not-hex", t1, RevocationReason::key_compromise); });
  CHECK(e.category() == Errc::usage);
  CHECK(index.entries().size() == 3);

  // Everything survives the text form.
  CaIndex back = CaIndex::parse(index.to_text(), "back");
  REQUIRE(back.entries().size() == 3);
  CHECK(back.find(sb)->reason == RevocationReason::cessation_of_operation);
  CHECK(back.find("1234")->not_after == at("9999-12-31T23:59:59Z"));
}

TEST_CASE("CaIndex::path_for and CrlPaths::for_ca", "[crl]") {
  struct Case {
    const char* ca;
    const char* index;
    const char* der;
    const char* pem;
  };
  const Case cases[] = {
      {"dir/ca.pem", "dir/ca-index.txt", "dir/ca.crl", "dir/ca-crl.pem"},
      {"ca.crt", "ca-index.txt", "ca.crl", "ca-crl.pem"},
      {"/etc/etcd/pki/ca.pem", "/etc/etcd/pki/ca-index.txt", "/etc/etcd/pki/ca.crl", "/etc/etcd/pki/ca-crl.pem"},
      {"pki/root-ca.pem", "pki/root-ca-index.txt", "pki/root-ca.crl", "pki/root-ca-crl.pem"},
      {"a/b/etcd-ca.crt", "a/b/etcd-ca-index.txt", "a/b/etcd-ca.crl", "a/b/etcd-ca-crl.pem"},
  };
  for (const auto& c : cases) {
    INFO(c.ca);
    CHECK(CaIndex::path_for(c.ca) == c.index);
    CrlPaths p = CrlPaths::for_ca(c.ca);
    CHECK(p.der == c.der);
    CHECK(p.pem == c.pem);
  }
}

// ---------------------------------------------------------------------------------------------
// The index on disk
// ---------------------------------------------------------------------------------------------

TEST_CASE("update_ca_index: read-modify-write of the file", "[crl]") {
  TempDir dir;
  const std::string path = CaIndex::path_for(dir / "ca.pem");
  CHECK(CaIndex::load(path).entries().empty());  // missing file: empty index
  CHECK_FALSE(fs::exists(path));

  Certificate a = issue_leaf("disk-a");
  const std::string sa = normalize_serial_hex(a.serial_hex());
  CaIndex written = update_ca_index(path, [&](CaIndex& index) {
    CHECK(index.entries().empty());
    index.record_issued(a);
  });
  REQUIRE(fs::exists(path));
  CHECK((static_cast<unsigned>(fs::status(path).permissions()) & 0777u) == 0644u);
  CHECK(slurp(path) == written.to_text());
  CaIndex loaded = CaIndex::load(path);
  REQUIRE(loaded.entries().size() == 1);
  CHECK(loaded.entries()[0].serial == sa);
  CHECK(loaded.entries()[0].status == 'V');

  // The next update sees what the last one wrote.
  update_ca_index(path, [&](CaIndex& index) {
    REQUIRE(index.entries().size() == 1);
    CHECK(index.revoke(sa, at("2025-03-11T00:00:00Z"), RevocationReason::key_compromise));
  });
  CaIndex after = CaIndex::load(path);
  REQUIRE(after.entries().size() == 1);
  CHECK(after.entries()[0].status == 'R');
  CHECK(after.entries()[0].reason == RevocationReason::key_compromise);
  CHECK(slurp(path) == after.to_text());

  // An exception from the change leaves the file as it was.
  const std::string before = slurp(path);
  CHECK_THROWS_AS(update_ca_index(path, [](CaIndex& index) {
                    index.revoke("ABCD", at("2025-03-12T00:00:00Z"), RevocationReason::superseded);
                    throw std::runtime_error("changed my mind");
                  }),
                  std::runtime_error);
  CHECK(slurp(path) == before);

  // A corrupt index is an input error naming the file and line, not silently replaced.
  {
    std::ofstream out(path, std::ios::trunc);
    out << "V\t350101000000Z\t\t1A\tunknown\t/CN=ok\ngarbage\n";
  }
  Error e = catch_error([&] { update_ca_index(path, [](CaIndex&) {}); });
  CHECK(e.category() == Errc::input);
  CHECK(e.source() == path);
  CHECK(e.field() == "line 2");
}

TEST_CASE("update_ca_index: concurrent updates are serialised by the folder lock", "[crl]") {
  TempDir dir;
  const std::string path = dir / "ca-index.txt";
  constexpr int kPerThread = 50;
  std::atomic<int> failures{0};
  std::string first_failure;
  std::mutex failure_mutex;
  auto worker = [&](char prefix) {
    for (int i = 0; i < kPerThread; ++i) {
      try {
        char serial[16];
        std::snprintf(serial, sizeof serial, "%c%04X", prefix, i);
        update_ca_index(path, [&](CaIndex& index) {
          index.revoke(serial, fixed_now() + Seconds(i), RevocationReason::superseded);
        });
      } catch (const std::exception& e) {
        if (failures++ == 0) {
          std::lock_guard<std::mutex> lock(failure_mutex);
          first_failure = e.what();
        }
      }
    }
  };
  std::thread t1(worker, 'A'), t2(worker, 'B');
  t1.join();
  t2.join();
  INFO("first failure: " << first_failure);
  REQUIRE(failures.load() == 0);

  CaIndex index = CaIndex::load(path);
  CHECK(index.entries().size() == 2u * kPerThread);
  std::set<std::string> serials;
  for (const auto& e : index.entries()) serials.insert(e.serial);
  CHECK(serials.size() == 2u * kPerThread);
  for (int i = 0; i < kPerThread; ++i) {
    char a[16], b[16];
    std::snprintf(a, sizeof a, "A%04X", i);
    std::snprintf(b, sizeof b, "B%04X", i);
    CHECK(serials.count(a) == 1);
    CHECK(serials.count(b) == 1);
  }
  // No temp files left behind.
  for (const auto& entry : fs::directory_iterator(dir.path())) CHECK(entry.path().filename() == "ca-index.txt");
}

TEST_CASE("record_issued(ca path, certificates) writes the index next to the CA", "[crl]") {
  TempDir dir;
  const std::string ca_path = dir / "ca.pem";
  record_issued(ca_path, {});
  CHECK_FALSE(fs::exists(dir / "ca-index.txt"));  // nothing to record, nothing written

  Certificate a = issue_leaf("next-to-ca-a"), b = issue_leaf("next-to-ca-b");
  record_issued(ca_path, {a, b});
  record_issued(ca_path, {a});
  CaIndex index = CaIndex::load(dir / "ca-index.txt");
  REQUIRE(index.entries().size() == 2);
  CHECK(index.find(normalize_serial_hex(a.serial_hex())) != nullptr);
  CHECK(index.find(normalize_serial_hex(b.serial_hex())) != nullptr);
}

TEST_CASE("write_files_recorded: the files and the index together, or neither", "[crl]") {
  TempDir dir;
  const std::string ca_path = dir / "ca/ca.pem", index_path = dir / "ca/ca-index.txt";
  fs::create_directories(dir / "ca");
  Certificate a = issue_leaf("recorded-a"), b = issue_leaf("recorded-b");
  write_files_recorded({OutputFile{dir / "out/a.pem", a.to_pem(), 0644}}, false, ca_path, {a});
  CHECK(slurp(dir / "out/a.pem") == a.to_pem());  // the output folder is made
  CaIndex index = CaIndex::load(index_path);
  REQUIRE(index.entries().size() == 1);
  CHECK(index.find(normalize_serial_hex(a.serial_hex())) != nullptr);

  // An existing output without overwrite: nothing is written, the index is not touched.
  std::string before = slurp(index_path);
  Error e = catch_error([&] {
    write_files_recorded({OutputFile{dir / "out/b.pem", b.to_pem(), 0644}, OutputFile{dir / "out/a.pem", b.to_pem(), 0644}},
                         false, ca_path, {b});
  });
  CHECK(e.category() == Errc::exists);
  CHECK(slurp(index_path) == before);
  CHECK_FALSE(fs::exists(dir / "out/b.pem"));
  CHECK(slurp(dir / "out/a.pem") == a.to_pem());

  // A malformed index names itself and nothing is written.
  std::ofstream(index_path, std::ios::trunc) << "garbage\n";
  Error bad = catch_error([&] { write_files_recorded({OutputFile{dir / "out/c.pem", b.to_pem(), 0644}}, false, ca_path, {b}); });
  CHECK(bad.category() == Errc::input);
  CHECK(bad.source() == index_path);
  CHECK_FALSE(fs::exists(dir / "out/c.pem"));
  CHECK(slurp(index_path) == "garbage\n");
}

TEST_CASE("write_files_and_record: the index in the same write, or the files alone and why not", "[crl]") {
  TempDir dir;
  const std::string ca_path = dir / "ca/ca.pem", index_path = dir / "ca/ca-index.txt";
  fs::create_directories(dir / "ca");
  Certificate a = issue_leaf("and-record-a"), b = issue_leaf("and-record-b");
  CHECK(write_files_and_record({OutputFile{dir / "out/a.pem", a.to_pem(), 0644}}, false, ca_path, {a}).empty());
  CHECK(CaIndex::load(index_path).find(normalize_serial_hex(a.serial_hex())) != nullptr);

  // A malformed index: the files are written, the index is left alone, and the reason names it.
  std::ofstream(index_path, std::ios::trunc) << "garbage\n";
  std::string why = write_files_and_record({OutputFile{dir / "out/b.pem", b.to_pem(), 0644}}, false, ca_path, {b});
  CHECK_THAT(why, Contains(index_path));
  CHECK(slurp(dir / "out/b.pem") == b.to_pem());
  CHECK(slurp(index_path) == "garbage\n");

  // An existing output is still an error, and nothing is written.
  Error e = catch_error([&] { write_files_and_record({OutputFile{dir / "out/a.pem", b.to_pem(), 0644}}, false, ca_path, {b}); });
  CHECK(e.category() == Errc::exists);
  CHECK(slurp(dir / "out/a.pem") == a.to_pem());
}

// ---------------------------------------------------------------------------------------------
// Crl
// ---------------------------------------------------------------------------------------------

TEST_CASE("Crl::make: fields, entries and signature", "[crl]") {
  const Ca& ca = shared_root();
  Signer signer = ca.signer();
  Certificate kept = issue_leaf("crl-kept");
  Certificate stolen = issue_leaf("crl-stolen");
  Certificate old = issue_leaf("crl-old");
  const TimePoint stolen_at = at("2025-03-09T10:00:00Z"), old_at = at("2025-03-08T00:00:00Z");

  CaIndex index;
  index.record_issued(kept);
  index.record_issued(stolen);
  index.record_issued(old);
  REQUIRE(index.revoke(stolen.serial_hex(), stolen_at, RevocationReason::key_compromise));
  REQUIRE(index.revoke(old.serial_hex(), old_at, RevocationReason::unspecified));
  REQUIRE(index.revoke("FF", stolen_at, RevocationReason::ca_compromise));  // top bit set: DER needs 00 FF

  CrlOptions opt;
  opt.now = fixed_now();
  Crl crl = Crl::make(signer, index, opt);

  CHECK(crl_version(crl) == X509_CRL_VERSION_2);
  CHECK(X509_NAME_cmp(X509_CRL_get_issuer(crl.native_handle()), X509_get_subject_name(ca.cert.native_handle())) == 0);
  CHECK(crl.issuer_string() == ca.cert.subject_string());
  CHECK(crl.issuer() == ca.cert.subject());
  CHECK_FALSE(crl.issuer().common_name.empty());
  CHECK(crl.this_update() == fixed_now());
  CHECK(crl.next_update() == std::optional<TimePoint>(fixed_now() + Seconds(7 * 24 * 3600)));  // the default

  // Only the R entries, with their dates; the reason only when not "unspecified" (RFC 5280).
  auto revoked = crl.revoked();
  REQUIRE(revoked.size() == 3);
  std::map<std::string, Crl::Revoked> by_serial;
  for (const auto& r : revoked) by_serial.emplace(r.serial, r);
  const std::string s_stolen = normalize_serial_hex(stolen.serial_hex()), s_old = normalize_serial_hex(old.serial_hex());
  REQUIRE(by_serial.count(s_stolen) == 1);
  REQUIRE(by_serial.count(s_old) == 1);
  REQUIRE(by_serial.count("FF") == 1);
  CHECK(by_serial.at(s_stolen).revoked_at == stolen_at);
  CHECK(by_serial.at(s_stolen).reason == std::optional<RevocationReason>(RevocationReason::key_compromise));
  CHECK(by_serial.at(s_old).revoked_at == old_at);
  CHECK_FALSE(by_serial.at(s_old).reason.has_value());
  CHECK(by_serial.at("FF").reason == std::optional<RevocationReason>(RevocationReason::ca_compromise));
  CHECK(crl.is_revoked(stolen.serial_hex()));
  CHECK(crl.is_revoked("0x00ff"));
  CHECK(crl.is_revoked("ff"));
  CHECK_FALSE(crl.is_revoked(kept.serial_hex()));
  CHECK_FALSE(crl.is_revoked("FE"));

  // The serial in the CRL is the certificate's own INTEGER.
  STACK_OF(X509_REVOKED)* list = X509_CRL_get_REVOKED(crl.native_handle());
  bool found = false;
  for (int i = 0; i < sk_X509_REVOKED_num(list); ++i)
    if (ASN1_INTEGER_cmp(X509_REVOKED_get0_serialNumber(sk_X509_REVOKED_value(list, i)),
                         X509_get0_serialNumber(stolen.native_handle())) == 0)
      found = true;
  CHECK(found);

  // AKI = the CA's SKI; CRL number = thisUpdate as Unix time.
  REQUIRE_FALSE(ca.cert.subject_key_id().empty());
  CHECK(crl.authority_key_id() == ca.cert.subject_key_id());
  CHECK(crl.crl_number() == std::optional<std::string>(unix_hex(fixed_now())));
  CHECK(X509_CRL_get_ext_by_NID(crl.native_handle(), NID_crl_number, -1) >= 0);

  // Signature: ours and OpenSSL's own check.
  CHECK(crl.signed_by(ca.cert));
  CHECK_FALSE(crl.signed_by(other_root().cert));
  CHECK_FALSE(crl.signed_by(kept));
  CHECK(X509_CRL_verify(crl.native_handle(), X509_get0_pubkey(ca.cert.native_handle())) == 1);
  CHECK(X509_CRL_verify(crl.native_handle(), X509_get0_pubkey(other_root().cert.native_handle())) != 1);
  ERR_clear_error();
  CHECK(crl.sha256_fingerprint().size() == 32 * 3 - 1);

  // A later CRL has a larger number and its own dates.
  CrlOptions later;
  later.now = fixed_now() + Seconds(3600);
  later.next_update = Seconds(24 * 3600);
  Crl crl2 = Crl::make(signer, index, later);
  CHECK(crl2.this_update() == fixed_now() + Seconds(3600));
  CHECK(crl2.next_update() == std::optional<TimePoint>(fixed_now() + Seconds(25 * 3600)));
  REQUIRE(crl2.crl_number().has_value());
  CHECK(std::stoull(*crl2.crl_number(), nullptr, 16) == std::stoull(*crl.crl_number(), nullptr, 16) + 3600);
}

TEST_CASE("Crl: the CRL number: explicit, and always increasing across write_crl", "[crl]") {
  CaIndex index;
  CrlOptions opt;
  opt.now = fixed_now();
  opt.number = 42;
  CHECK(Crl::make(shared_root().signer(), index, opt).crl_number() == std::optional<std::string>("2A"));
  opt.number = 0;
  CHECK(Crl::make(shared_root().signer(), index, opt).crl_number() == std::optional<std::string>("0"));

  TempDir dir;
  const std::string ca_path = dir / "ca.pem";
  auto number = [](const Crl& c) {
    REQUIRE(c.crl_number().has_value());
    return std::stoull(*c.crl_number(), nullptr, 16);
  };
  CrlOptions o;
  o.now = fixed_now();
  const uint64_t first = number(write_crl(shared_root().signer(), ca_path, o));
  CHECK(first == static_cast<uint64_t>(fixed_now().time_since_epoch().count()));
  // The same second again, then a clock that went back an hour: still increasing.
  const uint64_t second = number(write_crl(shared_root().signer(), ca_path, o));
  CHECK(second == first + 1);
  o.now = fixed_now() - Seconds(3600);
  const uint64_t third = number(write_crl(shared_root().signer(), ca_path, o));
  CHECK(third == first + 2);
  CHECK(number(Crl::from_bytes(slurp(dir / "ca.crl"))) == third);
  CHECK(number(Crl::from_bytes(slurp(dir / "ca-crl.pem"))) == third);
  // A later clock wins again.
  o.now = fixed_now() + Seconds(86400);
  CHECK(number(write_crl(shared_root().signer(), ca_path, o)) == first + 86400);
  // An explicit number is used as given.
  o.number = 7;
  CHECK(number(write_crl(shared_root().signer(), ca_path, o)) == 7);

  // An unreadable previous CRL is replaced.
  {
    std::ofstream out(dir / "ca.crl", std::ios::trunc);
    out << "garbage";
  }
  o.number.reset();
  o.now = fixed_now();
  Crl replaced = write_crl(shared_root().signer(), ca_path, o);
  CHECK(number(replaced) == first);
  CHECK(slurp(dir / "ca.crl") == replaced.to_der());
}

TEST_CASE("Crl: OpenSSL's verifier rejects the revoked certificate and accepts the others", "[crl]") {
  const Ca& ca = shared_root();
  Certificate good = issue_leaf("verify-good", {"good.example"}, {"signing", "server auth"});
  Certificate bad = issue_leaf("verify-bad", {"bad.example"}, {"signing", "server auth"});
  CaIndex index;
  index.record_issued(good);
  index.record_issued(bad);
  REQUIRE(index.revoke(bad.serial_hex(), fixed_now(), RevocationReason::key_compromise));
  CrlOptions opt;
  opt.now = fixed_now();
  Crl crl = Crl::make(ca.signer(), index, opt);

  auto verify = [&](const Certificate& leaf) {
    std::unique_ptr<X509_STORE, decltype(&X509_STORE_free)> store(X509_STORE_new(), X509_STORE_free);
    REQUIRE(X509_STORE_add_cert(store.get(), ca.cert.native_handle()) == 1);
    REQUIRE(X509_STORE_add_crl(store.get(), crl.native_handle()) == 1);
    std::unique_ptr<X509_STORE_CTX, decltype(&X509_STORE_CTX_free)> ctx(X509_STORE_CTX_new(), X509_STORE_CTX_free);
    REQUIRE(X509_STORE_CTX_init(ctx.get(), store.get(), leaf.native_handle(), nullptr) == 1);
    X509_STORE_CTX_set_flags(ctx.get(), X509_V_FLAG_CRL_CHECK);
    X509_STORE_CTX_set_time(ctx.get(), 0, static_cast<time_t>((fixed_now() + Seconds(3600)).time_since_epoch().count()));
    int ok = X509_verify_cert(ctx.get());
    int err = X509_STORE_CTX_get_error(ctx.get());
    ERR_clear_error();
    return std::make_pair(ok, err);
  };
  auto [ok_good, err_good] = verify(good);
  INFO("good: " << X509_verify_cert_error_string(err_good));
  CHECK(ok_good == 1);
  auto [ok_bad, err_bad] = verify(bad);
  CHECK(ok_bad != 1);
  CHECK(err_bad == X509_V_ERR_CERT_REVOKED);
}

TEST_CASE("Crl::make: every CA key type signs a CRL that verifies", "[crl]") {
  struct Case {
    KeySpec spec;
    int sig_nid;
  };
  const Case cases[] = {
      {KeySpec{KeyAlgo::ecdsa, 256}, NID_ecdsa_with_SHA256},
      {KeySpec{KeyAlgo::ecdsa, 384}, NID_ecdsa_with_SHA384},
      {KeySpec{KeyAlgo::rsa, 2048}, NID_sha256WithRSAEncryption},
      {KeySpec{KeyAlgo::ed25519, 0}, NID_ED25519},
  };
  for (const auto& c : cases) {
    INFO(c.spec.to_string());
    Ca ca = make_root(c.spec, "crl-" + c.spec.algo_name());
    CaIndex index;
    REQUIRE(index.revoke("0102", fixed_now(), RevocationReason::superseded));
    CrlOptions opt;
    opt.now = fixed_now();
    Crl crl = Crl::make(ca.signer(), index, opt);
    CHECK(X509_CRL_get_signature_nid(crl.native_handle()) == c.sig_nid);
    CHECK(crl.signed_by(ca.cert));
    CHECK(X509_CRL_verify(crl.native_handle(), X509_get0_pubkey(ca.cert.native_handle())) == 1);
    CHECK_FALSE(crl.signed_by(shared_root().cert));
    ERR_clear_error();
    REQUIRE(crl.revoked().size() == 1);
    CHECK(crl.revoked()[0].serial == "102");
  }
}

TEST_CASE("Crl::make: an empty index gives a CRL with no entries", "[crl]") {
  CrlOptions opt;
  opt.now = fixed_now();
  Crl crl = Crl::make(shared_root().signer(), CaIndex{}, opt);
  CHECK(crl.revoked().empty());
  CHECK(crl.signed_by(shared_root().cert));
  CHECK(crl_version(crl) == X509_CRL_VERSION_2);

  // V and E entries only: still empty.
  CaIndex only_valid = CaIndex::parse(
      "V\t350101000000Z\t\t1A2B\tunknown\t/CN=a\nE\t200101000000Z\t\t1A2C\tunknown\t/CN=b\n", "valid");
  CHECK(Crl::make(shared_root().signer(), only_valid, opt).revoked().empty());
}

TEST_CASE("Crl::make: refuses a zero or negative next update and a CA without crl sign", "[crl]") {
  CaIndex index;
  for (int64_t s : {0LL, -1LL, -3600LL}) {
    INFO("next_update " << s);
    CrlOptions opt;
    opt.now = fixed_now();
    opt.next_update = Seconds(s);
    Error e = catch_error([&] { Crl::make(shared_root().signer(), index, opt); });
    CHECK(e.category() == Errc::usage);
    CHECK(e.field() == "next update");  // the library names the field; the CLI the flag
  }

  // A self-signed CA whose key usage has cert sign but no crl sign: a valid Signer, no CRLs.
  KeyPair key = KeyPair::generate(KeySpec{KeyAlgo::ecdsa, 256});
  Request req;
  req.subject.common_name = "no-crl-sign";
  req.ca = CaOptions{};
  Profile p = profile_with({"cert sign"}, Seconds(87600LL * 3600), "ca-no-crl");
  p.ca = CaConstraint{true, 0, false};
  Certificate cert = Signer::self_sign(Csr::create(req, key), key, p, at_time(fixed_now())).certificate;
  REQUIRE(cert.is_ca());
  REQUIRE(cert.key_usage().has_value());
  REQUIRE((*cert.key_usage() & ku::crl_sign) == 0);
  REQUIRE((*cert.key_usage() & ku::cert_sign) != 0);
  Signer signer(cert, key);
  CrlOptions opt;
  opt.now = fixed_now();
  Error e = catch_error([&] { Crl::make(signer, index, opt); });
  CHECK(e.category() == Errc::ca);
  CHECK_THAT(e.message(), Contains("crl sign"));
}

TEST_CASE("Crl: DER and PEM round trips", "[crl]") {
  CaIndex index;
  REQUIRE(index.revoke("1A2B", at("2025-03-09T00:00:00Z"), RevocationReason::key_compromise));
  REQUIRE(index.revoke("3C4D", at("2025-03-09T01:00:00Z"), RevocationReason::unspecified));
  CrlOptions opt;
  opt.now = fixed_now();
  Crl crl = Crl::make(shared_root().signer(), index, opt);

  const std::string der = crl.to_der();
  REQUIRE_FALSE(der.empty());
  CHECK(static_cast<unsigned char>(der[0]) == 0x30);  // SEQUENCE
  const std::string pem = crl.to_pem();
  CHECK_THAT(pem, StartsWith("-----BEGIN X509 CRL-----\n") && EndsWith("-----END X509 CRL-----\n"));
  CHECK(pem_decode(pem).der == der);

  auto same = [&](const Crl& c) {
    CHECK(c.to_der() == der);
    CHECK(c.sha256_fingerprint() == crl.sha256_fingerprint());
    CHECK(c.issuer_string() == crl.issuer_string());
    CHECK(c.this_update() == crl.this_update());
    CHECK(c.next_update() == crl.next_update());
    CHECK(c.crl_number() == crl.crl_number());
    CHECK(c.authority_key_id() == crl.authority_key_id());
    REQUIRE(c.revoked().size() == 2);
    CHECK(c.is_revoked("1A2B"));
    CHECK(c.is_revoked("3C4D"));
    CHECK(c.signed_by(shared_root().cert));
  };
  same(Crl::from_bytes(der, "ca.crl"));
  same(Crl::from_bytes(pem, "ca-crl.pem"));
  // PEM after other blocks (a CA bundle followed by its CRL).
  same(Crl::from_bytes(shared_root().cert.to_pem() + pem, "bundle.pem"));
  CHECK(Crl::from_bytes(der).to_pem() == pem);
}

TEST_CASE("Crl::from_bytes: anything else is an input error naming the source", "[crl]") {
  const std::string der = [] {
    CrlOptions opt;
    opt.now = fixed_now();
    return Crl::make(shared_root().signer(), CaIndex{}, opt).to_der();
  }();
  struct Case {
    const char* what;
    std::string data;
    const char* why;
  };
  const Case cases[] = {
      {"empty", "", "not a CRL"},
      {"garbage", "this is not a CRL at all", "not a CRL"},
      {"truncated DER", der.substr(0, der.size() / 2), "not a CRL"},
      {"a certificate in DER", pem_decode(shared_root().cert.to_pem()).der, "not a CRL"},
      {"a certificate in PEM", shared_root().cert.to_pem(), "no PEM \"X509 CRL\" block found"},
      {"a CRL label over junk", pem_encode("X509 CRL", "junk bytes"), "cannot parse the CRL"},
  };
  for (const auto& c : cases) {
    INFO(c.what);
    Error e = catch_error([&] { Crl::from_bytes(c.data, "in.crl"); });
    CHECK(e.category() == Errc::input);
    CHECK(e.source() == "in.crl");
    CHECK_THAT(e.message(), Contains(c.why));
  }
}

TEST_CASE("write_crl: DER and PEM files next to the CA, from the index", "[crl]") {
  TempDir dir;
  const Ca& ca = shared_root();
  const std::string ca_path = dir / "ca.pem";
  {
    std::ofstream out(ca_path);
    out << ca.cert.to_pem();
  }
  Certificate a = issue_leaf("written-a"), b = issue_leaf("written-b"), c = issue_leaf("written-c");
  update_ca_index(CaIndex::path_for(ca_path), [&](CaIndex& index) {
    index.record_issued(a);
    index.record_issued(b);
    index.record_issued(c);
    index.revoke(a.serial_hex(), at("2025-03-09T00:00:00Z"), RevocationReason::key_compromise);
    index.revoke(c.serial_hex(), at("2025-03-09T12:00:00Z"), RevocationReason::superseded);
  });

  CrlOptions opt;
  opt.now = fixed_now();
  opt.next_update = Seconds(3 * 24 * 3600);
  Crl crl = write_crl(ca.signer(), ca_path, opt);
  REQUIRE(fs::exists(dir / "ca.crl"));
  REQUIRE(fs::exists(dir / "ca-crl.pem"));
  const std::string der = slurp(dir / "ca.crl");
  const std::string pem = slurp(dir / "ca-crl.pem");
  CHECK(der.find("-----BEGIN") == std::string::npos);
  CHECK(der == crl.to_der());
  CHECK_THAT(pem, StartsWith("-----BEGIN X509 CRL-----"));
  CHECK(pem == crl.to_pem());

  auto serials = [](const Crl& x) {
    std::vector<std::string> out;
    for (const auto& r : x.revoked()) out.push_back(r.serial + "@" + format_rfc3339(r.revoked_at) + "," +
                                                    (r.reason ? to_string(*r.reason) : "-"));
    std::sort(out.begin(), out.end());
    return out;
  };
  Crl from_der = Crl::from_bytes(der, dir / "ca.crl");
  Crl from_pem = Crl::from_bytes(pem, dir / "ca-crl.pem");
  std::vector<std::string> want{normalize_serial_hex(a.serial_hex()) + "@2025-03-09T00:00:00Z,keyCompromise",
                                normalize_serial_hex(c.serial_hex()) + "@2025-03-09T12:00:00Z,superseded"};
  std::sort(want.begin(), want.end());
  CHECK(serials(from_der) == want);
  CHECK(serials(from_pem) == want);
  CHECK(from_der.next_update() == std::optional<TimePoint>(fixed_now() + Seconds(3 * 24 * 3600)));
  CHECK(from_der.signed_by(ca.cert));
  CHECK(X509_CRL_verify(from_pem.native_handle(), X509_get0_pubkey(ca.cert.native_handle())) == 1);
  CHECK_FALSE(from_der.is_revoked(b.serial_hex()));
  CHECK(from_der.crl_number() == std::optional<std::string>(unix_hex(fixed_now())));

  // Rewriting replaces both files.
  update_ca_index(CaIndex::path_for(ca_path), [&](CaIndex& index) {
    index.revoke(b.serial_hex(), at("2025-03-10T00:00:00Z"), RevocationReason::cessation_of_operation);
  });
  opt.now = fixed_now() + Seconds(60);
  write_crl(ca.signer(), ca_path, opt);
  Crl rewritten = Crl::from_bytes(slurp(dir / "ca.crl"));
  CHECK(rewritten.revoked().size() == 3);
  CHECK(rewritten.this_update() == fixed_now() + Seconds(60));
  CHECK(Crl::from_bytes(slurp(dir / "ca-crl.pem")).to_der() == rewritten.to_der());

  // A CA with no index yet writes an empty CRL.
  TempDir empty;
  Crl none = write_crl(ca.signer(), empty / "ca.pem", opt);
  CHECK(none.revoked().empty());
  CHECK(Crl::from_bytes(slurp(empty / "ca.crl")).revoked().empty());
  CHECK_FALSE(fs::exists(empty / "ca-index.txt"));
}

TEST_CASE("openssl_serial_hex: an even number of digits, as openssl x509 -serial and the index print it", "[crl]") {
  // A serial whose first byte is below 0x10 normalizes to an odd number of digits; printing that
  // form made test_operate fail for 1 serial in 16.
  CHECK(openssl_serial_hex("5001D") == "05001D");
  CHECK(openssl_serial_hex("55001D") == "55001D");
  CHECK(openssl_serial_hex(normalize_serial_hex("05:50:01:DD")) == "055001DD");
  CaIndex index = CaIndex::parse("V\t350101000000Z\t\t055001DD\tunknown\t/CN=x\n", "i");
  CHECK(index.entries().at(0).serial == "55001DD");
  CHECK_THAT(index.to_text(), Contains("\t055001DD\t"));
}
