// RdKafkaGroupClient against librdkafka's mock cluster in-process: a second member joining gets
// partitions from the first (incremental revocation), and a member leaving gives its partitions
// back. Waits on conditions.
#include <gtest/gtest.h>

#include <chrono>
#include <mutex>
#include <set>
#include <thread>

#include "bus/kafka/rdkafka_group.h"
#include "tests/servers/kafka_mock_cluster.h"

namespace tickflow::bus::kafka {
namespace {

using namespace std::chrono_literals;

struct Owned {
  std::mutex mu;
  std::set<int32_t> parts;
  size_t size() {
    std::lock_guard lock(mu);
    return parts.size();
  }
  GroupListener listener() {
    GroupListener l;
    l.assigned = [this](const std::vector<int32_t>& ps) {
      std::lock_guard lock(mu);
      parts.insert(ps.begin(), ps.end());
    };
    l.revoked = [this](const std::vector<int32_t>& ps) {
      std::lock_guard lock(mu);
      for (int32_t p : ps) parts.erase(p);
    };
    return l;
  }
};

bool eventually(const std::function<bool()>& pred, std::chrono::seconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (pred()) return true;
    std::this_thread::sleep_for(50ms);
  }
  return false;
}

TEST(KafkaGroupMock, MembersShareThePartitionsAndTakeOverOnLeave) {
  std::string error;
  auto cluster = testing::KafkaMockCluster::start(3, &error);
  ASSERT_TRUE(cluster) << error;
  ASSERT_TRUE(cluster->create_topic("in", 6, &error)) << error;
  GroupClientOptions o;
  o.bootstrap_servers = cluster->bootstrap();
  o.group = "g";
  o.topic = "in";
  o.session_timeout = 4 * kNsPerSec;
  if (const char* d = std::getenv("TICKFLOW_KAFKA_DEBUG")) o.properties["debug"] = d;
  Owned a, b;
  auto ma = RdKafkaGroupClient::open(o, a.listener());
  ASSERT_TRUE(ma.is_ok()) << ma.status().to_string();
  ASSERT_TRUE(eventually([&] { return a.size() == 6; }, 30s)) << a.size();
  auto mb = RdKafkaGroupClient::open(o, b.listener());
  ASSERT_TRUE(mb.is_ok()) << mb.status().to_string();
  ASSERT_TRUE(eventually([&] { return b.size() > 0 && a.size() > 0 && a.size() + b.size() == 6; }, 40s))
      << "a " << a.size() << ", b " << b.size();
  ma->reset();  // a leaves
  EXPECT_TRUE(eventually([&] { return b.size() == 6; }, 40s)) << "b " << b.size();
}

}  // namespace
}  // namespace tickflow::bus::kafka
