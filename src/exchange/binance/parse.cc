// Binance frame parser: simdjson On-Demand as the general (and fallback) path,
// parse_agg_trades_response and FrameParser construction. FrameParser::parse and the fast path
// for the exact trade/aggTrade layouts Binance sends are in parse_fast.cc. Both paths produce
// identical results: the fast path accepts only a strict subset of JSON (no escapes, no
// whitespace, no non-ASCII, the documented key order) and defers every other input, including
// every error, to simdjson.
#include "exchange/binance/parse.h"

#include <simdjson.h>

#include <utility>

#include "core/symbol.h"
#include "exchange/binance/parse_impl.h"

namespace tickflow::exchange::binance {

using namespace internal;

namespace {

constexpr std::string_view kMalformedJson = "malformed_json";
constexpr std::string_view kMissingField = "missing_field";
constexpr std::string_view kBadField = "bad_field";
constexpr std::string_view kBadDecimal = "bad_decimal";
constexpr std::string_view kBadSymbol = "bad_symbol";
constexpr std::string_view kUnknownEvent = "unknown_event";

bool is_type_error(simdjson::error_code ec) {
  return ec == simdjson::INCORRECT_TYPE || ec == simdjson::NUMBER_ERROR ||
         ec == simdjson::NUMBER_OUT_OF_RANGE;
}

// True once the whole document was consumed (simdjson 3.0 has no document::at_end()).
bool at_end(od::document& doc) { return doc.current_location().error() == simdjson::OUT_OF_BOUNDS; }

}  // namespace

// ---------------------------------------------------------------------------------------------
// simdjson path

#define TF_JSON_OR_FAIL(expr, what)                                                          \
  do {                                                                                       \
    simdjson::error_code _ec = (expr);                                                       \
    if (_ec != simdjson::SUCCESS) {                                                          \
      if (is_type_error(_ec))                                                                \
        return fail(reason, kBadField, std::string("field '") + (what) + "' has the wrong type"); \
      return fail(reason, kMalformedJson,                                                    \
                  std::string("malformed JSON at '") + (what) + "': " + simdjson::error_message(_ec)); \
    }                                                                                        \
  } while (0)

Status FrameParser::Impl::payload_field(std::string_view key, od::value v, Fields& f, ParsedFrame& out,
                                        std::string_view& reason) {
  if (key.size() != 1) return Status::ok();  // unknown keys are ignored
  switch (key[0]) {
    case 'e': TF_JSON_OR_FAIL(v.get_string().get(f.e), "e"); break;
    case 's': TF_JSON_OR_FAIL(v.get_string().get(f.s), "s"); f.have |= kHasS; break;
    case 't': TF_JSON_OR_FAIL(v.get_int64().get(f.t), "t"); f.have |= kHasT; break;
    case 'p': TF_JSON_OR_FAIL(v.get_string().get(f.p), "p"); f.have |= kHasP; break;
    case 'q': TF_JSON_OR_FAIL(v.get_string().get(f.q), "q"); f.have |= kHasQ; break;
    case 'f': TF_JSON_OR_FAIL(v.get_int64().get(f.f), "f"); f.have |= kHasF; break;
    case 'l': TF_JSON_OR_FAIL(v.get_int64().get(f.l), "l"); f.have |= kHasL; break;
    case 'T': TF_JSON_OR_FAIL(v.get_int64().get(f.big_t), "T"); f.have |= kHasBigT; break;
    case 'U': TF_JSON_OR_FAIL(v.get_int64().get(f.big_u), "U"); f.have |= kHasBigU; break;
    case 'u': TF_JSON_OR_FAIL(v.get_int64().get(f.u), "u"); f.have |= kHasU; break;
    case 'm': TF_JSON_OR_FAIL(v.get_bool().get(f.m), "m"); f.have |= kHasM; break;
    case 'E': {
      int64_t e = 0;  // event time: informative only, never an error
      if (!v.get_int64().get(e) && e >= 0 && e <= kMaxMs) f.big_e = e;
      break;
    }
    case 'a': {
      // aggTrade: aggregate id (number); bookTicker: best ask price (string); depthUpdate: asks.
      od::json_type type;
      TF_JSON_OR_FAIL(v.type().get(type), "a");
      if (type == od::json_type::string) {
        TF_JSON_OR_FAIL(v.get_string().get(f.book_a), "a");
        f.have |= kHasBookA;
      } else if (type == od::json_type::array) {
        TICKFLOW_RETURN_IF_ERROR(parse_levels(v, out.asks, "a", reason));
        f.have |= kHasDepthA;
      } else {
        TF_JSON_OR_FAIL(v.get_int64().get(f.a), "a");
        f.have |= kHasA;
      }
      break;
    }
    case 'b': {
      od::json_type type;
      TF_JSON_OR_FAIL(v.type().get(type), "b");
      if (type == od::json_type::string) {
        TF_JSON_OR_FAIL(v.get_string().get(f.book_b), "b");
        f.have |= kHasBookB;
      } else if (type == od::json_type::array) {
        TICKFLOW_RETURN_IF_ERROR(parse_levels(v, out.bids, "b", reason));
        f.have |= kHasDepthB;
      }
      break;
    }
    case 'A': {
      od::json_type type;
      TF_JSON_OR_FAIL(v.type().get(type), "A");
      if (type == od::json_type::string) {
        TF_JSON_OR_FAIL(v.get_string().get(f.book_aq), "A");
        f.have |= kHasBookAQ;
      }
      break;
    }
    case 'B': {
      od::json_type type;
      TF_JSON_OR_FAIL(v.type().get(type), "B");
      if (type == od::json_type::string) {
        TF_JSON_OR_FAIL(v.get_string().get(f.book_bq), "B");
        f.have |= kHasBookBQ;
      }
      break;
    }
    case 'k': {
      od::object k;
      TF_JSON_OR_FAIL(v.get_object().get(k), "k");
      TICKFLOW_RETURN_IF_ERROR(parse_kline(k, out.kline, reason));
      f.have |= kHasK;
      break;
    }
    default: break;
  }
  return Status::ok();
}

Status FrameParser::Impl::parse_kline(od::object k, Kline& kl, std::string_view& reason) {
  kl = Kline{};
  uint32_t seen = 0;
  auto decimal = [&](od::value v, const char* name, Decimal& d) -> Status {
    std::string_view sv;
    TF_JSON_OR_FAIL(v.get_string().get(sv), name);
    if (!Decimal::parse(sv, d))
      return fail(reason, kBadDecimal, std::string("field 'k.") + name + "' is not a decimal: '" + std::string(sv) + "'");
    return Status::ok();
  };
  auto text = [&](od::value v, const char* name, std::string& s) -> Status {
    std::string_view sv;
    TF_JSON_OR_FAIL(v.get_string().get(sv), name);
    s.assign(sv);
    return Status::ok();
  };
  for (auto field_result : k) {
    od::field field;
    TF_JSON_OR_FAIL(std::move(field_result).get(field), "k");
    std::string_view key;
    TF_JSON_OR_FAIL(field.unescaped_key().get(key), "k");
    if (key.size() != 1) continue;
    od::value v = field.value();
    switch (key[0]) {
      case 't': TF_JSON_OR_FAIL(v.get_int64().get(kl.open_time_ms), "k.t"); seen |= 1; break;
      case 'T': TF_JSON_OR_FAIL(v.get_int64().get(kl.close_time_ms), "k.T"); seen |= 2; break;
      case 's': TICKFLOW_RETURN_IF_ERROR(text(v, "k.s", kl.exchange_symbol)); seen |= 4; break;
      case 'i': TICKFLOW_RETURN_IF_ERROR(text(v, "k.i", kl.interval)); seen |= 8; break;
      case 'f': TF_JSON_OR_FAIL(v.get_int64().get(kl.first_trade_id), "k.f"); break;
      case 'L': TF_JSON_OR_FAIL(v.get_int64().get(kl.last_trade_id), "k.L"); break;
      case 'o': TICKFLOW_RETURN_IF_ERROR(decimal(v, "o", kl.open)); seen |= 16; break;
      case 'h': TICKFLOW_RETURN_IF_ERROR(decimal(v, "h", kl.high)); seen |= 32; break;
      case 'l': TICKFLOW_RETURN_IF_ERROR(decimal(v, "l", kl.low)); seen |= 64; break;
      case 'c': TICKFLOW_RETURN_IF_ERROR(decimal(v, "c", kl.close)); seen |= 128; break;
      case 'v': TICKFLOW_RETURN_IF_ERROR(text(v, "k.v", kl.volume)); break;
      case 'q': TICKFLOW_RETURN_IF_ERROR(text(v, "k.q", kl.quote_volume)); break;
      case 'V': TICKFLOW_RETURN_IF_ERROR(text(v, "k.V", kl.taker_buy_volume)); break;
      case 'Q': TICKFLOW_RETURN_IF_ERROR(text(v, "k.Q", kl.taker_buy_quote_volume)); break;
      case 'n': TF_JSON_OR_FAIL(v.get_int64().get(kl.trades), "k.n"); break;
      case 'x': TF_JSON_OR_FAIL(v.get_bool().get(kl.closed), "k.x"); break;
      default: break;
    }
  }
  static constexpr const char* kNames[] = {"k.t", "k.T", "k.s", "k.i", "k.o", "k.h", "k.l", "k.c"};
  for (int i = 0; i < 8; ++i) {
    if (!(seen & (1u << i))) return fail(reason, kMissingField, std::string("missing field '") + kNames[i] + "'");
  }
  return Status::ok();
}

Status FrameParser::Impl::parse_levels(od::value v, std::vector<DepthLevel>& out, const char* name,
                                       std::string_view& reason) {
  out.clear();
  od::array arr;
  TF_JSON_OR_FAIL(v.get_array().get(arr), name);
  for (auto item : arr) {
    od::array level;
    TF_JSON_OR_FAIL(std::move(item).get_array().get(level), name);
    DepthLevel& l = out.emplace_back();
    int k = 0;
    for (auto x : level) {
      if (k < 2) {  // [price, qty]; the 2017 format's trailing [] and anything after are ignored
        std::string_view sv;
        TF_JSON_OR_FAIL(std::move(x).get_string().get(sv), name);
        Decimal& d = k == 0 ? l.price : l.quantity;
        if (!Decimal::parse(sv, d))
          return fail(reason, kBadDecimal, std::string("field '") + name + "': level is not a decimal: '" +
                                               std::string(sv) + "'");
      }
      ++k;
    }
    if (k < 2) return fail(reason, kBadField, std::string("field '") + name + "': a level needs a price and a quantity");
    if (l.price.is_negative() || l.price.is_zero() || l.quantity.is_negative())
      return fail(reason, kBadField, std::string("field '") + name + "': price must be > 0 and quantity >= 0");
  }
  return Status::ok();
}

Status FrameParser::Impl::build_book(const Fields& f, bool depth, TimestampNs recv, ParsedFrame& out,
                                     std::string_view& reason) {
  (void)recv;
  if (depth) {
    static constexpr struct {
      uint32_t bit;
      const char* name;
    } kNeeds[] = {{kHasBigU, "U"}, {kHasU, "u"}, {kHasS, "s"}, {kHasDepthB, "b"}, {kHasDepthA, "a"}};
    for (const auto& n : kNeeds)
      if (!(f.have & n.bit)) return fail(reason, kMissingField, std::string("depthUpdate: missing field '") + n.name + "'");
    if (f.u < f.big_u) return fail(reason, kBadField, "depthUpdate: field 'u' is smaller than 'U'");
    out.kind = MessageKind::kDepthUpdate;
    out.first_update_id = f.big_u;
    out.last_update_id = f.u;
  } else {
    auto dec = [&](std::string_view sv, const char* name, Decimal& d) -> Status {
      if (!Decimal::parse(sv, d))
        return fail(reason, kBadDecimal, std::string("bookTicker: field '") + name + "' is not a decimal: '" +
                                             std::string(sv) + "'");
      return Status::ok();
    };
    static constexpr struct {
      uint32_t bit;
      const char* name;
    } kNeeds[] = {{kHasS, "s"}, {kHasU, "u"}, {kHasBookB, "b"}, {kHasBookBQ, "B"}, {kHasBookA, "a"}, {kHasBookAQ, "A"}};
    for (const auto& n : kNeeds)
      if (!(f.have & n.bit)) return fail(reason, kMissingField, std::string("bookTicker: missing field '") + n.name + "'");
    TICKFLOW_RETURN_IF_ERROR(dec(f.book_b, "b", out.best_bid.price));
    TICKFLOW_RETURN_IF_ERROR(dec(f.book_bq, "B", out.best_bid.quantity));
    TICKFLOW_RETURN_IF_ERROR(dec(f.book_a, "a", out.best_ask.price));
    TICKFLOW_RETURN_IF_ERROR(dec(f.book_aq, "A", out.best_ask.quantity));
    out.kind = MessageKind::kBookTicker;
    out.first_update_id = f.u;
    out.last_update_id = f.u;
  }
  out.book_symbol.assign(f.s);
  out.book_event_time = f.big_e * kNsPerMs;
  return Status::ok();
}

Status FrameParser::Impl::build_trade(const Fields& f, bool agg, TimestampNs recv, ParsedFrame& out,
                                      std::string_view& reason) {
  struct Need {
    uint32_t bit;
    const char* name;
  };
  static constexpr Need kTradeNeeds[] = {{kHasS, "s"}, {kHasT, "t"}, {kHasP, "p"},
                                         {kHasQ, "q"}, {kHasBigT, "T"}, {kHasM, "m"}};
  static constexpr Need kAggNeeds[] = {{kHasS, "s"}, {kHasA, "a"}, {kHasP, "p"}, {kHasQ, "q"},
                                       {kHasF, "f"}, {kHasL, "l"}, {kHasBigT, "T"}, {kHasM, "m"}};
  if (agg) {
    for (const Need& n : kAggNeeds)
      if (!(f.have & n.bit)) return fail(reason, kMissingField, std::string("aggTrade: missing field '") + n.name + "'");
  } else {
    for (const Need& n : kTradeNeeds)
      if (!(f.have & n.bit)) return fail(reason, kMissingField, std::string("trade: missing field '") + n.name + "'");
  }
  Trade& t = out.trade;
  if (!Decimal::parse(f.p, t.price))
    return fail(reason, kBadDecimal, "field 'p' is not a decimal: '" + std::string(f.p) + "'");
  if (!Decimal::parse(f.q, t.quantity))
    return fail(reason, kBadDecimal, "field 'q' is not a decimal: '" + std::string(f.q) + "'");
  if (f.big_t < 0 || f.big_t > kMaxMs) return fail(reason, kBadField, "field 'T' is out of range");
  if (agg && f.l < f.f) return fail(reason, kBadField, "field 'l' is smaller than 'f'");
  const std::string* unified = unify(f.s);
  if (unified == nullptr)
    return fail(reason, kBadSymbol, "field 's': unknown quote asset in symbol '" + std::string(f.s) + "'");
  out.kind = agg ? MessageKind::kAggTrade : MessageKind::kTrade;
  t.exchange = Exchange::kBinance;
  t.exchange_symbol.assign(f.s);
  t.symbol.assign(*unified);
  t.trade_id = agg ? f.a : f.t;
  t.first_trade_id = agg ? f.f : f.t;
  t.last_trade_id = agg ? f.l : f.t;
  t.taker_side = f.m ? Side::kSell : Side::kBuy;
  t.ts_event = f.big_t * kNsPerMs;
  t.ts_recv = recv;
  t.aggregated = agg;
  return Status::ok();
}

Status FrameParser::Impl::parse_simdjson(std::string_view in, TimestampNs recv, ParsedFrame& out,
                                         std::string_view& reason) {
  const size_t need = in.size() + simdjson::SIMDJSON_PADDING;
  if (padded.size() < need) padded.resize(need + need / 2);
  std::memcpy(padded.data(), in.data(), in.size());
  std::memset(padded.data() + in.size(), 0, simdjson::SIMDJSON_PADDING);
  od::document doc;
  auto ec = parser.iterate(padded.data(), in.size(), padded.size()).get(doc);
  if (ec) return fail(reason, kMalformedJson, std::string("malformed JSON: ") + simdjson::error_message(ec));
  od::object top;
  ec = doc.get_object().get(top);
  if (ec) return fail(reason, kMalformedJson, std::string("frame is not a JSON object: ") + simdjson::error_message(ec));

  Fields f;
  out.request_id = -1;
  out.subscription_error.clear();
  for (auto field_result : top) {
    od::field field;
    TF_JSON_OR_FAIL(std::move(field_result).get(field), "frame");
    std::string_view key;
    TF_JSON_OR_FAIL(field.unescaped_key().get(key), "frame");
    od::value v = field.value();
    if (key == "stream") {
      TF_JSON_OR_FAIL(v.get_string().get(f.stream), "stream");
    } else if (key == "data") {
      od::object data;
      TF_JSON_OR_FAIL(v.get_object().get(data), "data");
      for (auto df_result : data) {
        od::field df;
        TF_JSON_OR_FAIL(std::move(df_result).get(df), "data");
        std::string_view dkey;
        TF_JSON_OR_FAIL(df.unescaped_key().get(dkey), "data");
        TICKFLOW_RETURN_IF_ERROR(payload_field(dkey, df.value(), f, out, reason));
      }
    } else if (key == "result") {
      f.have |= kHasResult;
    } else if (key == "id") {
      f.have |= kHasId;
      int64_t id = -1;
      out.request_id = v.get_int64().get(id) ? -1 : id;
    } else if (key == "error") {
      // {"code":2,"msg":"Invalid request: ..."}: Binance's own text, surfaced as given.
      od::object err;
      TF_JSON_OR_FAIL(v.get_object().get(err), "error");
      int64_t code = 0;
      std::string_view msg;
      for (auto ef : err) {
        od::field e;
        TF_JSON_OR_FAIL(std::move(ef).get(e), "error");
        std::string_view ekey;
        TF_JSON_OR_FAIL(e.unescaped_key().get(ekey), "error");
        if (ekey == "code") TF_JSON_OR_FAIL(e.value().get_int64().get(code), "error.code");
        if (ekey == "msg") TF_JSON_OR_FAIL(e.value().get_string().get(msg), "error.msg");
      }
      out.subscription_error = std::string(msg) + " (code " + std::to_string(code) + ")";
      f.have |= kHasError;
    } else {
      TICKFLOW_RETURN_IF_ERROR(payload_field(key, v, f, out, reason));
    }
  }
  if (!at_end(doc)) return fail(reason, kMalformedJson, "malformed JSON: trailing content after the frame");

  if (f.e == "trade") return build_trade(f, false, recv, out, reason);
  if (f.e == "aggTrade") return build_trade(f, true, recv, out, reason);
  if (f.e == "depthUpdate") return build_book(f, true, recv, out, reason);
  if (f.e == "kline") {
    if (!(f.have & kHasK)) return fail(reason, kMissingField, "kline: missing field 'k'");
    out.kind = MessageKind::kKline;
    return Status::ok();
  }
  if (f.e.empty()) {
    if ((f.have & (kHasResult | kHasError)) && (f.have & kHasId)) {
      out.kind = MessageKind::kSubscriptionResult;
      return Status::ok();
    }
    constexpr std::string_view kBookSuffix = "@bookTicker";
    bool book_stream = f.stream.size() >= kBookSuffix.size() &&
                       f.stream.substr(f.stream.size() - kBookSuffix.size()) == kBookSuffix;
    bool book_shape = (f.have & (kHasU | kHasS | kHasBookA | kHasBookB)) == (kHasU | kHasS | kHasBookA | kHasBookB);
    if (book_stream || book_shape) return build_book(f, false, recv, out, reason);
  }
  return fail(reason, kUnknownEvent, "unknown event '" + std::string(f.e) + "'");
}

#undef TF_JSON_OR_FAIL

// ---------------------------------------------------------------------------------------------

FrameParser::FrameParser() : impl_(std::make_unique<Impl>()) {}
FrameParser::~FrameParser() = default;

void FrameParser::set_fast_path(bool enabled) { impl_->fast_path = enabled; }

Status parse_agg_trades_response(std::string_view body, std::string_view exchange_symbol, TimestampNs recv,
                                 std::vector<Trade>& out) {
  std::string unified = unify_binance_symbol(exchange_symbol);
  if (unified.empty())
    return Status::parse_error("unknown quote asset in symbol '" + std::string(exchange_symbol) + "'");
  simdjson::padded_string padded(body);
  od::parser parser;
  od::document doc;
  auto malformed = [](simdjson::error_code ec) {
    return Status::parse_error(std::string("aggTrades: malformed JSON: ") + simdjson::error_message(ec));
  };
  if (auto ec = parser.iterate(padded).get(doc)) return malformed(ec);
  od::array arr;
  if (auto ec = doc.get_array().get(arr)) return malformed(ec);
  for (auto item : arr) {
    od::object obj;
    if (auto ec = std::move(item).get_object().get(obj)) return malformed(ec);
    Trade t;
    t.exchange = Exchange::kBinance;
    t.exchange_symbol.assign(exchange_symbol);
    t.symbol = unified;
    t.aggregated = true;
    t.ts_recv = recv;
    uint32_t have = 0;
    for (auto fr : obj) {
      od::field field;
      if (auto ec = std::move(fr).get(field)) return malformed(ec);
      std::string_view key;
      if (auto ec = field.unescaped_key().get(key)) return malformed(ec);
      if (key.size() != 1) continue;
      od::value v = field.value();
      auto bad_type = [&](char k) { return Status::parse_error(std::string("aggTrades: field '") + k + "' has the wrong type"); };
      std::string_view sv;
      int64_t n = 0;
      bool b = false;
      switch (key[0]) {
        case 'a': if (v.get_int64().get(n)) return bad_type('a'); t.trade_id = n; have |= 1; break;
        case 'f': if (v.get_int64().get(n)) return bad_type('f'); t.first_trade_id = n; have |= 2; break;
        case 'l': if (v.get_int64().get(n)) return bad_type('l'); t.last_trade_id = n; have |= 4; break;
        case 'T':
          if (v.get_int64().get(n) || n < 0 || n > kMaxMs) return bad_type('T');
          t.ts_event = n * kNsPerMs;
          have |= 8;
          break;
        case 'p':
          if (v.get_string().get(sv)) return bad_type('p');
          if (!Decimal::parse(sv, t.price)) return Status::parse_error("aggTrades: field 'p' is not a decimal: '" + std::string(sv) + "'");
          have |= 16;
          break;
        case 'q':
          if (v.get_string().get(sv)) return bad_type('q');
          if (!Decimal::parse(sv, t.quantity)) return Status::parse_error("aggTrades: field 'q' is not a decimal: '" + std::string(sv) + "'");
          have |= 32;
          break;
        case 'm':
          if (v.get_bool().get(b)) return bad_type('m');
          t.taker_side = b ? Side::kSell : Side::kBuy;
          have |= 64;
          break;
        default: break;
      }
    }
    static constexpr const char* kNames = "aflTpqm";
    for (int i = 0; i < 7; ++i) {
      if (!(have & (1u << i))) return Status::parse_error(std::string("aggTrades: missing field '") + kNames[i] + "'");
    }
    out.push_back(std::move(t));
  }
  if (!at_end(doc)) return Status::parse_error("aggTrades: trailing content after the array");
  return Status::ok();
}

}  // namespace tickflow::exchange::binance
