// Codec: domain values ⇄ versioned protobuf bus records (proto/tickflow.proto), and the
// JSON view of a record for humans (`tickflow tail`, `GET /events/{id}`).
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <string_view>

#include "core/analytics.h"
#include "core/book_snapshot.h"
#include "core/candle.h"
#include "core/result.h"
#include "core/trade.h"

namespace tickflow::codec {

inline constexpr uint32_t kSchemaVersion = 1;

struct DeadLetter {
  std::string source_topic;
  std::string exchange;
  std::string reason;  // bounded vocabulary (a metric label)
  std::string detail;
  std::string payload;
  TimestampNs ts_recv = 0;
};

enum class RecordKind { kTrade, kCandle, kDeadLetter, kIndicators, kAlert, kBook, kUnknown };

// Stable, content-derived event ids.
//   trade:  "binance:BTC-USDT:t:123"  (aggregates: ":a:123")
//   candle: "binance:BTC-USDT:1m:1628952360000:final:0" or ":provisional:<trades>"
std::string trade_event_id(const Trade& t);
std::string candle_event_id(const Candle& c);
//   indicators: "binance:BTC-USDT:1m:1628952360000:ind:<candle revision>" (+ ":p" when provisional)
//   alert: the alert's own alert_id
std::string indicators_event_id(const IndicatorRecord& r);
//   book: "binance:BTC-USDT:book:<time() ns>:<sequence>"
std::string book_event_id(const BookSnapshot& b);

// Serialized Envelope bytes.
std::string encode_trade(const Trade& t, TimestampNs ts_publish = 0);
std::string encode_candle(const Candle& c, TimestampNs ts_publish = 0, TimestampNs last_trade_recv = 0);
std::string encode_dead_letter(const DeadLetter& d, TimestampNs ts_publish = 0);
std::string encode_indicators(const IndicatorRecord& r, TimestampNs ts_publish = 0);
std::string encode_alert(const Alert& a, TimestampNs ts_publish = 0);
std::string encode_book(const BookSnapshot& b, TimestampNs ts_publish = 0);

RecordKind peek_kind(std::string_view bytes);
Result<Trade> decode_trade(std::string_view bytes);
Result<Candle> decode_candle(std::string_view bytes, TimestampNs* last_trade_recv = nullptr);
Result<DeadLetter> decode_dead_letter(std::string_view bytes);
Result<IndicatorRecord> decode_indicators(std::string_view bytes);
Result<Alert> decode_alert(std::string_view bytes);
Result<BookSnapshot> decode_book(std::string_view bytes);
// Event id stored in the envelope ("" if undecodable).
std::string event_id_of(std::string_view bytes);
// The status of a candle record without decoding it (a wire-format scan, no allocation), for
// consumers that skip provisional updates. nullopt when the record is not a well-formed candle
// (the caller then decodes it to learn why).
std::optional<CandleStatus> peek_candle_status(std::string_view bytes);

// One-line JSON of any record (protobuf's canonical JSON mapping of the Envelope).
Result<std::string> record_to_json(std::string_view bytes);

}  // namespace tickflow::codec
