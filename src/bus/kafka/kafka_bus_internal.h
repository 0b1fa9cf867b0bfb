// Internals of KafkaEventBus shared by kafka_bus.cc and kafka_bus_groups.cc: the changelog's
// record encodings and the bus's metrics. Not a public header.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "observability/metrics.h"
#include "rocks/encoding.h"

namespace tickflow::bus::kafka::internal {

// Changelog record encodings (kafka_bus.h): a state write is "S" + value, a delete an empty
// value (a tombstone), a position marker "M" + be64 position + be64 (previous marker offset + 1)
// + be32 state records of the commit before it.
inline constexpr std::string_view kMarkerKey = "\x01position";
// Pseudo groups of the sidecar's offsets: the changelog checkpoint of this process (next offset
// after its last write / replay) and the offset + 1 of the last marker it knows (0 = none).
inline constexpr std::string_view kCheckpointGroup = "\x01changelog";
inline constexpr std::string_view kMarkerGroup = "\x01marker";

inline std::string encode_marker(int64_t position, int64_t prev_marker, uint32_t count) {
  std::string v = "M";
  v += rocks::be64_string(static_cast<uint64_t>(position));
  v += rocks::be64_string(static_cast<uint64_t>(prev_marker + 1));
  v += rocks::be64_string(count).substr(4);
  return v;
}

struct Marker {
  int64_t position = 0, prev_marker = -1;
  uint32_t count = 0;
};

inline bool decode_marker(std::string_view v, Marker& m) {
  if (v.size() != 21 || v[0] != 'M') return false;
  m.position = static_cast<int64_t>(rocks::get_be64(v.data() + 1));
  m.prev_marker = static_cast<int64_t>(rocks::get_be64(v.data() + 9)) - 1;
  m.count = 0;
  for (size_t i = 17; i < 21; ++i) m.count = (m.count << 8) | static_cast<unsigned char>(v[i]);
  return true;
}

inline double since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// The bus's metrics (one registry; families registered once per process).
struct KafkaProbe {
  prometheus::Family<prometheus::Gauge>* lag;
  prometheus::Family<prometheus::Counter>* commits;
  prometheus::Counter* commit_failures;
  prometheus::Gauge* store_bytes;
  prometheus::Family<prometheus::Histogram>* rebuild_seconds;
  prometheus::Family<prometheus::Gauge>* rebuild_last;
  prometheus::Family<prometheus::Counter>* rebuild_records;
  prometheus::Family<prometheus::Gauge>* group_partitions;
  prometheus::Family<prometheus::Counter>* rebalances;
  prometheus::Histogram* produce_seconds;

  static KafkaProbe& instance() {
    static KafkaProbe* p = new KafkaProbe();  // never destroyed, like the registry
    return *p;
  }
  KafkaProbe() {
    auto& reg = obs::registry();
    lag = &prometheus::BuildGauge()
               .Name("tickflow_kafka_consumer_lag")
               .Help("Records of a partition after the group's committed position (high watermark - committed), "
                     "for the partitions this process commits")
               .Register(reg);
    commits = &prometheus::BuildCounter()
                   .Name("tickflow_kafka_commits_total")
                   .Help("Bus transactions committed (outputs acknowledged, then state and positions), by the "
                         "consumer group whose positions moved (none: outputs only)")
                   .Register(reg);
    commit_failures = &prometheus::BuildCounter()
                           .Name("tickflow_kafka_commit_failures_total")
                           .Help("Bus transactions that failed (produce or local write)")
                           .Register(reg)
                           .Add({});
    store_bytes = &prometheus::BuildGauge()
                       .Name("tickflow_kafka_state_store_bytes")
                       .Help("Approximate size of the local state store (sidecar RocksDB: state and positions)")
                       .Register(reg)
                       .Add({});
    rebuild_seconds = &prometheus::BuildHistogram()
                           .Name("tickflow_kafka_state_rebuild_seconds")
                           .Help("Duration of a state restore from the changelog on partition assignment")
                           .Register(reg);
    rebuild_last = &prometheus::BuildGauge()
                        .Name("tickflow_kafka_state_rebuild_last_seconds")
                        .Help("Duration of the last state restore from the changelog")
                        .Register(reg);
    rebuild_records = &prometheus::BuildCounter()
                           .Name("tickflow_kafka_state_rebuild_records_total")
                           .Help("Changelog records replayed by state restores")
                           .Register(reg);
    group_partitions = &prometheus::BuildGauge()
                            .Name("tickflow_kafka_group_partitions")
                            .Help("Partitions of the input topic assigned to this member of the consumer group")
                            .Register(reg);
    rebalances = &prometheus::BuildCounter()
                      .Name("tickflow_kafka_rebalances_total")
                      .Help("Partition assignments and revocations received from the group coordinator")
                      .Register(reg);
    produce_seconds = &prometheus::BuildHistogram()
                           .Name("tickflow_kafka_commit_produce_seconds")
                           .Help("Time from a bus transaction's produce until its records' acknowledgements were collected")
                           .Register(reg)
                           .Add({}, obs::latency_buckets());
  }
};

}  // namespace tickflow::bus::kafka::internal
