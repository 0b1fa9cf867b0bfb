// CandleStore: candle history by series and open time (architecture brief §6).
//
// The store is a sink of normalized.ohlcv: the historical loader writes a batch of candle
// updates together with its consumer position in ONE atomic write, so a crash and restart
// neither loses nor repeats an update. For each (series, open_time) the store keeps the update
// with the highest Candle::precedence() (revision, then final over provisional); an equal or
// lower one is ignored, which makes replays idempotent.
//
// Backends: storage/embedded (RocksDB, ZSTD), storage/postgres (PostgreSQL / TimescaleDB).
// Thread-safety: all methods are safe to call concurrently.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/analytics.h"
#include "core/candle.h"
#include "core/health.h"
#include "core/result.h"

namespace tickflow::storage {

class TradeStore;
class AlertStore;
class BookStore;

struct ConsumerPosition {
  std::string group;
  std::string topic;
  int32_t partition = 0;
  int64_t next_offset = 0;
};

struct CandleQuery {
  Exchange exchange = Exchange::kBinance;
  std::string symbol;  // unified
  Timeframe timeframe;
  TimestampNs start = 0;          // inclusive, on open_time
  TimestampNs end = INT64_MAX;    // exclusive, on open_time
  size_t limit = 1000;            // most recent `limit` candles of the range, returned oldest first
};

struct IndicatorQuery {
  Exchange exchange = Exchange::kBinance;
  std::string symbol;  // unified
  Timeframe timeframe;
  std::vector<std::string> names;  // outputs to return (empty = all)
  TimestampNs start = 0;          // inclusive, on open_time
  TimestampNs end = INT64_MAX;    // exclusive, on open_time
  size_t limit = 1000;            // most recent `limit` records of the range, oldest first
};

struct SeriesInfo {
  Exchange exchange;
  std::string symbol;
  std::string timeframe;
  int64_t candles = 0;
};

class CandleStore {
 public:
  virtual ~CandleStore() = default;

  // Upserts candles (keeping the highest precedence per key) and sets the positions, atomically.
  virtual Status write(const std::vector<Candle>& candles,
                       const std::vector<ConsumerPosition>& positions) = 0;
  // Next offset the group should read (0 when unknown).
  virtual Result<int64_t> position(const std::string& group, const std::string& topic,
                                   int32_t partition) const = 0;

  virtual Result<std::vector<Candle>> query(const CandleQuery& q) const = 0;

  // Indicator history (processed.indicators), same contract as write(): per (series, open_time)
  // the record with the highest candle_revision is kept (an equal one is ignored); provisional
  // records are never stored. Records and positions are written atomically.
  virtual Status write_indicators(const std::vector<IndicatorRecord>& records,
                                  const std::vector<ConsumerPosition>& positions) = 0;
  virtual Result<std::vector<IndicatorRecord>> query_indicators(const IndicatorQuery& q) const = 0;
  // True when the series has at least one stored candle.
  virtual Result<bool> has_series(Exchange e, const std::string& symbol,
                                  const Timeframe& tf) const = 0;
  virtual Result<std::vector<SeriesInfo>> list_series() const = 0;

  // Drops candles older than the per-timeframe retention (and, where books() is kept, book
  // snapshots older than RetentionConfig::orderbook). Returns how many were removed.
  virtual Result<int64_t> enforce_retention(TimestampNs now) = 0;

  // The backend's own health for GET /health (e.g. "postgres"); nullopt when it has none
  // beyond the process (embedded).
  virtual std::optional<ComponentHealth> health() const { return std::nullopt; }
  // Loader writers that gain from writing in parallel (LoaderConfig::writers = 0 uses it).
  virtual size_t write_parallelism() const { return 1; }
  // The backend's trade history (storage/trade_store.h), or nullptr when it keeps no trades.
  virtual TradeStore* trades() { return nullptr; }
  // The backend's alert history (storage/alert_store.h), or nullptr when it keeps no alerts.
  virtual AlertStore* alerts() { return nullptr; }
  // The backend's order-book snapshot history (storage/book_store.h), or nullptr without one.
  virtual BookStore* books() { return nullptr; }
};

}  // namespace tickflow::storage
