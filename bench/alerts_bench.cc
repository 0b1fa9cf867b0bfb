// AlertEngine evaluation cost per input with 100 rules (src/processing/alerts/engine.h).
//   ninja -C build alerts_bench && build/bench/alerts_bench
#include <string>
#include <vector>

#include <benchmark/benchmark.h>

#include "core/analytics.h"
#include "core/candle.h"
#include "processing/alerts/engine.h"

namespace {

using namespace tickflow;
using namespace tickflow::processing::alerts;

constexpr TimestampNs kT0 = 1628952360000LL * kNsPerMs;
const char* kSymbols[] = {"BTC-USDT", "ETH-USDT", "SOL-USDT"};

// 100 rules on 1m: 25 each of cross_above, cross_below (different levels), pct_move and volume_spike.
std::vector<AlertRule> hundred_rules(Confirm confirm) {
  std::vector<AlertRule> rs;
  for (int i = 0; i < 100; ++i) {
    AlertRule r;
    r.name = "r" + std::to_string(i);
    r.timeframe = "1m";
    r.confirm = confirm;
    r.hysteresis = 0.5;
    switch (i % 4) {
      case 0: r.kind = RuleKind::kCrossAbove; r.level = 95 + i % 10; break;
      case 1: r.kind = RuleKind::kCrossBelow; r.level = 95 + i % 10; break;
      case 2: r.kind = RuleKind::kPctMove; r.level = 1 + i % 3; r.window = (1 + i % 5) * kNsPerMin; r.hysteresis = 0.1; break;
      default: r.kind = RuleKind::kVolumeSpike; r.factor = 2 + i % 3; r.lookback = 20; r.hysteresis = 0.2; break;
    }
    rs.push_back(r);
  }
  if (auto e = validate_rules(rs)) throw std::runtime_error(e->to_string());
  return rs;
}

std::vector<Candle> candles(int bars, bool provisional) {
  std::vector<Candle> out;
  uint64_t x = 42;
  int64_t price[3] = {10000, 10000, 10000};  // 100.00, a random walk of ±0.05 % steps
  for (int i = 0; i < bars; ++i) {
    for (int sym = 0; sym < 3; ++sym) {
      for (int k = provisional ? 0 : 1; k < 2; ++k) {
        x = x * 6364136223846793005ULL + 1442695040888963407ULL;
        price[sym] += static_cast<int64_t>((x >> 33) % 11) - 5;
        Candle c;
        c.symbol = kSymbols[sym];
        c.timeframe = *Timeframe::parse("1m");
        c.open_time = kT0 + i * kNsPerMin;
        c.close = Decimal(price[sym], 2);
        c.open = c.high = c.low = c.close;
        c.volume = WideDecimal(static_cast<int128>(1 + (x >> 40) % 1000), 1);
        c.status = k == 0 ? CandleStatus::kProvisional : CandleStatus::kFinal;
        out.push_back(c);
      }
    }
  }
  return out;
}

void run(benchmark::State& state, Confirm confirm, bool provisional) {
  const auto input = candles(20000, provisional);
  AlertEngine engine(hundred_rules(confirm));
  std::vector<Alert> out;
  size_t i = 0, alerts = 0;
  for (auto _ : state) {
    engine.on_candle(input[i], out);
    alerts += out.size();
    out.clear();
    if (++i == input.size()) {
      i = 0;
      state.PauseTiming();
      engine = AlertEngine(hundred_rules(confirm));  // restart the series (bars must advance)
      state.ResumeTiming();
    }
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
  state.counters["alerts_per_candle"] = static_cast<double>(alerts) / static_cast<double>(state.iterations());
}

// Closed candles, 100 confirm=close rules in scope of every candle.
void BM_ClosedCandle100Rules(benchmark::State& state) { run(state, Confirm::kClose, false); }
// Provisional + final updates, 100 confirm=live rules.
void BM_LiveCandle100Rules(benchmark::State& state) { run(state, Confirm::kLive, true); }
// take_dirty after each closed candle (the state the processor commits).
void BM_ClosedCandle100RulesWithState(benchmark::State& state) {
  const auto input = candles(20000, false);
  AlertEngine engine(hundred_rules(Confirm::kClose));
  std::vector<Alert> out;
  size_t i = 0;
  for (auto _ : state) {
    engine.on_candle(input[i], out);
    benchmark::DoNotOptimize(engine.take_dirty());
    out.clear();
    if (++i == input.size()) {
      i = 0;
      state.PauseTiming();
      engine = AlertEngine(hundred_rules(Confirm::kClose));
      state.ResumeTiming();
    }
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}

BENCHMARK(BM_ClosedCandle100Rules);
BENCHMARK(BM_LiveCandle100Rules);
BENCHMARK(BM_ClosedCandle100RulesWithState);

}  // namespace
