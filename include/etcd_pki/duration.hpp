#pragma once
// Durations as cfssl writes them: Go's time.ParseDuration ("8760h", "1h30m", "90s"), plus the
// units "d" (24h) and "y" (365d) as an extension ("365d", "10y").
#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "etcd_pki/error.hpp"

namespace etcd_pki {

using Seconds = std::chrono::seconds;
using TimePoint = std::chrono::sys_seconds;

// Throws Error(category, ...) naming what is wrong; `source`/`field` go into the message. The
// category is that of the input the duration is in (error.hpp): Errc::config for ca-config.json
// and the command line, Errc::input for a CSR JSON or a cluster spec.
// Precision below one second is rounded down: certificates carry whole seconds.
Seconds parse_duration(std::string_view text, std::string source = {}, std::string field = {},
                       Errc category = Errc::config);

// RFC 3339 timestamps as in cfssl's not_before/not_after ("2030-01-01T00:00:00Z",
// "2030-01-01T02:00:00+02:00"); fractions of a second are dropped. Errors are Errc::config.
TimePoint parse_rfc3339(std::string_view text, std::string source = {}, std::string field = {});
std::string format_rfc3339(TimePoint t);  // "2030-01-01T00:00:00Z"

// The fixed clock when given (tests), else the system time in whole seconds.
TimePoint now_or(const std::optional<TimePoint>& fixed);

// "8760h", "90m", "1h30m", "45s", "0s": the shortest Go-style spelling.
std::string format_duration(Seconds d);

// A span for people, to two units: "364d 23h", "5h 2m", "59s". Negative spans as positive.
std::string format_span(Seconds d);
// "in 364d 23h" or "3d 2h ago" (`at` relative to `now`).
std::string format_time_left(TimePoint at, TimePoint now);

}  // namespace etcd_pki
