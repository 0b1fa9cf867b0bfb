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

using testing_util::TempDir;

std::unique_ptr<RocksEventBus> open_bus(const std::string& path, const Clock* clock = nullptr) {
  RocksBusOptions o;
  o.path = path;
  o.clock = clock;
  auto r = RocksEventBus::open(o);
  EXPECT_TRUE(r) << r.status().to_string();
  return r ? std::move(r).value() : nullptr;
}

std::vector<Record> read_all(const EventBus& bus, const std::string& topic, int32_t p,
                             int64_t from = 0) {
  std::vector<Record> out;
  EXPECT_TRUE(bus.read(topic, p, from, 1u << 30, out).is_ok());
  return out;
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

std::unique_ptr<RocksEventBus> open_bus_with(RocksBusOptions o) {
  auto r = RocksEventBus::open(o);
  EXPECT_TRUE(r) << r.status().to_string();
  return r ? std::move(r).value() : nullptr;
}

void expect_same_records(const std::vector<Record>& a, const std::vector<Record>& b) {
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].topic, b[i].topic) << i;
    EXPECT_EQ(a[i].partition, b[i].partition) << i;
    EXPECT_EQ(a[i].offset, b[i].offset) << i;
    EXPECT_EQ(a[i].key, b[i].key) << i;
    EXPECT_EQ(a[i].value, b[i].value) << i;
    EXPECT_EQ(a[i].timestamp, b[i].timestamp) << i;
  }
}

// Reads the whole partition in chunks of `chunk` records (as consumers do).
std::vector<Record> read_chunked(const EventBus& bus, const std::string& topic, int32_t p,
                                 size_t chunk) {
  std::vector<Record> out;
  int64_t from = 0;
  for (;;) {
    const size_t before = out.size();
    EXPECT_TRUE(bus.read(topic, p, from, chunk, out).is_ok());
    if (out.size() == before) return out;
    from = out.back().offset + 1;
  }
}

TEST(RocksBusTail, ReadsFromTheTailEqualReadsFromDisk) {
  TempDir dir;
  ManualClock clock(1000 * kNsPerDay);
  RocksBusOptions o;
  o.path = dir.path();
  o.clock = &clock;
  constexpr int32_t kParts = 4;
  std::vector<std::vector<Record>> from_tail(kParts);
  std::vector<Record> ones_from_tail;
  {
    auto bus = open_bus_with(o);
    ASSERT_TRUE(bus->create_topic({"t", kParts, 0}).is_ok());
    ASSERT_TRUE(bus->create_topic({"u", 1, 0}).is_ok());
    for (int b = 0; b < 30; ++b) {
      auto txn = bus->begin();
      for (int i = 0; i < 50; ++i) {
        const int n = b * 50 + i;
        // Empty, binary and longer values; two topics interleaved in one transaction.
        std::string value = n % 7 == 0 ? std::string() : "v" + std::to_string(n);
        if (n % 5 == 0) value += std::string("\0\x01\xff", 3);
        if (n % 11 == 0) value += std::string(300, 'x');
        txn->append("t", "key" + std::to_string(n % 13), value);
        if (n % 3 == 0) txn->append("u", "k", value);
      }
      ASSERT_TRUE(txn->commit().is_ok());
      clock.advance(kNsPerMs);
    }
    const RocksBusTailStats before = bus->tail_stats();
    EXPECT_EQ(before.records, 1500u + 500u);
    for (int32_t p = 0; p < kParts; ++p) {
      from_tail[p] = read_chunked(*bus, "t", p, 17);
      ASSERT_FALSE(from_tail[p].empty());
      auto one = bus->read_one("t", p, from_tail[p].size() / 2);
      ASSERT_TRUE(one) << one.status().to_string();
      ones_from_tail.push_back(*one);
    }
    const RocksBusTailStats after = bus->tail_stats();
    EXPECT_EQ(after.misses, before.misses) << "every read lies inside the tail";
    EXPECT_GT(after.hits, before.hits);
  }
  auto bus = open_bus_with(o);  // reopened: the tail is empty, reads come from RocksDB
  size_t total = 0;
  for (int32_t p = 0; p < kParts; ++p) {
    const auto from_disk = read_chunked(*bus, "t", p, 17);
    expect_same_records(from_tail[p], from_disk);
    total += from_disk.size();
    auto one = bus->read_one("t", p, from_tail[p].size() / 2);
    ASSERT_TRUE(one);
    expect_same_records({ones_from_tail[static_cast<size_t>(p)]}, {*one});
  }
  EXPECT_EQ(total, 1500u);
  EXPECT_EQ(bus->tail_stats().hits, 0u);
  EXPECT_GT(bus->tail_stats().misses, 0u);
}

