#include "processing/candles/aggregator.h"

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <new>
#include <map>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "processing/candles/candle_builder.h"
#include "processing/candles/tests/aggregator_test_support.h"
#include "processing/candles/trade_dedup.h"

namespace tickflow::processing {
namespace {

// Counts heap allocations while enabled (replaces the global operator new for this binary).
std::atomic<bool> g_count_allocs{false};
std::atomic<long> g_allocs{0};

}  // namespace
}  // namespace tickflow::processing

void* operator new(size_t n) {
  if (tickflow::processing::g_count_allocs.load(std::memory_order_relaxed)) tickflow::processing::g_allocs.fetch_add(1);
  if (void* p = std::malloc(n == 0 ? 1 : n)) return p;
  throw std::bad_alloc();
}

namespace tickflow::processing {
namespace {

using namespace test;  // NOLINT: shared test helpers


TEST(CandleEngine, TradeAtExactMinuteOpensTheNewWindow) {
  CandleEngine engine(one_minute());
  std::vector<CandleUpdate> out;
  EXPECT_EQ(engine.on_trade(make_trade(1, kBase + ms(59999), "100"), 0, out), TradeOutcome::kApplied);
  EXPECT_EQ(engine.on_trade(make_trade(2, kBase + sec(60), "101"), 0, out), TradeOutcome::kApplied);
  EXPECT_TRUE(out.empty());  // provisional off, window 0 still within grace
  EXPECT_EQ(engine.open_window_count(), 2u);
  engine.on_trade(make_trade(3, kBase + sec(62), "102"), 0, out);  // watermark = end + grace
  ASSERT_EQ(out.size(), 1u);
  const Candle& c = out[0].candle;
  EXPECT_EQ(c.status, CandleStatus::kFinal);
  EXPECT_EQ(c.revision, 0u);
  EXPECT_EQ(c.open_time, kBase);
  EXPECT_EQ(c.close_time, kBase + ms(59999));
  EXPECT_EQ(c.trades, 1);
  EXPECT_EQ(c.open.to_string(), "100");
  EXPECT_EQ(c.close.to_string(), "100");
  EXPECT_EQ(c.symbol, "BTC-USDT");
  EXPECT_EQ(c.exchange_symbol, "BTCUSDT");
  EXPECT_EQ(c.timeframe.label(), "1m");
  EXPECT_EQ(c.coverage, 1.0);
  EXPECT_EQ(out[0].last_trade_recv, kBase + ms(59999) + ms(3));
  out.clear();
  engine.flush(out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].candle.open_time, kBase + sec(60));
  EXPECT_EQ(out[0].candle.trades, 2);
  EXPECT_EQ(out[0].candle.open.to_string(), "101");
  EXPECT_EQ(out[0].candle.close.to_string(), "102");
  EXPECT_EQ(out[0].candle.status, CandleStatus::kProvisional);
}

TEST(CandleEngine, AllFieldsExact) {
  CandleEngine engine(one_minute());
  std::vector<CandleUpdate> out;
  engine.on_trade(make_trade(10, kBase + sec(1), "43000.10", "0.5", Side::kBuy), 0, out);
  engine.on_trade(make_trade(11, kBase + sec(2), "43001.25", "0.25", Side::kSell), 0, out);
  engine.on_trade(make_trade(12, kBase + sec(3), "42999.00", "1.125", Side::kBuy), 0, out);
  engine.flush(out);
  ASSERT_EQ(out.size(), 1u);
  const Candle& c = out[0].candle;
  EXPECT_EQ(c.open.to_string(), "43000.10");
  EXPECT_EQ(c.high.to_string(), "43001.25");
  EXPECT_EQ(c.low.to_string(), "42999.00");
  EXPECT_EQ(c.close.to_string(), "42999.00");
  EXPECT_EQ(c.volume, *WideDecimal::parse("1.875"));
  // 43000.10*0.5 + 43001.25*0.25 + 42999*1.125
  EXPECT_EQ(c.quote_volume, *WideDecimal::parse("80624.2375"));
  EXPECT_EQ(c.taker_buy_volume, *WideDecimal::parse("1.625"));
  EXPECT_EQ(c.taker_buy_quote_volume, *WideDecimal::parse("69873.925"));
  EXPECT_EQ(c.trades, 3);
  EXPECT_EQ(c.first_trade_id, 10);
  EXPECT_EQ(c.last_trade_id, 12);
  EXPECT_EQ(c.vwap().to_string(), "42999.59333333");
}

TEST(CandleEngine, ManyTradesInOneMillisecondOrderedByTradeId) {
  std::vector<Trade> trades;
  for (int i = 0; i < 10; ++i) trades.push_back(make_trade(100 + i, kBase + ms(500), std::to_string(50 + (i * 7) % 10)));
  Candle reference;
  std::mt19937 rng(7);
  for (int round = 0; round < 20; ++round) {
    std::vector<Trade> shuffled = trades;
    if (round > 0) std::shuffle(shuffled.begin(), shuffled.end(), rng);
    CandleEngine engine(one_minute());
    std::vector<CandleUpdate> out;
    for (const Trade& t : shuffled) engine.on_trade(t, 0, out);
    engine.flush(out);
    ASSERT_EQ(out.size(), 1u);
    const Candle& c = out[0].candle;
    EXPECT_EQ(c.open, trades.front().price);  // lowest id
    EXPECT_EQ(c.close, trades.back().price);  // highest id
    if (round == 0) reference = c;
    EXPECT_TRUE(same_values(c, reference)) << round;
  }
}

TEST(CandleEngine, LateTradeWithinGraceJoinsTheOpenWindow) {
  CandleEngine engine(one_minute());
  std::vector<CandleUpdate> out;
  engine.on_trade(make_trade(1, kBase + sec(10), "10"), 0, out);
  engine.on_trade(make_trade(3, kBase + sec(61), "12"), 0, out);
  engine.on_trade(make_trade(2, kBase + ms(59500), "11"), 0, out);  // late, watermark 61 s < 62 s
  EXPECT_TRUE(out.empty());
  engine.on_trade(make_trade(4, kBase + sec(63), "13"), 0, out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].candle.status, CandleStatus::kFinal);
  EXPECT_EQ(out[0].candle.revision, 0u);
  EXPECT_EQ(out[0].candle.trades, 2);
  EXPECT_EQ(out[0].candle.close.to_string(), "11");
  EXPECT_EQ(out[0].candle.last_trade_id, 2);
}

