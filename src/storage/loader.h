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
// Parallel writers (LoaderConfig::writers, by default the store's write_parallelism()): the
// loader owns writers-1 sibling loaders, each on a disjoint set of partitions (p % writers) with
// its own worker, positions and batches; every batch is still one atomic store.write of its rows
// and its own partitions' positions, so the exactly-once argument holds per writer. A key
// (instrument) always maps to one partition, so two writers never write the same series.
//
// Threading: start() runs one worker thread per writer that loops over its batches and blocks in
// bus.wait_for_data() when idle (no sleeping). stop() is idempotent and wakes the waiters.
// run_once() may also be called directly (tests) when the workers are not running.
// caught_up(), lag(), health() are safe from any thread.
// Ownership: holds references to the bus and the store; both must outlive the loader.
// Start it after the bus and store are open; stop it before destroying either.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
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
  // Parallel writers: writer w owns the partitions p with p % writers == w, and writes its own
  // batches (its rows and its partitions' positions in one store.write) from its own thread on
  // its own store connection. 0 = the store's write_parallelism(). Leave `writer` at 0: the
  // loader gives its sibling writers 1..writers-1.
  size_t writers = 0;
  size_t writer = 0;
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

  // One batch per writer, one writer after the other: reads up to max_batch_records from the
  // writer's partitions behind the topic's end, stores them with the new positions atomically.
  // Returns the records consumed (0 = caught up). On error nothing of the failing writer's batch
  // advanced (the others' batches are stored); the same records are retried by the next call.
  Result<size_t> run_once();

  // True when every partition's stored position equals its end offset.
  bool caught_up() const;
  // Records behind the end offsets, summed over partitions (as of the last batch/check).
  int64_t lag() const;
  // Rows written: candles, indicator records (kIndicators) or alerts (kAlerts).
  uint64_t candles_written() const;
  uint64_t undecodable() const;
  size_t writers() const { return 1 + siblings_.size(); }
  // "historical": up; degraded with the last error while batches fail; down if not running
  // after start().
  ComponentHealth health() const;

 private:
  Status ensure_loaded() const;  // requires run_mu_
  bool owns(size_t partition) const { return partition % writers_ == config_.writer; }
  Result<size_t> run_batch();    // this writer's batch
  bool own_caught_up() const;
  void worker();

  bus::EventBus& bus_;
  CandleStore& store_;
  const LoaderConfig config_;
  const size_t writers_;
  const HistoricalLoader* root_;                             // writer 0 (this one or the owner)
  std::vector<std::unique_ptr<HistoricalLoader>> siblings_;  // writers 1.. (writer 0 only)

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
