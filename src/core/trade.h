// Trade: one normalized trade (or one Binance aggregate trade) from an exchange.
// Thread-safety: plain value.
#pragma once

#include <cstdint>
#include <string>

#include "core/decimal.h"
#include "core/symbol.h"
#include "core/time.h"

namespace tickflow {

// The taker (aggressor) side. Binance m=true means the buyer was the maker, so the taker sold.
// Coinbase's `side` is the maker side, so its taker is the opposite.
enum class Side : uint8_t { kUnknown = 0, kBuy = 1, kSell = 2 };
std::string_view side_name(Side s);

struct Trade {
  Exchange exchange = Exchange::kBinance;
  std::string symbol;           // unified BASE-QUOTE
  std::string exchange_symbol;  // the exchange's own spelling
  // Dedup key within (exchange, symbol): Binance trade `t`, or aggregate id `a` for aggTrade.
  int64_t trade_id = 0;
  // Underlying trade ids covered (Binance aggTrade f..l); both equal trade_id for plain trades.
  int64_t first_trade_id = 0;
  int64_t last_trade_id = 0;
  Decimal price;
  Decimal quantity;
  Side taker_side = Side::kUnknown;
  TimestampNs ts_event = 0;  // exchange trade time (Binance T)
  TimestampNs ts_recv = 0;   // our receive time
  bool aggregated = false;   // from an aggregate-trade stream

  // Number of exchange trades this record stands for (aggTrade: l - f + 1).
  int64_t trade_count() const { return last_trade_id - first_trade_id + 1; }
};

}  // namespace tickflow
