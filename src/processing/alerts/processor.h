// AlertProcessor: the alert stage of the pipeline. Consumes normalized.ohlcv (candles) and
// processed.indicators (indicator records) as consumer group "alerts", runs them through an
// AlertEngine and appends the Alert transitions to processed.alerts (key "exchange:symbol", or
// the exchange for feed-wide alerts).
//
// Exactly-once: every iteration commits the alerts, the engine state it changed (namespace
// "processor.alerts") and the group's next offsets of both topics in ONE bus Transaction, so a
// kill -9 and a restart publish exactly the alerts of an uninterrupted run: no loss, no
// duplicate (and ids are stable anyway, so receivers can dedup replays from elsewhere).
//
// Quality rules (stale_feed, quality_below) are evaluated every `quality_interval` of the clock
// on the readings returned by the `QualitySource` given at construction (none: never); those
// transitions are committed with the state like any other.
//
// Only the topics some rule reads are consumed (no rules on indicators: processed.indicators is
// not read). Records that do not decode are counted and skipped (their producer owns the DLQ).
//
// Provisional candles: without a live candle rule they are skipped unread (a wire peek). With
// one, a batch evaluates only the NEWEST provisional update of each series: an update that a
// later record of the same series in the batch (same or newer bar) supersedes is skipped
// undecoded; closed candles are always evaluated, in order. A live rule therefore sees the open
// bar at most every min_step_interval while the input trickles (the firing bar, hysteresis,
// cooldown and ids are unchanged; a flap within one batch is not seen).
//
// A batch that changed nothing (no alert, no state) is not committed on its own: its positions
// go with the next commit, at the latest after position_commit_interval of the clock, or when
// the input is drained. A crash replays those records, which again change nothing, so the
// exactly-once guarantee above holds.
//
// Metrics: tickflow_alerts_transitions_total{state,severity}, tickflow_alerts_records_total{topic}.
// Thread-safety and lifecycle as CandleProcessor: start()/stop() from one controlling thread;
// health(), stats(), caught_up() from any thread; run_once() only while the worker is not running.
// The bus and clock must outlive the processor.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "bus/event_bus.h"
#include "bus/stage_loop.h"
#include "core/analytics.h"
#include "core/candle.h"
#include "core/clock.h"
#include "core/health.h"
#include "core/result.h"
#include "processing/alerts/engine.h"
#include "processing/alerts/rule.h"

namespace tickflow::processing::alerts {

struct AlertProcessorConfig {
  std::vector<AlertRule> rules;  // validated (validate_rules)
  std::string group = "alerts";
  size_t max_batch = 2048;                          // records per iteration, both topics together
  DurationNs quality_interval = 5 * kNsPerSec;      // quality rules' evaluation cadence
  // While the input trickles, at most one batch per interval (alerts are at most this much
  // later; a backlog is read back to back). 0 = a batch per wake-up.
  DurationNs min_step_interval = 5 * kNsPerMs;
  // Positions of batches that changed nothing are committed at most this often (see above).
  // 0 = commit every batch.
  DurationNs position_commit_interval = 1 * kNsPerSec;
};

using QualitySource = std::function<std::vector<QualityReading>()>;

struct AlertProcessorStats {
  uint64_t records = 0;   // candle + indicator records consumed (committed)
  uint64_t undecodable = 0;
  uint64_t skipped = 0;   // provisional candles not evaluated (no live rule, or superseded in the batch)
  uint64_t firing = 0;    // firing transitions published
  uint64_t resolved = 0;
  uint64_t commits = 0;
  uint64_t commit_failures = 0;
};

inline constexpr std::string_view kAlertStateNamespace = "processor.alerts";

class AlertProcessor {
 public:
  AlertProcessor(bus::EventBus& bus, AlertProcessorConfig config, const Clock& clock, QualitySource quality = {});
  ~AlertProcessor();
  AlertProcessor(const AlertProcessor&) = delete;
  AlertProcessor& operator=(const AlertProcessor&) = delete;

  // Creates missing topics, restores the engine and the committed offsets, starts the thread.
  // Errors: invalid rules or config (kInvalidArgument naming the key), bus errors, corrupt state.
  Status start();
  void stop();  // idempotent; uncommitted work is dropped

  // One iteration without the thread (tests, tools). Returns the records consumed.
  Result<size_t> run_once();

  bool caught_up() const;
  ComponentHealth health() const;
  AlertProcessorStats stats() const;

 private:
  struct Batch;
  struct Probe;

  Status open();
  Result<size_t> step();
  Status build_batch(Batch& b);
  void evaluate_candles(const std::vector<bus::Record>& recs, Batch& b);
  Status commit_batch(const Batch& b);
  void after_commit(const Batch& b);
  void set_health(HealthState state, std::string detail);
  std::vector<std::string_view> input_topics() const;

  bus::EventBus& bus_;
  AlertProcessorConfig config_;
  const Clock& clock_;
  QualitySource quality_;
  Probe& probe_;

  // Owned by the consuming thread.
  std::unique_ptr<AlertEngine> engine_;
  bool opened_ = false;
  struct Input {
    std::string_view topic;
    std::vector<int64_t> read_pos;
    int32_t next_partition = 0;  // round-robin start, so no partition starves
  };
  std::vector<Input> inputs_;
  TimestampNs last_quality_ = 0;
  std::unique_ptr<Batch> pending_;
  std::unique_ptr<Batch> deferred_;  // positions of batches that changed nothing, not committed yet
  TimestampNs last_commit_ = 0;      // clock time of the last commit (or of open())
  Status fatal_;
  // Reused by evaluate_candles: decoded candles (newest first) and, per series, the newest bar
  // a later record of the batch carries (views into the records being evaluated).
  struct Newest {
    std::string_view exchange, symbol, timeframe;
    TimestampNs open_time;
  };
  std::vector<Candle> candles_;
  std::vector<Newest> newest_;

  mutable std::mutex mu_;
  // (topic, committed position per partition) per input, guarded by mu_.
  std::vector<std::pair<std::string_view, std::vector<int64_t>>> committed_pos_;
  AlertProcessorStats stats_;                         // guarded by mu_
  ComponentHealth health_;                            // guarded by mu_
  std::atomic<bool> opened_once_{false};

  bus::StageLoop loop_;  // last: its thread stops before the state above is destroyed
};

}  // namespace tickflow::processing::alerts
