// CandleProcessor: the consumer loop around the CandleEngine, with exactly-once commits.
//
// Every behavioural test runs twice: over an in-memory FakeBus (which can also inject commit
// failures) and over the real embedded bus (make_event_bus in a temp dir). The crash test
// re-executes this binary as a child process (ProcessorCrashChild.Run) over a pre-filled raw
// topic, SIGKILLs it at random moments 20 times, and compares the result with an
// uninterrupted run.
#include "processing/candles/processor.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <condition_variable>
#include <cstdlib>
#include <deque>
#include <filesystem>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include <gtest/gtest.h>

#include "bus/factory.h"
#include "core/codec.h"
#include "core/topics.h"
#include "observability/metrics.h"

namespace tickflow::processing {
namespace {

namespace fs = std::filesystem;
using bus::EventBus;
using bus::Record;

// 2021-08-14T14:46:00Z, aligned to the minute.
constexpr TimestampNs kT0 = 1628952360000LL * kNsPerMs;
constexpr std::string_view kRaw = topics::kRawMarketData;
constexpr std::string_view kOhlcv = topics::kNormalizedOhlcv;
constexpr std::string_view kDlq = topics::kDlqMarketData;

// ---------------------------------------------------------------------------------------------
// FakeBus: an in-memory EventBus with commit fault injection (leveldb's fault-injection habit).
class FakeBus final : public EventBus {
 public:
  FakeBus() {
    for (const auto& t : bus::default_topic_configs()) (void)create_topic(t);
  }

  // The next commits fail with these statuses, in order (nothing applied).
  void inject_commit_failure(Status s) {
    std::lock_guard lock(mu_);
    faults_.push_back(std::move(s));
  }
  int commits() const {
    std::lock_guard lock(mu_);
    return commits_;
  }

  Status create_topic(const bus::TopicConfig& config) override {
    std::lock_guard lock(mu_);
    if (topics_.count(config.name)) return Status::ok();
    auto& t = topics_[config.name];
    t.config = config;
    t.partitions.resize(static_cast<size_t>(config.partitions));
    return Status::ok();
  }
  Result<bus::TopicConfig> topic(std::string_view name) const override {
    std::lock_guard lock(mu_);
    auto it = topics_.find(std::string(name));
    if (it == topics_.end()) return Status::not_found("no topic " + std::string(name));
    return it->second.config;
  }
  std::vector<bus::TopicConfig> topics() const override {
    std::lock_guard lock(mu_);
    std::vector<bus::TopicConfig> out;
    for (const auto& [n, t] : topics_) out.push_back(t.config);
    return out;
  }

  class Txn final : public bus::Transaction {
   public:
    explicit Txn(FakeBus& bus) : bus_(bus) {}
    void append(std::string_view topic, std::string_view key, std::string_view value) override {
      appends_.push_back({std::string(topic), std::string(key), std::string(value)});
    }
    void commit_offset(std::string_view group, std::string_view topic, int32_t partition,
                       int64_t next_offset) override {
      offsets_.push_back({std::string(group), std::string(topic), partition, next_offset});
    }
    void put_state(std::string_view ns, std::string_view key, std::string_view value) override {
      states_.push_back({std::string(ns), std::string(key), std::string(value), false});
    }
    void delete_state(std::string_view ns, std::string_view key) override {
      states_.push_back({std::string(ns), std::string(key), "", true});
    }
    size_t appended() const override { return appends_.size(); }
    Status commit() override { return bus_.apply(*this); }

   private:
    friend class FakeBus;
    struct A { std::string topic, key, value; };
    struct O { std::string group, topic; int32_t partition; int64_t next; };
    struct S { std::string ns, key, value; bool erase; };
    FakeBus& bus_;
    std::vector<A> appends_;
    std::vector<O> offsets_;
    std::vector<S> states_;
  };

  Status publish(std::string_view topic, std::string_view key, std::string_view value) override {
    Txn t(*this);
    t.append(topic, key, value);
    return apply(t, /*inject=*/false);
  }
  std::unique_ptr<bus::Transaction> begin() override { return std::make_unique<Txn>(*this); }

  Status read(std::string_view topic, int32_t partition, int64_t from_offset, size_t max_records,
              std::vector<Record>& out) const override {
    std::lock_guard lock(mu_);
    const auto* part = find(topic, partition);
    if (!part) return Status::not_found("no such partition");
    for (int64_t o = std::max<int64_t>(0, from_offset);
         o < static_cast<int64_t>(part->size()) && max_records > 0; ++o, --max_records)
      out.push_back((*part)[static_cast<size_t>(o)]);
    return Status::ok();
  }
  Result<Record> read_one(std::string_view topic, int32_t partition, int64_t offset) const override {
    std::lock_guard lock(mu_);
    const auto* part = find(topic, partition);
    if (!part || offset < 0 || offset >= static_cast<int64_t>(part->size()))
      return Status::not_found("no record");
    return (*part)[static_cast<size_t>(offset)];
  }
  Result<int64_t> end_offset(std::string_view topic, int32_t partition) const override {
    std::lock_guard lock(mu_);
    const auto* part = find(topic, partition);
    if (!part) return Status::not_found("no such partition");
    return static_cast<int64_t>(part->size());
  }
  Result<int64_t> begin_offset(std::string_view, int32_t) const override { return int64_t{0}; }
  Result<int64_t> committed_offset(std::string_view group, std::string_view topic,
                                   int32_t partition) const override {
    std::lock_guard lock(mu_);
    auto it = offsets_.find({std::string(group), std::string(topic), partition});
    return it == offsets_.end() ? int64_t{0} : it->second;
  }
  Result<std::optional<std::string>> get_state(std::string_view ns, std::string_view key) const override {
    std::lock_guard lock(mu_);
    auto it = state_.find({std::string(ns), std::string(key)});
    if (it == state_.end()) return std::optional<std::string>();
    return std::optional<std::string>(it->second);
  }
  Status scan_state(std::string_view ns,
                    const std::function<void(std::string_view, std::string_view)>& fn) const override {
    std::vector<std::pair<std::string, std::string>> copy;
    {
      std::lock_guard lock(mu_);
      for (const auto& [k, v] : state_)
        if (k.first == ns) copy.emplace_back(k.second, v);
    }
    for (const auto& [k, v] : copy) fn(k, v);
    return Status::ok();
  }
  uint64_t data_version(std::string_view topic) const override {
    std::lock_guard lock(mu_);
    auto it = versions_.find(std::string(topic));
    return it == versions_.end() ? 0 : it->second;
  }
  uint64_t wait_for_data(std::string_view topic, uint64_t seen, DurationNs timeout) const override {
    std::unique_lock lock(mu_);
    const uint64_t gen = wake_generation_;
    auto version = [&] {
      auto it = versions_.find(std::string(topic));
      return it == versions_.end() ? uint64_t{0} : it->second;
    };
    cv_.wait_for(lock, std::chrono::nanoseconds(timeout),
                 [&] { return version() != seen || wake_generation_ != gen; });
    return version();
  }
  void wake_all() override {
    {
      std::lock_guard lock(mu_);
      ++wake_generation_;
    }
    cv_.notify_all();
  }
  Result<int64_t> enforce_retention(TimestampNs) override { return int64_t{0}; }

