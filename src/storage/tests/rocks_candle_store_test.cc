#include "storage/embedded/rocks_candle_store.h"

#include <gtest/gtest.h>

#include "bus/tests/test_dir.h"
#include "storage/factory.h"

namespace tickflow::storage::embedded {
namespace {

using testing_util::TempDir;

const Timeframe& tf1m() {
  static const Timeframe tf = *Timeframe::parse("1m");
  return tf;
}

Candle make_candle(std::string symbol, const Timeframe& tf, TimestampNs open_time,
                   std::string close, CandleStatus status = CandleStatus::kFinal,
                   uint32_t revision = 0, int64_t trades = 1) {
  Candle c;
  c.symbol = std::move(symbol);
  c.exchange_symbol = "X";
  c.timeframe = tf;
  c.open_time = open_time;
  c.close_time = open_time + tf.duration_ns() - kNsPerMs;
  c.open = c.high = c.low = c.close = *Decimal::parse(close);
  c.volume.add(*Decimal::parse("1.0"));
  c.quote_volume.add_product(c.close, *Decimal::parse("1.0"));
  c.trades = trades;
  c.first_trade_id = 1;
  c.last_trade_id = trades;
  c.status = status;
  c.revision = revision;
  return c;
}

std::unique_ptr<RocksCandleStore> open_store(const std::string& path,
                                             RetentionConfig retention = {}) {
  RocksStoreOptions o;
  o.path = path;
  o.retention = std::move(retention);
  auto r = RocksCandleStore::open(o);
  EXPECT_TRUE(r) << r.status().to_string();
  return r ? std::move(r).value() : nullptr;
}

std::vector<Candle> query_all(const CandleStore& s, const std::string& symbol,
                              const Timeframe& tf) {
  CandleQuery q;
  q.symbol = symbol;
  q.timeframe = tf;
  q.limit = 1u << 30;
  auto r = s.query(q);
  EXPECT_TRUE(r) << r.status().to_string();
  return r ? *r : std::vector<Candle>{};
}

constexpr TimestampNs kT0 = 1628952360LL * kNsPerSec;  // a minute boundary

TEST(RocksCandleStore, KeepsTheHighestPrecedencePerCandle) {
  TempDir dir;
  auto store = open_store(dir.path());
  auto write1 = [&](const Candle& c) { ASSERT_TRUE(store->write({c}, {}).is_ok()); };
  auto stored_close = [&] {
    auto all = query_all(*store, "BTC-USDT", tf1m());
    EXPECT_EQ(all.size(), 1u);
    return all.empty() ? std::string() : all[0].close.to_string();
  };
  write1(make_candle("BTC-USDT", tf1m(), kT0, "1", CandleStatus::kProvisional, 0, 1));
  EXPECT_EQ(stored_close(), "1");
  // Same precedence (a newer provisional): the newer write wins.
  write1(make_candle("BTC-USDT", tf1m(), kT0, "5", CandleStatus::kProvisional, 0, 2));
  EXPECT_EQ(stored_close(), "5");
  write1(make_candle("BTC-USDT", tf1m(), kT0, "2", CandleStatus::kFinal));
  EXPECT_EQ(stored_close(), "2");
  // A provisional after the final is ignored.
  write1(make_candle("BTC-USDT", tf1m(), kT0, "3", CandleStatus::kProvisional, 0, 9));
  EXPECT_EQ(stored_close(), "2");
  write1(make_candle("BTC-USDT", tf1m(), kT0, "4", CandleStatus::kCorrected, 1));
  EXPECT_EQ(stored_close(), "4");
  // Revision 0 final replayed after the correction: ignored.
  write1(make_candle("BTC-USDT", tf1m(), kT0, "2", CandleStatus::kFinal));
  EXPECT_EQ(stored_close(), "4");
  auto all = query_all(*store, "BTC-USDT", tf1m());
  EXPECT_EQ(all[0].revision, 1u);
  EXPECT_EQ(all[0].status, CandleStatus::kCorrected);

  // Inside one batch the same rule holds.
  ASSERT_TRUE(store
                  ->write({make_candle("ETH-USDT", tf1m(), kT0, "1", CandleStatus::kProvisional),
                           make_candle("ETH-USDT", tf1m(), kT0, "2", CandleStatus::kFinal),
                           make_candle("ETH-USDT", tf1m(), kT0, "3", CandleStatus::kProvisional)},
                          {})
                  .is_ok());
  auto eth = query_all(*store, "ETH-USDT", tf1m());
  ASSERT_EQ(eth.size(), 1u);
  EXPECT_EQ(eth[0].close.to_string(), "2");
}

TEST(RocksCandleStore, ReplayIsIdempotent) {
  TempDir dir;
  auto store = open_store(dir.path());
  std::vector<Candle> updates;
  for (int i = 0; i < 20; ++i) {
    updates.push_back(
        make_candle("BTC-USDT", tf1m(), kT0 + i * kNsPerMin, "1", CandleStatus::kProvisional));
    updates.push_back(make_candle("BTC-USDT", tf1m(), kT0 + i * kNsPerMin, std::to_string(i + 10)));
  }
  updates.push_back(
      make_candle("BTC-USDT", tf1m(), kT0 + 3 * kNsPerMin, "99", CandleStatus::kCorrected, 1));
  ASSERT_TRUE(store->write(updates, {}).is_ok());
  auto first = query_all(*store, "BTC-USDT", tf1m());
  ASSERT_TRUE(store->write(updates, {}).is_ok());
  for (const auto& c : updates) ASSERT_TRUE(store->write({c}, {}).is_ok());
  auto again = query_all(*store, "BTC-USDT", tf1m());
  ASSERT_EQ(first.size(), 20u);
  ASSERT_EQ(again.size(), 20u);
  for (size_t i = 0; i < 20; ++i) {
    EXPECT_EQ(first[i].close, again[i].close);
    EXPECT_EQ(first[i].revision, again[i].revision);
  }
  EXPECT_EQ(again[3].close.to_string(), "99");
  auto series = store->list_series();
  ASSERT_TRUE(series);
  ASSERT_EQ(series->size(), 1u);
  EXPECT_EQ((*series)[0].candles, 20);
}

TEST(RocksCandleStore, QueryReturnsNewestLimitInRangeOldestFirst) {
  TempDir dir;
  auto store = open_store(dir.path());
  const Timeframe tf5 = *Timeframe::parse("5m");
  std::vector<Candle> cs;
  for (int i = 0; i < 100; ++i)
    cs.push_back(make_candle("BTC-USDT", tf1m(), kT0 + i * kNsPerMin, std::to_string(i + 1)));
  cs.push_back(make_candle("BTC-USDT", tf5, kT0, "7"));
  cs.push_back(make_candle("ETH-USDT", tf1m(), kT0, "8"));
  ASSERT_TRUE(store->write(cs, {}).is_ok());

  CandleQuery q;
  q.symbol = "BTC-USDT";
  q.timeframe = tf1m();
  q.start = kT0 + 10 * kNsPerMin;  // inclusive
  q.end = kT0 + 50 * kNsPerMin;    // exclusive
  q.limit = 5;
  auto r = store->query(q);
  ASSERT_TRUE(r);
  ASSERT_EQ(r->size(), 5u);
  EXPECT_EQ((*r)[0].open_time, kT0 + 45 * kNsPerMin);
  EXPECT_EQ((*r)[4].open_time, kT0 + 49 * kNsPerMin);
  q.limit = 1000;
  r = store->query(q);
  ASSERT_EQ(r->size(), 40u);
  EXPECT_EQ(r->front().open_time, kT0 + 10 * kNsPerMin);
  EXPECT_EQ(r->front().close.to_string(), "11");
  EXPECT_EQ(r->back().open_time, kT0 + 49 * kNsPerMin);
  q.limit = 0;
  EXPECT_TRUE(store->query(q)->empty());
  q.limit = 10;
  q.start = q.end;
  EXPECT_TRUE(store->query(q)->empty());
  // Default range: everything, the newest `limit`.
  CandleQuery all;
  all.symbol = "BTC-USDT";
  all.timeframe = tf1m();
  all.limit = 3;
  r = store->query(all);
  ASSERT_EQ(r->size(), 3u);
  EXPECT_EQ(r->back().open_time, kT0 + 99 * kNsPerMin);
  // Series are separate.
  EXPECT_EQ(query_all(*store, "BTC-USDT", tf5).size(), 1u);
  EXPECT_EQ(query_all(*store, "ETH-USDT", tf1m()).size(), 1u);
  EXPECT_TRUE(query_all(*store, "SOL-USDT", tf1m()).empty());
  CandleQuery other = all;
  other.exchange = Exchange::kKraken;
  EXPECT_TRUE(store->query(other)->empty());
}

TEST(RocksCandleStore, SeriesIndex) {
  TempDir dir;
  auto store = open_store(dir.path());
  const Timeframe tf1h = *Timeframe::parse("1h");
  EXPECT_FALSE(*store->has_series(Exchange::kBinance, "BTC-USDT", tf1m()));
  ASSERT_TRUE(store
                  ->write({make_candle("BTC-USDT", tf1m(), kT0, "1"),
                           make_candle("BTC-USDT", tf1m(), kT0 + kNsPerMin, "1"),
                           make_candle("BTC-USDT", tf1h, kT0 - kT0 % kNsPerHour, "1")},
                          {})
                  .is_ok());
  EXPECT_TRUE(*store->has_series(Exchange::kBinance, "BTC-USDT", tf1m()));
  EXPECT_FALSE(*store->has_series(Exchange::kCoinbase, "BTC-USDT", tf1m()));
  auto series = store->list_series();
  ASSERT_TRUE(series);
  ASSERT_EQ(series->size(), 2u);
  EXPECT_EQ((*series)[0].symbol, "BTC-USDT");
  EXPECT_EQ((*series)[0].timeframe, "1m");
  EXPECT_EQ((*series)[0].candles, 2);
  EXPECT_EQ((*series)[1].timeframe, "1h");
  EXPECT_EQ((*series)[1].candles, 1);
}

TEST(RocksCandleStore, PositionsAreWrittenWithRowsAndSurviveReopen) {
  TempDir dir;
  {
    auto store = open_store(dir.path());
    EXPECT_EQ(*store->position("historical", "normalized.ohlcv", 3), 0);
    ASSERT_TRUE(store
                    ->write({make_candle("BTC-USDT", tf1m(), kT0, "1")},
                            {{"historical", "normalized.ohlcv", 3, 42},
                             {"historical", "normalized.ohlcv", 4, 7}})
                    .is_ok());
    // Positions alone are fine too.
    ASSERT_TRUE(store->write({}, {{"historical", "normalized.ohlcv", 4, 8}}).is_ok());
  }
  auto store = open_store(dir.path());
  EXPECT_EQ(*store->position("historical", "normalized.ohlcv", 3), 42);
  EXPECT_EQ(*store->position("historical", "normalized.ohlcv", 4), 8);
  EXPECT_EQ(*store->position("other", "normalized.ohlcv", 3), 0);
  EXPECT_EQ(query_all(*store, "BTC-USDT", tf1m()).size(), 1u);
}

TEST(RocksCandleStore, RetentionPerTimeframe) {
  TempDir dir;
  auto store = open_store(dir.path());  // defaults: 1m 30 d, 1h 365 d, 1d 5 y
  const Timeframe tf5 = *Timeframe::parse("5m");
  const TimestampNs now = kT0 + 100 * kNsPerDay;
  std::vector<Candle> cs;
  for (int d = 0; d < 100; d += 10) {
    cs.push_back(make_candle("BTC-USDT", tf1m(), kT0 + d * kNsPerDay, "1"));
    cs.push_back(make_candle("BTC-USDT", tf5, kT0 + d * kNsPerDay, "1"));
  }
  ASSERT_TRUE(store->write(cs, {}).is_ok());
  auto removed = store->enforce_retention(now);
  ASSERT_TRUE(removed);
  // 1m: open times older than now - 30 d are days 0..60 (7 candles); day 70 is exactly at the edge
  // and kept.
  EXPECT_EQ(*removed, 7);
  auto left = query_all(*store, "BTC-USDT", tf1m());
  ASSERT_EQ(left.size(), 3u);
  EXPECT_EQ(left.front().open_time, kT0 + 70 * kNsPerDay);
  EXPECT_EQ(query_all(*store, "BTC-USDT", tf5).size(), 10u);  // 5m has no retention: kept
  EXPECT_EQ(*store->enforce_retention(now), 0);
  auto series = store->list_series();
  ASSERT_TRUE(series);
  for (const auto& s : *series) {
    EXPECT_EQ(s.candles, s.timeframe == "1m" ? 3 : 10) << s.timeframe;
  }

  RocksStoreOptions bad;
  bad.path = dir.sub("bad");
  bad.retention.per_timeframe = {{"7q", kNsPerDay}};
  auto r = RocksCandleStore::open(bad);
  ASSERT_FALSE(r);
  EXPECT_NE(r.status().message().find("store.retention.7q"), std::string::npos);
}

TEST(StoreFactory, UnknownBackendAndSecondOpener) {
  StoreConfig cfg;
  cfg.backend = "sqlite";
  cfg.data_dir = "/tmp/unused";
  auto r = make_candle_store(cfg);
  ASSERT_FALSE(r);
  EXPECT_NE(r.status().message().find("store.backend"), std::string::npos);

  TempDir dir;
  StoreConfig ok;
  ok.data_dir = dir.path();
  auto first = make_candle_store(ok);
  ASSERT_TRUE(first) << first.status().to_string();
  auto second = make_candle_store(ok);
  ASSERT_FALSE(second);
  EXPECT_NE(second.status().message().find("data dir " + dir.path() +
                                           " is in use by another tickflow process"),
            std::string::npos)
      << second.status().message();
}

IndicatorRecord make_indicators(TimestampNs open_time, uint32_t revision, double sma,
                                bool provisional = false) {
  IndicatorRecord r;
  r.symbol = "BTC-USDT";
  r.timeframe = tf1m();
  r.open_time = open_time;
  r.close_time = open_time + kNsPerMin - kNsPerMs;
  r.candle_revision = revision;
  r.provisional = provisional;
  r.values = {{"sma20", sma}, {"rsi14", 50.0}};
  return r;
}

TEST(RocksCandleStore, IndicatorsKeepTheHighestRevisionAndPersistWithPositions) {
  TempDir dir;
  {
    auto store = open_store(dir.path());
    ASSERT_TRUE(store->write_indicators({make_indicators(kT0, 0, 1.0), make_indicators(kT0 + kNsPerMin, 0, 2.0),
                                         make_indicators(kT0 + 2 * kNsPerMin, 0, 9.0, /*provisional=*/true)},
                                        {{"historical", "processed.indicators", 3, 42}}));
    ASSERT_TRUE(store->write_indicators({make_indicators(kT0, 1, 1.5)}, {}));   // correction wins
    ASSERT_TRUE(store->write_indicators({make_indicators(kT0, 0, 7.0)}, {}));   // replay of rev 0 ignored
  }
  auto store = open_store(dir.path());  // reopened: durable
  EXPECT_EQ(*store->position("historical", "processed.indicators", 3), 42);
  IndicatorQuery q;
  q.symbol = "BTC-USDT";
  q.timeframe = tf1m();
  auto all = store->query_indicators(q);
  ASSERT_TRUE(all);
  ASSERT_EQ(all->size(), 2u);  // the provisional record is not stored
  EXPECT_EQ((*all)[0].candle_revision, 1u);
  EXPECT_EQ((*all)[0].values[0].second, 1.5);
  EXPECT_EQ((*all)[1].values[0].second, 2.0);
  q.names = {"rsi14"};
  q.start = kT0 + kNsPerMin;
  auto one = store->query_indicators(q);
  ASSERT_TRUE(one);
  ASSERT_EQ(one->size(), 1u);
  ASSERT_EQ((*one)[0].values.size(), 1u);
  EXPECT_EQ((*one)[0].values[0].first, "rsi14");
}

}  // namespace
}  // namespace tickflow::storage::embedded
