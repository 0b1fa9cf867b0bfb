// libFuzzer target: book::OrderBook against a reference model, and kraken_checksum against an
// independent CRC32 of the printed levels. The input is a program: byte 0 picks the depth limit
// (0..15), then up to 32 18-byte operations (set a level / change the depth / clear). Prices come
// from a small value range printed at several scales ("5", "5.0", "5.000" are one level whose
// latest spelling wins), with occasional huge units to reach 19-digit checksum texts. Checks after
// every operation: level counts as the model's, within the depth, crossed() as the model says;
// after the last one, also the same levels as the model (exact units and scale, sorted) and the
// checksum equal to the reference.
#include <zlib.h>

#include <map>
#include <string>

#include "exchange/book/order_book.h"
#include "fuzz/fuzz_util.h"

namespace {

using namespace tickflow;
using namespace tickflow::exchange::book;

// The model: value-keyed levels holding the latest printed price and its quantity.
struct Entry {
  Decimal price, quantity;
};
using Side = std::map<Decimal, Entry>;  // ascending by value

Decimal make_decimal(uint64_t raw, bool allow_negative) {
  const int scale = static_cast<int>((raw >> 56) % 4);
  int64_t units;
  if (((raw >> 48) & 0xff) == 0xff) {
    units = static_cast<int64_t>(raw & 0x7fffffffffffffffULL);  // up to 19 digits
    if (units == 0) units = 1;
  } else {
    units = static_cast<int64_t>(raw & 0x3f);  // 0..63: lots of collisions
    static constexpr int64_t kPow[4] = {1, 10, 100, 1000};
    units *= kPow[scale];  // same value at several scales
  }
  if (allow_negative && ((raw >> 40) & 0xff) == 0x80) units = -units;
  return Decimal(units, scale);
}

void model_apply(Side& side, bool bids, size_t depth, const Decimal& price, const Decimal& qty) {
  if (qty.is_zero()) {
    side.erase(price);
    return;
  }
  auto it = side.find(price);
  if (it != side.end()) {
    side.erase(it);
    side.emplace(price, Entry{price, qty});
    return;
  }
  side.emplace(price, Entry{price, qty});
  if (depth != 0 && side.size() > depth) side.erase(bids ? side.begin() : std::prev(side.end()));
}

void model_truncate(Side& side, bool bids, size_t depth) {
  while (depth != 0 && side.size() > depth) side.erase(bids ? side.begin() : std::prev(side.end()));
}

uint32_t reference_checksum(const Side& asks, const Side& bids) {
  std::string text;
  int n = 0;
  for (auto it = asks.begin(); it != asks.end() && n < 10; ++it, ++n)
    text += fuzz::kraken_checksum_text(it->second.price) +
            fuzz::kraken_checksum_text(it->second.quantity);
  n = 0;
  for (auto it = bids.rbegin(); it != bids.rend() && n < 10; ++it, ++n)
    text += fuzz::kraken_checksum_text(it->second.price) +
            fuzz::kraken_checksum_text(it->second.quantity);
  return static_cast<uint32_t>(crc32(crc32(0L, Z_NULL, 0),
                                     reinterpret_cast<const Bytef*>(text.data()),
                                     static_cast<uInt>(text.size())));
}

void check_cheap(const OrderBook& book, const Side& asks, const Side& bids, size_t depth) {
  TF_FUZZ_CHECK(book.ask_count() == asks.size() && book.bid_count() == bids.size(),
                "level counts differ");
  if (depth != 0)
    TF_FUZZ_CHECK(book.ask_count() <= depth && book.bid_count() <= depth, "deeper than the limit");
  const bool crossed =
      !asks.empty() && !bids.empty() && bids.rbegin()->first >= asks.begin()->first;
  TF_FUZZ_CHECK(book.crossed() == crossed, "crossed() differs from the model");
}

void check_full(const OrderBook& book, const Side& asks, const Side& bids) {
  BookTop top = book.top(0);
  auto a = asks.begin();
  for (const Level& l : top.asks) {
    TF_FUZZ_CHECK(fuzz::same_decimal(l.price, a->second.price) &&
                      fuzz::same_decimal(l.quantity, a->second.quantity),
                  "ask " + l.price.to_string() + " vs model " + a->second.price.to_string());
    ++a;
  }
  auto b = bids.rbegin();
  for (const Level& l : top.bids) {
    TF_FUZZ_CHECK(fuzz::same_decimal(l.price, b->second.price) &&
                      fuzz::same_decimal(l.quantity, b->second.quantity),
                  "bid " + l.price.to_string() + " vs model " + b->second.price.to_string());
    ++b;
  }
  TF_FUZZ_CHECK(kraken_checksum(book) == reference_checksum(asks, bids),
                "kraken_checksum differs from the reference");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fuzz::ByteReader in(data, size);
  size_t depth = in.u8() % 16;
  OrderBook book(depth);
  Side asks, bids;
  for (int ops = 0; !in.empty() && ops < 32; ++ops) {
    const uint8_t op = in.u8();
    const uint64_t p = in.u64(), q = in.u64();
    const uint8_t kind = op % 32;
    if (kind == 30) {  // change the depth limit
      depth = p % 16;
      book.set_max_depth(depth);
      model_truncate(asks, false, depth);
      model_truncate(bids, true, depth);
    } else if (kind == 31) {
      book.clear();
      asks.clear();
      bids.clear();
    } else {
      const bool bid = op & 0x80;
      const Decimal price = make_decimal(p, true), qty = make_decimal(q, true);
      LevelChange change;
      Status st = book.apply(bid ? BookSide::kBid : BookSide::kAsk, price, qty, &change);
      const bool valid = price > Decimal() && !qty.is_negative();
      TF_FUZZ_CHECK(st.is_ok() == valid,
                    "apply accepted a bad level or refused a good one: " + st.message());
      if (valid) model_apply(bid ? bids : asks, bid, depth, price, qty);
    }
    check_cheap(book, asks, bids, depth);
  }
  check_full(book, asks, bids);
  return 0;
}
