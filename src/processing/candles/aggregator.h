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
#include <utility>
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

// State changes since the previous CandleEngine::take_dirty(): keys to put and keys to delete.
// A key never appears in both.
struct StateDelta {
  std::vector<std::pair<std::string, std::string>> puts;
  std::vector<std::string> deletes;

  bool empty() const { return puts.empty() && deletes.empty(); }
  size_t put_bytes() const {
    size_t n = 0;
    for (const auto& [k, v] : puts) n += k.size() + v.size();
    return n;
  }
};

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
  // The caller could not observe its input until `now` (a broker outage, reads that failed or
  // hung): quiet periods restart at `now`, so on_timer does not finalize a window for a silence
  // that was the input's unavailability (its trades may still be on their way). `now` may be in
  // the future: no silence counts before it (the processor holds for as long as the outage
  // lasted). Changes no persisted state.
  void restart_quiet(TimestampNs now);
  // End of input: emits the current state of every window not yet emitted in that state.
  void flush(std::vector<CandleUpdate>& out);

  // State persistence for exactly-once, split so a batch writes only what changed:
  // - a head per instrument, key instrument_key() ("binance:BTC-USDT"): watermark, dedup,
  //   throttling and the open windows; rewritten whenever the instrument changed;
  // - one key per closed window kept for corrections, window_state_key() ("binance:BTC-USDT/
  //   1m/<open_time>"): put when it closes and again only when corrected or re-flattened,
  //   deleted once it falls out of the correction horizon.
  // The caller applies puts and deletes in the same transaction as the outputs and offsets.
  // Size of a batch's delta is bounded by what the batch touched, not by retained windows.
  StateDelta take_dirty();
  // Restores one key/value of a take_dirty() delta at start-up. An instrument's head must be
  // restored before its windows (key order guarantees it: the head key is their prefix), else
  // kCorruption. Also accepts the former one-blob-per-instrument format (v1); such an
  // instrument is marked dirty so the next take_dirty() rewrites it in the split format.
  // Windows of timeframes no longer configured are dropped and deleted by the next delta.
  Status restore(std::string_view key, std::string_view blob);
  // Key of the closed window of timeframe tf opening at open_time (zero-padded, so key order
  // is time order within a series).
  static std::string window_state_key(std::string_view instrument_key, const Timeframe& tf,
                                      TimestampNs open_time);

  size_t instrument_count() const;
  size_t open_window_count() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace tickflow::processing
