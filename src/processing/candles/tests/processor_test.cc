// CandleProcessor: the consumer loop around the CandleEngine, with exactly-once commits.
//
// Every behavioural test here runs twice: over the in-memory bus (parameter "fake") and over the
// real embedded bus (make_event_bus in a temp dir). Commit-failure injection is in
// processor_fault_test.cc, the SIGKILL crash test in processor_crash_test.cc; shared helpers in
// processor_test_support.h.
#include "processing/candles/processor.h"

#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "bus/factory.h"
#include "core/codec.h"
#include "core/topics.h"
#include "observability/metrics.h"
#include "processing/candles/tests/processor_test_support.h"

namespace tickflow::processing {
namespace {

namespace fs = std::filesystem;
using namespace testing;

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
      bus_ = std::make_unique<InMemoryBus>(kWithDefaultTopics);
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

TEST_P(ProcessorTest, BookSnapshotOnTheTradeTopicIsSkippedNotDeadLettered) {
  // Book snapshots belong on raw.orderbook; one misrouted here is not a bad trade.
  BookSnapshot book;
  book.symbol = "BTC-USDT";
  book.bids = {{*Decimal::parse("100"), *Decimal::parse("1")}};
  ASSERT_TRUE(bus_->publish(kRaw, "binance:BTC-USDT", codec::encode_book(book)).is_ok());
  publish_trade(*bus_, make_trade("BTC-USDT", 1, "100", "1", kT0));
  CandleProcessor proc(*bus_, one_minute_config(), clock_);
  auto r = proc.run_once();
  ASSERT_TRUE(r.is_ok());
  EXPECT_EQ(*r, 2u);
  EXPECT_TRUE(read_dead_letters(*bus_).empty());
  EXPECT_EQ(proc.stats().undecodable, 0u);
  EXPECT_EQ(proc.stats().trades, 1u);
  EXPECT_EQ(committed_total(*bus_), 2);
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

TEST_P(ProcessorTest, RestartResumesWithoutLossOrRepetition) {
  ProcessorConfig cfg = one_minute_config();
  cfg.candles.timeframes = Timeframe::parse_list("1m 5m").value();
  cfg.max_batch = 37;
  const auto feed = make_feed(3000, 7);

  // Reference: an uninterrupted run on a separate in-memory bus.
  InMemoryBus ref_bus(kWithDefaultTopics);
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

TEST(ProcessorStartTest, RejectsInvalidConfigAndCorruptState) {
  InMemoryBus bus(kWithDefaultTopics);
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


// Static partition assignment (`tickflow processor --instance I --instances N`): each instance
// consumes only the raw.market-data partitions p % N == I, and together they produce what one
// processor produces.
TEST(ProcessorInstancesTest, InstancesSplitThePartitionsAndTogetherEqualOneProcessor) {
  ManualClock clock(kT0);
  const std::vector<std::string> symbols = {"BTC-USDT", "ETH-USDT", "SOL-USDT", "XRP-USDT", "ADA-USDT", "DOGE-USDT"};
  auto feed = [&](EventBus& bus) {
    int64_t id = 1;
    for (int i = 0; i < 50; ++i)
      for (const auto& s : symbols)
        publish_trade(bus, make_trade(s, id++, i % 2 ? "100.5" : "101", "0.25", kT0 + i * 3 * kNsPerSec));
  };
  InMemoryBus single_bus(kWithDefaultTopics), split_bus(kWithDefaultTopics);
  feed(single_bus);
  feed(split_bus);
  CandleProcessor single(single_bus, one_minute_config(), clock);
  drain(single);

  std::set<int32_t> owned[2];
  for (const auto& s : symbols) {
    int32_t p = topics::partition_for(instrument_key(Exchange::kBinance, s), 30);
    owned[p % 2].insert(p);
  }
  ASSERT_FALSE(owned[0].empty());
  ASSERT_FALSE(owned[1].empty());
  ProcessorConfig c0 = one_minute_config(), c1 = one_minute_config();
  c0.instances = c1.instances = 2;
  c1.instance = 1;
  CandleProcessor p0(split_bus, c0, clock), p1(split_bus, c1, clock);
  drain(p0);
  EXPECT_FALSE(p0.caught_up() && p1.caught_up());
  for (int32_t p = 0; p < 30; ++p) {
    auto committed = split_bus.committed_offset("processor", kRaw, p);
    ASSERT_TRUE(committed.is_ok());
    if (p % 2 == 1) {
      EXPECT_EQ(*committed, 0) << "instance 0 consumed partition " << p;
    }
  }
  drain(p1);
  EXPECT_TRUE(p0.caught_up());
  EXPECT_TRUE(p1.caught_up());
  EXPECT_EQ(committed_total(split_bus), end_total(split_bus, kRaw));
  EXPECT_EQ(last_per_key(read_updates(split_bus)), last_per_key(read_updates(single_bus)));

  // Restart both on the shared bus (`tickflow processor --threads 2`: one data dir, one state
  // store): each restores only its partitions' instruments, so when the clock closes the open
  // windows every final candle comes once, from its owner.
  p0.stop();
  p1.stop();
  single.stop();
  CandleProcessor q0(split_bus, c0, clock), q1(split_bus, c1, clock), single_again(single_bus, one_minute_config(), clock);
  drain(q0);
  drain(q1);
  drain(single_again);
  clock.advance(5 * 60 * kNsPerSec);
  for (CandleProcessor* q : {&q0, &q1, &single_again}) ASSERT_TRUE(q->run_once().is_ok());
  const auto split_updates = read_updates(split_bus);
  EXPECT_EQ(last_per_key(split_updates), last_per_key(read_updates(single_bus)));
  std::map<CandleKey, int> finals;
  for (const Candle& c : split_updates)
    if (c.status == CandleStatus::kFinal) ++finals[{c.series_key(), c.open_time}];
  EXPECT_EQ(finals.size(), symbols.size() * 3);  // 150 s of trades: three minutes per symbol
  for (const auto& [key, n] : finals) EXPECT_EQ(n, 1) << key.first << " " << key.second;

  ProcessorConfig bad = one_minute_config();
  bad.instances = 2;
  bad.instance = 2;
  CandleProcessor p2(split_bus, bad, clock);
  Status s = p2.start();
  EXPECT_EQ(s.code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(s.message().find("processor.instance"), std::string::npos);
}

}  // namespace
}  // namespace tickflow::processing
