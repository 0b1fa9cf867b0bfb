// Coinbase Advanced Trade market-data WebSocket (wss://advanced-trade-ws.coinbase.com) messages →
// core types. Pure (no I/O), simdjson DOM. From Coinbase's "Advanced Trade WebSocket Channels"
// page and ../shared/data/exchanges/README.md (its recording is kept back).
//
// Every message is {"channel","client_id","timestamp","sequence_num","events":[...]}:
//   market_trades  events {"type":"snapshot"|"update","trades":[{trade_id (a decimal string),
//                  product_id, price, size, side, time}, ...]}: the snapshot holds recent trades
//                  older than the subscription; trades inside one event are NEWEST FIRST. `side` is
//                  the MAKER's side ("BUY"/"SELL"), so Trade::taker_side is the opposite.
//   l2_data        (subscribed as "level2") events {"type":"snapshot"|"update","product_id",
//                  "updates":[{side "bid"|"offer", event_time, price_level, new_quantity}]}:
//                  new_quantity is the level's new size, "0" removes it.
//   heartbeats     events [{current_time (Go's time text, not parsed), heartbeat_counter}]
//                  (the counter is a string in the docs' example, a number in others: both taken).
//   subscriptions  events [{"subscriptions":{"<channel>":["BTC-USD",..],..}}]
//   other channels (ticker, candles, status, ...) parse as kOther (counted, never trades).
// A top-level {"type":"error","message":..} is kError (Coinbase's text, for health/logs).
// `sequence_num` is exposed for gap detection (observed contiguous over a whole connection).
// Trades come out per event in OLDEST-FIRST order (the event's list reversed) and carry the
// message's sequence_num nowhere (trade ids are the dedup key). Timestamps take 0–9 fractional
// digits. Failures: kParse with error_reason() in "malformed_json", "missing_field",
// "bad_field", "bad_decimal", "bad_symbol", "bad_time", "unknown_type".
//
// Thread-safety: an AdvancedParser is used by one thread at a time.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "core/trade.h"
#include "exchange/coinbase/parse.h"

namespace tickflow::exchange::coinbase {

enum class AdvancedChannel : uint8_t {
  kMarketTrades,
  kL2Data,
  kHeartbeats,
  kSubscriptions,
  kOther,
  kError,
};
std::string_view advanced_channel_name(AdvancedChannel c);

struct AdvancedEvent {
  bool snapshot = false;          // "snapshot" (else "update")
  std::string product_id;         // l2_data: the event's; market_trades: that of its trades
  std::vector<Trade> trades;      // market_trades, oldest first
  std::vector<L2Change> updates;  // l2_data, in order
};

struct AdvancedMessage {
  AdvancedChannel channel = AdvancedChannel::kOther;
  int64_t sequence_num = -1;  // -1 when absent
  TimestampNs timestamp = 0;
  std::vector<AdvancedEvent> events;
  int64_t heartbeat_counter = -1;           // kHeartbeats
  std::vector<Subscription> subscriptions;  // kSubscriptions
  std::string error_message;                // kError
};

class AdvancedParser {
 public:
  AdvancedParser();
  ~AdvancedParser();
  AdvancedParser(const AdvancedParser&) = delete;
  AdvancedParser& operator=(const AdvancedParser&) = delete;

  // `out` is reset (its vectors keep their capacity).
  Status parse(std::string_view frame, TimestampNs recv, AdvancedMessage& out);
  std::string_view error_reason() const { return reason_; }

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::string_view reason_;
};

// An l2_data event as a ParsedMessage (kSnapshot / kL2Update) for apply_to_book and the
// collector's book path.
void to_level2_message(const AdvancedEvent& e, TimestampNs time, ParsedMessage& out);

}  // namespace tickflow::exchange::coinbase
