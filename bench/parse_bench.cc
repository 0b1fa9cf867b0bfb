// Micro benchmark: parse one Binance trade / aggTrade frame; depthUpdate frames of a recording
// to book deltas (levels), and those deltas applied to the synchronized books (DepthSync).
#include <simdjson.h>

#include <fstream>
#include <map>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>

#include "exchange/binance/depth_sync.h"
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

// Every depthUpdate frame of testdata/exchanges/binance/binance_2021-04-05.jsonl (10 symbols,
// 4709 frames, the recording's real level counts).
const std::vector<std::string>& depth_frames() {
  static const std::vector<std::string> frames = [] {
    std::vector<std::string> out;
    std::ifstream in(std::string(TICKFLOW_SOURCE_DIR) + "/testdata/exchanges/binance/binance_2021-04-05.jsonl");
    simdjson::dom::parser parser;
    std::string line;
    while (std::getline(in, line)) {
      if (line.find("depthUpdate") == std::string::npos) continue;
      simdjson::dom::element rec = parser.parse(line);
      out.emplace_back(rec["raw"].get_string().value());
    }
    return out;
  }();
  return frames;
}

// items = book deltas (price levels) parsed.
void BM_ParseDepthUpdateRecorded(benchmark::State& state) {
  const auto& frames = depth_frames();
  FrameParser parser;
  ParsedFrame out;
  int64_t levels = 0, bytes = 0;
  for (auto _ : state) {
    for (const auto& f : frames) {
      auto st = parser.parse(f, 1, out);
      benchmark::DoNotOptimize(st);
      levels += static_cast<int64_t>(out.bids.size() + out.asks.size());
      bytes += static_cast<int64_t>(f.size());
    }
  }
  state.SetItemsProcessed(levels);
  state.SetBytesProcessed(bytes);
}
BENCHMARK(BM_ParseDepthUpdateRecorded)->Unit(benchmark::kMillisecond);

// Parse + apply to in-sync books (each symbol's book starts from an empty snapshot older than
// its first diff, so every diff applies): items = book deltas applied.
void BM_ParseAndApplyDepthRecorded(benchmark::State& state) {
  using tickflow::exchange::binance::DepthSnapshot;
  using tickflow::exchange::binance::DepthSync;
  const auto& frames = depth_frames();
  FrameParser parser;
  ParsedFrame out;
  int64_t levels = 0;
  for (auto _ : state) {
    state.PauseTiming();
    std::map<std::string, DepthSync> books;
    state.ResumeTiming();
    for (const auto& f : frames) {
      if (!parser.parse(f, 1, out).is_ok()) continue;
      DepthSync& b = books[out.book_symbol];
      if (!b.in_sync()) (void)b.on_snapshot(DepthSnapshot{out.first_update_id - 1, {}, {}});
      if (b.on_diff(out.first_update_id, out.last_update_id, out.bids, out.asks) != DepthSync::Step::kApplied) {
        (void)b.on_snapshot(DepthSnapshot{out.first_update_id - 1, {}, {}});  // the recording's gaps (none)
      }
      levels += static_cast<int64_t>(out.bids.size() + out.asks.size());
    }
  }
  state.SetItemsProcessed(levels);
}
BENCHMARK(BM_ParseAndApplyDepthRecorded)->Unit(benchmark::kMillisecond);

}  // namespace
