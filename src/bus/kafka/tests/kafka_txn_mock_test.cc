// Kafka transactions against librdkafka's mock cluster in-process (real protocol: InitProducerId,
// AddPartitionsToTxn, AddOffsetsToTxn, TxnOffsetCommit, EndTxn), with request errors injected
// (rd_kafka_mock_push_request_errors). The mock does NOT enforce transactions: records of an
// aborted transaction are visible to read_committed readers and transactional offsets are not
// stored. So exactly-once is checked at the sink: a stage loop retries each batch until its
// commit succeeds (as CandleProcessor does), the sink upserts by event id, and the sink holds
// every batch's records exactly once, with the positions at the last batch; what Kafka itself
// holds (duplicates from aborted attempts included) is printed.
#include <gtest/gtest.h>

#include <map>

#include "bus/kafka/kafka_bus.h"
#include "bus/tests/test_dir.h"
#include "tests/servers/kafka_mock_cluster.h"

namespace tickflow::bus::kafka {
namespace {

using tickflow::testing::KafkaMockCluster;

class KafkaTxnMockTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string error;
    cluster_ = KafkaMockCluster::start(3, &error);
    ASSERT_TRUE(cluster_) << error;
    ASSERT_TRUE(cluster_->create_topic("in", 4, &error)) << error;
    ASSERT_TRUE(cluster_->create_topic("out", 4, &error)) << error;
    KafkaBusOptions o;
    o.bootstrap_servers = cluster_->bootstrap();
    o.sidecar_path = dir_.sub("sidecar");
    o.timeout = 15 * kNsPerSec;
    o.exactly_once = true;
    o.transactional_id = "tickflow-mock-test";
    o.mirror_group_offsets = false;
    auto b = KafkaEventBus::open(o);
    ASSERT_TRUE(b.is_ok()) << b.status().to_string();
    bus_ = std::move(b).value();
    ASSERT_TRUE(bus_->create_topic({"out", 4, 0}).is_ok());
    ASSERT_TRUE(bus_->create_topic({"in", 4, 0}).is_ok());
  }

  // Batch i: 5 records (event ids i.0 .. i.4, spread over the partitions) and position i + 1 of
  // "in"/0, retried until committed. Returns the failed attempts.
  int commit_batch(int i) {
    int failed = 0;
    for (int attempt = 0; attempt < 50; ++attempt) {
      auto txn = bus_->begin();
      for (int j = 0; j < 5; ++j) {
        const std::string id = std::to_string(i) + "." + std::to_string(j);
        txn->append("out", "binance:S" + std::to_string(j), "event " + id);
      }
      txn->put_state("stage", "last", std::to_string(i));
      txn->commit_offset("processor", "in", 0, i + 1);
      Status st = txn->commit();
      if (st.is_ok()) return failed;
      EXPECT_TRUE(st.retryable()) << st.to_string();
      ++failed;
    }
    ADD_FAILURE() << "batch " << i << " never committed";
    return failed;
  }

  // The sink: every record of "out", upserted by event id (what the historical loader does by
  // trade key / candle revision). Returns the raw record count.
  size_t sink(std::map<std::string, int>& by_event) {
    size_t raw = 0;
    for (int32_t p = 0; p < 4; ++p) {
      std::vector<Record> recs;
      EXPECT_TRUE(bus_->read("out", p, 0, 1u << 20, recs).is_ok());
      raw += recs.size();
      for (const auto& r : recs) ++by_event[r.value];
    }
    return raw;
  }

  void expect_exactly_once_at_sink(int batches) {
    std::map<std::string, int> by_event;
    const size_t raw = sink(by_event);
    EXPECT_EQ(by_event.size(), static_cast<size_t>(batches * 5));
    for (int i = 0; i < batches; ++i)
      for (int j = 0; j < 5; ++j)
        EXPECT_TRUE(by_event.count("event " + std::to_string(i) + "." + std::to_string(j))) << i << "." << j;
    EXPECT_EQ(*bus_->committed_offset("processor", "in", 0), batches);
    EXPECT_EQ(**bus_->get_state("stage", "last"), std::to_string(batches - 1));
    auto s = bus_->transaction_stats();
    std::printf("kafka holds %zu records for %d distinct events (mock: aborted records stay visible); "
                "transactions: %llu committed, %llu aborted, %llu producer starts, %llu retried calls\n",
                raw, batches * 5, static_cast<unsigned long long>(s.commits), static_cast<unsigned long long>(s.aborts),
                static_cast<unsigned long long>(s.producer_starts),
                static_cast<unsigned long long>(s.retried_calls));
  }

  testing_util::TempDir dir_;
  std::unique_ptr<KafkaMockCluster> cluster_;
  std::unique_ptr<KafkaEventBus> bus_;
};

TEST_F(KafkaTxnMockTest, BatchesCommitAsTransactionsOnTheMockCluster) {
  for (int i = 0; i < 10; ++i) EXPECT_EQ(commit_batch(i), 0);
  expect_exactly_once_at_sink(10);
  EXPECT_EQ(bus_->transaction_stats().commits, 10u);
  EXPECT_EQ(bus_->transaction_stats().producer_starts, 1u);
}

TEST_F(KafkaTxnMockTest, InjectedTransactionalRequestErrorsAreRetriedWithoutDuplicatesAtTheSink) {
  ASSERT_EQ(commit_batch(0), 0);  // producer initialised, coordinator known
  int failed = 0;
  int batch = 1;
  struct Fault {
    const char* api;
    std::vector<const char*> errors;
  };
  // Retriable ones (librdkafka retries the request) and ones that fail the transaction
  // (abort, rewind, retry of the batch) or fence the producer (restart).
  const std::vector<Fault> faults = {
      {"Produce", {"NOT_LEADER_FOR_PARTITION", "REQUEST_TIMED_OUT"}},
      {"AddPartitionsToTxn", {"CONCURRENT_TRANSACTIONS", "COORDINATOR_NOT_AVAILABLE"}},
      {"AddOffsetsToTxn", {"COORDINATOR_LOAD_IN_PROGRESS"}},
      {"TxnOffsetCommit", {"COORDINATOR_LOAD_IN_PROGRESS", "NOT_COORDINATOR"}},
      {"EndTxn", {"COORDINATOR_NOT_AVAILABLE", "NOT_COORDINATOR"}},
      {"Produce", {"TOPIC_AUTHORIZATION_FAILED"}},
      {"TxnOffsetCommit", {"UNKNOWN_MEMBER_ID"}},
      {"EndTxn", {"PRODUCER_FENCED"}},
      {"AddPartitionsToTxn", {"INVALID_TXN_STATE"}},
  };
  for (const Fault& f : faults) {
    std::string cmd = std::string("errors ") + f.api + " ";
    for (size_t i = 0; i < f.errors.size(); ++i) cmd += (i ? "," : "") + std::string(f.errors[i]);
    ASSERT_EQ(cluster_->execute(cmd), "") << cmd;
    const int before = failed;
    failed += commit_batch(batch++);
    failed += commit_batch(batch++);
    std::printf("%-60s failed commits %d\n", cmd.c_str(), failed - before);
  }
  expect_exactly_once_at_sink(batch);
  const auto s = bus_->transaction_stats();
  // The injected failures were seen (retried inside librdkafka, or aborted / restarted here).
  EXPECT_GT(failed + static_cast<int>(s.aborts + s.retried_calls + s.producer_starts - 1), 0);
  EXPECT_EQ(s.commits, static_cast<uint64_t>(batch));
}

}  // namespace
}  // namespace tickflow::bus::kafka
