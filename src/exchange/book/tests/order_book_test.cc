#include "exchange/book/order_book.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include <string>

namespace tickflow::exchange::book {
namespace {

Decimal d(std::string_view s) { return Decimal::parse(s).value(); }

TEST(OrderBook, SetUpdateRemoveAndTop) {
  OrderBook b;
  LevelChange c;
  ASSERT_TRUE(b.apply(BookSide::kBid, d("100.0"), d("1.5"), &c).is_ok());
  EXPECT_EQ(c, LevelChange::kInserted);
  ASSERT_TRUE(b.apply(BookSide::kBid, d("101.0"), d("2"), &c).is_ok());
  ASSERT_TRUE(b.apply(BookSide::kAsk, d("102.5"), d("3"), &c).is_ok());
  ASSERT_TRUE(b.apply(BookSide::kAsk, d("102.0"), d("4"), &c).is_ok());
  // Same level at another scale is the same level (exact decimal key).
  ASSERT_TRUE(b.apply(BookSide::kBid, d("100.00"), d("7"), &c).is_ok());
  EXPECT_EQ(c, LevelChange::kUpdated);
  EXPECT_EQ(b.bid_count(), 2u);
  BookTop t = b.top(0);
  ASSERT_EQ(t.bids.size(), 2u);
  EXPECT_EQ(t.bids[0].price, d("101"));
  EXPECT_EQ(t.bids[1].price.to_string(), "100.00");  // the latest spelling is kept
  EXPECT_EQ(t.bids[1].quantity, d("7"));
  ASSERT_EQ(t.asks.size(), 2u);
  EXPECT_EQ(t.asks[0].price, d("102.0"));
  EXPECT_EQ(b.top(1).asks.size(), 1u);
  EXPECT_FALSE(b.crossed());
  ASSERT_TRUE(b.apply(BookSide::kAsk, d("102.0"), d("0"), &c).is_ok());
  EXPECT_EQ(c, LevelChange::kRemoved);
  ASSERT_TRUE(b.apply(BookSide::kAsk, d("999"), d("0.000"), &c).is_ok());
  EXPECT_EQ(c, LevelChange::kRemovedMissing);
  EXPECT_EQ(b.best_ask()->price, d("102.5"));
  EXPECT_FALSE(b.apply(BookSide::kAsk, d("0"), d("1"), &c).is_ok());
  EXPECT_FALSE(b.apply(BookSide::kAsk, d("-1"), d("1"), &c).is_ok());
  EXPECT_FALSE(b.apply(BookSide::kAsk, d("1"), d("-1"), &c).is_ok());
  EXPECT_EQ(b.ask_count(), 1u);
}

TEST(OrderBook, CrossedBookDetected) {
  OrderBook b;
  ASSERT_TRUE(b.apply(BookSide::kBid, d("10"), d("1")).is_ok());
  ASSERT_TRUE(b.apply(BookSide::kAsk, d("11"), d("1")).is_ok());
  EXPECT_FALSE(b.crossed());
  ASSERT_TRUE(b.apply(BookSide::kBid, d("11"), d("1")).is_ok());  // locked counts as crossed
  EXPECT_TRUE(b.crossed());
  ASSERT_TRUE(b.apply(BookSide::kBid, d("11"), d("0")).is_ok());
  EXPECT_FALSE(b.crossed());
}

TEST(OrderBook, DepthLimitDropsWorstLevelOnInsert) {
  OrderBook b(3);
  for (int p : {10, 11, 12}) ASSERT_TRUE(b.apply(BookSide::kAsk, Decimal(p, 0), d("1")).is_ok());
  ASSERT_TRUE(b.apply(BookSide::kAsk, Decimal(9, 0), d("1")).is_ok());   // 12 falls out
  ASSERT_TRUE(b.apply(BookSide::kAsk, Decimal(20, 0), d("1")).is_ok());  // beyond depth: dropped
  BookTop t = b.top(0);
  ASSERT_EQ(t.asks.size(), 3u);
  EXPECT_EQ(t.asks[0].price, Decimal(9, 0));
  EXPECT_EQ(t.asks[2].price, Decimal(11, 0));
  EXPECT_EQ(b.truncated(), 2u);
  for (int p : {1, 2, 3, 4}) ASSERT_TRUE(b.apply(BookSide::kBid, Decimal(p, 0), d("1")).is_ok());
  EXPECT_EQ(b.top(0).bids.back().price, Decimal(2, 0));
  b.set_max_depth(1);
  EXPECT_EQ(b.bid_count(), 1u);
  EXPECT_EQ(b.best_bid()->price, Decimal(4, 0));
}

// The worked example of Kraken's checksum documentation: ask "45285.2" qty "0.00100000" →
// "452852" + "100000".
TEST(KrakenChecksum, DigitsWithoutPointAndLeadingZeros) {
  OrderBook b;
  ASSERT_TRUE(b.apply(BookSide::kAsk, d("45285.2"), d("0.00100000")).is_ok());
  ASSERT_TRUE(b.apply(BookSide::kBid, d("0.05005"), d("0.00000500")).is_ok());
  const std::string expect =
      "452852100000"
      "5005"
      "500";
  EXPECT_EQ(kraken_checksum(b),
            static_cast<uint32_t>(crc32(0, reinterpret_cast<const Bytef*>(expect.data()),
                                        static_cast<uInt>(expect.size()))));
}

TEST(KrakenChecksum, OnlyTopTenPerSideAscendingAsksThenDescendingBids) {
  OrderBook b;
  std::string asks, bids;
  for (int i = 0; i < 15; ++i) {
    ASSERT_TRUE(b.apply(BookSide::kAsk, Decimal(1000 + i, 1), Decimal(1 + i, 8)).is_ok());
    ASSERT_TRUE(b.apply(BookSide::kBid, Decimal(999 - i, 1), Decimal(2 + i, 8)).is_ok());
    if (i < 10) {
      asks += std::to_string(1000 + i) + std::to_string(1 + i);
      bids += std::to_string(999 - i) + std::to_string(2 + i);
    }
  }
  const std::string s = asks + bids;
  EXPECT_EQ(kraken_checksum(b),
            static_cast<uint32_t>(
                crc32(0, reinterpret_cast<const Bytef*>(s.data()), static_cast<uInt>(s.size()))));
}

}  // namespace
}  // namespace tickflow::exchange::book