 private:
  struct TopicData {
    bus::TopicConfig config;
    std::vector<std::vector<Record>> partitions;
  };
  const std::vector<Record>* find(std::string_view topic, int32_t partition) const {
    auto it = topics_.find(std::string(topic));
    if (it == topics_.end() || partition < 0 || partition >= it->second.config.partitions) return nullptr;
    return &it->second.partitions[static_cast<size_t>(partition)];
  }

  Status apply(const Txn& t, bool inject = true) {
    {
      std::lock_guard lock(mu_);
      if (inject && !faults_.empty()) {
        Status s = faults_.front();
        faults_.pop_front();
        return s;
      }
      for (const auto& a : t.appends_) {
        auto it = topics_.find(a.topic);
        if (it == topics_.end()) return Status::not_found("no topic " + a.topic);
      }
      for (const auto& a : t.appends_) {
        auto& td = topics_[a.topic];
        int32_t p = topics::partition_for(a.key, td.config.partitions);
        auto& part = td.partitions[static_cast<size_t>(p)];
        Record r{a.topic, p, static_cast<int64_t>(part.size()), a.key, a.value, 0};
        part.push_back(std::move(r));
        ++versions_[a.topic];
      }
      for (const auto& o : t.offsets_) offsets_[{o.group, o.topic, o.partition}] = o.next;
      for (const auto& s : t.states_) {
        if (s.erase)
          state_.erase({s.ns, s.key});
        else
          state_[{s.ns, s.key}] = s.value;
      }
      ++commits_;
    }
    cv_.notify_all();
    return Status::ok();
  }

  mutable std::mutex mu_;
  mutable std::condition_variable cv_;
  std::map<std::string, TopicData> topics_;
  std::map<std::tuple<std::string, std::string, int32_t>, int64_t> offsets_;
  std::map<std::pair<std::string, std::string>, std::string> state_;
  std::map<std::string, uint64_t> versions_;
  std::deque<Status> faults_;
  uint64_t wake_generation_ = 0;
  int commits_ = 0;
};

// ---------------------------------------------------------------------------------------------
// Helpers.

Decimal dec(std::string_view s) { return Decimal::parse(s).value(); }

Trade make_trade(std::string symbol, int64_t id, std::string_view price, std::string_view qty,
                 TimestampNs ts_event, Side side = Side::kBuy) {
  Trade t;
  t.exchange = Exchange::kBinance;
  t.symbol = symbol;
  t.exchange_symbol = binance_symbol_from_unified(symbol);
  t.trade_id = id;
  t.first_trade_id = id;
  t.last_trade_id = id;
  t.price = dec(price);
  t.quantity = dec(qty);
  t.taker_side = side;
  t.ts_event = ts_event;
  t.ts_recv = ts_event + 5 * kNsPerMs;
  return t;
}

std::string trade_record(const Trade& t) { return codec::encode_trade(t, t.ts_recv); }

void publish_trade(EventBus& bus, const Trade& t) {
  ASSERT_TRUE(bus.publish(kRaw, instrument_key(t.exchange, t.symbol), trade_record(t)).is_ok());
}

std::vector<Record> read_topic(const EventBus& bus, std::string_view topic) {
  std::vector<Record> out;
  auto cfg = bus.topic(topic);
  EXPECT_TRUE(cfg.is_ok());
  for (int32_t p = 0; p < cfg->partitions; ++p) {
    auto end = bus.end_offset(topic, p);
    if (!end.is_ok() || *end == 0) continue;
    EXPECT_TRUE(bus.read(topic, p, 0, static_cast<size_t>(*end), out).is_ok());
  }
  return out;
}

struct Update {
  Candle candle;
  TimestampNs publish = 0;
};

// Every update on normalized.ohlcv, in per-partition order (one series lives in one partition).
std::vector<Candle> read_updates(const EventBus& bus) {
  std::vector<Candle> out;
  for (const Record& r : read_topic(bus, kOhlcv)) {
    auto c = codec::decode_candle(r.value);
    EXPECT_TRUE(c.is_ok()) << c.status().to_string();
    if (c.is_ok()) out.push_back(std::move(c).value());
  }
  return out;
}

std::string describe(const Candle& c) {
  std::string s = c.series_key() + " " + format_iso8601_ms(c.open_time) + " " +
                  std::string(candle_status_name(c.status)) + " r" + std::to_string(c.revision) +
                  " O=" + c.open.to_string() + " H=" + c.high.to_string() + " L=" + c.low.to_string() +
                  " C=" + c.close.to_string() + " V=" + c.volume.to_string() +
                  " QV=" + c.quote_volume.to_string() + " TB=" + c.taker_buy_volume.to_string() +
                  " n=" + std::to_string(c.trades) + " ids=" + std::to_string(c.first_trade_id) + ".." +
                  std::to_string(c.last_trade_id);
  return s;
}

using CandleKey = std::pair<std::string, TimestampNs>;

// The last update per (series, open_time): what an upserting sink ends up holding.
std::map<CandleKey, std::string> last_per_key(const std::vector<Candle>& updates) {
  std::map<CandleKey, std::string> out;
  for (const Candle& c : updates) out[{c.series_key(), c.open_time}] = describe(c);
  return out;
}

const Candle* last_of(const std::vector<Candle>& updates, std::string_view series, TimestampNs open) {
  const Candle* found = nullptr;
  for (const Candle& c : updates)
    if (c.series_key() == series && c.open_time == open) found = &c;
  return found;
}

std::vector<codec::DeadLetter> read_dead_letters(const EventBus& bus) {
  std::vector<codec::DeadLetter> out;
  for (const Record& r : read_topic(bus, kDlq)) {
    auto d = codec::decode_dead_letter(r.value);
    EXPECT_TRUE(d.is_ok());
    if (d.is_ok()) out.push_back(std::move(d).value());
  }
  return out;
}

int64_t committed_total(const EventBus& bus, std::string_view group = "processor") {
  int64_t sum = 0;
  auto cfg = bus.topic(kRaw);
  for (int32_t p = 0; p < cfg->partitions; ++p) sum += bus.committed_offset(group, kRaw, p).value();
  return sum;
}

int64_t end_total(const EventBus& bus, std::string_view topic) {
  int64_t sum = 0;
  auto cfg = bus.topic(topic);
  for (int32_t p = 0; p < cfg->partitions; ++p) sum += bus.end_offset(topic, p).value();
  return sum;
}

// Runs run_once until everything available is consumed and committed.
void drain(CandleProcessor& proc) {
  for (int i = 0; i < 100000; ++i) {
    auto r = proc.run_once();
    ASSERT_TRUE(r.is_ok()) << r.status().to_string();
    if (*r == 0 && proc.caught_up()) return;
  }
  FAIL() << "processor did not catch up";
}

ProcessorConfig one_minute_config() {
  ProcessorConfig c;
  c.candles.timeframes = {Timeframe::parse("1m").value()};
  c.candles.provisional_interval = 0;  // finals only, unless a test wants provisionals
  c.candles.grace = 2 * kNsPerSec;
  c.candles.correction_horizon = 10 * kNsPerMin;
  return c;
}

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

// ---------------------------------------------------------------------------------------------
// Fixture over both bus backends.

std::string sanitize(std::string s) {
  for (char& c : s)
    if (c == '/') c = '_';
  return s;
}


class ProcessorTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (GetParam() == "fake") {
      bus_ = std::make_unique<FakeBus>();
    } else {
      dir_ = fs::temp_directory_path() /
             ("tickflow-processor-" + std::to_string(::getpid()) + "-" +
              sanitize(::testing::UnitTest::GetInstance()->current_test_info()->name()));
      fs::remove_all(dir_);
      bus::BusConfig cfg;
      cfg.data_dir = dir_;
      auto b = bus::make_event_bus(cfg);
      ASSERT_TRUE(b.is_ok()) << b.status().to_string();
      bus_ = std::move(b).value();
    }
  }
  void TearDown() override {
    bus_.reset();
    if (!dir_.empty()) fs::remove_all(dir_);
  }
  FakeBus* fake() { return dynamic_cast<FakeBus*>(bus_.get()); }

