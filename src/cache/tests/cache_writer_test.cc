// CacheWriter against a real redis-server: newest value per key, ranks that never go back,
// TTLs, coalescing, an outage (position kept, catch-up after), and rebuilds after a flush.
#include "cache/cache_writer.h"

#include <gtest/gtest.h>

#include "cache/tests/cache_fixture.h"
#include "observability/metrics.h"

namespace tickflow::cache {
namespace {

using testing::CacheFixture;
using testing::kT0;
using testing::make_candle;
using testing::make_indicators;
using tickflow::testing::resp_integer;
using tickflow::testing::wait_until;

class CacheWriterTest : public CacheFixture {};

TEST_F(CacheWriterTest, NewestValueWinsAndIsServedAsTheApiJson) {
  publish(make_candle("BTC-USDT", 5, "100", CandleStatus::kProvisional, 0, 1));
  publish(make_candle("BTC-USDT", 5, "101", CandleStatus::kProvisional, 0, 3));
  publish(make_candle("ETH-USDT", 2, "7", CandleStatus::kFinal));
  ASSERT_TRUE(drain()) << last_error_;
  auto btc = cached_candle("BTC-USDT");
  ASSERT_TRUE(btc);
  EXPECT_TRUE(has(btc, "\"close\":\"101\"")) << *btc;
  EXPECT_TRUE(has(btc, "\"trades\":3")) << *btc;
  EXPECT_TRUE(has(btc, "\"status\":\"provisional\"")) << *btc;
  EXPECT_TRUE(has(btc, "\"open_time\":\"2021-08-14T14:51:00.000Z\"")) << *btc;
  EXPECT_TRUE(has(cached_candle("ETH-USDT"), "\"close\":\"7\""));
  // The window closes, then the next one opens: the newest window is the latest.
  publish(make_candle("BTC-USDT", 5, "102", CandleStatus::kFinal, 0, 4));
  publish(make_candle("BTC-USDT", 6, "103", CandleStatus::kProvisional, 0, 1));
  ASSERT_TRUE(drain()) << last_error_;
  EXPECT_TRUE(has(cached_candle("BTC-USDT"), "\"close\":\"103\""));
}

TEST_F(CacheWriterTest, OlderValuesNeverOverwriteNewerOnes) {
  publish(make_candle("BTC-USDT", 5, "200", CandleStatus::kCorrected, 1, 4));
  ASSERT_TRUE(drain()) << last_error_;
  // Later batches bring older things: an older revision, the provisional update, an older window.
  publish(make_candle("BTC-USDT", 5, "150", CandleStatus::kFinal, 0, 3));
  ASSERT_TRUE(drain()) << last_error_;
  publish(make_candle("BTC-USDT", 5, "140", CandleStatus::kProvisional, 0, 2));
  publish(make_candle("BTC-USDT", 4, "130", CandleStatus::kCorrected, 5, 9));
  ASSERT_TRUE(drain()) << last_error_;
  auto c = cached_candle("BTC-USDT");
  EXPECT_TRUE(has(c, "\"close\":\"200\"")) << c.value_or("none");
  EXPECT_TRUE(has(c, "\"revision\":1"));
  // A newer revision of the same window does replace it.
  publish(make_candle("BTC-USDT", 5, "210", CandleStatus::kCorrected, 2, 5));
  ASSERT_TRUE(drain()) << last_error_;
  EXPECT_TRUE(has(cached_candle("BTC-USDT"), "\"close\":\"210\""));
}

TEST_F(CacheWriterTest, CoalescesABatchToOneWritePerKey) {
  for (int i = 1; i <= 50; ++i) publish(make_candle("BTC-USDT", 5, std::to_string(100 + i), CandleStatus::kProvisional, 0, i));
  for (int i = 1; i <= 20; ++i) publish(make_candle("ETH-USDT", 5, std::to_string(i), CandleStatus::kProvisional, 0, i));
  ASSERT_TRUE(drain()) << last_error_;
  EXPECT_EQ(writer().keys_written(), 2u);
  EXPECT_TRUE(has(cached_candle("BTC-USDT"), "\"close\":\"150\""));
  EXPECT_TRUE(has(cached_candle("ETH-USDT"), "\"close\":\"20\""));
  EXPECT_EQ(writer().lag(), 0);
  EXPECT_TRUE(writer().caught_up());
}

TEST_F(CacheWriterTest, SetsTtlFromTheTimeframe) {
  publish(make_candle("BTC-USDT", 5, "100"));
  publish(make_candle("BTC-USDT", 0, "100", CandleStatus::kFinal, 0, 1, "1h"));
  publish(make_indicators("BTC-USDT", 5, 55.5));
  ASSERT_TRUE(drain()) << last_error_;
  // Default policy: 2 x timeframe + 60 s.
  auto pttl_1m = resp_integer(server_.command({"PTTL", cache_->key("candle", "binance", "BTC-USDT", "1m")}));
  auto pttl_1h = resp_integer(server_.command({"PTTL", cache_->key("candle", "binance", "BTC-USDT", "1h")}));
  auto pttl_ind = resp_integer(server_.command({"PTTL", cache_->key("indicators", "binance", "BTC-USDT", "1m")}));
  ASSERT_TRUE(pttl_1m && pttl_1h && pttl_ind);
  EXPECT_LE(*pttl_1m, 180'000);
  EXPECT_GT(*pttl_1m, 120'000);
  EXPECT_LE(*pttl_1h, 7'260'000);
  EXPECT_GT(*pttl_1h, 7'200'000);
  EXPECT_LE(*pttl_ind, 180'000);
  EXPECT_GT(*pttl_ind, 120'000);
  // The marker has no TTL (-1).
  EXPECT_EQ(resp_integer(server_.command({"PTTL", "tickflow:latest:built"})), -1);
}

TEST_F(CacheWriterTest, CachesIndicatorsAndAlertsPerSeries) {
  publish(make_indicators("BTC-USDT", 4, 40.0));
  publish(make_indicators("BTC-USDT", 5, 61.25, true));
  Alert a;
  a.alert_id = "rsi-high:binance:BTC-USDT:1m:1";
  a.rule = "rsi-high";
  a.kind = "threshold";
  a.exchange = "binance";
  a.symbol = "BTC-USDT";
  a.timeframe = "1m";
  a.ts_event = kT0 + 5 * kNsPerMin;
  a.value = 71;
  a.threshold = 70;
  a.message = "RSI above 70";
  publish(a);
  Alert older = a;
  older.alert_id = "old";
  older.ts_event = kT0;
  publish(older);
  ASSERT_TRUE(drain()) << last_error_;
  auto snap = cache_->get("binance", "BTC-USDT", "1m");
  ASSERT_TRUE(snap);
  ASSERT_TRUE(snap->indicators);
  EXPECT_TRUE(has(snap->indicators, "\"rsi_14\":61.25")) << *snap->indicators;
  EXPECT_TRUE(has(snap->indicators, "\"provisional\":true"));
  ASSERT_TRUE(snap->alert);
  EXPECT_TRUE(has(snap->alert, "\"alert_id\":\"rsi-high:binance:BTC-USDT:1m:1\"")) << *snap->alert;
  EXPECT_FALSE(snap->candle);
}

TEST_F(CacheWriterTest, RedisDownKeepsThePositionAndCatchesUpWhenBack) {
  publish(make_candle("BTC-USDT", 1, "100"));
  ASSERT_TRUE(drain()) << last_error_;
  server_.kill();
  publish(make_candle("BTC-USDT", 2, "101"));
  publish(make_candle("BTC-USDT", 3, "102"));
  auto r = writer().run_once();
  ASSERT_FALSE(r);
  EXPECT_TRUE(r.status().retryable()) << r.status().to_string();
  EXPECT_FALSE(writer().caught_up());
  EXPECT_EQ(cache_->health().state, HealthState::kDegraded);
  EXPECT_EQ(cache_->health().detail.rfind("down: ", 0), 0u) << cache_->health().detail;
  // Nothing committed for the failed batch: the group's positions still point before 101/102.
  int64_t committed = 0, end = 0;
  for (int32_t p = 0; p < 4; ++p) {
    committed += bus_.committed_offset("cache", std::string(topics::kNormalizedOhlcv), p).value();
    end += bus_.end_offset(topics::kNormalizedOhlcv, p).value();
  }
  EXPECT_EQ(end - committed, 2);
  EXPECT_EQ(writer().lag(), 2);  // the lag (a metric) counts what waits for the cache
  EXPECT_NE(obs::render_text().find("tickflow_cache_lag_records 2"), std::string::npos);

  // Redis comes back empty (no persistence in the test): the writer rebuilds and catches up.
  ASSERT_TRUE(server_.restart()) << server_.error();
  ASSERT_TRUE(wait_until([&] { return drain(); }, std::chrono::seconds(30))) << last_error_;
  EXPECT_TRUE(has(cached_candle("BTC-USDT"), "\"close\":\"102\""));
  EXPECT_EQ(cache_->health().state, HealthState::kUp);
  EXPECT_TRUE(writer().caught_up());
}

TEST_F(CacheWriterTest, FlushedCacheIsRebuiltFromTheStore) {
  // History in the store only (e.g. written by the historical loader before this process).
  ASSERT_TRUE(store_->write({make_candle("BTC-USDT", 7, "300"), make_candle("BTC-USDT", 8, "301"),
                             make_candle("SOL-USDT", 3, "20", CandleStatus::kFinal, 0, 1, "5m")},
                            {})
                  .is_ok());
  ASSERT_TRUE(store_->write_indicators({make_indicators("BTC-USDT", 8, 33.5)}, {}).is_ok());
  ASSERT_TRUE(drain()) << last_error_;  // start: no marker yet → rebuild
  EXPECT_EQ(writer().rebuilds(), 1u);
  EXPECT_TRUE(has(cached_candle("BTC-USDT"), "\"close\":\"301\""));
  EXPECT_TRUE(has(cached_candle("SOL-USDT", "5m"), "\"close\":\"20\""));

  ASSERT_EQ(server_.command({"FLUSHALL"}), "+OK\r\n");
  EXPECT_FALSE(cache_->get("binance", "BTC-USDT", "1m")->candle);
  ASSERT_TRUE(drain()) << last_error_;
  EXPECT_EQ(writer().rebuilds(), 2u);
  auto snap = cache_->get("binance", "BTC-USDT", "1m");
  ASSERT_TRUE(snap);
  EXPECT_TRUE(has(snap->candle, "\"close\":\"301\""));
  EXPECT_TRUE(has(snap->indicators, "\"rsi_14\":33.5"));
  // A rebuild never moves a key back: newer streamed values stay.
  publish(make_candle("BTC-USDT", 9, "302", CandleStatus::kProvisional));
  ASSERT_TRUE(drain()) << last_error_;
  ASSERT_TRUE(writer().rebuild());
  EXPECT_TRUE(has(cached_candle("BTC-USDT"), "\"close\":\"302\""));
}

TEST_F(CacheWriterTest, WorkerFollowsTheStreamAndSurvivesAnOutage) {
  writer_config_.marker_check = 50 * kNsPerMs;
  ASSERT_TRUE(writer().start().is_ok());
  publish(make_candle("BTC-USDT", 1, "100"));
  ASSERT_TRUE(wait_until([&] { return has(cached_candle("BTC-USDT"), "\"close\":\"100\""); },
                         std::chrono::seconds(20)));
  server_.kill();
  publish(make_candle("BTC-USDT", 2, "101"));
  ASSERT_TRUE(wait_until([&] { return writer().health().state == HealthState::kDegraded; }, std::chrono::seconds(20)));
  ASSERT_TRUE(server_.restart()) << server_.error();
  ASSERT_TRUE(wait_until([&] {
    auto snap = cache_->get("binance", "BTC-USDT", "1m");
    return snap && has(snap->candle, "\"close\":\"101\"");
  }, std::chrono::seconds(30)));
  ASSERT_TRUE(wait_until([&] { return writer().health().state == HealthState::kUp; }, std::chrono::seconds(20)));
  writer().stop();
  writer().stop();  // idempotent
}

}  // namespace
}  // namespace tickflow::cache
