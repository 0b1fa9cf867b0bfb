// AlertEngine: evaluates validated AlertRules on candles, indicator records and data-quality
// readings and emits Alert transitions ("firing", then "resolved" once the condition clears
// past the hysteresis). Pure and deterministic: no wall clock — candle and indicator rules use
// the bar's open time, quality rules the `now` passed with the readings.
//
// Per (rule, series) the engine keeps a small state machine:
//   unknown (cross kinds only: the first observation sets the side, a cross needs both sides)
//   armed   → condition holds, outside the cooldown and not the bar of the previous firing → FIRE
//   active  → value moves back past level ∓ hysteresis → RESOLVED, armed again
//   latched (cross seen first on the firing side: re-arms like active, without a transition)
// A condition that holds during the cooldown fires on the first evaluation after it, if it still
// holds. A rule never fires twice for the same bar.
//
// confirm = close: only closed candles (final; the first final of a bar) and non-provisional
// indicator records are evaluated; a corrected candle of an already evaluated bar only updates
// the volume/close history (alerts are never repainted). confirm = live: provisional updates
// of the open bar are evaluated too.
//
// Stable ids: "<rule>:<exchange>:<symbol>:<timeframe>:<bar open ms>:firing" and the same with
// ":resolved" for the episode's resolution (the bar is the firing bar); quality rules use the
// scope ("<rule>:<exchange>[:<symbol>]") and the episode start (stale: the last data time;
// quality_below: the time it fired). Replays of the same input give the same ids.
//
// State: one blob per (rule, series) under key "<rule name>|<series>", written by take_dirty()
// (what changed since the last call) and read back by restore(). Format in README.md.
// Thread-safety: not thread-safe; one owner (the AlertProcessor's consuming thread).
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/analytics.h"
#include "core/candle.h"
#include "core/result.h"
#include "processing/alerts/rule.h"

namespace tickflow::processing::alerts {

class AlertEngine {
 public:
  // `rules` must have passed validate_rules.
  explicit AlertEngine(std::vector<AlertRule> rules);
  ~AlertEngine();
  AlertEngine(AlertEngine&&) noexcept;
  AlertEngine& operator=(AlertEngine&&) noexcept;

  // Each appends the transitions the input caused to `out`.
  void on_candle(const Candle& c, std::vector<Alert>& out);
  void on_indicators(const IndicatorRecord& r, std::vector<Alert>& out);
  void on_quality(std::span<const QualityReading> readings, TimestampNs now, std::vector<Alert>& out);

  // True when some rule reads this input (the processor skips decoding otherwise).
  bool wants_candles() const;
  // True when some candle rule is confirm = live (provisional candles matter).
  bool wants_provisional_candles() const;
  bool wants_indicators() const;
  bool wants_quality() const;

  // State blobs changed since the last call: (key, blob).
  std::vector<std::pair<std::string, std::string>> take_dirty();
  // Restores one blob written by take_dirty. A key naming a rule that no longer exists (or whose
  // kind changed) is ignored; a malformed blob is kCorruption and changes nothing.
  Status restore(std::string_view key, std::string_view blob);

  const std::vector<AlertRule>& rules() const;
  size_t state_count() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace tickflow::processing::alerts
