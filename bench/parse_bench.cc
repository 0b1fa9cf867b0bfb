// Micro benchmark: parse one Binance trade / aggTrade frame.
#include <string>

#include <benchmark/benchmark.h>

#include "exchange/binance/parse.h"

namespace {

using tickflow::exchange::binance::FrameParser;
using tickflow::exchange::binance::ParsedFrame;

const std::string kTrade =
    R"({"stream":"btcusdt@trade","data":{"e":"trade","E":1705276807330,"s":"BTCUSDT","t":3370000000,"p":"43000.10000000","q":"0.00100000","T":1705276807329,"m":true,"M":true}})";
const std::string kAggTrade =
    R"({"stream":"ftmusdt@aggTrade","data":{"e":"aggTrade","E":1628952396573,"s":"FTMUSDT","a":31718372,"p":"0.33993000","q":"99.90000000","f":38248910,"l":38248910,"T":1628952396572,"m":true,"M":true}})";

void run(benchmark::State& state, const std::string& frame, bool fast) {
  FrameParser parser;
  parser.set_fast_path(fast);
  ParsedFrame out;
  for (auto _ : state) {
    auto st = parser.parse(frame, 1, out);
    benchmark::DoNotOptimize(st);
    benchmark::DoNotOptimize(out.trade.price);
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * frame.size()));
}

void BM_ParseTrade(benchmark::State& state) { run(state, kTrade, true); }
void BM_ParseTradeSimdjson(benchmark::State& state) { run(state, kTrade, false); }
void BM_ParseAggTrade(benchmark::State& state) { run(state, kAggTrade, true); }
void BM_ParseAggTradeSimdjson(benchmark::State& state) { run(state, kAggTrade, false); }

BENCHMARK(BM_ParseTrade);
BENCHMARK(BM_ParseTradeSimdjson);
BENCHMARK(BM_ParseAggTrade);
BENCHMARK(BM_ParseAggTradeSimdjson);

}  // namespace
