// Timeframe: a candle window length aligned to the UTC epoch.
//
// Any duration that divides a day (1s, 90s, 2m, 5m, 15m, 1h, 4h, 1d ...) aligns to midnight
// UTC; 1w aligns to Monday 00:00 UTC. Labels are canonical: the largest unit that divides the
// duration exactly ("120s" parses and prints as "2m").
// Thread-safety: plain values.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "core/time.h"

namespace tickflow {

class Timeframe {
 public:
  Timeframe() = default;
  static Result<Timeframe> parse(std::string_view label);
  // "1m,5m,1h" or "1m 5m 1h" → list; errors name the bad entry.
  static Result<std::vector<Timeframe>> parse_list(std::string_view labels);
  static Timeframe from_duration(DurationNs d);  // d must be valid (see parse)

  DurationNs duration_ns() const { return duration_; }
  const std::string& label() const { return label_; }
  bool valid() const { return duration_ > 0; }

  // Start of the window containing ts.
  TimestampNs open_time(TimestampNs ts) const {
    TimestampNs shifted = ts - offset_;
    TimestampNs q = shifted / duration_;
    if (shifted % duration_ < 0) --q;
    return q * duration_ + offset_;
  }
  // Exclusive end of the window that opens at open.
  TimestampNs end_time(TimestampNs open) const { return open + duration_; }

  friend bool operator==(const Timeframe& a, const Timeframe& b) { return a.duration_ == b.duration_; }
  friend bool operator<(const Timeframe& a, const Timeframe& b) { return a.duration_ < b.duration_; }

 private:
  DurationNs duration_ = 0;
  DurationNs offset_ = 0;  // 4 days for 1w: 1970-01-05 was a Monday
  std::string label_;
};

// The default set: 1m 5m 15m 1h 4h 1d.
const std::vector<Timeframe>& default_timeframes();

}  // namespace tickflow
