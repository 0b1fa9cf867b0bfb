// The PostgreSQL write path: binary COPY values equal their text forms in the server, the probe
// of stored keys splitting a batch between the direct COPY and the staging upsert, the fallback
// when the direct COPY meets a stored key, and parallel loader writers (no loss, no duplicate,
// positions stored with the rows).
#include <gtest/gtest.h>

#include "bus/testing/in_memory_bus.h"
#include "core/codec.h"
#include "storage/loader.h"
#include "storage/postgres/pg_rows.h"
#include "storage/postgres/tests/pg_test_util.h"
#include "storage/trade_loader.h"
#include "tests/integration/harness.h"

namespace tickflow::storage::pg::testing {
namespace {

using tickflow::testing::wait_until;
using namespace std::chrono_literals;
double conflicts() { return PgProbe::get().direct_copy_conflicts.Value(); }

class PgWritePathTest : public PgTest {
 protected:
  // Expected rows after the two batches of the precedence tests below.
  void expect_precedence_result(const std::string& symbol) {
    EXPECT_EQ(sql("SELECT count(*) FROM ohlcv WHERE symbol = '" + symbol + "'"), "15");
    // Minutes 5..9: revision 1 replaced the stored finals; 10..14 new; 0..4 untouched.
    EXPECT_EQ(sql("SELECT string_agg(close::text || '/' || revision, ',' ORDER BY time) FROM ohlcv WHERE symbol = '" +
                    symbol + "'"),
              "1.00/0,1.00/0,1.00/0,1.00/0,1.00/0,2.00/1,2.00/1,2.00/1,2.00/1,2.00/1,"
              "3.00/0,3.00/0,3.00/0,3.00/0,3.00/0");
  }

