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
//   - committed_offset/get_state/scan_state read the sidecar; read/end/begin offsets read Kafka.
//   - data_version(topic) counts this bus's commits to the topic plus records seen by a watcher
//     consumer (started on the first data_version/wait_for_data of the topic), so a producer in
//     another process wakes wait_for_data too.
//   - enforce_retention is a no-op (Kafka's retention.ms, set at topic creation, does it).
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

#include "bus/event_bus.h"
#include "bus/kafka/kafka_client.h"
#include "bus/kafka/sidecar_store.h"

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

  // Waits until every position committed so far is mirrored to Kafka's group offsets (or the
  // timeout passes: kUnavailable with the last mirror error).
  Status flush_group_offsets(DurationNs timeout);
  KafkaClient& client() const { return *client_; }

 private:
  friend class KafkaTransaction;
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
};

}  // namespace tickflow::bus::kafka
