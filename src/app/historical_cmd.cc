// `tickflow historical`: the historical stage alone — bus → candle store (and trades and alerts
// when the store keeps them, indicator records with [indicators]), with /health (including the
// bus connectivity), /metrics and the REST API on their own port (default 8003). Works on either
// bus (bus_config: bus.backend, KAFKA_BOOTSTRAP_SERVERS).
//
// The database may be down at start or go away while running: the store reports it in /health
// ("postgres" down), the loaders retry with backoff and lose nothing (rows and positions are
// committed together). Ctrl-C drains what is already on the bus (bounded), then stops.
#include <cstdio>

#include <spdlog/spdlog.h>

#include "app/commands.h"
#include "app/services.h"
#include "app/signals.h"
#include "bus/factory.h"
#include "core/clock.h"
#include "observability/log.h"
#include "serving/api.h"
#include "serving/gateway.h"
#include "serving/book_routes.h"
#include "serving/server.h"
#include "serving/trades_routes.h"
#include "storage/book_loader.h"
#include "storage/loader.h"
#include "storage/trade_loader.h"
#include "storage/trade_store.h"

namespace tickflow::app {

storage::StoreConfig store_config(const AppConfig& c) {
  storage::StoreConfig sc;
  sc.backend = c.store_backend;
  sc.data_dir = c.data_dir;
  if (!c.timescale_host.empty()) sc.pg_host = c.timescale_host;
  if (!c.timescale_port.empty()) sc.pg_port = c.timescale_port;
  if (!c.timescale_db.empty()) sc.pg_db = c.timescale_db;
  if (!c.timescale_user.empty()) sc.pg_user = c.timescale_user;
  sc.pg_password = c.timescale_password;
  sc.retention.orderbook = c.store_orderbook_retention;
  return sc;
}

int cmd_historical(const AppConfig& c, int64_t port) {
  obs::init_logging(c.log_level);
  block_termination_signals();
  auto bus = bus::make_event_bus(bus_config(c));
  if (!bus) {
    std::fprintf(stderr, "tickflow: cannot open the event log: %s\n", bus.status().message().c_str());
    return 1;
  }
  auto store = storage::make_candle_store(store_config(c));
  if (!store) {
    std::fprintf(stderr, "tickflow: cannot open the candle store: %s\n", store.status().message().c_str());
    return 1;
  }
  storage::HistoricalLoader loader(**bus, **store);
  std::unique_ptr<storage::TradeLoader> trades;
  if (storage::TradeStore* ts = (*store)->trades()) trades = std::make_unique<storage::TradeLoader>(**bus, *ts);
  // Order-book snapshots (raw.orderbook → store), when the store keeps them.
  std::unique_ptr<storage::BookLoader> books;
  if (storage::BookStore* bs = (*store)->books()) books = std::make_unique<storage::BookLoader>(**bus, *bs);
  std::unique_ptr<storage::HistoricalLoader> alerts;
  if ((*store)->alerts()) alerts = std::make_unique<storage::HistoricalLoader>(**bus, **store, storage::alert_loader_config());
  // Indicator sink (processed.indicators → store), when [indicators] enabled.
  std::unique_ptr<storage::HistoricalLoader> indicators;
  if (c.indicators.enabled)
    indicators = std::make_unique<storage::HistoricalLoader>(**bus, **store, storage::indicator_loader_config());
  BusProbe probe(**bus, c.bus_backend);

  auto health = [&]() {
    std::vector<ComponentHealth> h;
    h.push_back(probe.health());
    h.push_back(loader.health());
    if (trades) h.push_back(trades->health());
    if (books) h.push_back(books->health());
    if (alerts) h.push_back(alerts->health());
    if (indicators) h.push_back(indicators->health());
    if (auto sh = (*store)->health()) h.push_back(*sh);
    return h;
  };
  serving::ApiOptions options;
  options.modules.push_back(std::make_shared<serving::TradesRoutes>((*store)->trades()));
  options.modules.push_back(std::make_shared<serving::BookRoutes>((*store)->books()));
  serving::ApiHandler api(**store, health, options);
  serving::RealtimeGateway gateway(**bus);
  serving::ServerConfig srv;
  srv.host = c.api.host;
  srv.port = port >= 0 ? static_cast<uint16_t>(port) : c.api.metrics_port != 0 ? c.api.metrics_port : 8003;
  serving::HttpServer server(srv, api, gateway);

  if (Status st = loader.start(); !st) {
    std::fprintf(stderr, "tickflow: historical loader: %s\n", st.message().c_str());
    return 1;
  }
  if (trades) {
    if (Status st = trades->start(); !st) {
      std::fprintf(stderr, "tickflow: trades loader: %s\n", st.message().c_str());
      return 1;
    }
  }
  if (books) {
    if (Status st = books->start(); !st) {
      std::fprintf(stderr, "tickflow: order-book loader: %s\n", st.message().c_str());
      return 1;
    }
  }
  if (alerts) {
    if (Status st = alerts->start(); !st) {
      std::fprintf(stderr, "tickflow: alert loader: %s\n", st.message().c_str());
      return 1;
    }
  }
  if (indicators) {
    if (Status st = indicators->start(); !st) {
      std::fprintf(stderr, "tickflow: indicator loader: %s\n", st.message().c_str());
      return 1;
    }
  }
  probe.start();
  if (Status st = server.start(); !st) {
    std::fprintf(stderr, "tickflow: metrics listener: %s\n", st.message().c_str());
    return 1;
  }
  std::printf("historical: loading %s into the %s store; health and metrics on http://%s:%u\n",
              c.data_dir.c_str(), c.store_backend.c_str(), c.api.host.c_str(), server.port());
  std::fflush(stdout);

  const Clock& clock = SystemClock::instance();
  TimestampNs last_retention = 0;
  TimestampNs last_status = clock.now_ns();
  while (!wait_for_signal(100 * kNsPerMs)) {
    const TimestampNs now = clock.now_ns();
    if (now - last_retention >= kNsPerMin) {
      last_retention = now;
      if (auto r = (*store)->enforce_retention(now); !r) spdlog::warn("store retention: {}", r.status().message());
    }
    if (now - last_status >= c.status_interval) {
      last_status = now;
      std::printf("status: candles written %llu (lag %lld)%s\n",
                  static_cast<unsigned long long>(loader.candles_written()), static_cast<long long>(loader.lag()),
                  trades ? (", trades " + std::to_string(trades->trades_written()) + " (lag " +
                            std::to_string(trades->lag()) + ")").c_str()
                         : "");
      std::fflush(stdout);
    }
  }
  std::printf("stopping\n");
  std::fflush(stdout);
  arm_stop_watchdog("historical", 15 * kNsPerSec);
  server.stop();
  if (indicators) indicators->stop();
  if (alerts) alerts->stop();
  if (trades) trades->stop();
  if (books) books->stop();
  loader.stop();
  probe.stop();
  std::printf("stopped.\n");
  return 0;
}

}  // namespace tickflow::app
