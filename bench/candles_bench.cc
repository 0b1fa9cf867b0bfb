// Micro benchmarks: apply one trade to six timeframes; the offline CSV path end to end over an
// in-memory feed of generator-shaped frames.
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>

#include "processing/candles/aggregator.h"
#include "processing/candles/csv_run.h"

namespace {

using namespace tickflow;
using namespace tickflow::processing;

constexpr TimestampNs kStart = 1705276807321LL * kNsPerMs;
const char* const kSymbols[] = {"BTCUSDT", "ETHUSDT", "SOLUSDT", "BNBUSDT", "XRPUSDT"};

std::vector<Trade> make_trades(size_t n) {
  std::mt19937_64 rng(1);
  std::vector<Trade> trades(n);
  int64_t ids[5] = {1000, 2000, 3000, 4000, 5000};
  TimestampNs ts = kStart;
  for (size_t i = 0; i < n; ++i) {
    size_t s = rng() % 5;
    Trade& t = trades[i];
    t.exchange_symbol = kSymbols[s];
    t.symbol = unify_binance_symbol(t.exchange_symbol);
    t.trade_id = t.first_trade_id = t.last_trade_id = ids[s]++;
    t.price = Decimal(static_cast<int64_t>(4300000000000 + rng() % 100000000), 8);
    t.quantity = Decimal(static_cast<int64_t>(1 + rng() % 10000000), 8);
    t.taker_side = rng() % 2 ? Side::kBuy : Side::kSell;
    ts += static_cast<TimestampNs>(rng() % 20) * kNsPerMs;
    t.ts_event = ts;
    t.ts_recv = ts;
  }
  return trades;
}

void BM_ApplyTradeSixTimeframes(benchmark::State& state) {
  const std::vector<Trade> trades = make_trades(1 << 20);
  CandleConfig config;  // 1m 5m 15m 1h 4h 1d
  config.provisional_interval = static_cast<DurationNs>(state.range(0)) * kNsPerMs;
  CandleEngine engine(config);
  std::vector<CandleUpdate> out;
  size_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(engine.on_trade(trades[i], trades[i].ts_recv, out));
    if (++i == trades.size()) {
      state.PauseTiming();
      engine = CandleEngine(config);
      i = 0;
      state.ResumeTiming();
    }
    if (out.size() > 4096) out.clear();
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ApplyTradeSixTimeframes)->Arg(0)->Arg(250);

std::string make_feed(size_t n) {
  std::string feed;
  for (const Trade& t : make_trades(n)) {
    std::string stream = t.exchange_symbol;
    for (char& c : stream) c = static_cast<char>(std::tolower(c));
    feed += "{\"stream\":\"" + stream + "@trade\",\"data\":{\"e\":\"trade\",\"E\":" +
            std::to_string(t.ts_event / kNsPerMs + 1) + ",\"s\":\"" + t.exchange_symbol + "\",\"t\":" +
            std::to_string(t.trade_id) + ",\"p\":\"" + t.price.to_string() + "\",\"q\":\"" + t.quantity.to_string() +
            "\",\"T\":" + std::to_string(t.ts_event / kNsPerMs) + ",\"m\":" +
            (t.taker_side == Side::kSell ? "true" : "false") + ",\"M\":true}}\n";
  }
  return feed;
}

void BM_OfflineCsvRun(benchmark::State& state) {
  const std::string feed = make_feed(200000);
  CsvRunOptions options;
  options.timeframes = default_timeframes();
  for (auto _ : state) {
    std::istringstream in(feed);
    std::ostringstream out;
    auto stats = run_candles_csv(in, out, options);
    benchmark::DoNotOptimize(stats);
  }
  state.SetItemsProcessed(state.iterations() * 200000);
}
BENCHMARK(BM_OfflineCsvRun)->Unit(benchmark::kMillisecond);

}  // namespace
