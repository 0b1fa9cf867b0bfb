// Indicator throughput: single indicators (SMA/EMA/RSI: target >= 100 M updates/s per core),
// the default IndicatorSet per bar, and the indicator stage's cost per candle (decode, apply,
// encode, state blob, in-memory bus commit).
//   build-*/bench/indicators_bench --benchmark_filter=. --benchmark_min_time=0.5
#include <benchmark/benchmark.h>

#include <cmath>
#include <cstdio>
#include <vector>

#include "bus/testing/in_memory_bus.h"
#include "core/codec.h"
#include "core/topics.h"
#include "processing/indicators/indicator_set.h"
#include "processing/indicators/processor.h"
#include "serving/tests/fakes.h"

namespace tickflow::processing::indicators {
namespace {

std::vector<double> closes(size_t n) {
  std::vector<double> v(n);
  double x = 40000;
  uint64_t s = 42;
  for (auto& c : v) {
    s = s * 6364136223846793005ULL + 1442695040888963407ULL;
    x += (static_cast<double>(s >> 11) / 9007199254740992.0 - 0.5) * 20;
    c = x;
  }
  return v;
}

template <class Ind>
void run_single(benchmark::State& state, Ind ind) {
  const auto v = closes(1 << 20);
  for (auto _ : state) {
    for (double x : v) ind.update(x);
    benchmark::DoNotOptimize(ind.value());
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()) * static_cast<int64_t>(v.size()));
}

void BM_Sma20(benchmark::State& state) { run_single(state, Sma(20)); }
void BM_Ema20(benchmark::State& state) { run_single(state, Ema(20)); }
void BM_Rsi14(benchmark::State& state) { run_single(state, Rsi(14)); }
BENCHMARK(BM_Sma20);
BENCHMARK(BM_Ema20);
BENCHMARK(BM_Rsi14);

void BM_IndicatorSetDefaultSpec(benchmark::State& state) {
  const auto v = closes(1 << 16);
  auto set = IndicatorSet::create(kDefaultIndicatorSpec).value();
  std::vector<Bar> bars(v.size());
  for (size_t i = 0; i < v.size(); ++i)
    bars[i] = Bar{static_cast<TimestampNs>(i) * kNsPerMin, v[i], v[i] + 3, v[i] - 3, v[i], 2.0, v[i] * 2.0};
  for (auto _ : state) {
    for (const Bar& b : bars) benchmark::DoNotOptimize(set.update(b));
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()) * static_cast<int64_t>(bars.size()));
}
BENCHMARK(BM_IndicatorSetDefaultSpec);

std::string money(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.2f", v);
  return buf;
}

// The stage end to end on the in-memory bus: `series` series × 500 final 1m candles each.
void BM_IndicatorProcessorPerCandle(benchmark::State& state) {
  const int series = static_cast<int>(state.range(0));
  const int per_series = 500;
  const auto v = closes(static_cast<size_t>(per_series));
  std::vector<std::pair<std::string, std::string>> records;
  for (int i = 0; i < per_series; ++i) {
    for (int s = 0; s < series; ++s) {
      Candle c;
      c.symbol = "S" + std::to_string(s) + "-USDT";
      c.timeframe = Timeframe::parse("1m").value();
      c.open_time = (1628899200000LL + i * 60000LL) * kNsPerMs;
      c.close_time = c.open_time + 60 * kNsPerSec - kNsPerMs;
      c.open = c.close = Decimal::parse(money(v[static_cast<size_t>(i)])).value();
      c.high = Decimal::parse(money(v[static_cast<size_t>(i)] + 3)).value();
      c.low = Decimal::parse(money(v[static_cast<size_t>(i)] - 3)).value();
      c.volume = WideDecimal::parse("2").value();
      c.quote_volume = WideDecimal::parse(money(v[static_cast<size_t>(i)] * 2)).value();
      c.status = CandleStatus::kFinal;
      records.emplace_back(instrument_key(c.exchange, c.symbol), codec::encode_candle(c));
    }
  }
  serving::testing::FakeCandleStore store;
  ManualClock clock(0);
  for (auto _ : state) {
    state.PauseTiming();
    bus::testing::InMemoryBus bus(bus::testing::InMemoryBus::InitialTopics::kDefault);
    for (const auto& [k, val] : records) (void)bus.publish(topics::kNormalizedOhlcv, k, val);
    IndicatorProcessor p(bus, store, IndicatorProcessorConfig{}, clock);
    state.ResumeTiming();
    for (;;) {
      auto r = p.run_once();
      if (!r || *r == 0) break;
    }
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()) * static_cast<int64_t>(records.size()));
}
BENCHMARK(BM_IndicatorProcessorPerCandle)->Arg(1)->Arg(20)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace tickflow::processing::indicators
