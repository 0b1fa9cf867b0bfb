// KafkaEventBus against librdkafka's mock cluster (3 brokers on loopback, in this process:
// tests/servers/kafka_mock_cluster.h). Real Kafka protocol, real librdkafka client.
#include <gtest/gtest.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include <atomic>
#include <map>
#include <thread>

#include "bus/factory.h"
#include "bus/kafka/kafka_bus.h"
#include "bus/tests/test_dir.h"
#include "core/topics.h"
#include "tests/servers/kafka_mock_cluster.h"

namespace tickflow::bus::kafka {
namespace {

using tickflow::testing::KafkaMockCluster;
constexpr int16_t kProduceApi = 0;  // Kafka protocol ApiKey of ProduceRequest

class KafkaBusTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string error;
    cluster_ = KafkaMockCluster::start(3, &error);
    ASSERT_TRUE(cluster_) << error;
  }

  KafkaBusOptions options(const std::string& sidecar = "sidecar") const {
    KafkaBusOptions o;
    o.bootstrap_servers = cluster_->bootstrap();
    o.sidecar_path = dir_.sub(sidecar);
    o.timeout = 15 * kNsPerSec;
    return o;
  }

  std::unique_ptr<KafkaEventBus> open(const KafkaBusOptions& o) {
    auto b = KafkaEventBus::open(o);
    EXPECT_TRUE(b.is_ok()) << b.status().to_string();
    return b ? std::move(b).value() : nullptr;
  }

  // A topic created through the mock (it has no CreateTopics), then checked by the bus.
  void make_topic(KafkaEventBus& bus, const std::string& name, int partitions) {
    std::string error;
    ASSERT_TRUE(cluster_->create_topic(name, partitions, &error)) << error;
    Status st = bus.create_topic({name, partitions, kNsPerDay});
    ASSERT_TRUE(st.is_ok()) << st.to_string();
  }

  std::vector<Record> read_all(const EventBus& bus, const std::string& topic, int32_t p, int64_t from = 0) {
    std::vector<Record> out;
    Status st = bus.read(topic, p, from, 1u << 30, out);
    EXPECT_TRUE(st.is_ok()) << st.to_string();
    return out;
  }

  testing_util::TempDir dir_;
  std::unique_ptr<KafkaMockCluster> cluster_;
};

