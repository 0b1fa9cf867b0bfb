// CandleProcessor under bus commit failures (InMemoryBus only: the real bus cannot be told to
// fail): retryable failures retry the same batch exactly once, with backoff in the worker;
// kIo (disk full) stops consumption with health down, and a restart resumes exactly.
#include "processing/candles/processor.h"

#include <map>
#include <string>

#include <gtest/gtest.h>

#include "processing/candles/tests/processor_test_support.h"

namespace tickflow::processing {
namespace {

using namespace testing;

TEST(ProcessorFaultTest, RetryableCommitFailureRetriesTheSameBatchExactlyOnce) {
  InMemoryBus bus(kWithDefaultTopics);
  ManualClock clock(kT0 + kNsPerHour);
  publish_trade(bus, make_trade("BTC-USDT", 1, "100", "1", kT0 + 1 * kNsPerSec));
  publish_trade(bus, make_trade("BTC-USDT", 2, "101", "1", kT0 + 70 * kNsPerSec));
  CandleProcessor proc(bus, one_minute_config(), clock);
  bus.fail_commits(Status::unavailable("injected"));
  auto r = proc.run_once();
  ASSERT_FALSE(r.is_ok());
  EXPECT_TRUE(r.status().retryable());
  EXPECT_EQ(proc.health().state, HealthState::kDegraded);
  EXPECT_EQ(committed_total(bus), 0);
  EXPECT_TRUE(read_updates(bus).empty());

  // More data arrives meanwhile; the retry commits the SAME batch first.
  publish_trade(bus, make_trade("BTC-USDT", 3, "102", "1", kT0 + 140 * kNsPerSec));
  r = proc.run_once();
  ASSERT_TRUE(r.is_ok()) << r.status().to_string();
  EXPECT_EQ(*r, 2u);
  EXPECT_EQ(committed_total(bus), 2);
  EXPECT_EQ(proc.health().state, HealthState::kUp);
  drain(proc);
  EXPECT_EQ(committed_total(bus), 3);

  std::map<std::string, int> finals;
  for (const Candle& c : read_updates(bus))
    if (c.status != CandleStatus::kProvisional) ++finals[describe(c)];
  ASSERT_EQ(finals.size(), 2u);  // 14:46 and 14:47 final, once each
  for (const auto& [d, n] : finals) EXPECT_EQ(n, 1) << d;
  EXPECT_EQ(proc.stats().commit_failures, 1u);
  EXPECT_EQ(proc.stats().trades, 3u);
}

TEST(ProcessorFaultTest, WorkerRetriesRetryableFailuresWithBackoff) {
  InMemoryBus bus(kWithDefaultTopics);
  ManualClock clock(kT0 + kNsPerHour);
  CandleProcessor proc(bus, one_minute_config(), clock);
  bus.fail_commits(Status::unavailable("injected 1"));
  bus.fail_commits(Status::resource_exhausted("injected 2"));
  ASSERT_TRUE(proc.start().is_ok());
  publish_trade(bus, make_trade("BTC-USDT", 1, "100", "1", kT0 + 1 * kNsPerSec));
  ASSERT_TRUE(wait_until(bus, kRaw, [&] { return proc.caught_up(); }));
  proc.stop();
  EXPECT_EQ(proc.stats().commit_failures, 2u);
  EXPECT_EQ(proc.stats().commits, 1u);
  EXPECT_EQ(proc.health().state, HealthState::kUp);
}

TEST(ProcessorFaultTest, DiskFullStopsConsumptionAndRestartResumesExactly) {
  const auto feed = make_feed(400, 3);
  ProcessorConfig cfg = one_minute_config();
  cfg.max_batch = 50;
  ManualClock clock(kT0 + kNsPerHour);

  InMemoryBus ref_bus(kWithDefaultTopics);
  for (const Trade& t : feed) publish_trade(ref_bus, t);
  {
    CandleProcessor ref(ref_bus, cfg, clock);
    drain(ref);
  }

  InMemoryBus bus(kWithDefaultTopics);
  for (const Trade& t : feed) publish_trade(bus, t);
  {
    CandleProcessor proc(bus, cfg, clock);
    ASSERT_TRUE(proc.run_once().is_ok());
    ASSERT_TRUE(proc.run_once().is_ok());
    const int64_t committed = committed_total(bus);
    EXPECT_EQ(committed, 100);
    bus.fail_commits(Status::io_error("No space left on device"));
    auto r = proc.run_once();
    ASSERT_FALSE(r.is_ok());
    EXPECT_EQ(r.status().code(), ErrorCode::kIo);
    EXPECT_EQ(proc.health().state, HealthState::kDown);
    EXPECT_NE(proc.health().detail.find("No space left"), std::string::npos);
    // Stopped: nothing more is consumed even though the disk "recovered".
    EXPECT_FALSE(proc.run_once().is_ok());
    EXPECT_EQ(committed_total(bus), committed);
  }
  {
    CandleProcessor restarted(bus, cfg, clock);
    drain(restarted);
  }
  EXPECT_EQ(last_per_key(read_updates(bus)), last_per_key(read_updates(ref_bus)));
  EXPECT_EQ(read_dead_letters(bus).size(), read_dead_letters(ref_bus).size());
}

TEST(ProcessorFaultTest, WorkerStopsOnDiskFullAndReportsDown) {
  InMemoryBus bus(kWithDefaultTopics);
  ManualClock clock(kT0 + kNsPerHour);
  CandleProcessor proc(bus, one_minute_config(), clock);
  bus.fail_commits(Status::io_error("No space left on device"));
  ASSERT_TRUE(proc.start().is_ok());
  publish_trade(bus, make_trade("BTC-USDT", 1, "100", "1", kT0 + 1 * kNsPerSec));
  ASSERT_TRUE(wait_until(bus, kRaw, [&] { return proc.health().state == HealthState::kDown; }));
  publish_trade(bus, make_trade("BTC-USDT", 2, "100", "1", kT0 + 2 * kNsPerSec));
  proc.stop();
  EXPECT_EQ(committed_total(bus), 0);
  EXPECT_EQ(proc.stats().commits, 0u);
}

}  // namespace
}  // namespace tickflow::processing