  std::string dir_;
  std::unique_ptr<EventBus> bus_;
  ManualClock clock_{kT0 + 10 * kNsPerMin};
};

TEST_P(ProcessorTest, PublishesCandleUpdatesWithExactValuesAndCommitsOffsets) {
  publish_trade(*bus_, make_trade("BTC-USDT", 1, "100.00", "1.5", kT0 + 0 * kNsPerSec));
  publish_trade(*bus_, make_trade("BTC-USDT", 2, "105.10", "0.5", kT0 + 10 * kNsPerSec, Side::kSell));
  publish_trade(*bus_, make_trade("BTC-USDT", 3, "99.90", "1", kT0 + 20 * kNsPerSec));
  publish_trade(*bus_, make_trade("BTC-USDT", 4, "101.00", "2", kT0 + 59 * kNsPerSec + 999 * kNsPerMs));
  publish_trade(*bus_, make_trade("ETH-USDT", 7, "3000", "1", kT0 + 5 * kNsPerSec));
  // Next window, past end + grace: closes the first minute of BTC-USDT.
  publish_trade(*bus_, make_trade("BTC-USDT", 5, "102.00", "1", kT0 + 62 * kNsPerSec + 1));

  CandleProcessor proc(*bus_, one_minute_config(), clock_);
  auto r = proc.run_once();
  ASSERT_TRUE(r.is_ok()) << r.status().to_string();
  EXPECT_EQ(*r, 6u);

  auto updates = read_updates(*bus_);
  const Candle* c = last_of(updates, "binance:BTC-USDT:1m", kT0);
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->status, CandleStatus::kFinal);
  EXPECT_EQ(c->open, dec("100.00"));
  EXPECT_EQ(c->high, dec("105.10"));
  EXPECT_EQ(c->low, dec("99.90"));
  EXPECT_EQ(c->close, dec("101.00"));
  EXPECT_EQ(c->volume.to_double(), 5.0);
  // 150 + 52.55 + 99.9 + 202 = 504.45
  EXPECT_EQ(c->quote_volume.to_double(), 504.45);
  EXPECT_EQ(c->taker_buy_volume.to_double(), 4.5);
  EXPECT_EQ(c->trades, 4);
  EXPECT_EQ(c->first_trade_id, 1);
  EXPECT_EQ(c->last_trade_id, 4);
  EXPECT_EQ(c->open_time, kT0);
  EXPECT_EQ(c->close_time, kT0 + kNsPerMin - kNsPerMs);
  // The ETH minute is still open (no later ETH trade): no final for it yet.
  const Candle* eth = last_of(updates, "binance:ETH-USDT:1m", kT0);
  EXPECT_TRUE(eth == nullptr || eth->status == CandleStatus::kProvisional);

  // Updates are keyed by instrument, so a series stays in one partition.
  for (const Record& rec : read_topic(*bus_, kOhlcv)) {
    auto cc = codec::decode_candle(rec.value);
    ASSERT_TRUE(cc.is_ok());
    EXPECT_EQ(rec.key, instrument_key(cc->exchange, cc->symbol));
  }

  // Offsets committed with the outputs: everything consumed, nothing pending.
  EXPECT_EQ(committed_total(*bus_), 6);
  EXPECT_TRUE(proc.caught_up());
  auto st = proc.stats();
  EXPECT_EQ(st.trades, 6u);
  EXPECT_EQ(st.records, 6u);
  EXPECT_EQ(st.commits, 1u);
  EXPECT_EQ(st.updates, updates.size());
  // Engine state is in the bus for both instruments.
  auto btc = bus_->get_state(kProcessorStateNamespace, "binance:BTC-USDT");
  ASSERT_TRUE(btc.is_ok());
  EXPECT_TRUE(btc->has_value());
  auto eth_state = bus_->get_state(kProcessorStateNamespace, "binance:ETH-USDT");
  ASSERT_TRUE(eth_state.is_ok());
  EXPECT_TRUE(eth_state->has_value());

  // Nothing new: no commit, nothing consumed.
  auto again = proc.run_once();
  ASSERT_TRUE(again.is_ok());
  EXPECT_EQ(*again, 0u);
  EXPECT_EQ(proc.stats().commits, 1u);
}