TEST_F(KafkaBusTest, PublishAndReadInOffsetOrderPerPartition) {
  auto bus = open(options());
  make_topic(*bus, "t", 6);
  EXPECT_EQ(bus->topic("t")->partitions, 6);
  // 20 series, 10 records each, in transactions of 10 records.
  std::map<std::string, int> next_seq;
  for (int txn_no = 0; txn_no < 20; ++txn_no) {
    auto txn = bus->begin();
    for (int i = 0; i < 10; ++i) {
      const std::string key = "binance:S" + std::to_string((txn_no * 10 + i) % 20);
      txn->append("t", key, key + "#" + std::to_string(next_seq[key]++));
    }
    ASSERT_TRUE(txn->commit().is_ok());
  }
  size_t total = 0;
  for (int32_t p = 0; p < 6; ++p) {
    std::vector<Record> recs = read_all(*bus, "t", p);
    std::map<std::string, int> seq;
    for (size_t i = 0; i < recs.size(); ++i) {
      const Record& r = recs[i];
      EXPECT_EQ(r.offset, static_cast<int64_t>(i));  // dense from 0
      EXPECT_EQ(r.partition, p);
      EXPECT_EQ(topics::partition_for(r.key, 6), p) << r.key;
      EXPECT_EQ(r.value, r.key + "#" + std::to_string(seq[r.key]++));  // per-key order kept
      EXPECT_GT(r.timestamp, 0);
    }
    total += recs.size();
    EXPECT_EQ(*bus->end_offset("t", p), static_cast<int64_t>(recs.size()));
    EXPECT_EQ(*bus->begin_offset("t", p), 0);
    if (recs.size() > 3) {
      // From the middle, limited, and one record exactly.
      std::vector<Record> mid;
      ASSERT_TRUE(bus->read("t", p, 2, 1, mid).is_ok());
      ASSERT_EQ(mid.size(), 1u);
      EXPECT_EQ(mid[0].value, recs[2].value);
      EXPECT_EQ(bus->read_one("t", p, 3)->value, recs[3].value);
      EXPECT_EQ(bus->read_one("t", p, static_cast<int64_t>(recs.size())).status().code(), ErrorCode::kNotFound);
    }
  }
  EXPECT_EQ(total, 200u);
  // Reading past the end returns nothing at once; bad partitions and topics are errors.
  std::vector<Record> none;
  ASSERT_TRUE(bus->read("t", 0, 1000, 10, none).is_ok());
  EXPECT_TRUE(none.empty());
  EXPECT_EQ(bus->read("t", 6, 0, 10, none).code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(bus->read("nope", 0, 0, 10, none).code(), ErrorCode::kNotFound);
}

TEST_F(KafkaBusTest, PartitionChoiceEqualsTheEmbeddedBus) {
  auto kbus = open(options());
  make_topic(*kbus, "normalized.ohlcv", 60);
  BusConfig ec;
  ec.backend = "embedded";
  ec.data_dir = dir_.sub("embedded");
  ec.topics = {TopicConfig{"normalized.ohlcv", 60, 0}};
  auto ebus = make_event_bus(ec);
  ASSERT_TRUE(ebus.is_ok()) << ebus.status().to_string();
  std::vector<std::string> keys;
  for (const char* ex : {"binance", "coinbase", "kraken"}) {
    for (const char* s : {"BTC-USDT", "ETH-USDT", "SOL-USDT", "BTC-USD", "ETH-USD", "XRP-USDT", "DOGE-USDT"}) {
      keys.push_back(std::string(ex) + ":" + s);
    }
  }
  for (const auto& k : keys) {
    ASSERT_TRUE(kbus->publish("normalized.ohlcv", k, k).is_ok());
    ASSERT_TRUE((*ebus)->publish("normalized.ohlcv", k, k).is_ok());
  }
  std::map<std::string, int32_t> kafka_partition, embedded_partition;
  for (int32_t p = 0; p < 60; ++p) {
    for (const Record& r : read_all(*kbus, "normalized.ohlcv", p)) kafka_partition[r.key] = p;
    for (const Record& r : read_all(**ebus, "normalized.ohlcv", p)) embedded_partition[r.key] = p;
  }
  EXPECT_EQ(kafka_partition.size(), keys.size());
  EXPECT_EQ(kafka_partition, embedded_partition);
}

TEST_F(KafkaBusTest, TransactionWritesRecordsThenStateAndOffsetsAndARestartSeesThem) {
  {
    auto bus = open(options());
    make_topic(*bus, "in", 2);
    make_topic(*bus, "out", 3);
    auto txn = bus->begin();
    txn->append("out", "binance:BTC-USDT", "candle-1");
    txn->append("out", "binance:ETH-USDT", "candle-2");
    txn->put_state("processor", "binance:BTC-USDT", "head-1");
    txn->put_state("processor", "binance:ETH-USDT", "head-2");
    txn->put_state("processor", "gone", "x");
    txn->delete_state("processor", "gone");
    txn->commit_offset("processor", "in", 1, 17);
    EXPECT_EQ(txn->appended(), 2u);
    ASSERT_TRUE(txn->commit().is_ok());

    int64_t out_records = 0;
    for (int32_t p = 0; p < 3; ++p) out_records += *bus->end_offset("out", p);
    EXPECT_EQ(out_records, 2);
    EXPECT_EQ(*bus->committed_offset("processor", "in", 1), 17);
    EXPECT_EQ(*bus->committed_offset("processor", "in", 0), 0);
    // Mirrored to Kafka's group offsets (for lag tooling).
    ASSERT_TRUE(bus->flush_group_offsets(15 * kNsPerSec).is_ok());
    EXPECT_EQ(*bus->client().group_offset("processor", "in", 1), 17);
  }
  // A new bus on the same sidecar and cluster: positions and state are there.
  auto bus = open(options());
  EXPECT_EQ(*bus->committed_offset("processor", "in", 1), 17);
  EXPECT_EQ(**bus->get_state("processor", "binance:ETH-USDT"), "head-2");
  EXPECT_FALSE(bus->get_state("processor", "gone")->has_value());
  std::vector<std::string> scanned;
  ASSERT_TRUE(bus->scan_state("processor", [&](std::string_view k, std::string_view v) {
                    scanned.push_back(std::string(k) + "=" + std::string(v));
                  }).is_ok());
  EXPECT_EQ(scanned, (std::vector<std::string>{"binance:BTC-USDT=head-1", "binance:ETH-USDT=head-2"}));
  EXPECT_EQ(bus->topic("out")->partitions, 3);  // from the cluster's metadata
  // Another process holding the sidecar is reported.
  auto second = KafkaEventBus::open(options());
  ASSERT_FALSE(second.is_ok());
  EXPECT_NE(second.status().message().find("in use by another tickflow process"), std::string::npos);
}

TEST_F(KafkaBusTest, InjectedProduceErrorsAreRetriedWithoutDuplicates) {
  auto bus = open(options());
  make_topic(*bus, "t", 3);
  // Partition p led by broker p+1, and retriable errors on each broker's next Produce requests
  // (the mock never appends a request it fails): the idempotent producer retries them inside
  // one commit; nothing fails and nothing is written twice.
  for (int32_t p = 0; p < 3; ++p) {
    ASSERT_EQ(rd_kafka_mock_partition_set_leader(cluster_->handle(), "t", p, p + 1), RD_KAFKA_RESP_ERR_NO_ERROR);
    ASSERT_EQ(rd_kafka_mock_broker_push_request_error_rtts(
                  cluster_->handle(), p + 1, kProduceApi, 4, RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION, 0,
                  RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT, 0, RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS, 0,
                  RD_KAFKA_RESP_ERR__TRANSPORT, 0),
              RD_KAFKA_RESP_ERR_NO_ERROR);
  }
  constexpr int kRecords = 300;
  for (int i = 0; i < kRecords; i += 30) {
    auto txn = bus->begin();
    for (int j = i; j < i + 30; ++j) txn->append("t", "k" + std::to_string(j % 7), std::to_string(j));
    Status st = txn->commit();
    ASSERT_TRUE(st.is_ok()) << st.to_string();
  }
  std::map<std::string, int> seen;
  for (int32_t p = 0; p < 3; ++p) {
    for (const Record& r : read_all(*bus, "t", p)) ++seen[r.value];
  }
  EXPECT_EQ(seen.size(), static_cast<size_t>(kRecords));
  for (const auto& [v, n] : seen) EXPECT_EQ(n, 1) << "record " << v << " written " << n << " times";
  // Every injected error was really hit.
  for (int32_t b = 1; b <= 3; ++b) {
    size_t left = 99;
    ASSERT_EQ(rd_kafka_mock_broker_error_stack_cnt(cluster_->handle(), b, kProduceApi, &left), RD_KAFKA_RESP_ERR_NO_ERROR);
    EXPECT_EQ(left, 0u) << "broker " << b;
  }
}

TEST_F(KafkaBusTest, ATopicWithFewerPartitionsThanConfiguredIsAnError) {
  auto bus = open(options());
  std::string error;
  ASSERT_TRUE(cluster_->create_topic("raw.market-data", 3, &error)) << error;
  Status st = bus->create_topic({"raw.market-data", 30, 7 * kNsPerDay});
  EXPECT_EQ(st.code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(st.message().find("raw.market-data exists in Kafka with 3 partitions, fewer than the 30 configured"),
            std::string::npos)
      << st.message();
  // The factory stops start-up with that error too.
  BusConfig bc;
  bc.backend = "kafka";
  bc.data_dir = dir_.sub("factory");
  bc.kafka_bootstrap_servers = cluster_->bootstrap();
  bc.topics = {TopicConfig{"raw.market-data", 30, 0}};
  auto made = make_event_bus(bc);
  ASSERT_FALSE(made.is_ok());
  EXPECT_NE(made.status().message().find("fewer than the 30 configured"), std::string::npos);
}

TEST_F(KafkaBusTest, AMissingTopicIsCreatedWithCreateTopicsWhichTheMockRefuses) {
  KafkaBusOptions o = options();
  o.timeout = 3 * kNsPerSec;  // the mock has no controller: CreateTopics waits for one this long
  auto bus = open(o);
  Status st = bus->create_topic({"brand.new", 4, kNsPerDay});
  // The mock has no CreateTopics: a clear error naming the topic, and no topic was auto-created.
  ASSERT_FALSE(st.is_ok());
  EXPECT_NE(st.message().find("cannot create topic brand.new (4 partitions): kafka CreateTopics"), std::string::npos)
      << st.message();
  EXPECT_FALSE(bus->client().partition_count("brand.new")->has_value());
  std::vector<Record> none;
  EXPECT_EQ(bus->read("brand.new", 0, 0, 1, none).code(), ErrorCode::kNotFound);
  EXPECT_EQ(bus->publish("brand.new", "k", "v").code(), ErrorCode::kNotFound);
}

TEST_F(KafkaBusTest, WaitForDataWakesOnAPublishFromAnotherProcess) {
  auto consumer = open(options("consumer"));
  auto producer = open(options("producer"));
  make_topic(*consumer, "t", 4);
  const uint64_t v0 = consumer->data_version("t");  // starts watching from the current end
  std::thread publisher([&] { ASSERT_TRUE(producer->publish("t", "binance:BTC-USDT", "x").is_ok()); });
  const uint64_t v1 = consumer->wait_for_data("t", v0, 60 * kNsPerSec);
  publisher.join();
  EXPECT_NE(v1, v0);
  // The record is readable once woken.
  const int32_t p = topics::partition_for("binance:BTC-USDT", 4);
  EXPECT_EQ(consumer->read_one("t", p, 0)->value, "x");
  // Its own commits wake it too.
  std::thread self_publisher([&] { ASSERT_TRUE(consumer->publish("t", "k", "y").is_ok()); });
  EXPECT_NE(consumer->wait_for_data("t", v1, 60 * kNsPerSec), v1);
  self_publisher.join();
}

TEST_F(KafkaBusTest, FactoryOpensKafkaAndRejectsBadProperties) {
  std::string error;
  ASSERT_TRUE(cluster_->create_topic("a", 2, &error)) << error;
  BusConfig bc;
  bc.backend = "kafka";
  bc.data_dir = dir_.sub("factory");
  bc.kafka_bootstrap_servers = cluster_->bootstrap();
  bc.topics = {TopicConfig{"a", 2, 0}};
  {
    auto made = make_event_bus(bc);
    ASSERT_TRUE(made.is_ok()) << made.status().to_string();
    ASSERT_TRUE((*made)->publish("a", "k", "v").is_ok());
    EXPECT_EQ((*made)->topics().size(), 1u);
  }
  bc.kafka_properties["no.such.property"] = "1";
  auto bad = make_event_bus(bc);
  ASSERT_FALSE(bad.is_ok());
  EXPECT_EQ(bad.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(bad.status().message().find("kafka.properties: no.such.property"), std::string::npos)
      << bad.status().message();
  bc.kafka_properties.clear();
  bc.kafka_bootstrap_servers.clear();
  EXPECT_NE(make_event_bus(bc).status().message().find("bus.kafka_bootstrap_servers"), std::string::npos);
}


TEST_F(KafkaBusTest, ReadOnlyBusReadsAndWaitsButWritesNothing) {
  auto writer = open(options("writer"));
  make_topic(*writer, "t", 4);
  ASSERT_TRUE(writer->publish("t", "binance:BTC-USDT", "x").is_ok());
  BusConfig bc;
  bc.backend = "kafka";
  bc.kafka_bootstrap_servers = cluster_->bootstrap();
  bc.read_only = true;  // no data dir: nothing is kept locally
  auto made = make_event_bus(bc);
  ASSERT_TRUE(made.is_ok()) << made.status().to_string();
  EventBus& ro = **made;
  const int32_t p = topics::partition_for("binance:BTC-USDT", 4);
  ASSERT_EQ(ro.topic("t")->partitions, 4);
  EXPECT_EQ(*ro.end_offset("t", p), 1);
  EXPECT_EQ(ro.read_one("t", p, 0)->value, "x");
  // Another process's publish wakes it.
  const uint64_t v0 = ro.data_version("t");
  std::thread publisher([&] { ASSERT_TRUE(writer->publish("t", "binance:BTC-USDT", "y").is_ok()); });
  EXPECT_NE(ro.wait_for_data("t", v0, 60 * kNsPerSec), v0);
  publisher.join();
  EXPECT_EQ(ro.read_one("t", p, 1)->value, "y");
  // Writes are refused and change nothing; no positions or state of its own.
  Status st = ro.publish("t", "k", "z");
  EXPECT_EQ(st.code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(st.message().find("read-only"), std::string::npos) << st.message();
  auto txn = ro.begin();
  txn->append("t", "k", "z");
  txn->put_state("ns", "k", "v");
  EXPECT_EQ(txn->commit().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(ro.create_topic({"u", 1, 0}).code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(*ro.committed_offset("g", "t", p), 0);
  EXPECT_FALSE(ro.get_state("ns", "k")->has_value());
  EXPECT_EQ(*writer->end_offset("t", p), 2);
  EXPECT_EQ(*writer->end_offset("t", topics::partition_for("k", 4)), topics::partition_for("k", 4) == p ? 2 : 0);
}

}  // namespace
}  // namespace tickflow::bus::kafka

namespace tickflow::bus::kafka {
namespace {

// Transaction::commit_async (the processor's pipelined commits): several commits in flight keep
// their records in order per partition; each applies its state and position only when waited
// for, and a cancelled one applies nothing.
TEST_F(KafkaBusTest, PipelinedCommitsKeepOrderAndApplyStateAndPositionsOnlyWhenWaitedFor) {
  auto bus = open(options());
  make_topic(*bus, "t", 3);
  make_topic(*bus, "in", 1);
  std::map<std::string, int> next_seq;
  std::vector<std::unique_ptr<PendingCommit>> pending;
  for (int n = 0; n < 5; ++n) {
    auto txn = bus->begin();
    for (int i = 0; i < 40; ++i) {
      const std::string key = "binance:S" + std::to_string(i % 4);
      txn->append("t", key, key + "#" + std::to_string(next_seq[key]++));
    }
    txn->put_state("stage", "k", std::to_string(n));
    txn->commit_offset("g", "in", 0, (n + 1) * 10);
    pending.push_back(txn->commit_async());
  }
  // Started, not finished: nothing local is applied before its wait().
  EXPECT_FALSE(bus->get_state("stage", "k")->has_value());
  EXPECT_EQ(*bus->committed_offset("g", "in", 0), 0);
  for (int n = 0; n < 5; ++n) {
    Status st = pending[static_cast<size_t>(n)]->wait();
    ASSERT_TRUE(st.is_ok()) << st.to_string();
    EXPECT_TRUE(pending[static_cast<size_t>(n)]->ready());
    EXPECT_EQ(**bus->get_state("stage", "k"), std::to_string(n));
    EXPECT_EQ(*bus->committed_offset("g", "in", 0), (n + 1) * 10);
  }
  // Every series' records in the order they were appended, across the five commits.
  std::map<std::string, int> seen;
  for (int32_t p = 0; p < 3; ++p) {
    for (const Record& r : read_all(*bus, "t", p)) {
      EXPECT_EQ(r.value, r.key + "#" + std::to_string(seen[r.key]++)) << "partition " << p << "@" << r.offset;
    }
  }
  EXPECT_EQ(seen, next_seq);

  // Cancelled: its records may be in Kafka (as after a failed commit), its state and position not.
  auto txn = bus->begin();
  txn->append("t", "binance:S0", "cancelled");
  txn->put_state("stage", "k", "cancelled");
  txn->commit_offset("g", "in", 0, 999);
  auto cancelled = txn->commit_async();
  cancelled->cancel();
  EXPECT_TRUE(cancelled->ready());
  EXPECT_EQ(**bus->get_state("stage", "k"), "4");
  EXPECT_EQ(*bus->committed_offset("g", "in", 0), 50);
}

}  // namespace
}  // namespace tickflow::bus::kafka
