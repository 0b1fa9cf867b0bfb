#include "core/record_scan.h"

#include <climits>
#include <cstring>

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/wire_format_lite.h>

#include "core/codec.h"
#include "tickflow.pb.h"

namespace tickflow::codec {
namespace {

using google::protobuf::io::CodedInputStream;
using Wire = google::protobuf::internal::WireFormatLite;

bool ascii(std::string_view s) {
  for (const char c : s)
    if (static_cast<unsigned char>(c) >= 0x80) return false;
  return true;
}

// The fields of one message in a flat buffer, in wire order.
class Scanner {
 public:
  explicit Scanner(std::string_view bytes)
      : base_(reinterpret_cast<const uint8_t*>(bytes.data())), in_(base_, static_cast<int>(bytes.size())) {}

  // The next field's number and wire type; false at the end (or on a malformed tag: ended()).
  bool next(int& field, Wire::WireType& type) {
    const uint32_t tag = in_.ReadTag();
    if (tag == 0) return false;
    field = Wire::GetTagFieldNumber(tag);
    type = Wire::GetTagWireType(tag);
    return true;
  }
  // True when the loop of next() stopped at the end of the buffer, not on a malformed tag.
  bool ended() { return in_.ConsumedEntireMessage(); }

  bool varint(uint64_t& v) { return in_.ReadVarint64(&v); }
  bool fixed64(uint64_t& v) { return in_.ReadLittleEndian64(&v); }
  // A length-delimited field, viewed in place.
  bool bytes(std::string_view& out) {
    uint32_t len = 0;
    if (!in_.ReadVarint32(&len) || len > static_cast<uint32_t>(INT_MAX)) return false;
    const int at = in_.CurrentPosition();
    if (!in_.Skip(static_cast<int>(len))) return false;
    out = std::string_view(reinterpret_cast<const char*>(base_ + at), len);
    return true;
  }
  // A string field: ASCII only (protobuf checks UTF-8; anything else goes to the codec).
  bool text(std::string_view& out) { return bytes(out) && ascii(out); }

