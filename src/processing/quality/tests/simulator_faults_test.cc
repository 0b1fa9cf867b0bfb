// Every quality check triggered on purpose with the simulator's market model (the event stream
// `tickflow simulate` sends) and the faults its knobs inject: skip_ids (gap), late_ms
// (out-of-order), duplicate (the same trade again), outlier (a price far off), a stalled feed
// (stale), a second exchange with a shifted price (divergence) and a crossed book top. The clean
// model stream scores 1 and trips no check (no false positives on a realistic random walk).
#include <algorithm>
#include <deque>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "exchange/simulator/market.h"
#include "processing/quality/checker.h"
#include "processing/quality/validator.h"

namespace tickflow::quality {
namespace {

namespace sim = exchange::simulator;

constexpr int64_t kStartMs = 1628952360000;

// The model's trades (the @trade stream) as normalized trades, received 3 ms after T.
std::vector<Trade> model_trades(uint64_t seed, std::vector<std::string> symbols, int64_t n, double rate = 200) {
  sim::MarketModel model(seed, symbols, kStartMs, rate, n);
  std::vector<Trade> out;
  sim::MarketEvent ev;
  while (model.next(ev)) {
    if (ev.kind != sim::EventKind::kTakerOrder) continue;
    const auto& spec = model.symbols()[ev.symbol];
    for (const auto& st : ev.trades) {
      Trade t;
      t.exchange = Exchange::kBinance;
      t.exchange_symbol = spec.symbol;
      t.symbol = unify_binance_symbol(spec.symbol);
      t.trade_id = t.first_trade_id = t.last_trade_id = st.id;
      t.price = Decimal(st.price, 8);
      t.quantity = Decimal(st.qty, 8);
      t.taker_side = st.buyer_maker ? Side::kSell : Side::kBuy;
      t.ts_event = st.time_ms * kNsPerMs;
      t.ts_recv = t.ts_event + 3 * kNsPerMs;
      out.push_back(t);
    }
  }
  return out;
}

struct Replayed {
  std::vector<ScopeReport> reports;
  int duplicates = 0, gaps = 0, out_of_order = 0, outliers = 0, divergences = 0;
  const ScopeReport* series(std::string_view symbol, std::string_view exchange = "binance") const {
    for (const auto& r : reports)
      if (r.reading.scope == "series" && r.reading.symbol == symbol && r.reading.exchange == exchange) return &r;
    return nullptr;
  }
};

Replayed run(const std::vector<Trade>& trades, QualityConfig cfg = {}) {
  Replayed r;
  const TimestampNs t0 = trades.front().ts_recv;
  QualityChecker q(cfg, t0);
  TimestampNs now = t0;
  for (const Trade& t : trades) {
    now = std::max(now, t.ts_recv);
    EXPECT_EQ(validate_trade(t, {}), Rejection::kNone);
    auto v = q.on_trade(t, now);
    r.duplicates += v.duplicate;
    r.gaps += v.missing > 0;
    r.out_of_order += v.out_of_order;
    r.outliers += v.outlier;
    r.divergences += v.divergence;
  }
  r.reports = q.report(now);
  return r;
}

TEST(SimulatorFaultsQualityTest, CleanModelStreamTripsNothing) {
  auto trades = model_trades(7, {"BTCUSDT", "ETHUSDT", "SOLUSDT"}, 30000, 500);
  Replayed r = run(trades);
  EXPECT_EQ(r.duplicates + r.gaps + r.out_of_order + r.outliers + r.divergences, 0);
  for (const auto& s : r.reports) EXPECT_DOUBLE_EQ(s.reading.score, 1.0) << s.reading.symbol;
}

TEST(SimulatorFaultsQualityTest, SkipIdsIsAGap) {
  auto trades = model_trades(8, {"BTCUSDT"}, 2000);
  // skip_ids=3: the next three trade frames of the symbol are not sent.
  trades.erase(trades.begin() + 1000, trades.begin() + 1003);
  Replayed r = run(trades);
  EXPECT_EQ(r.gaps, 1);
  const auto* s = r.series("BTC-USDT");
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->total_counts[static_cast<size_t>(Check::kGap)], 1u);
  EXPECT_EQ(r.out_of_order + r.duplicates + r.outliers, 0);
}

TEST(SimulatorFaultsQualityTest, LateTradeIsOutOfOrder) {
  auto trades = model_trades(9, {"ETHUSDT"}, 2000);
  // late_ms=500: trade 700 is held back and sent after the trades of the next 500 ms.
  Trade late = trades[700];
  trades.erase(trades.begin() + 700);
  auto pos = std::find_if(trades.begin() + 700, trades.end(),
                          [&](const Trade& t) { return t.ts_event > late.ts_event + 500 * kNsPerMs; });
  ASSERT_NE(pos, trades.end());
  late.ts_recv = pos->ts_recv;
  trades.insert(pos, late);
  Replayed r = run(trades);
  EXPECT_EQ(r.out_of_order, 1);
  EXPECT_EQ(r.gaps, 1);  // the hole it left, seen when the next trade arrived
  EXPECT_EQ(r.duplicates, 0);
}

TEST(SimulatorFaultsQualityTest, RepeatedFrameIsADuplicate) {
  auto trades = model_trades(10, {"BTCUSDT", "ETHUSDT"}, 3000);
  for (size_t i : {500u, 1500u, 2500u}) trades.insert(trades.begin() + static_cast<ptrdiff_t>(i) + 1, trades[i]);
  Replayed r = run(trades);
  EXPECT_EQ(r.duplicates, 3);
  EXPECT_EQ(r.gaps + r.out_of_order + r.outliers, 0);
}

TEST(SimulatorFaultsQualityTest, OutlierPriceIsFlagged) {
  auto trades = model_trades(11, {"BTCUSDT"}, 2000);
  // outlier=10%: one trade printed 10 % above the market.
  Trade& t = trades[1200];
  t.price = Decimal(t.price.units() / 10 * 11, 8);
  Replayed r = run(trades);
  EXPECT_EQ(r.outliers, 1);
  EXPECT_LT(r.series("BTC-USDT")->reading.score, 1.0);
}

TEST(SimulatorFaultsQualityTest, StalledFeedTurnsStale) {
  auto trades = model_trades(12, {"BTCUSDT"}, 500);
  QualityConfig cfg;
  cfg.stale_after = 5 * kNsPerMin;
  QualityChecker q(cfg, trades.front().ts_recv);
  q.expect_series(Exchange::kBinance, "BTC-USDT");
  for (const Trade& t : trades) q.on_trade(t, t.ts_recv);
  // stall_ms: nothing (no frame, no trade) for longer than stale_after.
  const TimestampNs after = trades.back().ts_recv + cfg.stale_after + kNsPerSec;
  auto rs = q.report(after);
  for (const auto& s : rs) {
    EXPECT_TRUE(s.reading.stale) << s.reading.scope;
    EXPECT_DOUBLE_EQ(s.reading.score, 0.0);
  }
}

TEST(SimulatorFaultsQualityTest, SecondExchangeWithShiftedPriceDiverges) {
  auto a = model_trades(13, {"BTCUSDT"}, 1000);
  auto b = a;  // the same market on another venue...
  for (auto& t : b) t.exchange = Exchange::kCoinbase;
  std::vector<Trade> merged;
  for (size_t i = 0; i < a.size(); ++i) {
    merged.push_back(a[i]);
    merged.push_back(b[i]);
  }
  EXPECT_EQ(run(merged).divergences, 0);
  // ...whose prices drift 5 % off from trade 600 on.
  for (size_t i = 600; i < b.size(); ++i) b[i].price = Decimal(b[i].price.units() / 100 * 105, 8);
  merged.clear();
  for (size_t i = 0; i < a.size(); ++i) {
    merged.push_back(a[i]);
    merged.push_back(b[i]);
  }
  Replayed r = run(merged);
  EXPECT_GE(r.divergences, 400);
  EXPECT_GT(r.series("BTC-USDT", "coinbase")->total_counts[static_cast<size_t>(Check::kDivergence)], 0u);
}

TEST(SimulatorFaultsQualityTest, ModelBookTopsAreNeverCrossedAndACrossingIsSeen) {
  sim::MarketModel model(14, {"BTCUSDT"}, kStartMs, 500, 5000);
  QualityChecker q({}, kStartMs * kNsPerMs);
  sim::MarketEvent ev;
  int tops = 0;
  while (model.next(ev)) {
    if (ev.kind != sim::EventKind::kDepthUpdate) continue;
    auto snap = model.snapshot(0, 1);
    if (snap.bids.empty() || snap.asks.empty()) continue;
    ++tops;
    EXPECT_FALSE(q.on_book_top(Exchange::kBinance, "BTC-USDT", Decimal(snap.bids[0].price, 8),
                               Decimal(snap.asks[0].price, 8), ev.time_ms * kNsPerMs));
  }
  ASSERT_GT(tops, 10);
  auto snap = model.snapshot(0, 1);
  EXPECT_TRUE(q.on_book_top(Exchange::kBinance, "BTC-USDT", Decimal(snap.asks[0].price + 1, 8),
                            Decimal(snap.asks[0].price, 8), ev.time_ms * kNsPerMs));
}

}  // namespace
}  // namespace tickflow::quality
