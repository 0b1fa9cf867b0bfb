// libFuzzer target: the bus record codec (core/codec.h) on arbitrary bytes — what a consumer
// reads from a Kafka topic. Every decoder, peek_kind, event_id_of, peek_candle_status and
// record_to_json run on each input. Checks: peek_kind agrees with the decoder that succeeds;
// a decodable candle's status equals peek_candle_status (the wire scan that consumers use to
// skip provisional candles without decoding); and every decoded value survives
// encode → decode unchanged.
#include <google/protobuf/stubs/logging.h>

#include <cstring>

#include "core/codec.h"
#include "fuzz/fuzz_util.h"

namespace {

using namespace tickflow;

bool same_double(double a, double b) { return std::memcmp(&a, &b, sizeof a) == 0; }
std::string canon(const WideDecimal& w) { return w.trimmed(0).to_string(); }

void check_trade(const Trade& a, const Trade& b) {
  TF_FUZZ_CHECK(
      a.exchange == b.exchange && a.symbol == b.symbol && a.exchange_symbol == b.exchange_symbol,
      "trade names");
  TF_FUZZ_CHECK(a.trade_id == b.trade_id && a.first_trade_id == b.first_trade_id &&
                    a.last_trade_id == b.last_trade_id,
                "trade ids");
  TF_FUZZ_CHECK(a.price == b.price && a.quantity == b.quantity, "trade price/quantity");
  TF_FUZZ_CHECK(a.taker_side == b.taker_side && a.ts_event == b.ts_event &&
                    a.ts_recv == b.ts_recv && a.aggregated == b.aggregated,
                "trade side/times");
}

void check_candle(const Candle& a, const Candle& b) {
  TF_FUZZ_CHECK(
      a.exchange == b.exchange && a.symbol == b.symbol && a.exchange_symbol == b.exchange_symbol,
      "candle names");
  TF_FUZZ_CHECK(
      a.timeframe == b.timeframe && a.open_time == b.open_time && a.close_time == b.close_time,
      "candle window");
  TF_FUZZ_CHECK(a.open == b.open && a.high == b.high && a.low == b.low && a.close == b.close,
                "candle OHLC");
  TF_FUZZ_CHECK(canon(a.volume) == canon(b.volume) &&
                    canon(a.quote_volume) == canon(b.quote_volume) &&
                    canon(a.taker_buy_volume) == canon(b.taker_buy_volume) &&
                    canon(a.taker_buy_quote_volume) == canon(b.taker_buy_quote_volume),
                "candle volumes");
  TF_FUZZ_CHECK(a.trades == b.trades && a.first_trade_id == b.first_trade_id &&
                    a.last_trade_id == b.last_trade_id,
                "candle counts");
  TF_FUZZ_CHECK(a.status == b.status && a.revision == b.revision &&
                    same_double(a.coverage, b.coverage) && a.gap_reason == b.gap_reason,
                "candle status");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // protobuf logs every string field with invalid UTF-8 it refuses; silence it (not a finding).
  static const bool quiet = [] {
    google::protobuf::SetLogHandler(nullptr);
    return true;
  }();
  (void)quiet;
  const std::string_view bytes = fuzz::as_view(data, size);
  const codec::RecordKind kind = codec::peek_kind(bytes);
  (void)codec::event_id_of(bytes);
  (void)codec::record_to_json(bytes);
  const std::optional<CandleStatus> peeked = codec::peek_candle_status(bytes);

  if (auto t = codec::decode_trade(bytes); t.is_ok()) {
    TF_FUZZ_CHECK(kind == codec::RecordKind::kTrade, "peek_kind is not trade");
    auto again = codec::decode_trade(codec::encode_trade(*t, 1));
    TF_FUZZ_CHECK(again.is_ok(), "re-encoded trade does not decode: " + again.status().message());
    check_trade(*t, *again);
  }
  TimestampNs last_recv = 0;
  if (auto c = codec::decode_candle(bytes, &last_recv); c.is_ok()) {
    TF_FUZZ_CHECK(kind == codec::RecordKind::kCandle, "peek_kind is not candle");
    TF_FUZZ_CHECK(peeked.has_value() && *peeked == c->status,
                  "peek_candle_status disagrees with decode_candle");
    const std::string re = codec::encode_candle(*c, 1, last_recv);
    TimestampNs last_recv2 = 0;
    auto again = codec::decode_candle(re, &last_recv2);
    TF_FUZZ_CHECK(again.is_ok(), "re-encoded candle does not decode: " + again.status().message());
    check_candle(*c, *again);
    TF_FUZZ_CHECK(last_recv == last_recv2, "last_trade_recv");
  }
  if (auto d = codec::decode_dead_letter(bytes); d.is_ok()) {
    TF_FUZZ_CHECK(kind == codec::RecordKind::kDeadLetter, "peek_kind is not dead letter");
    auto again = codec::decode_dead_letter(codec::encode_dead_letter(*d, 1));
    TF_FUZZ_CHECK(again.is_ok(), "re-encoded dead letter does not decode");
    TF_FUZZ_CHECK(again->payload == d->payload && again->detail == d->detail &&
                      again->reason == d->reason && again->ts_recv == d->ts_recv,
                  "dead letter round trip");
  }
  if (auto r = codec::decode_indicators(bytes); r.is_ok()) {
    TF_FUZZ_CHECK(kind == codec::RecordKind::kIndicators, "peek_kind is not indicators");
    auto again = codec::decode_indicators(codec::encode_indicators(*r, 1));
    TF_FUZZ_CHECK(again.is_ok(), "re-encoded indicators do not decode");
    TF_FUZZ_CHECK(again->values.size() == r->values.size() && again->open_time == r->open_time &&
                      again->timeframe == r->timeframe && again->symbol == r->symbol,
                  "indicators round trip");
    for (size_t i = 0; i < r->values.size(); ++i)
      TF_FUZZ_CHECK(again->values[i].first == r->values[i].first &&
                        same_double(again->values[i].second, r->values[i].second),
                    "indicator value");
  }
  if (auto a = codec::decode_alert(bytes); a.is_ok()) {
    TF_FUZZ_CHECK(kind == codec::RecordKind::kAlert, "peek_kind is not alert");
    auto again = codec::decode_alert(codec::encode_alert(*a, 1));
    TF_FUZZ_CHECK(again.is_ok(), "re-encoded alert does not decode");
    TF_FUZZ_CHECK(again->alert_id == a->alert_id && again->labels == a->labels &&
                      again->message == a->message && same_double(again->value, a->value),
                  "alert round trip");
  }
  if (auto b = codec::decode_book(bytes); b.is_ok()) {
    TF_FUZZ_CHECK(kind == codec::RecordKind::kBook, "peek_kind is not book");
    auto again = codec::decode_book(codec::encode_book(*b, 1));
    TF_FUZZ_CHECK(again.is_ok(), "re-encoded book snapshot does not decode: " + again.status().message());
    TF_FUZZ_CHECK(again->bids == b->bids && again->asks == b->asks && again->sequence == b->sequence &&
                      again->ts_event == b->ts_event && again->ts_recv == b->ts_recv && again->crossed == b->crossed &&
                      again->symbol == b->symbol && again->depth == b->depth,
                  "book snapshot round trip");
  }
  return 0;
}
