// `tickflow candles`: offline trades → candles CSV (the same parse and candle code as the
// pipeline; also the benchmark of the hot path).
#include <cstdio>
#include <fstream>
#include <iostream>

#include "app/commands.h"
#include "core/symbol.h"
#include "processing/candles/csv_run.h"

namespace tickflow::app {

int cmd_candles(const CandlesOptions& o) {
  auto ex = parse_exchange(o.exchange);
  if (!ex || *ex != Exchange::kBinance) {
    std::fprintf(stderr, "tickflow candles: --exchange: '%s' is not supported offline yet (binance)\n",
                 o.exchange.c_str());
    return 2;
  }
  auto tfs = Timeframe::parse_list(o.timeframes);
  if (!tfs) {
    std::fprintf(stderr, "tickflow candles: --timeframe: %s\n", tfs.status().message().c_str());
    return 2;
  }
  processing::CsvRunOptions opts;
  opts.exchange = *ex;
  opts.timeframes = *tfs;
  std::ios::sync_with_stdio(false);
  std::ifstream file;
  std::istream* in = &std::cin;
  if (o.input != "-") {
    file.open(o.input, std::ios::binary);
    if (!file) {
      std::fprintf(stderr, "tickflow candles: --input: cannot open '%s'\n", o.input.c_str());
      return 2;
    }
    in = &file;
  }
  auto r = processing::run_candles_csv(*in, std::cout, opts);
  std::cout.flush();
  if (!r) {
    std::fprintf(stderr, "tickflow candles: %s\n", r.status().message().c_str());
    return 1;
  }
  return 0;
}

}  // namespace tickflow::app
