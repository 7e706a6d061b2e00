#include "etcd_pki/duration.hpp"

#include <cmath>
#include <cstdio>
#include <cstdint>
#include <limits>

#include "etcd_pki/error.hpp"

namespace etcd_pki {

Seconds parse_duration(std::string_view text, std::string source, std::string field, Errc category) {
  auto fail = [&](const std::string& why) -> Error {
    return Error(category, "invalid duration \"" + std::string(text) + "\": " + why, source, field);
  };
  std::string_view s = text;
  if (s.empty()) throw fail("empty (write e.g. \"8760h\", \"365d\" or \"10y\")");
  bool negative = false;
  if (s.front() == '-' || s.front() == '+') {
    negative = s.front() == '-';
    s.remove_prefix(1);
  }
  if (s == "0") return Seconds(0);
  if (s.empty()) throw fail("missing number");
  long double total_ns = 0;
  while (!s.empty()) {
    size_t i = 0;
    long double value = 0;
    bool digits = false;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') value = value * 10 + (s[i++] - '0'), digits = true;
    if (i < s.size() && s[i] == '.') {
      ++i;
      long double scale = 0.1L;
      while (i < s.size() && s[i] >= '0' && s[i] <= '9') value += (s[i++] - '0') * scale, scale /= 10, digits = true;
    }
    if (!digits) throw fail("expected a number at \"" + std::string(s) + "\"");
    size_t u = i;
    while (u < s.size() && !(s[u] >= '0' && s[u] <= '9') && s[u] != '.') ++u;
    std::string_view unit = s.substr(i, u - i);
    long double ns_per;
    if (unit == "ns") ns_per = 1;
    else if (unit == "us" || unit == "\xC2\xB5s" || unit == "\xCE\xBCs") ns_per = 1e3L;
    else if (unit == "ms") ns_per = 1e6L;
    else if (unit == "s") ns_per = 1e9L;
    else if (unit == "m") ns_per = 60e9L;
    else if (unit == "h") ns_per = 3600e9L;
    else if (unit == "d") ns_per = 86400e9L;
    else if (unit == "y") ns_per = 365 * 86400e9L;
    else if (unit.empty()) throw fail("missing unit (use h, m, s, d or y)");
    else throw fail("unknown unit \"" + std::string(unit) + "\" (use h, m, s, d or y)");
    total_ns += value * ns_per;
    s.remove_prefix(u);
  }
  long double secs = std::floor(total_ns / 1e9L);
  // 1000 years is far past anything X.509 can hold (year 9999) from today; refuse absurd values.
  if (secs > 1000.0L * 365 * 86400) throw fail("too long (more than 1000 years)");
  auto whole = static_cast<int64_t>(secs);
  return Seconds(negative ? -whole : whole);
}

std::string format_duration(Seconds d) {
  int64_t s = d.count();
  std::string out = s < 0 ? "-" : "";
  if (s < 0) s = -s;
  if (s == 0) return "0s";
  if (int64_t h = s / 3600) out += std::to_string(h) + "h";
  if (int64_t m = (s % 3600) / 60) out += std::to_string(m) + "m";
  if (int64_t r = s % 60) out += std::to_string(r) + "s";
  return out;
}

}  // namespace etcd_pki

namespace etcd_pki {

TimePoint parse_rfc3339(std::string_view text, std::string source, std::string field) {
  auto fail = [&] {
    return Error(Errc::config, "invalid time \"" + std::string(text) + "\" (write RFC 3339, e.g. 2030-01-01T00:00:00Z)",
                 source, field);
  };
  auto num = [&](size_t pos, size_t len) {
    if (pos + len > text.size()) throw fail();
    int v = 0;
    for (size_t i = pos; i < pos + len; ++i) {
      if (text[i] < '0' || text[i] > '9') throw fail();
      v = v * 10 + (text[i] - '0');
    }
    return v;
  };
  auto expect = [&](size_t pos, std::string_view chars) {
    if (pos >= text.size() || chars.find(text[pos]) == std::string_view::npos) throw fail();
  };
  int year = num(0, 4);
  expect(4, "-");
  int month = num(5, 2);
  expect(7, "-");
  int day = num(8, 2);
  expect(10, "Tt");
  int hour = num(11, 2);
  expect(13, ":");
  int minute = num(14, 2);
  expect(16, ":");
  int second = num(17, 2);
  size_t pos = 19;
  if (pos < text.size() && text[pos] == '.') {
    ++pos;
    size_t start = pos;
    while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') ++pos;
    if (pos == start) throw fail();
  }
  int offset = 0;
  if (pos < text.size() && (text[pos] == 'Z' || text[pos] == 'z')) {
    ++pos;
  } else if (pos < text.size() && (text[pos] == '+' || text[pos] == '-')) {
    int sign = text[pos] == '-' ? -1 : 1;
    int oh = num(pos + 1, 2);
    expect(pos + 3, ":");
    int om = num(pos + 4, 2);
    offset = sign * (oh * 3600 + om * 60);
    pos += 6;
  } else {
    throw fail();
  }
  if (pos != text.size()) throw fail();
  using namespace std::chrono;
  year_month_day ymd{std::chrono::year(year), std::chrono::month(static_cast<unsigned>(month)),
                     std::chrono::day(static_cast<unsigned>(day))};
  if (!ymd.ok() || hour > 23 || minute > 59 || second > 60) throw fail();
  return sys_days(ymd) + hours(hour) + minutes(minute) + seconds(second) - seconds(offset);
}

std::string format_rfc3339(TimePoint t) {
  using namespace std::chrono;
  auto days = floor<std::chrono::days>(t);
  year_month_day ymd(days);
  hh_mm_ss hms(t - days);
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02d:%02d:%02dZ", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()), static_cast<int>(hms.hours().count()),
                static_cast<int>(hms.minutes().count()), static_cast<int>(hms.seconds().count()));
  return buf;
}

TimePoint now_or(const std::optional<TimePoint>& fixed) {
  return fixed ? *fixed : std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now());
}

std::string format_span(Seconds d) {
  long long s = d.count() < 0 ? -d.count() : d.count();
  long long days = s / 86400, hours = s % 86400 / 3600, minutes = s % 3600 / 60, secs = s % 60;
  auto two = [](long long a, const char* ua, long long b, const char* ub) {
    return std::to_string(a) + ua + (b ? " " + std::to_string(b) + ub : std::string());
  };
  if (days) return two(days, "d", hours, "h");
  if (hours) return two(hours, "h", minutes, "m");
  if (minutes) return two(minutes, "m", secs, "s");
  return std::to_string(secs) + "s";
}

std::string format_time_left(TimePoint at, TimePoint now) {
  return at >= now ? "in " + format_span(at - now) : format_span(now - at) + " ago";
}

}  // namespace etcd_pki
