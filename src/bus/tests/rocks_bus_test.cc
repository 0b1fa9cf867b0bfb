#include "bus/embedded/rocks_bus.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <set>
#include <thread>

#include "bus/factory.h"
#include "bus/tests/test_dir.h"
#include "core/topics.h"

namespace tickflow::bus::embedded {
namespace {

using testing_util::read_all;
using testing_util::TempDir;

std::unique_ptr<RocksEventBus> open_bus(const std::string& path, const Clock* clock = nullptr) {
  RocksBusOptions o;
  o.path = path;
  o.clock = clock;
  auto r = RocksEventBus::open(o);
  EXPECT_TRUE(r) << r.status().to_string();
  return r ? std::move(r).value() : nullptr;
}

TEST(RocksBus, PublishesAndReadsInOffsetOrder) {
  TempDir dir;
  auto bus = open_bus(dir.path());
  ASSERT_TRUE(bus->create_topic({"t", 4, 0}).is_ok());
  const int32_t p = topics::partition_for("binance:BTC-USDT", 4);
  for (int i = 0; i < 300; ++i) {
    ASSERT_TRUE(bus->publish("t", "binance:BTC-USDT", "v" + std::to_string(i)).is_ok());
  }
  EXPECT_EQ(*bus->end_offset("t", p), 300);
  EXPECT_EQ(*bus->begin_offset("t", p), 0);
  auto recs = read_all(*bus, "t", p);
  ASSERT_EQ(recs.size(), 300u);
  for (int i = 0; i < 300; ++i) {
    EXPECT_EQ(recs[i].offset, i);
    EXPECT_EQ(recs[i].value, "v" + std::to_string(i));
    EXPECT_EQ(recs[i].key, "binance:BTC-USDT");
    EXPECT_EQ(recs[i].topic, "t");
    EXPECT_EQ(recs[i].partition, p);
    EXPECT_GT(recs[i].timestamp, 0);
  }
  // A bounded read from the middle.
  std::vector<Record> some;
  ASSERT_TRUE(bus->read("t", p, 250, 10, some).is_ok());
  ASSERT_EQ(some.size(), 10u);
  EXPECT_EQ(some.front().offset, 250);
  EXPECT_EQ(some.back().offset, 259);
  auto one = bus->read_one("t", p, 42);
  ASSERT_TRUE(one);
  EXPECT_EQ(one->value, "v42");
  EXPECT_EQ(bus->read_one("t", p, 300).status().code(), ErrorCode::kNotFound);
  // Other partitions stay empty.
  for (int32_t q = 0; q < 4; ++q) {
    if (q != p) {
      EXPECT_EQ(*bus->end_offset("t", q), 0);
    }
  }
  EXPECT_EQ(bus->publish("missing", "k", "v").code(), ErrorCode::kInvalidArgument);
  EXPECT_FALSE(bus->end_offset("t", 4));
}

TEST(RocksBus, ConsumerOffsetsAndState) {
  TempDir dir;
  auto bus = open_bus(dir.path());
  ASSERT_TRUE(bus->create_topic({"t", 2, 0}).is_ok());
  EXPECT_EQ(*bus->committed_offset("g", "t", 1), 0);
  auto txn = bus->begin();
  txn->commit_offset("g", "t", 1, 17);
  txn->put_state("ns", "b", "2");
  txn->put_state("ns", "a", "1");
  txn->put_state("ns", "c", "3");
  txn->put_state("other", "a", "x");
  ASSERT_TRUE(txn->commit().is_ok());
  EXPECT_EQ(*bus->committed_offset("g", "t", 1), 17);
  EXPECT_EQ(*bus->committed_offset("g", "t", 0), 0);
  EXPECT_EQ(*bus->committed_offset("h", "t", 1), 0);

  auto del = bus->begin();
  del->delete_state("ns", "c");
  ASSERT_TRUE(del->commit().is_ok());
  std::vector<std::pair<std::string, std::string>> seen;
  ASSERT_TRUE(bus->scan_state("ns",
                              [&](std::string_view k, std::string_view v) {
                                seen.emplace_back(std::string(k), std::string(v));
                              })
                  .is_ok());
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[0], (std::pair<std::string, std::string>("a", "1")));
  EXPECT_EQ(seen[1], (std::pair<std::string, std::string>("b", "2")));
  EXPECT_EQ(bus->get_state("other", "a")->value_or(""), "x");
  EXPECT_FALSE(bus->get_state("ns", "c")->has_value());
}

TEST(RocksBus, TransactionAppliesEverythingAtCommitOrNothing) {
  TempDir dir;
  auto bus = open_bus(dir.path());
  ASSERT_TRUE(bus->create_topic({"out", 3, 0}).is_ok());
  auto txn = bus->begin();
  for (int i = 0; i < 30; ++i)
    txn->append("out", "key" + std::to_string(i), "r" + std::to_string(i));
  txn->commit_offset("stage", "in", 0, 5);
  txn->put_state("stage", "window", "blob");
  EXPECT_EQ(txn->appended(), 30u);
  // Nothing is visible before commit.
  int64_t total = 0;
  for (int32_t p = 0; p < 3; ++p) total += *bus->end_offset("out", p);
  EXPECT_EQ(total, 0);
  EXPECT_EQ(*bus->committed_offset("stage", "in", 0), 0);
  EXPECT_FALSE(bus->get_state("stage", "window")->has_value());
  const uint64_t v0 = bus->data_version("out");
  ASSERT_TRUE(txn->commit().is_ok());
  for (int32_t p = 0; p < 3; ++p) total += *bus->end_offset("out", p);
  EXPECT_EQ(total, 30);
  EXPECT_EQ(*bus->committed_offset("stage", "in", 0), 5);
  EXPECT_EQ(bus->get_state("stage", "window")->value_or(""), "blob");
  EXPECT_GT(bus->data_version("out"), v0);

  // A commit that fails (unknown topic) applies nothing, not even its offsets and state.
  auto bad = bus->begin();
  bad->append("out", "key1", "x");
  bad->append("nope", "key1", "x");
  bad->commit_offset("stage", "in", 0, 99);
  bad->put_state("stage", "window", "changed");
  EXPECT_EQ(bad->commit().code(), ErrorCode::kInvalidArgument);
  int64_t after = 0;
  for (int32_t p = 0; p < 3; ++p) after += *bus->end_offset("out", p);
  EXPECT_EQ(after, 30);
  EXPECT_EQ(*bus->committed_offset("stage", "in", 0), 5);
  EXPECT_EQ(bus->get_state("stage", "window")->value_or(""), "blob");
}

TEST(RocksBus, ReopenKeepsRecordsOffsetsStateAndTopics) {
  TempDir dir;
  {
    auto bus = open_bus(dir.path());
    ASSERT_TRUE(bus->create_topic({"t", 5, 3 * kNsPerDay}).is_ok());
    auto txn = bus->begin();
    for (int i = 0; i < 50; ++i) txn->append("t", "k" + std::to_string(i % 7), std::to_string(i));
    txn->commit_offset("g", "t", 2, 3);
    txn->put_state("s", "k", "v");
    ASSERT_TRUE(txn->commit().is_ok());
  }
  auto bus = open_bus(dir.path());
  auto cfg = bus->topic("t");
  ASSERT_TRUE(cfg);
  EXPECT_EQ(cfg->partitions, 5);
  EXPECT_EQ(cfg->retention, 3 * kNsPerDay);
  // Re-creating keeps the partition count.
  ASSERT_TRUE(bus->create_topic({"t", 9, 3 * kNsPerDay}).is_ok());
  EXPECT_EQ(bus->topic("t")->partitions, 5);
  int64_t total = 0;
  std::multiset<std::string> values;
  for (int32_t p = 0; p < 5; ++p) {
    total += *bus->end_offset("t", p);
    for (auto& r : read_all(*bus, "t", p)) values.insert(r.value);
  }
  EXPECT_EQ(total, 50);
  EXPECT_EQ(values.size(), 50u);
  EXPECT_EQ(*bus->committed_offset("g", "t", 2), 3);
  EXPECT_EQ(bus->get_state("s", "k")->value_or(""), "v");
  // Appends continue after the recovered end offset.
  const int32_t p = topics::partition_for("k0", 5);
  const int64_t end = *bus->end_offset("t", p);
  ASSERT_TRUE(bus->publish("t", "k0", "after").is_ok());
  EXPECT_EQ(bus->read_one("t", p, end)->value, "after");
}

TEST(RocksBus, RetentionDeletesOldRecordsFromTheStart) {
  TempDir dir;
  ManualClock clock(1000 * kNsPerDay);
  {
    auto bus = open_bus(dir.path(), &clock);
    ASSERT_TRUE(bus->create_topic({"short", 1, 1 * kNsPerDay}).is_ok());
    ASSERT_TRUE(bus->create_topic({"forever", 1, 0}).is_ok());
    for (int i = 0; i < 10; ++i)
      ASSERT_TRUE(bus->publish("short", "k", "old" + std::to_string(i)).is_ok());
    for (int i = 0; i < 10; ++i) ASSERT_TRUE(bus->publish("forever", "k", "x").is_ok());
    clock.advance(2 * kNsPerDay);
    for (int i = 0; i < 5; ++i)
      ASSERT_TRUE(bus->publish("short", "k", "new" + std::to_string(i)).is_ok());
    // Nothing is old enough yet relative to "now" = the first batch + 1 day - 1 ns.
    EXPECT_EQ(*bus->enforce_retention(1000 * kNsPerDay + kNsPerDay), 0);
    auto removed = bus->enforce_retention(clock.now_ns());
    ASSERT_TRUE(removed);
    EXPECT_EQ(*removed, 10);
    EXPECT_EQ(*bus->begin_offset("short", 0), 10);
    EXPECT_EQ(*bus->end_offset("short", 0), 15);
    EXPECT_EQ(*bus->begin_offset("forever", 0), 0);
    auto recs = read_all(*bus, "short", 0, 0);  // reading starts at the first record present
    ASSERT_EQ(recs.size(), 5u);
    EXPECT_EQ(recs.front().offset, 10);
    EXPECT_EQ(recs.front().value, "new0");
    EXPECT_EQ(bus->read_one("short", 0, 3).status().code(), ErrorCode::kNotFound);
    EXPECT_EQ(*bus->enforce_retention(clock.now_ns()), 0);  // idempotent
  }
  auto bus = open_bus(dir.path(), &clock);
  EXPECT_EQ(*bus->begin_offset("short", 0), 10);
  EXPECT_EQ(*bus->end_offset("short", 0), 15);
  EXPECT_EQ(read_all(*bus, "short", 0).size(), 5u);
}

TEST(RocksBus, RetentionInterleavedWithAppendsOnManyPartitions) {
  TempDir dir;
  ManualClock clock(1000 * kNsPerDay);
  auto bus = open_bus(dir.path(), &clock);
  // Short and long topic names (keys of both shapes around the memtable insert hint).
  for (const char* name : {"t", "a.longer.topic.name"}) {
    ASSERT_TRUE(bus->create_topic({name, 8, kNsPerHour}).is_ok());
  }
  int64_t published = 0;
  int64_t removed = 0;
  for (int round = 0; round < 6; ++round) {
    for (const char* name : {"t", "a.longer.topic.name"}) {
      auto txn = bus->begin();
      for (int i = 0; i < 200; ++i) txn->append(name, "key" + std::to_string(i % 37), "v");
      ASSERT_TRUE(txn->commit().is_ok());
      published += 200;
    }
    clock.advance(kNsPerHour / 2);
    auto r = bus->enforce_retention(clock.now_ns());
    ASSERT_TRUE(r) << r.status().to_string();
    removed += *r;
  }
  // Rounds 0..3 are older than one hour at the end (each round is 30 minutes).
  EXPECT_EQ(removed, 4 * 400);
  int64_t present = 0;
  for (const char* name : {"t", "a.longer.topic.name"}) {
    for (int32_t p = 0; p < 8; ++p) {
      auto recs = read_all(*bus, name, p);
      const int64_t begin = *bus->begin_offset(name, p);
      ASSERT_EQ(static_cast<int64_t>(recs.size()), *bus->end_offset(name, p) - begin);
      if (!recs.empty()) {
        EXPECT_EQ(recs.front().offset, begin);
      }
      present += static_cast<int64_t>(recs.size());
    }
  }
  EXPECT_EQ(present, published - removed);
}

TEST(RocksBus, WaitForDataWakesOnPublishAndOnWakeAll) {
  TempDir dir;
  auto bus = open_bus(dir.path());
  ASSERT_TRUE(bus->create_topic({"t", 1, 0}).is_ok());
  const uint64_t v0 = bus->data_version("t");
  // Returns at once when the version already differs from `seen`.
  EXPECT_EQ(bus->wait_for_data("t", v0 + 12345, 60 * kNsPerSec), v0);

  const auto started = std::chrono::steady_clock::now();
  uint64_t woke_with = 0;
  std::thread waiter([&] { woke_with = bus->wait_for_data("t", v0, 60 * kNsPerSec); });
  ASSERT_TRUE(bus->publish("t", "k", "v").is_ok());
  waiter.join();
  EXPECT_GT(woke_with, v0);
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(30));