TEST(RocksBusTail, ReadsStraddlingTheTailStartComeFromDisk) {
  TempDir dir;
  RocksBusOptions o;
  o.path = dir.path();
  o.tail_records = 100;
  auto bus = open_bus_with(o);
  ASSERT_TRUE(bus->create_topic({"t", 1, 0}).is_ok());
  for (int b = 0; b < 5; ++b) {
    auto txn = bus->begin();
    for (int i = 0; i < 50; ++i) txn->append("t", "k", "v" + std::to_string(b * 50 + i));
    ASSERT_TRUE(txn->commit().is_ok());
  }
  ASSERT_EQ(bus->tail_stats().records, 100u);  // offsets 150..249
  auto check = [&](int64_t from, size_t max, int64_t first, size_t n, bool hit) {
    const RocksBusTailStats before = bus->tail_stats();
    std::vector<Record> out;
    ASSERT_TRUE(bus->read("t", 0, from, max, out).is_ok());
    ASSERT_EQ(out.size(), n) << from;
    for (size_t i = 0; i < n; ++i) {
      EXPECT_EQ(out[i].offset, first + static_cast<int64_t>(i));
      EXPECT_EQ(out[i].value, "v" + std::to_string(first + static_cast<int64_t>(i)));
    }
    const RocksBusTailStats after = bus->tail_stats();
    EXPECT_EQ(after.hits - before.hits, hit ? 1u : 0u) << from;
    EXPECT_EQ(after.misses - before.misses, hit ? 0u : 1u) << from;
  };
  check(140, 20, 140, 20, /*hit=*/false);  // straddles the start of the tail
  check(149, 1, 149, 1, false);            // just before it
  check(150, 1, 150, 1, true);             // its first record
  check(150, 1000, 150, 100, true);        // all of it
  check(240, 1000, 240, 10, true);         // capped by the end offset
  check(0, 1000, 0, 250, false);           // everything
  EXPECT_EQ(bus->read_one("t", 0, 149)->value, "v149");
  EXPECT_EQ(bus->read_one("t", 0, 150)->value, "v150");
  EXPECT_EQ(bus->read_one("t", 0, 250).status().code(), ErrorCode::kNotFound);
}

