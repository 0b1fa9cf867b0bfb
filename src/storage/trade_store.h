// TradeStore: trade history by instrument and event time (issue 6), the sink of raw trades.
//
// The TradeLoader (storage/trade_loader.h) writes a batch of trades together with its consumer
// positions in ONE atomic write; a trade is identified by (exchange, symbol, trade_id,
// aggregated) and a repeated one is ignored, so replays are idempotent.
// Backends: storage/postgres (PgCandleStore). The embedded store keeps no trades.
// Thread-safety: all methods are safe to call concurrently.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/result.h"
#include "core/trade.h"
#include "storage/candle_store.h"

namespace tickflow::storage {

struct TradeQuery {
  Exchange exchange = Exchange::kBinance;
  std::string symbol;            // unified
  TimestampNs start = 0;         // inclusive, on ts_event
  TimestampNs end = INT64_MAX;   // exclusive, on ts_event
  size_t limit = 1000;           // most recent `limit` trades of the range, returned oldest first
};

class TradeStore {
 public:
  virtual ~TradeStore() = default;
  // Inserts the trades not stored yet and sets the positions, atomically.
  virtual Status write_trades(const std::vector<Trade>& trades,
                              const std::vector<ConsumerPosition>& positions) = 0;
  // Next offset the group should read (0 when unknown).
  virtual Result<int64_t> position(const std::string& group, const std::string& topic,
                                   int32_t partition) const = 0;
  // Ordered by (ts_event, trade_id).
  virtual Result<std::vector<Trade>> query_trades(const TradeQuery& q) const = 0;
  // Loader writers that gain from writing in parallel (TradeLoaderConfig::writers = 0 uses it).
  virtual size_t write_parallelism() const { return 1; }
};

}  // namespace tickflow::storage
