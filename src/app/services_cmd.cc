// The distributed services (architecture brief §1, §9; issue 5): each stage of `tickflow run` as
// its own process over a shared bus (bus.backend = "kafka"), built by the same code as the
// monolith (app/services.h):
//
//   tickflow collector   Binance collector → raw.market-data                  health/metrics :8000
//   tickflow processor   candle stage (+ indicator and alert stages on        health/metrics :8001
//                        instance 0) over the partitions it owns (static
//                        split, or a consumer group with --group)
//   tickflow realtime    RealtimeGateway + WebSocket server                   WS, health/metrics :8002
//   tickflow historical  loaders into the store (historical_cmd.cc)           REST, health/metrics :8003
//   tickflow api         REST over the store                                  :8080 (api.port)
//
// Port: --port, else PROMETHEUS_PORT / api.metrics_port, else the default above (0 = any free
// port; the chosen one is printed at the end of the "listening on" line). /health has a "bus"
// component (BusProbe: broker connectivity). Every process needs its OWN data_dir: the Kafka bus
// keeps the process's consumer positions and stage state in <data_dir>/bus-kafka (RocksDB, held
// by one process).
// Stop: SIGINT/SIGTERM stop the producer first and drain what was consumed (bounded); kill -9 is
// safe (positions and state are committed after the outputs are acknowledged; sinks dedupe).
#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <functional>

#include <spdlog/spdlog.h>

#include "app/commands.h"
#include "app/services.h"
#include "app/signals.h"
#include "core/clock.h"
#include "observability/log.h"
#include "processing/alerts/processor.h"
#include "processing/indicators/indicator_set.h"
#include "serving/api.h"
#include "serving/gateway.h"
#include "serving/indicators_routes.h"
#include "serving/latest_route.h"
#include "serving/quality_routes.h"
#include "serving/book_routes.h"
#include "serving/server.h"
#include "serving/trades_routes.h"
#include "storage/book_loader.h"
#include "storage/factory.h"
#include "storage/loader.h"

namespace tickflow::app {
namespace {

constexpr int32_t kDefaultStreamThreads = 4;  // tickflow processor --threads (the specification's default)

// The store of a service that keeps no history (collector, processor, realtime without a shared
// database): reads find nothing, writes are refused.
class NoHistoryStore final : public storage::CandleStore {
 public:
  Status write(const std::vector<Candle>&, const std::vector<storage::ConsumerPosition>&) override {
    return refused();
  }
  Result<int64_t> position(const std::string&, const std::string&, int32_t) const override { return int64_t{0}; }
  Result<std::vector<Candle>> query(const storage::CandleQuery&) const override { return std::vector<Candle>{}; }
  Status write_indicators(const std::vector<IndicatorRecord>&,
                          const std::vector<storage::ConsumerPosition>&) override {
    return refused();
  }
  Result<std::vector<IndicatorRecord>> query_indicators(const storage::IndicatorQuery&) const override {
    return std::vector<IndicatorRecord>{};
  }
  Result<bool> has_series(Exchange, const std::string&, const Timeframe&) const override { return false; }
  Result<std::vector<storage::SeriesInfo>> list_series() const override {
    return std::vector<storage::SeriesInfo>{};
  }
  Result<int64_t> enforce_retention(TimestampNs) override { return int64_t{0}; }

