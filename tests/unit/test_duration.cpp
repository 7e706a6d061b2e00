// duration.hpp: Go durations plus d/y, RFC 3339 times.
#include "support.hpp"

using namespace test;

namespace {
constexpr int64_t H = 3600;
constexpr int64_t D = 86400;
}  // namespace

TEST_CASE("parse_duration accepts Go's units and the d/y extension", "[duration]") {
  struct Case {
    const char* text;
    int64_t seconds;
  };
  const Case cases[] = {
      {"8760h", 8760 * H},
      {"87600h", 87600 * H},
      {"43800h", 43800 * H},
      {"1h30m", 90 * 60},
      {"1h30m15s", 5415},
      {"2h45m30s", 2 * H + 45 * 60 + 30},
      {"90s", 90},
      {"90m", 90 * 60},
      {"45s", 45},
      {"1.5h", 5400},
      {".5h", 1800},
      {"1500ms", 1},                 // below one second is rounded down
      {"999ms", 0},
      {"300000000ns", 0},
      {"2000000000ns", 2},
      {"3000000us", 3},
      {"4000000\xC2\xB5s", 4},       // U+00B5 micro sign
      {"5000000\xCE\xBCs", 5},       // U+03BC greek mu
      {"365d", 365 * D},
      {"1d", D},
      {"1d12h", D + 12 * H},
      {"10y", 10 * 365 * D},
      {"1y", 365 * D},
      {"1y1d", 366 * D},
      {"0", 0},
      {"0s", 0},
      {"0h", 0},
      {"-0", 0},
      {"-1h", -H},
      {"-1h30m", -90 * 60},
      {"+5m", 300},
      {"1000y", 1000 * 365 * D},     // the upper limit itself
  };
  for (const auto& c : cases) {
    INFO("\"" << c.text << "\"");
    CHECK(parse_duration(c.text).count() == c.seconds);
  }
}

TEST_CASE("parse_duration refuses bad input with a message naming the problem", "[duration]") {
  struct Case {
    const char* text;
    const char* expect;  // substring of the message
  };
  const Case cases[] = {
      {"", "empty"},
      {"10x", "unknown unit \"x\""},
      {"10Y", "unknown unit \"Y\""},
      {"1H", "unknown unit \"H\""},
      {"5 days", "unknown unit \" days\""},
      {"3w", "unknown unit \"w\""},
      {"1h30", "missing unit"},
      {"10", "missing unit"},
      {"h", "expected a number at \"h\""},
      {"1hm", "unknown unit \"hm\""},
      {"1h.m", "expected a number at \".m\""},
      {"-", "missing number"},
      {"+", "missing number"},
      {"--1h", "expected a number"},
      {"1001y", "too long"},
      {"-1001y", "too long"},
      {"99999999999999999999h", "too long"},
  };
  for (const auto& c : cases) {
    INFO("\"" << c.text << "\"");
    Error e = catch_error([&] { parse_duration(c.text); });
    CHECK(e.category() == Errc::config);
    CHECK_THAT(e.message(), StartsWith("invalid duration \"" + std::string(c.text) + "\""));
    CHECK_THAT(e.message(), Contains(c.expect));
  }
}

TEST_CASE("parse_duration puts source and field into the message", "[duration]") {
  Error e = catch_error([] { parse_duration("365x", "ca-config.json", "signing.profiles.peer.expiry"); });
  CHECK(e.category() == Errc::config);
  CHECK(e.source() == "ca-config.json");
  CHECK(e.field() == "signing.profiles.peer.expiry");
  CHECK(std::string(e.what()) ==
        "ca-config.json: signing.profiles.peer.expiry: invalid duration \"365x\": unknown unit \"x\" (use h, m, s, d or y)");
}

