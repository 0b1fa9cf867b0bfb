// Test support shared by the CandleProcessor tests (processor_test.cc, processor_fault_test.cc,
// processor_crash_test.cc): the in-memory bus they use (bus/testing/in_memory_bus.h) and helpers
// to build and publish trades and to read back candle updates, dead letters and offsets.
//
// Thread-safety: the helpers are plain functions over a bus, safe wherever the bus is.
// Ownership: nothing here owns a bus it is given.
#pragma once

#include <chrono>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "bus/event_bus.h"
#include "bus/testing/in_memory_bus.h"
#include "core/codec.h"
#include "core/topics.h"
#include "processing/candles/processor.h"

namespace tickflow::processing::testing {

using bus::EventBus;
using bus::Record;

// 2021-08-14T14:46:00Z, aligned to the minute.
constexpr TimestampNs kT0 = 1628952360000LL * kNsPerMs;
constexpr std::string_view kRaw = topics::kRawMarketData;
constexpr std::string_view kOhlcv = topics::kNormalizedOhlcv;
constexpr std::string_view kDlq = topics::kDlqMarketData;

// The in-memory bus of these tests, created with the default topics (as make_event_bus does):
// InMemoryBus bus(kWithDefaultTopics). It can inject commit failures (fail_commits).
using bus::testing::InMemoryBus;
inline constexpr auto kWithDefaultTopics = InMemoryBus::InitialTopics::kDefault;

// ---------------------------------------------------------------------------------------------
// Helpers.

Decimal dec(std::string_view s);

Trade make_trade(std::string symbol, int64_t id, std::string_view price, std::string_view qty,
                 TimestampNs ts_event, Side side = Side::kBuy);

// The raw-topic record of a trade (what the collector publishes).
std::string trade_record(const Trade& t);

void publish_trade(EventBus& bus, const Trade& t);

// Every record of a topic, partition by partition.
std::vector<Record> read_topic(const EventBus& bus, std::string_view topic);

// Every update on normalized.ohlcv, in per-partition order (one series lives in one partition).
std::vector<Candle> read_updates(const EventBus& bus);

// One line with every field of a candle (for comparisons with readable diffs).
std::string describe(const Candle& c);

using CandleKey = std::pair<std::string, TimestampNs>;

// The last update per (series, open_time): what an upserting sink ends up holding.
std::map<CandleKey, std::string> last_per_key(const std::vector<Candle>& updates);

// The last update of (series, open); nullptr if there is none.
const Candle* last_of(const std::vector<Candle>& updates, std::string_view series, TimestampNs open);

std::vector<codec::DeadLetter> read_dead_letters(const EventBus& bus);

// Sum of the committed raw-topic offsets of a consumer group over all partitions.
int64_t committed_total(const EventBus& bus, std::string_view group = "processor");

// Sum of the end offsets of a topic over all partitions.
int64_t end_total(const EventBus& bus, std::string_view topic);

// Runs run_once until everything available is consumed and committed.
void drain(CandleProcessor& proc);

// One 1m timeframe, finals only, 2 s grace, 10 min correction horizon.
ProcessorConfig one_minute_config();

// A deterministic feed over several symbols and minutes, with duplicates and late trades.
std::vector<Trade> make_feed(int count, uint32_t seed);

// Polls a predicate with a deadline, waiting on the bus between checks (no sleeps).
template <typename Pred>
bool wait_until(const EventBus& bus, std::string_view topic, Pred pred,
                std::chrono::seconds limit = std::chrono::seconds(20)) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (!pred()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    bus.wait_for_data(topic, bus.data_version(topic), 20 * kNsPerMs);
  }
  return true;
}

}  // namespace tickflow::processing::testing
