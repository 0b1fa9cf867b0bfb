// FrameParser's hand-written paths (FrameParser::set_fast_path): trade messages and book
// updates in Kraken's exact compact layout, parsed without simdjson; anything else gives up
// (false) and parse() takes the simdjson path, so results and error reasons are identical
// (parse.h; differential tests in tests/fast_path_test.cc, fuzz/kraken_fuzz.cc).
#include "exchange/kraken/parse_internal.h"

namespace tickflow::exchange::kraken {

using namespace internal;

namespace {

// s[pos..] starts with `lit`; advances pos.
inline bool eat(std::string_view s, size_t& pos, std::string_view lit) {
  if (s.compare(pos, lit.size(), lit) != 0) return false;
  pos += lit.size();
  return true;
}
// A JSON string body up to the next '"' (no escapes: a backslash gives up).
inline bool plain_string(std::string_view s, size_t& pos, std::string_view& out) {
  const size_t start = pos;
  while (pos < s.size()) {
    const char c = s[pos];
    if (c == '"') {
      out = s.substr(start, pos - start);
      return true;
    }
    // Escapes, control characters and non-ASCII bytes (UTF-8 validation): the simdjson path.
    if (c == '\\' || static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) >= 0x80) return false;
    ++pos;
  }
  return false;
}

// The common frame shape of the hand-written paths: "[" channelID ... "]" ending in a string;
// reads the channel id (JSON integer, no leading zero, < 10^18) and leaves pos after it.
inline bool channel_prefix(std::string_view f, size_t& pos, int64_t& channel) {
  if (f.size() < 24 || f[0] != '[' || f[f.size() - 1] != ']' || f[f.size() - 2] != '"') return false;
  pos = 1;
  channel = 0;
  const size_t digits_start = pos;
  while (pos < f.size() && f[pos] >= '0' && f[pos] <= '9' && pos - digits_start < 18) {
    channel = channel * 10 + (f[pos] - '0');
    ++pos;
  }
  return pos != digits_start && !(f[digits_start] == '0' && pos - digits_start > 1);
}

}  // namespace

bool FrameParser::Impl::fast_trades(std::string_view f, TimestampNs recv, ParsedMessage& out) {
  constexpr std::string_view kTail = "],\"trade\",\"";
  size_t pos = 0;
  int64_t channel = 0;
  if (!channel_prefix(f, pos, channel)) return false;
  if (!eat(f, pos, ",[")) return false;
  const size_t tail = f.rfind(kTail);
  if (tail == std::string_view::npos || tail < pos) return false;
  const std::string_view pair = f.substr(tail + kTail.size(), f.size() - 2 - (tail + kTail.size()));
  if (pair.find('"') != std::string_view::npos || pair.find('\\') != std::string_view::npos) return false;
  std::vector<FastItem>& items = fast_items;  // reused: no per-call initialisation
  items.clear();
  while (true) {
    if (items.size() == 1000) return false;
    FastItem& r = items.emplace_back();
    std::string_view misc;
    if (!eat(f, pos, "[\"") || !plain_string(f, pos, r.price) || !eat(f, pos, "\",\"") ||
        !plain_string(f, pos, r.volume) || !eat(f, pos, "\",\"") || !plain_string(f, pos, r.time) ||
        !eat(f, pos, "\",\"") || !plain_string(f, pos, r.side) || !eat(f, pos, "\",\"") ||
        !plain_string(f, pos, r.type) || !eat(f, pos, "\",\"") || !plain_string(f, pos, misc) || !eat(f, pos, "\"]")) {
      return false;
    }
    if (pos == tail) break;
    if (!eat(f, pos, ",")) return false;
  }
  const std::string* u = unify(pair);
  if (u == nullptr) return false;
  // Validate everything and the keys before touching any state (errors: the simdjson path).
  auto kit = keys.find(pair);
  KeyState key = kit == keys.end() ? KeyState{} : kit->second;
  const size_t n = items.size();
  for (FastItem& r : items) {
    if (!Decimal::parse(r.price, r.p) || r.p.is_negative() || r.p.is_zero()) return false;
    if (!Decimal::parse(r.volume, r.v) || r.v.is_negative() || r.v.is_zero()) return false;
    if (!parse_kraken_time(r.time, r.ts)) return false;
    if (r.side.size() != 1 || (r.side[0] != 'b' && r.side[0] != 's')) return false;
    if (r.type.size() != 1 || (r.type[0] != 'm' && r.type[0] != 'l')) return false;
    const int64_t us = r.ts / 1000;
    if (us == key.last_us) {
      if (++key.ordinal >= 1000) return false;
    } else {
      key.last_us = us;
      key.ordinal = 0;
    }
    r.id = us * 1000 + key.ordinal;
  }
  // Commit: as parse_channel + parse_trades would.
  if (kit == keys.end()) kit = keys.emplace(std::string(pair), KeyState{}).first;
  kit->second = key;
  out.channel_id = channel;
  out.channel_name.assign("trade");
  out.pair.assign(pair);
  out.symbol = *u;
  out.trades.resize(n);
  for (size_t i = 0; i < n; ++i) {
    Trade& t = out.trades[i];
    t.exchange = Exchange::kKraken;
    t.exchange_symbol = out.pair;
    t.symbol = out.symbol;
    const FastItem& r = items[i];
    t.trade_id = t.first_trade_id = t.last_trade_id = r.id;
    t.price = r.p;
    t.quantity = r.v;
    t.taker_side = r.side[0] == 'b' ? Side::kBuy : Side::kSell;
    t.ts_event = r.ts;
    t.ts_recv = recv;
    t.aggregated = false;
  }
  out.kind = MessageKind::kTrade;
  return true;
}

