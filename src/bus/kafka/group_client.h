// GroupClient: the seam between KafkaEventBus's consumer-group membership and librdkafka (as
// KafkaClient is for records). A GroupClient joins one group subscribed to one topic and reports
// the partitions the group coordinator assigns to and revokes from this member (incrementally:
// cooperative-sticky). It consumes nothing: the bus reads the assigned partitions itself.
// RdKafkaGroupClient (rdkafka_group.h) is the real one; unit tests use a fake.
//
// Thread-safety: commit() from any thread; the listener is called from the client's thread.
// Lifecycle: made by a GroupClientFactory ... destructor (leaves the group; `revoked` is called
// for what is still assigned, and must then return promptly).
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "bus/kafka/kafka_client.h"

namespace tickflow::bus::kafka {

struct GroupClientOptions {
  std::string bootstrap_servers;
  std::map<std::string, std::string> properties;  // passed to librdkafka (SASL/SCRAM, TLS)
  std::string group;
  std::string topic;
  DurationNs session_timeout = 10 * kNsPerSec;  // session.timeout.ms (heartbeats every third)
};

struct GroupListener {
  // Newly assigned partitions (incremental).
  std::function<void(const std::vector<int32_t>&)> assigned;
  // Partitions taken away (incremental; also when the session was lost). The partitions move to
  // another member when this returns: it returns once the owner stopped touching them.
  std::function<void(const std::vector<int32_t>&)> revoked;
};

class GroupClient {
 public:
  virtual ~GroupClient() = default;
  // OffsetCommit as this member (Kafka refuses commits of non-members to a group with members).
  // Not used by KafkaEventBus: a synchronous commit racing the member's rebalance stalled its
  // rejoin on the mock cluster, so a joined group's positions are not mirrored.
  virtual Status commit(const std::vector<GroupOffset>& offsets) = 0;
};

using GroupClientFactory =
    std::function<Result<std::unique_ptr<GroupClient>>(const GroupClientOptions&, GroupListener)>;

}  // namespace tickflow::bus::kafka
