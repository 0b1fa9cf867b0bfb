// Binance frame parser: a fast path for the exact trade/aggTrade layouts Binance sends, with
// simdjson On-Demand as the general (and fallback) path. Both produce identical results: the
// fast path accepts only a strict subset of JSON (no escapes, no whitespace, no non-ASCII, the
// documented key order) and defers every other input, including every error, to simdjson.
#include "exchange/binance/parse.h"

#include <simdjson.h>

#include <cstring>
#include <unordered_map>
#include <utility>

#include "core/symbol.h"
#include "core/symbol_hash.h"

namespace tickflow::exchange::binance {
namespace {

namespace od = simdjson::ondemand;

constexpr std::string_view kMalformedJson = "malformed_json";
constexpr std::string_view kMissingField = "missing_field";
constexpr std::string_view kBadField = "bad_field";
constexpr std::string_view kBadDecimal = "bad_decimal";
constexpr std::string_view kBadSymbol = "bad_symbol";
constexpr std::string_view kUnknownEvent = "unknown_event";

// Milliseconds beyond which ms → ns overflows int64 (year 2262).
constexpr int64_t kMaxMs = INT64_MAX / kNsPerMs;

// Field presence bits of one payload object.
enum FieldBit : uint32_t {
  kHasS = 1u << 0,
  kHasT = 1u << 1,   // "t"
  kHasA = 1u << 2,   // "a" (number)
  kHasP = 1u << 3,
  kHasQ = 1u << 4,
  kHasF = 1u << 5,
  kHasL = 1u << 6,
  kHasBigT = 1u << 7,  // "T"
  kHasM = 1u << 8,
  kHasBigU = 1u << 9,  // "U"
  kHasU = 1u << 10,    // "u"
  kHasK = 1u << 11,
  kHasBookB = 1u << 12,  // "b" string (bookTicker)
  kHasBookA = 1u << 13,  // "a" string (bookTicker)
  kHasResult = 1u << 14,
  kHasId = 1u << 15,
};

struct Fields {
  uint32_t have = 0;
  std::string_view stream, e, s, p, q;
  int64_t t = 0, a = 0, f = 0, l = 0, big_t = 0, big_u = 0, u = 0;
  bool m = false;
};

bool is_type_error(simdjson::error_code ec) {
  return ec == simdjson::INCORRECT_TYPE || ec == simdjson::NUMBER_ERROR ||
         ec == simdjson::NUMBER_OUT_OF_RANGE;
}

// True once the whole document was consumed (simdjson 3.0 has no document::at_end()).
bool at_end(od::document& doc) { return doc.current_location().error() == simdjson::OUT_OF_BOUNDS; }

}  // namespace

struct FrameParser::Impl {
  od::parser parser;
  std::string padded;  // frame copy with SIMDJSON_PADDING readable bytes after it
  bool fast_path = true;
  std::unordered_map<std::string, std::string, SymbolHash, std::equal_to<>> unified_cache;

  Status fail(std::string_view& reason, std::string_view tag, std::string message) {
    reason = tag;
    return Status::parse_error(std::move(message));
  }

  // Direct-mapped front cache of unified_cache (no modulo, no chain walk on a hit).
  struct Slot {
    std::string exchange_symbol, unified;
  };
  Slot slots[64];

  // Unified symbol for s, cached (no allocation on a hit). nullptr when the quote is unknown.
  const std::string* unify(std::string_view s) {
    Slot& slot = slots[SymbolHash{}(s) & 63];
    if (!slot.unified.empty() && symbol_equal(slot.exchange_symbol, s)) return &slot.unified;
    auto it = unified_cache.find(s);
    if (it == unified_cache.end()) {
      std::string u = unify_binance_symbol(s);
      if (u.empty()) return nullptr;
      if (unified_cache.size() > 100000) unified_cache.clear();
      it = unified_cache.emplace(std::string(s), std::move(u)).first;
    }
    slot.exchange_symbol.assign(s);
    slot.unified = it->second;
    return &slot.unified;
  }

  bool fast_parse(std::string_view in, TimestampNs recv, ParsedFrame& out);
  Status parse_simdjson(std::string_view in, TimestampNs recv, ParsedFrame& out, std::string_view& reason);
  Status payload_field(std::string_view key, od::value v, Fields& f, ParsedFrame& out, std::string_view& reason);
  Status parse_kline(od::object k, Kline& kl, std::string_view& reason);
  Status build_trade(const Fields& f, bool agg, TimestampNs recv, ParsedFrame& out, std::string_view& reason);
};

// ---------------------------------------------------------------------------------------------
// Fast path

namespace {

#define TF_ALWAYS_INLINE inline __attribute__((always_inline))

// SWAR helpers (8 bytes at a time; loads stay inside [p, end)).
TF_ALWAYS_INLINE uint64_t load8(const char* p) {
  uint64_t x;
  std::memcpy(&x, p, 8);
  return x;
}
constexpr uint64_t kOnes = 0x0101010101010101ULL;
constexpr uint64_t kHighs = 0x8080808080808080ULL;
TF_ALWAYS_INLINE uint64_t has_zero_byte(uint64_t v) { return (v - kOnes) & ~v & kHighs; }
TF_ALWAYS_INLINE bool all_digits(uint64_t x) {
  return ((x & 0xF0F0F0F0F0F0F0F0ULL) | (((x + 0x0606060606060606ULL) & 0xF0F0F0F0F0F0F0F0ULL) >> 4)) ==
         0x3333333333333333ULL;
}
TF_ALWAYS_INLINE uint64_t eight_digits(uint64_t x) {
  x -= 0x3030303030303030ULL;
  x = (x * 10) + (x >> 8);
  return (((x & 0x000000FF000000FFULL) * 0x000F424000000064ULL) +
          (((x >> 16) & 0x000000FF000000FFULL) * 0x0000271000000001ULL)) >> 32;
}

struct Cursor {
  const char* p;
  const char* end;

