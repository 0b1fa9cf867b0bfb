// QualityChecker: every check, the score formula and its edge cases, staleness with and without
// liveness evidence, RollingMedian. Pure: a fake `now`, no sleeping.
#include "processing/quality/checker.h"

#include <algorithm>
#include <cmath>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "processing/quality/rolling_median.h"
#include "processing/quality/tests/quality_test_util.h"

namespace tickflow::quality {
namespace {

using testutil::kT0;
using testutil::make_trade;

const ScopeReport* find(const std::vector<ScopeReport>& rs, std::string_view scope, std::string_view exchange,
                        std::string_view symbol = "") {
  for (const auto& r : rs)
    if (r.reading.scope == scope && r.reading.exchange == exchange && r.reading.symbol == symbol) return &r;
  return nullptr;
}

uint64_t window_count(const ScopeReport& r, Check c) { return r.window_counts[static_cast<size_t>(c)]; }
uint64_t total_count(const ScopeReport& r, Check c) { return r.total_counts[static_cast<size_t>(c)]; }

// A clean, consecutive stream: 100 trades around 100.00, one per second.
void feed_clean(QualityChecker& q, std::string_view symbol, int64_t first_id, int n, TimestampNs start,
                Exchange e = Exchange::kBinance) {
  for (int i = 0; i < n; ++i) {
    const std::string price = (i % 2 == 0) ? "100.00" : "100.05";
    auto v = q.on_trade(make_trade(symbol, first_id + i, price, start + i * kNsPerSec, e), start + i * kNsPerSec);
    ASSERT_FALSE(v.duplicate || v.missing || v.out_of_order || v.outlier || v.divergence) << i;
  }
}

TEST(QualityCheckerTest, CleanStreamScoresOne) {
  QualityChecker q({}, kT0);
  q.expect_series(Exchange::kBinance, "BTC-USDT");
  feed_clean(q, "BTC-USDT", 1000, 100, kT0);
  auto rs = q.report(kT0 + 100 * kNsPerSec);
  ASSERT_EQ(rs.size(), 2u);
  EXPECT_EQ(rs[0].reading.scope, "feed");
  EXPECT_EQ(rs[1].reading.scope, "series");
  for (const auto& r : rs) {
    EXPECT_DOUBLE_EQ(r.reading.score, 1.0);
    EXPECT_FALSE(r.reading.stale);
    EXPECT_EQ(r.total_trades, 100u);
    EXPECT_EQ(r.reading.last_data, kT0 + 99 * kNsPerSec);
    EXPECT_NEAR(r.last_data_age_seconds, 1.0, 1e-9);
  }
}

TEST(QualityCheckerTest, DuplicateTradeKeyIsCountedAndScored) {
  QualityChecker q({}, kT0);
  feed_clean(q, "BTC-USDT", 1, 9, kT0);
  auto v = q.on_trade(make_trade("BTC-USDT", 5, "100.00", kT0 + 4 * kNsPerSec), kT0 + 10 * kNsPerSec);
  EXPECT_TRUE(v.duplicate);
  EXPECT_FALSE(v.out_of_order);  // a repeat is a duplicate, not a late arrival
  auto rs = q.report(kT0 + 10 * kNsPerSec);
  const auto* s = find(rs, "series", "binance", "BTC-USDT");
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(window_count(*s, Check::kDuplicate), 1u);
  EXPECT_EQ(s->window_events, 10u);
  EXPECT_DOUBLE_EQ(s->reading.score, 1.0 - 1.0 / 10.0);
}

TEST(QualityCheckerTest, TradeIdGapCountsEveryMissingId) {
  QualityChecker q({}, kT0);
  feed_clean(q, "BTC-USDT", 1, 10, kT0);  // ids 1..10
  auto v = q.on_trade(make_trade("BTC-USDT", 16, "100.00", kT0 + 10 * kNsPerSec), kT0 + 10 * kNsPerSec);
  EXPECT_EQ(v.missing, 5);  // 11..15
  auto rs = q.report(kT0 + 11 * kNsPerSec);
  const auto* s = find(rs, "series", "binance", "BTC-USDT");
  EXPECT_EQ(total_count(*s, Check::kGap), 1u);   // one gap
  EXPECT_EQ(window_count(*s, Check::kGap), 5u);  // five missing ids
  EXPECT_EQ(s->window_events, 16u);              // 11 trades + 5 missing
  EXPECT_DOUBLE_EQ(s->reading.score, 1.0 - 5.0 / 16.0);
}

TEST(QualityCheckerTest, LateArrivalAndBackwardsEventTimeAreOutOfOrder) {
  QualityChecker q({}, kT0);
  feed_clean(q, "BTC-USDT", 1, 5, kT0);                                                       // 1..5
  auto gap = q.on_trade(make_trade("BTC-USDT", 7, "100.00", kT0 + 6 * kNsPerSec), kT0 + 6 * kNsPerSec);
  EXPECT_EQ(gap.missing, 1);
  auto late = q.on_trade(make_trade("BTC-USDT", 6, "100.00", kT0 + 5 * kNsPerSec), kT0 + 7 * kNsPerSec);
  EXPECT_TRUE(late.out_of_order);
  EXPECT_FALSE(late.duplicate);
  // Consecutive id, but the event time went backwards.
  auto back = q.on_trade(make_trade("BTC-USDT", 8, "100.00", kT0 + 1 * kNsPerSec), kT0 + 8 * kNsPerSec);
  EXPECT_TRUE(back.out_of_order);
  EXPECT_EQ(back.missing, 0);
  // The late one again is now a duplicate.
  EXPECT_TRUE(q.on_trade(make_trade("BTC-USDT", 6, "100.00", kT0 + 5 * kNsPerSec), kT0 + 9 * kNsPerSec).duplicate);
  auto rs = q.report(kT0 + 9 * kNsPerSec);
  EXPECT_EQ(total_count(*find(rs, "series", "binance", "BTC-USDT"), Check::kOutOfOrder), 2u);
  EXPECT_EQ(total_count(*find(rs, "feed", "binance"), Check::kOutOfOrder), 2u);
}

TEST(QualityCheckerTest, PriceOutlierAgainstRollingMedianMad) {
  QualityConfig cfg;
  cfg.outlier_window = 32;
  cfg.outlier_min_samples = 10;
  QualityChecker q(cfg, kT0);
  // Before min_samples nothing can be an outlier.
  for (int i = 0; i < 9; ++i)
    EXPECT_FALSE(q.on_trade(make_trade("BTC-USDT", 1 + i, i == 5 ? "500" : "100.00", kT0 + i), kT0).outlier);
  feed_clean(q, "BTC-USDT", 10, 30, kT0 + kNsPerSec);
  // 100.00/100.05 alternate: MAD 0.025, k·1.4826·MAD ≈ 0.37 < 1 % of 100 → the 1 % floor rules.
  EXPECT_FALSE(q.on_trade(make_trade("BTC-USDT", 40, "100.90", kT0 + 40 * kNsPerSec), kT0 + 40 * kNsPerSec).outlier);
  EXPECT_TRUE(q.on_trade(make_trade("BTC-USDT", 41, "101.20", kT0 + 41 * kNsPerSec), kT0 + 41 * kNsPerSec).outlier);
  EXPECT_TRUE(q.on_trade(make_trade("BTC-USDT", 42, "98.50", kT0 + 42 * kNsPerSec), kT0 + 42 * kNsPerSec).outlier);
  auto rs = q.report(kT0 + 43 * kNsPerSec);
  EXPECT_EQ(total_count(*find(rs, "series", "binance", "BTC-USDT"), Check::kOutlier), 2u);
}

TEST(QualityCheckerTest, OutlierThresholdFollowsMadWhenPricesAreNoisy) {
  QualityConfig cfg;
  cfg.outlier_window = 64;
  cfg.outlier_min_samples = 20;
  cfg.outlier_min_rel = 0;  // MAD only
  QualityChecker q(cfg, kT0);
  std::mt19937 rng(7);
  std::normal_distribution<double> noise(0, 1.0);  // σ = 1
  for (int i = 0; i < 64; ++i) {
    const double p = 1000 + std::clamp(noise(rng), -3.0, 3.0);
    q.on_trade(make_trade("ETH-USDT", 1 + i, std::to_string(p).substr(0, 8), kT0 + i), kT0 + i);
  }
  // 10 σ: far beyond any clamped sample; 4 σ is not an outlier with k = 10.
  EXPECT_FALSE(q.on_trade(make_trade("ETH-USDT", 65, "1004.0", kT0 + 65), kT0 + 65).outlier);
  EXPECT_TRUE(q.on_trade(make_trade("ETH-USDT", 66, "1020.0", kT0 + 66), kT0 + 66).outlier);
}

TEST(QualityCheckerTest, CrossedBookTop) {
  QualityChecker q({}, kT0);
  EXPECT_FALSE(q.on_book_top(Exchange::kBinance, "BTC-USDT", Decimal(10000, 2), Decimal(10001, 2), kT0));
  EXPECT_TRUE(q.on_book_top(Exchange::kBinance, "BTC-USDT", Decimal(10001, 2), Decimal(10001, 2), kT0));  // locked
  EXPECT_TRUE(q.on_book_top(Exchange::kBinance, "BTC-USDT", Decimal(10002, 2), Decimal(10001, 2), kT0));
  // An empty side is not crossed.
  EXPECT_FALSE(q.on_book_top(Exchange::kBinance, "BTC-USDT", Decimal(10002, 2), Decimal(), kT0));
  auto rs = q.report(kT0);
  const auto* s = find(rs, "series", "binance", "BTC-USDT");
  EXPECT_EQ(window_count(*s, Check::kCrossedBook), 2u);
  EXPECT_EQ(s->window_events, 4u);
  EXPECT_DOUBLE_EQ(s->reading.score, 0.5);
}

TEST(QualityCheckerTest, CrossExchangeDivergenceOfTheSameInstrument) {
  QualityConfig cfg;
  cfg.divergence_rel = 0.02;
  cfg.divergence_max_age = 10 * kNsPerSec;
  QualityChecker q(cfg, kT0);
  EXPECT_FALSE(q.on_trade(make_trade("BTC-USD", 1, "40000", kT0, Exchange::kCoinbase), kT0).divergence);
  // 1 % apart: fine.
  EXPECT_FALSE(q.on_trade(make_trade("BTC-USD", 1, "40400", kT0, Exchange::kBinance), kT0 + kNsPerSec).divergence);
  // 5 % apart: diverges (counted on the trade that revealed it).
  auto v = q.on_trade(make_trade("BTC-USD", 2, "42400", kT0, Exchange::kBinance), kT0 + 2 * kNsPerSec);
  EXPECT_TRUE(v.divergence);
  // Another quote currency is another instrument.
  EXPECT_FALSE(q.on_trade(make_trade("BTC-USDT", 1, "30000", kT0, Exchange::kKraken), kT0 + 3 * kNsPerSec).divergence);
  // The other side's price is too old to compare.
  EXPECT_FALSE(q.on_trade(make_trade("BTC-USD", 3, "50000", kT0, Exchange::kBinance), kT0 + 30 * kNsPerSec).divergence);
  auto rs = q.report(kT0 + 30 * kNsPerSec);
  EXPECT_EQ(total_count(*find(rs, "series", "binance", "BTC-USD"), Check::kDivergence), 1u);
  EXPECT_EQ(total_count(*find(rs, "series", "coinbase", "BTC-USD"), Check::kDivergence), 0u);
}

TEST(QualityCheckerTest, StaleFeedWithoutDataOrLiveness) {
  QualityConfig cfg;
  cfg.stale_after = 5 * kNsPerMin;
  QualityChecker q(cfg, kT0);
  q.expect_series(Exchange::kBinance, "BTC-USDT");
  // Configured but never sent: stale once stale_after has passed since start.
  EXPECT_FALSE(q.report(kT0 + 5 * kNsPerMin)[0].reading.stale);
  auto rs = q.report(kT0 + 5 * kNsPerMin + 1);
  EXPECT_TRUE(find(rs, "feed", "binance")->reading.stale);
  EXPECT_TRUE(find(rs, "series", "binance", "BTC-USDT")->reading.stale);
  EXPECT_DOUBLE_EQ(find(rs, "feed", "binance")->reading.score, 0.0);
  EXPECT_EQ(total_count(*find(rs, "feed", "binance"), Check::kStale), 1u);
  // Data arrives: fresh again; stays counted once per transition.
  q.on_trade(make_trade("BTC-USDT", 1, "100", kT0 + 6 * kNsPerMin), kT0 + 6 * kNsPerMin);
  rs = q.report(kT0 + 6 * kNsPerMin);
  EXPECT_FALSE(find(rs, "feed", "binance")->reading.stale);
  EXPECT_GT(find(rs, "feed", "binance")->reading.score, 0.0);
  rs = q.report(kT0 + 12 * kNsPerMin);
  EXPECT_TRUE(find(rs, "feed", "binance")->reading.stale);
  EXPECT_EQ(total_count(*find(rs, "feed", "binance"), Check::kStale), 2u);
}

TEST(QualityCheckerTest, QuietSymbolOnALiveConnectionIsNotStale) {
  QualityChecker q({}, kT0);
  q.expect_series(Exchange::kBinance, "BTC-USDT");
  q.expect_series(Exchange::kBinance, "DOGE-USDT");
  q.on_trade(make_trade("DOGE-USDT", 1, "0.25", kT0), kT0);
  // BTC keeps trading; DOGE is quiet for an hour; the connection is alive.
  for (int m = 1; m <= 60; ++m) {
    const TimestampNs now = kT0 + m * kNsPerMin;
    q.on_trade(make_trade("BTC-USDT", m, "40000", now), now);
  }
  auto rs = q.report(kT0 + 60 * kNsPerMin);
  EXPECT_FALSE(find(rs, "series", "binance", "DOGE-USDT")->reading.stale);
  // No trades at all, but heartbeats (frames on the connection): still not stale.
  for (int m = 61; m <= 120; ++m) q.on_feed_alive(Exchange::kBinance, kT0 + m * kNsPerMin);
  rs = q.report(kT0 + 120 * kNsPerMin);
  EXPECT_FALSE(find(rs, "feed", "binance")->reading.stale);
  EXPECT_FALSE(find(rs, "series", "binance", "BTC-USDT")->reading.stale);
  // Heartbeats stop: stale after stale_after.
  rs = q.report(kT0 + 125 * kNsPerMin + 1);
  EXPECT_TRUE(find(rs, "feed", "binance")->reading.stale);
  EXPECT_TRUE(find(rs, "series", "binance", "DOGE-USDT")->reading.stale);
}

TEST(QualityCheckerTest, SeriesStaleAfterIsOptIn) {
  QualityConfig cfg;
  cfg.series_stale_after = 10 * kNsPerMin;
  QualityChecker q(cfg, kT0);
  q.on_trade(make_trade("DOGE-USDT", 1, "0.25", kT0), kT0);
  for (int m = 1; m <= 11; ++m) q.on_feed_alive(Exchange::kBinance, kT0 + m * kNsPerMin);
  auto rs = q.report(kT0 + 10 * kNsPerMin + 1);
  EXPECT_FALSE(find(rs, "feed", "binance")->reading.stale);
  EXPECT_TRUE(find(rs, "series", "binance", "DOGE-USDT")->reading.stale);
}

TEST(QualityCheckerTest, ScoreWindowRollsOff) {
  QualityConfig cfg;
  cfg.window = 60 * kNsPerSec;
  cfg.window_buckets = 6;
  QualityChecker q(cfg, kT0);
  feed_clean(q, "BTC-USDT", 1, 5, kT0);
  q.on_trade(make_trade("BTC-USDT", 3, "100", kT0 + 5 * kNsPerSec), kT0 + 5 * kNsPerSec);  // duplicate
  EXPECT_LT(q.readings(kT0 + 6 * kNsPerSec)[1].score, 1.0);
  // One window later (no events): empty window scores 1, totals keep the history.
  feed_clean(q, "BTC-USDT", 6, 1, kT0 + 70 * kNsPerSec);
  auto rs = q.report(kT0 + 71 * kNsPerSec);
  const auto* s = find(rs, "series", "binance", "BTC-USDT");
  EXPECT_DOUBLE_EQ(s->reading.score, 1.0);
  EXPECT_EQ(s->window_events, 1u);
  EXPECT_EQ(total_count(*s, Check::kDuplicate), 1u);
}

TEST(QualityCheckerTest, ScoreIsClampedAndWeighted) {
  QualityConfig cfg;
  cfg.weights[static_cast<size_t>(Check::kGap)] = 0.5;
  QualityChecker q(cfg, kT0);
  q.on_trade(make_trade("BTC-USDT", 1, "100", kT0), kT0);
  q.on_trade(make_trade("BTC-USDT", 4, "100", kT0), kT0);  // 2 missing, weight 0.5
  EXPECT_DOUBLE_EQ(q.readings(kT0)[1].score, 1.0 - (0.5 * 2) / 4.0);
  // Weights above 1 cannot push the score below 0.
  QualityConfig heavy;
  heavy.weights[static_cast<size_t>(Check::kDuplicate)] = 100;
  QualityChecker h(heavy, kT0);
  h.on_trade(make_trade("BTC-USDT", 1, "100", kT0), kT0);
  h.on_trade(make_trade("BTC-USDT", 1, "100", kT0), kT0);
  auto r = h.readings(kT0);
  EXPECT_DOUBLE_EQ(r[1].score, 0.0);
  // No data at all and not configured: no reading.
  QualityChecker empty({}, kT0);
  EXPECT_TRUE(empty.readings(kT0 + kNsPerDay).empty());
}

TEST(QualityCheckerTest, SeriesAreBoundedFeedsStillCount) {
  QualityConfig cfg;
  cfg.max_series = 2;
  QualityChecker q(cfg, kT0);
  for (int i = 0; i < 5; ++i) q.on_trade(make_trade("S" + std::to_string(i) + "-USDT", 1, "1", kT0), kT0);
  auto rs = q.report(kT0);
  ASSERT_EQ(rs.size(), 3u);  // 1 feed + 2 series
  EXPECT_EQ(rs[0].total_trades, 5u);
}

TEST(QualityCheckerTest, ConfigValidationNamesTheKey) {
  QualityConfig c;
  EXPECT_TRUE(validate(c).is_ok());
  c.outlier_window = 2;
  EXPECT_NE(validate(c).message().find("quality.outlier_window"), std::string::npos);
  c = {};
  c.stale_after = 0;
  EXPECT_NE(validate(c).message().find("quality.stale_after"), std::string::npos);
  c = {};
  c.weights[static_cast<size_t>(Check::kOutlier)] = -1;
  EXPECT_NE(validate(c).message().find("quality.weights.outlier"), std::string::npos);
  c = {};
  c.divergence_rel = std::nan("");
  EXPECT_FALSE(validate(c).is_ok());
}

TEST(RollingMedianTest, MatchesBruteForce) {
  std::mt19937 rng(3);
  std::uniform_real_distribution<double> d(0, 100);
  for (size_t cap : {1u, 2u, 5u, 64u}) {
    RollingMedian rm(cap);
    std::vector<double> all;
    for (int i = 0; i < 500; ++i) {
      const double v = std::floor(d(rng));  // ties on purpose
      rm.add(v);
      all.push_back(v);
      std::vector<double> w(all.end() - static_cast<ptrdiff_t>(std::min(all.size(), cap)), all.end());
      auto med = [](std::vector<double> x) {
        std::sort(x.begin(), x.end());
        const size_t n = x.size();
        return n % 2 ? x[n / 2] : (x[n / 2 - 1] + x[n / 2]) / 2;
      };
      const double m = med(w);
      std::vector<double> dev;
      for (double x : w) dev.push_back(std::fabs(x - m));
      ASSERT_DOUBLE_EQ(rm.median(), m) << cap << " " << i;
      ASSERT_DOUBLE_EQ(rm.mad(), med(dev)) << cap << " " << i;
    }
  }
}

}  // namespace
}  // namespace tickflow::quality