TEST_P(ProcessorTest, MaxBatchBoundsOneIterationAndEveryPartitionProgresses) {
  ProcessorConfig cfg = one_minute_config();
  cfg.max_batch = 4;
  const std::vector<std::string> symbols = {"BTC-USDT", "ETH-USDT", "SOL-USDT", "XRP-USDT", "ADA-USDT"};
  int64_t id = 1;
  for (int i = 0; i < 6; ++i)
    for (const auto& s : symbols) publish_trade(*bus_, make_trade(s, id++, "10", "1", kT0 + i * kNsPerSec));
  CandleProcessor proc(*bus_, cfg, clock_);
  size_t total = 0;
  for (int i = 0; i < 100 && !proc.caught_up(); ++i) {
    auto r = proc.run_once();
    ASSERT_TRUE(r.is_ok());
    EXPECT_LE(*r, 4u);
    total += *r;
  }
  EXPECT_EQ(total, 30u);
  EXPECT_EQ(committed_total(*bus_), 30);
  EXPECT_EQ(proc.stats().trades, 30u);
}

TEST_P(ProcessorTest, TimerFinalizesQuietSeriesByWallClock) {
  publish_trade(*bus_, make_trade("BTC-USDT", 1, "100", "1", kT0 + 1 * kNsPerSec));
  ProcessorConfig cfg = one_minute_config();
  ManualClock clock(kT0 + 1 * kNsPerSec + 10 * kNsPerMs);  // feed is live: wall ≈ event time
  CandleProcessor proc(*bus_, cfg, clock);
  ASSERT_TRUE(proc.run_once().is_ok());
  const Candle* c = last_of(read_updates(*bus_), "binance:BTC-USDT:1m", kT0);
  EXPECT_TRUE(c == nullptr || c->status == CandleStatus::kProvisional);

  // No more trades; the wall clock passes the window end + grace: the timer closes it.
  clock.advance(62 * kNsPerSec);
  auto r = proc.run_once();
  ASSERT_TRUE(r.is_ok());
  EXPECT_EQ(*r, 0u);
  c = last_of(read_updates(*bus_), "binance:BTC-USDT:1m", kT0);
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->status, CandleStatus::kFinal);
  EXPECT_EQ(c->trades, 1);
}

TEST_P(ProcessorTest, UndecodableRecordsGoToTheDeadLetterTopic) {
  const std::string garbage = "\x01\x02not a protobuf envelope";
  ASSERT_TRUE(bus_->publish(kRaw, "binance:BTC-USDT", garbage).is_ok());
  Candle candle;
  candle.symbol = "BTC-USDT";
  candle.timeframe = Timeframe::parse("1m").value();
  const std::string candle_bytes = codec::encode_candle(candle);
  ASSERT_TRUE(bus_->publish(kRaw, "binance:BTC-USDT", candle_bytes).is_ok());
  publish_trade(*bus_, make_trade("BTC-USDT", 1, "100", "1", kT0));

  CandleProcessor proc(*bus_, one_minute_config(), clock_);
  auto r = proc.run_once();
  ASSERT_TRUE(r.is_ok());
  EXPECT_EQ(*r, 3u);

  auto dl = read_dead_letters(*bus_);
  ASSERT_EQ(dl.size(), 2u);
  std::set<std::string> payloads;
  for (const auto& d : dl) {
    EXPECT_EQ(d.reason, "undecodable");
    EXPECT_EQ(d.source_topic, kRaw);
    EXPECT_EQ(d.exchange, "binance");
    EXPECT_FALSE(d.detail.empty());
    payloads.insert(d.payload);
  }
  EXPECT_EQ(payloads, (std::set<std::string>{garbage, candle_bytes}));
  EXPECT_EQ(proc.stats().undecodable, 2u);
  EXPECT_EQ(proc.stats().trades, 1u);
  EXPECT_EQ(committed_total(*bus_), 3);
}

TEST_P(ProcessorTest, TradesStampedFarInTheFutureAreDeadLetteredNotWindowed) {
  publish_trade(*bus_, make_trade("BTC-USDT", 1, "100", "1", kT0));
  Trade future = make_trade("BTC-USDT", 2, "100", "1", kT0 + 5LL * 365 * kNsPerDay);
  future.ts_recv = kT0;
  publish_trade(*bus_, future);
  CandleProcessor proc(*bus_, one_minute_config(), clock_);
  drain(proc);
  auto dl = read_dead_letters(*bus_);
  ASSERT_EQ(dl.size(), 1u);
  EXPECT_EQ(dl[0].reason, "future_event_time");
  EXPECT_EQ(proc.stats().rejected_future, 1u);
  EXPECT_EQ(proc.stats().trades, 1u);
  // No window was opened years ahead.
  for (const auto& u : read_updates(*bus_)) EXPECT_LT(u.open_time, kT0 + kNsPerDay);
}

