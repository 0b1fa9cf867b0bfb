// PgCandleStore: the PostgreSQL / TimescaleDB CandleStore (and TradeStore, AlertStore) — issue 6.
//
// Schema: storage/postgres/migrations.cc (ohlcv, trades, indicators, alerts,
// orderbook_snapshots, consumer_positions), applied at open() and versioned.
// TimescaleDB is detected at start (pg_available_extensions / pg_extension): with it the tables
// are hypertables (1-day chunks, compression, continuous aggregates from 1m); without it `ohlcv`
// is LIST-partitioned by timeframe then RANGE-partitioned by time (partitions created by the
// store ahead of the data and before each write that needs a new one), `trades` RANGE by day.
// The queries are the same on both.
//
// Write path (write / write_trades), ONE transaction per batch with the consumer positions
// upsert. The client reduces the batch to one row per key (candles: the highest precedence, the
// latest of equal ones; trades: the first of an identity) and probes which keys are stored
// already (one index range scan per series over the batch's time span). Rows with new keys are
// COPYed (FORMAT binary) straight into the table; the others (candles) are COPYed into a
// per-session temp staging table and INSERT ... SELECT ... ON CONFLICT ... DO UPDATE ... WHERE
// excluded.precedence >= ohlcv.precedence, or (trades) dropped: their identity is stored. If the
// direct COPY still meets a unique violation (another writer stored the key since the probe),
// the transaction is rolled back and redone with every row through the staging upsert (trades:
// ON CONFLICT DO NOTHING). Per (series, open_time) the highest Candle::precedence() wins, an
// equal one replaces, a lower one is ignored — same contract as the embedded store.
//
// Order books (pg_books.cc): orderbook_snapshots, identity (exchange, symbol, time), replays
// ignored; retention DELETE by time (RetentionConfig::orderbook).
//
// Retention (enforce_retention): native → DROP the partitions whose whole range is older than
// the timeframe's retention (so rows can outlive the retention by up to one partition width);
// TimescaleDB → DELETE by timeframe and time.
//
// Availability: open() fails on a bad configuration or a failing migration (with the SQL
// error). When the database is unreachable at open() the store is still returned, every call
// answers kUnavailable (retryable) until the database is reachable, and the schema is set up on
// the first successful connection. health() reports "postgres": up with the flavour
// ("timescaledb 2.x" / "postgresql 15.x, native partitioning") or down with the error.
//
// Thread-safety: all methods are safe concurrently (a small connection pool; concurrent writes
// run on different connections in parallel — the loaders' writers own disjoint bus partitions). Ownership: owns its pool; destroy after every user stopped.
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "core/health.h"
#include "storage/alert_store.h"
#include "storage/book_store.h"
#include "storage/candle_store.h"
#include "storage/postgres/migrations.h"
#include "storage/postgres/pool.h"
#include "storage/retention.h"
#include "storage/trade_store.h"

namespace tickflow::storage::pg {

struct PgStoreOptions {
  PgConnInfo conn;
  // Connections shared by the writers and the API reads. From 6 on, write_parallelism() is 2:
  // each loader writes from 2 connections (a 2-core server; more writers only queue).
  size_t pool_size = 6;
  RetentionConfig retention;
  // "auto": TimescaleDB when the extension is available; "off": native partitioning always.
  std::string timescale = "auto";
  int partitions_ahead_days = 2;  // native: partitions created ahead of now at start/retention
  // Tests: migrations appended after the store's own (e.g. a failing one).
  std::vector<Migration> extra_migrations;
  // Tests: false skips the probe of stored keys, so a batch with stored keys takes the direct
  // COPY, meets the unique violation and is redone through the staging upsert (the path a
  // concurrent writer's race takes).
  bool probe_stored_keys = true;
};

class PgCandleStore final : public CandleStore, public TradeStore, public AlertStore, public BookStore {
 public:
  static Result<std::unique_ptr<PgCandleStore>> open(const PgStoreOptions& options);
  ~PgCandleStore() override;

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
  std::optional<ComponentHealth> health() const override;
  TradeStore* trades() override { return this; }
  // CandleStore's and TradeStore's: 2 writers per loader when the pool has 6 connections or more.
  size_t write_parallelism() const override { return options_.pool_size >= 6 ? 2 : 1; }

