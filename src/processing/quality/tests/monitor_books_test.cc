// QualityMonitor over raw.orderbook: crossed snapshots count as crossed_book findings of their
// feed and series (score, tickflow_quality_events_total), positions committed for the topic,
// snapshots published before the start are not measured.
#include <gtest/gtest.h>

#include "bus/testing/in_memory_bus.h"
#include "core/codec.h"
#include "core/topics.h"
#include "observability/metrics.h"
#include "processing/quality/monitor.h"

namespace tickflow::quality {
namespace {

using bus::testing::InMemoryBus;

constexpr TimestampNs kT0 = 1628952395768LL * kNsPerMs;

BookSnapshot snapshot(int second, bool crossed) {
  BookSnapshot b;
  b.symbol = "FTM-USDT";
  b.exchange_symbol = "FTMUSDT";
  b.sequence = 800360968 + second;
  b.bids = {{*Decimal::parse("0.33988000"), *Decimal::parse("1500.00000000")}};
  b.asks = {{*Decimal::parse(crossed ? "0.33900000" : "0.34034000"), *Decimal::parse("2746.10000000")}};
  b.depth = 20;
  b.crossed = crossed;
  b.ts_event = b.ts_recv = kT0 + second * kNsPerSec;
  return b;
}

void publish(bus::EventBus& bus, const BookSnapshot& b) {
  ASSERT_TRUE(bus.publish(topics::kRawOrderbook, instrument_key(b.exchange, b.symbol), codec::encode_book(b)));
}

TEST(QualityMonitorBooks, CrossedSnapshotsLowerTheScoreAndAreCounted) {
  InMemoryBus bus(InMemoryBus::InitialTopics::kDefault);
  ManualClock clock(kT0);
  publish(bus, snapshot(-1, true));  // before the start: not measured
  QualityMonitorConfig cfg;
  cfg.series.emplace_back(Exchange::kBinance, "FTM-USDT");
  QualityMonitor m(bus, cfg, clock);
  ASSERT_TRUE(m.run_once());
  for (int s = 0; s < 4; ++s) publish(bus, snapshot(s, s == 2));
  auto r = m.run_once();
  ASSERT_TRUE(r) << r.status().to_string();
  EXPECT_EQ(*r, 4u);
  EXPECT_EQ(m.stats().book_snapshots, 4u);
  EXPECT_EQ(m.stats().crossed_books, 1u);
  double series_score = 1, feed_score = 1;
  for (const auto& reading : m.snapshot()) {
    if (reading.scope == "series" && reading.symbol == "FTM-USDT") series_score = reading.score;
    if (reading.scope == "feed" && reading.exchange == "binance") feed_score = reading.score;
  }
  EXPECT_LT(series_score, 1.0);
  EXPECT_LT(feed_score, 1.0);

  clock.advance(2 * kNsPerSec);
  ASSERT_TRUE(m.run_once());  // tick: metrics + positions
  EXPECT_NE(obs::render_text().find(R"(tickflow_quality_events_total{check="crossed_book",exchange="binance"} 1)"),
            std::string::npos)
      << obs::render_text();
  const int32_t p = topics::partition_for("binance:FTM-USDT", bus.topic(topics::kRawOrderbook)->partitions);
  EXPECT_EQ(*bus.committed_offset("quality", topics::kRawOrderbook, p), *bus.end_offset(topics::kRawOrderbook, p));
}

TEST(QualityMonitorBooks, CreatesRawOrderbookWhenMissing) {
  InMemoryBus bus(InMemoryBus::InitialTopics::kNone);
  ManualClock clock(kT0);
  QualityMonitor m(bus, QualityMonitorConfig{}, clock);
  ASSERT_TRUE(m.run_once());
  EXPECT_TRUE(bus.topic(topics::kRawOrderbook).is_ok());
}

}  // namespace
}  // namespace tickflow::quality
