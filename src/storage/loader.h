// HistoricalLoader: the historical stage — normalized.ohlcv (all partitions) → CandleStore;
// the same class also sinks processed.indicators (LoaderRecords::kIndicators) and, when the store
// keeps alerts (CandleStore::alerts(), PostgreSQL), processed.alerts (LoaderRecords::kAlerts).
//
// Exactly-once at the sink: the loader's consumer positions live IN THE STORE (group
// "historical"), and each batch is one store.write(candles, positions), so rows and positions
// are atomic: a crash at any instant neither loses nor repeats an update, and upserts keep the
// highest precedence per (series, open_time) anyway.
// Undecodable records are counted (tickflow_historical_undecodable_total), logged and published
// to dlq.market-data with reason "undecodable" BEFORE the batch is stored (at-least-once DLQ:
// a crash between the two may repeat a dead letter, never lose one), then skipped.
//
// Threading: start() runs one worker thread that loops run_once() and blocks in
// bus.wait_for_data() when idle (no sleeping). stop() is idempotent and wakes the waiter.
// run_once() may also be called directly (tests) when the worker is not running.
// caught_up(), lag(), health() are safe from any thread.
// Ownership: holds references to the bus and the store; both must outlive the loader.
// Start it after the bus and store are open; stop it before destroying either.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "bus/event_bus.h"
#include "core/health.h"
#include "core/result.h"
#include "core/topics.h"
#include "storage/candle_store.h"

namespace tickflow::storage {

// What a loader stores: candles (normalized.ohlcv → write), indicator records
// (processed.indicators → write_indicators) or alerts (processed.alerts →
// alerts()->write_alerts). Same positions, batching and DLQ rules.
enum class LoaderRecords : uint8_t { kCandles, kIndicators, kAlerts };

struct LoaderConfig {
  std::string name = "historical";  // health component and log prefix
  LoaderRecords records = LoaderRecords::kCandles;
  std::string group = "historical";
  std::string topic = std::string(topics::kNormalizedOhlcv);
  std::string dlq_topic = std::string(topics::kDlqMarketData);
  size_t max_batch_records = 5000;       // records read per run_once (across partitions)
  DurationNs idle_wait = kNsPerSec;      // wait_for_data timeout when caught up (re-checks after)
  DurationNs error_backoff = kNsPerSec;  // pause after a failed batch (stop() interrupts it)
};

// The sibling sink of processed.indicators: name "historical.indicators", group of the same
// name, records kIndicators (metrics tickflow_historical_indicators_written_total,
// tickflow_historical_indicators_lag_records).
LoaderConfig indicator_loader_config();
// The sink of processed.alerts into the store's alert history (stores with alerts() only; start()
// fails otherwise): name and group "historical.alerts", records kAlerts (metrics
// tickflow_historical_alerts_written_total, tickflow_historical_alerts_lag_records).
LoaderConfig alert_loader_config();

class HistoricalLoader {
 public:
  HistoricalLoader(bus::EventBus& bus, CandleStore& store, LoaderConfig config = {});
  ~HistoricalLoader();  // calls stop()
  HistoricalLoader(const HistoricalLoader&) = delete;
  HistoricalLoader& operator=(const HistoricalLoader&) = delete;

  // Starts the worker thread. Fails when the topic does not exist; a store that answers a
  // retryable error (database not reachable yet) is retried by the worker. Idempotent.
  Status start();
  // Stops and joins the worker. Idempotent; safe without start().
  void stop();

  // One batch: reads up to max_batch_records from the partitions behind the topic's end,
  // stores them with the new positions atomically. Returns the records consumed (0 = caught
  // up). On error nothing advanced; the same records are retried by the next call.
  Result<size_t> run_once();

  // True when every partition's stored position equals its end offset.
  bool caught_up() const;
  // Records behind the end offsets, summed over partitions (as of the last batch/check).
  int64_t lag() const;
  // Rows written: candles, indicator records (kIndicators) or alerts (kAlerts).
  uint64_t candles_written() const { return candles_written_.load(); }
  uint64_t undecodable() const { return undecodable_.load(); }
  // "historical": up; degraded with the last error while batches fail; down if not running
  // after start().
  ComponentHealth health() const;

 private:
  Status ensure_loaded() const;  // requires run_mu_
  void worker();

  bus::EventBus& bus_;
  CandleStore& store_;
  const LoaderConfig config_;

  mutable std::mutex run_mu_;               // serializes run_once / caught_up's refresh
  mutable std::vector<int64_t> positions_;  // next offset per partition (guarded by run_mu_)
  mutable bool loaded_ = false;
  size_t rr_start_ = 0;
  mutable std::atomic<int64_t> lag_{0};

  std::mutex lifecycle_mu_;  // serializes start() and stop()

  mutable std::mutex state_mu_;
  std::condition_variable state_cv_;
  std::thread thread_;
  bool running_ = false;
  bool stopping_ = false;
  bool exited_ = false;
  std::string last_error_;

  std::atomic<uint64_t> candles_written_{0};
  std::atomic<uint64_t> undecodable_{0};
};

}  // namespace tickflow::storage