TEST(RocksBusTail, EvictsByRecordCountAndByBytes) {
  TempDir dir;
  RocksBusOptions o;
  o.path = dir.path();
  o.tail_records = 1000;
  o.tail_bytes = 10 * 101;  // ten records of a 1-byte key and a 100-byte value
  auto bus = open_bus_with(o);
  ASSERT_TRUE(bus->create_topic({"t", 1, 0}).is_ok());
  for (int i = 0; i < 25; ++i) {
    std::string value = std::to_string(i);
    value.resize(100, '.');
    ASSERT_TRUE(bus->publish("t", "k", value).is_ok());
  }
  RocksBusTailStats st = bus->tail_stats();
  EXPECT_EQ(st.records, 10u);
  EXPECT_EQ(st.bytes, 10u * 101u);
  auto recs = read_all(*bus, "t", 0);
  ASSERT_EQ(recs.size(), 25u);
  for (size_t i = 0; i < 25; ++i) {
    EXPECT_EQ(recs[i].offset, static_cast<int64_t>(i));
    EXPECT_EQ(recs[i].value.substr(0, std::to_string(i).size()), std::to_string(i));
  }

  // A record larger than the whole budget is not cached; the tail restarts after it.
  ASSERT_TRUE(bus->publish("t", "k", std::string(5000, 'L')).is_ok());
  EXPECT_EQ(bus->tail_stats().records, 0u);
  EXPECT_EQ(bus->read_one("t", 0, 25)->value, std::string(5000, 'L'));
  ASSERT_TRUE(bus->publish("t", "k", "small").is_ok());
  EXPECT_EQ(bus->tail_stats().records, 1u);
  EXPECT_EQ(read_all(*bus, "t", 0, 25).size(), 2u);

  // The record-count bound, with the ring wrapping many times.
  TempDir dir2;
  RocksBusOptions o2;
  o2.path = dir2.path();
  o2.tail_records = 7;
  auto bus2 = open_bus_with(o2);
  ASSERT_TRUE(bus2->create_topic({"t", 1, 0}).is_ok());
  for (int i = 0; i < 100; ++i) {
    ASSERT_TRUE(bus2->publish("t", "k", std::string(static_cast<size_t>(i % 9), 'a')).is_ok());
    EXPECT_EQ(bus2->tail_stats().records, std::min<uint64_t>(static_cast<uint64_t>(i) + 1, 7));
    std::vector<Record> out;
    ASSERT_TRUE(bus2->read("t", 0, std::max(0, i - 6), 100, out).is_ok());
    ASSERT_EQ(out.size(), static_cast<size_t>(std::min(i, 6) + 1));
    for (const Record& r : out)
      EXPECT_EQ(r.value, std::string(static_cast<size_t>(r.offset % 9), 'a'));
  }
  EXPECT_EQ(bus2->tail_stats().misses, 0u);

  // tail_records = 0 turns the tail off.
  TempDir dir3;
  RocksBusOptions o3;
  o3.path = dir3.path();
  o3.tail_records = 0;
  auto bus3 = open_bus_with(o3);
  ASSERT_TRUE(bus3->create_topic({"t", 1, 0}).is_ok());
  ASSERT_TRUE(bus3->publish("t", "k", "v").is_ok());
  EXPECT_EQ(read_all(*bus3, "t", 0).size(), 1u);
  EXPECT_EQ(bus3->tail_stats().records, 0u);
  EXPECT_EQ(bus3->tail_stats().hits + bus3->tail_stats().misses, 0u);
}

TEST(RocksBusTail, RetentionDropsRecordsFromTheTail) {
  TempDir dir;
  ManualClock clock(1000 * kNsPerDay);
  RocksBusOptions o;
  o.path = dir.path();
  o.clock = &clock;
  auto bus = open_bus_with(o);
  ASSERT_TRUE(bus->create_topic({"short", 1, kNsPerDay}).is_ok());
  for (int i = 0; i < 10; ++i)
    ASSERT_TRUE(bus->publish("short", "k", "old" + std::to_string(i)).is_ok());
  clock.advance(2 * kNsPerDay);
  for (int i = 0; i < 5; ++i)
    ASSERT_TRUE(bus->publish("short", "k", "new" + std::to_string(i)).is_ok());
  ASSERT_EQ(bus->tail_stats().records, 15u);
  EXPECT_EQ(*bus->enforce_retention(clock.now_ns()), 10);
  EXPECT_EQ(bus->tail_stats().records, 5u);
  const uint64_t misses = bus->tail_stats().misses;
  auto recs = read_all(*bus, "short", 0, 0);
  ASSERT_EQ(recs.size(), 5u);
  EXPECT_EQ(recs.front().offset, 10);
  EXPECT_EQ(recs.front().value, "new0");
  EXPECT_EQ(bus->tail_stats().misses, misses);  // served from the tail, starting at begin
  EXPECT_EQ(bus->read_one("short", 0, 3).status().code(), ErrorCode::kNotFound);

  // Retention removes everything: nothing is read, then new records come from the tail.
  clock.advance(2 * kNsPerDay);
  EXPECT_EQ(*bus->enforce_retention(clock.now_ns()), 5);
  EXPECT_EQ(bus->tail_stats().records, 0u);
  EXPECT_TRUE(read_all(*bus, "short", 0, 0).empty());
  EXPECT_EQ(bus->read_one("short", 0, 12).status().code(), ErrorCode::kNotFound);
  ASSERT_TRUE(bus->publish("short", "k", "after").is_ok());
  recs = read_all(*bus, "short", 0, 0);
  ASSERT_EQ(recs.size(), 1u);
  EXPECT_EQ(recs[0].offset, 15);
  EXPECT_EQ(recs[0].value, "after");
  EXPECT_EQ(*bus->begin_offset("short", 0), 15);
}