  const uint64_t v1 = bus->data_version("t");
  std::thread sleeper([&] { bus->wait_for_data("t", v1, 60 * kNsPerSec); });
  // wake_all may run before the waiter blocks; repeat until it has returned.
  std::atomic<bool> done{false};
  std::thread joiner([&] {
    sleeper.join();
    done = true;
  });
  while (!done) {
    bus->wake_all();
    std::this_thread::yield();
  }
  joiner.join();
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(30));
}

// Polls `pred` until it holds or 30 s pass (no sleeping).
template <typename Pred>
bool eventually(Pred pred) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (!pred()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::yield();
  }
  return true;
}

TEST(RocksBus, CommitsWakeOnlyWaitersOfTheirTopics) {
  TempDir dir;
  auto bus = open_bus(dir.path());
  ASSERT_TRUE(bus->create_topic({"a", 2, 0}).is_ok());
  ASSERT_TRUE(bus->create_topic({"b", 2, 0}).is_ok());
  const uint64_t va = bus->data_version("a");
  const uint64_t vb = bus->data_version("b");

  uint64_t a_woke_with = 0;
  std::thread waiter_a([&] { a_woke_with = bus->wait_for_data("a", va, 60 * kNsPerSec); });
  ASSERT_TRUE(eventually([&] { return bus->wait_stats().blocked == 1; }));
  uint64_t b_woke_with = 0;
  std::thread waiter_b([&] { b_woke_with = bus->wait_for_data("b", vb, 60 * kNsPerSec); });
  ASSERT_TRUE(eventually([&] { return bus->wait_stats().blocked == 2; }));

  ASSERT_TRUE(bus->publish("b", "k", "v").is_ok());
  waiter_b.join();
  EXPECT_GT(b_woke_with, vb);
  for (int i = 0; i < 50; ++i) ASSERT_TRUE(bus->publish("b", "k" + std::to_string(i), "v").is_ok());
  // A short wait on "a" while "b" keeps growing times out with a's version unchanged.
  EXPECT_EQ(bus->wait_for_data("a", va, 20 * kNsPerMs), va);
  const RocksBusWaitStats st = bus->wait_stats();
  EXPECT_EQ(st.blocked, 1u) << "the waiter on a is still blocked";
  EXPECT_EQ(st.wakeups, 1u) << "only the waiter on b was woken";

  ASSERT_TRUE(bus->publish("a", "k", "v").is_ok());
  waiter_a.join();
  EXPECT_GT(a_woke_with, va);
  EXPECT_EQ(bus->wait_stats().wakeups, 2u);
  EXPECT_EQ(bus->wait_stats().blocked, 0u);
}

