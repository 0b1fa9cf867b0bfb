// Order-book snapshots in PostgreSQL (orderbook_snapshots, migration 4) against the real server
// the tests start: exact round trip, range reads newest last, the BookLoader's positions in the
// same transaction (replays and restarts store nothing twice), retention.
#include <gtest/gtest.h>

#include "bus/testing/in_memory_bus.h"
#include "core/codec.h"
#include "storage/book_loader.h"
#include "storage/postgres/tests/pg_test_util.h"
#include "storage/tests/book_test_util.h"

namespace tickflow::storage::pg::testing {
namespace {

using testing_books::kBookT0;
using testing_books::make_snapshot;

using PgBookTest = PgTest;

std::vector<BookSnapshot> all(BookStore& s, const std::string& symbol) {
  BookQuery q;
  q.symbol = symbol;
  q.limit = 1000000;
  auto r = s.query_books(q);
  EXPECT_TRUE(r) << r.status().to_string();
  return r.value_or({});
}

TEST_F(PgBookTest, RoundTripsExactlyAndReadsRangesNewestLast) {
  auto store = open_store();
  ASSERT_TRUE(store);
  ASSERT_NE(store->books(), nullptr);
  std::vector<BookSnapshot> in;
  for (int s = 0; s < 10; ++s) in.push_back(make_snapshot("FTM-USDT", s, s == 4));
  ASSERT_TRUE(store->write_books(in, {}));
  auto got = all(*store, "FTM-USDT");
  ASSERT_EQ(got.size(), 10u);
  for (size_t i = 0; i < got.size(); ++i) {
    EXPECT_EQ(got[i].ts_event, in[i].ts_event) << i;
    EXPECT_EQ(got[i].ts_recv, in[i].ts_recv);  // exact nanoseconds
    EXPECT_EQ(got[i].sequence, in[i].sequence);
    EXPECT_EQ(got[i].bids, in[i].bids);  // exact decimals, scale included
    EXPECT_EQ(got[i].asks, in[i].asks);
    EXPECT_EQ(got[i].exchange_symbol, "FTMUSDT");
    EXPECT_EQ(got[i].depth, 20u);
    EXPECT_EQ(got[i].crossed, i == 4);
  }
  EXPECT_EQ(sql("SELECT bids->0->>0 FROM orderbook_snapshots ORDER BY time LIMIT 1"), "0.33988000");
  EXPECT_EQ(sql("SELECT last_update_id FROM orderbook_snapshots ORDER BY time LIMIT 1"), "800360968");
  BookQuery q;
  q.symbol = "FTM-USDT";
  q.start = kBookT0 + 2 * kNsPerSec;
  q.end = kBookT0 + 7 * kNsPerSec;
  q.limit = 3;
  auto r = store->query_books(q);
  ASSERT_TRUE(r);
  ASSERT_EQ(r->size(), 3u);
  EXPECT_EQ((*r)[0].ts_event, kBookT0 + 4 * kNsPerSec);
  EXPECT_EQ((*r)[2].ts_event, kBookT0 + 6 * kNsPerSec);
}

TEST_F(PgBookTest, LoaderStoresEachSnapshotOnceWithItsPositions) {
  auto store = open_store();
  ASSERT_TRUE(store);
  bus::testing::InMemoryBus bus;
  ASSERT_TRUE(bus.create_topic({std::string(topics::kRawOrderbook), 3, 0}));
  auto publish = [&](const BookSnapshot& b) {
    ASSERT_TRUE(bus.publish(topics::kRawOrderbook, instrument_key(b.exchange, b.symbol), codec::encode_book(b)));
  };
  for (int s = 0; s < 30; ++s) {
    publish(make_snapshot("FTM-USDT", s));
    publish(make_snapshot("ETH-USDT", s));
  }
  for (int s = 0; s < 30; s += 3) publish(make_snapshot("FTM-USDT", s));  // re-published
  auto drain = [](BookLoader& l) {
    size_t total = 0;
    for (;;) {
      auto r = l.run_once();
      EXPECT_TRUE(r) << r.status().to_string();
      if (!r || *r == 0) return total;
      total += *r;
    }
  };
  {
    BookLoaderConfig cfg;
    cfg.max_batch_records = 8;
    BookLoader loader(bus, *store, cfg);
    EXPECT_EQ(drain(loader), 70u);
  }
  EXPECT_EQ(sql("SELECT count(*) FROM orderbook_snapshots"), "60");
  EXPECT_EQ(sql("SELECT sum(next_offset) FROM consumer_positions WHERE group_id = 'orderbook' AND topic = "
                "'raw.orderbook'"),
            "70");
  // Restart: resumes at the stored positions.
  store.reset();
  store = open_store();
  ASSERT_TRUE(store);
  {
    BookLoader loader(bus, *store);
    EXPECT_TRUE(loader.caught_up());
    publish(make_snapshot("FTM-USDT", 30));
    EXPECT_EQ(drain(loader), 1u);
  }
  EXPECT_EQ(sql("SELECT count(*) FROM orderbook_snapshots"), "61");
  // A whole batch replayed (its positions lost in a crash) inserts nothing.
  std::vector<BookSnapshot> again;
  for (int s = 0; s <= 30; ++s) again.push_back(make_snapshot("FTM-USDT", s));
  again.push_back(again.front());  // twice inside one batch too
  ASSERT_TRUE(store->write_books(again, {}));
  EXPECT_EQ(sql("SELECT count(*) FROM orderbook_snapshots"), "61");
}

TEST_F(PgBookTest, RetentionDeletesOnlyOldSnapshots) {
  PgStoreOptions o = options();
  o.retention.orderbook = 2 * kNsPerDay;
  auto store = open_store(o);
  ASSERT_TRUE(store);
  std::vector<BookSnapshot> in;
  for (int h = 0; h < 10; ++h) in.push_back(make_snapshot("FTM-USDT", h * 3600));
  ASSERT_TRUE(store->write_books(in, {}));
  auto removed = store->enforce_retention(kBookT0 + 2 * kNsPerDay + 4 * 3600 * kNsPerSec);
  ASSERT_TRUE(removed) << removed.status().to_string();
  EXPECT_EQ(sql("SELECT count(*) FROM orderbook_snapshots"), "6");
  auto left = all(*store, "FTM-USDT");
  ASSERT_EQ(left.size(), 6u);
  EXPECT_EQ(left.front().ts_event, kBookT0 + 4 * 3600 * kNsPerSec);
}

}  // namespace
}  // namespace tickflow::storage::pg::testing
