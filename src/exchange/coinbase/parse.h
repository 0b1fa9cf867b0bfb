// Coinbase Exchange WebSocket feed (wss://ws-feed.exchange.coinbase.com, formerly
// ws-feed.pro.coinbase.com) messages → core types. Pure (no I/O), simdjson DOM.
//
// Every message is an object with a "type":
//   match / last_match  one trade: trade_id, side, size, price, product_id, sequence, time,
//                       maker_order_id, taker_order_id. `side` is the MAKER's side (the resting
//                       order), so the taker/aggressor side is the opposite: side "sell" → a
//                       buy took the ask → Trade::taker_side kBuy. last_match is the newest
//                       trade before the subscription (older than the connection).
//   snapshot            level2: bids/asks [[price, size], ...] (full book).
//   l2update            level2 / level2_batch: changes [[side, price, size], ...] in order;
//                       side "buy" = bid, "sell" = ask; size "0" removes the level. No sequence.
//   heartbeat           sequence, last_trade_id, product_id, time.
//   ticker              parsed (price, best bid/ask, taker side, trade_id) but never a trade:
//                       every match has a ticker twin with the same trade_id.
//   subscriptions       the channels now subscribed (names and product ids).
//   error               Coinbase's own text in message (and reason): parses successfully as
//                       kError for the caller to surface (health, logs).
// Sequence numbers (match, last_match, ticker, heartbeat) are exposed as `sequence` so the
// caller can detect gaps (see coinbase/sequence.h). Anything malformed or of an unknown type
// fails with kParse and a bounded error_reason(): "malformed_json", "missing_field",
// "bad_field", "bad_decimal", "bad_symbol", "bad_time", "unknown_type". (Coinbase says new
// types may be added at any time: a collector may count "unknown_type" instead of alarming.)
//
// Thread-safety: a FrameParser is used by one thread at a time.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "core/trade.h"
#include "exchange/book/order_book.h"

namespace tickflow::exchange::coinbase {

enum class MessageKind : uint8_t {
  kMatch,
  kLastMatch,
  kSnapshot,
  kL2Update,
  kHeartbeat,
  kTicker,
  kSubscriptions,
  kError,
};
std::string_view message_kind_name(MessageKind k);

struct L2Change {
  book::BookSide side = book::BookSide::kBid;
  Decimal price;
  Decimal size;  // 0 = remove the level
};

struct Ticker {
  Decimal price;
  Decimal best_bid, best_ask;        // zero when absent
  Decimal last_size;                 // zero when absent
  Side taker_side = Side::kUnknown;  // the ticker's `side` is the taker side
  int64_t trade_id = -1;             // -1 when absent
};

struct Subscription {
  std::string name;
  std::vector<std::string> product_ids;
};

struct ParsedMessage {
  MessageKind kind = MessageKind::kHeartbeat;
  std::string product_id;         // "BTC-USD" (already the unified form)
  int64_t sequence = -1;          // match, last_match, ticker, heartbeat; -1 when absent
  TimestampNs time = 0;           // exchange time when present
  Trade trade;                    // kMatch / kLastMatch
  std::vector<L2Change> changes;  // kL2Update in order; kSnapshot: bids then asks
  Ticker ticker;                  // kTicker
  int64_t last_trade_id = -1;     // kHeartbeat (Coinbase has been seen sending 0: unknown)
  std::vector<Subscription> subscriptions;  // kSubscriptions
  std::string error_message, error_reason;  // kError

  bool is_trade() const { return kind == MessageKind::kMatch || kind == MessageKind::kLastMatch; }
};

class FrameParser {
 public:
  FrameParser();
  ~FrameParser();
  FrameParser(const FrameParser&) = delete;
  FrameParser& operator=(const FrameParser&) = delete;

  Status parse(std::string_view frame, TimestampNs recv, ParsedMessage& out);
  std::string_view error_reason() const { return reason_; }
  // `match` / `last_match` in Coinbase's exact layout take a hand-written fast path (same
  // results; parse_fast.cc); off = simdjson only (differential tests, benchmarks).
  void set_fast_path(bool on) { fast_path_ = on; }

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::string_view reason_;
  bool fast_path_ = true;
};

// Applies a kSnapshot (replacing the book) or kL2Update to a book.
Status apply_to_book(const ParsedMessage& m, book::OrderBook& book);

}  // namespace tickflow::exchange::coinbase
