// An L2 order book for one instrument: price level → quantity, per side, keyed by the exact
// decimal price (Decimal compares exactly across scales, so "58729.4" and "58729.40000" are the
// same level). Levels keep the Decimal the exchange printed (units and scale), which is
// lossless: the printed string minus its '.' and leading zeros is the decimal digits of
// `units`, which is exactly what Kraken's checksum hashes (kraken_checksum below).
//
// Depth: max_depth 0 = unbounded (Coinbase level2). With max_depth N (Kraken's subscribed
// depth) every insert that makes a side longer than N drops that side's worst level at once,
// as Kraken documents ("truncate to the subscribed depth; you will not receive qty 0 for levels
// that fall out of scope").
//
// Thread-safety: plain value, one owner thread. Pure: no I/O, no clock.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <vector>

#include "core/decimal.h"
#include "core/result.h"

namespace tickflow::exchange::book {

enum class BookSide : uint8_t { kBid = 0, kAsk = 1 };

struct Level {
  Decimal price;
  Decimal quantity;
  friend bool operator==(const Level& a, const Level& b) {
    // Exact, including the printed scale (the checksum depends on it).
    return a.price == b.price && a.price.scale() == b.price.scale() && a.quantity == b.quantity &&
           a.quantity.scale() == b.quantity.scale();
  }
};

// Best levels first on both sides (bids descending, asks ascending).
struct BookTop {
  std::vector<Level> bids;
  std::vector<Level> asks;
};

// What one apply() did.
enum class LevelChange : uint8_t {
  kInserted,        // new price level
  kUpdated,         // quantity of an existing level replaced
  kRemoved,         // quantity 0 removed an existing level
  kRemovedMissing,  // quantity 0 for a level that is not in the book (nothing changed)
};

class OrderBook {
 public:
  explicit OrderBook(size_t max_depth = 0) : max_depth_(max_depth) {}

  size_t max_depth() const { return max_depth_; }
  // Changes the depth limit; a smaller one truncates at once.
  void set_max_depth(size_t depth);
  void clear();

  // Sets the quantity of a level (0 removes it). Price must be > 0 and quantity >= 0, else
  // kInvalidArgument and the book is unchanged. With a depth limit, a level inserted beyond
  // the depth is dropped again at once (counted in truncated()).
  Status apply(BookSide side, const Decimal& price, const Decimal& quantity,
               LevelChange* change = nullptr);

  size_t bid_count() const { return bids_.size(); }
  size_t ask_count() const { return asks_.size(); }
  bool empty() const { return bids_.empty() && asks_.empty(); }
  std::optional<Level> best_bid() const;
  std::optional<Level> best_ask() const;
  // Both sides non-empty and best bid >= best ask.
  bool crossed() const;
  // Levels dropped by the depth limit since construction.
  uint64_t truncated() const { return truncated_; }

  // The n best levels of each side (n = 0: all), best first.
  void top(size_t n, BookTop& out) const;
  BookTop top(size_t n) const {
    BookTop t;
    top(n, t);
    return t;
  }

  // Visits up to n best levels of one side, best first: f(price, quantity).
  template <typename F>
  void for_each_bid(size_t n, F&& f) const {
    for (auto it = bids_.begin(); it != bids_.end() && n > 0; ++it, --n)
      f(it->first, it->second.quantity);
  }
  template <typename F>
  void for_each_ask(size_t n, F&& f) const {
    for (auto it = asks_.begin(); it != asks_.end() && n > 0; ++it, --n)
      f(it->first, it->second.quantity);
  }

 private:
  // A level's quantity and its checksum text (digits of price units then quantity units,
  // Kraken's form), written once per set so kraken_checksum only copies.
  struct Slot {
    Decimal quantity;
    uint8_t text_len = 0;
    char text[2 * 19 + 20];  // two values of at most 19 digits + slack for fixed-size copies
  };
  static void set_slot(Slot& slot, const Decimal& price, const Decimal& quantity);
  friend uint32_t kraken_checksum(const OrderBook& book);

  template <typename Map>
  LevelChange apply_side(Map& side, const Decimal& price, const Decimal& quantity);

  size_t max_depth_;
  uint64_t truncated_ = 0;
  std::map<Decimal, Slot, std::greater<>> bids_;
  std::map<Decimal, Slot, std::less<>> asks_;
};

// Kraken's book checksum (WebSocket v1 and v2): CRC32 (zlib, ISO 3309) of the top 10 asks
// (ascending) then the top 10 bids (descending), each level as price then quantity with the
// '.' removed and leading zeros stripped, concatenated. Computed from the Decimals' units,
// which equal those strings exactly as long as the levels hold the Decimals parsed from
// Kraken's own strings (see the file comment); each level's text is cached when it is set.
uint32_t kraken_checksum(const OrderBook& book);

}  // namespace tickflow::exchange::book
