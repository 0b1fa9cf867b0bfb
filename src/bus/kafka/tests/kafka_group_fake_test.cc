// KafkaEventBus consumer groups on fakes (no broker): the state changelog written with every
// commit, its replay on another member (full, incremental, commits cut short dropped), the
// revocation handshake, offsets mirrored through the member, the operations metrics.
#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <memory>
#include <thread>

#include "bus/kafka/kafka_bus.h"
#include "bus/kafka/tests/fake_kafka_client.h"
#include "bus/tests/test_dir.h"
#include "observability/metrics.h"

namespace tickflow::bus::kafka {
namespace {

using testing::FakeKafkaClient;
using namespace std::chrono_literals;

// Several buses (members) on one fake cluster.
class SharedClient final : public KafkaClient {
 public:
  explicit SharedClient(FakeKafkaClient& c) : c_(c) {}
  Result<std::optional<int32_t>> partition_count(std::string_view t) override { return c_.partition_count(t); }
  Result<std::vector<std::pair<std::string, int32_t>>> list_topics() override { return c_.list_topics(); }
  Status create_topic(const TopicConfig& config, int rf) override { return c_.create_topic(config, rf); }
  Status produce(const std::vector<ProduceRecord>& r, std::vector<int64_t>* o) override { return c_.produce(r, o); }
  Status fetch(std::string_view t, int32_t p, int64_t from, size_t max, std::vector<Record>& out) override {
    ++fetches;
    return c_.fetch(t, p, from, max, out);
  }
  Result<Watermarks> watermarks(std::string_view t, int32_t p) override { return c_.watermarks(t, p); }
  Status commit_group_offsets(std::string_view g, const std::vector<GroupOffset>& o) override {
    return c_.commit_group_offsets(g, o);
  }
  Result<int64_t> group_offset(std::string_view g, std::string_view t, int32_t p) override {
    return c_.group_offset(g, t, p);
  }
  void set_data_listener(std::function<void(std::string_view)>) override {}
  Status watch(std::string_view) override { return Status::ok(); }
  std::atomic<int> fetches{0};

 private:
  FakeKafkaClient& c_;
};

// The group coordinator's side: the test assigns and revokes.
class FakeGroupClient final : public GroupClient {
 public:
  FakeGroupClient(GroupClientOptions o, GroupListener l) : options(std::move(o)), listener(std::move(l)) {}
  Status commit(const std::vector<GroupOffset>& offsets) override {
    std::lock_guard lock(mu);
    for (const auto& o : offsets) committed[o.partition] = o.next_offset;
    return Status::ok();
  }
  GroupClientOptions options;
  GroupListener listener;
  std::mutex mu;
  std::map<int32_t, int64_t> committed;
};

// State keys "<partition digit>..." belong to that input partition.
int32_t digit_partition(std::string_view key, int32_t) { return key.empty() ? 0 : key[0] - '0'; }

struct Member {
  testing_util::TempDir dir;
  SharedClient* client = nullptr;
  FakeGroupClient* group = nullptr;
  std::unique_ptr<KafkaEventBus> bus;
  std::unique_ptr<GroupMembership> membership;

