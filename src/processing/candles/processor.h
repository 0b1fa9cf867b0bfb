// CandleProcessor: the candle stage of the pipeline (architecture brief §3, §5).
//
// Consumes trades from raw.market-data, runs them through a CandleEngine and publishes candle
// updates to normalized.ohlcv. Exactly-once: every batch is committed in ONE bus Transaction
// holding the candle updates, the dead letters, the engine state the batch changed (namespace
// "processor.candles": puts and deletes of CandleEngine::take_dirty(), an instrument head under
// instrument_key and closed windows under their own keys) and the consumer group's next
// offsets for every partition it read. A crash at any instant leaves all or none of it; a
// restart restores the engine from the committed state and resumes at the committed offsets,
// so the output neither loses nor repeats anything.
//
// Several instances: a static split (instance i of n owns the partitions p % n == i), or a
// consumer group (group_membership): see ProcessorConfig and src/bus/README.md.
//
// Records that do not decode as trades go to dlq.market-data with reason "undecodable"; trades
// beyond the engine's correction horizon go there with reason "too_late" (payload: the trade
// record verbatim). Duplicates (same trade key) are counted and change nothing.
//
// Wall-clock finals (CandleEngine::on_timer, windows of quiet instruments) only while the input
// is read to its end: not during a backlog, and not while raw.market-data cannot be read (a
// failed read, or reads hanging > 1 s on a broker outage, when the collector may be holding
// trades it cannot publish); once it is readable again the engine's quiet periods restart, and
// a silence is trusted only after it has lasted as long as the outage did (at least 1 s, at most
// 60 s): the collector may still be republishing what it held during the outage.
//
// Pipelined commits (max_commits_in_flight, processor_commit.cc): the worker reads and builds the
// next batch while up to that many earlier commits are in flight (Transaction::commit_async: on
// Kafka, their outputs being acknowledged); each batch's state and positions are applied in
// order, only after every earlier batch's. A failed commit cancels the later ones and all their
// batches are committed again, in order (acknowledged outputs of a cancelled commit are
// duplicates the sinks drop, as after a crash between produce and local write). run_once()
// commits before it returns; stop() finishes what is in flight.
//
// Commit failures: a retryable Status (Status::retryable) retries the same batch after a
// backoff; any other error (kIo: disk full) is logged, health goes down and consumption stops
// with nothing advanced past what was committed (a restart resumes exactly).
//
// Metrics (obs::registry()): tickflow_processor_trades_total{exchange}, _duplicates_total,
// _late_trades_total{outcome=corrected|too_late}, _dead_letters_total{reason},
// _candle_updates_total{timeframe,status}, _commit_seconds, _consumer_lag_records (updated on
// timer ticks), _open_windows, _e2e_latency_seconds (commit time − ts_recv of the newest trade,
// on provisional and corrected updates; finals wait for the grace period by design).
//
// Thread-safety: start()/stop() from one controlling thread. health(), stats() and
// caught_up() are safe from any thread. run_once() is for tests and tools: call it only while
// the worker thread is not running.
// Lifecycle: construct → start() → stop() (idempotent; also called by the destructor). The bus
// and clock must outlive the processor. start() after stop() resumes from the committed state.
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "bus/event_bus.h"
#include "bus/stage_loop.h"
#include "core/clock.h"
#include "core/health.h"
#include "core/result.h"
#include "processing/candles/aggregator.h"

namespace prometheus {
class Gauge;
}  // namespace prometheus

namespace tickflow::processing {

struct ProcessorConfig {
  CandleConfig candles;
  std::string group = "processor";  // consumer group of raw.market-data
  size_t max_batch = 2048;          // records read per iteration, all partitions together
  DurationNs timer_interval = 100 * kNsPerMs;  // engine.on_timer cadence (clock time)
  // Static partition assignment over several processor instances (no group membership): this
  // instance consumes the raw.market-data partitions p with p % instances == instance. Each
  // instance keeps its own state (its own bus sidecar); the split must not change while state
  // exists (an instrument's state lives with the instance that owns its partition).
  int32_t instances = 1;
  int32_t instance = 0;
  bool owns(int32_t partition) const { return partition % instances == instance; }
  // Consumer-group mode (EventBus::join_group; the Kafka bus): the group's members share the
  // partitions (cooperative-sticky rebalancing; instance/instances unused). On assignment the
  // partition's state and position are restored from the store's changelog topic
  // (<group>-candles-changelog) before it is read; on revocation what was consumed is committed
  // and the partition is released. The engine holds the instruments of owned partitions only.
  bool group_membership = false;
  DurationNs session_timeout = 10 * kNsPerSec;
  // Commits in flight (Transaction::commit_async): the next batch is read and built while the
  // previous ones' outputs are being acknowledged (Kafka). Their state and positions are applied
  // in order, each only after every earlier one; a failed one is committed again with all the
  // batches after it, in order. 1 = each batch is committed before the next is read. Buses that
  // commit at once (embedded) and Kafka commits with a changelog or a Kafka transaction
  // (consumer-group mode, exactly_once_v2) are not pipelined whatever the value.
  size_t max_commits_in_flight = 4;
};

struct ProcessorStats {
  uint64_t records = 0;     // raw records consumed (committed)
  uint64_t trades = 0;      // trades applied
  uint64_t duplicates = 0;
  uint64_t too_late = 0;
  uint64_t undecodable = 0;
  uint64_t rejected_future = 0;  // event time > receive time + 5 min → dead letter
  uint64_t updates = 0;     // candle updates published
  uint64_t commits = 0;     // successful transactions
  uint64_t commit_failures = 0;
};

// State namespace of the engine's per-instrument blobs in the bus.
inline constexpr std::string_view kProcessorStateNamespace = "processor.candles";

class CandleProcessor {
 public:
  CandleProcessor(bus::EventBus& bus, ProcessorConfig config, const Clock& clock);
  ~CandleProcessor();
  CandleProcessor(const CandleProcessor&) = delete;
  CandleProcessor& operator=(const CandleProcessor&) = delete;

