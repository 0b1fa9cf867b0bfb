// IndicatorSet: the indicators configured for one series, built from a spec string such as
// "sma:20,ema:20,rsi:14,macd:12:26:9,bb:20:2,atr:14,vwap", fed closed bars in time order, with
// named outputs (sma20, ema20, rsi14, macd, macd_signal, macd_hist, bb_upper, bb_middle, bb_lower,
// atr14, vwap, vwap20) that are empty while warming up and never NaN/Inf.
//
// Spec entries (comma separated, parameters colon separated):
//   sma:N  ema:N  rsi:N  atr:N       → smaN, emaN, rsiN, atrN
//   macd[:FAST:SLOW:SIGNAL]          → macd, macd_signal, macd_hist      (default 12:26:9, FAST < SLOW)
//   bb[:N[:K]]                        → bb_upper, bb_middle, bb_lower     (default 20:2, K > 0)
//   vwap                              → vwap   (session VWAP, resets at 00:00 UTC)
//   vwap:N                            → vwapN  (rolling over N bars)
// Periods are 1..1,000,000. When a spec has several macd (or bb) entries, every one of them gets
// its parameters as a suffix: macd_5_35_5, macd_signal_5_35_5, bb_upper_20_2.5, ... Repeating an
// identical entry is an error. Errors name the offending entry.
//
// State: serialize() is a byte string (format in README.md) that restore() accepts on a set made
// from the same spec; restore-then-continue yields bit-identical outputs to an uninterrupted set.
// Thread-safety: a value; one writer at a time. Cheap to move.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/result.h"
#include "processing/indicators/indicators.h"

namespace tickflow::processing::indicators {

// The pipeline's default spec ([indicators] spec).
inline constexpr std::string_view kDefaultIndicatorSpec = "sma:20,ema:20,rsi:14,macd:12:26:9,bb:20:2,atr:14,vwap";

// One parsed spec entry.
struct IndicatorSpec {
  enum class Kind : uint8_t { kSma, kEma, kRsi, kMacd, kBollinger, kAtr, kVwapSession, kVwapRolling };
  Kind kind = Kind::kSma;
  uint32_t n = 0;                         // period (sma/ema/rsi/atr/bb/rolling vwap; macd: fast)
  uint32_t slow = 0, signal = 0;          // macd
  double k = 0;                           // bb
  std::string canonical;                  // "macd:12:26:9", "bb:20:2", "vwap", ...
  std::vector<std::string> output_names;  // filled by parse_indicator_spec
};

// Parses a whole spec; errors are kInvalidArgument naming the entry and the reason.
Result<std::vector<IndicatorSpec>> parse_indicator_spec(std::string_view spec);

class IndicatorSet {
 public:
  static Result<IndicatorSet> create(std::string_view spec);

  // Feeds one closed bar. Rejects (kInvalidArgument, state unchanged) a bar with a non-finite
  // price or volume, a negative volume, or a magnitude beyond 1e100 (which keeps every internal
  // sum and square finite).
  Status update(const Bar& bar);

  // Output names, in spec order; values() is aligned with them.
  const std::vector<std::string>& names() const { return names_; }
  // Values after the last update; nullopt while warming up (never NaN/Inf).
  std::span<const std::optional<double>> values() const { return values_; }
  // The value of one output by name (nullopt when warming up or unknown).
  std::optional<double> value(std::string_view name) const;

  // True when the set needs high and low (ATR) or volume (VWAP).
  bool needs_high_low() const { return needs_high_low_; }
  bool needs_volume() const { return needs_volume_; }
  // Bars needed before every output has a value (max over the entries; session VWAP counts 1).
  uint64_t warmup_bars() const { return warmup_; }
  uint64_t bars() const { return bars_; }
  const std::string& spec() const { return spec_; }  // canonical spec
  const std::vector<IndicatorSpec>& entries() const { return entries_; }

  std::string serialize() const;
  // Replaces the state with a blob from serialize() of a set with the same canonical spec.
  // kInvalidArgument on a different spec, kCorruption on a malformed blob (state unchanged).
  Status restore(std::string_view blob);

 private:
  using Engine = std::variant<Sma, Ema, Rsi, Macd, Bollinger, Atr, SessionVwap, RollingVwap>;
  IndicatorSet() = default;
  void publish();

  std::string spec_;
  std::vector<IndicatorSpec> entries_;
  std::vector<Engine> engines_;
  std::vector<std::string> names_;
  std::vector<std::optional<double>> values_;
  bool needs_high_low_ = false, needs_volume_ = false;
  uint64_t warmup_ = 0;
  uint64_t bars_ = 0;
};

}  // namespace tickflow::processing::indicators
