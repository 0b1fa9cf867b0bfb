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

// 2024-01-15T00:00:00Z, a Monday.
constexpr TimestampNs kBase = 1705276800000LL * kNsPerMs;
constexpr TimestampNs ms(int64_t v) { return v * kNsPerMs; }
constexpr TimestampNs sec(int64_t v) { return v * kNsPerSec; }

Trade make_trade(int64_t id, TimestampNs ts, std::string_view price, std::string_view qty = "1",
                 Side side = Side::kBuy, std::string_view sym = "BTCUSDT") {
  Trade t;
  t.exchange = Exchange::kBinance;
  t.exchange_symbol = std::string(sym);
  t.symbol = unify_binance_symbol(sym);
  t.trade_id = t.first_trade_id = t.last_trade_id = id;
  t.price = *Decimal::parse(price);
  t.quantity = *Decimal::parse(qty);
  t.taker_side = side;
  t.ts_event = ts;
  t.ts_recv = ts + ms(3);
  return t;
}

CandleConfig one_minute(DurationNs provisional = 0) {
  CandleConfig c;
  c.timeframes = {*Timeframe::parse("1m")};
  c.provisional_interval = provisional;
  return c;
}

std::vector<CandleUpdate> with_status(const std::vector<CandleUpdate>& u, CandleStatus s) {
  std::vector<CandleUpdate> r;
  for (const auto& x : u)
    if (x.candle.status == s) r.push_back(x);
  return r;
}

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
void apply_delta(std::map<std::string, std::string>& store, StateDelta delta) {
  for (auto& [key, blob] : delta.puts) store[key] = std::move(blob);
  for (const std::string& key : delta.deletes) store.erase(key);
}

std::string window_key(std::string_view tf, TimestampNs open) {
  return CandleEngine::window_state_key("binance:BTC-USDT", *Timeframe::parse(tf), open);
}

TEST(CandleEngine, ClosedWindowsAreDroppedPastTheHorizon) {
  CandleConfig config = one_minute();
  config.correction_horizon = 10 * kNsPerMin;
  CandleEngine engine(config);
  std::vector<CandleUpdate> out;
  std::map<std::string, std::string> store;
  size_t deleted = 0;
  for (int i = 0; i < 120; ++i) {
    engine.on_trade(make_trade(i, kBase + sec(60) * i + sec(3), "10"), 0, out);
    StateDelta delta = engine.take_dirty();
    deleted += delta.deletes.size();
    apply_delta(store, std::move(delta));
  }
  EXPECT_EQ(out.size(), 119u);
  // The head plus the ~10 closed windows still within the horizon, not 119.
  EXPECT_GE(store.size(), 11u);
  EXPECT_LE(store.size(), 12u);
  EXPECT_TRUE(store.contains("binance:BTC-USDT"));
  EXPECT_TRUE(store.contains(window_key("1m", kBase + 118 * kNsPerMin)));
  EXPECT_FALSE(store.contains(window_key("1m", kBase + 100 * kNsPerMin)));
  EXPECT_EQ(deleted + store.size() - 1, 119u);  // every closed window: kept or deleted once
}