  // Creates the topics it uses if missing, restores engine state and committed offsets, then
  // runs the consumer thread. Errors: invalid config (kInvalidArgument naming the key), the bus
  // could not be read, or the stored state is corrupt (kCorruption naming the instrument).
  Status start();
  // Stops the consumer thread (idempotent). Uncommitted work is dropped, never half-written.
  void stop();

  // One iteration of the consumer loop without the thread: restore if not yet done, read up to
  // max_batch available records, apply them, run the timer if due, commit. Returns the number
  // of raw records consumed (0 when nothing was available). A retryable commit failure returns
  // the error and the same batch is retried by the next call; a fatal one stops the processor.
  Result<size_t> run_once();

  // True when the committed position of every partition of raw.market-data is at its end.
  bool caught_up() const;
  ComponentHealth health() const;
  ProcessorStats stats() const;
  const ProcessorConfig& config() const { return config_; }

 private:
  struct Batch;
  struct Probe;
  struct InFlight;

  Status open();
  Status load();             // engine and positions from the bus, for the owned partitions
  Status sync_assignment();  // group mode: apply the membership's latest assignment
  bool owns(int32_t partition) const { return owned_[static_cast<size_t>(partition)] != 0; }
  Status ensure_topics();
  // processor_commit.cc: one iteration with up to `depth` commits left in flight.
  Result<size_t> step(size_t depth);
  Status build_batch(Batch& batch);
  std::unique_ptr<bus::PendingCommit> commit_batch(const Batch& batch);
  // Finishes the commits in flight, oldest first: those already acknowledged, and more (waiting)
  // until at most `max_left` remain. Adds the records of the finished batches to *finished.
  Status finish_commits(size_t max_left, size_t* finished);
  Status commit_failed(const Status& s);
  void after_commit(const Batch& batch);
  void set_health(HealthState state, std::string detail);
  void update_lag_gauge();
  // The process-wide gauges are the sums over the processors sharing them (stream threads):
  // each moves a gauge by the change of its own share.
  static void add_share(prometheus::Gauge& gauge, double& share, double value);
  double lag_share_ = 0, open_windows_share_ = 0;  // this processor's part of the gauges (loop thread)

  bus::EventBus& bus_;
  const ProcessorConfig config_;
  const Clock& clock_;
  Probe& probe_;

  // Owned by the consuming thread (the worker, or the run_once caller).
  std::unique_ptr<CandleEngine> engine_;
  bool opened_ = false;
  int32_t partitions_ = 0;
  std::vector<int64_t> read_pos_;  // next offset to read, per partition
  int32_t next_partition_ = 0;     // round-robin start, so no partition starves
  TimestampNs last_timer_ = 0;
  // The last batch could not read its input to the end (a read failed or hung): on_timer waits
  // until it can, then the engine's quiet periods restart (CandleEngine::restart_quiet).
  bool input_impaired_ = false;
  TimestampNs impaired_since_ = 0;  // start of the read during which the input was first impaired
  std::vector<InFlight> inflight_;           // commits started, oldest first
  std::deque<std::unique_ptr<Batch>> retry_;  // built, to commit again in order (a commit failed)
  std::vector<char> owned_;          // per partition: consumed by this instance
  std::unique_ptr<bus::GroupMembership> member_;  // group mode
  uint64_t synced_generation_ = 0;   // the membership generation applied (0: none yet)
  Status fatal_;                     // non-ok once a non-retryable commit failed

  // Shared with other threads.
  mutable std::mutex mu_;
  std::vector<int64_t> committed_pos_;  // guarded by mu_
  std::vector<char> owned_shared_;      // guarded by mu_: owned_ for caught_up() and the lag gauge
  ProcessorStats stats_;                // guarded by mu_
  ComponentHealth health_;              // guarded by mu_

  bus::StageLoop loop_;  // last: its thread stops before the state above is destroyed
};

}  // namespace tickflow::processing
