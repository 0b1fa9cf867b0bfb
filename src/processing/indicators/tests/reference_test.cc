// Indicators against TA-Lib's output and the exact recomputation (testdata/indicators/), and
// ATR / VWAP against hand-computed values and an independent array implementation of TA-Lib's
// definitions.
#include <cstdio>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "processing/indicators/indicator_set.h"
#include "processing/indicators/tests/test_util.h"

namespace tickflow::processing::indicators {
namespace {

using testing::load_reference;
using testing::rel_error;
using testing::Table;

constexpr char kSpec[] = "sma:20,ema:20,rsi:14,macd:12:26:9,bb:20:2";
constexpr int kFlatFirst = 618, kFlatLast = 624;  // full 20-close windows inside the flat run

// Streams the reference closes through an IndicatorSet; rows[i][j] = output j after close i.
std::vector<std::vector<std::optional<double>>> stream(const Table& t, IndicatorSet& set) {
  const int c_close = t.column("close");
  std::vector<std::vector<std::optional<double>>> out;
  for (const auto& row : t.rows) {
    Bar b;
    b.close = b.high = b.low = b.open = *row[c_close];
    EXPECT_TRUE(set.update(b).is_ok());
    out.emplace_back(set.values().begin(), set.values().end());
  }
  return out;
}

bool is_band(const std::string& name) { return name.rfind("bb_", 0) == 0; }

// Compares every output column with the reference file; returns the worst relative error.
double compare(const std::string& file, bool skip_flat_bands) {
  Table t = load_reference(file);
  EXPECT_EQ(t.rows.size(), 1000u);
  auto set = IndicatorSet::create(kSpec);
  EXPECT_TRUE(set.is_ok());
  auto got = stream(t, *set);
  double worst = 0;
  for (size_t j = 0; j < set->names().size(); ++j) {
    const std::string& name = set->names()[j];
    const int col = t.column(name);
    EXPECT_GE(col, 0) << name;
    if (col < 0) continue;
    double worst_col = 0;
    for (size_t i = 0; i < t.rows.size(); ++i) {
      const auto& want = t.rows[i][col];
      const auto& have = got[i][j];
      // Warm-up exactly as the reference: empty cells where it is empty, values where it is not.
      EXPECT_EQ(have.has_value(), want.has_value()) << file << " " << name << " i=" << i;
      if (!want || !have) continue;
      EXPECT_TRUE(std::isfinite(*have));
      if (skip_flat_bands && is_band(name) && static_cast<int>(i) >= kFlatFirst && static_cast<int>(i) <= kFlatLast) {
        continue;
      }
      double e = rel_error(*have, *want);
      EXPECT_LE(e, 1e-9) << file << " " << name << " i=" << i << " got " << *have << " want " << *want;
      worst_col = std::max(worst_col, e);
    }
    std::printf("  %-28s %-12s worst relative error %.3g\n", file.c_str(), name.c_str(), worst_col);
    worst = std::max(worst, worst_col);
  }
  return worst;
}

TEST(ReferenceTest, MatchesTaLib) {
  // TA-Lib's one-pass variance is off on the flat window (σ = 5.6e-6 instead of 0): skipped there,
  // checked against the exact file below.
  compare("indicator_reference.csv", /*skip_flat_bands=*/true);
}

TEST(ReferenceTest, MatchesExactRecomputation) {
  compare("indicator_reference_exact.csv", /*skip_flat_bands=*/false);
}

TEST(ReferenceTest, WarmupIndicesAreTaLibs) {
  Table t = load_reference("indicator_reference.csv");
  auto set = IndicatorSet::create(kSpec);
  ASSERT_TRUE(set.is_ok());
  auto got = stream(t, *set);
  auto first = [&](const std::string& name) {
    for (size_t j = 0; j < set->names().size(); ++j) {
      if (set->names()[j] != name) continue;
      for (size_t i = 0; i < got.size(); ++i) {
        if (got[i][j]) return static_cast<int>(i);
      }
    }
    return -1;
  };
  EXPECT_EQ(first("sma20"), 19);
  EXPECT_EQ(first("ema20"), 19);
  EXPECT_EQ(first("rsi14"), 14);
  EXPECT_EQ(first("macd"), 33);
  EXPECT_EQ(first("macd_signal"), 33);
  EXPECT_EQ(first("macd_hist"), 33);
  EXPECT_EQ(first("bb_upper"), 19);
  EXPECT_EQ(set->warmup_bars(), 34u);
}

TEST(ReferenceTest, BollingerOnFlatWindowIsExact) {
  Table t = load_reference("indicator_reference_exact.csv");
  const int c_close = t.column("close"), c_up = t.column("bb_upper"), c_mid = t.column("bb_middle"),
            c_lo = t.column("bb_lower");
  Bollinger bb(20, 2);
  Sma sma(20);
  for (int i = 0; i < static_cast<int>(t.rows.size()); ++i) {
    double x = *t.rows[i][c_close];
    bb.update(x);
    sma.update(x);
    if (i < kFlatFirst || i > kFlatLast) continue;
    auto v = bb.value();
    ASSERT_TRUE(v.has_value());
    EXPECT_EQ(bb.stdev(), 0.0) << i;
    // Bit-equal to the exact file, and the three bands coincide.
    EXPECT_EQ(v->upper, *t.rows[i][c_up]) << i;
    EXPECT_EQ(v->middle, *t.rows[i][c_mid]) << i;
    EXPECT_EQ(v->lower, *t.rows[i][c_lo]) << i;
    EXPECT_EQ(v->upper, x);
    EXPECT_EQ(v->lower, x);
    EXPECT_EQ(*sma.value(), x);
  }
  // TA-Lib reports a non-zero width there: the reference really distinguishes the two methods.
  Table ta = load_reference("indicator_reference.csv");
  EXPECT_GT(*ta.rows[kFlatFirst][c_up] - *ta.rows[kFlatFirst][c_lo], 1e-5);
}

// ---- ATR ----

TEST(AtrTest, HandComputedWilderWithTaLibSeeding) {
  Atr atr(3);
  struct HLC {
    double h, l, c;
  };
  const HLC bars[] = {{10, 8, 9}, {11, 9, 10}, {12, 10, 11}, {15, 11, 14}, {14, 13, 13}, {10, 9, 9.5}};
  std::vector<std::optional<double>> got;
  for (const auto& b : bars) {
    atr.update(b.h, b.l, b.c);
    got.push_back(atr.value());
  }
  // TR_1..TR_5 = 2, 2, 4, 1, 4 (the last one a gap down: |low − previous close| = 4).
  EXPECT_FALSE(got[0] || got[1] || got[2]);
  ASSERT_TRUE(got[3] && got[4] && got[5]);
  EXPECT_DOUBLE_EQ(*got[3], 8.0 / 3);
  EXPECT_DOUBLE_EQ(*got[4], 19.0 / 9);
  EXPECT_DOUBLE_EQ(*got[5], 74.0 / 27);
}

// Deterministic high/low around the reference closes.
std::vector<Bar> ohlc_bars() {
  Table t = load_reference("indicator_reference.csv");
  const int c_close = t.column("close");
  std::vector<Bar> bars;
  uint64_t s = 12345;
  auto next = [&s] {
    s = s * 6364136223846793005ULL + 1442695040888963407ULL;
    return static_cast<double>(s >> 40) / static_cast<double>(1ULL << 24);
  };
  double prev = *t.rows[0][c_close];
  for (const auto& row : t.rows) {
    Bar b;
    b.close = *row[c_close];
    b.open = prev;
    b.high = std::max(b.open, b.close) + std::round(next() * 50) / 100;
    b.low = std::min(b.open, b.close) - std::round(next() * 50) / 100;
    b.volume = std::round(next() * 1e6) / 1e3;
    b.open_time = static_cast<TimestampNs>(bars.size()) * 7 * kNsPerMin;  // crosses a midnight
    prev = b.close;
    bars.push_back(b);
  }
  return bars;
}

// TA-Lib's TA_ATR as array code: TRANGE (lookback 1), SMA of TR[1..n] at index n, then Wilder.
std::vector<std::optional<double>> batch_atr(const std::vector<Bar>& bars, int n) {
  std::vector<std::optional<double>> out(bars.size());
  std::vector<double> tr(bars.size(), 0);
  for (size_t i = 1; i < bars.size(); ++i) {
    double pc = bars[i - 1].close;
    tr[i] = std::max({bars[i].high - bars[i].low, std::fabs(pc - bars[i].high), std::fabs(pc - bars[i].low)});
  }
  if (static_cast<int>(bars.size()) <= n) return out;
  double sum = 0;
  for (int i = 1; i <= n; ++i) sum += tr[i];
  double atr = sum / n;
  out[n] = atr;
  for (size_t i = n + 1; i < bars.size(); ++i) {
    atr = (atr * (n - 1) + tr[i]) / n;
    out[i] = atr;
  }
  return out;
}

TEST(AtrTest, MatchesArrayImplementationOfTaLib) {
  auto bars = ohlc_bars();
  for (int n : {1, 2, 14, 50}) {
    auto want = batch_atr(bars, n);
    auto set = IndicatorSet::create("atr:" + std::to_string(n));
    ASSERT_TRUE(set.is_ok());
    for (size_t i = 0; i < bars.size(); ++i) {
      ASSERT_TRUE(set->update(bars[i]).is_ok());
      auto have = set->values()[0];
      ASSERT_EQ(have.has_value(), want[i].has_value()) << "n=" << n << " i=" << i;
      if (want[i]) {
        EXPECT_LE(rel_error(*have, *want[i]), 1e-12) << "n=" << n << " i=" << i;
      }
    }
  }
}

// ---- VWAP ----

Bar vbar(TimestampNs t, double h, double l, double c, double v, double q = -1) {
  Bar b;
  b.open_time = t;
  b.open = c;
  b.high = h;
  b.low = l;
  b.close = c;
  b.volume = v;
  b.quote_volume = q;
  return b;
}

TEST(VwapTest, SessionResetsAtUtcMidnight) {
  const TimestampNs day = 19'000 * kNsPerDay;
  SessionVwap vwap;
  vwap.update(vbar(day + kNsPerDay - 2 * kNsPerMin, 12, 9, 9, 2));  // typical 10
  EXPECT_DOUBLE_EQ(*vwap.value(), 10.0);
  vwap.update(vbar(day + kNsPerDay - kNsPerMin, 22, 19, 19, 3));  // typical 20
  EXPECT_DOUBLE_EQ(*vwap.value(), (10.0 * 2 + 20.0 * 3) / 5);
  vwap.update(vbar(day + kNsPerDay, 33, 30, 30, 1));  // 00:00:00.000 opens a new session
  EXPECT_DOUBLE_EQ(*vwap.value(), 31.0);
}

TEST(VwapTest, UsesExactQuoteVolumeWhenKnown) {
  SessionVwap vwap;
  vwap.update(vbar(0, 12, 9, 9, 2, 21.5));
  vwap.update(vbar(kNsPerMin, 12, 9, 9, 3, 30.25));
  EXPECT_DOUBLE_EQ(*vwap.value(), (21.5 + 30.25) / 5);
}

TEST(VwapTest, ZeroVolumeIsEmptyNeverNaN) {
  SessionVwap session;
  RollingVwap rolling(2);
  for (int i = 0; i < 3; ++i) {
    session.update(vbar(i * kNsPerMin, 10, 10, 10, 0));
    rolling.update(vbar(i * kNsPerMin, 10, 10, 10, 0));
    EXPECT_FALSE(session.value().has_value());
    EXPECT_FALSE(rolling.value().has_value());
  }
  rolling.update(vbar(3 * kNsPerMin, 13, 10, 10, 1e6));  // typical 11
  EXPECT_DOUBLE_EQ(*rolling.value(), 11.0);
  rolling.update(vbar(4 * kNsPerMin, 10, 10, 10, 1e-9));
  EXPECT_NEAR(*rolling.value(), 11.0, 1e-12);
  // The big bar leaves: only the tiny one remains, with no residue of the big one.
  rolling.update(vbar(5 * kNsPerMin, 10, 10, 10, 0));
  EXPECT_DOUBLE_EQ(*rolling.value(), 10.0);
  rolling.update(vbar(6 * kNsPerMin, 10, 10, 10, 0));
  EXPECT_FALSE(rolling.value().has_value());
}

TEST(VwapTest, RollingMatchesWindowRecomputation) {
  auto bars = ohlc_bars();
  for (int n : {1, 3, 20}) {
    RollingVwap vwap(n);
    for (size_t i = 0; i < bars.size(); ++i) {
      vwap.update(bars[i]);
      if (static_cast<int>(i) + 1 < n) {
        EXPECT_FALSE(vwap.value().has_value());
        continue;
      }
      double pv = 0, v = 0;
      for (size_t j = i + 1 - n; j <= i; ++j) {
        pv += (bars[j].high + bars[j].low + bars[j].close) / 3 * bars[j].volume;
        v += bars[j].volume;
      }
      ASSERT_TRUE(vwap.value().has_value());
      EXPECT_LE(rel_error(*vwap.value(), pv / v), 1e-12) << "n=" << n << " i=" << i;
    }
  }
}

}  // namespace
}  // namespace tickflow::processing::indicators