TEST(CandleEngine, BytesWrittenPerBatchDoNotGrowWithRetainedWindows) {
  CandleConfig config;  // six timeframes, one hour of corrections
  config.provisional_interval = 0;
  CandleEngine engine(config);
  std::vector<CandleUpdate> out;
  std::map<std::string, std::string> store;
  int64_t id = 1;
  engine.on_trade(make_trade(id++, kBase + sec(1), "10"), 0, out);
  const StateDelta first = engine.take_dirty();
  ASSERT_EQ(first.puts.size(), 1u);
  const size_t head_after_first_trade = first.puts[0].second.size();
  apply_delta(store, first);

  // 61 minutes of trades, one batch per trade: windows close one at a time.
  size_t max_puts = 0;
  for (int m = 0; m <= 61; ++m) {
    for (int s = 10; s < 60; s += 10) {
      engine.on_trade(make_trade(id++, kBase + m * kNsPerMin + sec(s), "10." + std::to_string(s)), 0, out);
      StateDelta delta = engine.take_dirty();
      max_puts = std::max(max_puts, delta.puts.size());
      apply_delta(store, std::move(delta));
    }
  }
  EXPECT_LE(max_puts, 5u);  // head + the 1m, 5m, 15m and 1h windows closing at the hour
  EXPECT_GE(store.size(), 61u);  // ~60 closed 1m windows retained for corrections, and more

  // A batch touching only the open window writes the head alone, of the same bounded size.
  out.clear();
  engine.on_trade(make_trade(id++, kBase + 61 * kNsPerMin + sec(59), "11"), 0, out);
  EXPECT_TRUE(out.empty());
  StateDelta delta = engine.take_dirty();
  ASSERT_EQ(delta.puts.size(), 1u);
  EXPECT_EQ(delta.puts[0].first, "binance:BTC-USDT");
  EXPECT_TRUE(delta.deletes.empty());
  EXPECT_LE(delta.puts[0].second.size(), head_after_first_trade + 64);
  EXPECT_LT(delta.put_bytes(), 1024u);  // was ~5-7 KB with every retained window inline

  // A correction rewrites the head and exactly the corrected windows.
  out.clear();
  engine.on_trade(make_trade(id++, kBase + 30 * kNsPerMin + sec(1), "9"), 0, out);
  ASSERT_EQ(with_status(out, CandleStatus::kCorrected).size(), 4u);  // 1m 5m 15m 1h; 4h, 1d open
  delta = engine.take_dirty();
  std::vector<std::string> keys;
  for (const auto& [key, blob] : delta.puts) keys.push_back(key);
  EXPECT_EQ(keys, (std::vector<std::string>{"binance:BTC-USDT", window_key("1m", kBase + 30 * kNsPerMin),
                                            window_key("5m", kBase + 30 * kNsPerMin),
                                            window_key("15m", kBase + 30 * kNsPerMin), window_key("1h", kBase)}));
  apply_delta(store, std::move(delta));

  // Restoring from the keys gives the same engine: the next correction is revision 2.
  CandleEngine restored(config);
  for (const auto& [key, blob] : store) ASSERT_TRUE(restored.restore(key, blob).is_ok()) << key;
  EXPECT_TRUE(restored.take_dirty().empty());
  out.clear();
  restored.on_trade(make_trade(id, kBase + 30 * kNsPerMin + sec(2), "8"), 0, out);
  ASSERT_FALSE(out.empty());
  EXPECT_EQ(out[0].candle.status, CandleStatus::kCorrected);
  EXPECT_EQ(out[0].candle.revision, 2u);
  EXPECT_EQ(out[0].candle.low.to_string(), "8");
}

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

struct Event {
  bool timer = false;
  Trade trade;
  TimestampNs now = 0;
};

std::vector<Event> random_events(size_t n, uint32_t seed) {
  std::mt19937_64 rng(seed);
  const char* syms[] = {"BTCUSDT", "ETHUSDT", "FTMUSDT"};
  int64_t next_id[3] = {100, 5000, 90000};
  std::vector<Trade> history[3];
  std::vector<Event> events;
  TimestampNs ts = kBase + sec(7), now = 10'000 * kNsPerSec;
  for (size_t i = 0; i < n; ++i) {
    now += static_cast<TimestampNs>(rng() % 300) * kNsPerMs;
    int r = static_cast<int>(rng() % 100);
    if (r < 10) {
      events.push_back({true, Trade{}, now});
      continue;
    }
    size_t s = rng() % 3;
    if (r < 14 && !history[s].empty()) {  // duplicate or late replay of an older trade
      Trade t = history[s][rng() % history[s].size()];
      events.push_back({false, t, now});
      continue;
    }
    ts += static_cast<TimestampNs>(rng() % 4000) * kNsPerMs;
    if (rng() % 50 == 0) ts += 4 * kNsPerMin;  // empty minutes
    int64_t id = next_id[s]++;
    if (rng() % 30 == 0) next_id[s] += 2;  // gap
    TimestampNs t_ts = ts;
    if (rng() % 8 == 0) t_ts -= static_cast<TimestampNs>(rng() % 30000) * kNsPerMs;  // delivered late
    Trade t = make_trade(id, t_ts, std::to_string(100 + rng() % 50) + "." + std::to_string(rng() % 100),
                         "0." + std::to_string(1 + rng() % 999), rng() % 2 ? Side::kBuy : Side::kSell, syms[s]);
    history[s].push_back(t);
    events.push_back({false, t, now});
  }
  return events;
}

