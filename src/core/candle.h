// Candle: OHLCV bar of one series (exchange, symbol, timeframe) over [open_time, end).
// Thread-safety: plain value.
#pragma once

#include <cstdint>
#include <string>

#include "core/decimal.h"
#include "core/symbol.h"
#include "core/timeframe.h"

namespace tickflow {

// provisional: window still open (pushed, throttled); final: watermark passed end + grace;
// corrected: a late trade or a backfill changed a final candle (revision incremented).
enum class CandleStatus : uint8_t { kProvisional = 0, kFinal = 1, kCorrected = 2 };
std::string_view candle_status_name(CandleStatus s);

struct Candle {
  Exchange exchange = Exchange::kBinance;
  std::string symbol;           // unified
  std::string exchange_symbol;  // exchange's own
  Timeframe timeframe;
  TimestampNs open_time = 0;
  // Inclusive last millisecond of the window (Binance kline convention: open + duration - 1 ms).
  TimestampNs close_time = 0;

  Decimal open, high, low, close;
  WideDecimal volume;                  // base asset
  WideDecimal quote_volume;            // sum(price * quantity), exact
  WideDecimal taker_buy_volume;        // base volume bought by takers
  WideDecimal taker_buy_quote_volume;  // quote volume bought by takers
  int64_t trades = 0;                  // exchange trades (aggTrade counts l - f + 1)
  int64_t first_trade_id = -1;         // -1 when empty (as Binance klines)
  int64_t last_trade_id = -1;

  CandleStatus status = CandleStatus::kProvisional;
  uint32_t revision = 0;  // 0 until the first correction; +1 per correction
  double coverage = 1.0;  // share of the interval covered by a healthy, in-sequence feed
  std::string gap_reason; // "", "disconnected", "resyncing", "gap_backfilled"

  bool empty() const { return trades == 0; }
  // quote_volume / volume, rounded half away from zero to max(8, price scale) decimals.
  Decimal vwap() const;
  // Sinks keep the update with the highest precedence for (series, open_time).
  uint64_t precedence() const {
    return (static_cast<uint64_t>(revision) << 2) | static_cast<uint64_t>(status == CandleStatus::kProvisional ? 0 : 1);
  }
  std::string series_key() const;
};

// Equal market content (OHLCV, counts, ids, open time), ignoring status/revision/coverage.
bool same_values(const Candle& a, const Candle& b);

}  // namespace tickflow
