// KafkaEventBus: the EventBus on Kafka (bus.backend = "kafka"), through the KafkaClient seam.
//
// Semantics (src/bus/README.md "kafka/" has the full account):
//   - topics: create_topic uses Admin CreateTopics (partitions, retention.ms, replication) when
//     the topic is missing; an existing topic with FEWER partitions than configured is an error
//     (kInvalidArgument), more are used as they are. topic()/topics() come from metadata
//     (retention as configured in this process, 0 when unknown).
//   - a record's partition is topics::partition_for(key, partitions), as on the embedded bus;
//     headers `schema-version` and `event-id` are copied from the tickflow.v1.Envelope.
//   - Transaction::commit(): 1) produce every record and wait until ALL are acknowledged
//     (idempotent producer, acks=all); 2) write state + consumer positions in ONE write to the
//     local sidecar RocksDB (`sidecar_path`); 3) mirror the positions to Kafka's group offsets
//     in the background (for lag tooling; never read back). A crash between 1 and 2 re-produces
//     the records on restart: Kafka holds duplicates, which the sinks drop (exactly-once is at
//     the sink: trades by trade key, candles by (series, open_time, revision)).
//   - Transaction::commit_async(): 1) is started and the PendingCommit returned; its wait() does
//     the rest, cancel() applies nothing. Committed at once instead (ready() at return) when the
//     commit has changelog records or is a Kafka transaction (src/bus/README.md).
//   - committed_offset/get_state/scan_state read the sidecar; read/end/begin offsets read Kafka.
//   - data_version(topic) counts this bus's commits to the topic plus records seen by a watcher
//     consumer (started on the first data_version/wait_for_data of the topic), so a producer in
//     another process wakes wait_for_data too.
//   - enforce_retention is a no-op (Kafka's retention.ms, set at topic creation, does it).
//   - consumer groups (join_group; src/bus/README.md "Consumer groups"): a GroupClient member
//     of the group (cooperative-sticky) tells which input partitions this process owns; a
//     revocation waits (bounded) until the owner released them. A joined group's positions are
//     not mirrored to Kafka's group offsets (tickflow_kafka_consumer_lag has the lag). The state namespace of the group
//     gets a compacted changelog topic <group>-<store>-changelog (partition p = input partition
//     p): every commit also produces, to the changelog partition of each touched input
//     partition, its state writes (key = state key, value "S"+blob; a delete is a tombstone) and
//     then a position marker (key "\x01position": the input position, the previous marker's
//     offset and the number of state records before it). restore(p) replays the changelog from
//     the local checkpoint (or from the start, replacing the local state of p) and applies only
//     state records that a marker closes; records of a commit cut short by a crash are dropped.
//   - metrics: tickflow_kafka_consumer_lag{group,topic,partition} (high watermark − committed
//     position, every 2 s), tickflow_kafka_commits_total{group}, _commit_failures_total,
//     tickflow_kafka_state_store_bytes, tickflow_kafka_state_rebuild_seconds{store} (+ _last_),
//     _state_rebuild_records_total{store}, tickflow_kafka_group_partitions{group},
//     tickflow_kafka_rebalances_total{group,kind}.
//   - read_only (`tickflow tail`): no sidecar at all (nothing is written locally, so any number
//     of readers may run next to the services); create_topic, publish and commits fail
//     (kInvalidArgument "... is open read-only"), committed_offset is 0 and the state is empty.
//
// Thread-safety: every method is thread-safe; a Transaction is used by one thread at a time.
// Lifecycle: open() ... destructor (flushes the group-offset mirror, best effort).
#pragma once

#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <tuple>

#include "bus/event_bus.h"
#include "bus/kafka/group_client.h"
#include "bus/kafka/kafka_client.h"
#include "bus/kafka/sidecar_store.h"
#include "bus/kafka/transactions.h"

namespace tickflow::bus::kafka {

struct KafkaBusOptions {
  std::string bootstrap_servers;                  // bootstrap.servers (KAFKA_BOOTSTRAP_SERVERS)
  std::map<std::string, std::string> properties;  // passed to librdkafka (SASL/SCRAM, TLS, tuning)
  std::string sidecar_path;                       // local RocksDB: state + consumer positions
  bool sync = false;                              // fsync the sidecar per commit
  int replication_factor = -1;                    // CreateTopics; -1 = the broker's default
  DurationNs timeout = 30 * kNsPerSec;            // metadata, admin, reads
  bool mirror_group_offsets = true;               // commit positions to Kafka groups too
  bool read_only = false;                         // reads only: no sidecar, writes refused
  // join_group's member; open() uses RdKafkaGroupClient; empty: join_group is refused.
  GroupClientFactory group_client_factory;
  DurationNs metrics_interval = 2 * kNsPerSec;    // consumer lag and store size refresh
  // processing.guarantee = "exactly_once_v2": a commit that produces records AND commits
  // consumed positions is one Kafka transaction (transactions.h, kafka_bus_transactions.cc).
  // transactional_id: empty = "tickflow-<random>", generated once and kept in the sidecar, so
  // it is stable per data dir (= per processor instance and its partition set).
  bool exactly_once = false;
  std::string transactional_id;
};

class KafkaEventBus final : public EventBus {
 public:
  // Connects (RdKafkaClient) and opens the sidecar (none when read_only). Errors: kInvalidArgument for a bad
  // property or an empty bootstrap list; kIo for the sidecar (in use by another process, ...).
  static Result<std::unique_ptr<KafkaEventBus>> open(const KafkaBusOptions& options);
  // The same on any KafkaClient (unit tests use a fake).
  static Result<std::unique_ptr<KafkaEventBus>> open_with_client(std::unique_ptr<KafkaClient> client,
                                                                 const KafkaBusOptions& options);
  ~KafkaEventBus() override;

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
  Result<std::unique_ptr<GroupMembership>> join_group(const GroupOptions& options) override;

