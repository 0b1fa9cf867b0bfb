// Kraken WebSocket v2 (wss://ws.kraken.com/v2) messages → the v1 parser's ParsedMessage (parse.h),
// so KrakenBook and the collector handle both APIs alike. Pure (no I/O), simdjson On-Demand (the
// raw text of every price / qty number is kept: Decimal, exact).
//
// From docs.kraken.com (spot-websocket-v2: trade, book, heartbeat, status, subscribe, ping;
// guide "book checksum v2"); objects, never arrays:
//   status     {"channel":"status","type":"update","data":[{"api_version":"v2","connection_id":N,
//              "system":"online","version":"2.0.0"}]}                      → kSystemStatus (status =
//              system, connection_id, version)
//   heartbeat  {"channel":"heartbeat"}                                   → kHeartbeat
//   ack        {"method":"subscribe"|"unsubscribe","result":{"channel":"book","depth":10,
//              "snapshot":true,"symbol":"BTC/USD"},"success":true,"time_in":..,"time_out":..}
//              → kSubscriptionStatus, status "subscribed"/"unsubscribed", subscription_name =
//              channel, subscription_depth, pair = symbol; one ack per symbol.
//   error      {"error":"Currency pair not supported","method":"subscribe","success":false,
//              "symbol":"FOO/USD",..} → kSubscriptionStatus status "error", error_message = the
//              exchange's text (pair from "symbol" when present).
//   pong       {"method":"pong","req_id":N,..}                          → kPong
//   trade      {"channel":"trade","type":"snapshot"|"update","data":[{"symbol":"BTC/USD",
//              "side":"buy","price":42.5,"qty":0.1,"ord_type":"limit","trade_id":123,
//              "timestamp":"2023-09-25T07:49:37.708706Z"}, ..]} → kTrade; side = TAKER side;
//              trade_id = Kraken's (sequential per pair), ts_event from the RFC 3339 timestamp.
//   book       {"channel":"book","type":"snapshot"|"update","data":[{"symbol":"BTC/USD",
//              "bids":[{"price":..,"qty":..},..],"asks":[..],"checksum":N,"timestamp":".."}]}
//              → kBookSnapshot / kBookUpdate with has_checksum (v2 checksums snapshots too),
//              channel_name "book", book_depth 0 (v2 frames do not carry the depth).
// Prices and quantities may be JSON numbers or strings. The v2 checksum hashes price and qty
// "with full precision" (docs); since v2 prints numbers (the docs' examples drop trailing zeros,
// "0.566"), set_precision(pair, price_decimals, qty_decimals) — AssetPairs' pair_decimals and
// lot_decimals — rescales every level to the pair's precision so the book's checksum text is
// Kraken's (never rounds: a value printed with more decimals keeps them).
// Errors: kParse with error_reason() one of "malformed_json", "missing_field", "bad_field",
// "bad_decimal", "bad_symbol", "unknown_channel", "unknown_method".
// Thread-safety: one thread at a time (owns a simdjson parser).
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "core/result.h"
#include "exchange/kraken/parse.h"

namespace tickflow::exchange::kraken {

class V2Parser {
 public:
  V2Parser();
  ~V2Parser();
  V2Parser(const V2Parser&) = delete;
  V2Parser& operator=(const V2Parser&) = delete;

  Status parse(std::string_view frame, TimestampNs recv, ParsedMessage& out);
  std::string_view error_reason() const { return reason_; }

  // Decimals of a pair's prices and quantities ("BTC/USD", 1, 8); levels and trades of that
  // pair are printed at least this precise.
  void set_precision(std::string_view pair, int price_decimals, int qty_decimals);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::string_view reason_;
};

// "BTC/USD" → "BTC-USD" (XBT → BTC, XDG → DOGE, as v1).
std::string unify_kraken_v2_symbol(std::string_view pair);

}  // namespace tickflow::exchange::kraken
