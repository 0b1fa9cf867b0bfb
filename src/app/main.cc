// The tickflow binary: one executable, one subcommand per job.
#include <iostream>

#include <CLI/CLI.hpp>

#include "app/commands.h"
#include "app/config.h"
#include "core/symbol.h"

using namespace tickflow;
using namespace tickflow::app;

int main(int argc, char** argv) {
  CLI::App cli{"tickflow — real-time crypto market data: exchange feeds to exact candles, history and a live API"};
  cli.require_subcommand(1);
  cli.set_version_flag("--version", "tickflow 0.1.0");

  // run
  std::string config_path;
  ConfigOverrides ov;
  std::string data_dir, host, symbols, timeframes, log_level, ws_url, rest_url;
  int64_t port = -1;
  bool demo = false;
  uint64_t seed = 0;
  double rate = 0;
  auto* run = cli.add_subcommand("run", "Run the whole pipeline in one process (embedded log and store, API on localhost)");
  run->add_option("-c,--config", config_path, "TOML config file (see config/tickflow.example.toml)");
  run->add_flag("--demo", demo, "Start the built-in exchange simulator and feed the pipeline from it");
  run->add_option("--data-dir", data_dir, "Directory of the embedded log and store");
  run->add_option("--host", host, "API listen address");
  run->add_option("-p,--port", port, "API port (0 = any free port)");
  run->add_option("--symbols", symbols, "Comma-separated symbols, e.g. BTC-USDT,ETH-USDT");
  run->add_option("--timeframes", timeframes, "Comma-separated timeframes, e.g. 1m,5m,1h");
  run->add_option("--ws-url", ws_url, "Binance WebSocket base URL");
  run->add_option("--rest-url", rest_url, "Binance REST base URL");
  run->add_option("--seed", seed, "Simulator seed (--demo)");
  run->add_option("--rate", rate, "Simulator messages per second (--demo)");
  run->add_option("--log-level", log_level, "trace, debug, info, warn, error, off");

  // historical
  std::string hist_config, hist_data_dir, hist_log_level;
  auto* historical = cli.add_subcommand(
      "historical", "Run only the historical loader: the bus's candles (and trades) into the store; "
                    "health and metrics on PROMETHEUS_PORT (default 8003)");
  historical->add_option("-c,--config", hist_config, "TOML config file (see config/tickflow.example.toml)");
  historical->add_option("--data-dir", hist_data_dir, "Directory of the embedded log");
  historical->add_option("--log-level", hist_log_level, "trace, debug, info, warn, error, off");
  int64_t hist_port = -1;
  historical->add_option("-p,--port", hist_port, "Health, metrics and REST port (default PROMETHEUS_PORT, else 8003; 0 = any free port)");

  // The distributed services (bus.backend = "kafka" + KAFKA_BOOTSTRAP_SERVERS; one data dir each).
  struct ServiceCli {
    CLI::App* app = nullptr;
    std::string config, data_dir, log_level, symbols, timeframes, ws_url, rest_url, host;
    ServiceOptions options;
  };
  auto add_service = [&cli](const char* name, const std::string& help) {
    ServiceCli s;
    s.app = cli.add_subcommand(name, help);
    return s;
  };
  auto common_flags = [](ServiceCli& s, const std::string& port_help) {
    s.app->add_option("-c,--config", s.config, "TOML config file (see config/tickflow.example.toml)");
    s.app->add_option("--data-dir", s.data_dir,
                      "This process's own directory (the Kafka bus keeps its positions and state in <dir>/bus-kafka)");
    s.app->add_option("--log-level", s.log_level, "trace, debug, info, warn, error, off");
    s.app->add_option("-p,--port", s.options.port, port_help);
  };
  ServiceCli collector_cli = add_service(
      "collector", "Run only the exchange collector: trades → raw.market-data; health and metrics on PROMETHEUS_PORT (default 8000)");
  common_flags(collector_cli, "Health and metrics port (default PROMETHEUS_PORT, else 8000; 0 = any free port)");
  collector_cli.app->add_option("--exchange", collector_cli.options.exchange, "Exchange (binance)");
  collector_cli.app->add_option("--symbols", collector_cli.symbols, "Comma-separated symbols, e.g. BTCUSDT,ETHUSDT or BTC-USDT");
  collector_cli.app->add_option("--ws-url", collector_cli.ws_url, "Binance WebSocket base URL");
  collector_cli.app->add_option("--rest-url", collector_cli.rest_url, "Binance REST base URL");
  ServiceCli processor_cli = add_service(
      "processor", "Run only the stream processor: raw.market-data → candles (+ indicators, alerts on instance 0); "
                   "health and metrics on PROMETHEUS_PORT (default 8001)");
  common_flags(processor_cli, "Health and metrics port (default PROMETHEUS_PORT, else 8001; 0 = any free port)");
  processor_cli.app->add_option("--timeframes", processor_cli.timeframes, "Comma-separated timeframes, e.g. 1m,5m,1h");
  processor_cli.app->add_option("--instance", processor_cli.options.instance,
                                "This instance's index: it consumes the partitions p with p % instances == instance");
  processor_cli.app->add_option("--instances", processor_cli.options.instances,
                                "Number of processor instances (fixed while their state exists)");
  processor_cli.app->add_option("--threads", processor_cli.options.threads,
                                "Stream threads (default 4): each runs the candle stage over its share of this "
                                "instance's partitions (partition p goes to thread (p / instances) % threads); "
                                "--group: 1 (scale a group with processes)")
      ->check(CLI::Range(1, 64));
  processor_cli.app->add_flag("--group", processor_cli.options.group,
                              "Join the consumer group (cooperative rebalancing; state restored from the changelog "
                              "topic on assignment) instead of the --instance/--instances split");
  processor_cli.app->add_option("--session-timeout-ms", processor_cli.options.session_timeout_ms,
                                "--group: session.timeout.ms (a dead member's partitions move after it)");
  processor_cli.app->add_option("--analytics", processor_cli.options.analytics,
                                "Run the indicator and alert stages here: auto (instance 0; every --group member), "
                                "on, off (run them in ONE processor)")
      ->check(CLI::IsMember({"auto", "on", "off"}));
  ServiceCli realtime_cli = add_service(
      "realtime", "Run only the real-time gateway: WebSocket /ws/ohlcv/... and /ws/alerts; health and metrics "
                  "on the same port (PROMETHEUS_PORT, default 8002)");
  common_flags(realtime_cli, "WebSocket, health and metrics port (default PROMETHEUS_PORT, else 8002; 0 = any free port)");
  realtime_cli.app->add_option("--symbols", realtime_cli.symbols, "Comma-separated symbols served (as given to the collector)");
  realtime_cli.app->add_option("--timeframes", realtime_cli.timeframes, "Comma-separated timeframes served");
  ServiceCli api_cli = add_service("api", "Run only the REST API over the store (api.port, default 8080)");
  common_flags(api_cli, "API port (default api.port, 8080; 0 = any free port)");
  api_cli.app->add_option("--host", api_cli.host, "Listen address");
  api_cli.app->add_option("--symbols", api_cli.symbols, "Comma-separated symbols served (as given to the collector)");
  api_cli.app->add_option("--timeframes", api_cli.timeframes, "Comma-separated timeframes served");

  // simulate
  SimulateOptions so;
  std::string sim_symbols;
  auto* sim = cli.add_subcommand("simulate", "Run the exchange simulator (Binance wire protocol on loopback)");
  sim->add_option("--host", so.host, "Listen address");
  sim->add_option("-p,--port", so.port, "Listen port (0 = any free port; the URL is printed)");
  sim->add_option("--seed", so.seed, "Seed: the same seed gives the same market");
  sim->add_option("--symbols", sim_symbols, "Comma-separated symbols (default BTC-USDT,ETH-USDT,SOL-USDT)");
  sim->add_option("--rate", so.rate, "Messages per second across all symbols");
  sim->add_option("--start-ms", so.start_ms, "Market clock start, epoch ms (default: now)");
  sim->add_option("--max-trades", so.max_trades, "Stop the market after this many trades (REST keeps serving them)");
  sim->add_flag("--start-on-connect", so.start_on_connect, "Start the market clock when the first client subscribes");
  sim->add_option("--drop-every", so.drop_every, "Fault: drop connections every N messages");
  sim->add_option("--malformed-every", so.malformed_every, "Fault: send a malformed frame every N messages");
  sim->add_option("--duplicate-every", so.duplicate_every, "Fault: send every Nth trade twice");
  sim->add_option("--outlier-every", so.outlier_every, "Fault: send every Nth trade with a price --outlier-pct % too high");
  sim->add_option("--outlier-pct", so.outlier_pct, "Fault: how far off an outlier price is, in % (default 10)")
      ->check(CLI::Range(1, 1000));
  sim->add_option("--log-level", so.log_level, "Log level");

  // candles
  CandlesOptions co;
  auto* candles = cli.add_subcommand("candles", "Build candles offline from recorded exchange messages; CSV to stdout");
  candles->add_option("--exchange", co.exchange, "Exchange of the input (binance)");
  candles->add_option("--timeframe,--timeframes", co.timeframes, "Timeframe(s), e.g. 1m or 1m,5m");
  candles->add_option("--input", co.input, "Input file: raw frames or recording JSON lines; - for stdin")->required();

  // indicators
  IndicatorsOptions io;
  auto* indicators = cli.add_subcommand("indicators", "Compute indicators offline over a candle CSV (e.g. the output of `tickflow candles`)");
  indicators->add_option("--input", io.input, "CSV with a header: close (+ high, low for atr; volume for vwap); - for stdin")->required();
  indicators->add_option("--output", io.output, "Output CSV (input columns + one per indicator output); - for stdout");
  indicators->add_option("--indicators", io.indicators, "Spec, e.g. sma:20,ema:20,rsi:14,macd:12:26:9,bb:20:2,atr:14,vwap");

  // tail
  TailOptions to;
  std::string tail_config;
  bool no_follow = false;
  auto* tail = cli.add_subcommand("tail", "Print a topic's records as JSON lines");
  tail->add_option("topic", to.topic, "Topic, e.g. raw.market-data, normalized.ohlcv, dlq.market-data")->required();
  tail->add_flag("--from-beginning", to.from_beginning, "Start at the oldest record (default: only new records)");
  tail->add_flag("--no-follow", no_follow, "Exit at the end of the topic instead of waiting for more");
  tail->add_option("-n,--max", to.max_records, "Stop after this many records");
  tail->add_option("--data-dir", to.data_dir, "Data directory (default: from config, ./data)");
  tail->add_option("-c,--config", tail_config, "TOML config file");

  CLI11_PARSE(cli, argc, argv);

  auto load = [&](const std::string& path, const ConfigOverrides& o) -> std::optional<AppConfig> {
    auto r = load_config(path, process_environment(), o);
    if (auto* err = std::get_if<ConfigError>(&r)) {
      std::cerr << "tickflow: bad configuration: " << err->to_string() << "\n";
      return std::nullopt;
    }
    return std::get<AppConfig>(r);
  };

  if (run->parsed()) {
    if (!data_dir.empty()) ov.data_dir = data_dir;
    if (!host.empty()) ov.host = host;
    if (port >= 0) ov.port = port;
    if (!symbols.empty()) ov.symbols = symbols;
    if (!timeframes.empty()) ov.timeframes = timeframes;
    if (!log_level.empty()) ov.log_level = log_level;
    if (!ws_url.empty()) ov.ws_url = ws_url;
    if (!rest_url.empty()) ov.rest_url = rest_url;
    if (demo) ov.demo = true;
    if (seed) ov.seed = seed;
    if (rate > 0) ov.rate = rate;
    auto cfg = load(config_path, ov);
    if (!cfg) return 2;
    return cmd_run(*cfg);
  }
  if (historical->parsed()) {
    ConfigOverrides hov;
    if (!hist_data_dir.empty()) hov.data_dir = hist_data_dir;
    if (!hist_log_level.empty()) hov.log_level = hist_log_level;
    auto cfg = load(hist_config, hov);
    if (!cfg) return 2;
    return cmd_historical(*cfg, hist_port);
  }
  for (ServiceCli* s : {&collector_cli, &processor_cli, &realtime_cli, &api_cli}) {
    if (!s->app->parsed()) continue;
    ConfigOverrides sov;
    if (!s->data_dir.empty()) sov.data_dir = s->data_dir;
    if (!s->log_level.empty()) sov.log_level = s->log_level;
    if (!s->symbols.empty()) sov.symbols = s->symbols;
    if (!s->timeframes.empty()) sov.timeframes = s->timeframes;
    if (!s->ws_url.empty()) sov.ws_url = s->ws_url;
    if (!s->rest_url.empty()) sov.rest_url = s->rest_url;
    if (!s->host.empty()) sov.host = s->host;
    auto cfg = load(s->config, sov);
    if (!cfg) return 2;
    if (s == &collector_cli) return cmd_collector(*cfg, s->options);
    if (s == &processor_cli) return cmd_processor(*cfg, s->options);
    if (s == &realtime_cli) return cmd_realtime(*cfg, s->options);
    return cmd_api(*cfg, s->options);
  }
  if (sim->parsed()) {
    if (!sim_symbols.empty()) {
      so.symbols.clear();
      std::string cur;
      for (char ch : sim_symbols + ",") {
        if (ch == ',') {
          if (!cur.empty()) {
            auto n = normalize_symbol(Exchange::kBinance, cur);
            if (!n) {
              std::cerr << "tickflow simulate: --symbols: " << n.status().message() << "\n";
              return 2;
            }
            so.symbols.push_back(*n);
          }
          cur.clear();
        } else {
          cur.push_back(ch);
        }
      }
    }
    return cmd_simulate(so);
  }
  if (candles->parsed()) return cmd_candles(co);
  if (indicators->parsed()) return cmd_indicators(io);
  if (tail->parsed()) {
    to.follow = !no_follow;
    auto cfg = load(tail_config, {});
    if (!cfg) return 2;
    if (to.data_dir.empty()) to.data_dir = cfg->data_dir;
    to.bus_backend = cfg->bus_backend;
    to.kafka_bootstrap_servers = cfg->kafka_bootstrap_servers;
    to.kafka_properties = cfg->kafka_properties;
    return cmd_tail(to);
  }
  return 2;
}