  // Waits until every position committed so far is mirrored to Kafka's group offsets (or the
  // timeout passes: kUnavailable with the last mirror error).
  Status flush_group_offsets(DurationNs timeout);
  // Transactions committed/aborted/producer (re)starts (zero unless exactly_once).
  TxnStats transaction_stats() const;
  KafkaClient& client() const { return *client_; }

 private:
  friend class KafkaTransaction;
  friend class KafkaPendingCommit;
  friend class KafkaGroupMembership;

  // A state namespace with a changelog (one per joined group).
  struct Changelog {
    std::string ns, topic, group, input_topic, store;
    int32_t partitions = 0;
    std::function<int32_t(std::string_view, int32_t)> partition_of;
  };
  // The commit's changelog records (appended to `out`) for the batch's state writes and
  // positions; markers[i] = index in `out` of a position marker.
  Status add_changelog(const SidecarBatch& batch, std::vector<ProduceRecord>& out,
                       std::vector<size_t>& markers) const;
  // After the records are acknowledged: the changelog checkpoints into `batch`.
  void checkpoint_changelog(const std::vector<ProduceRecord>& out, const std::vector<int64_t>& offsets,
                            const std::vector<size_t>& markers, SidecarBatch& batch) const;
  void remember_markers(const SidecarBatch& batch);
  Status restore_partition(const Changelog& changelog, int32_t partition);
  void track_positions(const SidecarBatch& batch);
  void untrack(const std::string& group, const std::string& topic, const std::vector<int32_t>& partitions);
  void metrics_loop();
  // Produces a commit's records: in a Kafka transaction with the batch's positions when
  // exactly_once and the batch has both, else client_->produce (kafka_bus_transactions.cc).
  Status produce_for_commit(const std::vector<ProduceRecord>& records, const SidecarBatch& batch,
                            std::vector<int64_t>* offsets);
  mutable std::mutex txn_mu_;
  std::unique_ptr<TransactionalCommitter> txn_;  // created on the first transactional commit
  KafkaEventBus(std::unique_ptr<KafkaClient> client, std::unique_ptr<SidecarStore> sidecar, KafkaBusOptions options);

  // The topic's partition count (cache, else metadata). kNotFound "unknown topic 'x'".
  Result<int32_t> partitions(std::string_view topic) const;
  Status check_partition(std::string_view topic, int32_t partition) const;
  void ensure_watched(std::string_view topic) const;
  void bump(std::string_view topic) const;
  void mirror(const SidecarBatch& batch);
  void mirror_loop();
  Status refuse_write() const;

  std::unique_ptr<KafkaClient> client_;
  std::unique_ptr<SidecarStore> sidecar_;
  KafkaBusOptions options_;

  mutable std::mutex topics_mu_;
  mutable std::map<std::string, TopicConfig, std::less<>> topics_;  // known partition counts

  mutable std::mutex watch_mu_;
  mutable std::set<std::string, std::less<>> watched_;

  mutable std::mutex mu_;  // versions, wake generation
  mutable std::condition_variable cv_;
  mutable std::map<std::string, uint64_t, std::less<>> versions_;
  uint64_t wake_generation_ = 0;

  // Group-offset mirror: latest position per (group, topic, partition) not yet in Kafka.
  std::mutex mirror_mu_;
  std::condition_variable mirror_cv_;
  std::map<std::string, std::map<std::pair<std::string, int32_t>, int64_t>> mirror_pending_;
  bool mirror_busy_ = false;
  bool mirror_stop_ = false;
  Status mirror_error_;
  std::thread mirror_thread_;
  std::mutex members_mu_;
  std::set<std::string, std::less<>> member_groups_;  // groups joined: positions not mirrored

  mutable std::mutex changelog_mu_;
  std::map<std::string, std::shared_ptr<const Changelog>, std::less<>> changelogs_;  // by namespace
  mutable std::map<std::pair<std::string, int32_t>, int64_t> last_marker_;           // changelog partition

  // Metrics: the positions this process commits, refreshed into lag gauges by metrics_thread_.
  std::mutex metrics_mu_;
  std::condition_variable metrics_cv_;
  bool metrics_stop_ = false;
  std::map<std::tuple<std::string, std::string, int32_t>, int64_t> tracked_;
  std::thread metrics_thread_;
};

}  // namespace tickflow::bus::kafka