TEST(RocksBus, ManySmallRecordsThroughput) {
  TempDir dir;
  auto bus = open_bus(dir.path());
  ASSERT_TRUE(bus->create_topic({"raw", 30, 0}).is_ok());
  const int kBatches = 3000;
  const int kPerBatch = 100;
  std::string value(150, 'x');
  std::vector<std::string> keys;
  for (int i = 0; i < 20; ++i) keys.push_back("binance:SYM" + std::to_string(i) + "-USDT");
  const auto t0 = std::chrono::steady_clock::now();
  const std::clock_t c0 = std::clock();
  for (int b = 0; b < kBatches; ++b) {
    auto txn = bus->begin();
    for (int i = 0; i < kPerBatch; ++i)
      txn->append("raw", keys[static_cast<size_t>(i) % keys.size()], value);
    txn->commit_offset("collector", "in", 0, b + 1);
    ASSERT_TRUE(txn->commit().is_ok());
  }
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const double cpu_secs = static_cast<double>(std::clock() - c0) / CLOCKS_PER_SEC;
  const double rate = kBatches * kPerBatch / secs;
  // Per CPU-second of the whole process (all RocksDB threads) is stable on a busy machine.
  std::printf(
      "[ perf ] embedded bus: %.0f records/s wall, %.0f records per CPU-second (%d batches of %d, "
      "150-byte values)\n",
      rate, kBatches * kPerBatch / cpu_secs, kBatches, kPerBatch);
  RecordProperty("records_per_second", std::to_string(static_cast<int64_t>(rate)));
  int64_t total = 0;
  for (int32_t p = 0; p < 30; ++p) total += *bus->end_offset("raw", p);
  EXPECT_EQ(total, int64_t{kBatches} * kPerBatch);
}