TEST_P(ProcessorTest, LateTradesAreCorrectedOrDeadLetteredBeyondTheHorizon) {
  ProcessorConfig cfg = one_minute_config();
  cfg.candles.correction_horizon = 10 * kNsPerMin;
  publish_trade(*bus_, make_trade("BTC-USDT", 1, "100", "1", kT0 + 1 * kNsPerSec));
  publish_trade(*bus_, make_trade("BTC-USDT", 2, "101", "1", kT0 + 5 * kNsPerMin));  // closes 14:46
  CandleProcessor proc(*bus_, cfg, clock_);
  drain(proc);
  const Candle* c = last_of(read_updates(*bus_), "binance:BTC-USDT:1m", kT0);
  ASSERT_NE(c, nullptr);
  ASSERT_EQ(c->status, CandleStatus::kFinal);

  // Within the horizon: a correction with revision + 1.
  publish_trade(*bus_, make_trade("BTC-USDT", 3, "99", "2", kT0 + 30 * kNsPerSec));
  drain(proc);
  c = last_of(read_updates(*bus_), "binance:BTC-USDT:1m", kT0);
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->status, CandleStatus::kCorrected);
  EXPECT_EQ(c->revision, 1u);
  EXPECT_EQ(c->trades, 2);
  EXPECT_EQ(c->low, dec("99"));
  EXPECT_EQ(proc.stats().too_late, 0u);

  // Beyond the horizon: dead letter "too_late" carrying the trade record verbatim.
  publish_trade(*bus_, make_trade("BTC-USDT", 4, "150", "1", kT0 + 50 * kNsPerMin));
  const Trade late = make_trade("BTC-USDT", 5, "1", "1", kT0 + 40 * kNsPerSec);
  publish_trade(*bus_, late);
  drain(proc);
  auto dl = read_dead_letters(*bus_);
  ASSERT_EQ(dl.size(), 1u);
  EXPECT_EQ(dl[0].reason, "too_late");
  EXPECT_EQ(dl[0].exchange, "binance");
  EXPECT_EQ(dl[0].payload, trade_record(late));
  auto back = codec::decode_trade(dl[0].payload);
  ASSERT_TRUE(back.is_ok());
  EXPECT_EQ(back->trade_id, 5);
  EXPECT_EQ(proc.stats().too_late, 1u);
  // The too-late trade changed nothing.
  c = last_of(read_updates(*bus_), "binance:BTC-USDT:1m", kT0);
  EXPECT_EQ(c->trades, 2);
  EXPECT_EQ(c->revision, 1u);

  std::string metrics = obs::render_text();
  EXPECT_NE(metrics.find("tickflow_processor_late_trades_total{outcome=\"too_late\"}"), std::string::npos);
  EXPECT_NE(metrics.find("tickflow_processor_late_trades_total{outcome=\"corrected\"}"), std::string::npos);
  EXPECT_NE(metrics.find("tickflow_processor_candle_updates_total{"), std::string::npos);
  EXPECT_NE(metrics.find("tickflow_processor_commit_seconds_count"), std::string::npos);
}

TEST_P(ProcessorTest, DuplicatesAreCountedAndChangeNothing) {
  const Trade t = make_trade("BTC-USDT", 42, "100", "1", kT0 + 1 * kNsPerSec);
  publish_trade(*bus_, t);
  publish_trade(*bus_, t);
  publish_trade(*bus_, make_trade("BTC-USDT", 43, "100", "1", kT0 + 70 * kNsPerSec));
  publish_trade(*bus_, t);  // again after the window closed: still a duplicate, not a correction
  CandleProcessor proc(*bus_, one_minute_config(), clock_);
  drain(proc);
  EXPECT_EQ(proc.stats().duplicates, 2u);
  const Candle* c = last_of(read_updates(*bus_), "binance:BTC-USDT:1m", kT0);
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->trades, 1);
  EXPECT_EQ(c->status, CandleStatus::kFinal);
  EXPECT_EQ(c->revision, 0u);
  EXPECT_TRUE(read_dead_letters(*bus_).empty());
}

// A deterministic feed over several symbols and minutes, with duplicates and late trades.
std::vector<Trade> make_feed(int count, uint32_t seed) {
  std::mt19937 rng(seed);
  const std::vector<std::string> symbols = {"BTC-USDT", "ETH-USDT", "SOL-USDT", "BNB-USDT"};
  std::map<std::string, int64_t> next_id;
  std::map<std::string, int64_t> price;
  std::vector<Trade> out;
  TimestampNs ts = kT0;
  for (int i = 0; i < count; ++i) {
    ts += static_cast<TimestampNs>(rng() % 400) * kNsPerMs;
    const std::string& s = symbols[rng() % symbols.size()];
    int64_t& p = price[s];
    if (p == 0) p = 10000 + static_cast<int64_t>(rng() % 1000);
    p += static_cast<int64_t>(rng() % 21) - 10;
    if (p < 100) p = 100;
    int64_t id = ++next_id[s];
    std::string px = std::to_string(p / 100) + "." + (p % 100 < 10 ? "0" : "") + std::to_string(p % 100);
    std::string qty = "0." + std::to_string(1 + rng() % 999);
    TimestampNs ev = ts;
    uint32_t kind = rng() % 100;
    if (kind < 3 && !out.empty()) {  // duplicate of an earlier trade
      out.push_back(out[rng() % out.size()]);
      continue;
    }
    if (kind < 6) ev = ts - static_cast<TimestampNs>(20 + rng() % 100) * kNsPerSec;  // late
    out.push_back(make_trade(s, id, px, qty, ev, rng() % 2 ? Side::kBuy : Side::kSell));
  }
  return out;
}

TEST_P(ProcessorTest, RestartResumesWithoutLossOrRepetition) {
  ProcessorConfig cfg = one_minute_config();
  cfg.candles.timeframes = Timeframe::parse_list("1m 5m").value();
  cfg.max_batch = 37;
  const auto feed = make_feed(3000, 7);

  // Reference: an uninterrupted run on a separate FakeBus.
  FakeBus ref_bus;
  for (const Trade& t : feed) publish_trade(ref_bus, t);
  {
    CandleProcessor ref(ref_bus, cfg, clock_);
    drain(ref);
  }

  // Interrupted: half the feed, a restart mid-stream, the rest.
  for (size_t i = 0; i < feed.size() / 2; ++i) publish_trade(*bus_, feed[i]);
  {
    CandleProcessor first(*bus_, cfg, clock_);
    for (int i = 0; i < 10; ++i) ASSERT_TRUE(first.run_once().is_ok());
    EXPECT_FALSE(first.caught_up());
  }
  for (size_t i = feed.size() / 2; i < feed.size(); ++i) publish_trade(*bus_, feed[i]);
  {
    CandleProcessor second(*bus_, cfg, clock_);
    for (int i = 0; i < 5; ++i) ASSERT_TRUE(second.run_once().is_ok());
  }
  {
    CandleProcessor third(*bus_, cfg, clock_);
    drain(third);
  }

  const auto ref_updates = read_updates(ref_bus);
  const auto got_updates = read_updates(*bus_);
  EXPECT_EQ(last_per_key(got_updates), last_per_key(ref_updates));
  // No final or correction was repeated.
  std::map<std::string, int> finals;
  for (const Candle& c : got_updates)
    if (c.status != CandleStatus::kProvisional) ++finals[describe(c)];
  for (const auto& [d, n] : finals) EXPECT_EQ(n, 1) << d;
  EXPECT_EQ(committed_total(*bus_), static_cast<int64_t>(feed.size()));
  EXPECT_EQ(read_dead_letters(*bus_).size(), read_dead_letters(ref_bus).size());
}

