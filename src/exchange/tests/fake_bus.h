// FakeBus: an in-memory EventBus for exchange tests (records per topic, one partition view,
// state map, injectable commit failures). Thread-safe (one mutex); waiters use a condvar.
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <optional>

#include "bus/event_bus.h"
#include "core/topics.h"

namespace tickflow::exchange::testing {

class FakeBus final : public bus::EventBus {
 public:
  class Txn final : public bus::Transaction {
   public:
    explicit Txn(FakeBus& bus) : bus_(bus) {}
    void append(std::string_view topic, std::string_view key, std::string_view value) override {
      records_.push_back({std::string(topic), 0, 0, std::string(key), std::string(value), 0});
    }
    void commit_offset(std::string_view, std::string_view, int32_t, int64_t) override {}
    void put_state(std::string_view ns, std::string_view key, std::string_view value) override {
      state_.emplace_back(std::string(ns) + "/" + std::string(key), std::string(value));
    }
    void delete_state(std::string_view ns, std::string_view key) override {
      state_.emplace_back(std::string(ns) + "/" + std::string(key), std::nullopt);
    }
    size_t appended() const override { return records_.size(); }
    Status commit() override { return bus_.apply(*this); }

   private:
    friend class FakeBus;
    FakeBus& bus_;
    std::vector<bus::Record> records_;
    std::vector<std::pair<std::string, std::optional<std::string>>> state_;
  };

  // The next `n` commits fail with `status` (nothing applied).
  void fail_commits(Status status, int n = 1 << 30) {
    std::lock_guard<std::mutex> lock(mu_);
    fail_status_ = std::move(status);
    fail_count_ = n;
  }

  std::vector<bus::Record> records(std::string_view topic) const {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = logs_.find(std::string(topic));
    return it == logs_.end() ? std::vector<bus::Record>{} : it->second;
  }
  size_t count(std::string_view topic) const {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = logs_.find(std::string(topic));
    return it == logs_.end() ? 0 : it->second.size();
  }
  int commits() const {
    std::lock_guard<std::mutex> lock(mu_);
    return commits_;
  }
  // Polls pred() (woken by every commit, at least every millisecond) until it holds or the
  // deadline passes. pred runs without the bus lock held.
  template <class Pred>
  bool wait_until(Pred pred, std::chrono::milliseconds timeout = std::chrono::seconds(10)) const {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!pred()) {
      if (std::chrono::steady_clock::now() >= deadline) return false;
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait_for(lock, std::chrono::milliseconds(1));
    }
    return true;
  }

  Status create_topic(const bus::TopicConfig& config) override {
    std::lock_guard<std::mutex> lock(mu_);
    topics_.emplace(config.name, config);
    return Status::ok();
  }
  Result<bus::TopicConfig> topic(std::string_view name) const override {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = topics_.find(std::string(name));
    if (it == topics_.end()) return Status::not_found(std::string(name));
    return it->second;
  }
  std::vector<bus::TopicConfig> topics() const override {
    std::lock_guard<std::mutex> lock(mu_);
    std::vector<bus::TopicConfig> out;
    for (const auto& [_, c] : topics_) out.push_back(c);
    return out;
  }
  Status publish(std::string_view topic, std::string_view key, std::string_view value) override {
    Txn t(*this);
    t.append(topic, key, value);
    return t.commit();
  }
  std::unique_ptr<bus::Transaction> begin() override { return std::make_unique<Txn>(*this); }
  Status read(std::string_view topic, int32_t, int64_t from_offset, size_t max_records,
              std::vector<bus::Record>& out) const override {
    auto all = records(topic);
    for (size_t i = static_cast<size_t>(from_offset); i < all.size() && out.size() < max_records; ++i) {
      out.push_back(all[i]);
    }
    return Status::ok();
  }
  Result<bus::Record> read_one(std::string_view topic, int32_t, int64_t offset) const override {
    auto all = records(topic);
    if (offset < 0 || static_cast<size_t>(offset) >= all.size()) return Status::not_found("offset");
    return all[static_cast<size_t>(offset)];
  }
  Result<int64_t> end_offset(std::string_view topic, int32_t) const override {
    return static_cast<int64_t>(count(topic));
  }
  Result<int64_t> begin_offset(std::string_view, int32_t) const override { return int64_t{0}; }
  Result<int64_t> committed_offset(std::string_view, std::string_view, int32_t) const override {
    return int64_t{0};
  }
  Result<std::optional<std::string>> get_state(std::string_view ns, std::string_view key) const override {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = state_.find(std::string(ns) + "/" + std::string(key));
    if (it == state_.end()) return std::optional<std::string>{};
    return std::optional<std::string>{it->second};
  }
  // Test helper: seeds state as if committed by an earlier run.
  void set_state(std::string_view ns, std::string_view key, std::string value) {
    std::lock_guard<std::mutex> lock(mu_);
    state_[std::string(ns) + "/" + std::string(key)] = std::move(value);
  }
  Status scan_state(std::string_view ns,
                    const std::function<void(std::string_view, std::string_view)>& fn) const override {
    std::lock_guard<std::mutex> lock(mu_);
    const std::string prefix = std::string(ns) + "/";
    for (const auto& [k, v] : state_) {
      if (k.compare(0, prefix.size(), prefix) == 0) fn(std::string_view(k).substr(prefix.size()), v);
    }
    return Status::ok();
  }
  uint64_t data_version(std::string_view) const override {
    std::lock_guard<std::mutex> lock(mu_);
    return static_cast<uint64_t>(commits_);
  }
  uint64_t wait_for_data(std::string_view, uint64_t seen, DurationNs timeout) const override {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait_for(lock, std::chrono::nanoseconds(timeout), [&] { return static_cast<uint64_t>(commits_) != seen; });
    return static_cast<uint64_t>(commits_);
  }
  void wake_all() override { cv_.notify_all(); }
  Result<int64_t> enforce_retention(TimestampNs) override { return int64_t{0}; }

 private:
  Status apply(Txn& t) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (fail_count_ > 0) {
        --fail_count_;
        return fail_status_;
      }
      for (auto& r : t.records_) {
        auto& log = logs_[r.topic];
        r.offset = static_cast<int64_t>(log.size());
        log.push_back(std::move(r));
      }
      for (auto& [k, v] : t.state_) {
        if (v) {
          state_[k] = *v;
        } else {
          state_.erase(k);
        }
      }
      t.records_.clear();
      t.state_.clear();
      ++commits_;
    }
    cv_.notify_all();
    return Status::ok();
  }

  mutable std::mutex mu_;
  mutable std::condition_variable cv_;
  std::map<std::string, bus::TopicConfig> topics_;
  std::map<std::string, std::vector<bus::Record>> logs_;
  std::map<std::string, std::string> state_;
  Status fail_status_;
  int fail_count_ = 0;
  int commits_ = 0;
};

}  // namespace tickflow::exchange::testing