 private:
  static Status refused() { return Status::invalid_argument("this service keeps no history"); }
};

uint16_t service_port(const AppConfig& c, int64_t flag_port, uint16_t default_port) {
  if (flag_port >= 0) return static_cast<uint16_t>(flag_port);
  if (c.api.metrics_port != 0) return c.api.metrics_port;
  return default_port;
}

std::unique_ptr<bus::EventBus> open_bus(const AppConfig& c) {
  auto bus = bus::make_event_bus(bus_config(c));
  if (!bus) {
    std::fprintf(stderr, "tickflow: cannot open the event log: %s\n", bus.status().message().c_str());
    return nullptr;
  }
  return std::move(bus).value();
}

int fail(const char* what, const Status& st) {
  std::fprintf(stderr, "tickflow: %s: %s\n", what, st.message().c_str());
  return 1;
}

// Series a service knows before their first candle (the configured symbols × timeframes).
serving::SeriesPredicate configured_series(const AppConfig& c) {
  std::vector<std::string> symbols = c.demo.enabled ? c.demo.symbols : c.binance.symbols;
  std::vector<Timeframe> frames = c.candles.timeframes;
  return [symbols, frames](Exchange e, const std::string& symbol, const Timeframe& tf) {
    return e == Exchange::kBinance && std::find(symbols.begin(), symbols.end(), symbol) != symbols.end() &&
           std::find(frames.begin(), frames.end(), tf) != frames.end();
  };
}

// Runs the health/metrics (or API) listener until SIGINT/SIGTERM, printing `status()` every
// status_interval. The caller starts its stages before and stops them after.
int serve(const char* name, const AppConfig& c, uint16_t port, serving::ApiHandler& api,
          serving::RealtimeGateway& gateway, const std::function<std::string()>& status,
          const std::string& what) {
  serving::ServerConfig srv;
  srv.host = c.api.host;
  srv.port = port;
  serving::HttpServer server(srv, api, gateway);
  if (Status st = server.start(); !st) return fail("listener", st);
  std::printf("%s: %s; listening on http://%s:%u\n", name, what.c_str(), c.api.host.c_str(), server.port());
  std::fflush(stdout);
  const Clock& clock = SystemClock::instance();
  TimestampNs last_status = clock.now_ns();
  while (!wait_for_signal(100 * kNsPerMs)) {
    const TimestampNs now = clock.now_ns();
    if (now - last_status >= c.status_interval) {
      last_status = now;
      std::printf("status: %s\n", status().c_str());
      std::fflush(stdout);
    }
  }
  std::printf("stopping\n");
  std::fflush(stdout);
  server.stop();
  return 0;
}

template <typename Pred>
void drain(Pred pred, DurationNs timeout) {
  const Clock& clock = SystemClock::instance();
  const TimestampNs deadline = clock.now_ns() + timeout;
  while (!pred() && clock.now_ns() < deadline) {
    if (wait_for_signal(20 * kNsPerMs)) return;  // a second signal stops draining
  }
}

}  // namespace

int cmd_collector(const AppConfig& c, const ServiceOptions& o) {
  obs::init_logging(c.log_level);
  block_termination_signals();
  if (!o.exchange.empty() && o.exchange != "binance") {
    std::fprintf(stderr, "tickflow collector: --exchange: unknown exchange '%s' (this build has: binance)\n",
                 o.exchange.c_str());
    return 2;
  }
  auto bus = open_bus(c);
  if (!bus) return 1;
  BusProbe probe(*bus, c.bus_backend);
  exchange::binance::Collector collector(collector_config(c), *bus, SystemClock::instance());
  NoHistoryStore no_history;
  serving::ApiHandler api(no_history, [&] { return std::vector<ComponentHealth>{probe.health(), collector.health()}; });
  serving::RealtimeGateway unused_gateway(*bus);
  probe.start();
  if (Status st = collector.start(); !st) return fail("collector", st);
  int rc = serve("collector", c, service_port(c, o.port, 8000), api, unused_gateway,
                 [&] {
                   auto s = collector.stats();
                   return "published " + std::to_string(s.trades_published) + " trades, feed " +
                          std::string(health_state_name(collector.health().state)) + ", bus " +
                          std::string(health_state_name(probe.health().state));
                 },
                 "binance " + std::to_string(c.binance.symbols.size()) + " symbols → " + c.bus_backend + " bus");
  arm_stop_watchdog("collector", 15 * kNsPerSec);
  collector.stop();
  probe.stop();
  std::printf("stopped.\n");
  return rc;
}

int cmd_processor(const AppConfig& c, const ServiceOptions& o) {
  obs::init_logging(c.log_level);
  block_termination_signals();
  const Clock& clock = SystemClock::instance();
  if (o.instances < 1 || o.instance < 0 || o.instance >= o.instances) {
    std::fprintf(stderr, "tickflow processor: --instance must be 0..%d with --instances %d\n", o.instances - 1,
                 o.instances);
    return 2;
  }
  if (o.group && c.bus_backend != "kafka") {
    std::fprintf(stderr, "tickflow processor: --group needs bus.backend = \"kafka\"\n");
    return 2;
  }
  if (o.session_timeout_ms < 1000) {
    std::fprintf(stderr, "tickflow processor: --session-timeout-ms must be >= 1000\n");
    return 2;
  }
  // Stream threads: thread t of this instance's T runs the candle stage over the partitions
  // p % (instances * T) == instance + instances * t — the instance's partitions, split T ways —
  // on the one bus and data dir (state and positions stay per partition, so T may change between
  // runs). A group member is one consumer: --group scales with processes.
  if (o.group && o.threads > 1) {
    std::fprintf(stderr, "tickflow processor: --threads must be 1 with --group (one member per process; start more "
                         "processes to scale the group)\n");
    return 2;
  }
  const int32_t threads = o.group ? 1 : (o.threads > 0 ? o.threads : kDefaultStreamThreads);
  auto bus = open_bus(c);
  if (!bus) return 1;
  BusProbe probe(*bus, c.bus_backend);
  std::vector<std::unique_ptr<processing::CandleProcessor>> stages;
  for (int32_t t = 0; t < threads; ++t) {
    processing::ProcessorConfig pc = processor_config(c);
    pc.instance = o.instance + o.instances * t;
    pc.instances = o.instances * threads;
    pc.group_membership = o.group;
    pc.session_timeout = o.session_timeout_ms * kNsPerMs;
    stages.push_back(std::make_unique<processing::CandleProcessor>(*bus, pc, clock));
  }
  const std::string group = processor_config(c).group;
  // The indicator and alert stages read every partition of their inputs: one processor runs them
  // (instance 0 of a static split; with --group every member unless --analytics off).
  const bool analytics = o.analytics == "on" || (o.analytics == "auto" && (o.group || o.instance == 0));
  std::unique_ptr<storage::CandleStore> store;  // indicator warm-up history
  std::unique_ptr<processing::indicators::IndicatorProcessor> indicators;
  if (analytics && c.indicators.enabled) {
    auto opened = storage::make_candle_store(store_config(c));
    if (!opened) return fail("cannot open the candle store (indicator warm-up)", opened.status());
    store = std::move(opened).value();
    indicators = std::make_unique<processing::indicators::IndicatorProcessor>(*bus, *store, indicator_config(c), clock);
  }
  std::unique_ptr<processing::alerts::AlertProcessor> alerts;
  if (analytics && c.alerts.enabled && !c.alerts.rules.empty()) {
    processing::alerts::AlertProcessorConfig ac;
    ac.rules = c.alerts.rules;
    ac.quality_interval = c.alerts.quality_interval;
    alerts = std::make_unique<processing::alerts::AlertProcessor>(*bus, ac, clock);
  }
  NoHistoryStore no_history;
  serving::ApiHandler api(no_history, [&] {
    std::vector<ComponentHealth> h{probe.health()};
    for (size_t t = 0; t < stages.size(); ++t) {
      h.push_back(stages[t]->health());
      if (stages.size() > 1) h.back().name += "-" + std::to_string(t);  // processor-0, processor-1, ...
    }
    if (indicators) h.push_back(indicators->health());
    if (alerts) h.push_back(alerts->health());
    return h;
  });
  serving::RealtimeGateway unused_gateway(*bus);
  probe.start();
  for (auto& s : stages) {
    if (Status st = s->start(); !st) return fail("candle processor", st);
  }
  if (indicators) {
    if (Status st = indicators->start(); !st) return fail("indicators", st);
  }
  if (alerts) {
    if (Status st = alerts->start(); !st) return fail("alerts", st);
  }
  int rc = serve("processor", c, service_port(c, o.port, 8001), api, unused_gateway,
                 [&] {
                   processing::ProcessorStats s;
                   for (const auto& stage : stages) {
                     const processing::ProcessorStats one = stage->stats();
                     s.trades += one.trades;
                     s.updates += one.updates;
                     s.duplicates += one.duplicates;
                   }
                   return "processed " + std::to_string(s.trades) + " trades, candle updates " +
                          std::to_string(s.updates) + ", duplicates " + std::to_string(s.duplicates) +
                          (indicators ? ", indicator records " + std::to_string(indicators->stats().published) : "");
                 },
                 (o.group ? "group '" + group + "'"
                          : "instance " + std::to_string(o.instance) + " of " + std::to_string(o.instances) + ", " +
                                std::to_string(threads) + " stream thread(s)") +
                     (indicators ? ", indicators" : "") + (alerts ? ", alerts" : ""));
  arm_stop_watchdog("processor", 25 * kNsPerSec);
  drain(
      [&] {
        return std::all_of(stages.begin(), stages.end(), [](const auto& s) { return s->caught_up(); });
      },
      10 * kNsPerSec);
  if (alerts) alerts->stop();
  if (indicators) indicators->stop();
  for (auto& s : stages) s->stop();
  probe.stop();
  std::printf("stopped.\n");
  return rc;
}

int cmd_realtime(const AppConfig& c, const ServiceOptions& o) {
  obs::init_logging(c.log_level);
  block_termination_signals();
  auto bus = open_bus(c);
  if (!bus) return 1;
  BusProbe probe(*bus, c.bus_backend);
  // The first WebSocket message holds the latest stored candles: from the shared database when
  // there is one; the embedded store belongs to `tickflow historical` (snapshots are empty).
  std::unique_ptr<storage::CandleStore> store;
  if (c.store_backend != "embedded") {
    auto opened = storage::make_candle_store(store_config(c));
    if (!opened) return fail("cannot open the candle store", opened.status());
    store = std::move(opened).value();
  } else {
    store = std::make_unique<NoHistoryStore>();
  }
  serving::RealtimeGateway gateway(*bus);
  serving::ApiOptions options;
  options.is_configured = configured_series(c);
  serving::ApiHandler api(*store, [&] {
    ComponentHealth g{"realtime", HealthState::kUp, std::to_string(gateway.subscriber_count()) + " subscribers"};
    std::vector<ComponentHealth> h{probe.health(), g};
    if (auto sh = store->health()) h.push_back(*sh);
    return h;
  }, options);
  probe.start();
  if (Status st = gateway.start(); !st) return fail("realtime gateway", st);
  int rc = serve("realtime", c, service_port(c, o.port, 8002), api, gateway,
                 [&] {
                   return "candle updates " + std::to_string(gateway.updates()) + ", ws clients " +
                          std::to_string(gateway.subscriber_count());
                 },
                 "WebSocket /ws/ohlcv/{exchange}/{symbol}/{timeframe}, /ws/alerts");
  arm_stop_watchdog("realtime", 15 * kNsPerSec);
  gateway.stop();
  probe.stop();
  std::printf("stopped.\n");
  return rc;
}

int cmd_api(const AppConfig& c, const ServiceOptions& o) {
  obs::init_logging(c.log_level);
  block_termination_signals();
  auto bus = open_bus(c);
  if (!bus) return 1;
  BusProbe probe(*bus, c.bus_backend);
  auto opened = storage::make_candle_store(store_config(c));
  if (!opened) return fail("cannot open the candle store", opened.status());
  std::unique_ptr<storage::CandleStore> store = std::move(opened).value();
  // An embedded store is held by one process: with it, the API loads its own copy of the history
  // from the bus (the same loaders as `tickflow historical`); a shared database is only read.
  std::unique_ptr<storage::HistoricalLoader> loader, indicator_loader;
  std::unique_ptr<storage::BookLoader> book_loader;
  if (c.store_backend == "embedded") {
    loader = std::make_unique<storage::HistoricalLoader>(*bus, *store);
    if (storage::BookStore* bs = store->books()) book_loader = std::make_unique<storage::BookLoader>(*bus, *bs);
    if (c.indicators.enabled)
      indicator_loader = std::make_unique<storage::HistoricalLoader>(*bus, *store, storage::indicator_loader_config());
  }
  serving::ApiOptions options;
  options.is_configured = configured_series(c);
  if (c.indicators.enabled) {
    serving::IndicatorRoutesOptions io;
    io.is_configured = options.is_configured;
    io.output_names = [&c](const Timeframe& tf) {
      auto it = c.indicators.timeframes.find(tf.label());
      auto set = processing::indicators::IndicatorSet::create(it == c.indicators.timeframes.end() ? c.indicators.spec
                                                                                               : it->second);
      return set ? set->names() : std::vector<std::string>{};
    };
    options.modules.push_back(std::make_shared<serving::IndicatorRoutes>(*store, io));
  }
  options.modules.push_back(std::make_shared<serving::LatestRoute>(nullptr, *store, options.is_configured));
  options.modules.push_back(std::make_shared<serving::TradesRoutes>(store->trades()));
  options.modules.push_back(std::make_shared<serving::BookRoutes>(store->books()));
  serving::ApiHandler api(*store, [&] {
    std::vector<ComponentHealth> h{probe.health()};
    if (loader) h.push_back(loader->health());
    if (indicator_loader) h.push_back(indicator_loader->health());
    if (book_loader) h.push_back(book_loader->health());
    if (auto sh = store->health()) h.push_back(*sh);
    return h;
  }, options);
  serving::RealtimeGateway unused_gateway(*bus);
  probe.start();
  if (loader) {
    if (Status st = loader->start(); !st) return fail("historical loader", st);
  }
  if (indicator_loader) {
    if (Status st = indicator_loader->start(); !st) return fail("indicator loader", st);
  }
  if (book_loader) {
    if (Status st = book_loader->start(); !st) return fail("order-book loader", st);
  }
  int rc = serve("api", c, o.port >= 0 ? static_cast<uint16_t>(o.port) : c.api.port, api, unused_gateway,
                 [&] {
                   return loader ? "candles loaded " + std::to_string(loader->candles_written()) + " (lag " +
                                       std::to_string(loader->lag()) + ")"
                                 : std::string("serving the ") + c.store_backend + " store";
                 },
                 "REST over the " + c.store_backend + " store");
  arm_stop_watchdog("api", 15 * kNsPerSec);
  if (indicator_loader) indicator_loader->stop();
  if (book_loader) book_loader->stop();
  if (loader) loader->stop();
  probe.stop();
  std::printf("stopped.\n");
  return rc;
}

}  // namespace tickflow::app
