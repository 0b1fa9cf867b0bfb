// Shared fixture pieces: start a seeded simulator and a `tickflow run` pointed at it.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "tests/integration/harness.h"

namespace tickflow::testing {

struct SimulatorProcess {
  std::unique_ptr<Subprocess> proc;
  int port = -1;
};

// `tickflow simulate --port 0 --seed S --symbols ... --rate R --start-ms T --max-trades N --start-on-connect`
inline SimulatorProcess start_simulator(const std::string& dir, uint64_t seed, const std::string& symbols,
                                        int rate, int64_t max_trades, const std::string& name = "simulator") {
  SimulatorProcess s;
  s.proc = std::make_unique<Subprocess>(
      std::vector<std::string>{tickflow_binary(), "simulate", "--port", "0", "--seed", std::to_string(seed),
                               "--symbols", symbols, "--rate", std::to_string(rate), "--start-ms",
                               "1700000000000", "--max-trades", std::to_string(max_trades),
                               "--start-on-connect", "--log-level", "warn"},
      dir + "/" + name + ".log");
  auto line = s.proc->wait_for_line("simulator listening on", std::chrono::seconds(30));
  if (line) s.port = port_from_line(*line);
  return s;
}

struct RunProcess {
  std::unique_ptr<Subprocess> proc;
  int port = -1;
};

inline RunProcess start_run(const std::string& dir, const std::string& data_dir, int sim_port,
                            const std::string& symbols, const std::string& timeframes, int attempt = 0) {
  RunProcess r;
  std::string sim = "127.0.0.1:" + std::to_string(sim_port);
  r.proc = std::make_unique<Subprocess>(
      std::vector<std::string>{tickflow_binary(), "run", "--port", "0", "--data-dir", data_dir, "--ws-url",
                               "ws://" + sim, "--rest-url", "http://" + sim, "--symbols", symbols,
                               "--timeframes", timeframes, "--log-level", "info"},
      dir + "/run_" + std::to_string(attempt) + ".log");
  auto line = r.proc->wait_for_line("api listening on", std::chrono::seconds(30));
  if (line) r.port = port_from_line(*line);
  return r;
}

// Sum of trades over the series' candles (-1 if the API did not answer).
inline int64_t total_trades(int api_port, const std::string& symbol, const std::string& tf) {
  auto c = get_candles(api_port, "binance", symbol, tf);
  if (!c) return -1;
  int64_t n = 0;
  for (const auto& x : *c) n += x.trades;
  return n;
}

}  // namespace tickflow::testing