  // A literal of compile-time length, compared in 8-byte words (no memcmp call).
  template <size_t N>
  TF_ALWAYS_INLINE bool lit(const char (&s)[N]) {
    constexpr size_t n = N - 1;
    if (static_cast<size_t>(end - p) < n) return false;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
      uint64_t x, y;
      std::memcpy(&x, p + i, 8);
      std::memcpy(&y, s + i, 8);
      if (x != y) return false;
    }
    for (; i < n; ++i) {
      if (p[i] != s[i]) return false;
    }
    p += n;
    return true;
  }
  // Plain JSON string body up to the closing quote: printable ASCII, no escapes.
  TF_ALWAYS_INLINE bool str(std::string_view& out) {
    const char* b = p;
    while (end - p >= 8) {
      uint64_t x = load8(p);
      if (has_zero_byte(x ^ (kOnes * '"')) | has_zero_byte(x ^ (kOnes * '\\')) |
          ((x - kOnes * 0x20) & ~x & kHighs) | (x & kHighs))
        break;
      p += 8;
    }
    while (p < end) {
      unsigned char c = static_cast<unsigned char>(*p);
      if (c == '"') {
        out = std::string_view(b, static_cast<size_t>(p - b));
        ++p;
        return true;
      }
      if (c < 0x20 || c >= 0x80 || c == '\\') return false;
      ++p;
    }
    return false;
  }
  // A run of ASCII digits: value (wraps beyond 19 digits; callers bound the count) and count.
  TF_ALWAYS_INLINE size_t digits(uint64_t& v) {
    const char* b = p;
    while (end - p >= 8) {
      uint64_t x = load8(p);
      if (!all_digits(x)) break;
      v = v * 100000000 + eight_digits(x);
      p += 8;
    }
    while (p < end && *p >= '0' && *p <= '9') {
      v = v * 10 + static_cast<uint64_t>(*p - '0');
      ++p;
    }
    return static_cast<size_t>(p - b);
  }
  // Non-negative integer without leading zeros, at most 18 digits.
  TF_ALWAYS_INLINE bool uint(int64_t& out) {
    const char* b = p;
    uint64_t v = 0;
    size_t n = digits(v);
    if (n == 0 || n > 18 || (n > 1 && *b == '0')) return false;
    out = static_cast<int64_t>(v);
    return true;
  }
  // Decimal string body up to the closing quote. The common shape (digits '.' digits, at most
  // 18 digits) is converted inline exactly as Decimal::parse would; anything else goes through
  // Decimal::parse itself, so results are identical.
  TF_ALWAYS_INLINE bool decimal(Decimal& out) {
    const char* b = p;
    uint64_t units = 0;
    size_t n = digits(units);
    int scale = 0;
    if (p < end && *p == '.') {
      ++p;
      size_t f = digits(units);
      n += f;
      scale = static_cast<int>(f);
    }
    if (p < end && *p == '"' && n > 0 && n <= 18) {
      ++p;
      out = Decimal(static_cast<int64_t>(units), scale);
      return true;
    }
    p = b;
    std::string_view sv;
    return str(sv) && Decimal::parse(sv, out);
  }
  TF_ALWAYS_INLINE bool boolean(bool& out) {
    if (lit("true")) {
      out = true;
      return true;
    }
    if (lit("false")) {
      out = false;
      return true;
    }
    return false;
  }
};

}  // namespace

