// PipelinedBus: an InMemoryBus (default topics) whose Transaction::commit_async applies nothing
// until wait() — the Kafka bus's behaviour, where a commit's outputs are acknowledged later —
// and cancel() drops it; the wait() of a chosen commit can be told to fail. Records how many
// commits were started, applied, cancelled and failed, the most in flight at once, and whether
// one was waited for before an earlier one finished (out of order). For the tests of stages
// that pipeline their commits (the candle processor, the collectors' CollectorOutput).
// Thread-safety: as InMemoryBus; a Transaction / PendingCommit is used by one thread.
#pragma once

#include <algorithm>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "bus/event_bus.h"
#include "bus/testing/in_memory_bus.h"

namespace tickflow::bus::testing {

class PipelinedBus final : public EventBus {
 public:
  InMemoryBus inner{InMemoryBus::InitialTopics::kDefault};

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

}  // namespace tickflow::bus::testing