TEST_P(ProcessorTest, WorkerThreadConsumesLiveDataAndStopIsIdempotent) {
  ProcessorConfig cfg = one_minute_config();
  cfg.timer_interval = 10 * kNsPerSec;  // stop() must not wait for the timer
  CandleProcessor proc(*bus_, cfg, clock_);
  ASSERT_TRUE(proc.start().is_ok());
  EXPECT_EQ(proc.health().state, HealthState::kUp);
  publish_trade(*bus_, make_trade("BTC-USDT", 1, "100", "1", kT0 + 1 * kNsPerSec));
  publish_trade(*bus_, make_trade("BTC-USDT", 2, "101", "1", kT0 + 70 * kNsPerSec));
  ASSERT_TRUE(wait_until(*bus_, kOhlcv, [&] {
    const Candle* c = last_of(read_updates(*bus_), "binance:BTC-USDT:1m", kT0);
    return c && c->status == CandleStatus::kFinal;
  }));
  ASSERT_TRUE(wait_until(*bus_, kOhlcv, [&] { return proc.caught_up(); }));
  EXPECT_EQ(proc.stats().trades, 2u);

  auto t0 = std::chrono::steady_clock::now();
  proc.stop();
  proc.stop();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(2));

  // start() after stop() resumes from the committed state.
  ASSERT_TRUE(proc.start().is_ok());
  publish_trade(*bus_, make_trade("BTC-USDT", 3, "102", "1", kT0 + 140 * kNsPerSec));
  ASSERT_TRUE(wait_until(*bus_, kOhlcv, [&] {
    const Candle* c = last_of(read_updates(*bus_), "binance:BTC-USDT:1m", kT0 + kNsPerMin);
    return c && c->status == CandleStatus::kFinal;
  }));
  proc.stop();
  EXPECT_EQ(committed_total(*bus_), 3);
}

INSTANTIATE_TEST_SUITE_P(Buses, ProcessorTest, ::testing::Values("fake", "embedded"),
                         [](const auto& info) { return info.param; });

// ---------------------------------------------------------------------------------------------
// Commit failures (FakeBus only: the real bus cannot be told to fail).

TEST(ProcessorFaultTest, RetryableCommitFailureRetriesTheSameBatchExactlyOnce) {
  FakeBus bus;
  ManualClock clock(kT0 + kNsPerHour);
  publish_trade(bus, make_trade("BTC-USDT", 1, "100", "1", kT0 + 1 * kNsPerSec));
  publish_trade(bus, make_trade("BTC-USDT", 2, "101", "1", kT0 + 70 * kNsPerSec));
  CandleProcessor proc(bus, one_minute_config(), clock);
  bus.inject_commit_failure(Status::unavailable("injected"));
  auto r = proc.run_once();
  ASSERT_FALSE(r.is_ok());
  EXPECT_TRUE(r.status().retryable());
  EXPECT_EQ(proc.health().state, HealthState::kDegraded);
  EXPECT_EQ(committed_total(bus), 0);
  EXPECT_TRUE(read_updates(bus).empty());

  // More data arrives meanwhile; the retry commits the SAME batch first.
  publish_trade(bus, make_trade("BTC-USDT", 3, "102", "1", kT0 + 140 * kNsPerSec));
  r = proc.run_once();
  ASSERT_TRUE(r.is_ok()) << r.status().to_string();
  EXPECT_EQ(*r, 2u);
  EXPECT_EQ(committed_total(bus), 2);
  EXPECT_EQ(proc.health().state, HealthState::kUp);
  drain(proc);
  EXPECT_EQ(committed_total(bus), 3);

  std::map<std::string, int> finals;
  for (const Candle& c : read_updates(bus))
    if (c.status != CandleStatus::kProvisional) ++finals[describe(c)];
  ASSERT_EQ(finals.size(), 2u);  // 14:46 and 14:47 final, once each
  for (const auto& [d, n] : finals) EXPECT_EQ(n, 1) << d;
  EXPECT_EQ(proc.stats().commit_failures, 1u);
  EXPECT_EQ(proc.stats().trades, 3u);
}

TEST(ProcessorFaultTest, WorkerRetriesRetryableFailuresWithBackoff) {
  FakeBus bus;
  ManualClock clock(kT0 + kNsPerHour);
  CandleProcessor proc(bus, one_minute_config(), clock);
  bus.inject_commit_failure(Status::unavailable("injected 1"));
  bus.inject_commit_failure(Status::resource_exhausted("injected 2"));
  ASSERT_TRUE(proc.start().is_ok());
  publish_trade(bus, make_trade("BTC-USDT", 1, "100", "1", kT0 + 1 * kNsPerSec));
  ASSERT_TRUE(wait_until(bus, kRaw, [&] { return proc.caught_up(); }));
  proc.stop();
  EXPECT_EQ(proc.stats().commit_failures, 2u);
  EXPECT_EQ(proc.stats().commits, 1u);
  EXPECT_EQ(proc.health().state, HealthState::kUp);
}

