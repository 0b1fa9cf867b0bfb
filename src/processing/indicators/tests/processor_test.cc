// IndicatorProcessor on the in-memory bus: values equal a batch IndicatorSet, exactly-once
// across a crash, corrections, gaps, warm-up from the store, spec changes, config errors.
#include "processing/indicators/processor.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <map>

#include "bus/testing/in_memory_bus.h"
#include "core/codec.h"
#include "core/topics.h"
#include "serving/tests/fakes.h"

namespace tickflow::processing::indicators {
namespace {

using bus::testing::InMemoryBus;
using serving::testing::FakeCandleStore;

constexpr int64_t kT0 = 1628899200000;  // 2021-08-14T00:00:00Z (ms)
constexpr int64_t kMin = 60'000;

std::string money(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.2f", v);
  return buf;
}

// Deterministic, non-trivial prices: a drift plus two waves.
Candle candle(int i, std::string symbol = "BTC-USDT", CandleStatus status = CandleStatus::kFinal,
              uint32_t revision = 0, double bump = 0) {
  const double close = 40000 + 3 * i + 120 * std::sin(i * 0.37) + 45 * std::cos(i * 1.9) + bump;
  const double open = 40000 + 3 * (i - 1) + 120 * std::sin((i - 1) * 0.37) + 45 * std::cos((i - 1) * 1.9);
  Candle c;
  c.exchange = Exchange::kBinance;
  c.symbol = std::move(symbol);
  c.exchange_symbol = "X";
  c.timeframe = Timeframe::parse("1m").value();
  c.open_time = (kT0 + i * kMin) * kNsPerMs;
  c.close_time = c.open_time + c.timeframe.duration_ns() - kNsPerMs;
  c.open = Decimal::parse(money(open)).value();
  c.close = Decimal::parse(money(close)).value();
  c.high = Decimal::parse(money(std::max(open, close) + 7 + (i % 5))).value();
  c.low = Decimal::parse(money(std::min(open, close) - 5 - (i % 3))).value();
  c.volume = WideDecimal::parse(money(1 + (i % 7))).value();
  c.quote_volume = WideDecimal::parse(money(close * (1 + (i % 7)))).value();
  c.trades = 3;
  c.status = status;
  c.revision = revision;
  return c;
}

void publish(InMemoryBus& bus, const Candle& c) {
  ASSERT_TRUE(bus.publish(topics::kNormalizedOhlcv, instrument_key(c.exchange, c.symbol), codec::encode_candle(c)).is_ok());
}

IndicatorProcessorConfig small_config() {
  IndicatorProcessorConfig cfg;
  cfg.correction_horizon = 10 * kNsPerMin;  // 11 checkpoints on 1m
  return cfg;
}

void drain(IndicatorProcessor& p) {
  for (int guard = 0; guard < 100000; ++guard) {
    auto r = p.run_once();
    ASSERT_TRUE(r.is_ok()) << r.status().to_string();
    if (*r == 0) return;
  }
  FAIL() << "never caught up";
}

std::vector<IndicatorRecord> published(const InMemoryBus& bus) {
  std::vector<IndicatorRecord> out;
  for (const auto& rec : bus.records(topics::kProcessedIndicators)) {
    auto r = codec::decode_indicators(rec.value);
    EXPECT_TRUE(r.is_ok()) << r.status().to_string();
    if (r) out.push_back(*r);
  }
  return out;
}

std::vector<IndicatorRecord> of_symbol(const std::vector<IndicatorRecord>& all, const std::string& symbol) {
  std::vector<IndicatorRecord> out;
  for (const auto& r : all)
    if (r.symbol == symbol) out.push_back(r);
  return out;
}

// The values a batch IndicatorSet gives after each of `bars`.
std::vector<std::vector<std::pair<std::string, double>>> batch(const std::vector<Candle>& bars,
                                                               std::string_view spec = kDefaultIndicatorSpec) {
  auto set = IndicatorSet::create(spec).value();
  std::vector<std::vector<std::pair<std::string, double>>> out;
  for (const Candle& c : bars) {
    EXPECT_TRUE(set.update(bar_from_candle(c)).is_ok());
    std::vector<std::pair<std::string, double>> v;
    for (size_t i = 0; i < set.names().size(); ++i)
      if (set.values()[i]) v.emplace_back(set.names()[i], *set.values()[i]);
    out.push_back(std::move(v));
  }
  return out;
}

bool same(const IndicatorRecord& a, const IndicatorRecord& b) {
  return a.series_key() == b.series_key() && a.open_time == b.open_time && a.close_time == b.close_time &&
         a.candle_revision == b.candle_revision && a.provisional == b.provisional && a.values == b.values;
}

TEST(IndicatorProcessor, ValuesEqualABatchIndicatorSetPerSeries) {
  InMemoryBus bus(InMemoryBus::InitialTopics::kDefault);
  FakeCandleStore store;
  ManualClock clock(kT0 * kNsPerMs);
  std::vector<Candle> btc, eth;
  for (int i = 0; i < 60; ++i) {
    publish(bus, candle(i, "BTC-USDT", CandleStatus::kProvisional));  // skipped
    btc.push_back(candle(i, "BTC-USDT"));
    eth.push_back(candle(i + 17, "ETH-USDT"));
    eth.back().open_time = btc.back().open_time;
    eth.back().close_time = btc.back().close_time;
    publish(bus, btc.back());
    publish(bus, eth.back());
    if (i % 10 == 3) publish(bus, btc.back());  // a replay: ignored
  }
  IndicatorProcessor p(bus, store, small_config(), clock);
  drain(p);
  auto all = published(bus);
  for (const auto& [symbol, bars] : {std::pair{std::string("BTC-USDT"), btc}, {std::string("ETH-USDT"), eth}}) {
    auto got = of_symbol(all, symbol);
    auto want = batch(bars);
    ASSERT_EQ(got.size(), bars.size()) << symbol;
    for (size_t i = 0; i < got.size(); ++i) {
      EXPECT_EQ(got[i].open_time, bars[i].open_time);
      EXPECT_EQ(got[i].values, want[i]) << symbol << " bar " << i;  // bit-identical
      EXPECT_FALSE(got[i].provisional);
    }
    // Warmed up by the end: every output present and finite.
    EXPECT_EQ(got.back().values.size(), IndicatorSet::create(kDefaultIndicatorSpec)->names().size());
    for (const auto& [n, v] : got.back().values) EXPECT_TRUE(std::isfinite(v)) << n;
  }
  auto st = p.stats();
  EXPECT_EQ(st.applied, 120u);
  EXPECT_EQ(st.duplicates, 6u);
  EXPECT_EQ(st.published, 120u);
  EXPECT_TRUE(p.caught_up());
}

// Provisional updates change nothing: their batches are not committed one by one but with the
// next batch that publishes, or once the input is drained.
TEST(IndicatorProcessor, ProvisionalOnlyBatchesShareACommit) {
  InMemoryBus bus(InMemoryBus::InitialTopics::kDefault);
  ManualClock clock(kT0 * kNsPerMs);
  FakeCandleStore store;
  IndicatorProcessorConfig cfg = small_config();
  cfg.max_batch = 4;
  for (int i = 0; i < 12; ++i) publish(bus, candle(0, "BTC-USDT", CandleStatus::kProvisional));
  IndicatorProcessor p(bus, store, cfg, clock);
  for (int k = 0; k < 3; ++k) {
    auto r = p.run_once();
    ASSERT_TRUE(r.is_ok());
    EXPECT_EQ(*r, 4u);
  }
  EXPECT_EQ(p.stats().commits, 0u);
  EXPECT_FALSE(p.caught_up());
  publish(bus, candle(0, "BTC-USDT"));  // a closed candle: published with the deferred positions
  ASSERT_TRUE(p.run_once().is_ok());
  EXPECT_EQ(p.stats().commits, 1u);
  EXPECT_EQ(p.stats().records_in, 13u);
  EXPECT_TRUE(p.caught_up());
  publish(bus, candle(1, "BTC-USDT", CandleStatus::kProvisional));
  ASSERT_TRUE(p.run_once().is_ok());
  EXPECT_FALSE(p.caught_up());
  auto r = p.run_once();  // drained: the positions are committed
  ASSERT_TRUE(r.is_ok());
  EXPECT_EQ(*r, 0u);
  EXPECT_EQ(p.stats().commits, 2u);
  EXPECT_TRUE(p.caught_up());
  EXPECT_EQ(published(bus).size(), 1u);
}

// Runs the same input through an uninterrupted processor and through processors re-created
// every `cut` batches (uncommitted work dropped, as by kill -9): identical records.
TEST(IndicatorProcessor, RestartAtAnyBatchGivesTheSameRecords) {
  auto feed = [](InMemoryBus& bus) {
    for (int i = 0; i < 80; ++i) {
      publish(bus, candle(i, "BTC-USDT"));
      publish(bus, candle(i, "SOL-USDT"));
      if (i == 70) publish(bus, candle(66, "BTC-USDT", CandleStatus::kCorrected, 1, 25.5));
    }
  };
  ManualClock clock(kT0 * kNsPerMs);
  FakeCandleStore store;
  IndicatorProcessorConfig cfg = small_config();
  cfg.max_batch = 7;

  InMemoryBus ref_bus(InMemoryBus::InitialTopics::kDefault);
  feed(ref_bus);
  {
    IndicatorProcessor p(ref_bus, store, cfg, clock);
    drain(p);
  }
  auto want = published(ref_bus);
  ASSERT_EQ(want.size(), 160u + 5u);  // + republished 66..70

  InMemoryBus bus(InMemoryBus::InitialTopics::kDefault);
  feed(bus);
  int restarts = 0;
  for (bool done = false; !done; ++restarts) {
    IndicatorProcessor p(bus, store, cfg, clock);
    for (int k = 0; k < 2; ++k) {
      auto r = p.run_once();
      ASSERT_TRUE(r.is_ok());
      if (*r == 0) {
        done = true;
        break;
      }
    }
    if (!done && restarts % 2 == 0) {
      // A crash inside a commit: nothing of the failed batch may survive.
      bus.fail_commits(Status::io_error("disk gone"));
      EXPECT_FALSE(p.run_once().is_ok());
    }
  }
  EXPECT_GT(restarts, 5);
  // Per series, in order (partitions interleave differently with other batch boundaries).
  auto all = published(bus);
  ASSERT_EQ(all.size(), want.size());
  for (const char* symbol : {"BTC-USDT", "SOL-USDT"}) {
    auto got = of_symbol(all, symbol), ref = of_symbol(want, symbol);
    ASSERT_EQ(got.size(), ref.size());
    for (size_t i = 0; i < got.size(); ++i) EXPECT_TRUE(same(got[i], ref[i])) << symbol << " record " << i;
  }
}

TEST(IndicatorProcessor, CorrectionReplaysFromTheBarAndRepublishesWithHigherRevisions) {
  InMemoryBus bus(InMemoryBus::InitialTopics::kDefault);
  FakeCandleStore store;
  ManualClock clock(kT0 * kNsPerMs);
  std::vector<Candle> bars;
  for (int i = 0; i < 40; ++i) {
    bars.push_back(candle(i));
    publish(bus, bars.back());
  }
  IndicatorProcessor p(bus, store, small_config(), clock);
  drain(p);
  ASSERT_EQ(published(bus).size(), 40u);

  // Bar 35 corrected (revision 1): records for 35..39 again, equal to a batch over the fixed series.
  bars[35] = candle(35, "BTC-USDT", CandleStatus::kCorrected, 1, -80);
  publish(bus, bars[35]);
  drain(p);
  auto all = published(bus);
  ASSERT_EQ(all.size(), 45u);
  auto want = batch(bars);
  for (size_t k = 0; k < 5; ++k) {
    const IndicatorRecord& r = all[40 + k];
    EXPECT_EQ(r.open_time, bars[35 + k].open_time);
    EXPECT_EQ(r.values, want[35 + k]) << k;
    EXPECT_EQ(r.candle_revision, 1u);  // 35: the candle's; later bars raised from 0 to 1
  }
  EXPECT_NE(all[40].values, all[35].values);

  // Bar 37 corrected to revision 1: its record must beat the revision-1 republication → 2.
  bars[37] = candle(37, "BTC-USDT", CandleStatus::kCorrected, 1, 55);
  publish(bus, bars[37]);
  publish(bus, bars[37]);  // replayed correction: ignored
  drain(p);
  all = published(bus);
  ASSERT_EQ(all.size(), 48u);
  want = batch(bars);
  for (size_t k = 0; k < 3; ++k) {
    EXPECT_EQ(all[45 + k].values, want[37 + k]);
    EXPECT_EQ(all[45 + k].candle_revision, 2u);
  }
  // Older than the checkpoints (11 bars on 1m with a 10 min horizon): ignored, counted.
  publish(bus, candle(5, "BTC-USDT", CandleStatus::kCorrected, 1, 10));
  drain(p);
  EXPECT_EQ(published(bus).size(), 48u);
  auto st = p.stats();
  EXPECT_EQ(st.corrections, 2u);
  EXPECT_EQ(st.duplicates, 1u);
  EXPECT_EQ(st.too_old, 1u);

  // The correction state survives a restart: a new processor continues identically.
  IndicatorProcessor again(bus, store, small_config(), clock);
  bars.push_back(candle(40));
  publish(bus, bars.back());
  drain(again);
  all = published(bus);
  ASSERT_EQ(all.size(), 49u);
  EXPECT_EQ(all.back().values, batch(bars).back());
}

TEST(IndicatorProcessor, GapsAreAppliedAsConsecutiveBarsAndCounted) {
  InMemoryBus bus(InMemoryBus::InitialTopics::kDefault);
  FakeCandleStore store;
  ManualClock clock(kT0 * kNsPerMs);
  std::vector<Candle> bars;
  for (int i = 0; i < 30; ++i) {
    if (i == 12 || i == 13) continue;  // missing finals
    bars.push_back(candle(i));
    publish(bus, bars.back());
  }
  IndicatorProcessor p(bus, store, small_config(), clock);
  drain(p);
  auto got = published(bus);
  ASSERT_EQ(got.size(), bars.size());
  EXPECT_EQ(got.back().values, batch(bars).back());
  EXPECT_EQ(p.stats().gaps, 1u);
  // A missing bar arriving late cannot be inserted exactly: ignored.
  publish(bus, candle(12));
  drain(p);
  EXPECT_EQ(published(bus).size(), bars.size());
  EXPECT_EQ(p.stats().too_old, 1u);
}

TEST(IndicatorProcessor, WarmsUpFromTheStoreSoTheFirstRecordIsComplete) {
  InMemoryBus bus(InMemoryBus::InitialTopics::kDefault);
  FakeCandleStore store;
  ManualClock clock(kT0 * kNsPerMs);
  std::vector<Candle> history;
  for (int i = 0; i < 50; ++i) history.push_back(candle(i));
  history.push_back(candle(50, "BTC-USDT", CandleStatus::kProvisional));  // never fed
  ASSERT_TRUE(store.write(history, {}).is_ok());
  history.pop_back();
  for (int i = 50; i < 55; ++i) publish(bus, candle(i));

  IndicatorProcessor p(bus, store, small_config(), clock);
  drain(p);
  auto got = published(bus);
  ASSERT_EQ(got.size(), 5u);
  auto set = IndicatorSet::create(kDefaultIndicatorSpec).value();
  const size_t warm = set.warmup_bars();
  std::vector<Candle> fed(history.end() - static_cast<std::ptrdiff_t>(warm), history.end());
  for (int i = 50; i < 55; ++i) fed.push_back(candle(i));
  auto want = batch(fed);
  EXPECT_EQ(got.front().values.size(), set.names().size()) << "first record not complete";
  for (size_t k = 0; k < 5; ++k) EXPECT_EQ(got[k].values, want[warm + k]);
  EXPECT_EQ(p.stats().warmups, 1u);

  // A changed spec does not restore: the series warms up again from the store.
  auto cfg = small_config();
  cfg.spec = "sma:5,rsi:3";
  ASSERT_TRUE(store.write(std::vector<Candle>(fed.end() - 5, fed.end()), {}).is_ok());
  publish(bus, candle(55));
  IndicatorProcessor changed(bus, store, cfg, clock);
  drain(changed);
  got = published(bus);
  ASSERT_EQ(got.size(), 6u);
  std::vector<std::pair<std::string, double>> names;
  EXPECT_EQ(got.back().values.size(), 2u);
  EXPECT_EQ(changed.stats().warmups, 1u);
}

TEST(IndicatorProcessor, PerTimeframeSpecAndConfigErrorsNameTheKey) {
  IndicatorProcessorConfig cfg;
  cfg.timeframe_specs["1h"] = "sma:50";
  EXPECT_TRUE(cfg.validate().is_ok());
  EXPECT_EQ(cfg.spec_for(Timeframe::parse("1h").value()), "sma:50");
  EXPECT_EQ(cfg.spec_for(Timeframe::parse("1m").value()), cfg.spec);
  cfg.spec = "sma:20,foo:3";
  Status s = cfg.validate();
  EXPECT_EQ(s.code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(s.message().find("indicators.spec"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("foo"), std::string::npos) << s.message();
  cfg.spec = std::string(kDefaultIndicatorSpec);
  cfg.timeframe_specs["1h"] = "rsi:0";
  s = cfg.validate();
  EXPECT_NE(s.message().find("indicators.timeframes.1h"), std::string::npos) << s.message();

  InMemoryBus bus(InMemoryBus::InitialTopics::kDefault);
  FakeCandleStore store;
  ManualClock clock(0);
  IndicatorProcessor p(bus, store, cfg, clock);
  EXPECT_FALSE(p.start().is_ok());
}

TEST(IndicatorProcessor, CorruptStateStopsStartWithTheSeriesNamed) {
  InMemoryBus bus(InMemoryBus::InitialTopics::kDefault);
  bus.set_state(kIndicatorStateNamespace, "binance:BTC-USDT:1m", "garbage");
  FakeCandleStore store;
  ManualClock clock(0);
  IndicatorProcessor p(bus, store, small_config(), clock);
  Status s = p.start();
  EXPECT_EQ(s.code(), ErrorCode::kCorruption);
  EXPECT_NE(s.message().find("binance:BTC-USDT:1m"), std::string::npos) << s.message();
}

TEST(IndicatorProcessor, WorkerThreadFollowsTheTopic) {
  InMemoryBus bus(InMemoryBus::InitialTopics::kDefault);
  FakeCandleStore store;
  ManualClock clock(0);
  IndicatorProcessor p(bus, store, small_config(), clock);
  ASSERT_TRUE(p.start().is_ok());
  for (int i = 0; i < 30; ++i) publish(bus, candle(i));
  EXPECT_TRUE(bus.wait_until([&] { return bus.count(topics::kProcessedIndicators) == 30; }));
  EXPECT_EQ(p.health().state, HealthState::kUp);
  p.stop();
}

TEST(CheckpointCapacity, FollowsTheHorizonWithinTheCap) {
  auto m1 = Timeframe::parse("1m").value();
  EXPECT_EQ(checkpoint_capacity(kNsPerHour, m1, 256), 61u);
  EXPECT_EQ(checkpoint_capacity(kNsPerHour, Timeframe::parse("1s").value(), 256), 256u);
  EXPECT_EQ(checkpoint_capacity(kNsPerHour, Timeframe::parse("1d").value(), 256), 2u);
  EXPECT_EQ(checkpoint_capacity(90 * kNsPerSec, m1, 256), 3u);
}

}  // namespace
}  // namespace tickflow::processing::indicators
