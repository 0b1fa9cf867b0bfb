// The simulator's Kraken book channels (kraken_feed.h) and v2 trade messages, built by the pacer
// under the market lock: one view per pair, diffed per subscribed depth into v1 book-N updates
// (arrays, "c" string, "r" republish flag) and v2 book updates (objects, numbers printed with the
// pair's full precision, "checksum" on snapshots and updates), with the book fault knobs.
#include <zlib.h>

#include <algorithm>
#include <mutex>

#include "exchange/simulator/server_impl.h"

namespace tickflow::exchange::simulator {

using namespace internal;

namespace internal {

int kraken_depth_index(int64_t depth) {
  for (size_t i = 0; i < kKrakenDepthCount; ++i) {
    if (kKrakenDepths[i] == depth) return static_cast<int>(i);
  }
  return -1;
}

std::string kraken_v2_pair(std::string_view v1_pair) {
  const size_t slash = v1_pair.find('/');
  if (slash == std::string_view::npos) return std::string(v1_pair);
  auto asset = [](std::string_view a) {
    return a == "XBT" ? std::string("BTC") : a == "XDG" ? std::string("DOGE") : std::string(a);
  };
  return asset(v1_pair.substr(0, slash)) + "/" + asset(v1_pair.substr(slash + 1));
}

void append_kraken_decimal(std::string& out, int64_t units, int decimals) {
  append_units(out, units);
  if (decimals < 8) out.resize(out.size() - static_cast<size_t>(8 - decimals));
}

void append_kraken_checksum_text(std::string& out, int64_t price, int price_decimals, int64_t qty) {
  for (auto [units, decimals] : {std::pair{price, price_decimals}, std::pair{qty, 8}}) {
    std::string s;
    append_kraken_decimal(s, units, decimals);
    s.erase(std::remove(s.begin(), s.end(), '.'), s.end());
    const size_t nz = s.find_first_not_of('0');
    out.append(nz == std::string::npos ? std::string_view("0") : std::string_view(s).substr(nz));
  }
}

uint32_t kraken_view_checksum(const KrakenBookView& v, size_t depth, int decimals) {
  std::string text;
  const size_t n = std::min<size_t>(10, depth);
  size_t k = 0;
  for (auto it = v.asks.begin(); it != v.asks.end() && k < n; ++it, ++k) {
    append_kraken_checksum_text(text, it->first, decimals, it->second.qty);
  }
  k = 0;
  for (auto it = v.bids.begin(); it != v.bids.end() && k < n; ++it, ++k) {
    append_kraken_checksum_text(text, it->first, decimals, it->second.qty);
  }
  return static_cast<uint32_t>(crc32(0L, reinterpret_cast<const Bytef*>(text.data()), static_cast<uInt>(text.size())));
}

}  // namespace internal

namespace {

struct Entry {
  int64_t price, qty, ts_us;
  bool republished;
};

void append_time_us(std::string& out, int64_t time_us) {
  append_int(out, time_us / 1'000'000);
  char frac[7];
  int64_t f = time_us % 1'000'000;
  frac[0] = '.';
  for (int i = 6; i >= 1; --i) {
    frac[i] = static_cast<char>('0' + f % 10);
    f /= 10;
  }
  out.append(frac, 7);
}

// v1: ["58729.40000","0.45000000","1617666423.606671"] (+ ,"r" when republished)
void append_v1_level(std::string& out, const Entry& e, int decimals) {
  out.append("[\"");
  append_kraken_decimal(out, e.price, decimals);
  out.append("\",\"");
  append_kraken_decimal(out, e.qty, 8);
  out.append("\",\"");
  append_time_us(out, e.ts_us);
  out.append(e.republished ? "\",\"r\"]" : "\"]");
}
// v2: {"price":58729.40000,"qty":0.45000000} (numbers with the pair's full precision)
void append_v2_level(std::string& out, const Entry& e, int decimals) {
  out.append("{\"price\":");
  append_kraken_decimal(out, e.price, decimals);
  out.append(",\"qty\":");
  append_kraken_decimal(out, e.qty, 8);
  out.push_back('}');
}

template <typename Map>
std::vector<std::pair<int64_t, KrakenLevel>> top_of(const Map& m, size_t n) {
  std::vector<std::pair<int64_t, KrakenLevel>> out;
  for (auto it = m.begin(); it != m.end() && out.size() < n; ++it) out.emplace_back(it->first, it->second);
  return out;
}

// One side's update entries for depth n (kraken_feed.h): deletes first, then sets.
template <typename Map>
std::vector<Entry> side_diff(const Map& old_full, const Map& new_full, size_t n, int64_t now_us) {
  std::vector<Entry> out;
  const auto old_top = top_of(old_full, n);
  const auto new_top = top_of(new_full, n);
  auto find = [](const auto& v, int64_t price) {
    return std::find_if(v.begin(), v.end(), [price](const auto& l) { return l.first == price; });
  };
  for (const auto& [price, lvl] : old_top) {
    if (find(new_top, price) != new_top.end() || new_full.count(price) != 0) continue;  // kept / pushed out
    out.push_back({price, 0, now_us, false});
  }
  for (const auto& [price, lvl] : new_top) {
    auto old_it = find(old_top, price);
    if (old_it != old_top.end()) {
      if (old_it->second.qty != lvl.qty) out.push_back({price, lvl.qty, lvl.ts_us, false});
      continue;
    }
    auto beyond = old_full.find(price);
    out.push_back({price, lvl.qty, lvl.ts_us, beyond != old_full.end() && beyond->second.qty == lvl.qty});
  }
  return out;
}

template <typename Map>
std::vector<Entry> side_top(const Map& m, size_t n) {
  std::vector<Entry> out;
  for (auto it = m.begin(); it != m.end() && out.size() < n; ++it) out.push_back({it->first, it->second.qty, it->second.ts_us, false});
  return out;
}

bool take_one(std::atomic<uint64_t>& left) {
  uint64_t v = left.load(std::memory_order_relaxed);
  while (v > 0 && !left.compare_exchange_weak(v, v - 1, std::memory_order_relaxed)) {
  }
  return v > 0;
}

std::string v1_message(int64_t channel, const std::vector<Entry>& asks, const std::vector<Entry>& bids, bool snapshot,
                       uint32_t c, size_t depth, const std::string& pair, int decimals) {
  std::string r = "[";
  append_int(r, channel);
  auto list = [&](const std::vector<Entry>& v) {
    r.push_back('[');
    for (size_t i = 0; i < v.size(); ++i) {
      if (i) r.push_back(',');
      append_v1_level(r, v[i], decimals);
    }
    r.push_back(']');
  };
  if (snapshot) {
    r += ",{\"as\":";
    list(asks);
    r += ",\"bs\":";
    list(bids);
    r += "}";
  } else {
    r += ",{";
    if (!asks.empty()) {
      r += "\"a\":";
      list(asks);
      if (!bids.empty()) r += "},{";
    }
    if (!bids.empty()) {
      r += "\"b\":";
      list(bids);
    }
    r += ",\"c\":\"" + std::to_string(c) + "\"}";
  }
  r += ",\"book-" + std::to_string(depth) + "\",";
  append_json_string(r, pair);
  r += "]";
  return r;
}

std::string v2_message(const std::vector<Entry>& asks, const std::vector<Entry>& bids, bool snapshot, uint32_t c,
                       const std::string& pair, int decimals, int64_t time_us) {
  std::string r = R"({"channel":"book","type":")";
  r += snapshot ? "snapshot" : "update";
  r += R"(","data":[{"symbol":)";
  append_json_string(r, pair);
  auto list = [&](const char* name, const std::vector<Entry>& v) {
    r += ",\"";
    r += name;
    r += "\":[";
    for (size_t i = 0; i < v.size(); ++i) {
      if (i) r.push_back(',');
      append_v2_level(r, v[i], decimals);
    }
    r.push_back(']');
  };
  list("bids", bids);
  list("asks", asks);
  r += ",\"checksum\":" + std::to_string(c);
  if (!snapshot) {
    r += ",\"timestamp\":\"";
    append_iso8601_us(r, time_us);
    r += "\"";
  }
  r += "}]}";
  return r;
}

}  // namespace

void Simulator::Impl::kraken_view_from_model(uint32_t sym, int64_t now_us) {
  KrakenBookView& v = kraken_views[sym];
  const DepthSnapshot s = model->snapshot(sym, kKrakenMaxDepth);
  KrakenBookView next;
  next.valid = true;
  for (const auto& l : s.bids) {
    auto it = v.bids.find(l.price);
    next.bids[l.price] = {l.qty, v.valid && it != v.bids.end() && it->second.qty == l.qty ? it->second.ts_us : now_us};
  }
  for (const auto& l : s.asks) {
    auto it = v.asks.find(l.price);
    next.asks[l.price] = {l.qty, v.valid && it != v.asks.end() && it->second.qty == l.qty ? it->second.ts_us : now_us};
  }
  v = std::move(next);
}

std::string Simulator::Impl::kraken_book_snapshot(uint32_t sym, size_t depth_index, bool v2) const {
  const KrakenBookView& v = kraken_views[sym];
  const size_t n = static_cast<size_t>(kKrakenDepths[depth_index]);
  const int decimals = kraken_price_decimals(specs[sym]);
  if (v2) {
    return v2_message(side_top(v.asks, n), side_top(v.bids, n), true, kraken_view_checksum(v, n, decimals),
                      kraken_v2_pair(kraken_pairs[sym]), decimals, 0);
  }
  return v1_message(kKrakenBookChannelBase + static_cast<int64_t>(sym) * 8 + static_cast<int64_t>(depth_index),
                    side_top(v.asks, n), side_top(v.bids, n), true, 0, n, kraken_pairs[sym], decimals);
}

void Simulator::Impl::kraken_book_event(uint32_t sym, int64_t time_ms, Batch& batch) {
  if (kraken_pairs[sym].empty() || kraken_views.empty()) return;
  const size_t first = kraken_book_base + sym * kKrakenStreamsPerSymbol;
  int subs = 0;
  for (size_t d = 0; d < kKrakenDepthCount; ++d) {
    subs += stream_subscribers[first + d].load(std::memory_order_relaxed) +
            stream_subscribers[first + kKrakenV2BookOffset + d].load(std::memory_order_relaxed);
  }
  KrakenBookView& view = kraken_views[sym];
  if (subs == 0) {
    view.valid = false;
    return;
  }
  const int64_t now_us = time_ms * 1000;
  if (!view.valid) {  // not expected (a subscription builds it), but keep clients consistent
    kraken_view_from_model(sym, now_us);
    return;
  }
  const KrakenBookView old = view;
  kraken_view_from_model(sym, now_us);
  const int decimals = kraken_price_decimals(specs[sym]);
  for (size_t d = 0; d < kKrakenDepthCount; ++d) {
    const auto v1_sid = static_cast<uint32_t>(first + d);
    const auto v2_sid = static_cast<uint32_t>(first + kKrakenV2BookOffset + d);
    const bool want_v1 = stream_subscribers[v1_sid].load(std::memory_order_relaxed) > 0;
    const bool want_v2 = stream_subscribers[v2_sid].load(std::memory_order_relaxed) > 0;
    if (!want_v1 && !want_v2) continue;
    const size_t n = static_cast<size_t>(kKrakenDepths[d]);
    const auto asks = side_diff(old.asks, view.asks, n, now_us);
    const auto bids = side_diff(old.bids, view.bids, n, now_us);
    if (asks.empty() && bids.empty()) continue;
    const uint32_t good = kraken_view_checksum(view, n, decimals);
    for (int api = 1; api <= 2; ++api) {
      if (!(api == 1 ? want_v1 : want_v2)) continue;
      ++kraken_book_updates;
      uint32_t c = good;
      const bool every = cfg.faults.kraken_bad_checksum_every > 0 &&
                         kraken_book_updates % cfg.faults.kraken_bad_checksum_every == 0;
      if (every || take_one(kraken_bad_checksum_left)) {
        c ^= 0x5A5A5A5Au;  // a corrupted checksum: the client's book is right, the checksum is not
        kraken_book_faults.fetch_add(1, std::memory_order_relaxed);
      } else if (take_one(kraken_drop_update_left)) {
        kraken_book_faults.fetch_add(1, std::memory_order_relaxed);
        continue;  // silently dropped: the client's book diverges, a later checksum reveals it
      }
      const size_t off = batch.buf.size();
      if (api == 1) {
        batch.buf += v1_message(kKrakenBookChannelBase + static_cast<int64_t>(sym) * 8 + static_cast<int64_t>(d), asks,
                                bids, false, c, n, kraken_pairs[sym], decimals);
        batch.add(v1_sid, off);
      } else {
        batch.buf += v2_message(asks, bids, false, c, kraken_v2_pair(kraken_pairs[sym]), decimals, now_us);
        batch.add(v2_sid, off);
      }
    }
  }
}

void Simulator::Impl::kraken_v2_trades(uint32_t sym, const std::vector<SimTrade>& trades,
                                       const std::vector<uint8_t>& skip, const std::vector<int64_t>& time_us,
                                       Batch& batch) {
  if (kraken_pairs[sym].empty() || kraken_views.empty()) return;
  const auto sid = static_cast<uint32_t>(kraken_book_base + sym * kKrakenStreamsPerSymbol + kKrakenV2TradeOffset);
  if (stream_subscribers[sid].load(std::memory_order_relaxed) == 0) return;
  // One message per taker order (its fills): {"channel":"trade","type":"update","data":[..]}.
  const int decimals = kraken_price_decimals(specs[sym]);
  const std::string pair = kraken_v2_pair(kraken_pairs[sym]);
  std::string r = R"({"channel":"trade","type":"update","data":[)";
  bool any = false;
  for (size_t i = 0; i < trades.size(); ++i) {
    if (skip[i]) continue;
    if (any) r.push_back(',');
    any = true;
    const SimTrade& t = trades[i];
    r += R"({"symbol":)";
    append_json_string(r, pair);
    r += t.buyer_maker ? R"(,"side":"sell","price":)" : R"(,"side":"buy","price":)";
    append_kraken_decimal(r, t.price, decimals);
    r += ",\"qty\":";
    append_kraken_decimal(r, t.qty, 8);
    r += R"(,"ord_type":"market","trade_id":)";
    append_int(r, t.id);
    r += ",\"timestamp\":\"";
    append_iso8601_us(r, time_us[i]);
    r += "\"}";
  }
  if (!any) return;
  r += "]}";
  const size_t off = batch.buf.size();
  batch.buf += r;
  batch.add(sid, off);
}

}  // namespace tickflow::exchange::simulator
