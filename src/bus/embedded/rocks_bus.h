// RocksEventBus: the embedded, durable EventBus (architecture brief §5) over RocksDB.
//
// Layout (column families of one DB):
//   log      topic \0 be32(partition) be64(offset)  → be64(append ts) be32(key len) key value
//            (ZSTD when the library has it; iteration is in offset order)
//   next     topic \0 be32(partition)               → be64(next offset)
//   begin    topic \0 be32(partition)               → be64(first offset kept after retention)
//   offsets  group \0 topic \0 be32(partition)      → be64(committed next offset)
//   state    ns \0 key                              → value
//   topics   name                                   → be32(partitions) be64(retention ns)
//
// Durability: every commit is ONE rocksdb::WriteBatch written with the WAL on, so records,
// next offsets, consumer offsets and state appear together or not at all. With sync=false
// (default) the WAL write reaches the OS page cache before commit() returns: a kill -9 of the
// process never loses a committed transaction; a power loss or kernel crash may lose the last
// commits (never half of one). Set sync=true to fsync the WAL on every commit (power-safe, slower).
// A failed write (disk full, I/O error) returns Status kIo and changes nothing in memory.
//
// Offsets are assigned at commit under one mutex (commits are serialized). Append timestamps
// come from the injected clock and never go backwards, so retention can binary-search them.
// data_version()/wait_for_data() use one condition variable per topic (all under one mutex):
// a commit wakes only the waiters of the topics it appended to; consumers never sleep-poll.
//
// Tail cache (primary only): each partition keeps its newest records in memory (up to
// tail_records / tail_bytes), filled under the commit mutex after the RocksDB write succeeded
// and before the new end offset is published. read()/read_one() serve a range that lies
// entirely inside the tail from memory and fall back to a RocksDB iterator otherwise; the
// result is identical. Retention trims the tail after moving begin_offset.
//
// Thread-safety: all EventBus methods are safe from any thread. A Transaction is used by one
// thread at a time and must not outlive the bus.
// Read-only mode (options.read_only): a RocksDB secondary instance that follows a log another
// process may hold (`tickflow tail`); writes return kInvalidArgument, and wait_for_data()
// catches up with the primary when it returns (new records of the other process show up
// within one wait timeout).
// Lifecycle: open() → use → destroy. The destructor wakes waiters, releases every RocksDB
// iterator (they are all scoped to single calls) and closes the DB; callers must have stopped
// using the bus (no call in flight) before destroying it.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <vector>

#include "bus/event_bus.h"
#include "core/clock.h"

namespace rocksdb {
class DB;
class ColumnFamilyHandle;
}  // namespace rocksdb
namespace prometheus {
class Counter;
}  // namespace prometheus

namespace tickflow::bus::embedded {

struct RocksBusOptions {
  std::string path;              // the DB directory (created if missing)
  bool sync = false;             // fsync the WAL on every commit (power-loss safety)
  const Clock* clock = nullptr;  // append timestamps; nullptr = SystemClock
  size_t write_buffer_bytes = 64u << 20;
  bool read_only = false;  // follow an existing log without writing (RocksDB secondary)
  // In-memory tail of the newest records per partition (ignored when read_only). A record is
  // evicted when the partition holds more than tail_records records or tail_bytes of keys and
  // values; 0 for either disables the tail.
  size_t tail_records = 8192;
  size_t tail_bytes = 1u << 20;
};

// Waiting threads (tests: a commit wakes only the waiters of the topics it appended to).
struct RocksBusWaitStats {
  uint64_t blocked = 0;  // threads blocked in wait_for_data now
  uint64_t wakeups = 0;  // times a blocked waiter was woken before its timeout (ever)
};

// Counters of the tail cache, summed over every partition (diagnostics and tests).
struct RocksBusTailStats {
  uint64_t hits = 0;     // read()/read_one() calls served from memory
  uint64_t misses = 0;   // calls that went to RocksDB
  uint64_t records = 0;  // records held now
  uint64_t bytes = 0;    // key + value bytes held now
};

class RocksEventBus final : public EventBus {
 public:
  // Opens (or creates) the bus at options.path. A DB held by another live process fails with
  // kIo "data dir <path> is in use by another tickflow process (<rocksdb message>)"; the
  // factory reports it for the data dir without the RocksDB detail.
  static Result<std::unique_ptr<RocksEventBus>> open(const RocksBusOptions& options);
  ~RocksEventBus() override;
  RocksEventBus(const RocksEventBus&) = delete;
  RocksEventBus& operator=(const RocksEventBus&) = delete;

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
  Result<std::optional<std::string>> get_state(std::string_view ns,
                                               std::string_view key) const override;
  Status scan_state(
      std::string_view ns,
      const std::function<void(std::string_view, std::string_view)>& fn) const override;

  uint64_t data_version(std::string_view topic) const override;
  uint64_t wait_for_data(std::string_view topic, uint64_t seen, DurationNs timeout) const override;
  void wake_all() override;

  Result<int64_t> enforce_retention(TimestampNs now) override;