TEST(CandleEngine, LateTradeAfterFinalIsACorrection) {
  CandleEngine engine(one_minute());
  std::vector<CandleUpdate> out;
  engine.on_trade(make_trade(1, kBase + sec(10), "10"), 0, out);
  engine.on_trade(make_trade(3, kBase + sec(63), "12"), 0, out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].candle.status, CandleStatus::kFinal);
  out.clear();
  EXPECT_EQ(engine.on_trade(make_trade(2, kBase + sec(30), "9"), 0, out), TradeOutcome::kApplied);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].candle.status, CandleStatus::kCorrected);
  EXPECT_EQ(out[0].candle.revision, 1u);
  EXPECT_EQ(out[0].candle.trades, 2);
  EXPECT_EQ(out[0].candle.low.to_string(), "9");
  EXPECT_EQ(out[0].candle.close.to_string(), "9");
  EXPECT_GT(out[0].candle.precedence(), Candle{.status = CandleStatus::kFinal}.precedence());
  out.clear();
  engine.on_trade(make_trade(0, kBase + sec(5), "8"), 0, out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].candle.revision, 2u);
  EXPECT_EQ(out[0].candle.open.to_string(), "8");
}

TEST(CandleEngine, TradeBeyondTheHorizonIsTooLateAndChangesNothing) {
  CandleConfig config = one_minute();
  config.correction_horizon = kNsPerHour;
  CandleEngine engine(config);
  std::vector<CandleUpdate> out;
  engine.on_trade(make_trade(1, kBase + sec(10), "10"), 0, out);
  engine.on_trade(make_trade(5, kBase + 2 * kNsPerHour, "20"), 0, out);
  out.clear();
  auto before = engine.take_dirty();
  EXPECT_EQ(engine.on_trade(make_trade(2, kBase + sec(30), "1"), 0, out), TradeOutcome::kTooLate);
  EXPECT_TRUE(out.empty());
  EXPECT_TRUE(engine.take_dirty().empty());  // no state change
  // Exactly at the horizon is still accepted.
  EXPECT_EQ(engine.on_trade(make_trade(3, kBase + kNsPerHour, "15"), 0, out), TradeOutcome::kApplied);
}

