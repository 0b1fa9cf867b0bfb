// Candle retention per timeframe (architecture brief §6): 1m → 30 days, 1h → 1 year,
// 1d → 5 years by default; a timeframe without an entry is kept forever. Order-book snapshots:
// 7 days. Shared by the store backends. Thread-safety: plain value.
#pragma once

#include <map>
#include <string>

#include "core/time.h"

namespace tickflow::storage {

struct RetentionConfig {
  // Timeframe label ("1m", "1h", "1d", ...) → how long candles of that timeframe are kept.
  std::map<std::string, DurationNs> per_timeframe = {
      {"1m", 30 * kNsPerDay}, {"1h", 365 * kNsPerDay}, {"1d", 5 * 365 * kNsPerDay}};
  // Order-book snapshots (storage/book_store.h) older than this are removed (config key
  // storage.orderbook_retention). Must be positive.
  DurationNs orderbook = 7 * kNsPerDay;
};

}  // namespace tickflow::storage