  const std::string& path() const { return options_.path; }
  RocksBusTailStats tail_stats() const;
  RocksBusWaitStats wait_stats() const;

  // One transaction's pending content (filled by the Transaction implementation).
  struct TxnBuffer {
    struct Append {
      uint32_t topic;  // index into topic_names
      uint32_t key_len;
      uint32_t value_len;
    };
    struct Offset {
      std::string group;
      std::string topic;
      int32_t partition;
      int64_t next_offset;
    };
    struct StateOp {
      std::string ns;
      std::string key;
      std::string value;
      bool erase;
    };
    std::vector<std::string> topic_names;
    std::vector<Append> appends;
    std::string bytes;  // key then value of every append, in order
    std::vector<Offset> offsets;
    std::vector<StateOp> states;

    void append(std::string_view topic, std::string_view key, std::string_view value);
    bool empty() const { return appends.empty() && offsets.empty() && states.empty(); }
    void clear();
  };
  Status commit_buffer(const TxnBuffer& txn);

 private:
  // The newest records of one partition: offsets [first, first + count) in a ring of slots
  // whose strings are reused (no allocation once warm). Guarded by mu; filled under commit_mu_.
  struct Tail {
    struct Slot {
      TimestampNs timestamp = 0;
      uint32_t key_len = 0;
      std::string data;  // key then value
    };
    mutable std::mutex mu;
    std::vector<Slot> slots;
    size_t head = 0;   // slot of `first`
    size_t count = 0;  // records held
    int64_t first = 0;
    size_t bytes = 0;
    mutable uint64_t hits = 0;
    mutable uint64_t misses = 0;

    // Appends the record at `offset` (restarts the tail if it does not follow the last one).
    void push(int64_t offset, TimestampNs ts, std::string_view key, std::string_view value,
              size_t max_records, size_t max_bytes);
    // Drops records below `offset` (retention).
    void trim_below(int64_t offset);
    // Appends records [from, stop) to out and returns true when the tail holds all of them;
    // otherwise appends nothing and returns false. Counts the hit or miss.
    bool read(std::string_view topic, int32_t partition, int64_t from, int64_t stop,
              std::vector<Record>& out) const;
  };

  struct TopicState {
    TopicConfig config;
    // Per partition; written only under commit_mu_ after the batch is durable, read anywhere.
    std::unique_ptr<std::atomic<int64_t>[]> next;
    std::unique_ptr<std::atomic<int64_t>[]> begin;
    std::unique_ptr<Tail[]> tails;     // per partition; nullptr when the tail is off
    std::atomic<uint64_t> version{0};  // bumped (under data_mu_) by commits that appended
    mutable std::condition_variable cv;  // waiters of this topic, with data_mu_
    prometheus::Counter* appended_counter = nullptr;  // records appended to this topic
  };

  explicit RocksEventBus(RocksBusOptions options);
  Status load();
  // Read-only mode: replays what the primary wrote since the last call and bumps the
  // versions of topics that grew. Safe from any thread.
  Status catch_up() const;
  Status refuse_write() const;
  const TopicState* find_topic(std::string_view name) const;
  TopicState* find_topic(std::string_view name);
  TimestampNs next_timestamp();
  // Initializes next/begin (and the tails when enabled) for config.partitions partitions.
  void init_partitions(TopicState& t, bool with_tail) const;
  bool tail_enabled() const {
    return !options_.read_only && options_.tail_records > 0 && options_.tail_bytes > 0;
  }
  // Bumps the versions of `grew` under data_mu_ and wakes their waiters.
  void notify_topics(const std::vector<TopicState*>& grew) const;

  RocksBusOptions options_;
  const Clock* clock_;
  rocksdb::DB* db_ = nullptr;
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;
  rocksdb::ColumnFamilyHandle* cf_log_ = nullptr;
  rocksdb::ColumnFamilyHandle* cf_next_ = nullptr;
  rocksdb::ColumnFamilyHandle* cf_begin_ = nullptr;
  rocksdb::ColumnFamilyHandle* cf_offsets_ = nullptr;
  rocksdb::ColumnFamilyHandle* cf_state_ = nullptr;
  rocksdb::ColumnFamilyHandle* cf_topics_ = nullptr;

  // Topic table: shared for lookups, exclusive for create_topic. TopicState objects are never
  // removed, so pointers stay valid for the bus's lifetime.
  mutable std::shared_mutex topics_mu_;
  std::map<std::string, std::unique_ptr<TopicState>, std::less<>> topics_;

  std::mutex commit_mu_;  // serializes commits, retention and topic creation writes
  TimestampNs last_ts_ = 0;

  std::string secondary_dir_;  // read-only mode: RocksDB's own files for the follower
  mutable std::mutex catch_up_mu_;

  mutable std::mutex data_mu_;
  mutable std::condition_variable data_cv_;  // waiters of unknown topics and of read-only mode
  uint64_t wake_generation_ = 0;  // guarded by data_mu_
  mutable uint64_t blocked_waiters_ = 0;  // guarded by data_mu_
  mutable uint64_t waiter_wakeups_ = 0;   // guarded by data_mu_
};

}  // namespace tickflow::bus::embedded
