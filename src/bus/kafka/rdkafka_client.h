// RdKafkaClient: KafkaClient on librdkafka (Debian's 2.0). Handles, each created at open():
//   - producer: idempotent (enable.idempotence, acks=all), lz4, linger.ms=5; a poll thread serves
//     delivery reports (into the PendingProduce of produce_async; produce() waits on one); also
//     used for Admin CreateTopics, metadata and watermark queries;
//   - reader: a consumer without group membership (assign + seek) serving fetch() under a mutex;
//     consecutive reads of the same partition continue without re-assigning;
//   - watcher (rdkafka_watcher.cc): a consumer assigned to the watched topics from their end
//     offsets; its thread takes every record at hand at once, keeps the newest records of each
//     watched partition in a tail cache, then calls the data listener once per topic;
//   - tail cache: for a watched partition, fetch() serves offsets inside the cached range from
//     memory and watermarks().high is the watcher's position (no broker round trip per read or
//     per lag check; it may trail the broker by one fetch of the watcher, and wait_for_data wakes
//     when the watcher receives the records; a partition the watcher delivered nothing of for
//     500 ms is asked to the broker). Reads outside the range go to the broker;
//   - one committer per consumer group (created on first use) for OffsetCommit/OffsetFetch.
// `properties` are applied to every handle after tickflow's defaults, so SASL/SCRAM, TLS and
// tuning (linger.ms, compression.type, message.timeout.ms...) come from configuration.
//
// Thread-safety: all methods are thread-safe. Lifecycle: open() ... destructor (stops threads,
// flushes nothing: produce() already waited for its records).
#pragma once

#include <librdkafka/rdkafka.h>

#include <atomic>
#include <chrono>
#include <deque>
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
  std::unique_ptr<PendingProduce> produce_async(const std::vector<ProduceRecord>& records) override;
  Status fetch(std::string_view topic, int32_t partition, int64_t from_offset, size_t max_records,
               std::vector<Record>& out) override;
  Result<Watermarks> watermarks(std::string_view topic, int32_t partition) override;
  Status commit_group_offsets(std::string_view group, const std::vector<GroupOffset>& offsets) override;
  Result<int64_t> group_offset(std::string_view group, std::string_view topic, int32_t partition) override;
  void set_data_listener(std::function<void(std::string_view topic)> listener) override;
  Status watch(std::string_view topic) override;
  // rdkafka_txn_producer.cc.
  Result<std::unique_ptr<TransactionalProducer>> transactional_producer(const std::string& transactional_id) override;

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

  // Tail cache of the watched partitions: the data records the watcher delivered with an offset
  // in [begin, next), in order; at most kTailRecords/kTailBytes. Offsets missing in between are
  // control records — or records the watcher never delivered (fetch errors around a broker
  // outage), so fetch_cached serves only runs without a hole, starting exactly at from_offset.
  struct Tail {
    int64_t begin = 0;
    int64_t next = 0;
    int64_t low = -1;  // the low watermark last queried (-1: never)
    // Last time the watcher delivered a record of the partition or the broker was asked: a
    // cached high watermark older than kTailTrust is checked with the broker (a watcher stuck
    // after a broker outage must not hide new records).
    std::chrono::steady_clock::time_point fresh;
    size_t bytes = 0;
    std::deque<Record> records;
  };
  static constexpr size_t kTailRecords = 16384;
  static constexpr size_t kTailBytes = 4u << 20;
  static constexpr std::chrono::milliseconds kTailTrust{500};
  bool fetch_cached(std::string_view topic, int32_t partition, int64_t from_offset, size_t max_records,
                    std::vector<Record>& out);
  Result<Watermarks> query_watermarks(std::string_view topic, int32_t partition);
  std::mutex tail_mu_;
  std::map<std::string, std::map<int32_t, Tail>, std::less<>> tails_;  // topic → partition → tail
  Tail* find_tail(std::string_view topic, int32_t partition);            // tail_mu_ held

  std::mutex committers_mu_;
  std::map<std::string, rd_kafka_t*, std::less<>> committers_;
};

}  // namespace tickflow::bus::kafka
