// Kafka transactions (processing.guarantee = "exactly_once_v2") on a fake client: the exact call
// sequence of a consume-transform-produce commit, abort + rewind on an abortable error, call
// retries on retriable ones, a new (fencing) producer after a fatal one, and which commits are
// not transactions at all. The records of a transaction only show in the fake's topics when it
// commits, as a read_committed consumer sees them.
#include <gtest/gtest.h>

#include "bus/kafka/kafka_bus.h"
#include "bus/kafka/tests/fake_kafka_client.h"
#include "bus/kafka/tests/fake_txn_producer.h"
#include "bus/tests/test_dir.h"

namespace tickflow::bus::kafka {
namespace {

using testing::FakeKafkaClient;
using testing::TxnLog;
using Calls = std::vector<std::string>;

struct TxnBus {
  testing_util::TempDir dir;
  FakeKafkaClient* client = nullptr;
  std::shared_ptr<TxnLog> log = std::make_shared<TxnLog>();
  std::unique_ptr<KafkaEventBus> bus;

  explicit TxnBus(std::string transactional_id = "tickflow-test-0") {
    auto c = std::make_unique<FakeKafkaClient>();
    client = c.get();
    c->add_topic("in", 4);
    c->add_topic("out", 4);
    testing::enable_fake_transactions(*c, log);
    KafkaBusOptions o;
    o.sidecar_path = dir.sub("sidecar");
    o.exactly_once = true;
    o.transactional_id = std::move(transactional_id);
    o.mirror_group_offsets = false;
    auto b = KafkaEventBus::open_with_client(std::move(c), o);
    EXPECT_TRUE(b.is_ok()) << b.status().to_string();
    bus = std::move(b).value();
  }