TEST(BusFactory, UnknownBackendNamesTheKey) {
  BusConfig cfg;
  cfg.backend = "zeromq";
  cfg.data_dir = "/tmp/unused";
  auto r = make_event_bus(cfg);
  ASSERT_FALSE(r);
  EXPECT_NE(r.status().message().find("bus.backend"), std::string::npos) << r.status().message();
}

TEST(BusFactory, CreatesDefaultTopicsAndRefusesASecondOpener) {
  TempDir dir;
  BusConfig cfg;
  cfg.data_dir = dir.path();
  auto first = make_event_bus(cfg);
  ASSERT_TRUE(first) << first.status().to_string();
  auto raw = (*first)->topic(topics::kRawMarketData);
  ASSERT_TRUE(raw);
  EXPECT_EQ(raw->partitions, 30);
  EXPECT_EQ(raw->retention, 7 * kNsPerDay);
  EXPECT_EQ((*first)->topic(topics::kNormalizedOhlcv)->partitions, 60);
  EXPECT_EQ((*first)->topics().size(), std::size(topics::kDefaultTopics));

  auto second = make_event_bus(cfg);
  ASSERT_FALSE(second);
  EXPECT_NE(second.status().message().find("is in use by another tickflow process"),
            std::string::npos)
      << second.status().message();
  EXPECT_NE(second.status().message().find(dir.path()), std::string::npos);
}

