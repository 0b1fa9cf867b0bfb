// KafkaClient: the thin seam between KafkaEventBus and librdkafka (STYLE.md habit 8, as envoy
// wraps librdkafka "so we can have mocks in tests"). KafkaEventBus holds the bus semantics
// (partition choice, transaction order, the local sidecar, data versions); a KafkaClient only
// talks to the cluster. RdKafkaClient (rdkafka_client.h) is the real one; unit tests use a fake.
//
// Thread-safety: every method may be called from any thread.
// Lifecycle: the data listener is set before the first watch(); the client is destroyed after
// every caller stopped.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "bus/event_bus.h"
#include "core/result.h"

namespace tickflow::bus::kafka {

class TransactionalProducer;  // transactions.h

struct ProduceRecord {
  std::string topic;
  int32_t partition = 0;
  std::string key;
  std::string value;
  std::vector<std::pair<std::string, std::string>> headers;  // Kafka record headers
};

struct GroupOffset {
  std::string topic;
  int32_t partition = 0;
  int64_t next_offset = 0;
};

struct Watermarks {
  int64_t low = 0;   // first offset present
  int64_t high = 0;  // next offset to be written
};

// The outcome of KafkaClient::produce_async(): every record's delivery report. Destroying it
// waits for the reports that are still due (the client writes into it until then).
class PendingProduce {
 public:
  virtual ~PendingProduce() = default;
  virtual bool ready() const = 0;  // every record has its final delivery report
  // Blocks until ready(); then the result produce() would have returned (offsets likewise).
  virtual Status wait(std::vector<int64_t>* offsets) = 0;
};

class KafkaClient {
 public:
  virtual ~KafkaClient() = default;

  // Partition count from the cluster's metadata; nullopt when the topic does not exist.
  virtual Result<std::optional<int32_t>> partition_count(std::string_view topic) = 0;
  // Every non-internal topic (names not starting with "__") with its partition count.
  virtual Result<std::vector<std::pair<std::string, int32_t>>> list_topics() = 0;
  // Admin CreateTopics with the config's partitions and retention (retention.ms; 0 = -1,
  // forever). kAlreadyExists when the topic exists.
  virtual Status create_topic(const TopicConfig& config, int replication_factor) = 0;

  // Produces every record to its explicit partition and returns once ALL are acknowledged
  // (acks=all), or with the first error after every record has a final delivery report. On
  // success (*offsets)[i] is record i's offset (an empty value is a null value: a tombstone
  // of a compacted topic). Records acknowledged before an error stay in
  // the log.
  virtual Status produce(const std::vector<ProduceRecord>& records, std::vector<int64_t>* offsets) = 0;
  // The same without waiting: the records are enqueued in order (after those of earlier calls:
  // with the idempotent producer a partition keeps that order); the handle gives the outcome.
  // The default (transactions.cc) produces synchronously.
  virtual std::unique_ptr<PendingProduce> produce_async(const std::vector<ProduceRecord>& records);

  // Up to max_records records of one partition from from_offset (from the first record still
  // present if from_offset is older); returns what is there without waiting for new records.
  virtual Status fetch(std::string_view topic, int32_t partition, int64_t from_offset, size_t max_records,
                       std::vector<Record>& out) = 0;
  virtual Result<Watermarks> watermarks(std::string_view topic, int32_t partition) = 0;

  // Stores the group's offsets in Kafka (OffsetCommit, no group membership) / reads one back
  // (-1 when none).
  virtual Status commit_group_offsets(std::string_view group, const std::vector<GroupOffset>& offsets) = 0;
  virtual Result<int64_t> group_offset(std::string_view group, std::string_view topic, int32_t partition) = 0;

  // After watch(topic) returns, every record appended to the topic later (by anyone) makes the
  // client call the listener with the topic name, from a client thread (spurious calls allowed).
  virtual void set_data_listener(std::function<void(std::string_view topic)> listener) = 0;
  virtual Status watch(std::string_view topic) = 0;

  // A transactional producer with this transactional.id (transactions.h; `processing.guarantee =
  // "exactly_once_v2"`). The default (transactions.cc): kInvalidArgument, no transactions.
  virtual Result<std::unique_ptr<TransactionalProducer>> transactional_producer(const std::string& transactional_id);
};

}  // namespace tickflow::bus::kafka
