// The fast path of the Coinbase Exchange FrameParser (parse_internal.h): `match` / `last_match`
// frames in exactly the layout Coinbase sends
//   {"type":"match","trade_id":N,"maker_order_id":"..","taker_order_id":"..","side":"buy|sell",
//    "size":"..","price":"..","product_id":"..","sequence":N,"time":".."}
// read by a cursor: a strict subset of JSON (no whitespace, no escapes, ASCII only, that key
// order). Anything else — including every error — returns false and goes to the simdjson path,
// which then gives the same result or the error with its reason (differential test:
// CoinbaseParse.FastPathGivesTheSameResultsAsSimdjson over every recorded frame and edge cases).
#include <cstring>

#include "exchange/coinbase/parse_internal.h"

namespace tickflow::exchange::coinbase::internal {

namespace {

struct Cursor {
  const char* p;
  const char* end;

  template <size_t N>
  inline __attribute__((always_inline)) bool lit(const char (&s)[N]) {
    constexpr size_t n = N - 1;
    if (static_cast<size_t>(end - p) < n || std::memcmp(p, s, n) != 0) return false;
    p += n;
    return true;
  }
  // A JSON non-negative integer as simdjson's get_int64 takes it: no leading zeros, fits.
  bool uint(int64_t& out) {
    const char* s = p;
    int64_t v = 0;
    while (p < end && *p >= '0' && *p <= '9') {
      if (p - s >= 18) return false;  // leave the overflow edge to simdjson
      v = v * 10 + (*p - '0');
      ++p;
    }
    if (p == s || (*s == '0' && p - s > 1)) return false;
    out = v;
    return true;
  }
  // The body of a string up to its closing quote (consumed): printable ASCII, no escapes.
  bool plain(std::string_view& out) {
    const char* s = p;
    while (p < end) {
      const auto c = static_cast<unsigned char>(*p);
      if (c == '"') {
        out = std::string_view(s, static_cast<size_t>(p - s));
        ++p;
        return true;
      }
      if (c == '\\' || c < 0x20 || c >= 0x80) return false;
      ++p;
    }
    return false;
  }
};

inline int d2(const char* p) { return (p[0] - '0') * 10 + (p[1] - '0'); }
inline bool digits(const char* p, int n) {
  for (int i = 0; i < n; ++i) {
    if (p[i] < '0' || p[i] > '9') return false;
  }
  return true;
}

// "YYYY-MM-DDTHH:MM:SS.ffffffZ" (Coinbase's form) with parse_iso8601's arithmetic and range
// checks; any other form goes to parse_iso8601 itself.
bool iso_time(std::string_view s, TimestampNs& out) {
  const char* p = s.data();
  if (s.size() != 27 || p[4] != '-' || p[7] != '-' || p[10] != 'T' || p[13] != ':' || p[16] != ':' ||
      p[19] != '.' || p[26] != 'Z' || !digits(p, 4) || !digits(p + 5, 2) || !digits(p + 8, 2) ||
      !digits(p + 11, 2) || !digits(p + 14, 2) || !digits(p + 17, 2) || !digits(p + 20, 6)) {
    Result<TimestampNs> t = parse_iso8601(s);
    if (!t.is_ok()) return false;
    out = *t;
    return true;
  }
  const int y = d2(p) * 100 + d2(p + 2), mo = d2(p + 5), d = d2(p + 8), h = d2(p + 11), mi = d2(p + 14),
            se = d2(p + 17);
  if (y < 1970 || y > 2200) {  // far from the epoch: parse_iso8601's range checks
    Result<TimestampNs> t = parse_iso8601(s);
    if (!t.is_ok()) return false;
    out = *t;
    return true;
  }
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || se > 60) return false;
  // One product's matches share their day: remember the last day's number.
  thread_local int last_ymd = -1;
  thread_local int64_t last_days = 0;
  const int ymd = y * 10000 + mo * 100 + d;
  if (ymd != last_ymd) {
    last_days = days_from_civil(y, static_cast<unsigned>(mo), static_cast<unsigned>(d));
    last_ymd = ymd;
  }
  const int64_t frac = ((d2(p + 20) * 100 + d2(p + 22)) * 100 + d2(p + 24)) * int64_t{1000};
  out = (last_days * 86400 + h * 3600 + mi * 60 + se) * kNsPerSec + frac;
  return true;
}

}  // namespace

bool parse_match_fast(std::string_view frame, TimestampNs recv, ParsedMessage& out) {
  Cursor c{frame.data(), frame.data() + frame.size()};
  MessageKind kind;
  if (c.lit(R"({"type":"match","trade_id":)")) {
    kind = MessageKind::kMatch;
  } else if (c.lit(R"({"type":"last_match","trade_id":)")) {
    kind = MessageKind::kLastMatch;
  } else {
    return false;
  }
  int64_t trade_id = 0, sequence = 0;
  std::string_view maker, taker, side, size, price, product, time;
  if (!c.uint(trade_id) || !c.lit(R"(,"maker_order_id":")") || !c.plain(maker) ||
      !c.lit(R"(,"taker_order_id":")") || !c.plain(taker) || !c.lit(R"(,"side":")") || !c.plain(side) ||
      !c.lit(R"(,"size":")") || !c.plain(size) || !c.lit(R"(,"price":")") || !c.plain(price) ||
      !c.lit(R"(,"product_id":")") || !c.plain(product) || !c.lit(R"(,"sequence":)") || !c.uint(sequence) ||
      !c.lit(R"(,"time":")") || !c.plain(time) || !c.lit("}") || c.p != c.end) {
    return false;
  }
  Side taker_side;
  if (side == "sell") {
    taker_side = Side::kBuy;  // `side` is the maker's
  } else if (side == "buy") {
    taker_side = Side::kSell;
  } else {
    return false;
  }
  if (!valid_product(product)) return false;
  Decimal p, q;
  if (!Decimal::parse(price, p) || p.is_negative() || p.is_zero()) return false;
  if (!Decimal::parse(size, q) || q.is_negative() || q.is_zero()) return false;
  TimestampNs ts = 0;
  if (!iso_time(time, ts)) return false;

  out.kind = kind;
  out.product_id.assign(product);
  out.sequence = sequence;
  out.time = ts;
  Trade& t = out.trade;
  t.exchange = Exchange::kCoinbase;
  t.symbol.assign(product);
  t.exchange_symbol.assign(product);
  t.trade_id = trade_id;
  t.first_trade_id = trade_id;
  t.last_trade_id = trade_id;
  t.price = p;
  t.quantity = q;
  t.taker_side = taker_side;
  t.ts_event = ts;
  t.ts_recv = recv;
  t.aggregated = false;
  return true;
}

}  // namespace tickflow::exchange::coinbase::internal