TEST(BusFactory, ReadOnlyFollowerSeesTheWritersRecords) {
  TempDir dir;
  BusConfig missing;
  missing.data_dir = dir.sub("nothing-here");
  missing.read_only = true;
  auto none = make_event_bus(missing);
  ASSERT_FALSE(none);
  EXPECT_EQ(none.status().code(), ErrorCode::kNotFound);

  BusConfig cfg;
  cfg.data_dir = dir.path();
  cfg.topics = {{"t", 2, 0}};
  auto writer = make_event_bus(cfg);  // holds the LOCK, as `tickflow run` does
  ASSERT_TRUE(writer) << writer.status().to_string();
  for (int i = 0; i < 10; ++i) ASSERT_TRUE((*writer)->publish("t", "k", std::to_string(i)).is_ok());

  BusConfig ro = cfg;
  ro.read_only = true;
  auto follower = make_event_bus(ro);
  ASSERT_TRUE(follower) << follower.status().to_string();
  const int32_t p = topics::partition_for("k", 2);
  EXPECT_EQ(*(*follower)->end_offset("t", p), 10);
  EXPECT_EQ(read_all(**follower, "t", p).size(), 10u);
  EXPECT_EQ((*follower)->publish("t", "k", "x").code(), ErrorCode::kInvalidArgument);

  // New records of the writer show up through wait_for_data (bounded by its timeout).
  const uint64_t v = (*follower)->data_version("t");
  for (int i = 10; i < 15; ++i)
    ASSERT_TRUE((*writer)->publish("t", "k", std::to_string(i)).is_ok());
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while ((*follower)->data_version("t") == v && std::chrono::steady_clock::now() < deadline) {
    (*follower)->wait_for_data("t", v, 50 * kNsPerMs);
  }
  EXPECT_NE((*follower)->data_version("t"), v);
  auto recs = read_all(**follower, "t", p);
  ASSERT_EQ(recs.size(), 15u);
  EXPECT_EQ(recs.back().value, "14");
}

TEST(BusFactory, ConfiguredTopicsReplaceTheDefaults) {
  TempDir dir;
  BusConfig cfg;
  cfg.data_dir = dir.path();
  cfg.topics = {{"only", 2, 0}};
  auto bus = make_event_bus(cfg);
  ASSERT_TRUE(bus) << bus.status().to_string();
  ASSERT_EQ((*bus)->topics().size(), 1u);
  EXPECT_EQ((*bus)->topics()[0].name, "only");
}

}  // namespace
}  // namespace tickflow::bus::embedded