 private:
  const uint8_t* base_;
  CodedInputStream in_;
};

constexpr auto kVarint = Wire::WIRETYPE_VARINT;
constexpr auto kFixed64 = Wire::WIRETYPE_FIXED64;
constexpr auto kBytes = Wire::WIRETYPE_LENGTH_DELIMITED;

// The body of an envelope in the encoders' layout: schema_version (supported), event_id,
// ts_publish_ns and ONE body, field `body_field`. nullopt for anything else.
std::optional<std::string_view> plain_body(std::string_view record, int body_field) {
  Scanner s(record);
  uint64_t version = 0, ignored = 0;
  std::optional<std::string_view> body;
  int field = 0;
  Wire::WireType type{};
  while (s.next(field, type)) {
    std::string_view v;
    bool ok = false;
    if (field == v1::Envelope::kSchemaVersionFieldNumber && type == kVarint) ok = s.varint(version);
    else if (field == v1::Envelope::kEventIdFieldNumber && type == kBytes) ok = s.text(v);
    else if (field == v1::Envelope::kTsPublishNsFieldNumber && type == kVarint) ok = s.varint(ignored);
    else if (field == body_field && type == kBytes && !body && s.bytes(v)) {
      body = v;
      ok = true;
    }
    if (!ok) return std::nullopt;
  }
  const auto v32 = static_cast<uint32_t>(version);
  if (!s.ended() || !body || v32 == 0 || v32 > kSchemaVersion) return std::nullopt;
  return body;
}

// proto3 defaults (0, "") for absent fields, as the generated parser.
struct TradeFields {
  std::string_view exchange, symbol, exchange_symbol, price, quantity;
  uint64_t trade_id = 0, first_trade_id = 0, last_trade_id = 0, taker_side = 0, ts_event = 0, ts_recv = 0,
           aggregated = 0;
};

bool scan_trade(std::string_view body, TradeFields& f) {
  using T = v1::TradeEvent;
  Scanner s(body);
  int field = 0;
  Wire::WireType type{};
  while (s.next(field, type)) {
    bool ok = false;
    if (type == kBytes) {
      switch (field) {
        case T::kExchangeFieldNumber: ok = s.text(f.exchange); break;
        case T::kSymbolFieldNumber: ok = s.text(f.symbol); break;
        case T::kExchangeSymbolFieldNumber: ok = s.text(f.exchange_symbol); break;
        case T::kPriceFieldNumber: ok = s.text(f.price); break;
        case T::kQuantityFieldNumber: ok = s.text(f.quantity); break;
        default: break;
      }
    } else if (type == kVarint) {
      switch (field) {
        case T::kTradeIdFieldNumber: ok = s.varint(f.trade_id); break;
        case T::kFirstTradeIdFieldNumber: ok = s.varint(f.first_trade_id); break;
        case T::kLastTradeIdFieldNumber: ok = s.varint(f.last_trade_id); break;
        case T::kTakerSideFieldNumber: ok = s.varint(f.taker_side); break;
        case T::kTsEventNsFieldNumber: ok = s.varint(f.ts_event); break;
        case T::kTsRecvNsFieldNumber: ok = s.varint(f.ts_recv); break;
        case T::kAggregatedFieldNumber: ok = s.varint(f.aggregated); break;
        default: break;
      }
    }
    if (!ok) return false;
  }
  return s.ended();
}

struct CandleFields {
  std::string_view exchange, symbol, exchange_symbol, timeframe, open, high, low, close, volume, quote_volume,
      taker_buy_volume, taker_buy_quote_volume, gap_reason, vwap;
  uint64_t open_time = 0, close_time = 0, trades = 0, first_trade_id = 0, last_trade_id = 0, status = 0,
           revision = 0, coverage_bits = 0, last_trade_recv = 0;
};

bool scan_candle(std::string_view body, CandleFields& f) {
  using C = v1::CandleEvent;
  Scanner s(body);
  int field = 0;
  Wire::WireType type{};
  while (s.next(field, type)) {
    bool ok = false;
    if (type == kBytes) {
      switch (field) {
        case C::kExchangeFieldNumber: ok = s.text(f.exchange); break;
        case C::kSymbolFieldNumber: ok = s.text(f.symbol); break;
        case C::kExchangeSymbolFieldNumber: ok = s.text(f.exchange_symbol); break;
        case C::kTimeframeFieldNumber: ok = s.text(f.timeframe); break;
        case C::kOpenFieldNumber: ok = s.text(f.open); break;
        case C::kHighFieldNumber: ok = s.text(f.high); break;
        case C::kLowFieldNumber: ok = s.text(f.low); break;
        case C::kCloseFieldNumber: ok = s.text(f.close); break;
        case C::kVolumeFieldNumber: ok = s.text(f.volume); break;
        case C::kQuoteVolumeFieldNumber: ok = s.text(f.quote_volume); break;
        case C::kTakerBuyVolumeFieldNumber: ok = s.text(f.taker_buy_volume); break;
        case C::kTakerBuyQuoteVolumeFieldNumber: ok = s.text(f.taker_buy_quote_volume); break;
        case C::kGapReasonFieldNumber: ok = s.text(f.gap_reason); break;
        case C::kVwapFieldNumber: ok = s.text(f.vwap); break;
        default: break;
      }
    } else if (type == kVarint) {
      switch (field) {
        case C::kOpenTimeNsFieldNumber: ok = s.varint(f.open_time); break;
        case C::kCloseTimeNsFieldNumber: ok = s.varint(f.close_time); break;
        case C::kTradesFieldNumber: ok = s.varint(f.trades); break;
        case C::kFirstTradeIdFieldNumber: ok = s.varint(f.first_trade_id); break;
        case C::kLastTradeIdFieldNumber: ok = s.varint(f.last_trade_id); break;
        case C::kStatusFieldNumber: ok = s.varint(f.status); break;
        case C::kRevisionFieldNumber: ok = s.varint(f.revision); break;
        case C::kLastTradeRecvNsFieldNumber: ok = s.varint(f.last_trade_recv); break;
        default: break;
      }
    } else if (type == kFixed64 && field == C::kCoverageFieldNumber) {
      ok = s.fixed64(f.coverage_bits);
    }
    if (!ok) return false;
  }
  return s.ended();
}

// The generated parser's enum mapping: an int32 value; unknown values read as provisional /
// unknown side, as codec's from_proto.
CandleStatus status_of(uint64_t wire) {
  switch (static_cast<int32_t>(wire)) {
    case v1::CANDLE_FINAL: return CandleStatus::kFinal;
    case v1::CANDLE_CORRECTED: return CandleStatus::kCorrected;
    default: return CandleStatus::kProvisional;
  }
}

Side side_of(uint64_t wire) {
  switch (static_cast<int32_t>(wire)) {
    case v1::SIDE_BUY: return Side::kBuy;
    case v1::SIDE_SELL: return Side::kSell;
    default: return Side::kUnknown;
  }
}

bool fast_trade(std::string_view bytes, Trade& t) {
  auto body = plain_body(bytes, v1::Envelope::kTradeFieldNumber);
  TradeFields f;
  if (!body || !scan_trade(*body, f)) return false;
  auto ex = parse_exchange(f.exchange);
  if (!ex || !Decimal::parse(f.price, t.price) || !Decimal::parse(f.quantity, t.quantity)) return false;
  t.exchange = *ex;
  t.symbol.assign(f.symbol);
  t.exchange_symbol.assign(f.exchange_symbol);
  t.trade_id = static_cast<int64_t>(f.trade_id);
  t.first_trade_id = static_cast<int64_t>(f.first_trade_id);
  t.last_trade_id = static_cast<int64_t>(f.last_trade_id);
  t.taker_side = side_of(f.taker_side);
  t.ts_event = static_cast<int64_t>(f.ts_event);
  t.ts_recv = static_cast<int64_t>(f.ts_recv);
  t.aggregated = f.aggregated != 0;
  return true;
}

bool fast_candle(std::string_view bytes, Candle& c, TimestampNs* last_trade_recv) {
  auto body = plain_body(bytes, v1::Envelope::kCandleFieldNumber);
  CandleFields f;
  if (!body || !scan_candle(*body, f)) return false;
  auto ex = parse_exchange(f.exchange);
  if (!ex) return false;
  // The label of a parsed timeframe parses back to the same timeframe: skip the parse.
  if (!c.timeframe.valid() || c.timeframe.label() != f.timeframe) {
    auto tf = Timeframe::parse(f.timeframe);
    if (!tf) return false;
    c.timeframe = *tf;
  }
  if (!Decimal::parse(f.open, c.open) || !Decimal::parse(f.high, c.high) || !Decimal::parse(f.low, c.low) ||
      !Decimal::parse(f.close, c.close))
    return false;
  auto v = WideDecimal::parse(f.volume);
  auto qv = WideDecimal::parse(f.quote_volume);
  auto tb = WideDecimal::parse(f.taker_buy_volume);
  auto tbq = WideDecimal::parse(f.taker_buy_quote_volume.empty() ? std::string_view("0") : f.taker_buy_quote_volume);
  if (!v || !qv || !tb || !tbq) return false;
  c.exchange = *ex;
  c.symbol.assign(f.symbol);
  c.exchange_symbol.assign(f.exchange_symbol);
  c.open_time = static_cast<int64_t>(f.open_time);
  c.close_time = static_cast<int64_t>(f.close_time);
  c.volume = *v;
  c.quote_volume = *qv;
  c.taker_buy_volume = *tb;
  c.taker_buy_quote_volume = *tbq;
  c.trades = static_cast<int64_t>(f.trades);
  c.first_trade_id = static_cast<int64_t>(f.first_trade_id);
  c.last_trade_id = static_cast<int64_t>(f.last_trade_id);
  c.status = status_of(f.status);
  c.revision = static_cast<uint32_t>(f.revision);
  std::memcpy(&c.coverage, &f.coverage_bits, sizeof c.coverage);
  c.gap_reason.assign(f.gap_reason);
  if (last_trade_recv) *last_trade_recv = static_cast<int64_t>(f.last_trade_recv);
  return true;
}

}  // namespace

Status decode_trade_into(std::string_view bytes, Trade& out) {
  if (fast_trade(bytes, out)) return Status::ok();
  auto t = decode_trade(bytes);
  if (!t) return t.status();
  out = std::move(t).value();
  return Status::ok();
}

Status decode_candle_into(std::string_view bytes, Candle& out, TimestampNs* last_trade_recv) {
  if (fast_candle(bytes, out, last_trade_recv)) return Status::ok();
  auto c = decode_candle(bytes, last_trade_recv);
  if (!c) return c.status();
  out = std::move(c).value();
  return Status::ok();
}

std::optional<CandleHead> peek_candle_head(std::string_view bytes) {
  auto body = plain_body(bytes, v1::Envelope::kCandleFieldNumber);
  CandleFields f;
  if (!body || !scan_candle(*body, f)) return std::nullopt;
  return CandleHead{f.exchange, f.symbol, f.timeframe, static_cast<int64_t>(f.open_time), status_of(f.status)};
}

}  // namespace tickflow::codec
