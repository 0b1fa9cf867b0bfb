// Event bus factory: the one place a bus backend is chosen by name (STYLE.md habit 2).
//
// Backends: "embedded" (RocksDB log in <data_dir>/bus); "kafka" (kafka/kafka_bus.h: records in
// Kafka at kafka_bootstrap_servers, state + consumer positions in <data_dir>/bus-kafka).
// Thread-safety: make_event_bus is a plain function; the returned bus is thread-safe.
// Ownership: the caller owns the bus and destroys it after every user of it has stopped.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "bus/event_bus.h"
#include "core/result.h"

namespace tickflow::bus {

struct BusConfig {
  std::string backend = "embedded";  // config key bus.backend
  std::string data_dir;              // embedded: the DB lives in <data_dir>/bus
  bool sync = false;                 // embedded: fsync the WAL per commit (power-loss safety)
  // Follow an existing log without writing (`tickflow tail` while `tickflow run` holds it):
  // no topic creation; writes fail; wait_for_data picks up the other process's records.
  // kafka: no sidecar either (data_dir unused), committed offsets 0, no state.
  bool read_only = false;
  // Topics created at start (missing ones only; existing ones keep their partition count).
  // Empty = the default topics of core/topics.h.
  std::vector<TopicConfig> topics;
  // kafka: bootstrap.servers (KAFKA_BOOTSTRAP_SERVERS) and librdkafka properties passed through
  // as they are (security.protocol, sasl.mechanism=SCRAM-SHA-512, sasl.username/password,
  // ssl.ca.location, linger.ms, ...); -1 = the brokers' default replication factor.
  std::string kafka_bootstrap_servers;
  std::map<std::string, std::string> kafka_properties;
  int kafka_replication_factor = -1;
  // kafka: processing.guarantee = "exactly_once_v2" (KafkaBusOptions::exactly_once).
  bool kafka_exactly_once = false;
};

// The default topic set (topics::kDefaultTopics) as TopicConfigs.
std::vector<TopicConfig> default_topic_configs();

// Opens the configured backend and creates its topics (not in read-only mode, where a missing
// log is kNotFound "no event log at <dir>/bus"). Errors: unknown backend (names
// `bus.backend`), empty data dir (`bus.data_dir`), a data dir held by another live process
// ("data dir <path> is in use by another tickflow process"), I/O errors.
Result<std::unique_ptr<EventBus>> make_event_bus(const BusConfig& config);

}  // namespace tickflow::bus