TEST(ProcessorFaultTest, DiskFullStopsConsumptionAndRestartResumesExactly) {
  const auto feed = make_feed(400, 3);
  ProcessorConfig cfg = one_minute_config();
  cfg.max_batch = 50;
  ManualClock clock(kT0 + kNsPerHour);

  FakeBus ref_bus;
  for (const Trade& t : feed) publish_trade(ref_bus, t);
  {
    CandleProcessor ref(ref_bus, cfg, clock);
    drain(ref);
  }

  FakeBus bus;
  for (const Trade& t : feed) publish_trade(bus, t);
  {
    CandleProcessor proc(bus, cfg, clock);
    ASSERT_TRUE(proc.run_once().is_ok());
    ASSERT_TRUE(proc.run_once().is_ok());
    const int64_t committed = committed_total(bus);
    EXPECT_EQ(committed, 100);
    bus.inject_commit_failure(Status::io_error("No space left on device"));
    auto r = proc.run_once();
    ASSERT_FALSE(r.is_ok());
    EXPECT_EQ(r.status().code(), ErrorCode::kIo);
    EXPECT_EQ(proc.health().state, HealthState::kDown);
    EXPECT_NE(proc.health().detail.find("No space left"), std::string::npos);
    // Stopped: nothing more is consumed even though the disk "recovered".
    EXPECT_FALSE(proc.run_once().is_ok());
    EXPECT_EQ(committed_total(bus), committed);
  }
  {
    CandleProcessor restarted(bus, cfg, clock);
    drain(restarted);
  }
  EXPECT_EQ(last_per_key(read_updates(bus)), last_per_key(read_updates(ref_bus)));
  EXPECT_EQ(read_dead_letters(bus).size(), read_dead_letters(ref_bus).size());
}

TEST(ProcessorFaultTest, WorkerStopsOnDiskFullAndReportsDown) {
  FakeBus bus;
  ManualClock clock(kT0 + kNsPerHour);
  CandleProcessor proc(bus, one_minute_config(), clock);
  bus.inject_commit_failure(Status::io_error("No space left on device"));
  ASSERT_TRUE(proc.start().is_ok());
  publish_trade(bus, make_trade("BTC-USDT", 1, "100", "1", kT0 + 1 * kNsPerSec));
  ASSERT_TRUE(wait_until(bus, kRaw, [&] { return proc.health().state == HealthState::kDown; }));
  publish_trade(bus, make_trade("BTC-USDT", 2, "100", "1", kT0 + 2 * kNsPerSec));
  proc.stop();
  EXPECT_EQ(committed_total(bus), 0);
  EXPECT_EQ(proc.stats().commits, 0u);
}

TEST(ProcessorStartTest, RejectsInvalidConfigAndCorruptState) {
  FakeBus bus;
  ManualClock clock(kT0);
  ProcessorConfig bad = one_minute_config();
  bad.max_batch = 0;
  CandleProcessor p1(bus, bad, clock);
  Status s = p1.start();
  EXPECT_EQ(s.code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(s.message().find("max_batch"), std::string::npos);

  auto txn = bus.begin();
  txn->put_state(kProcessorStateNamespace, "binance:BTC-USDT", "garbage");
  ASSERT_TRUE(txn->commit().is_ok());
  CandleProcessor p2(bus, one_minute_config(), clock);
  s = p2.start();
  EXPECT_EQ(s.code(), ErrorCode::kCorruption);
  EXPECT_NE(s.message().find("binance:BTC-USDT"), std::string::npos);
  EXPECT_FALSE(p2.run_once().is_ok());
  p2.stop();
}

// ---------------------------------------------------------------------------------------------
// Crash safety: SIGKILL a child process running the processor at random moments.

constexpr int kCrashTrades = 12000;
constexpr uint32_t kCrashSeed = 11;
constexpr int kKills = 20;

ProcessorConfig crash_config() {
  ProcessorConfig cfg = one_minute_config();
  cfg.candles.timeframes = Timeframe::parse_list("1m 5m").value();
  cfg.max_batch = 64;
  return cfg;
}

// The raw topic of the crash test: the feed plus some undecodable records.
void fill_crash_feed(EventBus& bus) {
  const auto feed = make_feed(kCrashTrades, kCrashSeed);
  for (size_t i = 0; i < feed.size(); ++i) {
    publish_trade(bus, feed[i]);
    if (i % 1000 == 999) {
      ASSERT_TRUE(bus.publish(kRaw, "binance:BTC-USDT", "junk " + std::to_string(i)).is_ok());
    }
  }
  // Far ahead in event time, then far behind: a too-late trade for the dead-letter topic.
  publish_trade(bus, make_trade("BTC-USDT", 900000, "1", "1", kT0 + 10 * kNsPerHour));
  publish_trade(bus, make_trade("BTC-USDT", 900001, "1", "1", kT0 + 1 * kNsPerSec));
}

// Not a test of its own: the body of the child process of the crash test. Skipped unless
// the parent set TICKFLOW_PROCESSOR_CHILD_DIR and TICKFLOW_PROCESSOR_CHILD_FD.
TEST(ProcessorCrashChild, Run) {
  const char* dir = std::getenv("TICKFLOW_PROCESSOR_CHILD_DIR");
  const char* fd_text = std::getenv("TICKFLOW_PROCESSOR_CHILD_FD");
  if (!dir || !fd_text) GTEST_SKIP() << "child process of ProcessorCrashTest only";
  const int fd = std::atoi(fd_text);
  auto report = [fd](int64_t v) {
    if (::write(fd, &v, sizeof v) != sizeof v) std::_Exit(3);
  };
  report(-2);  // alive, about to open the bus
  bus::BusConfig bc;
  bc.data_dir = dir;
  auto b = bus::make_event_bus(bc);
  if (!b.is_ok()) std::_Exit(4);
  EventBus& bus = **b;
  ManualClock clock(kT0 + kNsPerHour);
  CandleProcessor proc(bus, crash_config(), clock);
  if (!proc.start().is_ok()) std::_Exit(5);
  for (;;) {
    const uint64_t v = bus.data_version(kOhlcv);
    const int64_t done = committed_total(bus);
    report(done);
    if (proc.caught_up()) break;
    bus.wait_for_data(kOhlcv, v, 2 * kNsPerMs);
  }
  proc.stop();
  report(-1);  // finished
  std::_Exit(0);
}

class ChildProcess {
 public:
  ChildProcess(const std::string& dir) {
    int fds[2];
    if (::pipe(fds) != 0) return;
    read_fd_ = fds[0];
    pid_ = ::fork();
    if (pid_ == 0) {
      ::close(fds[0]);
      const int devnull = ::open("/dev/null", O_WRONLY);
      if (devnull >= 0) {
        ::dup2(devnull, 1);
        ::dup2(devnull, 2);
      }
      ::setenv("TICKFLOW_PROCESSOR_CHILD_DIR", dir.c_str(), 1);
      ::setenv("TICKFLOW_PROCESSOR_CHILD_FD", std::to_string(fds[1]).c_str(), 1);
      ::execl("/proc/self/exe", "processor_test", "--gtest_filter=ProcessorCrashChild.Run",
              static_cast<char*>(nullptr));
      std::_Exit(127);
    }
    ::close(fds[1]);
  }
  ~ChildProcess() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    if (read_fd_ >= 0) ::close(read_fd_);
  }
  bool started() const { return pid_ > 0 && read_fd_ >= 0; }

  // Next progress report; nullopt at EOF (child gone) or after the deadline.
  std::optional<int64_t> next(std::chrono::milliseconds limit = std::chrono::milliseconds(30000)) {
    int64_t v;
    size_t got = 0;
    auto* p = reinterpret_cast<char*>(&v);
    while (got < sizeof v) {
      pollfd pfd{read_fd_, POLLIN, 0};
      if (::poll(&pfd, 1, static_cast<int>(limit.count())) <= 0) return std::nullopt;
      ssize_t n = ::read(read_fd_, p + got, sizeof v - got);
      if (n <= 0) return std::nullopt;
      got += static_cast<size_t>(n);
    }
    return v;
  }
  void kill_now() { ::kill(pid_, SIGKILL); }
  int wait() {
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
    return status;
  }

 private:
  pid_t pid_ = -1;
  int read_fd_ = -1;
};

