// RdKafkaGroupClient: GroupClient on librdkafka: a consumer handle subscribed to the topic with
// partition.assignment.strategy=cooperative-sticky, whose rebalance callback incrementally
// assigns (and pauses: nothing is fetched through it) or unassigns partitions and reports them to
// the listener; a thread polls it (heartbeats, rebalances). Defaults before the user's properties:
// session.timeout.ms from the options, heartbeat.interval.ms a third of it.
//
// Thread-safety: see group_client.h. Lifecycle: open() ... destructor (consumer close: leaves
// the group, revoking what is assigned, then joins the thread).
#pragma once

#include <librdkafka/rdkafka.h>

#include <atomic>
#include <thread>

#include "bus/kafka/group_client.h"

namespace tickflow::bus::kafka {

class RdKafkaGroupClient final : public GroupClient {
 public:
  // Errors: kInvalidArgument naming a property librdkafka rejected; kUnavailable when the
  // subscription fails.
  static Result<std::unique_ptr<GroupClient>> open(const GroupClientOptions& options, GroupListener listener);
  ~RdKafkaGroupClient() override;

  Status commit(const std::vector<GroupOffset>& offsets) override;

 private:
  RdKafkaGroupClient(GroupClientOptions options, GroupListener listener)
      : options_(std::move(options)), listener_(std::move(listener)) {}
  static void rebalance_cb(rd_kafka_t* rk, rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* parts,
                           void* opaque);
  void poll_loop();

  GroupClientOptions options_;
  GroupListener listener_;
  rd_kafka_t* rk_ = nullptr;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace tickflow::bus::kafka
