// Helpers shared by RdKafkaClient's source files (rdkafka_client.cc, rdkafka_watcher.cc): a
// librdkafka error as a Status, a consumed message as a Record, a partition list that frees
// itself. Internal to src/bus/kafka.
#pragma once

#include <librdkafka/rdkafka.h>

#include <string>
#include <string_view>

#include "bus/event_bus.h"
#include "core/result.h"

namespace tickflow::bus::kafka::rdkafka_util {

// max.in.flight.requests.per.connection of every producer ([kafka.properties] overrides it).
// librdkafka sends one ProduceRequest per partition; with 3 or more of them in flight on one
// connection the acknowledgement of a multi-partition batch took 44-48 ms on loopback (mock
// cluster, 2026-12-03, docs/benchmarks.md "Kafka: requests in flight"), with 1 or 2 in flight
// 2-3 ms: the latency of every commit (collector, processor, loader) is this round trip. One in
// flight also keeps each partition's requests strictly ordered, which the idempotent producer
// otherwise has to restore after a retried request.
inline constexpr const char* kProducerMaxInFlight = "1";

inline Status kafka_error(std::string_view what, rd_kafka_resp_err_t e) {
  std::string m = "kafka " + std::string(what) + ": " + rd_kafka_err2str(e);
  switch (e) {
    case RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC:
    case RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART:
    case RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION:
      return Status::not_found(std::move(m));
    case RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE:
    case RD_KAFKA_RESP_ERR_INVALID_PARTITIONS:
    case RD_KAFKA_RESP_ERR_INVALID_REPLICATION_FACTOR:
    case RD_KAFKA_RESP_ERR_INVALID_CONFIG:
    case RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED:
    case RD_KAFKA_RESP_ERR_CLUSTER_AUTHORIZATION_FAILED:
    case RD_KAFKA_RESP_ERR_GROUP_AUTHORIZATION_FAILED:
    case RD_KAFKA_RESP_ERR_SASL_AUTHENTICATION_FAILED:
    case RD_KAFKA_RESP_ERR__AUTHENTICATION:
    case RD_KAFKA_RESP_ERR__UNSUPPORTED_FEATURE:
    case RD_KAFKA_RESP_ERR_UNSUPPORTED_VERSION:
    case RD_KAFKA_RESP_ERR__FATAL:
      return Status::invalid_argument(std::move(m));
    default:
      return Status::unavailable(std::move(m));
  }
}

inline Record to_record(const rd_kafka_message_t* m, std::string_view topic) {
  Record r;
  r.topic = topic;
  r.partition = m->partition;
  r.offset = m->offset;
  if (m->key) r.key.assign(static_cast<const char*>(m->key), m->key_len);
  if (m->payload) r.value.assign(static_cast<const char*>(m->payload), m->len);
  rd_kafka_timestamp_type_t tt;
  const int64_t ts_ms = rd_kafka_message_timestamp(m, &tt);
  r.timestamp = ts_ms >= 0 ? ts_ms * kNsPerMs : 0;
  return r;
}

struct PartitionList {
  rd_kafka_topic_partition_list_t* p = rd_kafka_topic_partition_list_new(4);
  ~PartitionList() { rd_kafka_topic_partition_list_destroy(p); }
};

}  // namespace tickflow::bus::kafka::rdkafka_util
