// The historical loader and the trade loader into PostgreSQL: idempotence with replays,
// database down mid-run and at start (health down, nothing lost, resumes when it returns).
// Runs last in its binary's order because it stops and restarts the shared server.
#include <gtest/gtest.h>

#include "bus/testing/in_memory_bus.h"
#include "core/codec.h"
#include "storage/loader.h"
#include "storage/postgres/tests/pg_test_util.h"
#include "storage/trade_loader.h"
#include "tests/integration/harness.h"

namespace tickflow::storage::pg::testing {
namespace {

using tickflow::testing::wait_until;
using namespace std::chrono_literals;

struct Bus {
  Bus() {
    EXPECT_TRUE(bus.create_topic({std::string(topics::kNormalizedOhlcv), 4, 0}).is_ok());
    EXPECT_TRUE(bus.create_topic({std::string(topics::kDlqMarketData), 1, 0}).is_ok());
    EXPECT_TRUE(bus.create_topic({std::string(topics::kRawMarketData), 3, 0}).is_ok());
  }
  void publish(const Candle& c) {
    ASSERT_TRUE(bus.publish(topics::kNormalizedOhlcv, instrument_key(c.exchange, c.symbol), codec::encode_candle(c)).is_ok());
  }
  void publish(const Trade& t) {
    ASSERT_TRUE(bus.publish(topics::kRawMarketData, instrument_key(t.exchange, t.symbol), codec::encode_trade(t)).is_ok());
  }
  bus::testing::InMemoryBus bus;
};

LoaderConfig fast_loader() {
  LoaderConfig c;
  c.max_batch_records = 64;
  c.error_backoff = 50 * kNsPerMs;
  return c;
}

using PgLoaderTest = PgTest;

TEST_F(PgLoaderTest, ReplayedAndOutOfOrderRecordsLoadIdempotently) {
  auto store = open_store();
  ASSERT_TRUE(store);
  Bus b;
  // Revisions out of order, the same records twice, several series.
  for (int pass = 0; pass < 2; ++pass) {
    for (int m = 0; m < 100; ++m) {
      b.publish(make_candle("BTC-USDT", m, "2.00", CandleStatus::kCorrected, 2));
      b.publish(make_candle("BTC-USDT", m, "1.00", CandleStatus::kFinal, 0));
      b.publish(make_candle("ETH-USDT", m, "3.00", CandleStatus::kProvisional));
    }
  }
  HistoricalLoader loader(b.bus, *store, fast_loader());
  size_t consumed = 0;
  for (;;) {
    auto r = loader.run_once();
    ASSERT_TRUE(r) << r.status().to_string();
    if (*r == 0) break;
    consumed += *r;
  }
  EXPECT_EQ(consumed, 600u);
  EXPECT_TRUE(loader.caught_up());
  EXPECT_EQ(sql("SELECT count(*) FROM ohlcv"), "200");
  EXPECT_EQ(sql("SELECT count(*) FROM ohlcv WHERE symbol = 'BTC-USDT' AND revision = 2 AND close = 2"), "100");

  // A second loader (a restart) resumes from the stored positions: reads nothing.
  HistoricalLoader again(b.bus, *store, fast_loader());
  auto r = again.run_once();
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, 0u);
  // Positions were stored with the rows.
  int64_t stored = 0;
  for (int p = 0; p < 4; ++p) stored += *store->position("historical", std::string(topics::kNormalizedOhlcv), p);
  EXPECT_EQ(stored, 600);
}

TEST_F(PgLoaderTest, TradeLoaderStoresEachTradeOnce) {
  auto store = open_store();
  ASSERT_TRUE(store);
  Bus b;
  for (int i = 0; i < 500; ++i) b.publish(make_trade(i % 2 ? "BTC-USDT" : "ETH-USDT", i, "10.5", kT0 + i * kNsPerMs));
  for (int i = 0; i < 50; ++i) b.publish(make_trade(i % 2 ? "BTC-USDT" : "ETH-USDT", i, "10.5", kT0 + i * kNsPerMs));  // redelivered
  TradeLoaderConfig cfg;
  cfg.max_batch_records = 100;
  TradeLoader loader(b.bus, *store, cfg);
  ASSERT_TRUE(loader.start().is_ok());
  ASSERT_TRUE(wait_until([&] { return loader.caught_up(); }, 60s));
  loader.stop();
  EXPECT_EQ(sql("SELECT count(*) FROM trades"), "500");
  EXPECT_EQ(loader.health().state, HealthState::kUp);
}

// Last: stops and restarts the shared server.
TEST_F(PgLoaderTest, ZDatabaseDownMidRunThenBackNothingLost) {
  auto store = open_store();
  ASSERT_TRUE(store);
  Bus b;
  for (int m = 0; m < 200; ++m) b.publish(make_candle("BTC-USDT", m, "1.00"));
  HistoricalLoader loader(b.bus, *store, fast_loader());
  ASSERT_TRUE(loader.start().is_ok());
  ASSERT_TRUE(wait_until([&] { return loader.caught_up(); }, 60s));

  server().stop();
  ASSERT_TRUE(wait_until([&] { return store->health()->state == HealthState::kDown; }, 60s));
  for (int m = 200; m < 400; ++m) b.publish(make_candle("BTC-USDT", m, "1.00"));
  for (int m = 0; m < 50; ++m) b.publish(make_candle("BTC-USDT", m, "9.00", CandleStatus::kCorrected, 1));
  ASSERT_TRUE(wait_until([&] { return loader.health().state == HealthState::kDegraded; }, 60s));
  EXPECT_FALSE(loader.caught_up());

  ASSERT_TRUE(server().start()) << server().error();
  ASSERT_TRUE(wait_until([&] { return loader.caught_up(); }, 120s));
  EXPECT_EQ(store->health()->state, HealthState::kUp);
  EXPECT_EQ(loader.health().state, HealthState::kUp);
  loader.stop();
  EXPECT_EQ(sql("SELECT count(*) FROM ohlcv"), "400");
  EXPECT_EQ(sql("SELECT count(*) FROM ohlcv WHERE revision = 1 AND close = 9"), "50");

  // Down at start: the store opens, reports down, and the loader catches up once it is back.
  server().stop();
  auto late = PgCandleStore::open(options());
  ASSERT_TRUE(late) << late.status().to_string();
  EXPECT_EQ((*late)->health()->state, HealthState::kDown);
  for (int m = 400; m < 450; ++m) b.publish(make_candle("BTC-USDT", m, "1.00"));
  HistoricalLoader second(b.bus, **late, fast_loader());
  ASSERT_TRUE(second.start().is_ok());
  ASSERT_TRUE(server().start()) << server().error();
  ASSERT_TRUE(wait_until([&] { return second.caught_up(); }, 120s));
  second.stop();
  EXPECT_EQ(sql("SELECT count(*) FROM ohlcv"), "450");
}

}  // namespace
}  // namespace tickflow::storage::pg::testing
