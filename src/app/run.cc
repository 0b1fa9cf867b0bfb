// `tickflow run`: every stage in one process over the embedded bus and store.
//
// Start order (consumers before producers): bus, store, historical loader (+ trades and alerts
// loaders when the store keeps them), candle processor,
// indicator processor + indicator loader ([indicators] enabled), alert deliveries (webhooks, [alertmanager]), alert processor ([alerts] rules), quality monitor ([quality] enabled), realtime gateway, HTTP server, [simulator], collector. Stop order is the reverse, with a
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
#include "app/run_delivery.h"
#include "app/services.h"
#include "app/signals.h"
#include "bus/factory.h"
#include "cache/cache_writer.h"
#include "cache/redis/redis_latest_cache.h"
#include "core/clock.h"
#include "core/symbol.h"
#include "exchange/binance/collector.h"
#include "exchange/coinbase/collector.h"
#include "exchange/kraken/collector.h"
#include "exchange/simulator/simulator.h"
#include "observability/log.h"
#include "processing/alerts/processor.h"
#include "processing/candles/processor.h"
#include "processing/indicators/indicator_set.h"
#include "processing/indicators/processor.h"
#include "processing/quality/monitor.h"
#include "serving/api.h"
#include "serving/gateway.h"
#include "serving/indicators_routes.h"
#include "serving/latest_route.h"
#include "serving/quality_routes.h"
#include "serving/server.h"
#include "serving/subscriptions_routes.h"
#include "storage/factory.h"
#include "storage/loader.h"
#include "serving/trades_routes.h"
#include "serving/book_routes.h"
#include "storage/book_loader.h"
#include "storage/trade_loader.h"
#include "storage/trade_store.h"

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
  // Trades sink (raw.market-data → trades), when the store keeps trades (postgres).
  std::unique_ptr<storage::TradeLoader> trade_loader;
  if (storage::TradeStore* ts = (*store)->trades()) trade_loader = std::make_unique<storage::TradeLoader>(**bus, *ts);
  // Order-book sink (raw.orderbook → store: embedded and postgres).
  std::unique_ptr<storage::BookLoader> book_loader;
  if (storage::BookStore* bs = (*store)->books()) book_loader = std::make_unique<storage::BookLoader>(**bus, *bs);
  // Alerts sink (processed.alerts → alerts), when the store keeps alerts (postgres).
  std::unique_ptr<storage::HistoricalLoader> alert_loader;
  if ((*store)->alerts())
    alert_loader = std::make_unique<storage::HistoricalLoader>(**bus, **store, storage::alert_loader_config());
  processing::CandleProcessor processor(**bus, processor_config(c), clock);
  // Indicator stage + its sink (processed.indicators → store), when [indicators] enabled.
  std::unique_ptr<processing::indicators::IndicatorProcessor> indicators;
  std::unique_ptr<storage::HistoricalLoader> indicator_loader;
  if (c.indicators.enabled) {
    indicators = std::make_unique<processing::indicators::IndicatorProcessor>(**bus, **store, indicator_config(c), clock);
    indicator_loader = std::make_unique<storage::HistoricalLoader>(**bus, **store, storage::indicator_loader_config());
  }
  // Data-quality monitor (raw.market-data → scores, metrics, GET /quality), when [quality]
  // enabled; built below once the collector it takes liveness evidence from is declared.
  std::unique_ptr<quality::QualityMonitor> quality_monitor;
  // Alert stage (normalized.ohlcv + processed.indicators → processed.alerts), when rules exist.
  std::unique_ptr<processing::alerts::AlertProcessor> alerts;
  if (c.alerts.enabled && !c.alerts.rules.empty()) {
    processing::alerts::AlertProcessorConfig ac;
    ac.rules = c.alerts.rules;
    ac.quality_interval = c.alerts.quality_interval;
    // Quality rules (stale_feed, quality_below) read the quality monitor's snapshot (none when
    // [quality] is disabled: they never fire).
    processing::alerts::QualitySource quality_source = [&quality_monitor]() {
      return quality_monitor ? quality_monitor->snapshot() : std::vector<QualityReading>{};
    };
    alerts = std::make_unique<processing::alerts::AlertProcessor>(**bus, ac, clock, quality_source);
  }
  serving::RealtimeGateway gateway(**bus);
  // Alert deliveries: webhook subscriptions ([webhooks], POST /subscriptions) and Alertmanager.
  auto deliveries = make_delivery_stage(**bus, c, "http://" + c.api.host + ":" + std::to_string(c.api.port) + "/");
  if (!deliveries) {
    std::fprintf(stderr, "tickflow: alertmanager.url: %s\n", deliveries.status().message().c_str());
    return 2;
  }
  DeliveryStage& delivery = **deliveries;
  // Latest-value cache (Redis) and its writer, when redis.url is set and redis.enabled.
  std::unique_ptr<cache::redis::RedisLatestCache> latest_cache;
  std::unique_ptr<cache::CacheWriter> cache_writer;
  if (!c.redis_url.empty() && c.redis.enabled) {
    auto url = cache::redis::RedisUrl::parse(c.redis_url);
    if (!url) {
      std::fprintf(stderr, "tickflow: redis.url: %s\n", url.status().message().c_str());
      return 2;
    }
    cache::redis::RedisCacheConfig rc;
    rc.client.url = *url;
    rc.client.connect_timeout = rc.client.command_timeout = c.redis.timeout;
    rc.ttl_timeframes = c.redis.ttl_timeframes;
    rc.ttl_margin = c.redis.ttl_margin;
    rc.alert_ttl = c.redis.alert_ttl;
    latest_cache = std::make_unique<cache::redis::RedisLatestCache>(rc);
    cache_writer = std::make_unique<cache::CacheWriter>(**bus, *latest_cache, store->get());
    std::printf("cache: latest values in %s\n", url->redacted().c_str());
  }

  std::unique_ptr<exchange::simulator::Simulator> simulator;
  std::unique_ptr<exchange::binance::Collector> collector;
  std::unique_ptr<exchange::simulator::Simulator> kraken_simulator;  // --demo: Kraken v1 on its own market
  std::unique_ptr<exchange::kraken::Collector> kraken_collector;
  std::unique_ptr<exchange::simulator::Simulator> coinbase_simulator;  // --demo: Coinbase on its own market
  std::unique_ptr<exchange::coinbase::Collector> coinbase_collector;
  std::unique_ptr<serving::HttpServer> server, metrics_server;

  auto health = [&]() {
    std::vector<ComponentHealth> h;
    if (collector) h.push_back(collector->health());
    if (kraken_collector) h.push_back(kraken_collector->health());
    if (coinbase_collector) h.push_back(coinbase_collector->health());
    h.push_back(processor.health());
    h.push_back(loader.health());
    if (trade_loader) h.push_back(trade_loader->health());
    if (book_loader) h.push_back(book_loader->health());
    if (alert_loader) h.push_back(alert_loader->health());
    if (auto sh = (*store)->health()) h.push_back(*sh);
    if (indicators) h.push_back(indicators->health());
    if (indicator_loader) h.push_back(indicator_loader->health());
    if (alerts) h.push_back(alerts->health());
    if (quality_monitor) h.push_back(quality_monitor->health());
    if (latest_cache) h.push_back(latest_cache->health());
    if (cache_writer) h.push_back(cache_writer->health());
    delivery.append_health(h);
    return h;
  };
  // Series this run builds: known to the API before their first candle is stored.
  std::vector<std::string> configured_symbols = c.demo.enabled ? c.demo.symbols : c.binance.symbols;
  std::vector<std::string> kraken_symbols = c.demo.enabled ? c.demo.kraken_symbols
                                            : c.kraken.enabled ? c.kraken.symbols
                                                               : std::vector<std::string>{};
  std::vector<std::string> coinbase_symbols = c.demo.enabled       ? c.demo.coinbase_symbols
                                              : c.coinbase.enabled ? c.coinbase.symbols
                                                                   : std::vector<std::string>{};
  if (c.quality.enabled) {
    quality::QualityMonitorConfig qc;
    qc.checker = c.quality.checker;
    qc.from_committed = c.quality.from_committed;
    if (c.binance.enabled || c.demo.enabled)
      for (const auto& s : configured_symbols) qc.series.emplace_back(Exchange::kBinance, s);
    for (const auto& s : kraken_symbols) qc.series.emplace_back(Exchange::kKraken, s);
    for (const auto& s : coinbase_symbols) qc.series.emplace_back(Exchange::kCoinbase, s);
    // Liveness: each collector is connected and its frame counter moves (the exchanges'
    // heartbeats — Kraken heartbeat, Coinbase heartbeat channel — depth, pings, trades of any
    // symbol), so a quiet symbol on a healthy connection is not stale.
    qc.liveness = [&collector, &kraken_collector, &coinbase_collector]() {
      std::vector<quality::FeedLiveness> out;
      auto up = [](const auto& col) { return col->health().state == HealthState::kUp; };
      if (collector) out.push_back({Exchange::kBinance, up(collector), collector->stats().frames});
      if (kraken_collector) out.push_back({Exchange::kKraken, up(kraken_collector), kraken_collector->stats().frames});
      if (coinbase_collector)
        out.push_back({Exchange::kCoinbase, up(coinbase_collector), coinbase_collector->stats().frames});
      return out;
    };
    quality_monitor = std::make_unique<quality::QualityMonitor>(**bus, qc, clock);
  }
  serving::ApiOptions api_options;
  api_options.is_configured = [&](Exchange e, const std::string& symbol, const Timeframe& tf) {
    const auto& symbols = e == Exchange::kKraken     ? kraken_symbols
                          : e == Exchange::kCoinbase ? coinbase_symbols
                                                     : configured_symbols;
    bool sym = std::find(symbols.begin(), symbols.end(), symbol) != symbols.end();
    bool frame = std::find(c.candles.timeframes.begin(), c.candles.timeframes.end(), tf) != c.candles.timeframes.end();
    return sym && frame;
  };
  if (c.indicators.enabled) {
    serving::IndicatorRoutesOptions io;
    io.is_configured = api_options.is_configured;
    io.output_names = [&c](const Timeframe& tf) {
      auto it = c.indicators.timeframes.find(tf.label());
      auto set = processing::indicators::IndicatorSet::create(it == c.indicators.timeframes.end() ? c.indicators.spec
                                                                                               : it->second);
      return set ? set->names() : std::vector<std::string>{};
    };
    api_options.modules.push_back(std::make_shared<serving::IndicatorRoutes>(**store, io));
  }
  // GET /latest: from Redis when configured, else (and whenever Redis cannot answer) the store.
  api_options.modules.push_back(
      std::make_shared<serving::LatestRoute>(latest_cache.get(), **store, api_options.is_configured));
  {
    serving::QualityRoutesOptions qo;
    if (quality_monitor) qo.reports = [&quality_monitor]() { return quality_monitor->report(); };
    qo.stale_after = c.quality.checker.stale_after;
    qo.window = c.quality.checker.window;
    api_options.modules.push_back(std::make_shared<serving::QualityRoutes>(qo));
  }
  // GET /trades: from the store's trade history (501 with the embedded store).
  api_options.modules.push_back(std::make_shared<serving::TradesRoutes>((*store)->trades()));
  api_options.modules.push_back(std::make_shared<serving::BookRoutes>((*store)->books()));
  api_options.modules.push_back(std::make_shared<serving::SubscriptionRoutes>(*delivery.subscriptions));
  serving::ApiHandler api(**store, health, api_options);

  auto fail = [&](const char* what, const Status& st) {
    std::fprintf(stderr, "tickflow: %s: %s\n", what, st.message().c_str());
    return 1;
  };

  if (Status st = loader.start(); !st) return fail("historical loader", st);
  if (trade_loader) {
    if (Status st = trade_loader->start(); !st) return fail("trades loader", st);
  }
  if (book_loader) {
    if (Status st = book_loader->start(); !st) return fail("order-book loader", st);
  }
  if (alert_loader) {
    if (Status st = alert_loader->start(); !st) return fail("alert loader", st);
  }
  if (Status st = processor.start(); !st) return fail("candle processor", st);
  if (cache_writer) {
    if (Status st = cache_writer->start(); !st) return fail("cache writer", st);
  }
  if (indicators) {
    if (Status st = indicators->start(); !st) return fail("indicators", st);
    if (Status st = indicator_loader->start(); !st) return fail("indicator loader", st);
  }
  if (Status st = delivery.start(); !st) return fail("alert delivery", st);
  if (alerts) {
    if (Status st = alerts->start(); !st) return fail("alerts", st);
  }
  if (quality_monitor) {
    if (Status st = quality_monitor->start(); !st) return fail("quality", st);
  }
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

  exchange::binance::CollectorConfig cc = collector_config(c);
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
  if (!kraken_symbols.empty()) {
    exchange::kraken::CollectorConfig kc;
    kc.ws_url = c.kraken.ws_url;
    kc.rest_url = c.kraken.rest_url;
    kc.symbols = kraken_symbols;
    kc.api = c.kraken.api;
    kc.book_depth = c.demo.enabled && c.kraken.book_depth == 0 ? 10 : c.kraken.book_depth;  // the demo shows books
    if (c.demo.enabled) {
      // A second simulator: Kraken's market is its own, so Binance's trades are unchanged.
      exchange::simulator::SimulatorConfig ks;
      ks.seed = c.demo.seed;
      ks.rate = c.demo.rate;
      ks.symbols.clear();
      for (const auto& s : kraken_symbols) ks.symbols.push_back(binance_symbol_from_unified(s));
      kraken_simulator = std::make_unique<exchange::simulator::Simulator>(ks);
      if (Status st = kraken_simulator->start(); !st) return fail("kraken simulator", st);
      kc.ws_url = c.kraken.api == "v2" ? kraken_simulator->kraken_v2_ws_url() : kraken_simulator->kraken_ws_url();
      kc.rest_url = kraken_simulator->rest_url();
      std::printf("demo: Kraken %s simulator on %s (%zu pairs)\n", c.kraken.api.c_str(), kc.ws_url.c_str(),
                  kraken_symbols.size());
    }
    kraken_collector = std::make_unique<exchange::kraken::Collector>(kc, **bus, clock);
    if (Status st = kraken_collector->start(); !st) return fail("kraken collector", st);
  }
  if (!coinbase_symbols.empty()) {
    exchange::coinbase::CollectorConfig bc;
    bc.ws_url = c.coinbase.ws_url;
    bc.rest_url = c.coinbase.rest_url;
    bc.symbols = coinbase_symbols;
    bc.channels = c.coinbase.channels;
    bc.book = c.coinbase.book || c.demo.enabled;  // the demo shows books
    bc.feed = c.coinbase.feed;
    bc.advanced_key_name = c.coinbase.advanced_key_name;
    bc.advanced_private_key = c.coinbase.advanced_private_key;
    bc.level2_channel = c.coinbase.level2_channel;
    bc.api_key = c.coinbase.api_key;
    bc.api_secret = c.coinbase.api_secret;
    bc.api_passphrase = c.coinbase.api_passphrase;
    if (c.demo.enabled) {
      // A third simulator (Coinbase's market is its own); its ticker twins are subscribed too,
      // and never counted as trades.
      exchange::simulator::SimulatorConfig bs;
      bs.seed = c.demo.seed;
      bs.rate = c.demo.rate;
      bs.symbols.clear();
      for (const auto& s : coinbase_symbols) bs.symbols.push_back(binance_symbol_from_unified(s));
      coinbase_simulator = std::make_unique<exchange::simulator::Simulator>(bs);
      if (Status st = coinbase_simulator->start(); !st) return fail("coinbase simulator", st);
      bc.ws_url = bc.feed == "advanced" ? coinbase_simulator->coinbase_advanced_ws_url()
                                        : coinbase_simulator->coinbase_ws_url();
      bc.rest_url = coinbase_simulator->rest_url();
      bc.channels = {"heartbeat", "matches", "ticker"};
      std::printf("demo: Coinbase simulator on %s (%zu products)\n", bc.ws_url.c_str(), coinbase_symbols.size());
    }
    coinbase_collector = std::make_unique<exchange::coinbase::Collector>(bc, **bus, clock);
    if (Status st = coinbase_collector->start(); !st) return fail("coinbase collector", st);
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
      const uint64_t indicator_records = indicators ? indicators->stats().published : 0;
      const uint64_t alerts_fired = alerts ? alerts->stats().firing : 0;
      std::printf("status: collected %" PRIu64 " trades (%.0f/s), processed %" PRIu64 ", candle updates %" PRIu64
                  ", indicator records %" PRIu64 ", alerts fired %" PRIu64 ", duplicates %" PRIu64 ", late→dlq %" PRIu64
                  ", ws clients %zu, feed %s, quality %s\n",
                  published, static_cast<double>(published - last_trades) / secs, ps.trades, ps.updates,
                  indicator_records, alerts_fired, ps.duplicates, ps.too_late, gateway.subscriber_count(),
                  collector ? std::string(health_state_name(collector->health().state)).c_str() : "off",
                  quality_monitor ? fmt::format("{:.3f}", quality_monitor->overall_score()).c_str() : "off");
      std::fflush(stdout);
      last_trades = published;
    }
  }

  std::printf("stopping: draining the pipeline (Ctrl-C again to skip)\n");
  std::fflush(stdout);
  if (coinbase_collector) coinbase_collector->stop();
  if (kraken_collector) kraken_collector->stop();
  if (collector) collector->stop();
  if (coinbase_simulator) coinbase_simulator->stop();
  if (kraken_simulator) kraken_simulator->stop();
  if (simulator) simulator->stop();
  drain_until([&] { return processor.caught_up(); }, std::chrono::seconds(10));
  if (indicators) drain_until([&] { return indicators->caught_up(); }, std::chrono::seconds(10));
  if (alerts) drain_until([&] { return alerts->caught_up(); }, std::chrono::seconds(10));
  drain_until([&] { return loader.caught_up(); }, std::chrono::seconds(10));
  if (trade_loader) drain_until([&] { return trade_loader->caught_up(); }, std::chrono::seconds(10));
  if (book_loader) drain_until([&] { return book_loader->caught_up(); }, std::chrono::seconds(10));
  if (alert_loader) drain_until([&] { return alert_loader->caught_up(); }, std::chrono::seconds(10));
  if (indicator_loader) drain_until([&] { return indicator_loader->caught_up(); }, std::chrono::seconds(10));
  if (metrics_server) metrics_server->stop();
  server->stop();
  gateway.stop();
  if (cache_writer) {
    drain_until([&] { return cache_writer->caught_up(); }, std::chrono::seconds(5));
    cache_writer->stop();
  }
  if (alerts) alerts->stop();
  delivery.stop();
  if (quality_monitor) quality_monitor->stop();
  if (indicator_loader) indicator_loader->stop();
  if (indicators) indicators->stop();
  processor.stop();
  if (alert_loader) alert_loader->stop();
  if (trade_loader) trade_loader->stop();
  if (book_loader) book_loader->stop();
  loader.stop();
  std::printf("stopped.\n");
  return 0;
}

}  // namespace tickflow::app
