// AlertRule: one user-configured alert rule (`[[alerts.rules]]` in the TOML config) and its
// validation. The rule reference (every kind, field, default and example) is in README.md.
//
// Kinds and the value each one watches (x) against its threshold:
//   cross_above / cross_below  x = series [− other]; fires when x moves from ≤ level to > level
//                              (or ≥ → <); the first observation only sets the side.
//   rsi_overbought / _oversold x = the RSI output (default rsi14); fires while x > level (< level).
//   volume_spike               x = bar volume / mean volume of the last `lookback` closed bars;
//                              fires while x > factor.
//   pct_move                   x = 100·(close − close `window` earlier)/close `window` earlier;
//                              fires while |x| > level (or x > level for direction "up", x < −level
//                              for "down").
//   stale_feed                 x = seconds since the scope's last data; fires while the quality
//                              reading says stale.
//   quality_below              x = quality score; fires while x < level.
// Every kind re-arms only once x moved back past level ∓ hysteresis (that is the "resolved"
// transition) and never fires again within `cooldown` of its previous firing.
//
// Validation errors name the config key ("alerts.rules[2].level") and the reason.
// Thread-safety: plain values.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/time.h"
#include "core/timeframe.h"

namespace tickflow::processing::alerts {

enum class RuleKind : uint8_t {
  kCrossAbove,
  kCrossBelow,
  kRsiOverbought,
  kRsiOversold,
  kVolumeSpike,
  kPctMove,
  kStaleFeed,
  kQualityBelow,
};
std::string_view rule_kind_name(RuleKind k);
std::optional<RuleKind> parse_rule_kind(std::string_view name);

// close: evaluated on closed (final) candles only — an alert never repaints; live: also on
// provisional updates of the open candle (fires as soon as the condition holds).
enum class Confirm : uint8_t { kClose, kLive };

// Where a series' values come from: candle fields (normalized.ohlcv) or indicator outputs
// (processed.indicators).
enum class Source : uint8_t { kCandle, kIndicator };

struct AlertRule {
  std::string name;  // unique among the rules; part of every alert id
  RuleKind kind = RuleKind::kCrossAbove;

  // Scope.
  std::string exchange = "binance";
  std::vector<std::string> symbols;  // unified (BASE-QUOTE); empty = every symbol
  std::string timeframe;             // candle and indicator kinds: required ("1m")
  std::string scope = "feed";        // stale_feed / quality_below: "feed" or "series"

  // What is watched.
  std::string series;            // cross: candle field (open high low close volume) or indicator output
  std::string other;             // cross: a second series of the same source (x = series − other)
  std::optional<double> level;   // threshold (defaults per kind, see README)
  double hysteresis = 0;         // ≥ 0, in x's unit
  double factor = 0;             // volume_spike: x > factor (> 0)
  int lookback = 20;             // volume_spike: baseline bars
  DurationNs window = 0;         // pct_move: a multiple of the timeframe
  std::string direction = "both";  // pct_move: up | down | both

  DurationNs cooldown = 0;
  Confirm confirm = Confirm::kClose;
  std::string severity = "warning";  // info | warning | critical
  std::vector<std::pair<std::string, std::string>> labels;

  // Derived by validate_rules (filled in place).
  Timeframe tf;
  Source source = Source::kCandle;
  double threshold = 0;  // the effective level
  int window_bars = 0;   // pct_move: window / timeframe
};

struct RuleError {
  std::string key;      // "alerts.rules[2].level"
  std::string message;  // "must be in (0, 100)"
  std::string to_string() const { return key + ": " + message; }
};

// Validates every rule (key names use `prefix`, e.g. "alerts.rules") and fills the derived
// fields. Returns the first error.
std::optional<RuleError> validate_rules(std::vector<AlertRule>& rules, std::string_view prefix = "alerts.rules");

// True for the candle fields a rule may watch: open, high, low, close, volume.
bool is_candle_field(std::string_view name);

}  // namespace tickflow::processing::alerts
