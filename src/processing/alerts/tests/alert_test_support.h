// Test support for the alert tests: rule, candle and indicator-record builders.
// Thread-safety: plain functions.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "core/analytics.h"
#include "core/candle.h"
#include "processing/alerts/rule.h"

namespace tickflow::processing::alerts::testing {

// 2021-08-14T14:46:00Z, aligned to the minute.
constexpr TimestampNs kT0 = 1628952360000LL * kNsPerMs;
constexpr DurationNs kMin = kNsPerMin;

// A validated rule (fails the test if validation fails).
inline AlertRule validated(AlertRule r) {
  std::vector<AlertRule> rs{std::move(r)};
  auto e = validate_rules(rs);
  EXPECT_FALSE(e.has_value()) << (e ? e->to_string() : "");
  return rs[0];
}

inline AlertRule rule(std::string name, RuleKind kind, std::string timeframe = "1m") {
  AlertRule r;
  r.name = std::move(name);
  r.kind = kind;
  r.timeframe = std::move(timeframe);
  return r;
}

// A 1m candle of BTC-USDT (or `symbol`) at bar index `i` (open = kT0 + i minutes).
inline Candle candle(int i, std::string_view close, std::string_view volume = "1",
                     CandleStatus status = CandleStatus::kFinal, std::string symbol = "BTC-USDT") {
  Candle c;
  c.exchange = Exchange::kBinance;
  c.symbol = std::move(symbol);
  c.exchange_symbol = "BTCUSDT";
  c.timeframe = *Timeframe::parse("1m");
  c.open_time = kT0 + i * kMin;
  c.close_time = c.open_time + kMin - kNsPerMs;
  auto px = Decimal::parse(close);
  c.open = c.high = c.low = c.close = *px;
  c.volume = *WideDecimal::parse(volume);
  c.trades = 1;
  c.status = status;
  return c;
}

inline IndicatorRecord indicators(int i, std::vector<std::pair<std::string, double>> values, bool provisional = false,
                                  std::string symbol = "BTC-USDT") {
  IndicatorRecord r;
  r.exchange = Exchange::kBinance;
  r.symbol = std::move(symbol);
  r.timeframe = *Timeframe::parse("1m");
  r.open_time = kT0 + i * kMin;
  r.close_time = r.open_time + kMin - kNsPerMs;
  r.provisional = provisional;
  r.values = std::move(values);
  return r;
}

}  // namespace tickflow::processing::alerts::testing
