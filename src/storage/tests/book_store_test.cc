// Order-book snapshots in the embedded store: exact round trip, range reads (newest last),
// the BookLoader's exactly-once positions (replays and restarts store nothing twice), retention.
#include <gtest/gtest.h>

#include "bus/factory.h"
#include "bus/tests/test_dir.h"
#include "core/codec.h"
#include "storage/book_loader.h"
#include "storage/book_store.h"
#include "storage/factory.h"
#include "storage/tests/book_test_util.h"

namespace tickflow::storage {
namespace {

using testing_books::kBookT0;
using testing_books::make_snapshot;
using testing_util::TempDir;

struct Pipeline {
  explicit Pipeline(const std::string& dir) {
    bus::BusConfig bc;
    bc.data_dir = dir;
    bc.topics = {{std::string(topics::kRawOrderbook), 3, 0}};
    auto b = bus::make_event_bus(bc);
    EXPECT_TRUE(b) << b.status().to_string();
    bus = std::move(b).value();
    open_store(dir);
  }
  void open_store(const std::string& dir) {
    store.reset();
    StoreConfig sc;
    sc.data_dir = dir;
    auto s = make_candle_store(sc);
    EXPECT_TRUE(s) << s.status().to_string();
    store = std::move(s).value();
  }
  BookStore& books() { return *store->books(); }
  void publish(const BookSnapshot& b) {
    ASSERT_TRUE(bus->publish(topics::kRawOrderbook, instrument_key(b.exchange, b.symbol), codec::encode_book(b)).is_ok());
  }
  size_t drain(BookLoader& loader) {
    size_t total = 0;
    for (;;) {
      auto r = loader.run_once();
      EXPECT_TRUE(r) << r.status().to_string();
      if (!r || *r == 0) return total;
      total += *r;
    }
  }
  std::vector<BookSnapshot> all(const std::string& symbol) {
    BookQuery q;
    q.symbol = symbol;
    q.limit = 1000000;
    auto r = books().query_books(q);
    EXPECT_TRUE(r) << r.status().to_string();
    return r.value_or({});
  }
  std::unique_ptr<bus::EventBus> bus;
  std::unique_ptr<CandleStore> store;
};

TEST(EmbeddedBookStore, RoundTripsExactlyAndReadsRangesNewestLast) {
  TempDir dir;
  Pipeline pl(dir.path());
  ASSERT_NE(pl.store->books(), nullptr);
  std::vector<BookSnapshot> in;
  for (int s = 0; s < 10; ++s) in.push_back(make_snapshot("FTM-USDT", s, s == 4));
  ASSERT_TRUE(pl.books().write_books(in, {}));
  auto all = pl.all("FTM-USDT");
  ASSERT_EQ(all.size(), 10u);
  for (size_t i = 0; i < all.size(); ++i) {
    EXPECT_EQ(all[i].ts_event, in[i].ts_event) << i;  // oldest first, newest last
    EXPECT_EQ(all[i].ts_recv, in[i].ts_recv);
    EXPECT_EQ(all[i].sequence, in[i].sequence);
    EXPECT_EQ(all[i].bids, in[i].bids);
    EXPECT_EQ(all[i].asks, in[i].asks);
    EXPECT_EQ(all[i].exchange_symbol, "FTMUSDT");
    EXPECT_EQ(all[i].depth, 20u);
    EXPECT_EQ(all[i].crossed, i == 4);
  }
  EXPECT_EQ(all[0].bids[1].quantity.to_string(), "4625.80000000");
  BookQuery q;
  q.symbol = "FTM-USDT";
  q.start = kBookT0 + 2 * kNsPerSec;  // inclusive
  q.end = kBookT0 + 7 * kNsPerSec;    // exclusive
  q.limit = 3;                        // the most recent 3 of [2, 7)
  auto r = pl.books().query_books(q);
  ASSERT_TRUE(r);
  ASSERT_EQ(r->size(), 3u);
  EXPECT_EQ((*r)[0].ts_event, kBookT0 + 4 * kNsPerSec);
  EXPECT_EQ((*r)[2].ts_event, kBookT0 + 6 * kNsPerSec);
  q.symbol = "FTM-USD";  // a prefix of another symbol: nothing of FTM-USDT
  EXPECT_TRUE(pl.books().query_books(q)->empty());
}

TEST(EmbeddedBookStore, LoaderStoresEachSnapshotOnceAcrossReplaysAndRestarts) {
  TempDir dir;
  Pipeline pl(dir.path());
  for (int s = 0; s < 40; ++s) {
    pl.publish(make_snapshot("FTM-USDT", s));
    pl.publish(make_snapshot("ETH-USDT", s));
  }
  for (int s = 0; s < 40; s += 2) pl.publish(make_snapshot("FTM-USDT", s));  // re-published (collector replay)
  ASSERT_TRUE(pl.bus->publish(topics::kRawOrderbook, "binance:FTM-USDT", "garbage").is_ok());
  {
    BookLoaderConfig cfg;
    cfg.max_batch_records = 16;  // several batches
    BookLoader loader(*pl.bus, pl.books(), cfg);
    EXPECT_EQ(pl.drain(loader), 101u);
    EXPECT_TRUE(loader.caught_up());
    EXPECT_EQ(loader.snapshots_written(), 100u);  // handed over; the store ignores the replays
  }
  EXPECT_EQ(pl.all("FTM-USDT").size(), 40u);
  EXPECT_EQ(pl.all("ETH-USDT").size(), 40u);

  // A restart resumes from the stored positions: nothing is read again.
  pl.open_store(dir.path());
  {
    BookLoader loader(*pl.bus, pl.books());
    EXPECT_TRUE(loader.caught_up());
    for (int s = 40; s < 45; ++s) pl.publish(make_snapshot("FTM-USDT", s));
    EXPECT_EQ(pl.drain(loader), 5u);
  }
  EXPECT_EQ(pl.all("FTM-USDT").size(), 45u);

  // A batch replayed as a whole after a crash (positions lost with it) stores nothing twice.
  std::vector<BookSnapshot> again;
  for (int s = 0; s < 45; ++s) again.push_back(make_snapshot("FTM-USDT", s));
  ASSERT_TRUE(pl.books().write_books(again, {}));
  EXPECT_EQ(pl.all("FTM-USDT").size(), 45u);
}

TEST(EmbeddedBookStore, RetentionDropsOnlyOldSnapshotsOfEveryInstrument) {
  TempDir dir;
  Pipeline pl(dir.path());
  std::vector<BookSnapshot> in;
  for (const char* sym : {"BTC-USD", "BTC-USDT", "FTM-USDT"})
    for (int h = 0; h < 10; ++h) in.push_back(make_snapshot(sym, h * 3600));  // hourly
  ASSERT_TRUE(pl.books().write_books(in, {}));
  // Default retention 7 days: "now" is 7 days after hour 4 → hours 0..3 go.
  const TimestampNs now = kBookT0 + 7 * kNsPerDay + 4 * 3600 * kNsPerSec;
  auto removed = pl.store->enforce_retention(now);
  ASSERT_TRUE(removed) << removed.status().to_string();
  EXPECT_EQ(*removed, 12);
  for (const char* sym : {"BTC-USD", "BTC-USDT", "FTM-USDT"}) {
    auto left = pl.all(sym);
    ASSERT_EQ(left.size(), 6u) << sym;
    EXPECT_EQ(left.front().ts_event, kBookT0 + 4 * 3600 * kNsPerSec) << sym;
  }
}

TEST(EmbeddedBookStore, RetentionIsConfigurableAndMustBePositive) {
  TempDir dir;
  StoreConfig sc;
  sc.data_dir = dir.path();
  sc.retention.orderbook = 0;
  auto bad = make_candle_store(sc);
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.status().message().find("storage.orderbook_retention"), std::string::npos);
  sc.retention.orderbook = kNsPerDay;
  auto store = make_candle_store(sc);
  ASSERT_TRUE(store);
  ASSERT_TRUE((*store)->books()->write_books({make_snapshot("FTM-USDT", 0), make_snapshot("FTM-USDT", 100000)}, {}));
  auto removed = (*store)->enforce_retention(kBookT0 + kNsPerDay + 1);
  ASSERT_TRUE(removed);
  EXPECT_EQ(*removed, 1);
}

}  // namespace
}  // namespace tickflow::storage
