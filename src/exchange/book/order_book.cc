#include "exchange/book/order_book.h"

#include <zlib.h>

#include <cstring>

namespace tickflow::exchange::book {

void OrderBook::set_max_depth(size_t depth) {
  max_depth_ = depth;
  if (depth == 0) return;
  while (bids_.size() > depth) {
    bids_.erase(std::prev(bids_.end()));
    ++truncated_;
  }
  while (asks_.size() > depth) {
    asks_.erase(std::prev(asks_.end()));
    ++truncated_;
  }
}

void OrderBook::clear() {
  bids_.clear();
  asks_.clear();
}

template <typename Map>
LevelChange OrderBook::apply_side(Map& side, const Decimal& price, const Decimal& quantity) {
  if (quantity.is_zero()) {
    auto it = side.find(price);
    if (it == side.end()) return LevelChange::kRemovedMissing;
    side.erase(it);
    return LevelChange::kRemoved;
  }
  auto [it, inserted] = side.try_emplace(price);
  set_slot(it->second, price, quantity);
  if (!inserted) {
    if (it->first.scale() != price.scale()) {
      // The same level re-printed at another scale: keep the exchange's latest spelling (the
      // one its checksum uses). Keys are const, so re-insert the node.
      auto hint = std::next(it);
      auto node = side.extract(it);
      node.key() = price;
      side.insert(hint, std::move(node));
    }
    return LevelChange::kUpdated;
  }
  if (max_depth_ != 0 && side.size() > max_depth_) {
    side.erase(std::prev(side.end()));
    ++truncated_;
  }
  return LevelChange::kInserted;
}

Status OrderBook::apply(BookSide side, const Decimal& price, const Decimal& quantity,
                        LevelChange* change) {
  if (price.is_negative() || price.is_zero())
    return Status::invalid_argument("book level price must be > 0, got " + price.to_string());
  if (quantity.is_negative())
    return Status::invalid_argument("book level quantity must be >= 0, got " +
                                    quantity.to_string());
  LevelChange c = side == BookSide::kBid ? apply_side(bids_, price, quantity)
                                         : apply_side(asks_, price, quantity);
  if (change != nullptr) *change = c;
  return Status::ok();
}

std::optional<Level> OrderBook::best_bid() const {
  if (bids_.empty()) return std::nullopt;
  return Level{bids_.begin()->first, bids_.begin()->second.quantity};
}

std::optional<Level> OrderBook::best_ask() const {
  if (asks_.empty()) return std::nullopt;
  return Level{asks_.begin()->first, asks_.begin()->second.quantity};
}

bool OrderBook::crossed() const {
  return !bids_.empty() && !asks_.empty() && bids_.begin()->first >= asks_.begin()->first;
}

void OrderBook::top(size_t n, BookTop& out) const {
  out.bids.clear();
  out.asks.clear();
  const size_t nb = n == 0 ? bids_.size() : n;
  const size_t na = n == 0 ? asks_.size() : n;
  for_each_bid(nb, [&](const Decimal& p, const Decimal& q) { out.bids.push_back({p, q}); });
  for_each_ask(na, [&](const Decimal& p, const Decimal& q) { out.asks.push_back({p, q}); });
}

namespace {

// "00".."99": two digits per division.
constexpr char kDigitPairs[201] =
    "00010203040506070809101112131415161718192021222324252627282930313233343536373839"
    "40414243444546474849505152535455565758596061626364656667686970717273747576777879"
    "8081828384858687888990919293949596979899";

// Writes the decimal digits of a positive value (nothing for 0), no leading zeros, at p and
// returns the new end. Writes up to 20 bytes at p whatever the length (fixed-size copies stay
// inline), so the caller leaves 20 bytes of slack.
char* append_digits(char* p, int64_t v) {
  if (v <= 0) return p;
  char buf[40];
  char* const end = buf + 20;
  char* b = end;
  uint64_t u = static_cast<uint64_t>(v);
  while (u >= 100) {
    const unsigned r = static_cast<unsigned>(u % 100);
    u /= 100;
    b -= 2;
    std::memcpy(b, kDigitPairs + 2 * r, 2);
  }
  if (u >= 10) {
    b -= 2;
    std::memcpy(b, kDigitPairs + 2 * u, 2);
  } else {
    *--b = static_cast<char>('0' + u);
  }
  std::memcpy(p, b, 20);
  return p + (end - b);
}

}  // namespace

void OrderBook::set_slot(Slot& slot, const Decimal& price, const Decimal& quantity) {
  slot.quantity = quantity;
  char* p = append_digits(slot.text, price.units());
  p = append_digits(p, quantity.units());
  slot.text_len = static_cast<uint8_t>(p - slot.text);
}

uint32_t kraken_checksum(const OrderBook& book) {
  // 20 levels x 2 values x at most 19 digits, + slack for the fixed-size copies.
  char buf[20 * 2 * 19 + 40];
  char* p = buf;
  auto add = [&](const OrderBook::Slot& s) {
    std::memcpy(p, s.text, 40);  // fixed size (inline); only text_len bytes count
    p += s.text_len;
  };
  size_t n = 0;
  for (auto it = book.asks_.begin(); it != book.asks_.end() && n < 10; ++it, ++n) add(it->second);
  n = 0;
  for (auto it = book.bids_.begin(); it != book.bids_.end() && n < 10; ++it, ++n) add(it->second);
  uLong crc = crc32(0L, Z_NULL, 0);
  crc = crc32(crc, reinterpret_cast<const Bytef*>(buf), static_cast<uInt>(p - buf));
  return static_cast<uint32_t>(crc);
}

}  // namespace tickflow::exchange::book
