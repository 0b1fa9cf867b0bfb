// Analytics records carried on the bus: indicator outputs of a candle (processed.indicators)
// and alert transitions (processed.alerts). Encoded by core/codec (IndicatorEvent, AlertEvent).
// Thread-safety: plain values.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "core/symbol.h"
#include "core/time.h"
#include "core/timeframe.h"

namespace tickflow {

// Indicator outputs computed on one candle of one series.
struct IndicatorRecord {
  Exchange exchange = Exchange::kBinance;
  std::string symbol;  // unified
  Timeframe timeframe;
  TimestampNs open_time = 0;
  TimestampNs close_time = 0;
  uint32_t candle_revision = 0;
  bool provisional = false;  // on the open candle: may still change
  // (output name, value), in the IndicatorSet's order; outputs still warming up are absent.
  // Values are always finite.
  std::vector<std::pair<std::string, double>> values;

  std::string series_key() const { return tickflow::series_key(exchange, symbol, timeframe.label()); }
};

// One alert transition. alert_id is stable (same rule, series, trigger and state → same id),
// so every receiver can count a firing once even after a retry or a restart.
struct Alert {
  std::string alert_id;
  std::string rule;
  std::string kind;
  std::string state = "firing";  // "firing" | "resolved"
  std::string severity = "warning";
  std::string exchange;  // exchange name ("binance"); may be empty for pipeline-wide alerts
  std::string symbol;
  std::string timeframe;
  TimestampNs ts_event = 0;
  double value = 0;
  double threshold = 0;
  std::string message;
  std::vector<std::pair<std::string, std::string>> labels;
};

// Data-quality reading of one feed (exchange) or one series (exchange + symbol), produced by the
// quality checker and consumed by alert rules (quality_below, stale_feed) and GET /quality.
struct QualityReading {
  std::string scope;  // "feed" or "series"
  std::string exchange;
  std::string symbol;  // empty for a feed
  double score = 1.0;  // [0, 1], formula in src/processing/quality/README.md
  TimestampNs last_data = 0;  // receive time of the newest event (0 = never)
  bool stale = false;         // no data for longer than the stale threshold on a channel that should have data
};

}  // namespace tickflow