  explicit Member(FakeKafkaClient& cluster) {
    auto c = std::make_unique<SharedClient>(cluster);
    client = c.get();
    KafkaBusOptions o;
    o.sidecar_path = dir.sub("sidecar");
    o.metrics_interval = 10 * kNsPerMs;
    o.group_client_factory = [this](const GroupClientOptions& go, GroupListener l) -> Result<std::unique_ptr<GroupClient>> {
      auto g = std::make_unique<FakeGroupClient>(go, std::move(l));
      group = g.get();
      return std::unique_ptr<GroupClient>(std::move(g));
    };
    auto b = KafkaEventBus::open_with_client(std::move(c), o);
    EXPECT_TRUE(b.is_ok()) << b.status().to_string();
    bus = std::move(b).value();
  }
  void join() {
    GroupOptions go;
    go.group = "g";
    go.topic = "in";
    go.session_timeout = 4 * kNsPerSec;
    go.revoke_timeout = 5 * kNsPerSec;
    go.state_namespace = "st";
    go.store = "s";
    go.partition_of = digit_partition;
    auto m = bus->join_group(go);
    ASSERT_TRUE(m.is_ok()) << m.status().to_string();
    membership = std::move(m).value();
  }
  ~Member() {
    membership.reset();
    bus.reset();
  }
  std::optional<std::string> state(const std::string& key) { return *bus->get_state("st", key); }
};

FakeKafkaClient& cluster_with_input(FakeKafkaClient& c) {
  c.add_topic("in", 4);
  c.add_topic("out", 2);
  return c;
}

TEST(KafkaGroupFake, CommitsWriteStateAndAPositionMarkerToTheCompactedChangelog) {
  FakeKafkaClient cluster;
  cluster_with_input(cluster);
  Member a(cluster);
  a.join();
  ASSERT_EQ(cluster.created.size(), 1u);
  EXPECT_EQ(cluster.created[0].name, "g-s-changelog");
  EXPECT_EQ(cluster.created[0].partitions, 4);
  EXPECT_TRUE(cluster.created[0].compact);
  EXPECT_EQ(a.group->options.group, "g");
  EXPECT_EQ(a.group->options.topic, "in");
  EXPECT_EQ(a.group->options.session_timeout, 4 * kNsPerSec);

  std::vector<ProduceRecord> seen;
  cluster.on_produce = [&](const std::vector<ProduceRecord>& r) { seen = r; };
  auto txn = a.bus->begin();
  txn->append("out", "k", "candle");
  txn->put_state("st", "1a", "x");
  txn->delete_state("st", "1c");
  txn->put_state("st", "2b", "y");
  txn->put_state("other", "1z", "not in a changelog");
  txn->commit_offset("g", "in", 1, 10);
  ASSERT_TRUE(txn->commit().is_ok());
  // Outputs first, then per partition its state records and a marker.
  ASSERT_EQ(seen.size(), 6u);
  EXPECT_EQ(seen[0].topic, "out");
  EXPECT_EQ(seen[1].topic, "g-s-changelog");
  EXPECT_EQ(seen[1].partition, 1);
  EXPECT_EQ(seen[1].key, "1a");
  EXPECT_EQ(seen[1].value, "Sx");
  EXPECT_EQ(seen[2].key, "1c");
  EXPECT_EQ(seen[2].value, "");  // tombstone
  EXPECT_EQ(seen[3].partition, 2);
  EXPECT_EQ(seen[3].key, "2b");
  std::set<std::pair<int32_t, std::string>> markers;
  for (size_t i = 4; i < 6; ++i) {
    EXPECT_EQ(seen[i].topic, "g-s-changelog");
    EXPECT_EQ(seen[i].key, "\x01position");
    markers.insert({seen[i].partition, seen[i].value.substr(0, 1)});
  }
  EXPECT_EQ(markers, (std::set<std::pair<int32_t, std::string>>{{1, "M"}, {2, "M"}}));
  EXPECT_EQ(cluster.count("g-s-changelog"), 5u);
  EXPECT_EQ(*a.state("1a"), "x");
  EXPECT_EQ(*a.bus->committed_offset("g", "in", 1), 10);
}

TEST(KafkaGroupFake, AnotherMemberRebuildsStateAndPositionFromTheChangelog) {
  FakeKafkaClient cluster;
  cluster_with_input(cluster);
  Member a(cluster), b(cluster);
  a.join();
  // b held stale state of partition 1 (an earlier ownership) and some of partition 3.
  {
    auto txn = b.bus->begin();
    txn->put_state("st", "1stale", "old");
    txn->put_state("st", "3mine", "kept");
    ASSERT_TRUE(txn->commit().is_ok());
  }
  b.join();
  for (int i = 0; i < 5; ++i) {
    auto txn = a.bus->begin();
    txn->put_state("st", "1head", "v" + std::to_string(i));
    txn->put_state("st", "1w" + std::to_string(i), "window");
    if (i > 0) txn->delete_state("st", "1w" + std::to_string(i - 1));
    txn->put_state("st", "3other", "p3");
    txn->commit_offset("g", "in", 1, 100 + i);
    ASSERT_TRUE(txn->commit().is_ok());
  }
  ASSERT_TRUE(b.membership->restore(1).is_ok());
  EXPECT_EQ(*b.state("1head"), "v4");
  EXPECT_EQ(*b.state("1w4"), "window");
  EXPECT_FALSE(b.state("1w3").has_value());
  EXPECT_FALSE(b.state("1stale").has_value()) << "a full restore replaces the partition's local state";
  EXPECT_EQ(*b.state("3mine"), "kept") << "other partitions are untouched";
  EXPECT_FALSE(b.state("3other").has_value());
  EXPECT_EQ(*b.bus->committed_offset("g", "in", 1), 104);

  // Up to date: no read at all. Then a continues; b replays only the new records.
  const int fetches = b.client->fetches.load();
  ASSERT_TRUE(b.membership->restore(1).is_ok());
  EXPECT_EQ(b.client->fetches.load(), fetches);
  {
    auto txn = a.bus->begin();
    txn->put_state("st", "1head", "v5");
    txn->commit_offset("g", "in", 1, 200);
    ASSERT_TRUE(txn->commit().is_ok());
  }
  ASSERT_TRUE(b.membership->restore(1).is_ok());
  EXPECT_EQ(*b.state("1head"), "v5");
  EXPECT_EQ(*b.state("1w4"), "window");
  EXPECT_EQ(*b.bus->committed_offset("g", "in", 1), 200);

  // b now owns partition 1 and writes; a gets it back and catches up from its own checkpoint.
  {
    auto txn = b.bus->begin();
    txn->put_state("st", "1head", "from b");
    txn->commit_offset("g", "in", 1, 300);
    ASSERT_TRUE(txn->commit().is_ok());
  }
  ASSERT_TRUE(a.membership->restore(1).is_ok());
  EXPECT_EQ(*a.state("1head"), "from b");
  EXPECT_EQ(*a.bus->committed_offset("g", "in", 1), 300);
}

TEST(KafkaGroupFake, RecordsOfACommitCutShortAreNotRestored) {
  FakeKafkaClient cluster;
  cluster_with_input(cluster);
  Member a(cluster), b(cluster);
  a.join();
  b.join();
  {
    auto txn = a.bus->begin();
    txn->put_state("st", "1a", "v1");
    txn->commit_offset("g", "in", 1, 10);
    ASSERT_TRUE(txn->commit().is_ok());
  }
  {
    // The broker acknowledges the first changelog record, then fails: a crash here leaves it.
    cluster.fail_next_produce(Status::unavailable("broker down"), 1);
    auto txn = a.bus->begin();
    txn->put_state("st", "1a", "BAD");
    txn->put_state("st", "1b", "BAD");
    txn->commit_offset("g", "in", 1, 20);
    ASSERT_FALSE(txn->commit().is_ok());
  }
  {  // a restart of a recomputes differently and commits
    auto txn = a.bus->begin();
    txn->put_state("st", "1b", "good");
    txn->commit_offset("g", "in", 1, 15);
    ASSERT_TRUE(txn->commit().is_ok());
  }
  {  // and a last commit is cut short too
    cluster.fail_next_produce(Status::unavailable("broker down"), 1);
    auto txn = a.bus->begin();
    txn->put_state("st", "1c", "BAD");
    txn->commit_offset("g", "in", 1, 30);
    ASSERT_FALSE(txn->commit().is_ok());
  }
  ASSERT_TRUE(b.membership->restore(1).is_ok());
  EXPECT_EQ(*b.state("1a"), "v1");
  EXPECT_EQ(*b.state("1b"), "good");
  EXPECT_FALSE(b.state("1c").has_value());
  EXPECT_EQ(*b.bus->committed_offset("g", "in", 1), 15);
}

TEST(KafkaGroupFake, RevocationWaitsUntilTheOwnerReleases) {
  FakeKafkaClient cluster;
  cluster_with_input(cluster);
  Member a(cluster);
  a.join();
  a.group->listener.assigned({0, 2, 3});
  GroupAssignment as = a.membership->assignment();
  EXPECT_EQ(as.owned, (std::vector<int32_t>{0, 2, 3}));
  a.membership->release(as.generation);
  std::atomic<bool> returned{false};
  std::thread coordinator([&] {
    a.group->listener.revoked({2});
    returned = true;
  });
  // The revocation is visible at once; the coordinator's call waits for release().
  GroupAssignment next;
  for (;;) {
    next = a.membership->assignment();
    if (next.generation != as.generation) break;
    std::this_thread::yield();
  }
  EXPECT_EQ(next.owned, (std::vector<int32_t>{0, 3}));
  EXPECT_FALSE(returned.load());
  a.membership->release(next.generation);
  coordinator.join();
  EXPECT_TRUE(returned.load());
  // Leaving: a pending revocation no longer waits.
  a.membership.reset();
}

TEST(KafkaGroupFake, AJoinedGroupsPositionsAreNotMirrored) {
  FakeKafkaClient cluster;
  cluster_with_input(cluster);
  Member a(cluster);
  a.join();
  auto txn = a.bus->begin();
  txn->put_state("st", "2k", "v");
  txn->commit_offset("g", "in", 2, 42);
  txn->commit_offset("solo", "out", 0, 7);
  ASSERT_TRUE(txn->commit().is_ok());
  ASSERT_TRUE(a.bus->flush_group_offsets(5 * kNsPerSec).is_ok());
  EXPECT_EQ(*cluster.group_offset("g", "in", 2), -1) << "no commit as a non-member of a group with members";
  EXPECT_EQ(*cluster.group_offset("solo", "out", 0), 7);
}

bool eventually(const std::function<bool()>& pred) {
  for (int i = 0; i < 500; ++i) {
    if (pred()) return true;
    std::this_thread::sleep_for(10ms);
  }
  return false;
}

TEST(KafkaGroupFake, ExportsLagCommitsStoreSizeAndRebuildTime) {
  FakeKafkaClient cluster;
  cluster_with_input(cluster);
  Member a(cluster), b(cluster);
  a.join();
  b.join();
  std::vector<ProduceRecord> input;
  for (int i = 0; i < 15; ++i) input.push_back({"in", 1, "k", "v", {}});
  ASSERT_TRUE(cluster.produce(input, nullptr).is_ok());
  auto txn = a.bus->begin();
  txn->put_state("st", "1k", std::string(1000, 'x'));
  txn->commit_offset("g", "in", 1, 10);
  ASSERT_TRUE(txn->commit().is_ok());
  ASSERT_TRUE(b.membership->restore(1).is_ok());
  const std::string lag = R"(tickflow_kafka_consumer_lag{group="g",partition="1",topic="in"} 5)";
  EXPECT_TRUE(eventually([&] { return obs::render_text().find(lag) != std::string::npos; })) << obs::render_text();
  const std::string text = obs::render_text();
  EXPECT_NE(text.find(R"(tickflow_kafka_commits_total{group="g"})"), std::string::npos);
  EXPECT_NE(text.find("tickflow_kafka_state_store_bytes "), std::string::npos);
  EXPECT_NE(text.find(R"(tickflow_kafka_state_rebuild_seconds_count{store="s"})"), std::string::npos);
  EXPECT_NE(text.find(R"(tickflow_kafka_state_rebuild_last_seconds{store="s"})"), std::string::npos);
  // A revoked partition's lag series goes away.
  b.group->listener.assigned({1});
  b.membership->release(b.membership->assignment().generation + 1);
  b.group->listener.revoked({1});
  a.group->listener.assigned({1});
  a.membership->release(a.membership->assignment().generation + 1);
  a.group->listener.revoked({1});
  EXPECT_TRUE(eventually([&] { return obs::render_text().find(lag) == std::string::npos; }));
}

}  // namespace
}  // namespace tickflow::bus::kafka

