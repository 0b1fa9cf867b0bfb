#include "app/services.h"

#include <chrono>
#include <cstdio>
#include <cstdlib>

#include "core/topics.h"

namespace tickflow::app {

bus::BusConfig bus_config(const AppConfig& c) {
  bus::BusConfig bc;
  bc.backend = c.bus_backend;
  bc.data_dir = c.data_dir;
  bc.sync = c.bus_sync;
  bc.kafka_bootstrap_servers = c.kafka_bootstrap_servers;
  bc.kafka_properties = c.kafka_properties;
  bc.kafka_replication_factor = c.kafka_replication_factor;
  bc.kafka_exactly_once = c.kafka_processing_guarantee == "exactly_once_v2";
  return bc;
}

processing::ProcessorConfig processor_config(const AppConfig& c) {
  processing::ProcessorConfig pc;
  pc.candles.timeframes = c.candles.timeframes;
  pc.candles.grace = c.candles.grace;
  pc.candles.correction_horizon = c.candles.correction_horizon;
  pc.candles.provisional_interval = c.candles.provisional_interval;
  pc.candles.emit_empty = c.candles.emit_empty;
  return pc;
}

processing::indicators::IndicatorProcessorConfig indicator_config(const AppConfig& c) {
  processing::indicators::IndicatorProcessorConfig ic;
  ic.spec = c.indicators.spec;
  ic.timeframe_specs = c.indicators.timeframes;
  ic.correction_horizon = c.candles.correction_horizon;
  ic.max_checkpoints = c.indicators.max_checkpoints;
  return ic;
}

exchange::binance::CollectorConfig collector_config(const AppConfig& c) {
  exchange::binance::CollectorConfig cc;
  cc.ws_url = c.binance.ws_url;
  cc.rest_url = c.binance.rest_url;
  cc.symbols = c.binance.symbols;
  cc.trade_stream = c.binance.trade_stream;
  cc.validation = c.quality.validation;
  cc.book = c.binance.book || c.demo.enabled;  // the demo's simulator serves depth + /api/v3/depth
  cc.book_depth = c.binance.book_depth > 0 ? static_cast<size_t>(c.binance.book_depth) : 0;  // 0: validate() names it
  cc.book_ticker = c.binance.book_ticker;
  cc.subscribe = c.binance.subscribe;
  return cc;
}

BusProbe::BusProbe(bus::EventBus& bus, std::string backend, DurationNs interval)
    : bus_(bus), backend_(std::move(backend)), interval_(interval) {
  health_.name = "bus";
  health_.state = HealthState::kDegraded;
  health_.detail = backend_ + ": not checked yet";
}

BusProbe::~BusProbe() { stop(); }

void BusProbe::start() {
  if (thread_.joinable()) return;
  {
    std::lock_guard lock(mu_);
    stopping_ = false;
  }
  thread_ = std::thread([this] { loop(); });
}

void BusProbe::stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

namespace {
TimestampNs steady_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}
}  // namespace

ComponentHealth BusProbe::health() const {
  std::lock_guard lock(mu_);
  if (check_started_ != 0 && steady_ns() - check_started_ > 2 * interval_) {
    const auto secs = (steady_ns() - check_started_) / kNsPerSec;
    return ComponentHealth{health_.name, HealthState::kDown,
                           backend_ + ": no answer from the brokers for " + std::to_string(secs) + " s"};
  }
  return health_;
}

void BusProbe::loop() {
  for (;;) {
    {
      std::lock_guard lock(mu_);
      check_started_ = steady_ns();
    }
    auto end = bus_.end_offset(topics::kRawMarketData, 0);
    std::unique_lock lock(mu_);
    check_started_ = 0;
    if (end.is_ok()) {
      health_.state = HealthState::kUp;
      health_.detail = backend_ + ": connected";
    } else {
      health_.state = HealthState::kDown;
      health_.detail = backend_ + ": " + end.status().message();
    }
    if (cv_.wait_for(lock, std::chrono::nanoseconds(interval_), [this] { return stopping_; })) return;
  }
}

void arm_stop_watchdog(const std::string& what, DurationNs timeout) {
  std::thread([what, timeout] {
    std::this_thread::sleep_for(std::chrono::nanoseconds(timeout));
    std::fprintf(stderr, "tickflow %s: stop did not finish within %lld s (brokers unreachable?); exiting now "
                 "(committed work is kept, the rest is redone on restart)\n",
                 what.c_str(), static_cast<long long>(timeout / kNsPerSec));
    std::fflush(stderr);
    std::_Exit(1);
  }).detach();
}

}  // namespace tickflow::app
