// Binance wire messages → core types. Pure functions over simdjson (no I/O).
//
// Frames are the WebSocket text frames of the combined-stream endpoint
// ({"stream":"btcusdt@aggTrade","data":{...}}) or bare payloads ({"e":"trade",...}).
// trade:    t = trade id, p/q price/qty, T = trade time (ts_event), m = buyer is maker
//           (so m=true → taker SELL).
// aggTrade: a = aggregate id (the dedup key), f/l = first/last underlying trade id, T, m.
// Thread-safety: a FrameParser is used by one thread at a time (it owns a simdjson parser).
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/candle.h"
#include "core/result.h"
#include "core/trade.h"

namespace tickflow::exchange::binance {

enum class MessageKind : uint8_t {
  kTrade,
  kAggTrade,
  kDepthUpdate,
  kBookTicker,
  kKline,
  kSubscriptionResult,  // {"result":null,"id":1}
  kUnknown,
};

// A kline_* payload, kept to check our candles against the exchange's own.
struct Kline {
  std::string exchange_symbol;
  std::string interval;  // "1m"
  int64_t open_time_ms = 0;
  int64_t close_time_ms = 0;
  int64_t first_trade_id = -1;
  int64_t last_trade_id = -1;
  Decimal open, high, low, close;
  std::string volume, quote_volume, taker_buy_volume, taker_buy_quote_volume;  // as printed
  int64_t trades = 0;
  bool closed = false;
};

struct ParsedFrame {
  MessageKind kind = MessageKind::kUnknown;
  Trade trade;  // kTrade / kAggTrade (exchange, symbols, ids, price, qty, side, ts_event, ts_recv)
  Kline kline;  // kKline
  int64_t first_update_id = 0;  // kDepthUpdate U
  int64_t last_update_id = 0;   // kDepthUpdate u
};

class FrameParser {
 public:
  FrameParser();
  ~FrameParser();
  FrameParser(const FrameParser&) = delete;
  FrameParser& operator=(const FrameParser&) = delete;

  // Parses one frame. On failure returns kParse and sets error_reason() to a bounded tag
  // ("malformed_json", "missing_field", "bad_field" (wrong type or range), "bad_decimal",
  // "bad_symbol", "unknown_event") used as a metric label and DLQ reason; the Status message
  // names the field.
  Status parse(std::string_view frame, TimestampNs recv, ParsedFrame& out);
  // The exact trade/aggTrade layouts Binance sends take a hand-written fast path that gives
  // the same results as the general simdjson path (anything else falls back to it). Tests
  // turn it off to compare both.
  void set_fast_path(bool enabled);
  std::string_view error_reason() const { return reason_; }

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::string_view reason_;
};

// GET /api/v3/aggTrades body (a JSON array of {"a","p","q","f","l","T","m","M"}) → trades,
// for backfilling gaps. exchange_symbol is the request's symbol ("BTCUSDT").
Status parse_agg_trades_response(std::string_view body, std::string_view exchange_symbol,
                                 TimestampNs recv, std::vector<Trade>& out);

}  // namespace tickflow::exchange::binance
