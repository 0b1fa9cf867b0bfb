// run_simulator_cli: the body of `tickflow simulate` (start, report, stop on a flag).
#include <chrono>
#include <cstdio>
#include <thread>

#include "exchange/simulator/simulator.h"

namespace tickflow::exchange::simulator {

int run_simulator_cli(const SimulatorConfig& config, std::atomic<bool>& stop_flag) {
  Simulator sim(config);
  if (Status st = sim.start(); !st.is_ok()) {
    std::fprintf(stderr, "tickflow simulate: %s\n", st.message().c_str());
    return 1;
  }
  std::fprintf(stderr, "simulator: ws %s/stream?streams=<symbol>@trade/... rest %s/api/v3/... (seed %llu, rate %.0f/s)\n",
               sim.ws_url().c_str(), sim.rest_url().c_str(),
               static_cast<unsigned long long>(config.seed), config.rate);
  auto last = std::chrono::steady_clock::now();
  SimulatorStats prev = sim.stats();
  while (!stop_flag.load()) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    const auto now = std::chrono::steady_clock::now();
    if (now - last < std::chrono::seconds(5)) continue;
    const double secs = std::chrono::duration<double>(now - last).count();
    const SimulatorStats s = sim.stats();
    std::fprintf(stderr, "simulator: clients %llu, trades %llu (%.0f/s), frames sent %llu (%.0f/s)%s\n",
                 static_cast<unsigned long long>(s.clients),
                 static_cast<unsigned long long>(s.trades_generated),
                 static_cast<double>(s.trades_generated - prev.trades_generated) / secs,
                 static_cast<unsigned long long>(s.messages_sent),
                 static_cast<double>(s.messages_sent - prev.messages_sent) / secs,
                 s.market_ended ? ", market ended" : "");
    prev = s;
    last = now;
  }
  sim.stop();
  return 0;
}

}  // namespace tickflow::exchange::simulator
