// QualityMonitor over the in-memory bus: reads raw.market-data from the end (or the committed
// position), feeds the checker, liveness evidence, metrics, committed positions, the thread.
#include "processing/quality/monitor.h"

#include <atomic>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "bus/testing/in_memory_bus.h"
#include "core/codec.h"
#include "core/topics.h"
#include "observability/metrics.h"
#include "processing/quality/tests/quality_test_util.h"

namespace tickflow::quality {
namespace {

using bus::testing::InMemoryBus;
using testutil::kT0;
using testutil::make_trade;

void publish(bus::EventBus& b, const Trade& t) {
  ASSERT_TRUE(b.publish(topics::kRawMarketData, instrument_key(t.exchange, t.symbol), codec::encode_trade(t)).is_ok());
}

const QualityReading* find(const std::vector<QualityReading>& rs, std::string_view scope, std::string_view symbol = "") {
  for (const auto& r : rs)
    if (r.scope == scope && r.symbol == symbol) return &r;
  return nullptr;
}

QualityMonitorConfig config_for(std::vector<std::string> symbols) {
  QualityMonitorConfig c;
  for (auto& s : symbols) c.series.emplace_back(Exchange::kBinance, s);
  c.tick_interval = kNsPerSec;
  return c;
}

TEST(QualityMonitorTest, StartsAtTheEndAndMeasuresNewTrades) {
  InMemoryBus b(InMemoryBus::InitialTopics::kDefault);
  ManualClock clock(kT0);
  // Backlog before the monitor starts: not measured (ids 1..3 then a gap to 10).
  for (int i = 1; i <= 3; ++i) publish(b, make_trade("BTC-USDT", i, "100", kT0));
  QualityMonitor m(b, config_for({"BTC-USDT", "ETH-USDT"}), clock);
  ASSERT_TRUE(m.run_once().is_ok());
  for (int i = 10; i <= 19; ++i) publish(b, make_trade("BTC-USDT", i, "100", kT0));
  publish(b, make_trade("BTC-USDT", 19, "100", kT0));  // duplicate
  auto r = m.run_once();
  ASSERT_TRUE(r.is_ok());
  EXPECT_EQ(*r, 11u);
  auto snap = m.snapshot();
  ASSERT_EQ(snap.size(), 3u);  // feed + the two configured series
  EXPECT_DOUBLE_EQ(find(snap, "series", "BTC-USDT")->score, 1.0 - 1.0 / 11.0);
  EXPECT_DOUBLE_EQ(find(snap, "series", "ETH-USDT")->score, 1.0);  // quiet, not stale
  EXPECT_EQ(find(snap, "series", "ETH-USDT")->last_data, 0);
  EXPECT_EQ(m.stats().trades, 11u);
  EXPECT_DOUBLE_EQ(m.overall_score(), 1.0 - 1.0 / 11.0);
}

TEST(QualityMonitorTest, ExportsMetricsAndCommitsPositionsOnTicks) {
  InMemoryBus b(InMemoryBus::InitialTopics::kDefault);
  ManualClock clock(kT0);
  QualityMonitor m(b, config_for({"SOL-USDT"}), clock);
  ASSERT_TRUE(m.run_once().is_ok());
  publish(b, make_trade("SOL-USDT", 1, "20", kT0));
  publish(b, make_trade("SOL-USDT", 5, "20", kT0));  // gap of 3
  ASSERT_TRUE(m.run_once().is_ok());
  clock.advance(2 * kNsPerSec);
  ASSERT_TRUE(m.run_once().is_ok());  // tick: metrics + positions
  const std::string text = obs::render_text();
  EXPECT_NE(text.find("tickflow_quality_score{exchange=\"binance\",scope=\"series\",symbol=\"SOL-USDT\"} 0.4"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("tickflow_quality_last_data_age_seconds{exchange=\"binance\",scope=\"feed\",symbol=\"\"} 2"),
            std::string::npos);
  EXPECT_NE(text.find("tickflow_quality_events_total{check=\"gap\",exchange=\"binance\"}"), std::string::npos);
  const auto key = instrument_key(Exchange::kBinance, "SOL-USDT");
  const int32_t p = topics::partition_for(key, b.topic(topics::kRawMarketData)->partitions);
  EXPECT_EQ(*b.committed_offset("quality", topics::kRawMarketData, p), *b.end_offset(topics::kRawMarketData, p));
}

TEST(QualityMonitorTest, FromCommittedResumesAtTheGroupPosition) {
  InMemoryBus b(InMemoryBus::InitialTopics::kDefault);
  ManualClock clock(kT0);
  for (int i = 1; i <= 4; ++i) publish(b, make_trade("BTC-USDT", i, "100", kT0));
  auto cfg = config_for({"BTC-USDT"});
  cfg.from_committed = true;  // never committed: from the start
  QualityMonitor m(b, cfg, clock);
  auto r = m.run_once();
  ASSERT_TRUE(r.is_ok());
  EXPECT_EQ(*r, 4u);
}

TEST(QualityMonitorTest, LivenessKeepsAQuietFeedFresh) {
  InMemoryBus b(InMemoryBus::InitialTopics::kDefault);
  ManualClock clock(kT0);
  std::atomic<uint64_t> frames{0};
  std::atomic<bool> connected{true};
  auto cfg = config_for({"BTC-USDT"});
  cfg.checker.stale_after = 5 * kNsPerMin;
  cfg.liveness = [&] { return std::vector<FeedLiveness>{{Exchange::kBinance, connected.load(), frames.load()}}; };
  QualityMonitor m(b, cfg, clock);
  ASSERT_TRUE(m.run_once().is_ok());
  // Ten minutes of frames (depth, pings...) but no trade: alive.
  for (int s = 0; s < 600; s += 30) {
    clock.advance(30 * kNsPerSec);
    frames += 10;
    ASSERT_TRUE(m.run_once().is_ok());
  }
  EXPECT_FALSE(find(m.snapshot(), "feed")->stale);
  // Frames stop (connected but silent): stale after stale_after.
  for (int s = 0; s < 330; s += 30) {
    clock.advance(30 * kNsPerSec);
    ASSERT_TRUE(m.run_once().is_ok());
  }
  auto snap = m.snapshot();
  EXPECT_TRUE(find(snap, "feed")->stale);
  EXPECT_TRUE(find(snap, "series", "BTC-USDT")->stale);
  EXPECT_DOUBLE_EQ(m.overall_score(), 0.0);
  EXPECT_NE(m.health().detail.find("1 stale feed"), std::string::npos) << m.health().detail;
}

TEST(QualityMonitorTest, ThreadMeasuresWithoutPolling) {
  InMemoryBus b(InMemoryBus::InitialTopics::kDefault);
  QualityMonitor m(b, config_for({"BTC-USDT"}), SystemClock::instance());
  ASSERT_TRUE(m.start().is_ok());
  const TimestampNs now = SystemClock::instance().now_ns();
  for (int i = 1; i <= 50; ++i) publish(b, make_trade("BTC-USDT", i, "100", now));
  ASSERT_TRUE(b.wait_until([&] { return m.stats().trades == 50; }));
  EXPECT_EQ(m.health().state, HealthState::kUp);
  EXPECT_DOUBLE_EQ(find(m.snapshot(), "series", "BTC-USDT")->score, 1.0);
  m.stop();
  m.stop();  // idempotent
}

TEST(QualityMonitorTest, BadConfigIsRejectedWithTheKey) {
  InMemoryBus b(InMemoryBus::InitialTopics::kDefault);
  auto cfg = config_for({"BTC-USDT"});
  cfg.checker.window_buckets = 0;
  QualityMonitor m(b, cfg, SystemClock::instance());
  Status s = m.start();
  EXPECT_FALSE(s.is_ok());
  EXPECT_NE(s.message().find("quality.window_buckets"), std::string::npos);
}

TEST(QualityMonitorTest, BookTopsReachTheChecker) {
  InMemoryBus b(InMemoryBus::InitialTopics::kDefault);
  ManualClock clock(kT0);
  QualityMonitor m(b, config_for({"BTC-USDT"}), clock);
  ASSERT_TRUE(m.run_once().is_ok());
  m.on_book_top(Exchange::kBinance, "BTC-USDT", Decimal(101, 0), Decimal(100, 0));
  m.on_book_top(Exchange::kBinance, "BTC-USDT", Decimal(99, 0), Decimal(100, 0));
  auto rep = m.report();
  ASSERT_GE(rep.size(), 2u);
  EXPECT_EQ(rep[1].total_counts[static_cast<size_t>(Check::kCrossedBook)], 1u);
  EXPECT_DOUBLE_EQ(rep[1].reading.score, 0.5);
}

}  // namespace
}  // namespace tickflow::quality