  // One consume-transform-produce batch: two outputs, state, positions of two groups.
  std::unique_ptr<Transaction> batch(int64_t next, const std::string& tag) {
    auto txn = bus->begin();
    txn->append("out", "binance:BTC-USDT", tag + "-a");
    txn->append("out", "binance:ETH-USDT", tag + "-b");
    txn->put_state("stage", "k", tag);
    txn->commit_offset("g", "in", 1, next);
    txn->commit_offset("g", "in", 2, next / 2);
    txn->commit_offset("h", "in", 3, next + 1);
    return txn;
  }
  int64_t position() { return *bus->committed_offset("g", "in", 1); }
};

const std::string kSendG10 = "send_offsets g in/1=10,in/2=5";
const std::string kSendH11 = "send_offsets h in/3=11";

TEST(KafkaTransactions, OneBatchIsInitBeginProduceSendOffsetsPerGroupCommitInThisOrder) {
  TxnBus t;
  ASSERT_TRUE(t.batch(10, "b1")->commit().is_ok());
  EXPECT_EQ(t.log->take(), (Calls{"create tickflow-test-0", "init_transactions", "begin_transaction", "produce 2",
                                  kSendG10, kSendH11, "commit_transaction"}));
  EXPECT_EQ(t.client->count("out"), 2u);
  EXPECT_EQ(t.position(), 10);
  EXPECT_EQ(**t.bus->get_state("stage", "k"), "b1");
  // The next batch reuses the producer: no second init_transactions.
  ASSERT_TRUE(t.batch(20, "b2")->commit().is_ok());
  EXPECT_EQ(t.log->take(), (Calls{"begin_transaction", "produce 2", "send_offsets g in/1=20,in/2=10",
                                  "send_offsets h in/3=21", "commit_transaction"}));
  EXPECT_EQ(t.client->count("out"), 4u);
  auto stats = t.bus->transaction_stats();
  EXPECT_EQ(stats.commits, 2u);
  EXPECT_EQ(stats.producer_starts, 1u);
}

TEST(KafkaTransactions, CommitsWithoutRecordsOrWithoutPositionsAreNoTransactions) {
  TxnBus t;
  // The collector: records, no consumed positions.
  ASSERT_TRUE(t.bus->publish("out", "binance:BTC-USDT", "raw").is_ok());
  // A loader: positions, no records.
  auto txn = t.bus->begin();
  txn->commit_offset("loader", "out", 0, 1);
  ASSERT_TRUE(txn->commit().is_ok());
  EXPECT_TRUE(t.log->take().empty());
  EXPECT_EQ(t.client->count("out"), 1u);
  EXPECT_EQ(*t.bus->committed_offset("loader", "out", 0), 1);
}

TEST(KafkaTransactions, AnAbortableErrorAbortsAndTheRetryStartsFromTheLastCommittedPositions) {
  TxnBus t;
  ASSERT_TRUE(t.batch(10, "b1")->commit().is_ok());
  t.log->take();
  // The second batch fails inside the transaction (its offsets could not be added).
  t.log->fail("send_offsets", TxnFailure::kAbortable);
  auto txn = t.batch(20, "b2");
  Status st = txn->commit();
  ASSERT_FALSE(st.is_ok());
  EXPECT_TRUE(st.retryable()) << st.to_string();
  EXPECT_NE(st.message().find("aborted"), std::string::npos) << st.message();
  EXPECT_EQ(t.log->take(),
            (Calls{"begin_transaction", "produce 2", "send_offsets g in/1=20,in/2=10", "abort_transaction"}));
  // Rewound: nothing of the aborted transaction is visible, positions and state are the last
  // committed ones (the stage rebuilds the batch from there, or retries the same one).
  EXPECT_EQ(t.client->count("out"), 2u);
  EXPECT_EQ(t.position(), 10);
  EXPECT_EQ(**t.bus->get_state("stage", "k"), "b1");
  // The retry of the same batch commits it once, with the same producer.
  ASSERT_TRUE(txn->commit().is_ok());
  EXPECT_EQ(t.log->take(), (Calls{"begin_transaction", "produce 2", "send_offsets g in/1=20,in/2=10",
                                  "send_offsets h in/3=21", "commit_transaction"}));
  EXPECT_EQ(t.client->count("out"), 4u);
  EXPECT_EQ(t.position(), 20);
  EXPECT_EQ(**t.bus->get_state("stage", "k"), "b2");
  EXPECT_EQ(t.bus->transaction_stats().aborts, 1u);
}

TEST(KafkaTransactions, AnAbortableProduceErrorAbortsBeforeAnyOffsetIsSent) {
  TxnBus t;
  t.log->fail("produce", TxnFailure::kAbortable);
  auto txn = t.batch(10, "b1");
  ASSERT_FALSE(txn->commit().is_ok());
  EXPECT_EQ(t.log->take(), (Calls{"create tickflow-test-0", "init_transactions", "begin_transaction", "produce 2",
                                  "abort_transaction"}));
  EXPECT_EQ(t.client->count("out"), 0u);
  EXPECT_EQ(t.position(), 0);
  ASSERT_TRUE(txn->commit().is_ok());
  EXPECT_EQ(t.client->count("out"), 2u);
}

TEST(KafkaTransactions, RetriableErrorsRetryTheSameCall) {
  TxnBus t;
  t.log->fail("init_transactions", TxnFailure::kRetriable);
  t.log->fail("commit_transaction", TxnFailure::kRetriable, 2);
  ASSERT_TRUE(t.batch(10, "b1")->commit().is_ok());
  EXPECT_EQ(t.log->take(),
            (Calls{"create tickflow-test-0", "init_transactions", "init_transactions", "begin_transaction", "produce 2",
                   kSendG10, kSendH11, "commit_transaction", "commit_transaction", "commit_transaction"}));
  EXPECT_EQ(t.client->count("out"), 2u);
  EXPECT_EQ(t.bus->transaction_stats().retried_calls, 3u);
}

TEST(KafkaTransactions, RetriableErrorsTooOftenAbort) {
  TxnBus t;
  t.log->fail("commit_transaction", TxnFailure::kRetriable, TransactionalCommitter::kCallAttempts);
  auto txn = t.batch(10, "b1");
  ASSERT_FALSE(txn->commit().is_ok());
  Calls calls = t.log->take();
  ASSERT_FALSE(calls.empty());
  EXPECT_EQ(calls.back(), "abort_transaction");
  EXPECT_EQ(std::count(calls.begin(), calls.end(), "commit_transaction"), TransactionalCommitter::kCallAttempts);
  EXPECT_EQ(t.client->count("out"), 0u);
  EXPECT_EQ(t.position(), 0);
}

TEST(KafkaTransactions, AFatalErrorRestartsTheProducerWhoseInitFencesTheOldOne) {
  TxnBus t;
  ASSERT_TRUE(t.batch(10, "b1")->commit().is_ok());
  t.log->take();
  // Fenced at commit (a zombie of this transactional.id, or an exhausted epoch).
  t.log->fail("commit_transaction", TxnFailure::kFatal);
  auto txn = t.batch(20, "b2");
  Status st = txn->commit();
  ASSERT_FALSE(st.is_ok());
  EXPECT_TRUE(st.retryable()) << st.to_string();
  // No abort on a fenced producer: it is dropped.
  EXPECT_EQ(t.log->take(), (Calls{"begin_transaction", "produce 2", "send_offsets g in/1=20,in/2=10",
                                  "send_offsets h in/3=21", "commit_transaction", "destroyed tickflow-test-0"}));
  EXPECT_EQ(t.client->count("out"), 2u);
  EXPECT_EQ(t.position(), 10);
  // The retry creates a new producer with the same transactional.id: init_transactions (which
  // fences any other instance of it), then the batch, once.
  ASSERT_TRUE(txn->commit().is_ok());
  EXPECT_EQ(t.log->take(), (Calls{"create tickflow-test-0", "init_transactions", "begin_transaction", "produce 2",
                                  "send_offsets g in/1=20,in/2=10", "send_offsets h in/3=21", "commit_transaction"}));
  EXPECT_EQ(t.client->count("out"), 4u);
  EXPECT_EQ(t.position(), 20);
  auto stats = t.bus->transaction_stats();
  EXPECT_EQ(stats.producer_starts, 2u);
  EXPECT_EQ(stats.commits, 2u);
}

TEST(KafkaTransactions, TheGeneratedTransactionalIdIsKeptPerDataDir) {
  std::string first;
  testing_util::TempDir dir;
  for (int run = 0; run < 2; ++run) {
    auto c = std::make_unique<FakeKafkaClient>();
    c->add_topic("in", 4);
    c->add_topic("out", 4);
    auto log = std::make_shared<TxnLog>();
    testing::enable_fake_transactions(*c, log);
    KafkaBusOptions o;
    o.sidecar_path = dir.sub("sidecar");
    o.exactly_once = true;
    o.mirror_group_offsets = false;
    auto bus = KafkaEventBus::open_with_client(std::move(c), o);
    ASSERT_TRUE(bus.is_ok()) << bus.status().to_string();
    auto txn = (*bus)->begin();
    txn->append("out", "k", "v");
    txn->commit_offset("g", "in", 0, run + 1);
    ASSERT_TRUE(txn->commit().is_ok());
    Calls calls = log->take();
    ASSERT_FALSE(calls.empty());
    ASSERT_EQ(calls.front().rfind("create tickflow-", 0), 0u) << calls.front();
    if (run == 0) first = calls.front();
    EXPECT_EQ(calls.front(), first);  // the restarted process fences its predecessor's producer
  }
}

}  // namespace
}  // namespace tickflow::bus::kafka
