// InMemoryBus: an in-memory EventBus for other components' unit tests (target
// tickflow_bus_testing, no RocksDB). It follows the EventBus contract where tests rely on it:
// topics with partitions (a record's partition from its key, dense offsets per partition),
// atomic transactions (records + state + consumer offsets, all or nothing; appending to a missing
// topic fails the whole commit with kNotFound), committed offsets per group, state per
// namespace, a data version per topic and wait_for_data / wake_all. Not modelled: retention
// (enforce_retention removes nothing), record timestamps (0), durability.
//
// Test hooks: commit-failure injection (leveldb's fault-injection habit), state seeding, every
// record of a topic in commit order, a commit counter and a predicate poller.
//
// Thread-safety: every method may be called from any thread (one mutex; waiters on a condvar).
// Ownership: a Transaction from begin() refers to its bus and must not outlive it.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <limits>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

#include "bus/event_bus.h"

namespace tickflow::bus::testing {

class InMemoryBus final : public EventBus {
 public:
  // `times` for fail_commits: every commit from now on fails.
  static constexpr int kAlways = std::numeric_limits<int>::max();

  enum class InitialTopics { kNone, kDefault };
  // kDefault creates the default topics of core/topics.h, as make_event_bus does.
  explicit InMemoryBus(InitialTopics topics = InitialTopics::kNone);
  InMemoryBus(const InMemoryBus&) = delete;
  InMemoryBus& operator=(const InMemoryBus&) = delete;

  // Creates the default topics of core/topics.h (existing ones are kept).
  void create_default_topics();

  // The next `times` Transaction commits fail with `status` and apply nothing. Calls queue up
  // in order. publish() is never failed this way (tests feed input with it).
  void fail_commits(Status status, int times = 1);
  // Seeds state as if committed by an earlier run.
  void set_state(std::string_view ns, std::string_view key, std::string value);

  // Every record of the topic in commit order, across partitions (each with its partition and
  // offset). Empty for a missing topic.
  std::vector<Record> records(std::string_view topic) const;
  size_t count(std::string_view topic) const;
  // Successful commits so far (transactions and publishes).
  int commits() const;

  // Polls pred() until it holds or `timeout` passes; woken by every commit and at least every
  // millisecond, so pred may watch things other than the bus. pred runs without the bus lock.
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

  // EventBus.
  Status create_topic(const TopicConfig& config) override;
  Result<TopicConfig> topic(std::string_view name) const override;
  std::vector<TopicConfig> topics() const override;
  Status publish(std::string_view topic, std::string_view key, std::string_view value) override;
  std::unique_ptr<Transaction> begin() override;
  Status read(std::string_view topic, int32_t partition, int64_t from_offset, size_t max_records,
              std::vector<Record>& out) const override;
  Result<Record> read_one(std::string_view topic, int32_t partition, int64_t offset) const override;
  Result<int64_t> end_offset(std::string_view topic, int32_t partition) const override;
  Result<int64_t> begin_offset(std::string_view topic, int32_t partition) const override;
  Result<int64_t> committed_offset(std::string_view group, std::string_view topic,
                                   int32_t partition) const override;
  Result<std::optional<std::string>> get_state(std::string_view ns, std::string_view key) const override;
  Status scan_state(std::string_view ns,
                    const std::function<void(std::string_view, std::string_view)>& fn) const override;
  uint64_t data_version(std::string_view topic) const override;
  uint64_t wait_for_data(std::string_view topic, uint64_t seen, DurationNs timeout) const override;
  void wake_all() override;
  Result<int64_t> enforce_retention(TimestampNs now) override;

 private:
  class Txn;
  struct Append {
    std::string topic, key, value;
  };
  struct Offset {
    std::string group, topic;
    int32_t partition;
    int64_t next;
  };
  struct StateOp {
    std::string ns, key;
    std::optional<std::string> value;  // nullopt: delete
  };
  struct TopicData {
    TopicConfig config;
    std::vector<std::vector<Record>> partitions;
    std::vector<std::pair<int32_t, int64_t>> order;  // (partition, offset) in commit order
    uint64_t version = 0;
  };

  // Applies a whole transaction or nothing. `injectable`: consumes a queued failure first.
  Status apply(const std::vector<Append>& appends, const std::vector<Offset>& offsets,
               const std::vector<StateOp>& states, bool injectable);
  // Caller holds mu_. nullptr when the topic or partition does not exist.
  const std::vector<Record>* find(std::string_view topic, int32_t partition) const;

  mutable std::mutex mu_;
  mutable std::condition_variable cv_;
  std::map<std::string, TopicData, std::less<>> topics_;
  std::map<std::tuple<std::string, std::string, int32_t>, int64_t> offsets_;
  std::map<std::pair<std::string, std::string>, std::string> state_;
  std::deque<std::pair<Status, int>> faults_;  // (status, commits left to fail)
  uint64_t wake_generation_ = 0;
  int commits_ = 0;
};

}  // namespace tickflow::bus::testing