TEST(CandleEngine, DuplicatesAreDroppedExactly) {
  CandleEngine engine(one_minute());
  std::vector<CandleUpdate> out;
  EXPECT_EQ(engine.on_trade(make_trade(5, kBase + sec(1), "10"), 0, out), TradeOutcome::kApplied);
  EXPECT_EQ(engine.on_trade(make_trade(5, kBase + sec(1), "10"), 0, out), TradeOutcome::kDuplicate);
  EXPECT_EQ(engine.on_trade(make_trade(8, kBase + sec(2), "10"), 0, out), TradeOutcome::kApplied);
  EXPECT_EQ(engine.on_trade(make_trade(6, kBase + sec(1), "10"), 0, out), TradeOutcome::kApplied);  // gap filled
  EXPECT_EQ(engine.on_trade(make_trade(4, kBase + sec(1), "10"), 0, out), TradeOutcome::kApplied);  // before the first
  EXPECT_EQ(engine.on_trade(make_trade(6, kBase + sec(1), "10"), 0, out), TradeOutcome::kDuplicate);
  EXPECT_EQ(engine.on_trade(make_trade(8, kBase + sec(2), "10"), 0, out), TradeOutcome::kDuplicate);
  EXPECT_EQ(engine.on_trade(make_trade(7, kBase + sec(2), "10"), 0, out), TradeOutcome::kApplied);
  EXPECT_EQ(engine.on_trade(make_trade(7, kBase + sec(2), "10"), 0, out), TradeOutcome::kDuplicate);
  // Another symbol has its own id space.
  EXPECT_EQ(engine.on_trade(make_trade(5, kBase + sec(1), "1", "1", Side::kBuy, "ETHUSDT"), 0, out),
            TradeOutcome::kApplied);
  engine.flush(out);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].candle.symbol, "BTC-USDT");
  EXPECT_EQ(out[0].candle.trades, 5);
  EXPECT_EQ(out[0].candle.first_trade_id, 4);
  EXPECT_EQ(out[0].candle.last_trade_id, 8);
}

TEST(TradeDedup, GapsArePrunedAndStateRoundTrips) {
  TradeDedup d;
  EXPECT_TRUE(d.insert(100, sec(1)));
  EXPECT_TRUE(d.insert(105, sec(2)));  // gap 101..104
  EXPECT_TRUE(d.insert(103, sec(1)));  // splits the gap
  EXPECT_FALSE(d.insert(103, sec(1)));
  EXPECT_TRUE(d.contains(100));
  EXPECT_FALSE(d.contains(101));
  EXPECT_TRUE(d.contains(103));
  EXPECT_FALSE(d.contains(104));
  EXPECT_FALSE(d.contains(99));  // below the first id: missing until pruned
  std::string blob;
  state::Writer w(blob);
  d.encode(w);
  TradeDedup e;
  state::Reader r(blob);
  ASSERT_TRUE(e.decode(r));
  EXPECT_TRUE(r.at_end());
  for (int64_t id = 95; id <= 110; ++id) EXPECT_EQ(d.contains(id), e.contains(id)) << id;
  EXPECT_LE(blob.size(), 64u);
  d.prune(sec(3));
  EXPECT_EQ(d.gap_count(), 0u);
  EXPECT_TRUE(d.contains(101));  // forgotten: the engine rejects such trades as too late first
  for (int64_t i = 0; i < 3 * static_cast<int64_t>(TradeDedup::kMaxGaps); ++i) d.insert(200 + 2 * i, sec(4));
  EXPECT_LE(d.gap_count(), TradeDedup::kMaxGaps);
}

