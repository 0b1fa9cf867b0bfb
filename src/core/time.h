// Timestamps: int64 nanoseconds since the Unix epoch, UTC. Formatting and parsing helpers.
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/result.h"

namespace tickflow {

using TimestampNs = int64_t;
using DurationNs = int64_t;

constexpr DurationNs kNsPerMs = 1'000'000;
constexpr DurationNs kNsPerSec = 1'000'000'000;
constexpr DurationNs kNsPerMin = 60 * kNsPerSec;
constexpr DurationNs kNsPerHour = 60 * kNsPerMin;
constexpr DurationNs kNsPerDay = 24 * kNsPerHour;

// "2021-08-14T14:46:36.572Z" (milliseconds, always UTC).
std::string format_iso8601_ms(TimestampNs ts);
void append_iso8601_ms(std::string& out, TimestampNs ts);
// "2021-08-14T14:46:36.572123456Z" (nanoseconds).
std::string format_iso8601_ns(TimestampNs ts);

// Accepts ISO-8601 ("2021-08-14T14:46:36Z", "...36.572Z", "...36.5+02:00", "2021-08-14")
// or an integer number of epoch milliseconds ("1628952396572").
Result<TimestampNs> parse_time(std::string_view text);
// ISO-8601 only (used for exchange timestamps such as Coinbase's).
Result<TimestampNs> parse_iso8601(std::string_view text);

// Days since 1970-01-01 for a civil date (proleptic Gregorian), and back.
int64_t days_from_civil(int64_t y, unsigned m, unsigned d);
void civil_from_days(int64_t z, int64_t& y, unsigned& m, unsigned& d);

}  // namespace tickflow