void run(CandleEngine& e, const std::vector<Event>& ev, size_t from, size_t to, std::vector<CandleUpdate>& out) {
  for (size_t i = from; i < to; ++i) {
    if (ev[i].timer) {
      e.on_timer(ev[i].now, out);
    } else {
      e.on_trade(ev[i].trade, ev[i].now, out);
    }
  }
}

void expect_same_stream(const std::vector<CandleUpdate>& a, const std::vector<CandleUpdate>& b, size_t k) {
  ASSERT_EQ(a.size(), b.size()) << "k=" << k;
  for (size_t i = 0; i < a.size(); ++i) {
    const Candle& x = a[i].candle;
    const Candle& y = b[i].candle;
    ASSERT_TRUE(same_values(x, y)) << "k=" << k << " update " << i;
    ASSERT_EQ(x.status, y.status) << "k=" << k << " update " << i;
    ASSERT_EQ(x.revision, y.revision) << "k=" << k << " update " << i;
    ASSERT_EQ(x.exchange_symbol, y.exchange_symbol);
    ASSERT_EQ(x.close_time, y.close_time);
    ASSERT_EQ(x.taker_buy_quote_volume, y.taker_buy_quote_volume);
    ASSERT_EQ(a[i].last_trade_recv, b[i].last_trade_recv);
  }
}

TEST(CandleEngine, RestoredStateContinuesExactlyLikeAnUninterruptedEngine) {
  const std::vector<Event> events = random_events(6000, 11);
  CandleConfig config;  // 1m 5m 15m 1h 4h 1d, provisional every 250 ms
  config.correction_horizon = 20 * kNsPerMin;
  config.timeframes = *Timeframe::parse_list("1m,5m,15m,1h,4h,1d,1w");
  CandleEngine uninterrupted(config);
  std::vector<CandleUpdate> expected;
  run(uninterrupted, events, 0, events.size(), expected);
  ASSERT_GT(with_status(expected, CandleStatus::kCorrected).size(), 0u);
  ASSERT_GT(with_status(expected, CandleStatus::kProvisional).size(), 0u);

  for (size_t k : {size_t{0}, size_t{1}, size_t{57}, size_t{1000}, size_t{2500}, size_t{4321}, events.size()}) {
    CandleEngine first(config);
    std::vector<CandleUpdate> got;
    std::map<std::string, std::string> store;  // what a processor commits, in key order
    for (size_t i = 0; i < k; i += 100) {
      run(first, events, i, std::min(k, i + 100), got);
      apply_delta(store, first.take_dirty());
    }
    CandleEngine second(config);
    for (const auto& [key, blob] : store) ASSERT_TRUE(second.restore(key, blob).is_ok()) << key;
    EXPECT_EQ(second.instrument_count(), first.instrument_count());
    EXPECT_EQ(second.open_window_count(), first.open_window_count());
    EXPECT_TRUE(second.take_dirty().empty()) << k;  // restoring is not a change
    run(second, events, k, events.size(), got);
    expect_same_stream(expected, got, k);
  }
}

// Restarts again and again from what restored engines wrote themselves: the deltas of a
// restored engine (corrections of restored windows, deletes of pruned ones) are complete.
TEST(CandleEngine, RepeatedRestartsFromTheirOwnDeltasContinueExactly) {
  const std::vector<Event> events = random_events(8000, 23);
  CandleConfig config;
  config.correction_horizon = 10 * kNsPerMin;
  config.timeframes = *Timeframe::parse_list("1m,5m,15m,1h");
  CandleEngine uninterrupted(config);
  std::vector<CandleUpdate> expected;
  std::map<std::string, std::string> expected_store;
  for (size_t i = 0; i < events.size(); i += 37) {
    run(uninterrupted, events, i, std::min(events.size(), i + 37), expected);
    apply_delta(expected_store, uninterrupted.take_dirty());
  }
  ASSERT_GT(with_status(expected, CandleStatus::kCorrected).size(), 0u);

  std::mt19937 rng(5);
  std::map<std::string, std::string> store;
  std::vector<CandleUpdate> got;
  auto engine = std::make_unique<CandleEngine>(config);
  size_t restarts = 0;
  for (size_t i = 0; i < events.size();) {
    const size_t batch = 1 + rng() % 60;
    run(*engine, events, i, std::min(events.size(), i + batch), got);
    i = std::min(events.size(), i + batch);
    apply_delta(store, engine->take_dirty());
    if (rng() % 4 == 0) {
      engine = std::make_unique<CandleEngine>(config);
      for (const auto& [key, blob] : store) ASSERT_TRUE(engine->restore(key, blob).is_ok()) << key;
      ++restarts;
    }
  }
  ASSERT_GT(restarts, 50u);
  expect_same_stream(expected, got, restarts);
  // No key leaks and no lost keys: the stores hold the same windows, up to the few a pruning
  // pass has not reached yet (an engine prunes at most once per second of watermark).
  size_t differing = 0;
  for (const auto& [key, blob] : store) differing += expected_store.contains(key) ? 0 : 1;
  for (const auto& [key, blob] : expected_store) differing += store.contains(key) ? 0 : 1;
  EXPECT_LE(differing, 12u);
  EXPECT_GT(store.size(), 3u * 10u);  // three heads and their retained windows
}