namespace tickflow::bus::kafka {
namespace {

// A commit with changelog records is not pipelined: its position marker names the previous
// marker's offset, known only once the previous commit is acknowledged. commit_async commits
// at once (state, position and changelog checkpoint applied before it returns).
TEST(KafkaGroupFake, ChangelogCommitsAreNotPipelined) {
  FakeKafkaClient cluster;
  cluster_with_input(cluster);
  Member a(cluster);
  a.join();
  for (int n = 1; n <= 2; ++n) {
    auto txn = a.bus->begin();
    txn->append("out", "k", "candle");
    txn->put_state("st", "1a", std::to_string(n));
    txn->commit_offset("g", "in", 1, 10 * n);
    auto pending = txn->commit_async();
    EXPECT_TRUE(pending->ready());
    EXPECT_EQ(*a.state("1a"), std::to_string(n));
    EXPECT_EQ(*a.bus->committed_offset("g", "in", 1), 10 * n);
    EXPECT_TRUE(pending->wait().is_ok());
  }
  // Two commits: each a state record and a marker, the second marker naming the first.
  EXPECT_EQ(cluster.count("g-s-changelog"), 4u);
  Member b(cluster);
  b.join();
  ASSERT_TRUE(b.membership->restore(1).is_ok());
  EXPECT_EQ(*b.state("1a"), "2");
  EXPECT_EQ(*b.bus->committed_offset("g", "in", 1), 20);
}

}  // namespace
}  // namespace tickflow::bus::kafka
