// Construction shared by `tickflow run` and the distributed services (`tickflow collector`,
// `processor`, `realtime`, `historical`, `api`): the same config → component mapping in one
// place, so a stage is built identically whether it runs in the monolith or alone.
//
// BusProbe: the bus-connectivity component of a service's /health ("bus": up, or down with the
// broker error), measured by a background thread every `interval` (a watermark query on
// raw.market-data partition 0), so /health never blocks on an unreachable broker; a check that
// has not answered for 2 intervals reports down at once ("no answer from the brokers for 5 s").
//
// arm_stop_watchdog: bounds a service's shutdown. With the brokers gone, a stage blocked in a Kafka
// call (reads, watermarks: bus timeout 30 s, possibly per partition) could hold the stop for
// minutes; after `timeout` the process exits with code 1 and a message. Safe: every stage commits
// its outputs before its positions, so an abrupt exit is a kill -9 (redone on restart).
// Thread-safety: the functions are pure; BusProbe::health() from any thread.
// Lifecycle: BusProbe start() → stop() (idempotent, also in the destructor).
#pragma once

#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>

#include "app/config.h"
#include "bus/event_bus.h"
#include "bus/factory.h"
#include "core/health.h"
#include "exchange/binance/collector.h"
#include "processing/candles/processor.h"
#include "processing/indicators/processor.h"

namespace tickflow::app {

// bus.backend, data_dir, bus.sync, KAFKA_BOOTSTRAP_SERVERS.
bus::BusConfig bus_config(const AppConfig& c);
// [candles] → the candle stage (group "processor", every partition).
processing::ProcessorConfig processor_config(const AppConfig& c);
// [indicators] → the indicator stage.
processing::indicators::IndicatorProcessorConfig indicator_config(const AppConfig& c);
// [exchanges.binance] + [quality] validation → the Binance collector.
exchange::binance::CollectorConfig collector_config(const AppConfig& c);

class BusProbe {
 public:
  BusProbe(bus::EventBus& bus, std::string backend, DurationNs interval = 2 * kNsPerSec);
  ~BusProbe();
  BusProbe(const BusProbe&) = delete;
  BusProbe& operator=(const BusProbe&) = delete;
  void start();
  void stop();
  ComponentHealth health() const;

 private:
  void loop();
  bus::EventBus& bus_;
  TimestampNs check_started_ = 0;  // steady ns of the check in flight, 0 when none (mu_)
  const std::string backend_;
  const DurationNs interval_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  ComponentHealth health_;
  std::thread thread_;
};

// Arms the stop watchdog (see above) for the rest of the process's life: from now on, the process
// exits with code 1 once `timeout` has passed (a normal exit before that ends it too).
void arm_stop_watchdog(const std::string& what, DurationNs timeout);

}  // namespace tickflow::app
