// Subcommand entry points of the tickflow binary. Each returns the process exit code:
// 0 success, 1 runtime failure, 2 bad usage or configuration.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "app/config.h"

namespace tickflow::app {

// `tickflow run`: the whole pipeline in one process on the embedded bus and store.
int cmd_run(const AppConfig& config);

struct SimulateOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 9443;
  uint64_t seed = 1;
  std::vector<std::string> symbols = {"BTC-USDT", "ETH-USDT", "SOL-USDT"};
  double rate = 1000;
  int64_t start_ms = 0;
  int64_t max_trades = 0;
  bool start_on_connect = false;
  int64_t drop_every = 0;       // drop connections every N messages (0 = never)
  int64_t malformed_every = 0;  // send a malformed frame every N messages
  std::string log_level = "info";
};
// `tickflow simulate`: the exchange simulator as a standalone server.
int cmd_simulate(const SimulateOptions& options);

struct CandlesOptions {
  std::string exchange = "binance";
  std::string timeframes = "1m";
  std::string input = "-";
};
// `tickflow candles`: offline trades → candles CSV on stdout.
int cmd_candles(const CandlesOptions& options);

struct TailOptions {
  std::string topic;
  std::string data_dir;
  bool from_beginning = false;
  bool follow = true;
  int64_t max_records = 0;  // 0 = unlimited
};
// `tickflow tail`: prints a topic's records as JSON lines.
int cmd_tail(const TailOptions& options);

}  // namespace tickflow::app
