// `tickflow run`: every stage in one process over the embedded bus and store.
//
// Start order (consumers before producers): bus, store, historical loader, candle processor,
// realtime gateway, HTTP server, [simulator], collector. Stop order is the reverse, with a
// drain in the middle: once the collector stopped, the processor and the loader are given
// time to consume what was collected, so Ctrl-C loses nothing (and a kill -9 loses nothing
// either: every stage commits outputs and positions atomically and resumes on restart).
#include <signal.h>

#include <algorithm>
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <thread>

#include <spdlog/spdlog.h>

#include "app/commands.h"
#include "app/signals.h"
#include "bus/factory.h"
#include "core/clock.h"
#include "core/symbol.h"
#include "exchange/binance/collector.h"
#include "exchange/simulator/simulator.h"
#include "observability/log.h"
#include "processing/candles/processor.h"
#include "serving/api.h"
#include "serving/gateway.h"
#include "serving/server.h"
#include "storage/factory.h"
#include "storage/loader.h"

namespace tickflow::app {
namespace {

// Waits for `pred` with a deadline while the process keeps running (used for draining).
template <typename Pred>
bool drain_until(Pred pred, std::chrono::seconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!pred()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    if (wait_for_signal(20 * kNsPerMs)) return false;  // a second Ctrl-C stops draining
  }
  return true;
}

}  // namespace