bool FrameParser::Impl::fast_levels(std::string_view f, size_t& pos, std::vector<BookEntry>& out) {
  // [["p","v","t"(,"r")],...] — at least one entry (the simdjson path accepts an empty list, so
  // does this: "[]").
  if (!eat(f, pos, "[")) return false;
  if (eat(f, pos, "]")) return true;
  while (true) {
    std::string_view price, volume, ts, flag;
    if (!eat(f, pos, "[\"") || !plain_string(f, pos, price) || !eat(f, pos, "\",\"") ||
        !plain_string(f, pos, volume) || !eat(f, pos, "\",\"") || !plain_string(f, pos, ts) || !eat(f, pos, "\""))
      return false;
    BookEntry& b = out.emplace_back();
    if (eat(f, pos, ",\"")) {
      if (!plain_string(f, pos, flag) || !eat(f, pos, "\"") || flag != "r") return false;
      b.republished = true;
    }
    if (!eat(f, pos, "]")) return false;
    if (!Decimal::parse(price, b.price) || b.price.is_negative() || b.price.is_zero()) return false;
    if (!Decimal::parse(volume, b.volume) || b.volume.is_negative()) return false;
    if (!parse_kraken_time(ts, b.ts)) return false;
    if (eat(f, pos, "]")) return true;
    if (!eat(f, pos, ",")) return false;
  }
}

bool FrameParser::Impl::fast_book_update(std::string_view f, ParsedMessage& out) {
  // [id,{"a"|"b":[levels](,"c":"crc")}(,{...}),"book-N","PAIR"]
  size_t pos = 0;
  int64_t channel = 0;
  if (!channel_prefix(f, pos, channel)) return false;
  if (!eat(f, pos, ",{\"")) return false;
  // The tail: ,"book-N","PAIR"]
  constexpr std::string_view kBook = "},\"book-";
  const size_t tail = f.rfind(kBook);
  if (tail == std::string_view::npos || tail < pos) return false;
  size_t tp = tail + kBook.size();
  std::string_view depth_text, pair;
  if (!plain_string(f, tp, depth_text) || !eat(f, tp, "\",\"") || !plain_string(f, tp, pair) || tp != f.size() - 2)
    return false;
  int depth = 0;
  if (!parse_small_uint(depth_text, depth) || depth == 0) return false;
  const std::string* u = unify(pair);
  if (u == nullptr) return false;

  bool ok = true, update = false, has_checksum = false;
  uint32_t checksum = 0;
  int objects = 0;
  // pos is just after an object's opening {"
  while (ok) {
    ++objects;
    while (true) {  // the object's keys
      if (eat(f, pos, "a\":")) {
        ok = fast_levels(f, pos, out.asks);
        update = true;
      } else if (eat(f, pos, "b\":")) {
        ok = fast_levels(f, pos, out.bids);
        update = true;
      } else if (eat(f, pos, "c\":\"")) {
        std::string_view c;
        ok = !has_checksum && plain_string(f, pos, c) && eat(f, pos, "\"") && !c.empty() && c.size() <= 10;
        uint64_t v = 0;
        for (char ch : c) {
          if (ch < '0' || ch > '9') ok = false;
          v = v * 10 + static_cast<uint64_t>(ch - '0');
        }
        ok = ok && v <= UINT32_MAX;
        has_checksum = true;
        checksum = static_cast<uint32_t>(v);
      } else {
        ok = false;
      }
      if (!ok || pos >= tail) break;
      if (!eat(f, pos, ",\"")) break;  // the end of this object
    }
    if (!ok || pos == tail) break;
    // A second object: },{"
    if (objects == 2 || !eat(f, pos, "},{\"")) ok = false;
  }
  if (!ok || pos != tail || !update || !has_checksum) {
    out.asks.clear();
    out.bids.clear();
    return false;
  }
  out.channel_id = channel;
  out.channel_name.assign(f.data() + tail + 3, depth_text.size() + 5);  // book-N
  out.pair.assign(pair);
  out.symbol = *u;
  out.book_depth = depth;
  out.has_checksum = true;
  out.checksum = checksum;
  out.kind = MessageKind::kBookUpdate;
  return true;
}

}  // namespace tickflow::exchange::kraken