  Status write_trades(const std::vector<Trade>& trades,
                      const std::vector<ConsumerPosition>& positions) override;
  Result<std::vector<Trade>> query_trades(const TradeQuery& q) const override;

  AlertStore* alerts() override { return this; }
  // COPY into a staging table, INSERT ... ON CONFLICT (alert_id) DO NOTHING, positions, one txn.
  Status write_alerts(const std::vector<Alert>& alerts,
                      const std::vector<ConsumerPosition>& positions) override;

  BookStore* books() override { return this; }
  // pg_books.cc: COPY into a staging table, INSERT ... ON CONFLICT DO NOTHING into
  // orderbook_snapshots, positions, one transaction.
  Status write_books(const std::vector<BookSnapshot>& snapshots,
                     const std::vector<ConsumerPosition>& positions) override;
  Result<std::vector<BookSnapshot>> query_books(const BookQuery& q) const override;

  // "timescaledb 2.14.2" or "postgresql 15.4, native partitioning" ("" before the first
  // successful connection).
  std::string flavour() const;
  bool timescale() const { return timescale_.load(); }
  // Native partitioning: the partition width used for a timeframe (1 day below 1h, 7 days
  // below 1d, 365 days above).
  static DurationNs partition_width(const Timeframe& tf);

 private:
  explicit PgCandleStore(PgStoreOptions options);
  // Connects, detects TimescaleDB, applies migrations, creates partitions ahead (once).
  Status ensure_ready() const;
  Status init(PgConnection& conn) const;
  Result<PgPool::Lease> lease() const;
  // Native: creates the partitions of `ohlcv` (per timeframe label and range start) and of
  // `trades` (per day start) that are not known yet.
  Status ensure_partitions(PgConnection& conn, const std::set<std::pair<std::string, TimestampNs>>& ohlcv,
                           const std::set<TimestampNs>& trade_days) const;
  Status upsert_positions(PgConnection& conn, const std::vector<ConsumerPosition>& positions) const;
  // DELETE of the book snapshots older than now - retention.orderbook (pg_books.cc).
  Result<int64_t> enforce_book_retention(PgConnection& conn, TimestampNs now) const;
  // Runs BEGIN; COPY data into a temp staging table; the statements; COMMIT (ROLLBACK on error).
  Status staged_transaction(PgConnection& conn, uint32_t stage_flag, const std::string& create_stage,
                            const std::string& copy_sql, const std::string& data,
                            const std::vector<std::string>& statements,
                            const std::vector<ConsumerPosition>& positions,
                            int64_t* affected) const;
  // A write batch in binary COPY streams: `direct` goes straight into the target table (rows
  // whose key the probe did not find), `staged` into the temp staging table, then `upsert_sql`.
  struct CopyBatch {
    std::string direct_copy_sql;
    std::string direct;  // binary COPY stream, "" = no row
    int64_t direct_rows = 0;
    uint32_t stage_flag = 0;
    std::string create_stage;
    std::string stage_copy_sql;
    std::string staged;  // binary COPY stream, "" = no row
    std::string upsert_sql;
  };
  // BEGIN; the direct COPY; the staged COPY + upsert; the positions; COMMIT (ROLLBACK on error).
  // *direct_conflict: the direct COPY hit a unique violation (a row stored since the probe, by
  // another writer): nothing was written; the caller retries with every row staged.
  Status copy_transaction(PgConnection& conn, const CopyBatch& batch,
                          const std::vector<ConsumerPosition>& positions, int64_t* affected,
                          bool* direct_conflict) const;

  const PgStoreOptions options_;
  std::map<DurationNs, DurationNs> retention_;  // timeframe ns → keep ns
  mutable PgPool pool_;

  mutable std::mutex init_mu_;
  mutable bool ready_ = false;
  mutable std::atomic<bool> timescale_{false};
  mutable std::string flavour_;            // guarded by init_mu_
  mutable std::set<std::string> known_partitions_;  // guarded by part_mu_
  mutable std::mutex part_mu_;
};

}  // namespace tickflow::storage::pg
