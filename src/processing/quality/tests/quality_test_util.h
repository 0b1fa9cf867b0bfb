// Helpers shared by the quality tests: trades with exact decimals.
#pragma once

#include <string>
#include <string_view>

#include "core/decimal.h"
#include "core/symbol.h"
#include "core/time.h"
#include "core/trade.h"

namespace tickflow::quality::testutil {

// 2021-08-14T14:46:00Z
inline constexpr TimestampNs kT0 = 1628952360000LL * kNsPerMs;

inline Trade make_trade(std::string_view symbol, int64_t id, std::string_view price, TimestampNs ts_event,
                        Exchange e = Exchange::kBinance, std::string_view qty = "1") {
  Trade t;
  t.exchange = e;
  t.symbol = std::string(symbol);
  t.exchange_symbol = binance_symbol_from_unified(symbol);
  t.trade_id = id;
  t.first_trade_id = id;
  t.last_trade_id = id;
  t.price = Decimal::parse(price).value();
  t.quantity = Decimal::parse(qty).value();
  t.taker_side = Side::kBuy;
  t.ts_event = ts_event;
  t.ts_recv = ts_event + 5 * kNsPerMs;
  return t;
}

}  // namespace tickflow::quality::testutil
