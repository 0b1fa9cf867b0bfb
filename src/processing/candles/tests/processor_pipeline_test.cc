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

#include "processing/candles/tests/processor_test_support.h"

namespace tickflow::processing {
namespace {

using namespace testing;

// An InMemoryBus whose Transaction::commit_async applies nothing until wait() (cancel() drops
// it); wait() can be told to fail. Records the order of the waits and the commits in flight.
class PipelinedBus final : public EventBus {
 public:
  InMemoryBus inner{kWithDefaultTopics};

  struct Counters {
    int started = 0, applied = 0, cancelled = 0, failed = 0, max_in_flight = 0;
    bool out_of_order = false;  // a commit waited for before an earlier one finished
  };
  Counters counters() const {
    std::lock_guard lock(mu_);
    return counters_;
  }
  // The wait() of the n-th commit started (1-based) fails with kUnavailable.
  void fail_commit_number(int n) {
    std::lock_guard lock(mu_);
    fail_number_ = n;
  }

  Status create_topic(const bus::TopicConfig& c) override { return inner.create_topic(c); }
  Result<bus::TopicConfig> topic(std::string_view n) const override { return inner.topic(n); }
  std::vector<bus::TopicConfig> topics() const override { return inner.topics(); }
  Status publish(std::string_view t, std::string_view k, std::string_view v) override { return inner.publish(t, k, v); }
  std::unique_ptr<bus::Transaction> begin() override { return std::make_unique<Txn>(*this); }
  Status read(std::string_view t, int32_t p, int64_t from, size_t max, std::vector<Record>& out) const override {
    return inner.read(t, p, from, max, out);
  }
  Result<Record> read_one(std::string_view t, int32_t p, int64_t o) const override { return inner.read_one(t, p, o); }
  Result<int64_t> end_offset(std::string_view t, int32_t p) const override { return inner.end_offset(t, p); }
  Result<int64_t> begin_offset(std::string_view t, int32_t p) const override { return inner.begin_offset(t, p); }
  Result<int64_t> committed_offset(std::string_view g, std::string_view t, int32_t p) const override {
    return inner.committed_offset(g, t, p);
  }
  Result<std::optional<std::string>> get_state(std::string_view ns, std::string_view k) const override {
    return inner.get_state(ns, k);
  }
  Status scan_state(std::string_view ns,
                    const std::function<void(std::string_view, std::string_view)>& fn) const override {
    return inner.scan_state(ns, fn);
  }
  uint64_t data_version(std::string_view t) const override { return inner.data_version(t); }
  uint64_t wait_for_data(std::string_view t, uint64_t seen, DurationNs timeout) const override {
    return inner.wait_for_data(t, seen, timeout);
  }
  void wake_all() override { inner.wake_all(); }
  Result<int64_t> enforce_retention(TimestampNs now) override { return inner.enforce_retention(now); }

 private:
  struct Op {
    enum Kind { kAppend, kOffset, kPut, kDelete } kind;
    std::string a, b, c;
    int32_t partition = 0;
    int64_t offset = 0;
  };

  class Pending final : public bus::PendingCommit {
   public:
    Pending(PipelinedBus& bus, std::vector<Op> ops, int number) : bus_(bus), ops_(std::move(ops)), number_(number) {}
    ~Pending() override { cancel(); }
    bool ready() const override { return false; }  // never before it is waited for: stays in flight
    Status wait() override {
      if (done_) return status_;
      done_ = true;
      {
        std::lock_guard lock(bus_.mu_);
        auto& c = bus_.counters_;
        if (number_ != c.applied + c.cancelled + c.failed + 1) c.out_of_order = true;
        if (number_ == bus_.fail_number_) {
          ++c.failed;
          status_ = Status::unavailable("injected: commit " + std::to_string(number_) + " not acknowledged");
          return status_;
        }
      }
      auto txn = bus_.inner.begin();
      for (const Op& op : ops_) {
        switch (op.kind) {
          case Op::kAppend: txn->append(op.a, op.b, op.c); break;
          case Op::kOffset: txn->commit_offset(op.a, op.b, op.partition, op.offset); break;
          case Op::kPut: txn->put_state(op.a, op.b, op.c); break;
          case Op::kDelete: txn->delete_state(op.a, op.b); break;
        }
      }
      status_ = txn->commit();
      std::lock_guard lock(bus_.mu_);
      ++bus_.counters_.applied;
      return status_;
    }
    void cancel() override {
      if (done_) return;
      done_ = true;
      std::lock_guard lock(bus_.mu_);
      ++bus_.counters_.cancelled;
    }

   private:
    PipelinedBus& bus_;
    std::vector<Op> ops_;
    int number_;
    bool done_ = false;
    Status status_;
  };

  class Txn final : public bus::Transaction {
   public:
    explicit Txn(PipelinedBus& bus) : bus_(bus) {}
    void append(std::string_view t, std::string_view k, std::string_view v) override {
      ops_.push_back({Op::kAppend, std::string(t), std::string(k), std::string(v)});
      ++appended_;
    }
    void commit_offset(std::string_view g, std::string_view t, int32_t p, int64_t next) override {
      ops_.push_back({Op::kOffset, std::string(g), std::string(t), "", p, next});
    }
    void put_state(std::string_view ns, std::string_view k, std::string_view v) override {
      ops_.push_back({Op::kPut, std::string(ns), std::string(k), std::string(v)});
    }
    void delete_state(std::string_view ns, std::string_view k) override {
      ops_.push_back({Op::kDelete, std::string(ns), std::string(k), ""});
    }
    size_t appended() const override { return appended_; }
    Status commit() override { return commit_async()->wait(); }
    std::unique_ptr<bus::PendingCommit> commit_async() override {
      std::lock_guard lock(bus_.mu_);
      auto& c = bus_.counters_;
      const int number = ++c.started;
      c.max_in_flight = std::max(c.max_in_flight, number - c.applied - c.cancelled - c.failed);
      return std::make_unique<Pending>(bus_, std::move(ops_), number);
    }

   private:
    PipelinedBus& bus_;
    std::vector<Op> ops_;
    size_t appended_ = 0;
  };

  mutable std::mutex mu_;
  Counters counters_;
  int fail_number_ = 0;
};

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