  static void write_precedence_batches(CandleStore& store, const std::string& symbol) {
    std::vector<Candle> first;
    for (int m = 0; m < 10; ++m) first.push_back(make_candle(symbol, m, "1.00"));
    ASSERT_TRUE(store.write(first, {{"g", "t", 0, 10}}).is_ok());
    std::vector<Candle> second;
    for (int m = 0; m < 5; ++m) second.push_back(make_candle(symbol, m, "9.00", CandleStatus::kProvisional));  // lower
    for (int m = 5; m < 10; ++m) second.push_back(make_candle(symbol, m, "2.00", CandleStatus::kCorrected, 1));
    for (int m = 10; m < 15; ++m) second.push_back(make_candle(symbol, m, "3.00"));
    ASSERT_TRUE(store.write(second, {{"g", "t", 0, 25}}).is_ok());
  }
};

TEST_F(PgWritePathTest, BinaryCopyStoresTheExactDecimalText) {
  auto store = open_store();
  ASSERT_TRUE(store);
  Candle c = make_candle("BTC-USDT", 0, "0.00000000");
  c.open = *Decimal::parse("-43000.10000000");  // negative, trailing zeros
  c.high = *Decimal::parse("999999999.999999999");  // 18 digits
  c.low = *Decimal::parse("0.000000000000000001");  // scale 18
  c.volume = WideDecimal(static_cast<__int128>(~static_cast<unsigned __int128>(0) >> 1), 18);  // int128 max units
  c.quote_volume = *WideDecimal::parse("0.000000000000000000000000000000000001");  // scale 36
  c.taker_buy_volume = *WideDecimal::parse("100000000");
  c.taker_buy_quote_volume = *WideDecimal::parse("-1.0000");
  ASSERT_TRUE(store->write({c}, {}).is_ok());
  EXPECT_EQ(sql("SELECT open::text || ' ' || high::text || ' ' || low::text || ' ' || close::text FROM ohlcv"),
            "-43000.10000000 999999999.999999999 0.000000000000000001 0.00000000");
  EXPECT_EQ(sql("SELECT volume::text || ' ' || quote_volume::text || ' ' || taker_buy_volume::text || ' ' || "
                "taker_buy_quote_volume::text FROM ohlcv"),
            "170141183460469231731.687303715884105727 0.000000000000000000000000000000000001 100000000 -1.0000");
  // The same value parsed from text by the server is equal and has the same display scale.
  EXPECT_EQ(sql("SELECT volume = '170141183460469231731.687303715884105727'::numeric AND scale(quote_volume) = 36 "
                "AND time = '2021-08-14 14:46:00+00' AND close_time = '2021-08-14 14:46:59.999+00' FROM ohlcv"),
            "t");
  // And reads back exactly through the binary decoder of the range read.
  CandleQuery q;
  q.symbol = "BTC-USDT";
  q.timeframe = c.timeframe;
  auto got = store->query(q);
  ASSERT_TRUE(got);
  ASSERT_EQ(got->size(), 1u);
  EXPECT_EQ((*got)[0].open.to_string(), "-43000.10000000");
  EXPECT_EQ((*got)[0].volume.to_string(), "170141183460469231731.687303715884105727");
  EXPECT_EQ((*got)[0].quote_volume.to_string(), "0.000000000000000000000000000000000001");

  Trade t = make_trade("ETH-USDT", 7, "0.10", kT0 + 1500);  // sub-microsecond part dropped
  t.quantity = *Decimal::parse("12.000");
  ASSERT_TRUE(store->write_trades({t}, {}).is_ok());
  EXPECT_EQ(sql("SELECT price::text || ' ' || quantity::text || ' ' || (time = '2021-08-14 14:46:00.000001+00') FROM trades"),
            "0.10 12.000 true");
}

TEST_F(PgWritePathTest, StoredKeysTakeTheUpsertNewKeysTheDirectCopy) {
  auto store = open_store();
  ASSERT_TRUE(store);
  const double before = conflicts();
  write_precedence_batches(*store, "BTC-USDT");
  expect_precedence_result("BTC-USDT");
  EXPECT_EQ(conflicts(), before);  // the probe found the stored keys: no failed direct COPY
  EXPECT_EQ(*store->position("g", "t", 0), 25);
}

TEST_F(PgWritePathTest, DirectCopyConflictFallsBackToTheUpsertAtomically) {
  PgStoreOptions o = options();
  o.probe_stored_keys = false;  // as if another writer stored the keys after the probe
  auto store = open_store(o);
  ASSERT_TRUE(store);
  const double before = conflicts();
  write_precedence_batches(*store, "BTC-USDT");
  expect_precedence_result("BTC-USDT");
  EXPECT_EQ(conflicts(), before + 1);
  EXPECT_EQ(*store->position("g", "t", 0), 25);

  // Trades: the stored identities are ignored (DO NOTHING), the new ones stored, once.
  std::vector<Trade> a, b;
  for (int i = 0; i < 10; ++i) a.push_back(make_trade("BTC-USDT", i, "10.5", kT0 + i * kNsPerMs));
  for (int i = 5; i < 15; ++i) b.push_back(make_trade("BTC-USDT", i, i < 10 ? "99" : "10.5", kT0 + i * kNsPerMs));
  b.push_back(b.front());  // the same identity twice in one batch
  ASSERT_TRUE(store->write_trades(a, {{"tg", "t", 1, 10}}).is_ok());
  ASSERT_TRUE(store->write_trades(b, {{"tg", "t", 1, 21}}).is_ok());
  EXPECT_EQ(conflicts(), before + 2);
  EXPECT_EQ(sql("SELECT count(*) || ' ' || count(DISTINCT trade_id) || ' ' || sum(CASE WHEN price = 99 THEN 1 ELSE 0 END) "
                "FROM trades"),
            "15 15 0");
  EXPECT_EQ(*store->position("tg", "t", 1), 21);
}

TEST_F(PgWritePathTest, TradesProbedAsStoredAreNotWrittenAgain) {
  auto store = open_store();
  ASSERT_TRUE(store);
  const double before = conflicts();
  std::vector<Trade> a, b;
  for (int i = 0; i < 10; ++i) a.push_back(make_trade("ETH-USDT", i, "1.5", kT0 + i * kNsPerMs));
  for (int i = 0; i < 20; ++i) b.push_back(make_trade("ETH-USDT", i, "1.5", kT0 + i * kNsPerMs));
  ASSERT_TRUE(store->write_trades(a, {}).is_ok());
  ASSERT_TRUE(store->write_trades(b, {}).is_ok());
  ASSERT_TRUE(store->write_trades(b, {}).is_ok());  // a replay: every identity stored
  EXPECT_EQ(sql("SELECT count(*) FROM trades"), "20");
  EXPECT_EQ(conflicts(), before);
}

TEST_F(PgWritePathTest, ParallelWritersLoseAndRepeatNothing) {
  PgStoreOptions o = options();
  o.pool_size = 6;
  auto store = open_store(o);
  ASSERT_TRUE(store);
  EXPECT_EQ(store->write_parallelism(), 2u);
  bus::testing::InMemoryBus bus;
  constexpr int kPartitions = 7;
  ASSERT_TRUE(bus.create_topic({std::string(topics::kNormalizedOhlcv), kPartitions, 0}).is_ok());
  ASSERT_TRUE(bus.create_topic({std::string(topics::kDlqMarketData), 1, 0}).is_ok());
  ASSERT_TRUE(bus.create_topic({std::string(topics::kRawMarketData), kPartitions, 0}).is_ok());
  constexpr int kSymbols = 12, kMinutes = 60;
  int64_t candle_records = 0, trade_records = 0;
  // Every candle as a provisional, a final and (every third) a correction, then a replay of
  // the finals; every trade once and a tenth of them redelivered.
  for (int pass = 0; pass < 2; ++pass) {
    for (int m = 0; m < kMinutes; ++m) {
      for (int s = 0; s < kSymbols; ++s) {
        const std::string sym = "S" + std::to_string(s) + "-USDT";
        std::vector<Candle> updates;
        if (pass == 0) updates.push_back(make_candle(sym, m, "1.00", CandleStatus::kProvisional));
        updates.push_back(make_candle(sym, m, "2.00", CandleStatus::kFinal));
        if (pass == 0 && m % 3 == 0) updates.push_back(make_candle(sym, m, "3.00", CandleStatus::kCorrected, 1));
        for (const Candle& c : updates) {
          ASSERT_TRUE(bus.publish(topics::kNormalizedOhlcv, instrument_key(c.exchange, c.symbol), codec::encode_candle(c))
                          .is_ok());
          ++candle_records;
        }
        const Trade t = make_trade(sym, m, "10.5", kT0 + m * kNsPerSec);
        if (pass == 0 || m % 10 == 0) {
          ASSERT_TRUE(bus.publish(topics::kRawMarketData, instrument_key(t.exchange, t.symbol), codec::encode_trade(t)).is_ok());
          ++trade_records;
        }
      }
    }
  }
  LoaderConfig lc;
  lc.writers = 3;
  lc.max_batch_records = 50;
  HistoricalLoader loader(bus, *store, lc);
  EXPECT_EQ(loader.writers(), 3u);
  TradeLoaderConfig tc;  // writers from the store: 2
  tc.max_batch_records = 64;
  TradeLoader trades(bus, *store, tc);
  EXPECT_EQ(trades.writers(), 2u);
  ASSERT_TRUE(loader.start().is_ok());
  ASSERT_TRUE(trades.start().is_ok());
  ASSERT_TRUE(wait_until([&] { return loader.caught_up() && trades.caught_up(); }, 120s));
  loader.stop();
  trades.stop();
  EXPECT_EQ(loader.candles_written(), static_cast<uint64_t>(candle_records));
  EXPECT_EQ(loader.lag(), 0);
  EXPECT_EQ(loader.health().state, HealthState::kUp);
  EXPECT_EQ(trades.lag(), 0);
  EXPECT_EQ(sql("SELECT count(*) FROM ohlcv"), std::to_string(kSymbols * kMinutes));
  EXPECT_EQ(sql("SELECT count(*) FROM ohlcv WHERE revision = 1 AND close = 3"), std::to_string(kSymbols * kMinutes / 3));
  EXPECT_EQ(sql("SELECT count(*) FROM ohlcv WHERE revision = 0 AND status = 'final' AND close = 2"),
            std::to_string(kSymbols * kMinutes * 2 / 3));
  EXPECT_EQ(sql("SELECT count(*) || ' ' || count(DISTINCT (symbol, trade_id)) FROM trades"),
            std::to_string(kSymbols * kMinutes) + " " + std::to_string(kSymbols * kMinutes));
  // Every partition's position is its end offset, stored with the rows by its own writer.
  int64_t candle_pos = 0, trade_pos = 0;
  for (int p = 0; p < kPartitions; ++p) {
    candle_pos += *store->position("historical", std::string(topics::kNormalizedOhlcv), p);
    trade_pos += *store->position("trades", std::string(topics::kRawMarketData), p);
  }
  EXPECT_EQ(candle_pos, candle_records);
  EXPECT_EQ(trade_pos, trade_records);

  // A restart with a different writer count resumes from the stored positions: nothing to read.
  LoaderConfig one;
  one.writers = 1;
  HistoricalLoader again(bus, *store, one);
  auto r = again.run_once();
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, 0u);
}

}  // namespace
}  // namespace tickflow::storage::pg::testing
