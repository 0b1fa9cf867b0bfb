// KafkaEventBus on a fake KafkaClient (no broker): the transaction order (records acknowledged
// before state and positions are written), failures, partition choice, topic checks.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "bus/kafka/kafka_bus.h"
#include "bus/kafka/tests/fake_kafka_client.h"
#include "bus/tests/test_dir.h"
#include "core/topics.h"

namespace tickflow::bus::kafka {
namespace {

using testing::FakeKafkaClient;

struct FakeBus {
  testing_util::TempDir dir;
  FakeKafkaClient* client = nullptr;
  std::unique_ptr<KafkaEventBus> bus;

  FakeBus() {
    auto c = std::make_unique<FakeKafkaClient>();
    client = c.get();
    KafkaBusOptions o;
    o.sidecar_path = dir.sub("sidecar");
    auto b = KafkaEventBus::open_with_client(std::move(c), o);
    EXPECT_TRUE(b.is_ok()) << b.status().to_string();
    bus = std::move(b).value();
  }
};

TEST(KafkaBusFake, RecordsAreAcknowledgedBeforeStateAndOffsetsAreWritten) {
  FakeBus f;
  ASSERT_TRUE(f.bus->create_topic({"out", 4, 0}).is_ok());
  bool checked = false;
  f.client->on_produce = [&](const std::vector<ProduceRecord>& recs) {
    // At produce time the transaction's state and positions must not be visible yet.
    EXPECT_EQ(recs.size(), 2u);
    EXPECT_FALSE(f.bus->get_state("stage", "k")->has_value());
    EXPECT_EQ(*f.bus->committed_offset("g", "in", 3), 0);
    checked = true;
  };
  auto txn = f.bus->begin();
  txn->append("out", "binance:BTC-USDT", "a");
  txn->append("out", "binance:ETH-USDT", "b");
  txn->put_state("stage", "k", "v1");
  txn->commit_offset("g", "in", 3, 42);
  ASSERT_TRUE(txn->commit().is_ok());
  EXPECT_TRUE(checked);
  EXPECT_EQ(f.client->count("out"), 2u);
  EXPECT_EQ(**f.bus->get_state("stage", "k"), "v1");
  EXPECT_EQ(*f.bus->committed_offset("g", "in", 3), 42);
  ASSERT_TRUE(f.bus->flush_group_offsets(5 * kNsPerSec).is_ok());
  EXPECT_EQ(*f.client->group_offset("g", "in", 3), 42);
}

TEST(KafkaBusFake, ProduceFailureLeavesStateAndOffsetsUnchanged) {
  FakeBus f;
  ASSERT_TRUE(f.bus->create_topic({"out", 2, 0}).is_ok());
  f.client->fail_next_produce(Status::unavailable("broker down"), /*keep=*/1);
  auto txn = f.bus->begin();
  txn->append("out", "a", "1");
  txn->append("out", "b", "2");
  txn->put_state("stage", "k", "v");
  txn->commit_offset("g", "in", 0, 7);
  Status st = txn->commit();
  ASSERT_FALSE(st.is_ok());
  EXPECT_TRUE(st.retryable());
  EXPECT_FALSE(f.bus->get_state("stage", "k")->has_value());
  EXPECT_EQ(*f.bus->committed_offset("g", "in", 0), 0);
  // The retry produces both records again: the first one is now in the log twice (the
  // documented duplicate that the sinks drop), and state + offsets are applied.
  ASSERT_TRUE(txn->commit().is_ok());
  EXPECT_EQ(f.client->count("out"), 3u);
  EXPECT_EQ(**f.bus->get_state("stage", "k"), "v");
  EXPECT_EQ(*f.bus->committed_offset("g", "in", 0), 7);
}

TEST(KafkaBusFake, MissingTopicFailsTheWholeCommitBeforeProducing) {
  FakeBus f;
  ASSERT_TRUE(f.bus->create_topic({"out", 2, 0}).is_ok());
  auto txn = f.bus->begin();
  txn->append("out", "a", "1");
  txn->append("nope", "a", "1");
  txn->put_state("stage", "k", "v");
  Status st = txn->commit();
  EXPECT_EQ(st.code(), ErrorCode::kNotFound) << st.to_string();
  EXPECT_EQ(f.client->count("out"), 0u);
  EXPECT_FALSE(f.bus->get_state("stage", "k")->has_value());
}

TEST(KafkaBusFake, PartitionIsTickflowsPartitioner) {
  FakeBus f;
  ASSERT_TRUE(f.bus->create_topic({"out", 30, 0}).is_ok());
  std::vector<ProduceRecord> seen;
  f.client->on_produce = [&](const std::vector<ProduceRecord>& recs) { seen.insert(seen.end(), recs.begin(), recs.end()); };
  const char* keys[] = {"binance:BTC-USDT", "binance:ETH-USDT", "coinbase:BTC-USD", "kraken:BTC-USD", "x"};
  for (const char* k : keys) ASSERT_TRUE(f.bus->publish("out", k, "v").is_ok());
  ASSERT_EQ(seen.size(), 5u);
  for (size_t i = 0; i < seen.size(); ++i) EXPECT_EQ(seen[i].partition, topics::partition_for(keys[i], 30)) << keys[i];
}

TEST(KafkaBusFake, CreatesMissingTopicsWithRetentionAndRejectsFewerPartitions) {
  FakeBus f;
  ASSERT_TRUE(f.bus->create_topic({"t", 6, 2 * kNsPerDay}).is_ok());
  ASSERT_EQ(f.client->created.size(), 1u);
  EXPECT_EQ(f.client->created[0].partitions, 6);
  EXPECT_EQ(f.bus->topic("t")->retention, 2 * kNsPerDay);
  // Existing with as many: fine, nothing created. Existing with fewer than configured: error.
  EXPECT_TRUE(f.bus->create_topic({"t", 6, 0}).is_ok());
  EXPECT_EQ(f.client->created.size(), 1u);
  f.client->add_topic("small", 3);
  Status st = f.bus->create_topic({"small", 30, 0});
  EXPECT_EQ(st.code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(st.message().find("3 partitions, fewer than the 30 configured"), std::string::npos) << st.message();
}

TEST(KafkaBusFake, HeadersComeFromTheEnvelope) {
  FakeBus f;
  ASSERT_TRUE(f.bus->create_topic({"out", 1, 0}).is_ok());
  std::vector<ProduceRecord> seen;
  f.client->on_produce = [&](const std::vector<ProduceRecord>& recs) { seen.insert(seen.end(), recs.begin(), recs.end()); };
  // tickflow.v1.Envelope{schema_version: 1, event_id: "ev-1", ts_publish_ns: 5}
  const std::string env = std::string("\x08\x01\x12\x04" "ev-1\x18\x05", 9);
  ASSERT_TRUE(f.bus->publish("out", "k", env).is_ok());
  ASSERT_TRUE(f.bus->publish("out", "k", "not an envelope").is_ok());
  ASSERT_EQ(seen.size(), 2u);
  using H = std::vector<std::pair<std::string, std::string>>;
  EXPECT_EQ(seen[0].headers, (H{{"schema-version", "1"}, {"event-id", "ev-1"}}));
  EXPECT_TRUE(seen[1].headers.empty());
}

TEST(KafkaBusFake, WaitForDataWakesOnOwnCommitAndWakeAll) {
  FakeBus f;
  ASSERT_TRUE(f.bus->create_topic({"out", 1, 0}).is_ok());
  const uint64_t v0 = f.bus->data_version("out");
  std::thread t([&] { ASSERT_TRUE(f.bus->publish("out", "k", "v").is_ok()); });
  const uint64_t v1 = f.bus->wait_for_data("out", v0, 60 * kNsPerSec);
  t.join();
  EXPECT_NE(v1, v0);
  // wake_all ends a wait without new data (a waiter that started after a wake_all keeps
  // waiting, so keep waking until it has returned).
  std::atomic<bool> returned{false};
  std::thread waiter([&] {
    EXPECT_EQ(f.bus->wait_for_data("out", v1, 600 * kNsPerSec), v1);
    returned = true;
  });
  while (!returned) {
    f.bus->wake_all();
    std::this_thread::yield();
  }
  waiter.join();
}

}  // namespace
}  // namespace tickflow::bus::kafka
