// Binance wire messages → core types. Pure functions over simdjson (no I/O).
//
// Frames are the WebSocket text frames of the combined-stream endpoint
// ({"stream":"btcusdt@aggTrade","data":{...}}) or bare payloads ({"e":"trade",...}).
// trade:    t = trade id, p/q price/qty, T = trade time (ts_event), m = buyer is maker
//           (so m=true → taker SELL).
// aggTrade: a = aggregate id (the dedup key), f/l = first/last underlying trade id, T, m.
// depthUpdate: U/u = first/last update id, b/a = changed levels [["price","qty"],..] (qty 0 =
//           remove the level; absolute quantities), E = event time.
// bookTicker: u = order book update id, s, b/B = best bid price/qty, a/A = best ask price/qty.
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

// One level of a depth diff or snapshot: the price and its new absolute quantity (0 = remove).
struct DepthLevel {
  Decimal price;
  Decimal quantity;
};

struct ParsedFrame {
  MessageKind kind = MessageKind::kUnknown;
  Trade trade;  // kTrade / kAggTrade (exchange, symbols, ids, price, qty, side, ts_event, ts_recv)
  Kline kline;  // kKline
  int64_t first_update_id = 0;  // kDepthUpdate U
  int64_t last_update_id = 0;   // kDepthUpdate u, kBookTicker u
  // kDepthUpdate / kBookTicker: the symbol as printed ("BTCUSDT"); E of a depthUpdate (ns, 0
  // when absent: bookTicker has no event time on spot).
  std::string book_symbol;
  TimestampNs book_event_time = 0;
  std::vector<DepthLevel> bids, asks;  // kDepthUpdate: the changed levels, in wire order
  DepthLevel best_bid, best_ask;       // kBookTicker
  // kSubscriptionResult: the request's id (-1 when not an integer) and, for an error reply
  // {"error":{"code":2,"msg":"..."},"id":N}, Binance's own text "msg (code 2)" (else empty).
  int64_t request_id = -1;
  std::string subscription_error;
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

// GET /api/v3/depth body {"lastUpdateId":N,"bids":[["p","q"],..],"asks":[..]} (also the old
// /api/v1/depth of the recordings: same shape).
struct DepthSnapshot {
  int64_t last_update_id = 0;
  std::vector<DepthLevel> bids, asks;
};
Status parse_depth_snapshot(std::string_view body, DepthSnapshot& out);

}  // namespace tickflow::exchange::binance