TEST_CASE("format_duration writes the shortest Go spelling", "[duration]") {
  struct Case {
    int64_t seconds;
    const char* text;
  };
  const Case cases[] = {
      {0, "0s"},           {45, "45s"},         {60, "1m"},          {90, "1m30s"},
      {5400, "1h30m"},     {3600, "1h"},        {3661, "1h1m1s"},    {3601, "1h1s"},
      {8760 * H, "8760h"}, {87600 * H, "87600h"}, {-3600, "-1h"},    {-90, "-1m30s"},
      {365 * D, "8760h"},
  };
  for (const auto& c : cases) {
    INFO(c.seconds);
    CHECK(format_duration(Seconds(c.seconds)) == c.text);
    CHECK(parse_duration(format_duration(Seconds(c.seconds))).count() == c.seconds);  // round trip
  }
}

TEST_CASE("parse_rfc3339 reads cfssl's not_before/not_after timestamps", "[duration]") {
  using namespace std::chrono;
  const TimePoint y2030 = sys_days(year(2030) / January / 1);
  struct Case {
    const char* text;
    TimePoint expect;
  };
  const Case cases[] = {
      {"2030-01-01T00:00:00Z", y2030},
      {"2030-01-01T02:00:00+02:00", y2030},
      {"2029-12-31T19:00:00-05:00", y2030},
      {"2029-12-31T18:30:00-05:30", y2030},
      {"2030-01-01t00:00:00z", y2030},
      {"2030-01-01T00:00:00.999999Z", y2030},  // fractions dropped
      {"2031-06-30T12:00:00Z", sys_days(year(2031) / June / 30) + 12h},
      {"2024-02-29T23:59:59Z", sys_days(year(2024) / February / 29) + 23h + 59min + 59s},
      {"1970-01-01T00:00:00Z", TimePoint(Seconds(0))},
      {"2050-01-01T00:00:00Z", sys_days(year(2050) / January / 1)},
  };
  for (const auto& c : cases) {
    INFO(c.text);
    CHECK(parse_rfc3339(c.text) == c.expect);
  }
}

TEST_CASE("parse_rfc3339 refuses what is not RFC 3339", "[duration]") {
  const char* bad[] = {
      "",
      "2030-01-01",                  // a date alone (cfssl fails too)
      "2030-01-01T00:00:00",         // no zone
      "2030-01-01 00:00:00Z",        // space separator
      "2030-02-30T00:00:00Z",        // no such day
      "2023-02-29T00:00:00Z",        // not a leap year
      "2030-13-01T00:00:00Z",
      "2030-01-01T24:00:00Z",
      "2030-01-01T00:60:00Z",
      "2030-01-01T00:00:00ZZ",       // trailing text
      "2030-01-01T00:00:00.Z",       // empty fraction
      "2030-01-01T00:00:00+0200",    // offset without colon
      "30-01-01T00:00:00Z",
      "2030-1-01T00:00:00Z",
  };
  for (const char* text : bad) {
    INFO("\"" << text << "\"");
    Error e = catch_error([&] { parse_rfc3339(text, "cfg.json", "signing.default.not_before"); });
    CHECK(e.category() == Errc::config);
    CHECK(e.source() == "cfg.json");
    CHECK(e.field() == "signing.default.not_before");
    CHECK_THAT(e.message(), Contains("RFC 3339"));
  }
}

TEST_CASE("format_rfc3339 writes UTC with a Z and round-trips", "[duration]") {
  struct Case {
    const char* in;
    const char* out;
  };
  const Case cases[] = {
      {"2030-01-01T00:00:00Z", "2030-01-01T00:00:00Z"},
      {"2030-01-01T02:03:04+02:00", "2030-01-01T00:03:04Z"},
      {"2025-03-10T12:34:29Z", "2025-03-10T12:34:29Z"},
      {"2099-12-31T23:59:59Z", "2099-12-31T23:59:59Z"},
      {"1999-07-04T08:09:10Z", "1999-07-04T08:09:10Z"},
  };
  for (const auto& c : cases) {
    INFO(c.in);
    CHECK(format_rfc3339(parse_rfc3339(c.in)) == c.out);
  }
}
