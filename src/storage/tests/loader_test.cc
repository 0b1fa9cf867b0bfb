#include "storage/loader.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <thread>

#include "bus/factory.h"
#include "bus/tests/test_dir.h"
#include "core/codec.h"
#include "storage/factory.h"

namespace tickflow::storage {
namespace {

using testing_util::TempDir;

constexpr TimestampNs kT0 = 1628952360LL * kNsPerSec;

Candle make_candle(const std::string& symbol, int minute, const std::string& close,
                   CandleStatus status = CandleStatus::kFinal, uint32_t revision = 0) {
  Candle c;
  c.symbol = symbol;
  c.exchange_symbol = "X";
  c.timeframe = *Timeframe::parse("1m");
  c.open_time = kT0 + minute * kNsPerMin;
  c.close_time = c.open_time + kNsPerMin - kNsPerMs;
  c.open = c.high = c.low = c.close = *Decimal::parse(close);
  c.volume.add(*Decimal::parse("1"));
  c.trades = 1;
  c.status = status;
  c.revision = revision;
  return c;
}

struct Pipeline {
  explicit Pipeline(const std::string& dir) {
    bus::BusConfig bc;
    bc.data_dir = dir;
    bc.topics = {{std::string(topics::kNormalizedOhlcv), 4, 0},
                 {std::string(topics::kDlqMarketData), 1, 0}};
    auto b = bus::make_event_bus(bc);
    EXPECT_TRUE(b) << b.status().to_string();
    bus = std::move(b).value();
    StoreConfig sc;
    sc.data_dir = dir;
    auto s = make_candle_store(sc);
    EXPECT_TRUE(s) << s.status().to_string();
    store = std::move(s).value();
  }
  void publish(const Candle& c) {
    ASSERT_TRUE(bus->publish(topics::kNormalizedOhlcv, instrument_key(c.exchange, c.symbol),
                             codec::encode_candle(c))
                    .is_ok());
  }
  size_t drain(HistoricalLoader& loader) {
    size_t total = 0;
    for (;;) {
      auto r = loader.run_once();
      EXPECT_TRUE(r) << r.status().to_string();
      if (!r || *r == 0) return total;
      total += *r;
    }
  }
  std::vector<Candle> candles(const std::string& symbol) {
    CandleQuery q;
    q.symbol = symbol;
    q.timeframe = *Timeframe::parse("1m");
    q.limit = 100000;
    return store->query(q).value_or({});
  }
  int64_t records_behind() {
    int64_t n = 0;
    for (int32_t p = 0; p < 4; ++p) {
      n += *bus->end_offset(topics::kNormalizedOhlcv, p) -
           *store->position("historical", std::string(topics::kNormalizedOhlcv), p);
    }
    return n;
  }
  std::unique_ptr<bus::EventBus> bus;
  std::unique_ptr<CandleStore> store;
};

TEST(HistoricalLoader, StoresCandlesAndPositionsAndSendsGarbageToTheDlq) {
  TempDir dir;
  Pipeline pl(dir.path());
  const std::vector<std::string> symbols = {"BTC-USDT", "ETH-USDT", "SOL-USDT", "XRP-USDT",
                                            "ADA-USDT"};
  for (int m = 0; m < 30; ++m) {
    for (const auto& s : symbols) {
      pl.publish(make_candle(s, m, "1", CandleStatus::kProvisional));
      pl.publish(make_candle(s, m, std::to_string(m + 1)));
    }
  }
  ASSERT_TRUE(
      pl.bus->publish(topics::kNormalizedOhlcv, "binance:BTC-USDT", "garbage bytes").is_ok());

  LoaderConfig cfg;
  cfg.max_batch_records = 64;  // several batches
  HistoricalLoader loader(*pl.bus, *pl.store, cfg);
  EXPECT_FALSE(loader.caught_up());
  EXPECT_EQ(pl.drain(loader), 301u);
  EXPECT_TRUE(loader.caught_up());
  EXPECT_EQ(loader.lag(), 0);
  EXPECT_EQ(loader.candles_written(), 300u);
  EXPECT_EQ(loader.undecodable(), 1u);
  EXPECT_EQ(pl.records_behind(), 0);
  for (const auto& s : symbols) {
    auto cs = pl.candles(s);
    ASSERT_EQ(cs.size(), 30u) << s;
    for (int m = 0; m < 30; ++m) {
      EXPECT_EQ(cs[m].close.to_string(), std::to_string(m + 1));
      EXPECT_EQ(cs[m].status, CandleStatus::kFinal);
    }
  }
  std::vector<bus::Record> dlq;
  ASSERT_TRUE(pl.bus->read(topics::kDlqMarketData, 0, 0, 100, dlq).is_ok());
  ASSERT_EQ(dlq.size(), 1u);
  auto dead = codec::decode_dead_letter(dlq[0].value);
  ASSERT_TRUE(dead) << dead.status().to_string();
  EXPECT_EQ(dead->reason, "undecodable");
  EXPECT_EQ(dead->source_topic, topics::kNormalizedOhlcv);
  EXPECT_EQ(dead->exchange, "binance");
  EXPECT_EQ(dead->payload, "garbage bytes");
  EXPECT_EQ(loader.health().state, HealthState::kUp);
  EXPECT_EQ(loader.health().name, "historical");
}

TEST(HistoricalLoader, RestartResumesFromStoredPositionsWithoutDuplicates) {
  TempDir dir;
  {
    Pipeline pl(dir.path());
    for (int m = 0; m < 10; ++m) pl.publish(make_candle("BTC-USDT", m, std::to_string(m + 1)));
    HistoricalLoader loader(*pl.bus, *pl.store);
    EXPECT_EQ(pl.drain(loader), 10u);
    // More data arrives after the loader stopped.
    for (int m = 10; m < 15; ++m) pl.publish(make_candle("BTC-USDT", m, std::to_string(m + 1)));
    pl.publish(make_candle("BTC-USDT", 2, "300", CandleStatus::kCorrected, 1));
  }
  Pipeline pl(dir.path());  // reopened bus and store (a process restart)
  HistoricalLoader loader(*pl.bus, *pl.store);
  EXPECT_FALSE(loader.caught_up());
  EXPECT_EQ(pl.drain(loader), 6u);  // only the new records are read again
  EXPECT_EQ(loader.candles_written(), 6u);
  EXPECT_TRUE(loader.caught_up());
  auto cs = pl.candles("BTC-USDT");
  ASSERT_EQ(cs.size(), 15u);
  EXPECT_EQ(cs[2].close.to_string(), "300");
  EXPECT_EQ(cs[2].revision, 1u);
  EXPECT_EQ(cs[14].close.to_string(), "15");
  // Nothing left: a further run does nothing.
  EXPECT_EQ(*loader.run_once(), 0u);
}

TEST(HistoricalLoader, WorkerFollowsTheTopicAndStopsPromptly) {
  TempDir dir;
  Pipeline pl(dir.path());
  HistoricalLoader loader(*pl.bus, *pl.store);
  loader.stop();  // safe before start
  ASSERT_TRUE(loader.start().is_ok());
  ASSERT_TRUE(loader.start().is_ok());  // idempotent
  for (int m = 0; m < 50; ++m) pl.publish(make_candle("ETH-USDT", m, "2"));
  // Wait on the condition (the worker wakes on wait_for_data), with a generous deadline.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (pl.candles("ETH-USDT").size() < 50u && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::yield();
  }
  EXPECT_EQ(pl.candles("ETH-USDT").size(), 50u);
  const auto t0 = std::chrono::steady_clock::now();
  loader.stop();  // the worker is blocked in wait_for_data (idle_wait 1 s): stop wakes it
  loader.stop();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::milliseconds(900));
  EXPECT_TRUE(loader.caught_up());
  EXPECT_EQ(pl.records_behind(), 0);
}

