// RdKafkaClient: KafkaClient on librdkafka (Debian's 2.0). Handles, each created at open():
//   - producer: idempotent (enable.idempotence, acks=all), lz4, linger.ms=5; a poll thread serves
//     delivery reports; also used for Admin CreateTopics, metadata and watermark queries;
//   - reader: a consumer without group membership (assign + seek) serving fetch() under a mutex;
//     consecutive reads of the same partition continue without re-assigning;
//   - watcher: a consumer assigned to the watched topics from their end offsets; its thread calls
//     the data listener per record received;
//   - one committer per consumer group (created on first use) for OffsetCommit/OffsetFetch.
// `properties` are applied to every handle after tickflow's defaults, so SASL/SCRAM, TLS and
// tuning (linger.ms, compression.type, message.timeout.ms...) come from configuration.
//
// Thread-safety: all methods are thread-safe. Lifecycle: open() ... destructor (stops threads,
// flushes nothing: produce() already waited for its records).
#pragma once

#include <librdkafka/rdkafka.h>

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "bus/kafka/kafka_client.h"

namespace tickflow::bus::kafka {

struct RdKafkaOptions {
  std::string bootstrap_servers;                  // bootstrap.servers
  std::map<std::string, std::string> properties;  // librdkafka properties, passed through
  DurationNs timeout = 30 * kNsPerSec;            // metadata, admin, reads, group commits
};

class RdKafkaClient final : public KafkaClient {
 public:
  // Errors: kInvalidArgument naming the property librdkafka rejected; kInvalidArgument for an
  // empty bootstrap list.
  static Result<std::unique_ptr<RdKafkaClient>> open(const RdKafkaOptions& options);
  ~RdKafkaClient() override;

  Result<std::optional<int32_t>> partition_count(std::string_view topic) override;
  Result<std::vector<std::pair<std::string, int32_t>>> list_topics() override;
  Status create_topic(const TopicConfig& config, int replication_factor) override;
  Status produce(const std::vector<ProduceRecord>& records, std::vector<int64_t>* offsets) override;
  Status fetch(std::string_view topic, int32_t partition, int64_t from_offset, size_t max_records,
               std::vector<Record>& out) override;
  Result<Watermarks> watermarks(std::string_view topic, int32_t partition) override;
  Status commit_group_offsets(std::string_view group, const std::vector<GroupOffset>& offsets) override;
  Result<int64_t> group_offset(std::string_view group, std::string_view topic, int32_t partition) override;
  void set_data_listener(std::function<void(std::string_view topic)> listener) override;
  Status watch(std::string_view topic) override;

 private:
  explicit RdKafkaClient(RdKafkaOptions options) : options_(std::move(options)) {}
  int timeout_ms() const { return static_cast<int>(options_.timeout / kNsPerMs); }
  Result<rd_kafka_t*> committer(std::string_view group);
  Result<const rd_kafka_metadata_t*> metadata();
  void poll_producer();
  void poll_watcher();

  RdKafkaOptions options_;
  rd_kafka_t* producer_ = nullptr;
  rd_kafka_t* reader_ = nullptr;
  rd_kafka_t* watcher_ = nullptr;
  std::atomic<bool> stop_{false};
  std::thread producer_thread_;
  std::thread watcher_thread_;

  std::mutex reader_mu_;  // the reader's assignment
  std::string assigned_topic_;
  int32_t assigned_partition_ = -1;
  int64_t next_expected_ = -1;

  std::mutex watch_mu_;  // watched topics, the listener
  std::map<std::string, bool, std::less<>> watched_;
  std::function<void(std::string_view)> listener_;

  std::mutex committers_mu_;
  std::map<std::string, rd_kafka_t*, std::less<>> committers_;
};

}  // namespace tickflow::bus::kafka
