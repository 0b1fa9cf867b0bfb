// QualityMonitor: the data-quality stage of the pipeline. Consumes trades from raw.market-data,
// feeds a QualityChecker, exports the quality metrics and offers thread-safe snapshots to the
// alert engine (snapshot()) and to GET /quality (report()).
//
// Order books: the monitor also reads the collectors' book snapshots from raw.orderbook (same
// start rule and group) and hands each one's best bid / ask to the checker (on_book_top): a
// crossed snapshot counts as a crossed_book finding of its feed and series, which lowers the
// score and shows in tickflow_quality_events_total{check="crossed_book"}.
//
// Quality is a measurement of the live stream, not a derived record: the monitor keeps its
// state in memory and by default starts reading at the END of every partition (a restart
// measures from then on; replaying the backlog with today's clock would misjudge staleness).
// With `from_committed = true` it resumes at the consumer group's committed position instead.
// It commits its read positions (group "quality", offsets only, no outputs) on every tick, so
// consumer-lag tooling sees it.
//
// Liveness: `liveness` (optional) is polled on every tick; a feed whose channel is connected and
// whose frame counter advanced is alive (QualityChecker::on_feed_alive), so a quiet symbol on a
// healthy connection never turns stale. Without it, a feed is alive only while trades arrive.
//
// Metrics (obs::registry()):
//   tickflow_quality_score{scope,exchange,symbol}              feed (symbol="") and configured series
//   tickflow_quality_last_data_age_seconds{scope,exchange,symbol} seconds since the newest event
//                                                              (since the monitor started, if none)
//   tickflow_quality_events_total{check,exchange}              findings per check (gap: gaps,
//                                                              stale: transitions into stale)
// Labels are bounded: exchanges, configured series, the check vocabulary.
//
// Thread-safety: start()/stop() from one controlling thread; snapshot(), report(), health(),
// overall_score() and stats() from any thread. run_once() only while the worker is not running.
// Lifecycle: construct → start() → stop() (idempotent, also in the destructor). The bus, the
// clock and whatever `liveness` captures must outlive the monitor.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "bus/event_bus.h"
#include "bus/stage_loop.h"
#include "core/analytics.h"
#include "core/clock.h"
#include "core/health.h"
#include "core/result.h"
#include "core/trade.h"
#include "processing/quality/checker.h"

namespace tickflow::quality {

// Evidence from a collector that its channel is alive.
struct FeedLiveness {
  Exchange exchange = Exchange::kBinance;
  bool connected = false;
  uint64_t frames = 0;  // frames received so far (monotonic)
};

struct QualityMonitorConfig {
  QualityConfig checker;
  std::vector<std::pair<Exchange, std::string>> series;  // configured (unified symbols)
  std::string group = "quality";
  bool from_committed = false;  // false: start at the end of the log
  size_t max_batch = 4096;
  DurationNs tick_interval = 1 * kNsPerSec;
  // At most one batch per interval while trades trickle in (a backlog is read back to back).
  DurationNs min_step_interval = 20 * kNsPerMs;
  std::function<std::vector<FeedLiveness>()> liveness;
};

struct QualityMonitorStats {
  uint64_t records = 0;
  uint64_t trades = 0;
  uint64_t undecodable = 0;
  uint64_t ticks = 0;
  uint64_t book_snapshots = 0;  // raw.orderbook snapshots checked
  uint64_t crossed_books = 0;   // of which crossed
};

class QualityMonitor {
 public:
  QualityMonitor(bus::EventBus& bus, QualityMonitorConfig config, const Clock& clock);
  ~QualityMonitor();
  QualityMonitor(const QualityMonitor&) = delete;
  QualityMonitor& operator=(const QualityMonitor&) = delete;

  // Validates the config, creates raw.market-data and raw.orderbook if missing, positions the reader and starts
  // the worker thread. Errors name the config key or carry the bus error.
  Status start();
  void stop();
  // One iteration without the thread (tests): open if needed, read what is available, tick if
  // due. Returns records consumed.
  Result<size_t> run_once();

  // Feeds first, then series (QualityChecker::readings) as of now. Thread-safe.
  std::vector<QualityReading> snapshot() const;
  std::vector<ScopeReport> report() const;
  // Lowest feed score (1 when there is no feed yet).
  double overall_score() const;
  ComponentHealth health() const;
  QualityMonitorStats stats() const;

  // A book top from elsewhere (the monitor reads raw.orderbook itself).
  void on_book_top(Exchange e, std::string_view symbol, const Decimal& bid, const Decimal& ask);

 private:
  struct Probe;

  Status open();
  Result<size_t> step();
  // Reads raw.orderbook with up to `budget` records; returns the records consumed.
  Result<size_t> step_books(size_t budget);
  void do_tick(TimestampNs now);

  bus::EventBus& bus_;
  const QualityMonitorConfig config_;
  const Clock& clock_;
  Probe& probe_;

  // Consumer-thread state.
  bool opened_ = false;
  int32_t partitions_ = 0;
  std::vector<int64_t> read_pos_;
  std::vector<int64_t> committed_pos_;
  TimestampNs last_tick_ = 0;
  std::vector<uint64_t> last_frames_;
  std::vector<bus::Record> recs_;
  Trade trade_;  // decoded in place, record after record
  std::vector<int64_t> book_pos_;            // raw.orderbook read positions
  std::vector<int64_t> book_committed_pos_;

  mutable std::mutex mu_;  // guards everything below
  std::unique_ptr<QualityChecker> checker_;
  TimestampNs started_at_ = 0;
  QualityMonitorStats stats_;
  ComponentHealth health_;

  bus::StageLoop loop_;  // last: its thread stops before the state above is destroyed
};

}  // namespace tickflow::quality
