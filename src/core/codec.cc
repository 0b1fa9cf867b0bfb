#include "core/codec.h"

#include <algorithm>

#include <google/protobuf/descriptor.h>
#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/util/json_util.h>
#include <google/protobuf/wire_format_lite.h>

#include "tickflow.pb.h"

namespace tickflow::codec {
namespace {

v1::Side to_proto(Side s) {
  switch (s) {
    case Side::kBuy: return v1::SIDE_BUY;
    case Side::kSell: return v1::SIDE_SELL;
    case Side::kUnknown: return v1::SIDE_UNKNOWN;
  }
  return v1::SIDE_UNKNOWN;
}

Side from_proto(v1::Side s) {
  switch (s) {
    case v1::SIDE_BUY: return Side::kBuy;
    case v1::SIDE_SELL: return Side::kSell;
    default: return Side::kUnknown;
  }
}

v1::CandleStatus to_proto(CandleStatus s) {
  switch (s) {
    case CandleStatus::kProvisional: return v1::CANDLE_PROVISIONAL;
    case CandleStatus::kFinal: return v1::CANDLE_FINAL;
    case CandleStatus::kCorrected: return v1::CANDLE_CORRECTED;
  }
  return v1::CANDLE_PROVISIONAL;
}

CandleStatus from_proto(v1::CandleStatus s) {
  switch (s) {
    case v1::CANDLE_FINAL: return CandleStatus::kFinal;
    case v1::CANDLE_CORRECTED: return CandleStatus::kCorrected;
    default: return CandleStatus::kProvisional;
  }
}

Result<v1::Envelope> parse_envelope(std::string_view bytes) {
  v1::Envelope env;
  if (!env.ParseFromArray(bytes.data(), static_cast<int>(bytes.size())))
    return Status::corruption("record is not a tickflow.v1.Envelope");
  if (env.schema_version() == 0 || env.schema_version() > kSchemaVersion)
    return Status::corruption("unsupported schema_version " + std::to_string(env.schema_version()));
  return env;
}

Result<Exchange> exchange_of(const std::string& name) {
  auto e = parse_exchange(name);
  if (!e) return Status::corruption("unknown exchange '" + name + "' in record");
  return *e;
}

}  // namespace

std::string trade_event_id(const Trade& t) {
  std::string id = instrument_key(t.exchange, t.symbol);
  id += t.aggregated ? ":a:" : ":t:";
  id += std::to_string(t.trade_id);
  return id;
}

std::string candle_event_id(const Candle& c) {
  std::string id = c.series_key();
  id += ':';
  id += std::to_string(c.open_time / kNsPerMs);
  id += ':';
  id += candle_status_name(c.status);
  id += ':';
  id += std::to_string(c.status == CandleStatus::kProvisional ? c.trades : c.revision);
  return id;
}

std::string encode_trade(const Trade& t, TimestampNs ts_publish) {
  v1::Envelope env;
  env.set_schema_version(kSchemaVersion);
  env.set_event_id(trade_event_id(t));
  env.set_ts_publish_ns(ts_publish);
  v1::TradeEvent* p = env.mutable_trade();
  p->set_exchange(std::string(exchange_name(t.exchange)));
  p->set_symbol(t.symbol);
  p->set_exchange_symbol(t.exchange_symbol);
  p->set_trade_id(t.trade_id);
  p->set_first_trade_id(t.first_trade_id);
  p->set_last_trade_id(t.last_trade_id);
  p->set_price(t.price.to_string());
  p->set_quantity(t.quantity.to_string());
  p->set_taker_side(to_proto(t.taker_side));
  p->set_ts_event_ns(t.ts_event);
  p->set_ts_recv_ns(t.ts_recv);
  p->set_aggregated(t.aggregated);
  return env.SerializeAsString();
}

std::string encode_candle(const Candle& c, TimestampNs ts_publish, TimestampNs last_trade_recv) {
  v1::Envelope env;
  env.set_schema_version(kSchemaVersion);
  env.set_event_id(candle_event_id(c));
  env.set_ts_publish_ns(ts_publish);
  v1::CandleEvent* p = env.mutable_candle();
  p->set_exchange(std::string(exchange_name(c.exchange)));
  p->set_symbol(c.symbol);
  p->set_exchange_symbol(c.exchange_symbol);
  p->set_timeframe(c.timeframe.label());
  p->set_open_time_ns(c.open_time);
  p->set_close_time_ns(c.close_time);
  p->set_open(c.open.to_string());
  p->set_high(c.high.to_string());
  p->set_low(c.low.to_string());
  p->set_close(c.close.to_string());
  p->set_volume(c.volume.trimmed(8).to_string());
  p->set_quote_volume(c.quote_volume.trimmed(8).to_string());
  p->set_taker_buy_volume(c.taker_buy_volume.trimmed(8).to_string());
  p->set_taker_buy_quote_volume(c.taker_buy_quote_volume.trimmed(8).to_string());
  p->set_trades(c.trades);
  p->set_first_trade_id(c.first_trade_id);
  p->set_last_trade_id(c.last_trade_id);
  p->set_status(to_proto(c.status));
  p->set_revision(c.revision);
  p->set_coverage(c.coverage);
  p->set_gap_reason(c.gap_reason);
  p->set_vwap(c.vwap().to_string());
  p->set_last_trade_recv_ns(last_trade_recv);
  return env.SerializeAsString();
}

std::string encode_dead_letter(const DeadLetter& d, TimestampNs ts_publish) {
  v1::Envelope env;
  env.set_schema_version(kSchemaVersion);
  env.set_event_id("dlq:" + d.exchange + ":" + d.reason + ":" + std::to_string(d.ts_recv));
  env.set_ts_publish_ns(ts_publish);
  v1::DeadLetter* p = env.mutable_dead_letter();
  p->set_source_topic(d.source_topic);
  p->set_exchange(d.exchange);
  p->set_reason(d.reason);
  p->set_detail(d.detail);
  p->set_payload(d.payload);
  p->set_ts_recv_ns(d.ts_recv);
  return env.SerializeAsString();
}

std::string indicators_event_id(const IndicatorRecord& r) {
  std::string id = r.series_key();
  id += ':';
  id += std::to_string(r.open_time / kNsPerMs);
  id += ":ind:";
  id += std::to_string(r.candle_revision);
  if (r.provisional) id += ":p";
  return id;
}

std::string encode_indicators(const IndicatorRecord& r, TimestampNs ts_publish) {
  v1::Envelope env;
  env.set_schema_version(kSchemaVersion);
  env.set_event_id(indicators_event_id(r));
  env.set_ts_publish_ns(ts_publish);
  v1::IndicatorEvent* p = env.mutable_indicators();
  p->set_exchange(std::string(exchange_name(r.exchange)));
  p->set_symbol(r.symbol);
  p->set_timeframe(r.timeframe.label());
  p->set_open_time_ns(r.open_time);
  p->set_close_time_ns(r.close_time);
  p->set_candle_revision(r.candle_revision);
  p->set_provisional(r.provisional);
  for (const auto& [name, value] : r.values) {
    v1::IndicatorValue* v = p->add_values();
    v->set_name(name);
    v->set_value(value);
  }
  return env.SerializeAsString();
}

std::string encode_alert(const Alert& a, TimestampNs ts_publish) {
  v1::Envelope env;
  env.set_schema_version(kSchemaVersion);
  env.set_event_id(a.alert_id);
  env.set_ts_publish_ns(ts_publish);
  v1::AlertEvent* p = env.mutable_alert();
  p->set_alert_id(a.alert_id);
  p->set_rule(a.rule);
  p->set_kind(a.kind);
  p->set_state(a.state);
  p->set_severity(a.severity);
  p->set_exchange(a.exchange);
  p->set_symbol(a.symbol);
  p->set_timeframe(a.timeframe);
  p->set_ts_event_ns(a.ts_event);
  p->set_value(a.value);
  p->set_threshold(a.threshold);
  p->set_message(a.message);
  for (const auto& [k, v] : a.labels) (*p->mutable_labels())[k] = v;
  return env.SerializeAsString();
}

std::string book_event_id(const BookSnapshot& b) {
  std::string id = instrument_key(b.exchange, b.symbol);
  id += ":book:";
  id += std::to_string(b.time());
  id += ':';
  id += std::to_string(b.sequence);
  return id;
}

std::string encode_book(const BookSnapshot& b, TimestampNs ts_publish) {
  v1::Envelope env;
  env.set_schema_version(kSchemaVersion);
  env.set_event_id(book_event_id(b));
  env.set_ts_publish_ns(ts_publish);
  v1::BookSnapshotEvent* p = env.mutable_book();
  p->set_exchange(std::string(exchange_name(b.exchange)));
  p->set_symbol(b.symbol);
  p->set_exchange_symbol(b.exchange_symbol);
  p->set_sequence(b.sequence);
  p->mutable_bids()->Reserve(static_cast<int>(b.bids.size()));
  for (const BookLevel& l : b.bids) {
    v1::BookLevel* v = p->add_bids();
    v->set_price(l.price.to_string());
    v->set_quantity(l.quantity.to_string());
  }
  p->mutable_asks()->Reserve(static_cast<int>(b.asks.size()));
  for (const BookLevel& l : b.asks) {
    v1::BookLevel* v = p->add_asks();
    v->set_price(l.price.to_string());
    v->set_quantity(l.quantity.to_string());
  }
  p->set_depth(b.depth);
  p->set_crossed(b.crossed);
  p->set_ts_event_ns(b.ts_event);
  p->set_ts_recv_ns(b.ts_recv);
  return env.SerializeAsString();
}

RecordKind peek_kind(std::string_view bytes) {
  auto env = parse_envelope(bytes);
  if (!env) return RecordKind::kUnknown;
  switch (env->body_case()) {
    case v1::Envelope::kTrade: return RecordKind::kTrade;
    case v1::Envelope::kCandle: return RecordKind::kCandle;
    case v1::Envelope::kDeadLetter: return RecordKind::kDeadLetter;
    case v1::Envelope::kIndicators: return RecordKind::kIndicators;
    case v1::Envelope::kAlert: return RecordKind::kAlert;
    case v1::Envelope::kBook: return RecordKind::kBook;
    default: return RecordKind::kUnknown;
  }
}

Result<Trade> decode_trade(std::string_view bytes) {
  auto env = parse_envelope(bytes);
  if (!env) return env.status();
  if (!env->has_trade()) return Status::corruption("record is not a trade");
  const v1::TradeEvent& p = env->trade();
  Trade t;
  auto ex = exchange_of(p.exchange());
  if (!ex) return ex.status();
  t.exchange = *ex;
  t.symbol = p.symbol();
  t.exchange_symbol = p.exchange_symbol();
  t.trade_id = p.trade_id();
  t.first_trade_id = p.first_trade_id();
  t.last_trade_id = p.last_trade_id();
  if (!Decimal::parse(p.price(), t.price) || !Decimal::parse(p.quantity(), t.quantity))
    return Status::corruption("trade record with a bad decimal");
  t.taker_side = from_proto(p.taker_side());
  t.ts_event = p.ts_event_ns();
  t.ts_recv = p.ts_recv_ns();
  t.aggregated = p.aggregated();
  return t;
}

Result<Candle> decode_candle(std::string_view bytes, TimestampNs* last_trade_recv) {
  auto env = parse_envelope(bytes);
  if (!env) return env.status();
  if (!env->has_candle()) return Status::corruption("record is not a candle");
  const v1::CandleEvent& p = env->candle();
  Candle c;
  auto ex = exchange_of(p.exchange());
  if (!ex) return ex.status();
  c.exchange = *ex;
  c.symbol = p.symbol();
  c.exchange_symbol = p.exchange_symbol();
  auto tf = Timeframe::parse(p.timeframe());
  if (!tf) return Status::corruption("candle record with bad timeframe");
  c.timeframe = *tf;
  c.open_time = p.open_time_ns();
  c.close_time = p.close_time_ns();
  if (!Decimal::parse(p.open(), c.open) || !Decimal::parse(p.high(), c.high) ||
      !Decimal::parse(p.low(), c.low) || !Decimal::parse(p.close(), c.close))
    return Status::corruption("candle record with a bad price");
  auto v = WideDecimal::parse(p.volume());
  auto qv = WideDecimal::parse(p.quote_volume());
  auto tb = WideDecimal::parse(p.taker_buy_volume());
  auto tbq = WideDecimal::parse(p.taker_buy_quote_volume().empty() ? "0" : p.taker_buy_quote_volume());
  if (!v || !qv || !tb || !tbq) return Status::corruption("candle record with a bad volume");
  c.volume = *v;
  c.quote_volume = *qv;
  c.taker_buy_volume = *tb;
  c.taker_buy_quote_volume = *tbq;
  c.trades = p.trades();
  c.first_trade_id = p.first_trade_id();
  c.last_trade_id = p.last_trade_id();
  c.status = from_proto(p.status());
  c.revision = p.revision();
  c.coverage = p.coverage();
  c.gap_reason = p.gap_reason();
  if (last_trade_recv) *last_trade_recv = p.last_trade_recv_ns();
  return c;
}

Result<DeadLetter> decode_dead_letter(std::string_view bytes) {
  auto env = parse_envelope(bytes);
  if (!env) return env.status();
  if (!env->has_dead_letter()) return Status::corruption("record is not a dead letter");
  const v1::DeadLetter& p = env->dead_letter();
  return DeadLetter{p.source_topic(), p.exchange(), p.reason(), p.detail(), p.payload(), p.ts_recv_ns()};
}

Result<IndicatorRecord> decode_indicators(std::string_view bytes) {
  auto env = parse_envelope(bytes);
  if (!env) return env.status();
  if (!env->has_indicators()) return Status::corruption("record is not an indicator record");
  const v1::IndicatorEvent& p = env->indicators();
  IndicatorRecord r;
  auto ex = exchange_of(p.exchange());
  if (!ex) return ex.status();
  r.exchange = *ex;
  r.symbol = p.symbol();
  auto tf = Timeframe::parse(p.timeframe());
  if (!tf) return Status::corruption("indicator record with bad timeframe");
  r.timeframe = *tf;
  r.open_time = p.open_time_ns();
  r.close_time = p.close_time_ns();
  r.candle_revision = p.candle_revision();
  r.provisional = p.provisional();
  r.values.reserve(p.values_size());
  for (const auto& v : p.values()) r.values.emplace_back(v.name(), v.value());
  return r;
}

Result<Alert> decode_alert(std::string_view bytes) {
  auto env = parse_envelope(bytes);
  if (!env) return env.status();
  if (!env->has_alert()) return Status::corruption("record is not an alert");
  const v1::AlertEvent& p = env->alert();
  Alert a;
  a.alert_id = p.alert_id();
  a.rule = p.rule();
  a.kind = p.kind();
  a.state = p.state();
  a.severity = p.severity();
  a.exchange = p.exchange();
  a.symbol = p.symbol();
  a.timeframe = p.timeframe();
  a.ts_event = p.ts_event_ns();
  a.value = p.value();
  a.threshold = p.threshold();
  a.message = p.message();
  std::vector<std::pair<std::string, std::string>> labels(p.labels().begin(), p.labels().end());
  std::sort(labels.begin(), labels.end());
  a.labels = std::move(labels);
  return a;
}

Result<BookSnapshot> decode_book(std::string_view bytes) {
  auto env = parse_envelope(bytes);
  if (!env) return env.status();
  if (!env->has_book()) return Status::corruption("record is not a book snapshot");
  const v1::BookSnapshotEvent& p = env->book();
  BookSnapshot b;
  auto ex = exchange_of(p.exchange());
  if (!ex) return ex.status();
  b.exchange = *ex;
  b.symbol = p.symbol();
  b.exchange_symbol = p.exchange_symbol();
  b.sequence = p.sequence();
  auto levels = [](const auto& in, std::vector<BookLevel>& out) {
    out.reserve(static_cast<size_t>(in.size()));
    for (const v1::BookLevel& l : in) {
      BookLevel level;
      if (!Decimal::parse(l.price(), level.price) || !Decimal::parse(l.quantity(), level.quantity)) return false;
      out.push_back(level);
    }
    return true;
  };
  if (!levels(p.bids(), b.bids) || !levels(p.asks(), b.asks))
    return Status::corruption("book snapshot record with a bad decimal");
  b.depth = p.depth();
  b.crossed = p.crossed();
  b.ts_event = p.ts_event_ns();
  b.ts_recv = p.ts_recv_ns();
  return b;
}

std::optional<CandleStatus> peek_candle_status(std::string_view bytes) {
  using google::protobuf::io::CodedInputStream;
  using Wire = google::protobuf::internal::WireFormatLite;
  constexpr int kCandleField = v1::Envelope::kCandleFieldNumber;
  constexpr int kStatusField = v1::CandleEvent::kStatusFieldNumber;
  static const google::protobuf::OneofDescriptor* const kBody =
      v1::Envelope::descriptor()->FindOneofByName("body");
  // Protobuf's parse semantics, which decode_candle gets: a repeated candle field merges into
  // the same candle (the last status on the wire wins), and another body of the oneof replaces
  // it. So the whole record is scanned (the encoders write the body last: no extra work).
  std::optional<uint64_t> status;  // nullopt while the body is not a candle
  CodedInputStream in(reinterpret_cast<const uint8_t*>(bytes.data()), static_cast<int>(bytes.size()));
  for (uint32_t tag; (tag = in.ReadTag()) != 0;) {
    const int number = Wire::GetTagFieldNumber(tag);
    const bool delimited = Wire::GetTagWireType(tag) == Wire::WIRETYPE_LENGTH_DELIMITED;
    if (number != kCandleField || !delimited) {
      if (delimited && number != kCandleField) {
        const auto* field = v1::Envelope::descriptor()->FindFieldByNumber(number);
        if (field != nullptr && field->containing_oneof() == kBody) status.reset();
      }
      if (!Wire::SkipField(&in, tag)) return std::nullopt;
      continue;
    }
    uint32_t length = 0;
    if (!in.ReadVarint32(&length) || static_cast<int64_t>(length) > in.BytesUntilLimit()) return std::nullopt;
    const auto limit = in.PushLimit(static_cast<int>(length));
    uint64_t s = status.value_or(v1::CANDLE_PROVISIONAL);  // proto3: an absent field is the default
    for (uint32_t t; (t = in.ReadTag()) != 0;) {
      if (Wire::GetTagFieldNumber(t) == kStatusField && Wire::GetTagWireType(t) == Wire::WIRETYPE_VARINT) {
        if (!in.ReadVarint64(&s)) return std::nullopt;
      } else if (!Wire::SkipField(&in, t)) {
        return std::nullopt;
      }
    }
    if (!in.ConsumedEntireMessage() || in.BytesUntilLimit() != 0) return std::nullopt;
    in.PopLimit(limit);
    status = s;
  }
  if (!status) return std::nullopt;
  return from_proto(static_cast<v1::CandleStatus>(*status));
}

std::string event_id_of(std::string_view bytes) {
  auto env = parse_envelope(bytes);
  return env ? env->event_id() : std::string();
}

Result<std::string> record_to_json(std::string_view bytes) {
  auto env = parse_envelope(bytes);
  if (!env) return env.status();
  std::string out;
  google::protobuf::util::JsonPrintOptions opts;
  opts.preserve_proto_field_names = true;
  auto st = google::protobuf::util::MessageToJsonString(*env, &out, opts);
  if (!st.ok()) return Status::internal("json: " + std::string(st.message()));
  return out;
}

}  // namespace tickflow::codec
