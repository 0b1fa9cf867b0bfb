// Offline candles: raw exchange messages in, one CSV row per candle out (`tickflow candles`).
//
// Input lines are raw frames (one WebSocket text frame per line) or the recording format of
// testdata/exchanges/ ({"exchange","recv_ts_ns","direction","url","raw"}; only direction "in"
// is used, its "raw" string is unescaped and parsed). For each symbol the first trade stream
// seen (@trade or @aggTrade) feeds the candles; trades of the other stream are counted and
// ignored. Malformed lines are counted and reported (with a sample) on the diagnostics stream,
// never fatal. It runs the same parser and CandleEngine as the pipeline (provisional updates
// off), then flush(): each candle is written once, in its last state, sorted by exchange,
// symbol, timeframe duration and open time. Numbers are exact; quote volume drops trailing
// zeros beyond 8 decimals.
// Thread-safety: a pure function of its inputs.
#pragma once

#include <cstdint>
#include <iosfwd>
#include <vector>

#include "core/result.h"
#include "core/symbol.h"
#include "core/timeframe.h"

namespace tickflow::processing {

struct CsvRunOptions {
  Exchange exchange = Exchange::kBinance;
  std::vector<Timeframe> timeframes = {Timeframe::from_duration(kNsPerMin)};
  // Where malformed-line samples and the summary go; nullptr = std::cerr.
  std::ostream* diagnostics = nullptr;
  // Malformed lines reported individually before only counting.
  int max_samples = 5;
};

struct CsvRunStats {
  uint64_t lines = 0;           // non-empty input lines
  uint64_t trades = 0;          // trade messages fed to the candle engine
  uint64_t candles = 0;         // CSV rows written
  uint64_t rejected = 0;        // malformed or unknown lines
  uint64_t other_messages = 0;  // well-formed non-trade messages (depth, bookTicker, kline, ...)
  uint64_t other_stream = 0;    // trades of a symbol's second trade stream (ignored)
  uint64_t duplicates = 0;
  uint64_t too_late = 0;
};

// The CSV header row (without newline).
extern const char kCandleCsvHeader[];

Result<CsvRunStats> run_candles_csv(std::istream& in, std::ostream& out, const CsvRunOptions& options);

}  // namespace tickflow::processing
