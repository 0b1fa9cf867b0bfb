// TradeLoader: the trades sink — raw.market-data TradeEvents (all partitions) → TradeStore.
//
// Exactly-once at the sink, like the HistoricalLoader: the consumer positions (group "trades")
// live in the store and each batch is one store.write_trades(trades, positions); a trade is
// unique by (exchange, symbol, trade_id, aggregated), so a replay inserts nothing twice.
// Records of other kinds are skipped; undecodable trades are counted
// (tickflow_trades_sink_undecodable_total), logged and skipped (the candle processor already
// dead-letters bad raw records).
// A failed batch (database down) is retried after error_backoff, doubling up to
// max_error_backoff; nothing advances until a batch is stored. Memory stays bounded: at most
// max_batch_records are read per batch, the rest waits on the bus (lag grows as a metric).
//
// Parallel writers (TradeLoaderConfig::writers): sibling loaders on disjoint partitions, each
// batch one atomic write_trades of its rows and its own partitions' positions.
//
// Threading: start() runs one worker thread per writer (wait_for_data when idle, no sleeping);
// stop() is idempotent. run_once() may be called directly (tests) when the workers are not running.
// Ownership: references the bus and the store; both must outlive the loader.
#pragma once

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "bus/event_bus.h"
#include "core/health.h"
#include "core/result.h"
#include "core/topics.h"
#include "storage/trade_store.h"

namespace tickflow::storage {

struct TradeLoaderConfig {
  std::string group = "trades";
  std::string topic = std::string(topics::kRawMarketData);
  size_t max_batch_records = 20000;
  DurationNs idle_wait = kNsPerSec;
  DurationNs error_backoff = 200 * kNsPerMs;
  DurationNs max_error_backoff = 5 * kNsPerSec;
  // Parallel writers, as LoaderConfig::writers (storage/loader.h): writer w owns the partitions
  // p % writers == w, with its own worker, positions and write_trades transactions. 0 = the
  // store's write_parallelism(). Leave `writer` at 0.
  size_t writers = 0;
  size_t writer = 0;
};

class TradeLoader {
 public:
  TradeLoader(bus::EventBus& bus, TradeStore& store, TradeLoaderConfig config = {});
  ~TradeLoader();
  TradeLoader(const TradeLoader&) = delete;
  TradeLoader& operator=(const TradeLoader&) = delete;

  // Starts the worker. Fails when the topic does not exist; a store that is not reachable yet
  // is not an error (the worker retries). Idempotent.
  Status start();
  void stop();
  // One batch per writer, one after the other; returns the records consumed (0 = caught up). On
  // error nothing of the failing writer's batch advanced.
  Result<size_t> run_once();

  bool caught_up() const;
  int64_t lag() const;
  uint64_t trades_written() const;
  size_t writers() const { return 1 + siblings_.size(); }
  // "trades": up with the lag; degraded with the last error while batches fail.
  ComponentHealth health() const;

 private:
  Status ensure_loaded() const;  // requires run_mu_
  bool owns(size_t partition) const { return partition % writers_ == config_.writer; }
  Result<size_t> run_batch();    // this writer's batch
  bool own_caught_up() const;
  void worker();

  bus::EventBus& bus_;
  TradeStore& store_;
  const TradeLoaderConfig config_;
  const size_t writers_;
  const TradeLoader* root_;                             // writer 0 (this one or the owner)
  std::vector<std::unique_ptr<TradeLoader>> siblings_;  // writers 1.. (writer 0 only)

  mutable std::mutex run_mu_;
  mutable std::vector<int64_t> positions_;
  mutable bool loaded_ = false;
  mutable std::atomic<int64_t> lag_{0};

  std::mutex lifecycle_mu_;
  mutable std::mutex state_mu_;
  std::condition_variable state_cv_;
  std::thread thread_;
  bool running_ = false;
  bool stopping_ = false;
  bool exited_ = false;
  std::string last_error_;
  std::atomic<uint64_t> trades_written_{0};
};

}  // namespace tickflow::storage
