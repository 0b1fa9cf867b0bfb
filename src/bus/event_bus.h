// EventBus: the topic log every pipeline stage talks through (architecture brief §5).
//
// Topics have partitions; a record's partition comes from its key (topics::partition_for), so
// one series stays ordered in one partition. Offsets are dense per partition, starting at 0.
// Consumer groups store their committed position (the next offset to read) per partition.
//
// Exactly-once: a stage that consumes and produces commits its produced records, its state and
// its consumed positions in ONE Transaction. A crash at any instant leaves either all of them
// or none of them, so a restart neither loses nor repeats anything.
//
// Backends: bus/embedded (RocksDB), bus/kafka (librdkafka). Only app wiring includes a backend.
// Thread-safety: every method of EventBus is safe to call from any thread. A Transaction is
// used by one thread at a time.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/result.h"
#include "core/time.h"

namespace tickflow::bus {

struct TopicConfig {
  std::string name;
  int32_t partitions = 1;
  DurationNs retention = 0;  // 0 = keep forever
  bool compact = false;      // Kafka cleanup.policy=compact (state changelogs); retention unused
};

struct Record {
  std::string topic;
  int32_t partition = 0;
  int64_t offset = 0;
  std::string key;
  std::string value;          // serialized tickflow.v1.Envelope
  TimestampNs timestamp = 0;  // append time
};

// A commit started by Transaction::commit_async(). wait() finishes it: the same outcome as
// Transaction::commit() (applied, or nothing of the state and positions applied). cancel()
// only waits until the backend no longer needs the commit's data: nothing is applied locally
// (outputs already produced stay produced, as after a failed commit). Destroying an unfinished
// one cancels it.
// Thread-safety: used by one thread at a time.
class PendingCommit {
 public:
  virtual ~PendingCommit() = default;
  // True once wait() would not block on the backend (the outputs' fate is known).
  virtual bool ready() const = 0;
  virtual Status wait() = 0;
  virtual void cancel() = 0;
};

class Transaction {
 public:
  virtual ~Transaction() = default;
  // Appends a record to the partition chosen by key. Offsets are assigned at commit.
  virtual void append(std::string_view topic, std::string_view key, std::string_view value) = 0;
  // Sets the group's committed position (next offset to read) for one partition.
  virtual void commit_offset(std::string_view group, std::string_view topic, int32_t partition,
                             int64_t next_offset) = 0;
  // Opaque per-stage state (e.g. the candle aggregator's open windows), namespaced.
  virtual void put_state(std::string_view ns, std::string_view key, std::string_view value) = 0;
  virtual void delete_state(std::string_view ns, std::string_view key) = 0;
  // Number of records appended so far in this transaction.
  virtual size_t appended() const = 0;
  // Atomically applies everything. After an error nothing was applied; the caller may retry
  // (Status::retryable) or stop. A full disk is kIo and stops ingestion.
  virtual Status commit() = 0;
  // Starts the commit and returns without waiting for it where the backend can (Kafka: the
  // records are handed to the producer; wait() waits for their acknowledgements, then writes
  // state and positions locally), so a stage can build its next batch meanwhile. The caller
  // finishes its pending commits in the order it started them, and after one failed cancels
  // the later ones and commits their batches again in order: a later commit's state and
  // positions must never be applied before an earlier one's. The default commits at once.
  virtual std::unique_ptr<PendingCommit> commit_async();
};

// A PendingCommit whose outcome is already known (the default commit_async()).
class DonePendingCommit final : public PendingCommit {
 public:
  explicit DonePendingCommit(Status status) : status_(std::move(status)) {}
  bool ready() const override { return true; }
  Status wait() override { return status_; }
  void cancel() override {}

