// Shared helpers of the candle engine tests (trade builders, configs).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "processing/candles/aggregator.h"

namespace tickflow::processing::test {

// 2024-01-15T00:00:00Z, a Monday.
constexpr TimestampNs kBase = 1705276800000LL * kNsPerMs;
constexpr TimestampNs ms(int64_t v) { return v * kNsPerMs; }
constexpr TimestampNs sec(int64_t v) { return v * kNsPerSec; }

inline Trade make_trade(int64_t id, TimestampNs ts, std::string_view price, std::string_view qty = "1",
                 Side side = Side::kBuy, std::string_view sym = "BTCUSDT") {
  Trade t;
  t.exchange = Exchange::kBinance;
  t.exchange_symbol = std::string(sym);
  t.symbol = unify_binance_symbol(sym);
  t.trade_id = t.first_trade_id = t.last_trade_id = id;
  t.price = *Decimal::parse(price);
  t.quantity = *Decimal::parse(qty);
  t.taker_side = side;
  t.ts_event = ts;
  t.ts_recv = ts + ms(3);
  return t;
}

inline CandleConfig one_minute(DurationNs provisional = 0) {
  CandleConfig c;
  c.timeframes = {*Timeframe::parse("1m")};
  c.provisional_interval = provisional;
  return c;
}

inline std::vector<CandleUpdate> with_status(const std::vector<CandleUpdate>& u, CandleStatus s) {
  std::vector<CandleUpdate> r;
  for (const auto& x : u)
    if (x.candle.status == s) r.push_back(x);
  return r;
}

}  // namespace tickflow::processing::test
