// BookOutput → CollectorOutput → raw.orderbook on the InMemoryBus: throttle per book, the first
// in-sync book after a resync at once, crossed books flagged and counted once per crossing,
// snapshots committed (or rolled back) together with the trades, metrics.
#include <gtest/gtest.h>

#include "bus/testing/in_memory_bus.h"
#include "core/codec.h"
#include "core/topics.h"
#include "exchange/collector/book_output.h"
#include "observability/metrics.h"

namespace tickflow::exchange::collector {
namespace {

using bus::testing::InMemoryBus;

Decimal d(const char* s) { return *Decimal::parse(s); }

constexpr TimestampNs kT0 = 1628952395768LL * kNsPerMs;  // the recording's time

struct Fixture {
  InMemoryBus bus{InMemoryBus::InitialTopics::kNone};
  ManualClock clock{kT0};
  CollectorProbe probe{"binance", {"depthUpdate"}};
  CollectorOutput out{"binance", bus, clock, probe, quality::ValidatorConfig{}};
  Fixture() { EXPECT_TRUE(out.create_topics()); }

  std::vector<BookSnapshot> snapshots() const {
    std::vector<BookSnapshot> v;
    for (const auto& r : bus.records(topics::kRawOrderbook)) {
      auto b = codec::decode_book(r.value);
      EXPECT_TRUE(b) << b.status().to_string();
      EXPECT_EQ(r.key, instrument_key(b->exchange, b->symbol));
      if (b) v.push_back(std::move(b).value());
    }
    return v;
  }
};

// FTMUSDT levels from the recorded Binance depth stream (testdata, 2021-08-14).
book::OrderBook ftm_book() {
  book::OrderBook b;
  EXPECT_TRUE(b.apply(book::BookSide::kBid, d("0.33988000"), d("1500.00000000")));
  EXPECT_TRUE(b.apply(book::BookSide::kBid, d("0.33984000"), d("4625.80000000")));
  EXPECT_TRUE(b.apply(book::BookSide::kBid, d("0.33974000"), d("120.00000000")));
  EXPECT_TRUE(b.apply(book::BookSide::kAsk, d("0.34008000"), d("88.10000000")));
  EXPECT_TRUE(b.apply(book::BookSide::kAsk, d("0.34034000"), d("2746.10000000")));
  return b;
}

TEST(BookOutput, FirstInSyncBookIsPublishedAtOnceWithTopLevelsBestFirst) {
  Fixture f;
  BookOutput books("binance", f.out, f.clock, {kNsPerSec, 2});
  const size_t i = books.add_book("FTM-USDT", "FTMUSDT");
  books.on_book(i, ftm_book(), 800360968, kT0, kT0 + 5);
  EXPECT_EQ(books.snapshots(), 1u);
  EXPECT_EQ(f.bus.count(topics::kRawOrderbook), 0u) << "nothing visible before the batch commits";
  ASSERT_EQ(f.out.flush(), CollectorOutput::Flush::kOk);
  auto s = f.snapshots();
  ASSERT_EQ(s.size(), 1u);
  EXPECT_EQ(s[0].symbol, "FTM-USDT");
  EXPECT_EQ(s[0].exchange_symbol, "FTMUSDT");
  EXPECT_EQ(s[0].sequence, 800360968);
  EXPECT_EQ(s[0].depth, 2u);
  ASSERT_EQ(s[0].bids.size(), 2u);  // top 2 of 3
  EXPECT_EQ(s[0].bids[0].price.to_string(), "0.33988000");
  EXPECT_EQ(s[0].bids[1].price.to_string(), "0.33984000");
  EXPECT_EQ(s[0].bids[1].quantity.to_string(), "4625.80000000");
  ASSERT_EQ(s[0].asks.size(), 2u);
  EXPECT_EQ(s[0].asks[0].price.to_string(), "0.34008000");
  EXPECT_FALSE(s[0].crossed);
  EXPECT_EQ(s[0].ts_event, kT0);
  EXPECT_EQ(s[0].ts_recv, kT0 + 5);
}

TEST(BookOutput, AtMostOneSnapshotPerBookPerInterval) {
  Fixture f;
  BookOutput books("binance", f.out, f.clock, {kNsPerSec, 20});
  const size_t a = books.add_book("FTM-USDT", "FTMUSDT");
  const size_t b = books.add_book("XMR-BTC", "XMRBTC");
  book::OrderBook book = ftm_book();
  for (int k = 0; k < 10; ++k) {  // 10 updates within 900 ms
    books.on_book(a, book, 100 + k, kT0, kT0);
    books.on_book(b, book, 200 + k, kT0, kT0);
    f.clock.advance(100 * kNsPerMs);
  }
  EXPECT_EQ(books.snapshots(), 2u);  // one per book: books are throttled independently
  f.clock.advance(100 * kNsPerMs);   // 1 s after the first
  books.on_book(a, book, 111, kT0, kT0);
  EXPECT_EQ(books.snapshots(), 3u);
  ASSERT_EQ(f.out.flush(), CollectorOutput::Flush::kOk);
  auto s = f.snapshots();
  ASSERT_EQ(s.size(), 3u);
  std::vector<int64_t> seqs;
  for (const auto& x : s) seqs.push_back(x.sequence);
  std::sort(seqs.begin(), seqs.end());
  EXPECT_EQ(seqs, (std::vector<int64_t>{100, 111, 200}));
}

TEST(BookOutput, IntervalZeroPublishesEveryUpdate) {
  Fixture f;
  BookOutput books("binance", f.out, f.clock, {0, 20});
  const size_t a = books.add_book("FTM-USDT", "FTMUSDT");
  for (int k = 0; k < 5; ++k) books.on_book(a, ftm_book(), k, kT0, kT0);
  EXPECT_EQ(books.snapshots(), 5u);
}

TEST(BookOutput, FirstInSyncBookAfterAResyncIsAlwaysPublished) {
  Fixture f;
  BookOutput books("binance", f.out, f.clock, {60 * kNsPerSec, 20});
  const size_t a = books.add_book("FTM-USDT", "FTMUSDT");
  books.on_book(a, ftm_book(), 1, kT0, kT0);
  books.on_book(a, ftm_book(), 2, kT0, kT0);  // throttled
  books.on_resync(a, "sequence_gap");
  books.on_book(a, ftm_book(), 50, kT0, kT0);  // rebuilt: at once, inside the 60 s interval
  books.on_book(a, ftm_book(), 51, kT0, kT0);  // throttled again
  books.on_resync(a, "sequence_gap");
  books.on_resync(a, "reconnect");
  EXPECT_EQ(books.snapshots(), 2u);
  EXPECT_EQ(books.resyncs(), 3u);
  ASSERT_EQ(f.out.flush(), CollectorOutput::Flush::kOk);
  auto s = f.snapshots();
  ASSERT_EQ(s.size(), 2u);
  EXPECT_EQ(s[1].sequence, 50);
  const std::string text = obs::render_text();
  EXPECT_NE(text.find(R"(tickflow_collector_book_resyncs_total{exchange="binance",reason="sequence_gap"})"),
            std::string::npos);
  EXPECT_NE(text.find(R"(tickflow_collector_book_resyncs_total{exchange="binance",reason="reconnect"})"),
            std::string::npos);
  EXPECT_NE(text.find(R"(tickflow_collector_book_snapshots_total{exchange="binance"})"), std::string::npos);
}

TEST(BookOutput, CrossedBookIsFlaggedAndCountedOncePerCrossing) {
  Fixture f;
  BookOutput books("binance", f.out, f.clock, {0, 20});
  const size_t a = books.add_book("FTM-USDT", "FTMUSDT");
  book::OrderBook book = ftm_book();
  books.on_book(a, book, 1, kT0, kT0);
  ASSERT_TRUE(book.apply(book::BookSide::kBid, d("0.34008000"), d("1")));  // bid == best ask
  ASSERT_TRUE(book.crossed());
  books.on_book(a, book, 2, kT0, kT0);
  books.on_book(a, book, 3, kT0, kT0);  // still the same crossing
  EXPECT_EQ(books.crossed(), 1u);
  ASSERT_TRUE(book.apply(book::BookSide::kBid, d("0.34008000"), d("0")));
  books.on_book(a, book, 4, kT0, kT0);
  ASSERT_TRUE(book.apply(book::BookSide::kAsk, d("0.33900000"), d("5")));  // ask below best bid
  books.on_book(a, book, 5, kT0, kT0);
  EXPECT_EQ(books.crossed(), 2u);
  ASSERT_EQ(f.out.flush(), CollectorOutput::Flush::kOk);
  auto s = f.snapshots();
  ASSERT_EQ(s.size(), 5u);
  EXPECT_FALSE(s[0].crossed);
  EXPECT_TRUE(s[1].crossed);
  EXPECT_TRUE(s[2].crossed);
  EXPECT_FALSE(s[3].crossed);
  EXPECT_TRUE(s[4].crossed);
  EXPECT_NE(obs::render_text().find(R"(tickflow_collector_crossed_books_total{exchange="binance"})"),
            std::string::npos);
}

TEST(BookOutput, SnapshotsCommitAndRollBackTogetherWithTrades) {
  Fixture f;
  BookOutput books("binance", f.out, f.clock, {0, 20});
  auto series = f.out.add_series("binance:FTM-USDT", "FTM-USDT");
  ASSERT_TRUE(series);
  const size_t a = books.add_book("FTM-USDT", "FTMUSDT");
  Trade t;
  t.symbol = "FTM-USDT";
  t.exchange_symbol = "FTMUSDT";
  t.trade_id = t.first_trade_id = t.last_trade_id = 38248910;
  t.price = d("0.33993000");
  t.quantity = d("99.90000000");
  t.ts_event = t.ts_recv = kT0;

  // A failed commit loses the snapshot with the trade.
  f.out.publish(*series, t);
  books.on_book(a, ftm_book(), 1, kT0, kT0);
  f.bus.fail_commits(Status::unavailable("broker down"));
  EXPECT_EQ(f.out.flush(), CollectorOutput::Flush::kReconnect);
  EXPECT_EQ(f.bus.count(topics::kRawMarketData), 0u);
  EXPECT_EQ(f.bus.count(topics::kRawOrderbook), 0u);

  // The next batch commits both in one transaction.
  const int commits = f.bus.commits();
  f.out.publish(*series, t);
  books.on_book(a, ftm_book(), 2, kT0, kT0);
  ASSERT_EQ(f.out.flush(), CollectorOutput::Flush::kOk);
  EXPECT_EQ(f.bus.commits(), commits + 1);
  EXPECT_EQ(f.bus.count(topics::kRawMarketData), 1u);
  EXPECT_EQ(f.bus.count(topics::kRawOrderbook), 1u);
  EXPECT_EQ(f.out.books_published(), 2u);  // appended twice, committed once
}

TEST(BookOutput, CreateTopicsCreatesRawOrderbookWithItsDefaults) {
  Fixture f;
  auto t = f.bus.topic(topics::kRawOrderbook);
  ASSERT_TRUE(t);
  for (const auto& spec : topics::kDefaultTopics) {
    if (spec.name != topics::kRawOrderbook) continue;
    EXPECT_EQ(t->partitions, spec.partitions);
    EXPECT_EQ(t->retention, spec.retention);
  }
}

}  // namespace
}  // namespace tickflow::exchange::collector
