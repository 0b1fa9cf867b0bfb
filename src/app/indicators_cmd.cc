// `tickflow indicators`: offline indicators over a candle CSV (run_indicators_csv — the same
// IndicatorSet code as the pipeline's indicator stage).
#include <cstdio>
#include <fstream>
#include <iostream>

#include "app/commands.h"
#include "processing/indicators/csv_run.h"
#include "processing/indicators/indicator_set.h"

namespace tickflow::app {

int cmd_indicators(const IndicatorsOptions& o) {
  if (auto set = processing::indicators::IndicatorSet::create(o.indicators); !set) {
    std::fprintf(stderr, "tickflow indicators: --indicators: %s\n", set.status().message().c_str());
    return 2;
  }
  std::ios::sync_with_stdio(false);
  std::ifstream in_file;
  std::istream* in = &std::cin;
  if (o.input != "-") {
    in_file.open(o.input, std::ios::binary);
    if (!in_file) {
      std::fprintf(stderr, "tickflow indicators: --input: cannot open '%s'\n", o.input.c_str());
      return 2;
    }
    in = &in_file;
  }
  std::ofstream out_file;
  std::ostream* out = &std::cout;
  if (o.output != "-") {
    out_file.open(o.output, std::ios::binary | std::ios::trunc);
    if (!out_file) {
      std::fprintf(stderr, "tickflow indicators: --output: cannot create '%s'\n", o.output.c_str());
      return 2;
    }
    out = &out_file;
  }
  auto r = processing::indicators::run_indicators_csv(*in, *out, o.indicators);
  out->flush();
  if (!r) {
    std::fprintf(stderr, "tickflow indicators: %s\n", r.status().message().c_str());
    return r.status().code() == ErrorCode::kInvalidArgument ? 2 : 1;
  }
  if (!*out) {
    std::fprintf(stderr, "tickflow indicators: writing the output failed\n");
    return 1;
  }
  return 0;
}

}  // namespace tickflow::app
