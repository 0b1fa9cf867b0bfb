#include "bus/factory.h"

#include <filesystem>

#include "bus/embedded/rocks_bus.h"
#include "bus/kafka/kafka_bus.h"
#include "core/topics.h"

namespace tickflow::bus {

std::vector<TopicConfig> default_topic_configs() {
  std::vector<TopicConfig> out;
  for (const auto& spec : topics::kDefaultTopics) {
    out.push_back(TopicConfig{std::string(spec.name), spec.partitions, spec.retention});
  }
  return out;
}

Result<std::unique_ptr<EventBus>> make_event_bus(const BusConfig& config) {
  if (config.backend != "embedded" && config.backend != "kafka") {
    return Status::invalid_argument("bus.backend: unknown backend '" + config.backend +
                                    "' (known: embedded, kafka)");
  }
  const bool kafka = config.backend == "kafka";
  // A read-only Kafka bus keeps nothing locally (no sidecar): it needs no data dir.
  if (config.data_dir.empty() && !(kafka && config.read_only)) {
    return Status::invalid_argument("bus.data_dir: must not be empty");
  }
  const std::vector<TopicConfig> wanted =
      config.topics.empty() ? default_topic_configs() : config.topics;
  if (kafka) {
    kafka::KafkaBusOptions ko;
    ko.bootstrap_servers = config.kafka_bootstrap_servers;
    ko.properties = config.kafka_properties;
    ko.replication_factor = config.kafka_replication_factor;
    ko.exactly_once = config.kafka_exactly_once;
    ko.sidecar_path = (std::filesystem::path(config.data_dir) / "bus-kafka").string();
    ko.sync = config.sync;
    ko.read_only = config.read_only;
    auto opened = kafka::KafkaEventBus::open(ko);
    if (!opened) return opened.status();
    std::unique_ptr<EventBus> bus = std::move(opened).value();
    if (config.read_only) return bus;  // the topics are the cluster's
    for (const TopicConfig& t : wanted) TICKFLOW_RETURN_IF_ERROR(bus->create_topic(t));
    return bus;
  }
  embedded::RocksBusOptions options;
  options.path = (std::filesystem::path(config.data_dir) / "bus").string();
  options.sync = config.sync;
  options.read_only = config.read_only;
  auto opened = embedded::RocksEventBus::open(options);
  if (!opened) {
    const std::string& m = opened.status().message();
    if (m.find("is in use by another tickflow process") != std::string::npos) {
      return Status::io_error("data dir " + config.data_dir +
                              " is in use by another tickflow process");
    }
    return opened.status();
  }
  std::unique_ptr<EventBus> bus = std::move(opened).value();
  if (config.read_only) return bus;
  for (const TopicConfig& t : wanted) {
    TICKFLOW_RETURN_IF_ERROR(bus->create_topic(t));
  }
  return bus;
}

}  // namespace tickflow::bus
