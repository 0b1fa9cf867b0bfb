// BookLoader: the order-book sink — raw.orderbook BookSnapshotEvents (all partitions) → BookStore.
//
// Exactly-once at the sink, like the TradeLoader: the consumer positions (group "orderbook")
// live in the store and each batch is one store.write_books(snapshots, positions) — one RocksDB
// WriteBatch or one PostgreSQL transaction; a snapshot is unique by (exchange, symbol, time), so
// a replay stores nothing twice. Records of other kinds are skipped; undecodable snapshots are
// counted (tickflow_books_sink_undecodable_total), logged and skipped.
// A failed batch (database down) is retried after error_backoff, doubling up to
// max_error_backoff; nothing advances until a batch is stored. At most max_batch_records are
// read per batch.
//
// Threading: start() runs one worker thread (wait_for_data when idle, no sleeping); stop() is
// idempotent. run_once() may be called directly (tests) when the worker is not running.
// Ownership: references the bus and the store; both must outlive the loader.
#pragma once

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "bus/event_bus.h"
#include "core/health.h"
#include "core/result.h"
#include "core/topics.h"
#include "storage/book_store.h"

namespace tickflow::storage {

struct BookLoaderConfig {
  std::string group = "orderbook";
  std::string topic = std::string(topics::kRawOrderbook);
  size_t max_batch_records = 5000;
  DurationNs idle_wait = kNsPerSec;
  DurationNs error_backoff = 200 * kNsPerMs;
  DurationNs max_error_backoff = 5 * kNsPerSec;
};

class BookLoader {
 public:
  BookLoader(bus::EventBus& bus, BookStore& store, BookLoaderConfig config = {});
  ~BookLoader();
  BookLoader(const BookLoader&) = delete;
  BookLoader& operator=(const BookLoader&) = delete;

  // Starts the worker. Fails when the topic does not exist; a store that is not reachable yet
  // is not an error (the worker retries). Idempotent.
  Status start();
  void stop();
  // One batch; returns the records consumed (0 = caught up). On error nothing advanced.
  Result<size_t> run_once();

  bool caught_up() const;
  int64_t lag() const { return lag_.load(); }
  uint64_t snapshots_written() const { return written_.load(); }
  // "orderbook": up with the lag; degraded with the last error while batches fail.
  ComponentHealth health() const;

 private:
  Status ensure_loaded() const;  // requires run_mu_
  void worker();

  bus::EventBus& bus_;
  BookStore& store_;
  const BookLoaderConfig config_;

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
  std::atomic<uint64_t> written_{0};
};

}  // namespace tickflow::storage
