// `tickflow simulate`: the Binance-protocol exchange simulator as a standalone server.
#include <algorithm>
#include <cinttypes>
#include <cstdio>

#include "app/commands.h"
#include "app/signals.h"
#include "core/symbol.h"
#include "exchange/simulator/simulator.h"
#include "observability/log.h"

namespace tickflow::app {

int cmd_simulate(const SimulateOptions& o) {
  obs::init_logging(o.log_level);
  block_termination_signals();
  exchange::simulator::SimulatorConfig sc;
  sc.host = o.host;
  sc.port = o.port;
  sc.seed = o.seed;
  sc.rate = o.rate;
  sc.start_ms = o.start_ms;
  sc.max_trades = o.max_trades;
  sc.start_on_connect = o.start_on_connect;
  sc.faults.drop_every = o.drop_every;
  sc.faults.malformed_every = o.malformed_every;
  sc.faults.duplicate_every = static_cast<uint64_t>(std::max<int64_t>(0, o.duplicate_every));
  sc.faults.outlier_every = static_cast<uint64_t>(std::max<int64_t>(0, o.outlier_every));
  sc.faults.outlier_pct = o.outlier_pct;
  sc.symbols.clear();
  for (const auto& s : o.symbols) sc.symbols.push_back(binance_symbol_from_unified(s));
  exchange::simulator::Simulator sim(sc);
  if (Status st = sim.start(); !st) {
    std::fprintf(stderr, "tickflow simulate: %s\n", st.message().c_str());
    return 1;
  }
  std::printf("simulator listening on %s (REST %s), seed %" PRIu64 ", %.0f msgs/s\n", sim.ws_url().c_str(),
              sim.rest_url().c_str(), o.seed, o.rate);
  std::fflush(stdout);
  while (!wait_for_signal(kNsPerSec)) {
  }
  sim.stop();
  return 0;
}

}  // namespace tickflow::app
