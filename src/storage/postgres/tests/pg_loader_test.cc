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
    EXPECT_TRUE(bus.create_topic({std::string(topics::kProcessedAlerts), 2, 0}).is_ok());
  }
  void publish(const Candle& c) {
    ASSERT_TRUE(bus.publish(topics::kNormalizedOhlcv, instrument_key(c.exchange, c.symbol), codec::encode_candle(c)).is_ok());
  }
  void publish(const Trade& t) {
    ASSERT_TRUE(bus.publish(topics::kRawMarketData, instrument_key(t.exchange, t.symbol), codec::encode_trade(t)).is_ok());
  }
  void publish(const Alert& a) {
    ASSERT_TRUE(bus.publish(topics::kProcessedAlerts, a.alert_id, codec::encode_alert(a)).is_ok());
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

Alert make_alert(int i, const std::string& state) {
  Alert a;
  a.alert_id = "rsi_high:binance:BTC-USDT:1m:" + std::to_string(i) + ":" + state;
  a.rule = "rsi_high";
  a.kind = "indicator_above";
  a.state = state;
  a.severity = "critical";
  a.exchange = "binance";
  a.symbol = "BTC-USDT";
  a.timeframe = "1m";
  a.ts_event = kT0 + i * kNsPerMin;
  a.value = 71.25;
  a.threshold = 70;
  a.message = "rsi14 \"above\"\t70\\";
  a.labels = {{"team", "desk \"a\""}, {"env", "prod"}};
  return a;
}

TEST_F(PgLoaderTest, AlertLoaderStoresEachAlertOnceByItsId) {
  auto store = open_store();
  ASSERT_TRUE(store);
  Bus b;
  for (int i = 0; i < 120; ++i) b.publish(make_alert(i, "firing"));
  for (int i = 0; i < 40; ++i) b.publish(make_alert(i, "resolved"));
  for (int i = 0; i < 60; ++i) b.publish(make_alert(i, "firing"));  // redelivered: same ids
  LoaderConfig cfg = alert_loader_config();
  cfg.max_batch_records = 50;
  HistoricalLoader loader(b.bus, *store, cfg);
  ASSERT_TRUE(loader.start().is_ok());
  ASSERT_TRUE(wait_until([&] { return loader.caught_up(); }, 60s));
  loader.stop();
  EXPECT_EQ(loader.health().name, "historical.alerts");
  EXPECT_EQ(loader.candles_written(), 220u);  // handed to the store; repeated ids are ignored there
  EXPECT_EQ(sql("SELECT count(*) FROM alerts"), "160");
  EXPECT_EQ(sql("SELECT count(*) FROM alerts WHERE state = 'resolved'"), "40");
  // Every field, exactly (quotes, tab and backslash in the message and the labels).
  const std::string id = make_alert(7, "firing").alert_id;
  EXPECT_EQ(sql("SELECT concat_ws('|', rule, kind, state, severity, exchange, symbol, timeframe, value, threshold, "
                "message, labels::text, extract(epoch from time)::int8) FROM alerts WHERE alert_id = '" + id + "'"),
            "rsi_high|indicator_above|firing|critical|binance|BTC-USDT|1m|71.25|70|rsi14 \"above\"\t70\\|"
            "{\"env\": \"prod\", \"team\": \"desk \\\"a\\\"\"}|" + std::to_string(kT0 / kNsPerSec + 7 * 60));
  // Positions were stored with the rows: a restarted loader reads nothing.
  HistoricalLoader again(b.bus, *store, cfg);
  auto r = again.run_once();
  ASSERT_TRUE(r) << r.status().to_string();
  EXPECT_EQ(*r, 0u);
  int64_t stored = 0;
  for (int p = 0; p < 2; ++p) stored += *store->position("historical.alerts", std::string(topics::kProcessedAlerts), p);
  EXPECT_EQ(stored, 220);
  // Alerts replayed from the start (positions lost) insert nothing twice.
  ASSERT_EQ(sql("DELETE FROM consumer_positions WHERE group_id = 'historical.alerts'"), "");
  HistoricalLoader replay(b.bus, *store, cfg);
  for (;;) {
    auto n = replay.run_once();
    ASSERT_TRUE(n) << n.status().to_string();
    if (*n == 0) break;
  }
  EXPECT_EQ(sql("SELECT count(*) FROM alerts"), "160");
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
