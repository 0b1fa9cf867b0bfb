#include "processing/alerts/processor.h"

#include <algorithm>
#include <mutex>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "bus/testing/in_memory_bus.h"
#include "core/clock.h"
#include "core/codec.h"
#include "core/topics.h"
#include "processing/alerts/tests/alert_test_support.h"

namespace tickflow::processing::alerts {
namespace {

using namespace testing;  // NOLINT
using bus::testing::InMemoryBus;

constexpr auto kDefault = InMemoryBus::InitialTopics::kDefault;

std::vector<AlertRule> stage_rules() {
  AlertRule cross = rule("cross", RuleKind::kCrossAbove);
  cross.level = 100;
  AlertRule rsi = rule("rsi", RuleKind::kRsiOverbought);
  AlertRule stale = rule("stale", RuleKind::kStaleFeed, "");
  std::vector<AlertRule> rs{cross, rsi, stale};
  EXPECT_FALSE(validate_rules(rs).has_value());
  return rs;
}

void publish(InMemoryBus& bus, const Candle& c) {
  ASSERT_TRUE(bus.publish(topics::kNormalizedOhlcv, instrument_key(c.exchange, c.symbol), codec::encode_candle(c)).is_ok());
}

void publish(InMemoryBus& bus, const IndicatorRecord& r) {
  ASSERT_TRUE(
      bus.publish(topics::kProcessedIndicators, instrument_key(r.exchange, r.symbol), codec::encode_indicators(r)).is_ok());
}

// Closes alternating around 100 on two symbols, RSI alternating around 70.
void publish_input(InMemoryBus& bus, int from, int to) {
  for (int i = from; i < to; ++i) {
    const char* close = (i % 4 < 2) ? "98" : "103";
    publish(bus, candle(i, close, "1", CandleStatus::kProvisional));
    publish(bus, candle(i, close));
    publish(bus, candle(i, close, "1", CandleStatus::kFinal, "ETH-USDT"));
    publish(bus, indicators(i, {{"rsi14", (i % 6 < 3) ? 60.0 : 75.0}}));
  }
}

std::vector<std::string> alert_ids(const InMemoryBus& bus) {
  std::vector<std::string> ids;
  for (const auto& rec : bus.records(topics::kProcessedAlerts)) {
    auto a = codec::decode_alert(rec.value);
    EXPECT_TRUE(a.is_ok());
    if (a) ids.push_back(a->alert_id);
  }
  return ids;
}

// Sorted per key order is what matters (one series per partition): compare as sorted sets plus
// a no-duplicate check.
std::vector<std::string> sorted(std::vector<std::string> v) {
  std::sort(v.begin(), v.end());
  return v;
}

void drain(AlertProcessor& p) {
  for (;;) {
    auto r = p.run_once();
    ASSERT_TRUE(r.is_ok()) << r.status().to_string();
    if (*r == 0) return;
  }
}

TEST(AlertProcessor, PublishesTransitionsAndCommitsOffsetsWithThem) {
  InMemoryBus bus(kDefault);
  ManualClock clock;
  clock.set(kT0);
  publish_input(bus, 0, 12);
  AlertProcessorConfig cfg;
  cfg.rules = stage_rules();
  AlertProcessor proc(bus, cfg, clock);
  drain(proc);
  auto ids = alert_ids(bus);
  // cross: 2 symbols × fires at bars 2, 6, 10 and resolves at 4, 8. rsi: fires at 3, 9, resolves at 6.
  EXPECT_EQ(ids.size(), 2u * 5u + 3u);
  EXPECT_EQ(std::count(ids.begin(), ids.end(), "cross:binance:ETH-USDT:1m:" +
                                                      std::to_string((kT0 + 2 * kMin) / kNsPerMs) + ":firing"),
            1);
  EXPECT_TRUE(proc.caught_up());
  auto st = proc.stats();
  EXPECT_EQ(st.firing, 2u * 3u + 2u);
  EXPECT_EQ(st.resolved, 2u * 2u + 1u);
  EXPECT_EQ(st.records, 12u * 4u);
  // Keys: one series per partition.
  for (const auto& rec : bus.records(topics::kProcessedAlerts)) EXPECT_EQ(rec.key.rfind("binance:", 0), 0u);
}

TEST(AlertProcessor, RestartAndCrashesGiveTheAlertsOfAnUninterruptedRun) {
  ManualClock clock;
  clock.set(kT0);
  InMemoryBus reference(kDefault);
  publish_input(reference, 0, 40);
  {
    AlertProcessorConfig cfg;
    cfg.rules = stage_rules();
    AlertProcessor proc(reference, cfg, clock);
    drain(proc);
  }
  const auto expected = alert_ids(reference);
  ASSERT_GE(expected.size(), 20u);

  InMemoryBus bus(kDefault);
  AlertProcessorConfig cfg;
  cfg.rules = stage_rules();
  cfg.max_batch = 7;  // many small transactions
  publish_input(bus, 0, 20);
  {
    AlertProcessor proc(bus, cfg, clock);
    for (int i = 0; i < 5; ++i) ASSERT_TRUE(proc.run_once().is_ok());
  }  // restart
  {
    AlertProcessor proc(bus, cfg, clock);
    ASSERT_TRUE(proc.run_once().is_ok());
    // A crash: the next commit fails (not retryable), the processor stops with nothing applied.
    bus.fail_commits(Status::io_error("disk full"));
    EXPECT_FALSE(proc.run_once().is_ok());
    EXPECT_EQ(proc.health().state, HealthState::kDown);
    EXPECT_FALSE(proc.run_once().is_ok());
  }
  publish_input(bus, 20, 40);
  {
    AlertProcessor proc(bus, cfg, clock);
    ASSERT_TRUE(proc.run_once().is_ok());
    bus.fail_commits(Status::unavailable("busy"), 2);  // retryable: the same batch again
    EXPECT_FALSE(proc.run_once().is_ok());
    EXPECT_FALSE(proc.run_once().is_ok());
    drain(proc);
  }
  EXPECT_EQ(alert_ids(bus).size(), expected.size());
  EXPECT_EQ(sorted(alert_ids(bus)), sorted(expected));
}

TEST(AlertProcessor, ThreadedQualityRulesOnTheTimer) {
  InMemoryBus bus(kDefault);
  ManualClock clock;
  clock.set(kT0);
  std::mutex mu;
  QualityReading feed{"feed", "binance", "", 1.0, kT0, false};
  auto source = [&] {
    std::lock_guard lock(mu);
    return std::vector<QualityReading>{feed};
  };
  AlertProcessorConfig cfg;
  cfg.rules = stage_rules();
  cfg.quality_interval = kNsPerSec;
  AlertProcessor proc(bus, cfg, clock, source);
  ASSERT_TRUE(proc.start().is_ok());
  {
    std::lock_guard lock(mu);
    feed.stale = true;
  }
  clock.advance(6 * kMin);
  ASSERT_TRUE(bus.wait_until([&] { return bus.count(topics::kProcessedAlerts) == 1; }, std::chrono::seconds(30)));
  publish_input(bus, 0, 4);  // candles keep flowing through the same stage
  ASSERT_TRUE(bus.wait_until([&] { return proc.caught_up(); }, std::chrono::seconds(30)));
  {
    std::lock_guard lock(mu);
    feed.stale = false;
    feed.last_data = kT0 + 6 * kMin;
  }
  clock.advance(kNsPerSec);
  ASSERT_TRUE(bus.wait_until(
      [&] {
        auto ids = alert_ids(bus);
        return std::find(ids.begin(), ids.end(), "stale:binance:" + std::to_string(kT0 / kNsPerMs) + ":resolved") !=
               ids.end();
      },
      std::chrono::seconds(30)));
  proc.stop();
  auto ids = alert_ids(bus);
  EXPECT_EQ(std::count(ids.begin(), ids.end(), "stale:binance:" + std::to_string(kT0 / kNsPerMs) + ":firing"), 1);
  EXPECT_EQ(proc.health().name, "alerts");
}

int64_t committed_records(const InMemoryBus& bus, std::string_view group, std::string_view topic) {
  int64_t n = 0;
  auto t = bus.topic(topic);
  for (int32_t p = 0; t && p < t->partitions; ++p) n += *bus.committed_offset(group, topic, p);
  return n;
}

// A live rule sees the newest provisional update of each series in a batch; closed candles are
// evaluated in order. Superseded updates are skipped, and so are all provisional updates when
// no rule is live.
TEST(AlertProcessor, LiveRulesEvaluateTheNewestProvisionalUpdateOfEachSeries) {
  InMemoryBus bus(kDefault);
  ManualClock clock;
  clock.set(kT0);
  AlertRule cross = rule("cross", RuleKind::kCrossAbove);
  cross.level = 100;
  cross.confirm = Confirm::kLive;
  AlertProcessorConfig cfg;
  cfg.rules = {validated(cross)};
  AlertProcessor proc(bus, cfg, clock);
  for (const char* symbol : {"BTC-USDT", "ETH-USDT", "SOL-USDT"}) publish(bus, candle(0, "98", "1", CandleStatus::kFinal, symbol));
  ASSERT_TRUE(proc.run_once().is_ok());  // every series armed below the level
  // BTC flaps above and back within the batch: only its newest update (99) is evaluated.
  publish(bus, candle(1, "103", "1", CandleStatus::kProvisional, "BTC-USDT"));
  publish(bus, candle(1, "98", "1", CandleStatus::kProvisional, "BTC-USDT"));
  publish(bus, candle(1, "99", "1", CandleStatus::kProvisional, "BTC-USDT"));
  // ETH ends above: fires on the newest update.
  publish(bus, candle(1, "98", "1", CandleStatus::kProvisional, "ETH-USDT"));
  publish(bus, candle(1, "103", "1", CandleStatus::kProvisional, "ETH-USDT"));
  // SOL: a closed candle is never skipped; the provisional before it (same bar) is superseded,
  // the one after it (next bar) is evaluated after it.
  publish(bus, candle(1, "97", "1", CandleStatus::kProvisional, "SOL-USDT"));
  publish(bus, candle(1, "103", "1", CandleStatus::kFinal, "SOL-USDT"));
  publish(bus, candle(2, "98", "1", CandleStatus::kProvisional, "SOL-USDT"));
  drain(proc);
  const std::string bar1 = std::to_string((kT0 + kMin) / kNsPerMs);
  EXPECT_EQ(sorted(alert_ids(bus)), sorted({"cross:binance:ETH-USDT:1m:" + bar1 + ":firing",
                                            "cross:binance:SOL-USDT:1m:" + bar1 + ":firing",
                                            "cross:binance:SOL-USDT:1m:" + bar1 + ":resolved"}));
  EXPECT_EQ(proc.stats().skipped, 4u);
  EXPECT_EQ(proc.stats().records, 11u);

  // The same input with a close rule: no provisional update is decoded.
  InMemoryBus quiet(kDefault);
  for (const auto& rec : bus.records(topics::kNormalizedOhlcv))
    ASSERT_TRUE(quiet.publish(topics::kNormalizedOhlcv, rec.key, rec.value).is_ok());
  cross.confirm = Confirm::kClose;
  cfg.rules = {validated(cross)};
  AlertProcessor closed(quiet, cfg, clock);
  drain(closed);
  EXPECT_EQ(closed.stats().skipped, 7u);
  EXPECT_EQ(sorted(alert_ids(quiet)), sorted({"cross:binance:SOL-USDT:1m:" + bar1 + ":firing"}));
}

// Batches that change nothing are not committed one by one: their positions go with the next
// commit, after position_commit_interval, or when the input is drained.
TEST(AlertProcessor, BatchesThatChangeNothingShareACommit) {
  InMemoryBus bus(kDefault);
  ManualClock clock;
  clock.set(kT0);
  AlertProcessorConfig cfg;
  cfg.rules = stage_rules();
  cfg.max_batch = 3;
  AlertProcessor proc(bus, cfg, clock);
  for (int i = 0; i < 9; ++i) publish(bus, candle(0, "98", "1", CandleStatus::kProvisional));
  for (int k = 0; k < 3; ++k) {
    auto r = proc.run_once();
    ASSERT_TRUE(r.is_ok());
    EXPECT_EQ(*r, 3u);
  }
  EXPECT_EQ(proc.stats().commits, 0u);
  EXPECT_EQ(committed_records(bus, "alerts", topics::kNormalizedOhlcv), 0);
  EXPECT_FALSE(proc.caught_up());
  auto r = proc.run_once();  // drained: the positions are committed, and the loop may go idle
  ASSERT_TRUE(r.is_ok());
  EXPECT_EQ(*r, 0u);
  EXPECT_EQ(proc.stats().commits, 1u);
  EXPECT_EQ(proc.stats().records, 9u);
  EXPECT_EQ(committed_records(bus, "alerts", topics::kNormalizedOhlcv), 9);
  EXPECT_TRUE(proc.caught_up());
  // After the interval, a batch that changed nothing is committed at once.
  clock.advance(cfg.position_commit_interval);
  publish(bus, candle(0, "98", "1", CandleStatus::kProvisional));
  ASSERT_TRUE(proc.run_once().is_ok());
  EXPECT_EQ(proc.stats().commits, 2u);
  // A batch with a state change carries the deferred positions with it.
  publish(bus, candle(0, "98", "1", CandleStatus::kProvisional));
  ASSERT_TRUE(proc.run_once().is_ok());
  EXPECT_EQ(proc.stats().commits, 2u);
  publish(bus, candle(0, "98"));
  ASSERT_TRUE(proc.run_once().is_ok());
  EXPECT_EQ(proc.stats().commits, 3u);
  EXPECT_EQ(committed_records(bus, "alerts", topics::kNormalizedOhlcv), 12);
}

TEST(AlertProcessor, InvalidRulesAreRejectedAtStart) {
  InMemoryBus bus(kDefault);
  ManualClock clock;
  AlertProcessorConfig cfg;
  cfg.rules = {rule("x", RuleKind::kCrossAbove)};  // no level
  AlertProcessor proc(bus, cfg, clock);
  Status s = proc.start();
  EXPECT_EQ(s.code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(s.message().find("alerts.rules[0].level"), std::string::npos) << s.message();
}

}  // namespace
}  // namespace tickflow::processing::alerts
