// `tickflow tail TOPIC`: prints records as JSON lines, one per record, with their position.
// Either bus (bus.backend): the embedded log read-only, or Kafka topics (no local state).
#include <cstdio>

#include "app/commands.h"
#include "app/signals.h"
#include "bus/factory.h"
#include "core/codec.h"

namespace tickflow::app {

int cmd_tail(const TailOptions& o) {
  block_termination_signals();
  bus::BusConfig bc;
  bc.backend = o.bus_backend;
  bc.data_dir = o.data_dir;
  bc.kafka_bootstrap_servers = o.kafka_bootstrap_servers;
  bc.kafka_properties = o.kafka_properties;
  bc.read_only = true;  // safe while `tickflow run` holds the log; on Kafka, writes nothing locally
  auto bus = bus::make_event_bus(bc);
  if (!bus) {
    std::fprintf(stderr, "tickflow tail: %s\n", bus.status().message().c_str());
    return 1;
  }
  auto topic = (*bus)->topic(o.topic);
  if (!topic) {
    std::string names;
    for (const auto& t : (*bus)->topics()) names += " " + t.name;
    std::fprintf(stderr, "tickflow tail: unknown topic '%s' (topics:%s)\n", o.topic.c_str(), names.c_str());
    return 2;
  }
  const int32_t n = topic->partitions;
  std::vector<int64_t> pos(static_cast<size_t>(n));
  for (int32_t p = 0; p < n; ++p) {
    auto b = o.from_beginning ? (*bus)->begin_offset(o.topic, p) : (*bus)->end_offset(o.topic, p);
    pos[static_cast<size_t>(p)] = b ? *b : 0;
  }
  int64_t printed = 0;
  std::vector<bus::Record> recs;
  while (true) {
    uint64_t version = (*bus)->data_version(o.topic);
    bool any = false;
    for (int32_t p = 0; p < n; ++p) {
      recs.clear();
      if (Status st = (*bus)->read(o.topic, p, pos[static_cast<size_t>(p)], 1000, recs); !st) {
        std::fprintf(stderr, "tickflow tail: %s\n", st.message().c_str());
        return 1;
      }
      for (const auto& r : recs) {
        any = true;
        pos[static_cast<size_t>(p)] = r.offset + 1;
        auto json = codec::record_to_json(r.value);
        std::printf("{\"topic\":\"%s\",\"partition\":%d,\"offset\":%lld,\"key\":\"%s\",\"record\":%s}\n",
                    r.topic.c_str(), r.partition, static_cast<long long>(r.offset), r.key.c_str(),
                    json ? json->c_str() : "null");
        if (o.max_records > 0 && ++printed >= o.max_records) return 0;
      }
    }
    std::fflush(stdout);
    if (any) continue;
    if (!o.follow) return 0;
    (*bus)->wait_for_data(o.topic, version, 200 * kNsPerMs);
    if (wait_for_signal(0)) return 0;
  }
}

}  // namespace tickflow::app