TEST(CandleEngine, EmptyIntervalsGiveFlatCandles) {
  CandleEngine engine(one_minute());
  std::vector<CandleUpdate> out;
  engine.on_trade(make_trade(1, kBase + sec(10), "10"), 0, out);
  engine.on_trade(make_trade(2, kBase + sec(20), "11.5"), 0, out);
  engine.on_trade(make_trade(3, kBase + sec(190), "12"), 0, out);  // minute 3
  auto finals = with_status(out, CandleStatus::kFinal);
  ASSERT_EQ(finals.size(), 3u);  // minute 0, flat 1, flat 2 (end 180 s + 2 s <= 190 s)
  EXPECT_EQ(finals[0].candle.trades, 2);
  for (int i = 1; i <= 2; ++i) {
    const Candle& c = finals[static_cast<size_t>(i)].candle;
    EXPECT_EQ(c.open_time, kBase + sec(60) * i);
    EXPECT_EQ(c.open.to_string(), "11.5");
    EXPECT_EQ(c.high.to_string(), "11.5");
    EXPECT_EQ(c.low.to_string(), "11.5");
    EXPECT_EQ(c.close.to_string(), "11.5");
    EXPECT_TRUE(c.volume.is_zero());
    EXPECT_TRUE(c.quote_volume.is_zero());
    EXPECT_EQ(c.trades, 0);
    EXPECT_EQ(c.first_trade_id, -1);
    EXPECT_EQ(c.last_trade_id, -1);
    EXPECT_EQ(c.vwap().to_string(), "11.50000000");
  }
  CandleConfig no_empty = one_minute();
  no_empty.emit_empty = false;
  CandleEngine sparse(no_empty);
  out.clear();
  sparse.on_trade(make_trade(1, kBase + sec(10), "10"), 0, out);
  sparse.on_trade(make_trade(3, kBase + sec(190), "12"), 0, out);
  EXPECT_EQ(out.size(), 1u);
}

TEST(CandleEngine, LateTradeIntoAFlatCandleCorrectsItAndItsFlatFollowers) {
  CandleEngine engine(one_minute());
  std::vector<CandleUpdate> out;
  engine.on_trade(make_trade(1, kBase + sec(10), "10"), 0, out);
  engine.on_trade(make_trade(3, kBase + sec(241), "12"), 0, out);  // flats at minutes 1, 2 (final), 3 (open)
  out.clear();
  engine.on_trade(make_trade(2, kBase + sec(70), "7"), 0, out);  // into flat minute 1
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].candle.open_time, kBase + sec(60));
  EXPECT_EQ(out[0].candle.trades, 1);
  EXPECT_EQ(out[0].candle.status, CandleStatus::kCorrected);
  EXPECT_EQ(out[0].candle.revision, 1u);
  for (size_t i = 1; i < 2; ++i) {
    EXPECT_EQ(out[i].candle.open_time, kBase + sec(60) * static_cast<int64_t>(i + 1));
    EXPECT_EQ(out[i].candle.close.to_string(), "7");
    EXPECT_EQ(out[i].candle.status, CandleStatus::kCorrected);
    EXPECT_EQ(out[i].candle.revision, 1u);
  }
  out.clear();
  engine.flush(out);  // the flat at minute 3 was still open: final price follows the correction
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].candle.open_time, kBase + sec(180));
  EXPECT_EQ(out[0].candle.close.to_string(), "7");
}

