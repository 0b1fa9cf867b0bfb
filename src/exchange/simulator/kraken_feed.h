// Private to the simulator library: the Kraken side that needs no Asio (kraken.cc) — the v1
// subscribe protocol (trade, book-N), the book channels kept per pair, and their encoders.
//
// Book channels: one "view" per Kraken pair (the model's book, up to 1000 levels per side, as of
// the last depth event while any client subscribes a book of that pair), from which every
// subscribed depth N (10/25/100/500/1000) is served: the snapshot on subscribe is the top N of
// the view; each depth event diffs the old top N against the new one, per side: deletes (qty 0)
// of levels gone from the book first, then the new / changed levels, levels re-entering the
// depth from beyond it flagged "r" (republished); levels pushed out by better ones are not sent
// (the client truncates, as Kraken documents). The update's "c" is the CRC32 of the new top 10.
//
// Thread-safety: the views and channel state live in Simulator::Impl under market_mu.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace tickflow::exchange::simulator::internal {

inline constexpr int kKrakenDepths[] = {10, 25, 100, 500, 1000};
inline constexpr size_t kKrakenDepthCount = 5;
inline constexpr int kKrakenMaxDepth = 1000;
// channelID of a book channel: base + symbol * 8 + depth index (trade channels are 320 + symbol).
inline constexpr int64_t kKrakenBookChannelBase = 2000;
// Streams of one symbol after Impl::kraken_book_base: v1 book-N (N by depth index), the v2 trade
// channel, v2 book depth N.
inline constexpr size_t kKrakenV2TradeOffset = kKrakenDepthCount;
inline constexpr size_t kKrakenV2BookOffset = kKrakenDepthCount + 1;
inline constexpr size_t kKrakenStreamsPerSymbol = 2 * kKrakenDepthCount + 1;
// v2's pair name of a v1 pair: "XBT/USD" → "BTC/USD", "XDG/USD" → "DOGE/USD".
std::string kraken_v2_pair(std::string_view v1_pair);

// Index of a subscribable depth in kKrakenDepths, or -1.
int kraken_depth_index(int64_t depth);

struct KrakenLevel {
  int64_t qty = 0;    // 1e-8 units
  int64_t ts_us = 0;  // when the level was last set (Kraken's level timestamp)
};

struct KrakenBookView {
  bool valid = false;  // false: rebuild from the model on the next subscription
  std::map<int64_t, KrakenLevel, std::greater<>> bids;
  std::map<int64_t, KrakenLevel> asks;
};

// What a Kraken v1 / v2 request does to a session: reply texts in order (acks, errors, pongs, book
// snapshots) and the stream ids to add / remove.
struct KrakenRequest {
  std::vector<std::string> replies;
  std::vector<int> add, remove;
};

// "58729.40000": 1e-8 units with `decimals` decimals (the model's ticks allow it).
void append_kraken_decimal(std::string& out, int64_t units, int decimals);
// CRC32 of the view's top min(depth, 10) levels per side (Kraken's checksum).
uint32_t kraken_view_checksum(const KrakenBookView& v, size_t depth, int price_decimals);

// Kraken's checksum text of a book side's top 10 appended to `out`: price then qty of each
// level, '.' removed and leading zeros stripped.
void append_kraken_checksum_text(std::string& out, int64_t price, int price_decimals, int64_t qty);

}  // namespace tickflow::exchange::simulator::internal
