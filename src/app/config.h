// AppConfig: every setting of the tickflow binary, from three layers —
// TOML file (config/tickflow.example.toml) < environment variables < command-line flags.
//
// Bad configuration is reported as a ConfigError naming the key (e.g. "api.port: must be
// 1..65535"); the CLI prints it and exits with code 2.
// Thread-safety: plain value, built once at start-up.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <variant>
#include <string>
#include <vector>

#include "core/result.h"
#include "core/time.h"
#include "core/timeframe.h"
#include "processing/alerts/rule.h"
#include "processing/quality/checker.h"
#include "processing/quality/validator.h"

namespace tickflow::app {

struct ApiConfig {
  std::string host = "127.0.0.1";
  uint16_t port = 8080;
  uint16_t metrics_port = 0;  // PROMETHEUS_PORT: an extra listener for /metrics (0 = API port only)
};

struct BinanceConfig {
  bool enabled = true;
  std::string ws_url = "wss://stream.binance.com:9443";
  std::string rest_url = "https://api.binance.com";
  std::vector<std::string> symbols = {"BTC-USDT", "ETH-USDT"};  // unified
  std::string trade_stream = "aggTrade";                        // "aggTrade" or "trade"
  // depth@100ms books (REST snapshot + diffs, exchange/binance/depth_sync.h); on in the demo.
  bool book = false;
  int64_t book_depth = 20;       // levels per side in the published snapshots
  bool book_ticker = false;      // also subscribe <sym>@bookTicker (counted)
  std::string subscribe = "url"; // "url" (combined-stream URL) or "message" (SUBSCRIBE)
};

// [exchanges.kraken]: the Kraken v1 trade collector (src/exchange/kraken/collector.h).
struct KrakenConfig {
  bool enabled = false;
  std::string ws_url = "wss://ws.kraken.com";
  std::string rest_url = "https://api.kraken.com";
  std::vector<std::string> symbols = {"BTC-USD", "ETH-USD"};  // unified (or Kraken "XBT/USD")
  std::string api = "v1";  // "v1" (wss://ws.kraken.com) or "v2" (wss://ws.kraken.com/v2: set ws_url too)
  int book_depth = 0;      // 0 = no books; else 10, 25, 100, 500 or 1000 (→ raw.orderbook)
};

// [exchanges.coinbase]: the Coinbase Exchange feed collector (src/exchange/coinbase/collector.h).
struct CoinbaseConfig {
  bool enabled = false;
  std::string ws_url = "wss://ws-feed.exchange.coinbase.com";
  std::string rest_url = "https://api.exchange.coinbase.com";
  std::vector<std::string> symbols = {"BTC-USD", "ETH-USD"};      // Coinbase product ids
  std::vector<std::string> channels = {"heartbeat", "matches"};   // + "ticker" (never a trade)
  std::string feed = "exchange";              // or "advanced" (Advanced Trade WebSocket)
  bool book = false;                          // level2 order books → raw.orderbook
  std::string level2_channel = "level2_batch";  // or "level2" (Coinbase requires the credentials)
  // Signed subscriptions, from the environment only (TICKFLOW_COINBASE_API_KEY, ..._API_SECRET,
  // ..._API_PASSPHRASE); never logged.
  std::string api_key, api_secret, api_passphrase;
  // Advanced Trade JWT keys, from the environment only (TICKFLOW_COINBASE_ADVANCED_KEY_NAME,
  // ..._ADVANCED_PRIVATE_KEY: the CDP key name and its PEM EC key); never logged.
  std::string advanced_key_name, advanced_private_key;
};

struct CandlesConfig {
  std::vector<Timeframe> timeframes = default_timeframes();
  DurationNs grace = 2 * kNsPerSec;
  DurationNs correction_horizon = kNsPerHour;
  DurationNs provisional_interval = 250 * kNsPerMs;
  bool emit_empty = true;
};

// [indicators]: the indicator stage (src/processing/indicators/processor.h).
struct IndicatorsConfig {
  bool enabled = true;
  std::string spec = "sma:20,ema:20,rsi:14,macd:12:26:9,bb:20:2,atr:14,vwap";  // every timeframe
  std::map<std::string, std::string> timeframes;  // [indicators.timeframes] label → spec override
  uint32_t max_checkpoints = 256;                 // bars kept for corrections (per series)
};

// [alerts]: the alert stage (src/processing/alerts/processor.h) and its [[alerts.rules]].
struct AlertsConfig {
  bool enabled = true;
  DurationNs quality_interval = 5 * kNsPerSec;  // stale_feed / quality_below evaluation cadence
  std::vector<processing::alerts::AlertRule> rules;
};

// [quality]: the collectors' validator window and the data-quality monitor
// (src/processing/quality/README.md).
struct QualitySettings {
  bool enabled = true;
  quality::QualityConfig checker;
  quality::ValidatorConfig validation;
  bool from_committed = false;  // start = "end" (default) | "committed"
};

// [webhooks]: delivery of alerts to the receivers registered with POST /subscriptions
// (src/delivery/webhook.h): attempts per alert before it is dead-lettered, backoff, timeout.
struct WebhooksConfig {
  bool enabled = true;
  int max_attempts = 5;
  DurationNs backoff = 1 * kNsPerSec;       // first retry delay (doubles, with jitter)
  DurationNs max_backoff = 60 * kNsPerSec;
  DurationNs timeout = 5 * kNsPerSec;       // one POST
};

// [alertmanager]: POST alerts to Prometheus Alertmanager's v2 API when url is set
// (src/delivery/alertmanager.h). Env: TICKFLOW_ALERTMANAGER_URL.
struct AlertmanagerConfig {
  std::string url;            // e.g. http://127.0.0.1:9093 ("" = off)
  std::string generator_url;  // back-link in Alertmanager ("" = the API's own URL)
  DurationNs timeout = 5 * kNsPerSec;
  int max_attempts = 10;
  DurationNs backoff = 1 * kNsPerSec;
  DurationNs max_backoff = 60 * kNsPerSec;
};

struct DemoConfig {
  bool enabled = false;  // --demo: start the simulator in-process and point the collector at it
  uint64_t seed = 1;
  double rate = 200;  // messages per second, all symbols
  std::vector<std::string> symbols = {"BTC-USDT", "ETH-USDT", "SOL-USDT"};
  // Kraken v1 pairs fed by a second, separate simulator (Binance's market is unchanged by it);
  // empty = no Kraken in the demo.
  std::vector<std::string> kraken_symbols = {"BTC-USD", "ETH-USD"};
  // Coinbase Exchange products fed by a third simulator (its own market); empty = none.
  std::vector<std::string> coinbase_symbols = {"BTC-USD", "ETH-USD"};
};

// [redis]: the latest-value cache (used when redis_url / REDIS_URL is set and enabled).
struct RedisConfig {
  bool enabled = true;
  double ttl_timeframes = 2.0;               // candle/indicator keys live ttl_timeframes x timeframe...
  DurationNs ttl_margin = 60 * kNsPerSec;    // ...plus this margin
  DurationNs alert_ttl = 24 * kNsPerHour;    // latest alert per series
  DurationNs timeout = 500 * kNsPerMs;       // connect and command timeout
};

struct AppConfig {
  std::string data_dir = "./data";
  std::string log_level = "info";
  DurationNs status_interval = 5 * kNsPerSec;
  std::string bus_backend = "embedded";
  bool bus_sync = false;
  std::string store_backend = "embedded";
  // [storage] orderbook_retention: order-book snapshots older than this are removed (store).
  DurationNs store_orderbook_retention = 7 * kNsPerDay;
  // Kept for the distributed backends (Kafka, PostgreSQL, Redis); unused by the embedded ones.
  std::string kafka_bootstrap_servers;
  // [kafka] processing.guarantee: "at_least_once" (default: outputs acknowledged, then positions
  // and state committed locally; duplicates dropped at the sinks) or "exactly_once_v2" (each
  // consume-transform-produce commit is also a Kafka transaction; bus/kafka/transactions.h).
  std::string kafka_processing_guarantee = "at_least_once";
  // [kafka.properties]: librdkafka properties for every client, applied after tickflow's defaults
  // (security.protocol, sasl.mechanism, sasl.username / sasl.password — or KAFKA_SASL_USERNAME /
  // KAFKA_SASL_PASSWORD —, ssl.ca.location, linger.ms, ...). Never logged.
  std::map<std::string, std::string> kafka_properties;
  // [kafka] replication_factor of the topics tickflow creates (-1: the brokers' default).
  int kafka_replication_factor = -1;
  std::string timescale_host, timescale_port, timescale_db, timescale_user, timescale_password;
  std::string redis_url;  // redis://[user:password@]host:port/db (never logged with its password)
  RedisConfig redis;
  ApiConfig api;
  BinanceConfig binance;
  KrakenConfig kraken;
  CoinbaseConfig coinbase;
  CandlesConfig candles;
  IndicatorsConfig indicators;
  AlertsConfig alerts;
  QualitySettings quality;
  WebhooksConfig webhooks;
  AlertmanagerConfig alertmanager;
  DemoConfig demo;
};

struct ConfigError {
  std::string key;      // "api.port"
  std::string message;  // "must be 1..65535, got 70000"
  std::string to_string() const { return key.empty() ? message : key + ": " + message; }
};

// Flag overrides, already parsed by the CLI (only set fields override).
struct ConfigOverrides {
  std::optional<std::string> data_dir, log_level, host, symbols, timeframes, ws_url, rest_url;
  std::optional<int64_t> port;
  std::optional<bool> demo;
  std::optional<uint64_t> seed;
  std::optional<double> rate;
};

// Loads the file (if path non-empty; a missing file is an error), then the environment
// (`env` — pass the process environment), then the overrides; validates everything.
std::variant<AppConfig, ConfigError> load_config(const std::string& path,
                                                 const std::map<std::string, std::string>& env,
                                                 const ConfigOverrides& overrides);
std::map<std::string, std::string> process_environment();

// "2s", "250ms", "1h" → ns.
Result<DurationNs> parse_duration(std::string_view text);

}  // namespace tickflow::app