TEST(CandleEngine, LateTradeBeforeTheFirstWindowAndIntoHoles) {
  CandleEngine engine(one_minute());
  std::vector<CandleUpdate> out;
  engine.on_trade(make_trade(10, kBase + sec(300), "50"), 0, out);  // minute 5
  engine.on_trade(make_trade(11, kBase + sec(301), "51"), 0, out);
  EXPECT_TRUE(out.empty());
  engine.on_trade(make_trade(5, kBase + sec(130), "40"), 0, out);  // minute 2: before the first window
  // Minutes 2, 3 are closed on arrival (end + grace <= watermark 301 s), minute 4 is not.
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].candle.open_time, kBase + sec(120));
  EXPECT_EQ(out[0].candle.status, CandleStatus::kFinal);
  EXPECT_EQ(out[0].candle.revision, 0u);
  EXPECT_EQ(out[0].candle.trades, 1);
  EXPECT_EQ(out[1].candle.open_time, kBase + sec(180));
  EXPECT_EQ(out[1].candle.status, CandleStatus::kFinal);
  EXPECT_EQ(out[1].candle.trades, 0);
  EXPECT_EQ(out[1].candle.close.to_string(), "40");
  out.clear();
  engine.flush(out);
  ASSERT_EQ(out.size(), 2u);  // minute 4 (flat, open) and minute 5
  EXPECT_EQ(out[0].candle.open_time, kBase + sec(240));
  EXPECT_EQ(out[0].candle.close.to_string(), "40");
  EXPECT_EQ(out[1].candle.trades, 2);

  CandleConfig sparse_config = one_minute();
  sparse_config.emit_empty = false;
  CandleEngine sparse(sparse_config);
  out.clear();
  sparse.on_trade(make_trade(1, kBase + sec(10), "1"), 0, out);
  sparse.on_trade(make_trade(3, kBase + sec(250), "3"), 0, out);
  ASSERT_EQ(out.size(), 1u);  // minute 0 final
  out.clear();
  sparse.on_trade(make_trade(2, kBase + sec(130), "2"), 0, out);  // a hole: minute 2, closed on arrival
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].candle.open_time, kBase + sec(120));
  EXPECT_EQ(out[0].candle.status, CandleStatus::kFinal);
  EXPECT_EQ(out[0].candle.revision, 0u);
  sparse.on_trade(make_trade(4, kBase + sec(400), "4"), 0, out);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[1].candle.open_time, kBase + sec(240));
}

TEST(CandleEngine, ProvisionalUpdatesAreThrottledAndTheLatestIsEventuallySent) {
  const DurationNs interval = 250 * kNsPerMs;
  CandleEngine engine(one_minute(interval));
  std::vector<CandleUpdate> out;
  const TimestampNs now0 = 1'000 * kNsPerSec;
  engine.on_trade(make_trade(1, kBase + sec(1), "10"), now0, out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].candle.status, CandleStatus::kProvisional);
  EXPECT_EQ(out[0].candle.trades, 1);
  out.clear();
  engine.on_trade(make_trade(2, kBase + sec(1), "11"), now0 + ms(100), out);
  engine.on_trade(make_trade(3, kBase + sec(2), "12"), now0 + ms(200), out);
  EXPECT_TRUE(out.empty());
  engine.on_timer(now0 + ms(249), out);
  EXPECT_TRUE(out.empty());
  engine.on_timer(now0 + ms(250), out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].candle.trades, 3);
  EXPECT_EQ(out[0].candle.close.to_string(), "12");
  out.clear();
  engine.on_timer(now0 + ms(600), out);
  EXPECT_TRUE(out.empty());  // nothing changed
  engine.on_trade(make_trade(4, kBase + sec(3), "13"), now0 + ms(700), out);
  ASSERT_EQ(out.size(), 1u);  // throttle open again: immediate
  EXPECT_EQ(out[0].candle.trades, 4);

  CandleEngine silent(one_minute(0));
  out.clear();
  silent.on_trade(make_trade(1, kBase + sec(1), "10"), now0, out);
  silent.on_timer(now0 + kNsPerSec, out);
  EXPECT_TRUE(out.empty());
}

