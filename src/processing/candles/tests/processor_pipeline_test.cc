// CandleProcessor with commits in flight (ProcessorConfig::max_commits_in_flight) over a bus
// whose commits complete only when waited for (PipelinedBus below: the Kafka bus's behaviour,
// where a commit's outputs are acknowledged later): several batches are in flight, their state
// and positions are applied strictly in order, and a failed commit makes the processor cancel
// the later ones and commit all of them again in order, so the outputs, positions and counters
// equal those of committing one batch at a time.
#include "processing/candles/processor.h"

#include <mutex>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "bus/testing/pipelined_bus.h"
#include "processing/candles/tests/processor_test_support.h"

namespace tickflow::processing {
namespace {

using namespace testing;

using bus::testing::PipelinedBus;

// The reference: the same feed committed one batch at a time on a plain in-memory bus.
struct Reference {
  InMemoryBus bus{kWithDefaultTopics};
  ProcessorStats stats;
  Reference(const std::vector<Trade>& feed, const ProcessorConfig& cfg, const Clock& clock) {
    for (const Trade& t : feed) publish_trade(bus, t);
    ProcessorConfig one = cfg;
    one.max_commits_in_flight = 1;
    CandleProcessor ref(bus, one, clock);
    drain(ref);
    stats = ref.stats();
  }
};

ProcessorConfig pipelined_config() {
  ProcessorConfig cfg = one_minute_config();
  cfg.max_batch = 40;
  cfg.max_commits_in_flight = 4;
  return cfg;
}

TEST(ProcessorPipelineTest, BatchesInFlightCommitInOrderWithTheOutputsOfOneAtATime) {
  const auto feed = make_feed(600, 7);
  const ProcessorConfig cfg = pipelined_config();
  ManualClock clock(kT0 + kNsPerHour);
  Reference ref(feed, cfg, clock);

  PipelinedBus bus;
  for (const Trade& t : feed) publish_trade(bus, t);
  CandleProcessor proc(bus, cfg, clock);
  ASSERT_TRUE(proc.start().is_ok());
  ASSERT_TRUE(wait_until(bus, kRaw, [&] { return proc.caught_up(); }));
  proc.stop();

  const auto c = bus.counters();
  EXPECT_EQ(c.max_in_flight, 4) << "the processor never had several commits in flight";
  EXPECT_FALSE(c.out_of_order);
  EXPECT_EQ(c.cancelled, 0);
  EXPECT_EQ(c.applied, c.started);
  EXPECT_EQ(committed_total(bus), end_total(bus, kRaw));
  EXPECT_EQ(last_per_key(read_updates(bus)), last_per_key(read_updates(ref.bus)));
  EXPECT_EQ(read_updates(bus).size(), read_updates(ref.bus).size());  // finals only: no duplicates
  EXPECT_EQ(proc.stats().trades, ref.stats.trades);
  EXPECT_EQ(proc.stats().duplicates, ref.stats.duplicates);
  EXPECT_EQ(proc.stats().records, ref.stats.records);
}

TEST(ProcessorPipelineTest, AFailedCommitCancelsTheLaterOnesAndAllAreCommittedAgainInOrder) {
  const auto feed = make_feed(600, 11);
  const ProcessorConfig cfg = pipelined_config();
  ManualClock clock(kT0 + kNsPerHour);
  Reference ref(feed, cfg, clock);

  PipelinedBus bus;
  for (const Trade& t : feed) publish_trade(bus, t);
  bus.fail_commit_number(2);  // commits 3..5 are in flight behind it by then
  CandleProcessor proc(bus, cfg, clock);
  ASSERT_TRUE(proc.start().is_ok());
  ASSERT_TRUE(wait_until(bus, kRaw, [&] { return proc.caught_up(); }));
  proc.stop();

  const auto c = bus.counters();
  EXPECT_EQ(c.failed, 1);
  EXPECT_GE(c.cancelled, 1) << "nothing was in flight behind the failed commit";
  EXPECT_FALSE(c.out_of_order) << "a later commit was applied before an earlier one finished";
  EXPECT_EQ(proc.stats().commit_failures, 1u);
  EXPECT_EQ(committed_total(bus), end_total(bus, kRaw));
  EXPECT_EQ(last_per_key(read_updates(bus)), last_per_key(read_updates(ref.bus)));
  EXPECT_EQ(read_updates(bus).size(), read_updates(ref.bus).size());
  EXPECT_EQ(read_dead_letters(bus).size(), read_dead_letters(ref.bus).size());
  EXPECT_EQ(proc.stats().trades, ref.stats.trades);  // each batch counted once
  EXPECT_EQ(proc.stats().records, ref.stats.records);
  EXPECT_EQ(proc.health().state, HealthState::kUp);

  // A restart from what was committed continues exactly: nothing left to do.
  CandleProcessor restarted(bus, cfg, clock);
  drain(restarted);
  EXPECT_EQ(restarted.stats().records, 0u);
}

TEST(ProcessorPipelineTest, RunOnceCommitsBeforeItReturns) {
  PipelinedBus bus;
  ManualClock clock(kT0 + kNsPerHour);
  publish_trade(bus, make_trade("BTC-USDT", 1, "100", "1", kT0 + 1 * kNsPerSec));
  CandleProcessor proc(bus, pipelined_config(), clock);
  auto r = proc.run_once();
  ASSERT_TRUE(r.is_ok()) << r.status().to_string();
  EXPECT_EQ(*r, 1u);
  EXPECT_EQ(committed_total(bus), 1);
  EXPECT_EQ(proc.stats().commits, 1u);
}

}  // namespace
}  // namespace tickflow::processing