TEST(ProcessorCrashTest, KillNineAtRandomMomentsGivesTheCandlesOfAnUninterruptedRun) {
  const std::string base = fs::temp_directory_path() / ("tickflow-processor-crash-" + std::to_string(::getpid()));
  const std::string crash_dir = base + "/crash";
  const std::string ref_dir = base + "/reference";
  fs::remove_all(base);
  ManualClock clock(kT0 + kNsPerHour);
  int64_t total = 0;

  // Reference: uninterrupted, in this process.
  std::vector<Candle> ref_updates;
  std::vector<codec::DeadLetter> ref_dlq;
  {
    bus::BusConfig bc;
    bc.data_dir = ref_dir;
    auto b = bus::make_event_bus(bc);
    ASSERT_TRUE(b.is_ok()) << b.status().to_string();
    fill_crash_feed(**b);
    total = end_total(**b, kRaw);
    CandleProcessor ref(**b, crash_config(), clock);
    drain(ref);
    ref_updates = read_updates(**b);
    ref_dlq = read_dead_letters(**b);
  }
  {
    bus::BusConfig bc;
    bc.data_dir = crash_dir;
    auto b = bus::make_event_bus(bc);
    ASSERT_TRUE(b.is_ok());
    fill_crash_feed(**b);
  }

  std::mt19937 rng(::testing::UnitTest::GetInstance()->random_seed() + 5);
  int64_t progress = 0;
  int kills = 0, early_kills = 0, finished = 0;
  std::vector<int64_t> kill_points;  // committed records when the kill was sent
  for (int round = 0; kills < kKills && round < kKills * 3; ++round) {
    ChildProcess child(crash_dir);
    ASSERT_TRUE(child.started());
    auto first = child.next();
    ASSERT_TRUE(first.has_value()) << "child did not start";
    ASSERT_EQ(*first, -2);
    if (rng() % 6 == 0) {  // while it opens the bus and restores state
      child.kill_now();
      child.wait();
      ++kills;
      ++early_kills;
      continue;
    }
    const int kills_left = kKills - kills;
    const int64_t span = std::max<int64_t>(1, (total - progress) / (kills_left + 1));
    const int64_t target = progress + static_cast<int64_t>(rng() % static_cast<uint64_t>(span));
    bool killed = false;
    for (;;) {
      auto v = child.next();
      ASSERT_TRUE(v.has_value()) << "child died or hung";
      if (*v == -1) break;  // finished before the target
      ASSERT_GE(*v, progress) << "committed offsets went backwards";
      progress = *v;
      if (progress >= target) {
        child.kill_now();
        killed = true;
        kill_points.push_back(progress);
        break;
      }
    }
    const int status = child.wait();
    if (killed) {
      ASSERT_TRUE(WIFSIGNALED(status));
      ++kills;
    } else {
      ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
      ++finished;
      break;
    }
  }
  EXPECT_EQ(kills, kKills);
  std::string points;
  for (int64_t p : kill_points) points += " " + std::to_string(p);
  std::printf("crash test: %d kills (%d while opening), %d clean finishes, of %lld records; kills "
              "after:%s\n",
              kills, early_kills, finished, static_cast<long long>(total), points.c_str());

  // Finish in this process and compare with the uninterrupted run.
  bus::BusConfig bc;
  bc.data_dir = crash_dir;
  auto b = bus::make_event_bus(bc);
  ASSERT_TRUE(b.is_ok()) << b.status().to_string();
  {
    CandleProcessor last(**b, crash_config(), clock);
    drain(last);
  }
  EXPECT_EQ(committed_total(**b), total);
  const auto got_updates = read_updates(**b);
  const auto want = last_per_key(ref_updates);
  const auto got = last_per_key(got_updates);
  EXPECT_EQ(got.size(), want.size());
  EXPECT_EQ(got, want);
  size_t finals = 0;
  std::map<std::string, int> seen;
  for (const Candle& c : got_updates) {
    if (c.status != CandleStatus::kProvisional && ++seen[describe(c)] == 1) ++finals;
  }
  for (const auto& [d, n] : seen) EXPECT_EQ(n, 1) << "repeated: " << d;
  EXPECT_GT(finals, 100u);

  auto dlq = read_dead_letters(**b);
  std::multiset<std::pair<std::string, std::string>> got_dlq, want_dlq;
  for (const auto& d : dlq) got_dlq.insert({d.reason, d.payload});
  for (const auto& d : ref_dlq) want_dlq.insert({d.reason, d.payload});
  EXPECT_EQ(got_dlq, want_dlq);
  EXPECT_EQ(want_dlq.count({"too_late", trade_record(make_trade("BTC-USDT", 900001, "1", "1",
                                                                 kT0 + 1 * kNsPerSec))}),
            1u);
  RecordProperty("kills", kills);
  RecordProperty("early_kills", early_kills);
  b->reset();
  fs::remove_all(base);
}

}  // namespace
}  // namespace tickflow::processing