TEST(CandleEngine, TimerFinalizesAQuietSeries) {
  CandleEngine engine(one_minute());
  std::vector<CandleUpdate> out;
  const TimestampNs now0 = 5'000 * kNsPerSec;
  engine.on_trade(make_trade(1, kBase + sec(10), "10"), now0, out);
  engine.on_timer(now0 + sec(51), out);  // extrapolated watermark 61 s < 62 s
  EXPECT_TRUE(out.empty());
  engine.on_timer(now0 + sec(52), out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].candle.status, CandleStatus::kFinal);
  EXPECT_EQ(engine.open_window_count(), 0u);
  out.clear();
  engine.on_timer(now0 + sec(500), out);
  EXPECT_TRUE(out.empty());  // no invented candles from the timer
  // A trade that arrives after the timer closed its window is a correction.
  engine.on_trade(make_trade(2, kBase + sec(50), "9"), now0 + sec(501), out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].candle.status, CandleStatus::kCorrected);
}

TEST(CandleEngine, WeeklyWindowsAlignToMonday) {
  CandleConfig config;
  config.timeframes = {*Timeframe::parse("1w"), *Timeframe::parse("1d")};
  config.provisional_interval = 0;
  CandleEngine engine(config);
  std::vector<CandleUpdate> out;
  const TimestampNs wednesday = kBase + 2 * kNsPerDay + 5 * kNsPerHour;  // 2024-01-17 05:00
  engine.on_trade(make_trade(1, wednesday, "10"), 0, out);
  engine.flush(out);
  ASSERT_EQ(out.size(), 2u);
  const Candle& w = out[0].candle.timeframe.label() == "1w" ? out[0].candle : out[1].candle;
  const Candle& d = out[0].candle.timeframe.label() == "1d" ? out[0].candle : out[1].candle;
  EXPECT_EQ(w.timeframe.label(), "1w");
  EXPECT_EQ(format_iso8601_ms(w.open_time), "2024-01-15T00:00:00.000Z");
  EXPECT_EQ(format_iso8601_ms(w.close_time), "2024-01-21T23:59:59.999Z");
  EXPECT_EQ(format_iso8601_ms(d.open_time), "2024-01-17T00:00:00.000Z");
}

TEST(CandleEngine, AggTradesCountUnderlyingTrades) {
  CandleEngine engine(one_minute());
  std::vector<CandleUpdate> out;
  Trade a = make_trade(500, kBase + sec(1), "10");
  a.first_trade_id = 1000;
  a.last_trade_id = 1004;
  a.aggregated = true;
  Trade b = make_trade(501, kBase + sec(2), "11");
  b.first_trade_id = 1005;
  b.last_trade_id = 1005;
  b.aggregated = true;
  engine.on_trade(a, 0, out);
  engine.on_trade(b, 0, out);
  EXPECT_EQ(engine.on_trade(a, 0, out), TradeOutcome::kDuplicate);
  engine.flush(out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].candle.trades, 6);
  EXPECT_EQ(out[0].candle.first_trade_id, 1000);
  EXPECT_EQ(out[0].candle.last_trade_id, 1005);
}

// What a processor commits: the latest value per key, deletes applied.
TEST(CandleEngine, ApplyingTradesDoesNotAllocate) {
  CandleConfig config;  // six timeframes
  config.provisional_interval = 0;
  CandleEngine engine(config);
  std::vector<CandleUpdate> out;
  std::vector<Trade> trades;
  for (int i = 0; i < 2000; ++i) {
    const char* sym = i % 3 == 0 ? "BTCUSDT" : (i % 3 == 1 ? "ETHUSDT" : "SOLUSDT");
    trades.push_back(make_trade(1000 + i / 3, kBase + sec(1) + ms(i * 10), "100.5", "0.25", i % 2 ? Side::kBuy : Side::kSell, sym));
  }
  for (int i = 0; i < 30; ++i) engine.on_trade(trades[static_cast<size_t>(i)], 0, out);  // instruments and windows exist
  g_allocs = 0;
  g_count_allocs = true;
  for (size_t i = 30; i < trades.size(); ++i) engine.on_trade(trades[i], 0, out);
  g_count_allocs = false;
  EXPECT_TRUE(out.empty());
  EXPECT_EQ(g_allocs.load(), 0);
}

// ---- restore equivalence ----

}  // namespace
}  // namespace tickflow::processing
