// Subcommand entry points of the tickflow binary. Each returns the process exit code:
// 0 success, 1 runtime failure, 2 bad usage or configuration.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "app/config.h"
#include "storage/factory.h"

namespace tickflow::app {

// `tickflow run`: the whole pipeline in one process on the embedded bus and store.
int cmd_run(const AppConfig& config);

// The candle store settings of a configuration ([storage] backend, data_dir, [timescale] /
// TIMESCALE_* for the postgres backend).
storage::StoreConfig store_config(const AppConfig& config);

// `tickflow historical`: only the historical loader (normalized.ohlcv → store), plus the trade
// loader (raw.market-data → trades) when the store keeps trades (postgres). Serves /health and
// /metrics (and the REST API over the store) on api.host and `port` (-1: PROMETHEUS_PORT, else
// 8003; 0 = any free port).
int cmd_historical(const AppConfig& config, int64_t port = -1);

// The distributed services (services_cmd.cc; app/services.h builds their stages like `run`).
struct ServiceOptions {
  int64_t port = -1;         // -1: PROMETHEUS_PORT (api.metrics_port), else the service's default
  std::string exchange;      // collector: "binance"
  int32_t instance = 0;      // processor: owns raw.market-data partitions p % instances == instance
  int32_t instances = 1;
  bool group = false;        // processor: consumer-group membership instead of the static split
  int32_t threads = 0;       // processor: stream threads splitting this instance's partitions
                             // (0: the default, 4; with --group 1: one member per process)
  int64_t session_timeout_ms = 10000;  // processor --group: session.timeout.ms
  std::string analytics = "auto";      // processor: indicator/alert stages: auto (instance 0, or
                                       // every --group member), on, off
};
// `tickflow collector`: the Binance collector → raw.market-data (health/metrics 8000).
int cmd_collector(const AppConfig& config, const ServiceOptions& options);
// `tickflow processor`: the candle stage over its partitions (static split, or --group); indicator
// and alert stages per --analytics (health/metrics 8001).
int cmd_processor(const AppConfig& config, const ServiceOptions& options);
// `tickflow realtime`: the WebSocket gateway (WS, health/metrics 8002).
int cmd_realtime(const AppConfig& config, const ServiceOptions& options);
// `tickflow api`: REST over the store (api.port, 8080); with the embedded store it loads its own
// copy of the history from the bus.
int cmd_api(const AppConfig& config, const ServiceOptions& options);

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
  int64_t duplicate_every = 0;  // send every Nth trade twice (quality: duplicate)
  int64_t outlier_every = 0;    // send every Nth trade outlier_pct % too high (quality: outlier)
  int64_t outlier_pct = 10;
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

struct IndicatorsOptions {
  std::string input = "-";   // CSV with a header (close; high/low for atr; volume for vwap); - = stdin
  std::string output = "-";  // - = stdout
  std::string indicators = "sma:20,ema:20,rsi:14,macd:12:26:9,bb:20:2,atr:14";
};
// `tickflow indicators`: offline indicators over a candle CSV (exit 2 on a bad spec).
int cmd_indicators(const IndicatorsOptions& options);

struct TailOptions {
  std::string topic;
  std::string data_dir;
  std::string bus_backend = "embedded";   // bus.backend
  std::string kafka_bootstrap_servers;    // kafka: KAFKA_BOOTSTRAP_SERVERS / config
  std::map<std::string, std::string> kafka_properties;  // kafka: [kafka.properties] (SASL, TLS)
  bool from_beginning = false;
  bool follow = true;
  int64_t max_records = 0;  // 0 = unlimited
};
// `tickflow tail`: prints a topic's records as JSON lines.
int cmd_tail(const TailOptions& options);

}  // namespace tickflow::app