 private:
  Status status_;
};

inline std::unique_ptr<PendingCommit> Transaction::commit_async() {
  return std::make_unique<DonePendingCommit>(commit());
}

// Consumer-group membership (Kafka: cooperative-sticky rebalancing) for a stage whose state is
// kept per input partition. See src/bus/README.md ("Consumer groups").
struct GroupOptions {
  std::string group;  // consumer group id
  std::string topic;  // input topic whose partitions are shared among the members
  DurationNs session_timeout = 10 * kNsPerSec;
  DurationNs revoke_timeout = 30 * kNsPerSec;  // longest a revocation waits for release()
  // The stage's state store: namespace, store name (changelog topic <group>-<store>-changelog,
  // one partition per input partition) and the input partition a state key belongs to.
  std::string state_namespace;
  std::string store;
  std::function<int32_t(std::string_view state_key, int32_t partitions)> partition_of;
};

struct GroupAssignment {
  uint64_t generation = 0;     // bumped by every assignment and revocation
  std::vector<int32_t> owned;  // sorted; excludes partitions being revoked
};

// Thread-safety: every method is thread-safe. Lifecycle: EventBus::join_group() ... destructor
// (leaves the group; revocations then no longer wait). Destroy it before the bus.
class GroupMembership {
 public:
  virtual ~GroupMembership() = default;
  virtual GroupAssignment assignment() const = 0;
  // The owner has committed what it consumed and no longer touches the partitions revoked up to
  // `generation`: the rebalance may hand them over.
  virtual void release(uint64_t generation) = 0;
  // Brings the local state and committed position of a newly owned partition up to date with
  // the store's changelog (a rebuild when another member wrote since). Call before processing it.
  virtual Status restore(int32_t partition) = 0;
};

class EventBus {
 public:
  virtual ~EventBus() = default;

  // Creates the topic if missing (idempotent). An existing topic keeps its partition count.
  virtual Status create_topic(const TopicConfig& config) = 0;
  virtual Result<TopicConfig> topic(std::string_view name) const = 0;
  virtual std::vector<TopicConfig> topics() const = 0;

  // Appends one record (a one-record transaction).
  virtual Status publish(std::string_view topic, std::string_view key, std::string_view value) = 0;
  virtual std::unique_ptr<Transaction> begin() = 0;

  // Reads up to max_records from one partition starting at from_offset (records older than
  // retention may be gone: reading starts at the first record still present).
  virtual Status read(std::string_view topic, int32_t partition, int64_t from_offset,
                      size_t max_records, std::vector<Record>& out) const = 0;
  // Reads the record at exactly (topic, partition, offset).
  virtual Result<Record> read_one(std::string_view topic, int32_t partition, int64_t offset) const = 0;
  // Next offset to be written in the partition (= number of records ever appended).
  virtual Result<int64_t> end_offset(std::string_view topic, int32_t partition) const = 0;
  // First offset still present (after retention).
  virtual Result<int64_t> begin_offset(std::string_view topic, int32_t partition) const = 0;

  // Committed position of the group (0 when the group never committed).
  virtual Result<int64_t> committed_offset(std::string_view group, std::string_view topic,
                                           int32_t partition) const = 0;
  virtual Result<std::optional<std::string>> get_state(std::string_view ns, std::string_view key) const = 0;
  // Calls fn for every (key, value) in the namespace, in key order.
  virtual Status scan_state(std::string_view ns,
                            const std::function<void(std::string_view, std::string_view)>& fn) const = 0;

  // Monotonic counter bumped by every commit that appended to `topic`. Consumers wait on it
  // instead of sleeping: wait_for_data returns when the version differs from `seen` or after
  // `timeout` (or after wake_all()).
  virtual uint64_t data_version(std::string_view topic) const = 0;
  virtual uint64_t wait_for_data(std::string_view topic, uint64_t seen, DurationNs timeout) const = 0;
  // Wakes every waiter (used on shutdown).
  virtual void wake_all() = 0;

  // Deletes records older than each topic's retention (by append time). Returns records removed.
  virtual Result<int64_t> enforce_retention(TimestampNs now) = 0;

  // Joins a consumer group (state writes of options.state_namespace then also go to the store's
  // changelog). kInvalidArgument on buses without groups (the embedded bus: one process).
  virtual Result<std::unique_ptr<GroupMembership>> join_group(const GroupOptions& options) {
    return Status::invalid_argument("the bus has no consumer groups (group " + options.group + ")");
  }
};

}  // namespace tickflow::bus
