// candles_offline FILE [TIMEFRAMES]: times run_candles_csv (the `tickflow candles` path) over a
// file, CSV to /dev/null. Prints lines, trades, candles, seconds and messages/s to stdout.
// Peak RSS: /usr/bin/time -v ./candles_offline FILE.
#include <chrono>
#include <ctime>
#include <cstdio>
#include <fstream>
#include <iostream>

#include "processing/candles/csv_run.h"

int main(int argc, char** argv) {
  using namespace tickflow;
  if (argc < 2) {
    std::cerr << "usage: candles_offline FILE [TIMEFRAMES (default 1m,5m,15m,1h,4h,1d)]\n";
    return 2;
  }
  processing::CsvRunOptions options;
  auto tfs = Timeframe::parse_list(argc > 2 ? argv[2] : "1m,5m,15m,1h,4h,1d");
  if (!tfs) {
    std::cerr << tfs.status().to_string() << "\n";
    return 2;
  }
  options.timeframes = *tfs;
  std::ifstream in(argv[1], std::ios::binary);
  if (!in) {
    std::cerr << "cannot open " << argv[1] << "\n";
    return 1;
  }
  std::ofstream out("/dev/null");
  auto start = std::chrono::steady_clock::now();
  const std::clock_t cpu_start = std::clock();
  auto stats = processing::run_candles_csv(in, out, options);
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  double cpu = static_cast<double>(std::clock() - cpu_start) / CLOCKS_PER_SEC;
  if (!stats) {
    std::cerr << stats.status().to_string() << "\n";
    return 1;
  }
  std::printf("lines=%llu trades=%llu candles=%llu rejected=%llu duplicates=%llu too_late=%llu seconds=%.3f msgs_per_s=%.0f cpu_seconds=%.3f msgs_per_cpu_s=%.0f\n",
              static_cast<unsigned long long>(stats->lines), static_cast<unsigned long long>(stats->trades),
              static_cast<unsigned long long>(stats->candles), static_cast<unsigned long long>(stats->rejected),
              static_cast<unsigned long long>(stats->duplicates), static_cast<unsigned long long>(stats->too_late),
              secs, static_cast<double>(stats->lines) / secs, cpu, static_cast<double>(stats->lines) / cpu);
  return 0;
}