int cmd_run(const AppConfig& c) {
  obs::init_logging(c.log_level);
  block_termination_signals();  // before any thread starts, so only the main thread sees them
  const Clock& clock = SystemClock::instance();

  bus::BusConfig bc;
  bc.backend = c.bus_backend;
  bc.data_dir = c.data_dir;
  bc.sync = c.bus_sync;
  auto bus = bus::make_event_bus(bc);
  if (!bus) {
    std::fprintf(stderr, "tickflow: cannot open the event log: %s\n", bus.status().message().c_str());
    return 1;
  }
  storage::StoreConfig sc;
  sc.backend = c.store_backend;
  sc.data_dir = c.data_dir;
  auto store = storage::make_candle_store(sc);
  if (!store) {
    std::fprintf(stderr, "tickflow: cannot open the candle store: %s\n", store.status().message().c_str());
    return 1;
  }

  storage::HistoricalLoader loader(**bus, **store);
  processing::ProcessorConfig pc;
  pc.candles.timeframes = c.candles.timeframes;
  pc.candles.grace = c.candles.grace;
  pc.candles.correction_horizon = c.candles.correction_horizon;
  pc.candles.provisional_interval = c.candles.provisional_interval;
  pc.candles.emit_empty = c.candles.emit_empty;
  processing::CandleProcessor processor(**bus, pc, clock);
  serving::RealtimeGateway gateway(**bus);

  std::unique_ptr<exchange::simulator::Simulator> simulator;
  std::unique_ptr<exchange::binance::Collector> collector;
  std::unique_ptr<serving::HttpServer> server, metrics_server;

  auto health = [&]() {
    std::vector<ComponentHealth> h;
    if (collector) h.push_back(collector->health());
    h.push_back(processor.health());
    h.push_back(loader.health());
    return h;
  };
  // Series this run builds: known to the API before their first candle is stored.
  std::vector<std::string> configured_symbols = c.demo.enabled ? c.demo.symbols : c.binance.symbols;
  serving::ApiOptions api_options;
  api_options.is_configured = [&](Exchange e, const std::string& symbol, const Timeframe& tf) {
    if (e != Exchange::kBinance) return false;
    bool sym = std::find(configured_symbols.begin(), configured_symbols.end(), symbol) != configured_symbols.end();
    bool frame = std::find(c.candles.timeframes.begin(), c.candles.timeframes.end(), tf) != c.candles.timeframes.end();
    return sym && frame;
  };
  serving::ApiHandler api(**store, health, api_options);

  auto fail = [&](const char* what, const Status& st) {
    std::fprintf(stderr, "tickflow: %s: %s\n", what, st.message().c_str());
    return 1;
  };

  if (Status st = loader.start(); !st) return fail("historical loader", st);
  if (Status st = processor.start(); !st) return fail("candle processor", st);
  if (Status st = gateway.start(); !st) return fail("realtime gateway", st);

  serving::ServerConfig srv;
  srv.host = c.api.host;
  srv.port = c.api.port;
  server = std::make_unique<serving::HttpServer>(srv, api, gateway);
  if (Status st = server->start(); !st) return fail("api", st);
  if (c.api.metrics_port != 0 && c.api.metrics_port != server->port()) {
    serving::ServerConfig ms = srv;
    ms.port = c.api.metrics_port;
    metrics_server = std::make_unique<serving::HttpServer>(ms, api, gateway);
    if (Status st = metrics_server->start(); !st) return fail("metrics listener", st);
  }
  std::printf("api listening on http://%s:%u\n", c.api.host.c_str(), server->port());
  std::fflush(stdout);

  exchange::binance::CollectorConfig cc;
  cc.ws_url = c.binance.ws_url;
  cc.rest_url = c.binance.rest_url;
  cc.symbols = c.binance.symbols;
  cc.trade_stream = c.binance.trade_stream;
  if (c.demo.enabled) {
    exchange::simulator::SimulatorConfig sim;
    sim.seed = c.demo.seed;
    sim.rate = c.demo.rate;
    // A restarted demo gets a new simulator: offset its ids by the wall clock (1,000 ids per
    // millisecond since 2023-11-14) so they keep increasing across restarts and the resumed
    // pipeline takes the new trades as new, not as duplicates of the previous run's.
    sim.id_offset = (clock.now_ns() / kNsPerMs - 1'700'000'000'000LL) * 1000;
    sim.symbols.clear();
    for (const auto& s : c.demo.symbols) sim.symbols.push_back(binance_symbol_from_unified(s));
    simulator = std::make_unique<exchange::simulator::Simulator>(sim);
    if (Status st = simulator->start(); !st) return fail("simulator", st);
    cc.ws_url = simulator->ws_url();
    cc.rest_url = simulator->rest_url();
    cc.symbols = c.demo.symbols;
    std::printf("demo: simulator on %s (seed %" PRIu64 ", %.0f msgs/s, %zu symbols)\n", cc.ws_url.c_str(),
                c.demo.seed, c.demo.rate, sim.symbols.size());
  }
  if (c.binance.enabled || c.demo.enabled) {
    collector = std::make_unique<exchange::binance::Collector>(cc, **bus, clock);
    if (Status st = collector->start(); !st) return fail("collector", st);
  }
  std::printf("tickflow running: %zu symbols, timeframes", cc.symbols.size());
  for (const auto& tf : c.candles.timeframes) std::printf(" %s", tf.label().c_str());
  std::printf(", data in %s. Ctrl-C to stop.\n", c.data_dir.c_str());
  std::fflush(stdout);

  // Main thread: status line, retention, signals.
  TimestampNs last_status = clock.now_ns();
  TimestampNs last_retention = 0;
  uint64_t last_trades = 0;
  while (!wait_for_signal(100 * kNsPerMs)) {
    TimestampNs now = clock.now_ns();
    if (now - last_retention >= kNsPerMin) {
      last_retention = now;
      if (auto r = (*bus)->enforce_retention(now); !r) spdlog::warn("bus retention: {}", r.status().message());
      if (auto r = (*store)->enforce_retention(now); !r) spdlog::warn("store retention: {}", r.status().message());
    }
    if (now - last_status >= c.status_interval) {
      double secs = static_cast<double>(now - last_status) / kNsPerSec;
      last_status = now;
      auto ps = processor.stats();
      uint64_t published = collector ? collector->stats().trades_published : 0;
      std::printf("status: collected %" PRIu64 " trades (%.0f/s), processed %" PRIu64 ", candle updates %" PRIu64
                  ", duplicates %" PRIu64 ", late→dlq %" PRIu64 ", ws clients %zu, feed %s\n",
                  published, static_cast<double>(published - last_trades) / secs, ps.trades, ps.updates,
                  ps.duplicates, ps.too_late, gateway.subscriber_count(),
                  collector ? std::string(health_state_name(collector->health().state)).c_str() : "off");
      std::fflush(stdout);
      last_trades = published;
    }
  }

  std::printf("stopping: draining the pipeline (Ctrl-C again to skip)\n");
  std::fflush(stdout);
  if (collector) collector->stop();
  if (simulator) simulator->stop();
  drain_until([&] { return processor.caught_up(); }, std::chrono::seconds(10));
  drain_until([&] { return loader.caught_up(); }, std::chrono::seconds(10));
  if (metrics_server) metrics_server->stop();
  server->stop();
  gateway.stop();
  processor.stop();
  loader.stop();
  std::printf("stopped.\n");
  return 0;
}

}  // namespace tickflow::app