TEST(HistoricalLoader, StartFailsOnAMissingTopic) {
  TempDir dir;
  Pipeline pl(dir.path());
  LoaderConfig cfg;
  cfg.topic = "no.such.topic";
  HistoricalLoader loader(*pl.bus, *pl.store, cfg);
  EXPECT_FALSE(loader.start().is_ok());
  EXPECT_FALSE(loader.run_once());
}

}  // namespace
}  // namespace tickflow::storage

namespace tickflow::storage {
namespace {

TEST(HistoricalLoader, Throughput) {
  TempDir dir;
  Pipeline pl(dir.path());
  const int kSymbols = 20;
  const int kMinutes = 500;  // 2 updates each: 20,000 records
  for (int m = 0; m < kMinutes; ++m) {
    auto txn = pl.bus->begin();
    for (int s = 0; s < kSymbols; ++s) {
      for (auto status : {CandleStatus::kProvisional, CandleStatus::kFinal}) {
        Candle c = make_candle("S" + std::to_string(s) + "-USDT", m, "1.5", status);
        txn->append(topics::kNormalizedOhlcv, instrument_key(c.exchange, c.symbol),
                    codec::encode_candle(c));
      }
    }
    ASSERT_TRUE(txn->commit().is_ok());
  }
  HistoricalLoader loader(*pl.bus, *pl.store);
  const auto t0 = std::chrono::steady_clock::now();
  const std::clock_t c0 = std::clock();
  EXPECT_EQ(pl.drain(loader), static_cast<size_t>(kSymbols * kMinutes * 2));
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const double cpu = static_cast<double>(std::clock() - c0) / CLOCKS_PER_SEC;
  std::printf("[ perf ] historical loader: %.0f candle updates/s wall, %.0f per CPU-second\n",
              kSymbols * kMinutes * 2 / secs, kSymbols * kMinutes * 2 / cpu);
  EXPECT_TRUE(loader.caught_up());
  EXPECT_EQ(pl.candles("S7-USDT").size(), static_cast<size_t>(kMinutes));
}

}  // namespace
}  // namespace tickflow::storage
