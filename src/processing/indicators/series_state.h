// SeriesIndicators: the indicator state of ONE series (exchange, symbol, timeframe) inside the
// indicator stage — an IndicatorSet plus checkpoints so a corrected candle can be re-applied.
//
// Model: `base` is the IndicatorSet state BEFORE the oldest retained bar; `bars` are the last
// `capacity` closed bars applied (oldest first) with their candle revision and the revision of
// the indicator record last published for them; `current` = base + every retained bar (derived,
// rebuilt by replay on restore). Per closed candle (status final or corrected):
//   - open_time after the newest applied bar → appended (one O(1) update of `current`; once the
//     window is full the oldest bar is folded into `base`). A jump of more than one timeframe is
//     a gap: the bars are applied as consecutive (indicators are bar-based), counted.
//   - open_time of a retained bar, revision higher than the applied one → CORRECTION: the bar is
//     replaced and `current` rebuilt from `base` by replay; records are republished for the
//     corrected bar and every later retained bar (their values may change).
//   - open_time of a retained bar with an equal or lower revision → replay, ignored.
//   - open_time older than the oldest retained bar, or between retained bars without one
//     (a bar that was never applied) → cannot be applied exactly, ignored and counted.
// Record revisions: IndicatorRecord::candle_revision is the candle's revision, raised when
// needed so each republication of a bar is strictly higher than the previous one (sinks keep the
// highest revision per open time, so a cascade of corrections always lands).
//
// Warm-up: warm() appends a stored closed candle without publishing (same path, so warm-up bars
// are also correctable).
// State blob (serialize/restore, format v1): "tfis", 1, exchange, symbol, timeframe label,
// capacity, base.serialize(), bar count, then per bar open/close time, revisions and the bar's
// doubles (bit-exact). restore() requires the same canonical spec (else kInvalidArgument: the
// caller warms up again) and validates the blob (kCorruption).
// Thread-safety: a value, one writer at a time.
#pragma once

#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <vector>

#include "core/analytics.h"
#include "core/candle.h"
#include "core/result.h"
#include "processing/indicators/indicator_set.h"

namespace tickflow::processing::indicators {

enum class ApplyOutcome : uint8_t {
  kApplied,     // new bar, one record
  kGapApplied,  // new bar after missing ones, one record
  kCorrected,   // correction replayed, records from the bar on
  kDuplicate,   // already applied at this or a higher revision
  kTooOld,      // older than the retained checkpoints (or never applied): ignored
  kRejected,    // the IndicatorSet rejected the bar (non-finite / out of range)
};
std::string_view apply_outcome_name(ApplyOutcome o);

// Checkpoints to keep for a timeframe: ceil(horizon / timeframe) + 1, within [1, cap].
uint32_t checkpoint_capacity(DurationNs correction_horizon, const Timeframe& tf, uint32_t cap);

class SeriesIndicators {
 public:
  static Result<SeriesIndicators> create(Exchange exchange, std::string symbol, Timeframe timeframe,
                                         std::string_view spec, uint32_t capacity);

  // Applies a closed candle of this series (provisional candles must not be passed); appends
  // the records to publish to `out`.
  ApplyOutcome apply(const Candle& c, std::vector<IndicatorRecord>& out);
  // Applies a stored closed candle without publishing (warm-up). Older-than-newest candles are
  // ignored.
  void warm(const Candle& c);

  const IndicatorSet& current() const { return current_; }
  bool empty() const { return bars_.empty() && base_.bars() == 0; }
  TimestampNs newest_open_time() const { return bars_.empty() ? newest_ : bars_.back().open_time; }
  size_t retained() const { return bars_.size(); }
  uint32_t capacity() const { return capacity_; }

  std::string serialize() const;
  // Restores a blob of serialize(); `spec` is the configured spec for the series' timeframe.
  static Result<SeriesIndicators> restore(std::string_view blob, std::string_view spec);

 private:
  struct Slot {
    TimestampNs open_time = 0, close_time = 0;
    uint32_t candle_revision = 0;
    uint32_t published_revision = 0;
    Bar bar;
  };
  SeriesIndicators(IndicatorSet set) : base_(set), current_(std::move(set)) {}

  bool append(const Candle& c, bool publish, std::vector<IndicatorRecord>& out);
  IndicatorRecord record_of(const Slot& s) const;

  Exchange exchange_ = Exchange::kBinance;
  std::string symbol_;
  Timeframe timeframe_;
  uint32_t capacity_ = 1;
  IndicatorSet base_;     // state before bars_.front()
  IndicatorSet current_;  // base_ + bars_
  std::deque<Slot> bars_;
  TimestampNs newest_ = 0;  // newest open time folded into base_ (when bars_ is empty)
};

}  // namespace tickflow::processing::indicators
