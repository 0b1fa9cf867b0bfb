// InMemoryBus (bus/testing/in_memory_bus.h), the fake other components' tests run on: it must
// keep the EventBus contract those tests rely on (partitioning, dense offsets, atomic commits,
// offsets and state, data versions and waking) and its fault injection must apply nothing.
#include "bus/testing/in_memory_bus.h"

#include <atomic>
#include <chrono>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "core/topics.h"

namespace tickflow::bus::testing {
namespace {

TEST(InMemoryBusTest, PartitionsByKeyWithDenseOffsetsAndKeepsCommitOrder) {
  InMemoryBus bus;
  EXPECT_FALSE(bus.topic("t").is_ok());
  ASSERT_TRUE(bus.create_topic({"t", 4, 0}).is_ok());
  ASSERT_TRUE(bus.create_topic({"t", 9, 0}).is_ok());  // existing: keeps 4 partitions
  EXPECT_EQ(bus.topic("t")->partitions, 4);

  const std::vector<std::string> keys = {"a", "b", "c", "d", "e", "a", "b", "a"};
  for (size_t i = 0; i < keys.size(); ++i) ASSERT_TRUE(bus.publish("t", keys[i], std::to_string(i)).is_ok());

  const auto all = bus.records("t");
  ASSERT_EQ(all.size(), keys.size());
  EXPECT_EQ(bus.count("t"), keys.size());
  std::map<int32_t, int64_t> next;
  for (size_t i = 0; i < all.size(); ++i) {
    EXPECT_EQ(all[i].value, std::to_string(i));  // commit order
    EXPECT_EQ(all[i].partition, topics::partition_for(keys[i], 4));
    EXPECT_EQ(all[i].offset, next[all[i].partition]++);  // dense per partition
  }
  int64_t total = 0;
  for (int32_t p = 0; p < 4; ++p) {
    std::vector<Record> part;
    ASSERT_TRUE(bus.read("t", p, 0, 100, part).is_ok());
    EXPECT_EQ(static_cast<int64_t>(part.size()), bus.end_offset("t", p).value());
    if (!part.empty()) {
      EXPECT_EQ(bus.read_one("t", p, 0)->value, part[0].value);
    }
    total += static_cast<int64_t>(part.size());
  }
  EXPECT_EQ(total, static_cast<int64_t>(keys.size()));
  std::vector<Record> none;
  EXPECT_EQ(bus.read("t", 4, 0, 1, none).code(), ErrorCode::kNotFound);
  EXPECT_EQ(bus.read_one("t", 0, 1000).status().code(), ErrorCode::kNotFound);
  EXPECT_EQ(bus.commits(), static_cast<int>(keys.size()));
}

TEST(InMemoryBusTest, CommitsAreAllOrNothingAndInjectedFailuresApplyNothing) {
  InMemoryBus bus(InMemoryBus::InitialTopics::kDefault);
  EXPECT_TRUE(bus.topic(topics::kRawMarketData).is_ok());
  EXPECT_TRUE(bus.topic(topics::kNormalizedOhlcv).is_ok());

  auto commit = [&](std::string_view topic, std::string value) {
    auto txn = bus.begin();
    txn->append(topic, "k", value);
    txn->commit_offset("g", topics::kRawMarketData, 0, 7);
    txn->put_state("ns", "key", value);
    EXPECT_EQ(txn->appended(), 1u);
    return txn->commit();
  };
  EXPECT_EQ(commit("missing", "x").code(), ErrorCode::kNotFound);

  bus.fail_commits(Status::unavailable("first"), 2);
  bus.fail_commits(Status::io_error("then"));
  ASSERT_TRUE(bus.publish(topics::kRawMarketData, "k", "fed").is_ok());  // publish is never failed
  EXPECT_EQ(commit(topics::kNormalizedOhlcv, "1").code(), ErrorCode::kUnavailable);
  EXPECT_EQ(commit(topics::kNormalizedOhlcv, "2").code(), ErrorCode::kUnavailable);
  EXPECT_EQ(commit(topics::kNormalizedOhlcv, "3").code(), ErrorCode::kIo);
  EXPECT_EQ(bus.count(topics::kNormalizedOhlcv), 0u);
  EXPECT_EQ(bus.committed_offset("g", topics::kRawMarketData, 0).value(), 0);
  EXPECT_FALSE(bus.get_state("ns", "key")->has_value());
  EXPECT_EQ(bus.commits(), 1);

  ASSERT_TRUE(commit(topics::kNormalizedOhlcv, "4").is_ok());
  EXPECT_EQ(bus.count(topics::kNormalizedOhlcv), 1u);
  EXPECT_EQ(bus.committed_offset("g", topics::kRawMarketData, 0).value(), 7);
  EXPECT_EQ(bus.get_state("ns", "key")->value(), "4");

  bus.fail_commits(Status::io_error("disk full"), InMemoryBus::kAlways);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(commit(topics::kNormalizedOhlcv, "x").code(), ErrorCode::kIo);
  EXPECT_EQ(bus.count(topics::kNormalizedOhlcv), 1u);
}

TEST(InMemoryBusTest, StateIsScannedInKeyOrderAndCanBeSeededOrDeleted) {
  InMemoryBus bus;
  bus.set_state("ns", "b", "2");
  bus.set_state("other", "a", "x");
  auto txn = bus.begin();
  txn->put_state("ns", "a", "1");
  txn->put_state("ns", "c", "3");
  txn->delete_state("ns", "b");
  ASSERT_TRUE(txn->commit().is_ok());
  std::vector<std::string> seen;
  ASSERT_TRUE(bus.scan_state("ns", [&](std::string_view k, std::string_view v) {
                   seen.push_back(std::string(k) + "=" + std::string(v));
                 }).is_ok());
  EXPECT_EQ(seen, (std::vector<std::string>{"a=1", "c=3"}));
}

TEST(InMemoryBusTest, WaitForDataReturnsOnANewCommitOrOnWakeAll) {
  InMemoryBus bus;
  ASSERT_TRUE(bus.create_topic({"t", 2, 0}).is_ok());
  const uint64_t v0 = bus.data_version("t");
  auto txn = bus.begin();
  txn->append("t", "a", "1");
  txn->append("t", "b", "2");
  ASSERT_TRUE(txn->commit().is_ok());
  EXPECT_EQ(bus.data_version("t"), v0 + 1);  // once per commit
  EXPECT_EQ(bus.wait_for_data("t", v0, 0), v0 + 1);

  const uint64_t v1 = bus.data_version("t");
  std::thread publisher([&] { EXPECT_TRUE(bus.publish("t", "a", "3").is_ok()); });
  EXPECT_NE(bus.wait_for_data("t", v1, 60 * kNsPerSec), v1);
  publisher.join();

  // A waiter with a 60 s timeout returns long before it once wake_all() is called (called
  // repeatedly: the waiter may not have started waiting yet).
  const uint64_t v2 = bus.data_version("t");
  std::atomic<bool> returned{false};
  std::thread waiter([&] {
    EXPECT_EQ(bus.wait_for_data("t", v2, 60 * kNsPerSec), v2);
    returned = true;
  });
  EXPECT_TRUE(bus.wait_until([&] {
    bus.wake_all();
    return returned.load();
  }));
  waiter.join();

  EXPECT_TRUE(bus.wait_until([&] { return bus.count("t") == 3; }));
  EXPECT_FALSE(bus.wait_until([] { return false; }, std::chrono::milliseconds(5)));
}

}  // namespace
}  // namespace tickflow::bus::testing