bool FrameParser::Impl::fast_parse(std::string_view in, TimestampNs recv, ParsedFrame& out) {
  Cursor c{in.data(), in.data() + in.size()};
  bool combined = false;
  if (c.lit("{\"stream\":\"")) {
    std::string_view stream;
    if (!c.str(stream) || !c.lit(",\"data\":")) return false;
    combined = true;
  }
  bool agg;
  if (c.lit("{\"e\":\"trade\",\"E\":")) {
    agg = false;
  } else if (c.lit("{\"e\":\"aggTrade\",\"E\":")) {
    agg = true;
  } else {
    return false;
  }
  int64_t ev, id, first, last, t_ms;
  std::string_view s;
  Decimal price, qty;
  bool m, big_m;
  if (!c.uint(ev) || !c.lit(",\"s\":\"") || !c.str(s)) return false;
  if (!(agg ? c.lit(",\"a\":") : c.lit(",\"t\":")) || !c.uint(id)) return false;
  if (!c.lit(",\"p\":\"") || !c.decimal(price) || !c.lit(",\"q\":\"") || !c.decimal(qty)) return false;
  if (agg) {
    if (!c.lit(",\"f\":") || !c.uint(first) || !c.lit(",\"l\":") || !c.uint(last)) return false;
  } else {
    first = last = id;
  }
  if (!c.lit(",\"T\":") || !c.uint(t_ms) || !c.lit(",\"m\":") || !c.boolean(m)) return false;
  if (!c.lit(",\"M\":") || !c.boolean(big_m) || !c.lit("}")) return false;
  if (combined && !c.lit("}")) return false;
  if (c.p != c.end || t_ms > kMaxMs || last < first) return false;
  const std::string* unified = unify(s);
  if (unified == nullptr) return false;
  out.kind = agg ? MessageKind::kAggTrade : MessageKind::kTrade;
  Trade& t = out.trade;
  t.exchange = Exchange::kBinance;
  t.exchange_symbol.assign(s);
  t.symbol.assign(*unified);
  t.trade_id = id;
  t.first_trade_id = first;
  t.last_trade_id = last;
  t.price = price;
  t.quantity = qty;
  t.taker_side = m ? Side::kSell : Side::kBuy;
  t.ts_event = t_ms * kNsPerMs;
  t.ts_recv = recv;
  t.aggregated = agg;
  return true;
}

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
    case 'a': {
      // aggTrade: aggregate id (number); bookTicker: best ask price (string).
      od::json_type type;
      TF_JSON_OR_FAIL(v.type().get(type), "a");
      if (type == od::json_type::string) {
        f.have |= kHasBookA;
      } else if (type != od::json_type::array) {  // depthUpdate: asks (an array)
        TF_JSON_OR_FAIL(v.get_int64().get(f.a), "a");
        f.have |= kHasA;
      }
      break;
    }
    case 'b': {
      od::json_type type;
      TF_JSON_OR_FAIL(v.type().get(type), "b");
      if (type == od::json_type::string) f.have |= kHasBookB;
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
    } else {
      TICKFLOW_RETURN_IF_ERROR(payload_field(key, v, f, out, reason));
    }
  }
  if (!at_end(doc)) return fail(reason, kMalformedJson, "malformed JSON: trailing content after the frame");

  if (f.e == "trade") return build_trade(f, false, recv, out, reason);
  if (f.e == "aggTrade") return build_trade(f, true, recv, out, reason);
  if (f.e == "depthUpdate") {
    if (!(f.have & kHasBigU)) return fail(reason, kMissingField, "depthUpdate: missing field 'U'");
    if (!(f.have & kHasU)) return fail(reason, kMissingField, "depthUpdate: missing field 'u'");
    out.kind = MessageKind::kDepthUpdate;
    out.first_update_id = f.big_u;
    out.last_update_id = f.u;
    return Status::ok();
  }
  if (f.e == "kline") {
    if (!(f.have & kHasK)) return fail(reason, kMissingField, "kline: missing field 'k'");
    out.kind = MessageKind::kKline;
    return Status::ok();
  }
  if (f.e.empty()) {
    if ((f.have & kHasResult) && (f.have & kHasId)) {
      out.kind = MessageKind::kSubscriptionResult;
      return Status::ok();
    }
    constexpr std::string_view kBookSuffix = "@bookTicker";
    bool book_stream = f.stream.size() >= kBookSuffix.size() &&
                       f.stream.substr(f.stream.size() - kBookSuffix.size()) == kBookSuffix;
    bool book_shape = (f.have & (kHasU | kHasS | kHasBookA | kHasBookB)) == (kHasU | kHasS | kHasBookA | kHasBookB);
    if (book_stream || book_shape) {
      out.kind = MessageKind::kBookTicker;
      out.last_update_id = f.u;
      return Status::ok();
    }
  }
  return fail(reason, kUnknownEvent, "unknown event '" + std::string(f.e) + "'");
}

#undef TF_JSON_OR_FAIL

// ---------------------------------------------------------------------------------------------

FrameParser::FrameParser() : impl_(std::make_unique<Impl>()) {}
FrameParser::~FrameParser() = default;

void FrameParser::set_fast_path(bool enabled) { impl_->fast_path = enabled; }

Status FrameParser::parse(std::string_view frame, TimestampNs recv, ParsedFrame& out) {
  reason_ = {};
  out.kind = MessageKind::kUnknown;
  if (impl_->fast_path && impl_->fast_parse(frame, recv, out)) return Status::ok();
  Status st = impl_->parse_simdjson(frame, recv, out, reason_);
  if (!st.is_ok()) out.kind = MessageKind::kUnknown;
  return st;
}

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
