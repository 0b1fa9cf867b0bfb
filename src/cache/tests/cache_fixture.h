// Shared fixture of the cache tests: a real redis-server, the in-memory bus with the cached
// topics, a real embedded candle store in a temp dir, the Redis cache and a CacheWriter.
// Thread-safety: one test thread.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "bus/testing/in_memory_bus.h"
#include "bus/tests/test_dir.h"
#include "cache/cache_writer.h"
#include "cache/redis/redis_latest_cache.h"
#include "core/codec.h"
#include "storage/factory.h"
#include "tests/servers/redis_server.h"

namespace tickflow::cache::testing {

constexpr TimestampNs kT0 = 1628952360LL * kNsPerSec;  // 2021-08-14T14:46:00Z

inline Candle make_candle(const std::string& symbol, int minute, const std::string& close,
                          CandleStatus status = CandleStatus::kFinal, uint32_t revision = 0, int64_t trades = 1,
                          const std::string& timeframe = "1m") {
  Candle c;
  c.symbol = symbol;
  c.exchange_symbol = "X";
  c.timeframe = *Timeframe::parse(timeframe);
  c.open_time = kT0 + minute * kNsPerMin;
  c.close_time = c.open_time + c.timeframe.duration_ns() - kNsPerMs;
  c.open = c.high = c.low = c.close = *Decimal::parse(close);
  c.volume.add(*Decimal::parse("1"));
  c.trades = trades;
  c.first_trade_id = 1;
  c.last_trade_id = trades;
  c.status = status;
  c.revision = revision;
  return c;
}

inline IndicatorRecord make_indicators(const std::string& symbol, int minute, double rsi, bool provisional = false) {
  IndicatorRecord r;
  r.symbol = symbol;
  r.timeframe = *Timeframe::parse("1m");
  r.open_time = kT0 + minute * kNsPerMin;
  r.close_time = r.open_time + kNsPerMin - kNsPerMs;
  r.provisional = provisional;
  r.values = {{"rsi_14", rsi}, {"sma_20", 100.5}};
  return r;
}

class CacheFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(server_.start()) << server_.error();
    for (auto t : {topics::kNormalizedOhlcv, topics::kProcessedIndicators, topics::kProcessedAlerts})
      ASSERT_TRUE(bus_.create_topic({std::string(t), 4, 0}).is_ok());
    storage::StoreConfig sc;
    sc.data_dir = dir_.path();
    auto s = storage::make_candle_store(sc);
    ASSERT_TRUE(s) << s.status().to_string();
    store_ = std::move(s).value();
    redis::RedisCacheConfig rc;
    rc.client.url = redis::RedisUrl::parse(server_.url()).value();
    rc.client.backoff_initial = 20 * kNsPerMs;
    rc.client.backoff_max = 200 * kNsPerMs;
    cache_ = std::make_unique<redis::RedisLatestCache>(rc);
    writer_config_.marker_check = 0;  // check the marker on every batch
    writer_config_.backoff_initial = 10 * kNsPerMs;
    writer_config_.backoff_max = 100 * kNsPerMs;
  }

  CacheWriter& writer() {
    if (!writer_) writer_ = std::make_unique<CacheWriter>(bus_, *cache_, store_.get(), writer_config_);
    return *writer_;
  }
  void publish(const Candle& c) {
    ASSERT_TRUE(bus_.publish(topics::kNormalizedOhlcv, instrument_key(c.exchange, c.symbol), codec::encode_candle(c))
                    .is_ok());
  }
  void publish(const IndicatorRecord& r) {
    ASSERT_TRUE(bus_.publish(topics::kProcessedIndicators, instrument_key(r.exchange, r.symbol),
                             codec::encode_indicators(r))
                    .is_ok());
  }
  void publish(const Alert& a) {
    ASSERT_TRUE(bus_.publish(topics::kProcessedAlerts, a.exchange + ":" + a.symbol, codec::encode_alert(a)).is_ok());
  }
  // Runs batches until caught up; false when a batch fails.
  bool drain() {
    for (int i = 0; i < 1000; ++i) {
      auto r = writer().run_once();
      if (!r) {
        last_error_ = r.status().to_string();
        return false;
      }
      if (*r == 0) return true;
    }
    return false;
  }
  std::optional<std::string> cached_candle(const std::string& symbol, const std::string& tf = "1m") {
    auto snap = cache_->get("binance", symbol, tf);
    EXPECT_TRUE(snap) << snap.status().to_string();
    return snap ? snap->candle : std::nullopt;
  }
  static bool has(const std::optional<std::string>& json, const std::string& needle) {
    return json && json->find(needle) != std::string::npos;
  }

  tickflow::testing::RedisServer server_;
  testing_util::TempDir dir_;
  bus::testing::InMemoryBus bus_;
  std::unique_ptr<storage::CandleStore> store_;
  std::unique_ptr<redis::RedisLatestCache> cache_;
  CacheWriterConfig writer_config_;
  std::unique_ptr<CacheWriter> writer_;
  std::string last_error_;
};

}  // namespace tickflow::cache::testing