TEST(CandleEngine, RestoreRejectsCorruptBlobs) {
  CandleEngine engine(one_minute());
  std::vector<CandleUpdate> out;
  engine.on_trade(make_trade(1, kBase + sec(1), "10"), 0, out);
  engine.on_trade(make_trade(2, kBase + sec(65), "11"), 0, out);  // closes the first window
  auto blobs = engine.take_dirty().puts;
  ASSERT_EQ(blobs.size(), 2u);
  const std::string& blob = blobs[0].second;
  const std::string& win_key = blobs[1].first;
  const std::string& win = blobs[1].second;
  EXPECT_EQ(win_key, window_key("1m", kBase));
  CandleEngine fresh(one_minute());
  for (size_t n = 0; n < blob.size(); ++n) {
    EXPECT_FALSE(fresh.restore(blobs[0].first, std::string_view(blob).substr(0, n)).is_ok()) << n;
  }
  EXPECT_FALSE(fresh.restore("binance:ETH-USDT", blob).is_ok());
  EXPECT_FALSE(fresh.restore(win_key, win).is_ok());  // window before its head
  EXPECT_TRUE(fresh.restore(blobs[0].first, blob).is_ok());
  for (size_t n = 1; n < win.size(); ++n) {
    EXPECT_FALSE(fresh.restore(win_key, std::string_view(win).substr(0, n)).is_ok()) << n;
  }
  EXPECT_FALSE(fresh.restore(window_key("1m", kBase + kNsPerMin), win).is_ok());  // wrong key
  EXPECT_TRUE(fresh.restore(win_key, win).is_ok());
  EXPECT_FALSE(fresh.restore(win_key, win).is_ok());  // the same window twice
  EXPECT_EQ(fresh.open_window_count(), 1u);
  EXPECT_TRUE(engine.take_dirty().empty());
}

TEST(CandleEngine, RestoresTheOneBlobFormatAndRewritesItSplit) {
  CandleEngine engine(one_minute());
  std::vector<CandleUpdate> out;
  engine.on_trade(make_trade(1, kBase + sec(1), "10"), 0, out);
  auto puts = engine.take_dirty().puts;
  ASSERT_EQ(puts.size(), 1u);
  // Without closed windows a v1 blob differs from a v2 head only by its version byte.
  std::string v1 = puts[0].second;
  v1[0] = 1;
  CandleEngine fresh(one_minute());
  ASSERT_TRUE(fresh.restore(puts[0].first, v1).is_ok());
  auto rewritten = fresh.take_dirty().puts;
  ASSERT_EQ(rewritten.size(), 1u);
  EXPECT_EQ(rewritten[0], puts[0]);
}

TEST(CandleEngine, WindowsOfARemovedTimeframeAreDeletedAfterRestore) {
  CandleConfig config = one_minute();
  config.timeframes = *Timeframe::parse_list("1m,5m");
  CandleEngine engine(config);
  std::vector<CandleUpdate> out;
  engine.on_trade(make_trade(1, kBase + sec(1), "10"), 0, out);
  engine.on_trade(make_trade(2, kBase + 6 * kNsPerMin, "11"), 0, out);
  std::map<std::string, std::string> store;
  apply_delta(store, engine.take_dirty());
  ASSERT_TRUE(store.contains(window_key("5m", kBase)));
  CandleEngine fresh(one_minute());
  for (const auto& [key, blob] : store) ASSERT_TRUE(fresh.restore(key, blob).is_ok()) << key;
  StateDelta delta = fresh.take_dirty();
  EXPECT_EQ(delta.deletes, std::vector<std::string>{window_key("5m", kBase)});
}

}  // namespace
}  // namespace tickflow::processing
