// CacheWriter: the cache stage — normalized.ohlcv, processed.indicators and processed.alerts
// (every partition, group "cache") → LatestCache, newest value per key.
//
// Each batch is coalesced to the newest value per key (by rank, latest_cache.h; log order
// breaks ties) and written in one pipelined round trip; then the group's positions are
// committed on the bus. A crash between the two replays the batch, which the rank rule makes
// harmless. The cache is not a system of record, so the writer never blocks the pipeline: it is
// a separate consumer; when the cache is down the batch fails, the positions stay, and the
// writer retries with exponential backoff while its lag (a metric) grows.
//
// Cache loss is harmless: at start, and whenever the cache's marker is missing (checked every
// `marker_check` — a FLUSHALL, a restart without persistence), the writer rebuilds
// the latest values from the store (CandleStore::list_series, then query / query_indicators
// with limit 1 per series) before it goes on with the stream; the rank rule keeps newer
// streamed values over older stored ones.
// Undecodable records are counted (tickflow_cache_undecodable_total) and skipped (the
// historical loader already sends them to the DLQ).
//
// Metrics: tickflow_cache_writes_total (keys written), tickflow_cache_write_errors_total,
// tickflow_cache_lag_records, tickflow_cache_rebuilds_total, tickflow_cache_write_seconds.
// Threading: start() runs one worker thread (blocks in bus.wait_for_data when idle); stop() is
// idempotent. run_once()/rebuild() may be called directly when the worker is not running.
// lag(), caught_up(), health() are safe from any thread.
// Ownership: references to bus, cache and (optional) store; all must outlive the writer.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "bus/event_bus.h"
#include "cache/latest_cache.h"
#include "core/health.h"
#include "core/topics.h"
#include "storage/candle_store.h"

namespace tickflow::cache {

struct CacheWriterConfig {
  std::string group = "cache";
  std::vector<std::string> topics = {std::string(topics::kNormalizedOhlcv),
                                     std::string(topics::kProcessedIndicators),
                                     std::string(topics::kProcessedAlerts)};
  size_t max_batch_records = 5000;
  DurationNs idle_wait = kNsPerSec;            // wait_for_data timeout when caught up
  DurationNs marker_check = kNsPerSec;         // how often the rebuild marker is checked
  DurationNs backoff_initial = 100 * kNsPerMs;  // after a failed batch, doubling...
  DurationNs backoff_max = 5 * kNsPerSec;       // ...up to this
};

class CacheWriter {
 public:
  // store may be null: no rebuild (the cache then fills from the stream only).
  CacheWriter(bus::EventBus& bus, LatestCache& cache, const storage::CandleStore* store, CacheWriterConfig config = {});
  ~CacheWriter();
  CacheWriter(const CacheWriter&) = delete;
  CacheWriter& operator=(const CacheWriter&) = delete;

  Status start();
  void stop();

  // Checks the marker (rebuilding if missing, at most every marker_check unless forced by a
  // previous failure), then one batch. Returns records consumed (0 = caught up). On error
  // nothing advanced.
  Result<size_t> run_once();
  // Rebuilds the latest values from the store and sets the marker. Returns keys written.
  Result<size_t> rebuild();

  bool caught_up() const;
  int64_t lag() const { return lag_.load(); }
  uint64_t keys_written() const { return keys_written_.load(); }
  uint64_t rebuilds() const { return rebuilds_.load(); }
  // "cache-writer": up (lag in detail), degraded with the last error while batches fail.
  ComponentHealth health() const;

 private:
  struct TopicState {
    std::string name;
    std::vector<int64_t> positions;  // next offset per partition
  };
  Status load_topics();  // requires run_mu_
  Status check_marker(bool force);
  void note_lag();  // lag from the committed positions (requires run_mu_)
  void worker();

  bus::EventBus& bus_;
  LatestCache& cache_;
  const storage::CandleStore* store_;
  const CacheWriterConfig config_;

  mutable std::mutex run_mu_;
  std::vector<TopicState> topics_;  // guarded by run_mu_
  std::chrono::steady_clock::time_point last_marker_check_{};
  bool marker_ok_ = false;
  mutable std::atomic<int64_t> lag_{0};

  std::mutex lifecycle_mu_;
  mutable std::mutex state_mu_;
  std::condition_variable state_cv_;
  std::thread thread_;
  bool running_ = false;
  bool stopping_ = false;
  bool exited_ = false;
  std::string last_error_;

  std::atomic<uint64_t> keys_written_{0};
  std::atomic<uint64_t> rebuilds_{0};
};

}  // namespace tickflow::cache
