// No drift over 10 million updates: after a long stream whose magnitudes change by 9 orders, the
// streamed SMA / Bollinger / rolling VWAP equal a fresh recomputation over the last window. A
// plain running sum on the same stream is checked to drift, so the test can fail.
#include <chrono>
#include <cmath>
#include <cstdio>
#include <vector>

#include <gtest/gtest.h>

#include "processing/indicators/indicators.h"

namespace tickflow::processing::indicators {
namespace {

constexpr uint64_t kUpdates = 10'000'007;  // not a multiple of the period: ends between re-bases
constexpr uint32_t kPeriod = 20;

struct Lcg {
  uint64_t s = 7;
  double next() {  // [0, 1)
    s = s * 6364136223846793005ULL + 1442695040888963407ULL;
    return static_cast<double>(s >> 11) * 0x1.0p-53;
  }
};

// First half around 1e9 with wide swings, second half around 1 with cent-sized noise.
double value_at(uint64_t i, Lcg& rng) {
  double r = rng.next();
  return i < kUpdates / 2 ? 1e9 * (1 + r) : 1 + std::round(r * 100) / 100;
}

TEST(DriftTest, TenMillionUpdatesMatchFreshRecomputation) {
  const auto t0 = std::chrono::steady_clock::now();
  Sma sma(kPeriod);
  Bollinger bb(kPeriod, 2);
  RollingVwap vwap(kPeriod);
  double naive_sum = 0;
  std::vector<double> ring(kPeriod, 0);
  std::vector<double> vols(kPeriod, 0);
  Lcg rng;
  for (uint64_t i = 0; i < kUpdates; ++i) {
    double x = value_at(i, rng);
    sma.update(x);
    bb.update(x);
    Bar b;
    b.high = b.low = b.close = x;
    b.volume = 1 + static_cast<double>(i % 7);
    vwap.update(b);
    naive_sum += x - ring[i % kPeriod];
    ring[i % kPeriod] = x;
    vols[i % kPeriod] = b.volume;
  }
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

  // Fresh recomputation over the last window in long double.
  long double s = 0, pv = 0, v = 0;
  for (uint32_t j = 0; j < kPeriod; ++j) {
    s += ring[j];
    pv += static_cast<long double>(ring[j]) * vols[j];
    v += vols[j];
  }
  const long double mean = s / kPeriod;
  long double m2 = 0;
  for (double x : ring) m2 += (x - mean) * (x - mean);
  const double want_mean = static_cast<double>(mean);
  const double want_sd = static_cast<double>(std::sqrt(m2 / kPeriod));

  ASSERT_TRUE(sma.value() && bb.value() && vwap.value());
  const double sma_err = std::fabs(*sma.value() - want_mean) / want_mean;
  const double sd_err = std::fabs(bb.stdev() - want_sd) / want_sd;
  const double vwap_err = std::fabs(*vwap.value() - static_cast<double>(pv / v)) / static_cast<double>(pv / v);
  const double naive_err = std::fabs(naive_sum / kPeriod - want_mean) / want_mean;
  std::printf("  %llu updates in %.2f s; relative error: sma %.3g, stdev %.3g, vwap %.3g; plain running sum %.3g\n",
              static_cast<unsigned long long>(kUpdates), secs, sma_err, sd_err, vwap_err, naive_err);
  EXPECT_LE(sma_err, 1e-14);
  EXPECT_LE(sd_err, 1e-12);
  EXPECT_LE(vwap_err, 1e-14);
  EXPECT_NEAR(bb.value()->middle, want_mean, 1e-14 * want_mean);
  EXPECT_NEAR(bb.value()->upper, want_mean + 2 * want_sd, 1e-13 * want_mean);
  // The stream does break an uncompensated, never re-based running sum.
  EXPECT_GT(naive_err, 1e-9);

  // Then a flat window: exactly zero width after all that history.
  for (uint32_t j = 0; j < kPeriod; ++j) bb.update(1.23);
  EXPECT_EQ(bb.stdev(), 0.0);
  EXPECT_EQ(bb.value()->upper, 1.23);
  EXPECT_EQ(bb.value()->lower, 1.23);
}

}  // namespace
}  // namespace tickflow::processing::indicators