TEST(RocksBusTail, ConcurrentReadersSeeDenseCorrectRecordsWhileTheTailEvicts) {
  TempDir dir;
  RocksBusOptions o;
  o.path = dir.path();
  o.tail_records = 64;  // small: readers often fall behind the tail and go to RocksDB
  auto bus = open_bus_with(o);
  ASSERT_TRUE(bus->create_topic({"t", 2, 0}).is_ok());
  constexpr int kRecords = 20000;
  std::atomic<bool> failed{false};
  auto reader = [&](int32_t p, size_t chunk) {
    int64_t next = 0;
    uint64_t seen = bus->data_version("t");
    std::vector<Record> out;
    while (next < kRecords / 2 && !failed) {
      out.clear();
      if (!bus->read("t", p, next, chunk, out).is_ok()) failed = true;
      for (const Record& r : out) {
        // Keys "p<partition>-<n>" are routed to this partition by the writer; value = offset.
        if (r.offset != next || r.value != std::to_string(r.offset)) failed = true;
        ++next;
      }
      if (out.empty()) seen = bus->wait_for_data("t", seen, kNsPerSec);
    }
  };
  // One key per partition so each partition's offsets count its own records.
  std::string keys[2];
  for (int n = 0; keys[0].empty() || keys[1].empty(); ++n) {
    const std::string k = "k" + std::to_string(n);
    std::string& slot = keys[topics::partition_for(k, 2)];
    if (slot.empty()) slot = k;
  }
  std::thread r0([&] { reader(0, 7); });
  std::thread r1([&] { reader(1, 100); });
  int64_t next[2] = {0, 0};
  for (int b = 0; b < kRecords / 20; ++b) {
    auto txn = bus->begin();
    for (int i = 0; i < 20; ++i) {
      const int p = i % 2;
      txn->append("t", keys[p], std::to_string(next[p]++));
    }
    ASSERT_TRUE(txn->commit().is_ok());
  }
  r0.join();
  r1.join();
  EXPECT_FALSE(failed);
  const RocksBusTailStats st = bus->tail_stats();
  EXPECT_EQ(st.records, 128u);  // 64 per partition
}

// CPU of the consumer's reads (thread CPU time, stable on a busy machine), with and without the
// tail, in the pipeline's pattern: after each commit of 100 records over 30 partitions, every
// partition is read from the consumer's position.
TEST(RocksBusTail, ConsumerReadCpuPerRecord) {
  auto thread_cpu_ns = [] {
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return static_cast<int64_t>(ts.tv_sec) * kNsPerSec + ts.tv_nsec;
  };
  std::vector<std::string> keys;
  for (int i = 0; i < 20; ++i) keys.push_back("binance:SYM" + std::to_string(i) + "-USDT");
  const std::string value(150, 'x');
  double ns_per_record[2] = {0, 0};
  for (int with_tail = 0; with_tail < 2; ++with_tail) {
    TempDir dir;
    RocksBusOptions o;
    o.path = dir.path();
    if (with_tail == 0) o.tail_records = 0;
    auto bus = open_bus_with(o);
    ASSERT_TRUE(bus->create_topic({"raw", 30, 0}).is_ok());
    std::vector<int64_t> pos(30, 0);
    int64_t read_ns = 0;
    int64_t records = 0;
    std::vector<Record> out;
    for (int b = 0; b < 1000; ++b) {
      auto txn = bus->begin();
      for (int i = 0; i < 100; ++i)
        txn->append("raw", keys[static_cast<size_t>(b + i) % 20], value);
      ASSERT_TRUE(txn->commit().is_ok());
      const int64_t c0 = thread_cpu_ns();
      for (int32_t p = 0; p < 30; ++p) {
        out.clear();
        ASSERT_TRUE(bus->read("raw", p, pos[static_cast<size_t>(p)], 10000, out).is_ok());
        if (!out.empty()) pos[static_cast<size_t>(p)] = out.back().offset + 1;
        records += static_cast<int64_t>(out.size());
      }
      read_ns += thread_cpu_ns() - c0;
    }
    ASSERT_EQ(records, 100000);
    ns_per_record[with_tail] = static_cast<double>(read_ns) / static_cast<double>(records);
  }
  std::printf("[ perf ] consumer reads: %.0f ns CPU per record from RocksDB, %.0f from the tail\n",
              ns_per_record[0], ns_per_record[1]);
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
