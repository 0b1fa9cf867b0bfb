// Candle aggregation: trades → OHLCV candles with revisions (architecture brief §3).
//
// Pure and clock-free: callers pass `now` (wall clock, for throttling and quiet-series timers);
// event time comes from the trades. One InstrumentAggregator holds every timeframe of one
// instrument (exchange, symbol); CandleEngine holds all instruments.
//
// Semantics:
// - windows on event time aligned to the UTC epoch (Timeframe::open_time);
// - provisional updates while a window is open, at most one per provisional_interval of `now`
//   per series (0 disables provisional updates, as in the offline `tickflow candles`);
// - final once the instrument's watermark (max ts_event seen) passes end + grace, or when the
//   wall clock says so for a quiet but healthy feed (on_timer: watermark extrapolated by the
//   wall time elapsed since it was observed);
// - a late trade for a final window within correction_horizon → corrected, revision + 1;
//   older → TradeOutcome::kTooLate (the caller sends it to the dead-letter topic);
// - a repeated trade key (trade_id) → kDuplicate, changes nothing;
// - empty intervals between two windows of a healthy feed → flat candles (O=H=L=C=previous
//   close, zero volume, trade ids -1).
// Thread-safety: not thread-safe; one owner thread.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/candle.h"
#include "core/result.h"
#include "core/trade.h"

namespace tickflow::processing {

struct CandleConfig {
  std::vector<Timeframe> timeframes = default_timeframes();
  DurationNs grace = 2 * kNsPerSec;
  DurationNs correction_horizon = kNsPerHour;
  DurationNs provisional_interval = 250 * kNsPerMs;
  bool emit_empty = true;
};

struct CandleUpdate {
  Candle candle;
  TimestampNs last_trade_recv = 0;  // ts_recv of the newest trade applied (latency metrics)
};

enum class TradeOutcome { kApplied, kDuplicate, kTooLate };

// All instruments. The implementation (helper "candles") may add private members and helper
// classes (e.g. a per-instrument InstrumentAggregator), but keeps this public API.
class CandleEngine {
 public:
  explicit CandleEngine(CandleConfig config);
  ~CandleEngine();
  CandleEngine(CandleEngine&&) noexcept;
  CandleEngine& operator=(CandleEngine&&) noexcept;

  const CandleConfig& config() const;

  // Applies one trade; appends resulting updates (provisional if due, finals, corrections,
  // flat candles) to out.
  TradeOutcome on_trade(const Trade& trade, TimestampNs now, std::vector<CandleUpdate>& out);
  // Wall-clock tick (call every ~100 ms): finalizes due windows of quiet instruments and emits
  // throttled provisional updates that are due.
  void on_timer(TimestampNs now, std::vector<CandleUpdate>& out);
  // End of input: emits the current state of every window not yet emitted in that state.
  void flush(std::vector<CandleUpdate>& out);

  // State persistence for exactly-once: the instruments changed since the last
  // take_dirty() call, each serialized as one opaque blob keyed by instrument_key().
  std::vector<std::pair<std::string, std::string>> take_dirty();
  // Restores one instrument's blob (from take_dirty) at start-up.
  Status restore(std::string_view key, std::string_view blob);

  size_t instrument_count() const;
  size_t open_window_count() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace tickflow::processing
