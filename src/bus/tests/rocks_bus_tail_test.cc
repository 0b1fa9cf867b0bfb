// The embedded bus's in-memory tail of the newest records per partition: reads served from
// memory equal reads from RocksDB, eviction, retention, concurrency, and the CPU it saves.
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

}  // namespace
}  // namespace tickflow::bus::embedded
