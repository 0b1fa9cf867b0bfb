// CollectorOutput's pipelined commits (flush_async) over a bus whose commits finish only when
// waited for (bus::testing::PipelinedBus, the Kafka bus's behaviour): batches stay in flight up
// to the limit, finish in order, a series' committed id moves only when its batch finished, a
// failure cancels the later batches and rolls every last id back to the last finished batch
// (what the reconnect's backfill starts from), and flush() / drop_batch() finish everything.
#include <gtest/gtest.h>

#include "bus/testing/pipelined_bus.h"
#include "core/codec.h"
#include "core/topics.h"
#include "exchange/collector/output.h"

namespace tickflow::exchange::collector {
namespace {

using bus::testing::PipelinedBus;
using Flush = CollectorOutput::Flush;

constexpr TimestampNs kT0 = 1628952395768LL * kNsPerMs;

Trade trade(int64_t id) {
  Trade t;
  t.exchange = Exchange::kBinance;
  t.symbol = "BTC-USDT";
  t.exchange_symbol = "BTCUSDT";
  t.trade_id = t.first_trade_id = t.last_trade_id = id;
  t.price = *Decimal::parse("50000.10");
  t.quantity = *Decimal::parse("0.001");
  t.taker_side = Side::kBuy;
  t.ts_event = kT0 + id * kNsPerMs;
  t.ts_recv = t.ts_event + kNsPerMs;
  return t;
}

struct Fixture {
  PipelinedBus bus;
  ManualClock clock{kT0};
  CollectorProbe probe{"binance", {"trade"}};
  CollectorOutput out{"binance", bus, clock, probe, quality::ValidatorConfig{}};
  size_t series = 0;
  static constexpr size_t kInFlight = 4;
  Fixture() {
    out.set_max_commits_in_flight(kInFlight);
    EXPECT_TRUE(out.create_topics());
    series = *out.add_series("binance:BTC-USDT", "BTC-USDT");
  }
  // One batch of trades first..last, cut with flush_async().
  Flush batch(int64_t first, int64_t last) {
    for (int64_t id = first; id <= last; ++id) out.publish(series, trade(id));
    return out.flush_async();
  }
  std::vector<int64_t> published_ids() const {
    std::vector<int64_t> ids;
    for (const auto& r : bus.inner.records(topics::kRawMarketData)) ids.push_back(codec::decode_trade(r.value)->trade_id);
    return ids;
  }
  std::optional<std::string> stored_last_id() const { return *bus.get_state("collector.binance", "BTC-USDT"); }
};

TEST(CollectorOutputPipelining, BatchesStayInFlightUpToTheLimitAndFinishInOrder) {
  Fixture f;
  for (int64_t b = 0; b < 10; ++b) ASSERT_EQ(f.batch(b * 10 + 1, b * 10 + 10), Flush::kOk);
  const auto c = f.bus.counters();
  EXPECT_EQ(c.started, 10);
  EXPECT_EQ(c.max_in_flight, static_cast<int>(Fixture::kInFlight) + 1);
  EXPECT_EQ(f.out.commits_in_flight(), Fixture::kInFlight);
  EXPECT_FALSE(c.out_of_order);
  // The finished batches' last id is what a restart resumes from; not the ones in flight.
  EXPECT_EQ(f.out.series(f.series).committed_id, 60);
  EXPECT_EQ(f.stored_last_id(), "60");
  EXPECT_EQ(f.out.series(f.series).last_id, 100);
  // flush() finishes everything.
  ASSERT_EQ(f.out.flush(), Flush::kOk);
  EXPECT_EQ(f.out.commits_in_flight(), 0u);
  EXPECT_EQ(f.out.series(f.series).committed_id, 100);
  EXPECT_EQ(f.stored_last_id(), "100");
  std::vector<int64_t> want(100);
  for (int64_t i = 0; i < 100; ++i) want[static_cast<size_t>(i)] = i + 1;
  EXPECT_EQ(f.published_ids(), want);
  EXPECT_EQ(f.out.commits(), 10u);
  EXPECT_FALSE(f.bus.counters().out_of_order);
}

TEST(CollectorOutputPipelining, AFailedBatchCancelsTheLaterOnesAndRollsBackToTheLastFinished) {
  Fixture f;
  f.bus.fail_commit_number(3);  // batch 3 (ids 21..30) is never acknowledged
  Flush verdict = Flush::kOk;
  int64_t b = 0;
  for (; b < 10 && verdict == Flush::kOk; ++b) verdict = f.batch(b * 10 + 1, b * 10 + 10);
  EXPECT_EQ(verdict, Flush::kReconnect);  // retryable: reconnect and backfill
  // Four in flight after each cut: the 7th batch's cut waits for the 3rd, which fails.
  EXPECT_EQ(b, 7);
  const auto c = f.bus.counters();
  EXPECT_EQ(c.applied, 2);
  EXPECT_EQ(c.failed, 1);
  EXPECT_EQ(c.cancelled, 4);  // batches 4..7
  EXPECT_FALSE(c.out_of_order);
  EXPECT_EQ(f.out.commits_in_flight(), 0u);
  // Everything after batch 2 is to be fetched again: last id = committed id = 20.
  EXPECT_EQ(f.out.series(f.series).last_id, 20);
  EXPECT_EQ(f.out.series(f.series).committed_id, 20);
  EXPECT_EQ(f.stored_last_id(), "20");
  EXPECT_EQ(f.out.publish_errors(), 1u);
  EXPECT_EQ(f.out.last_error().code(), ErrorCode::kUnavailable);
  // The backfill republishes from 21 and commits normally.
  ASSERT_EQ(f.batch(21, 40), Flush::kOk);
  ASSERT_EQ(f.out.flush(), Flush::kOk);
  EXPECT_EQ(f.stored_last_id(), "40");
  std::vector<int64_t> want;
  for (int64_t i = 1; i <= 40; ++i) want.push_back(i);
  EXPECT_EQ(f.published_ids(), want) << "the cancelled batches applied nothing";
}

TEST(CollectorOutputPipelining, ByDefaultEveryBatchIsAcknowledgedBeforeFlushAsyncReturns) {
  Fixture f;
  f.out.set_max_commits_in_flight(0);
  for (int64_t b = 0; b < 3; ++b) {
    ASSERT_EQ(f.batch(b * 10 + 1, b * 10 + 10), Flush::kOk);
    EXPECT_EQ(f.out.commits_in_flight(), 0u);
    EXPECT_EQ(f.stored_last_id(), std::to_string(b * 10 + 10));
  }
  EXPECT_EQ(f.bus.counters().max_in_flight, 1);
}

TEST(CollectorOutputPipelining, DropBatchFinishesWhatIsInFlightAndDropsOnlyTheOpenBatch) {
  Fixture f;
  ASSERT_EQ(f.batch(1, 5), Flush::kOk);
  ASSERT_EQ(f.batch(6, 9), Flush::kOk);
  for (int64_t id = 10; id <= 12; ++id) f.out.publish(f.series, trade(id));  // open, not cut
  f.out.drop_batch();
  EXPECT_EQ(f.out.commits_in_flight(), 0u);
  EXPECT_EQ(f.stored_last_id(), "9");
  EXPECT_EQ(f.published_ids().size(), 9u);
}

}  // namespace
}  // namespace tickflow::exchange::collector
