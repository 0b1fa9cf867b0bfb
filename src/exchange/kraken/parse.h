// Kraken WebSocket v1 (wss://ws.kraken.com) messages → core types. Pure (no I/O), simdjson DOM.
//
// Events are objects: {"event":"heartbeat"}, systemStatus (connectionID, status, version),
// subscriptionStatus (channelID, channelName, pair, status, subscription{name, depth},
// errorMessage when status is "error"), pong. Channel data are arrays
// [channelID, payload..., channelName, pair]:
//   trade   [id, [[price, volume, time, side, orderType, misc], ...], "trade", "XBT/USD"]
//           side b/s is the TAKER side; time is epoch seconds with 6 decimals.
//   book    snapshot [id, {"as":[[p,v,t],...],"bs":[...]}, "book-N", pair];
//           update   [id, {"a":[...]} or {"b":[...]}, (second object), "book-N", pair] with a
//           CRC32 "c" in the last object; an entry may carry a 4th element "r" (republished:
//           a level that re-entered the subscribed depth).
//   ticker  [id, {...}, "ticker", pair] — recognised, contents not used (never a trade).
//
// Derived trade key (Kraken v1 trades carry no id): Trade::trade_id =
//   time_in_microseconds * 1000 + ordinal,
// where ordinal counts earlier trades of the same pair with the same microsecond, continuing
// across consecutive messages of that pair (this parser remembers the last microsecond and
// ordinal per pair). The key is a pure function of the message stream, so a replay through a
// fresh parser gives the same keys; it increases with trade time, so it orders trades like
// (ts_event, arrival) and works with id-based dedup. Limit: more than 1000 trades of one pair
// in one microsecond is rejected ("bad_field"); keys are valid until the year 2262.
//
// An exchange-reported error (subscriptionStatus with status "error") parses successfully:
// kind kSubscriptionStatus, status "error", error_message = Kraken's own text, to be surfaced
// by the caller. Anything malformed or unexpected fails with kParse and a bounded
// error_reason() (metric label / DLQ reason): "malformed_json", "missing_field", "bad_field",
// "bad_decimal", "bad_symbol", "unknown_event", "unknown_channel".
//
// Thread-safety: a FrameParser is used by one thread at a time (it owns a simdjson parser and
// the per-pair key state).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "core/trade.h"

namespace tickflow::exchange::kraken {

enum class MessageKind : uint8_t {
  kTrade,
  kBookSnapshot,
  kBookUpdate,
  kTicker,
  kHeartbeat,
  kSystemStatus,
  kSubscriptionStatus,
  kPong,
};
std::string_view message_kind_name(MessageKind k);

struct BookEntry {
  Decimal price;
  Decimal volume;            // 0 = delete the level
  TimestampNs ts = 0;        // Kraken's level timestamp
  bool republished = false;  // "r"
};

struct ParsedMessage {
  MessageKind kind = MessageKind::kHeartbeat;
  // Channel data (and subscriptionStatus): -1 when absent.
  int64_t channel_id = -1;
  std::string channel_name;  // "trade", "book-1000", "ticker"
  std::string pair;          // Kraken's name, "XBT/USD"
  std::string symbol;        // unified, "BTC-USD"
  int book_depth = 0;        // N of "book-N" (book messages)

  std::vector<Trade> trades;  // kTrade, in message order

  // kBookSnapshot: the whole book; kBookUpdate: the changes, in message order per side.
  std::vector<BookEntry> asks;
  std::vector<BookEntry> bids;
  bool has_checksum = false;  // kBookUpdate always has one
  uint32_t checksum = 0;

  // Events.
  std::string status;             // systemStatus: online|maintenance|...; subscriptionStatus:
                                  // subscribed|unsubscribed|error
  std::string version;            // systemStatus
  uint64_t connection_id = 0;     // systemStatus
  std::string subscription_name;  // subscriptionStatus: subscription.name ("book")
  int subscription_depth = 0;     // subscriptionStatus: subscription.depth (0 when absent)
  std::string error_message;      // subscriptionStatus with status "error"
  int64_t reqid = -1;

  bool is_error() const { return kind == MessageKind::kSubscriptionStatus && status == "error"; }
};

class FrameParser {
 public:
  FrameParser();
  ~FrameParser();
  FrameParser(const FrameParser&) = delete;
  FrameParser& operator=(const FrameParser&) = delete;

  // Parses one WebSocket text frame received at `recv`. On failure returns kParse with a
  // message naming the field and sets error_reason() (see the file comment); `out` is then
  // unspecified.
  Status parse(std::string_view frame, TimestampNs recv, ParsedMessage& out);
  std::string_view error_reason() const { return reason_; }

  // Forgets the per-pair trade key state (a new session that must not continue old ordinals).
  void reset_trade_keys();

  // Trade messages in Kraken's exact compact layout
  // [id,[["p","v","t","b|s","m|l","misc"],..],"trade","PAIR"] go through a hand-written scanner
  // (no simdjson, no copy); anything else — other messages, whitespace, escapes, any field
  // the scanner does not accept, every error — takes the simdjson path, so results (including
  // error reasons and the derived keys) are identical (differential-tested on every recorded
  // frame, their truncations and mutations, and in fuzz/kraken_fuzz.cc). Default on.
  void set_fast_path(bool enabled) { fast_path_ = enabled; }

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::string_view reason_;
  bool fast_path_ = true;
};

// "1617666461.465618" (epoch seconds, up to 9 decimals) → ns. False on anything else.
bool parse_kraken_time(std::string_view text, TimestampNs& out);

}  // namespace tickflow::exchange::kraken
