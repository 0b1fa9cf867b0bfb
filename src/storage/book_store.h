// BookStore: order-book snapshot history by instrument and time, the sink of raw.orderbook.
//
// The BookLoader (storage/book_loader.h) writes a batch of snapshots together with its consumer
// positions in ONE atomic write (a RocksDB WriteBatch / a PostgreSQL transaction). A snapshot is
// identified by (exchange, symbol, BookSnapshot::time()); a repeated one is ignored (the stored
// one kept), so replays are idempotent. Snapshots older than RetentionConfig::orderbook are
// removed by CandleStore::enforce_retention.
// Backends: storage/embedded (RocksCandleStore, column family "books") and storage/postgres
// (PgCandleStore, table orderbook_snapshots).
// Thread-safety: all methods are safe to call concurrently.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/book_snapshot.h"
#include "core/result.h"
#include "storage/candle_store.h"

namespace tickflow::storage {

struct BookQuery {
  Exchange exchange = Exchange::kBinance;
  std::string symbol;           // unified
  TimestampNs start = 0;        // inclusive, on BookSnapshot::time()
  TimestampNs end = INT64_MAX;  // exclusive
  size_t limit = 100;           // the most recent `limit` snapshots of the range, oldest first
};

class BookStore {
 public:
  virtual ~BookStore() = default;
  // Inserts the snapshots not stored yet and sets the positions, atomically.
  virtual Status write_books(const std::vector<BookSnapshot>& snapshots,
                             const std::vector<ConsumerPosition>& positions) = 0;
  // Next offset the group should read (0 when unknown).
  virtual Result<int64_t> position(const std::string& group, const std::string& topic,
                                   int32_t partition) const = 0;
  // Ordered by time, oldest first (newest last).
  virtual Result<std::vector<BookSnapshot>> query_books(const BookQuery& q) const = 0;
};

}  // namespace tickflow::storage
