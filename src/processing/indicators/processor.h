// IndicatorProcessor: the indicator stage of the pipeline (issue 4 item 1).
//
// Consumes normalized.ohlcv (every partition, consumer group "indicators"), keeps one
// SeriesIndicators (series_state.h: an IndicatorSet + checkpoints of the last K bars) per
// series, feeds it FINAL and CORRECTED candles (provisional ones are skipped) and publishes one
// IndicatorRecord per closed candle on processed.indicators (key: instrument key, so one
// instrument stays ordered). Rules for replays, corrections and gaps: series_state.h.
// K = ceil(correction_horizon / timeframe) + 1, capped by max_checkpoints.
//
// Exactly-once: every batch is ONE bus Transaction holding the records, the state blob of every
// series the batch changed (namespace "processor.indicators", key = series key) and the group's
// next offsets. A kill -9 at any instant leaves all or none; a restart restores the series from
// the committed blobs and resumes at the committed offsets, so it publishes exactly the records
// an uninterrupted run publishes. A batch that changed nothing (provisional updates only) is
// folded into the next commit instead (position_commit_interval): fewer writes to the bus.
//
// Warm-up: when a series is first seen (no state, or the configured spec changed so its saved
// state does not restore), the last warmup_bars() closed candles before the candle being
// processed are read from the CandleStore and fed without publishing, so the first record
// published already carries every value. A store error there is logged and the series starts
// cold (values appear once warmed up).
//
// Specs: `spec` for every timeframe, `timeframe_specs` (label → spec) overrides it per timeframe.
//
// Metrics: tickflow_indicators_candles_total{outcome}, tickflow_indicators_records_total,
// tickflow_indicators_warmups_total, tickflow_indicators_commit_seconds,
// tickflow_indicators_consumer_lag_records, tickflow_indicators_series.
//
// Thread-safety / lifecycle: as CandleProcessor (construct → start() → stop(); run_once() only
// while the worker is not running; health(), stats(), caught_up() from any thread). The bus,
// store and clock must outlive the processor.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "bus/event_bus.h"
#include "bus/stage_loop.h"
#include "core/clock.h"
#include "core/health.h"
#include "core/result.h"
#include "processing/indicators/series_state.h"
#include "storage/candle_store.h"

namespace tickflow::processing::indicators {

inline constexpr std::string_view kIndicatorStateNamespace = "processor.indicators";

struct IndicatorProcessorConfig {
  std::string spec = std::string(kDefaultIndicatorSpec);
  std::map<std::string, std::string> timeframe_specs;  // timeframe label → spec (overrides)
  DurationNs correction_horizon = kNsPerHour;          // the candle stage's horizon
  uint32_t max_checkpoints = 256;
  bool warmup = true;
  std::string group = "indicators";
  size_t max_batch = 2048;
  // While the input trickles, at most one batch per interval (indicator records are at most this
  // much later; a backlog is read back to back). 0 = a batch per wake-up.
  DurationNs min_step_interval = 5 * kNsPerMs;
  // A batch that changed nothing (only provisional updates skipped, replays ignored) is not
  // committed on its own: its positions go with the next batch that publishes, at the latest
  // after this interval of the clock, or when the input is drained (a crash replays those
  // records, which again change nothing). 0 = commit every batch.
  DurationNs position_commit_interval = 1 * kNsPerSec;

  // kInvalidArgument naming the key ("indicators.spec", "indicators.timeframes.1h") and the
  // parser's reason.
  Status validate() const;
  const std::string& spec_for(const Timeframe& tf) const;
};

struct IndicatorProcessorStats {
  uint64_t records_in = 0;   // normalized.ohlcv records consumed (committed)
  uint64_t closed = 0;       // final/corrected candles seen
  uint64_t applied = 0;      // new bars
  uint64_t gaps = 0;         // new bars after missing ones
  uint64_t corrections = 0;  // corrections replayed
  uint64_t duplicates = 0;
  uint64_t too_old = 0;
  uint64_t rejected = 0;
  uint64_t undecodable = 0;
  uint64_t published = 0;    // indicator records published
  uint64_t warmups = 0;
  uint64_t commits = 0;
  uint64_t commit_failures = 0;
};

class IndicatorProcessor {
 public:
  IndicatorProcessor(bus::EventBus& bus, const storage::CandleStore& store, IndicatorProcessorConfig config,
                     const Clock& clock);
  ~IndicatorProcessor();
  IndicatorProcessor(const IndicatorProcessor&) = delete;
  IndicatorProcessor& operator=(const IndicatorProcessor&) = delete;

  // Validates the config, creates missing topics, restores the series state and offsets, runs
  // the worker. kCorruption when a stored blob is corrupt.
  Status start();
  void stop();
  Result<size_t> run_once();

  bool caught_up() const;
  ComponentHealth health() const;
  IndicatorProcessorStats stats() const;
  size_t series_count() const;

 private:
  struct Batch;
  struct Probe;

  Status open();
  Result<size_t> step();
  Status build_batch(Batch& b);
  void on_candle(const Candle& c, Batch& b);
  SeriesIndicators* series_for(const Candle& c, Batch& b);
  Status commit_batch(const Batch& b);
  void after_commit(const Batch& b);
  void set_health(HealthState state, std::string detail);
  void update_lag_gauge();

  bus::EventBus& bus_;
  const storage::CandleStore& store_;
  const IndicatorProcessorConfig config_;
  const Clock& clock_;
  Probe& probe_;

  // Owned by the consuming thread.
  std::unordered_map<std::string, SeriesIndicators> series_;
  bool opened_ = false;
  int32_t partitions_ = 0;
  std::vector<int64_t> read_pos_;
  int32_t next_partition_ = 0;
  std::unique_ptr<Batch> pending_;
  std::unique_ptr<Batch> deferred_;  // positions of batches that changed nothing, not committed yet
  TimestampNs last_commit_ = 0;      // clock time of the last commit (or of open())
  Status fatal_;

  mutable std::mutex mu_;
  std::vector<int64_t> committed_pos_;
  IndicatorProcessorStats stats_;
  size_t series_count_ = 0;
  ComponentHealth health_;

  bus::StageLoop loop_;  // last: its thread stops before the state above is destroyed
};

}  // namespace tickflow::processing::indicators
