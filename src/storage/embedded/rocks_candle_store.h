// RocksCandleStore: the embedded CandleStore (architecture brief §6) over its own RocksDB.
//
// Layout (column families):
//   candles    u8(exchange) symbol \0 be64(timeframe ns) be64(open_time ^ sign) →
//   codec::encode_candle
//              bytes (the bus's record format; ZSTD). Iteration is in open_time order per series.
//   series     u8(exchange) symbol \0 be64(timeframe ns)                        → be64(candle
//   count) positions  group \0 topic \0 be32(partition)                                → be64(next
//   offset)
//   indicators u8(exchange) symbol \0 be64(timeframe ns) be64(open_time ^ sign) →
//   codec::encode_indicators bytes (closed candles only; highest candle_revision kept)
//   books      u8(exchange) symbol \0 be64(time() ^ sign)                          →
//   codec::encode_book bytes (order-book snapshots, storage/book_store.h; first one of a key
//   kept; retention RetentionConfig::orderbook). Methods in rocks_book_store.cc.
//
// write() is ONE rocksdb::WriteBatch holding the upserts, the series counts and the consumer
// positions (WAL on), so rows and positions are atomic across a crash. Per (series, open_time)
// the update with the highest Candle::precedence() wins; an equal precedence replaces the stored
// one (a provisional candle changes without changing precedence), a lower one is ignored.
//
// Thread-safety: all methods are safe concurrently (writes are serialized by a mutex).
// Lifecycle: open() → use → destroy; every iterator is scoped to one call so the DB always
// closes after its iterators (Debian's RocksDB asserts otherwise).
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "storage/book_store.h"
#include "storage/candle_store.h"
#include "storage/retention.h"

namespace rocksdb {
class DB;
class ColumnFamilyHandle;
}  // namespace rocksdb

namespace tickflow::storage::embedded {

struct RocksStoreOptions {
  std::string path;   // the DB directory (created if missing)
  bool sync = false;  // fsync the WAL on every write (power-loss safety)
  RetentionConfig retention;
};

class RocksCandleStore final : public CandleStore, public BookStore {
 public:
  // Errors: a DB held by another live process ("... is in use by another tickflow process"),
  // a bad retention label (names store.retention.<label>), I/O errors.
  static Result<std::unique_ptr<RocksCandleStore>> open(const RocksStoreOptions& options);
  ~RocksCandleStore() override;
  RocksCandleStore(const RocksCandleStore&) = delete;
  RocksCandleStore& operator=(const RocksCandleStore&) = delete;

  Status write(const std::vector<Candle>& candles,
               const std::vector<ConsumerPosition>& positions) override;
  Result<int64_t> position(const std::string& group, const std::string& topic,
                           int32_t partition) const override;
  Result<std::vector<Candle>> query(const CandleQuery& q) const override;
  Status write_indicators(const std::vector<IndicatorRecord>& records,
                          const std::vector<ConsumerPosition>& positions) override;
  Result<std::vector<IndicatorRecord>> query_indicators(const IndicatorQuery& q) const override;
  Result<bool> has_series(Exchange e, const std::string& symbol,
                          const Timeframe& tf) const override;
  Result<std::vector<SeriesInfo>> list_series() const override;
  Result<int64_t> enforce_retention(TimestampNs now) override;

  BookStore* books() override { return this; }
  Status write_books(const std::vector<BookSnapshot>& snapshots,
                     const std::vector<ConsumerPosition>& positions) override;
  Result<std::vector<BookSnapshot>> query_books(const BookQuery& q) const override;

 private:
  // Removes book snapshots older than now - retention.orderbook (requires write_mu_).
  Result<int64_t> enforce_book_retention(TimestampNs now);

  explicit RocksCandleStore(RocksStoreOptions options);

  RocksStoreOptions options_;
  std::map<DurationNs, DurationNs> retention_;  // timeframe ns → retention ns
  rocksdb::DB* db_ = nullptr;
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;
  rocksdb::ColumnFamilyHandle* cf_candles_ = nullptr;
  rocksdb::ColumnFamilyHandle* cf_series_ = nullptr;
  rocksdb::ColumnFamilyHandle* cf_positions_ = nullptr;
  rocksdb::ColumnFamilyHandle* cf_indicators_ = nullptr;
  rocksdb::ColumnFamilyHandle* cf_books_ = nullptr;
  std::mutex write_mu_;  // serializes read-modify-write upserts and retention
};

}  // namespace tickflow::storage::embedded
