// Migration runner (advisory-locked, one transaction per migration) and the store's schema:
// native partitioning (LIST by timeframe → RANGE by time, partitions made by the store) or
// TimescaleDB hypertables with 1-day chunks, compression and continuous aggregates from 1m.
#include "storage/postgres/migrations.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <set>

namespace tickflow::storage::pg {
namespace {

constexpr const char* kLockKey = "7346120";  // pg_advisory_lock key of the migration runner

// Columns shared by both variants (the specification's first, then the extra candle fields).
constexpr const char* kOhlcvColumns = R"(
  time timestamptz NOT NULL,
  exchange text NOT NULL,
  symbol text NOT NULL,
  timeframe text NOT NULL,
  open numeric NOT NULL,
  high numeric NOT NULL,
  low numeric NOT NULL,
  close numeric NOT NULL,
  volume numeric NOT NULL,
  close_time timestamptz NOT NULL,
  exchange_symbol text NOT NULL DEFAULT '',
  quote_volume numeric NOT NULL DEFAULT 0,
  taker_buy_volume numeric NOT NULL DEFAULT 0,
  taker_buy_quote_volume numeric NOT NULL DEFAULT 0,
  trades bigint NOT NULL DEFAULT 0,
  first_trade_id bigint NOT NULL DEFAULT -1,
  last_trade_id bigint NOT NULL DEFAULT -1,
  status text NOT NULL,
  revision integer NOT NULL DEFAULT 0,
  precedence bigint NOT NULL,
  coverage double precision NOT NULL DEFAULT 1,
  gap_reason text NOT NULL DEFAULT '',
  vwap numeric,
  CONSTRAINT ohlcv_series_time UNIQUE (exchange, symbol, timeframe, time))";

constexpr const char* kTradesColumns = R"(
  time timestamptz NOT NULL,
  exchange text NOT NULL,
  symbol text NOT NULL,
  exchange_symbol text NOT NULL DEFAULT '',
  trade_id bigint NOT NULL,
  aggregated boolean NOT NULL,
  first_trade_id bigint NOT NULL,
  last_trade_id bigint NOT NULL,
  price numeric NOT NULL,
  quantity numeric NOT NULL,
  side text NOT NULL,
  recv_time timestamptz,
  CONSTRAINT trades_identity UNIQUE (exchange, symbol, trade_id, aggregated, time))";

// Tables that are plain in both variants.
constexpr const char* kCommonTables = R"(
CREATE TABLE IF NOT EXISTS consumer_positions (
  group_id text NOT NULL,
  topic text NOT NULL,
  partition integer NOT NULL,
  next_offset bigint NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (group_id, topic, partition));
CREATE TABLE IF NOT EXISTS indicators (
  time timestamptz NOT NULL,
  exchange text NOT NULL,
  symbol text NOT NULL,
  timeframe text NOT NULL,
  close_time timestamptz NOT NULL,
  candle_revision integer NOT NULL,
  names text[] NOT NULL,
  "values" double precision[] NOT NULL,
  PRIMARY KEY (exchange, symbol, timeframe, time));
CREATE TABLE IF NOT EXISTS alerts (
  alert_id text PRIMARY KEY,
  time timestamptz NOT NULL,
  rule text NOT NULL,
  kind text NOT NULL,
  state text NOT NULL,
  severity text NOT NULL,
  exchange text NOT NULL DEFAULT '',
  symbol text NOT NULL DEFAULT '',
  timeframe text NOT NULL DEFAULT '',
  value double precision,
  threshold double precision,
  message text NOT NULL DEFAULT '',
  labels jsonb NOT NULL DEFAULT '{}');
CREATE INDEX IF NOT EXISTS alerts_by_time ON alerts (time);
CREATE TABLE IF NOT EXISTS orderbook_snapshots (
  time timestamptz NOT NULL,
  exchange text NOT NULL,
  symbol text NOT NULL,
  last_update_id bigint NOT NULL DEFAULT 0,
  bids jsonb NOT NULL,
  asks jsonb NOT NULL,
  PRIMARY KEY (exchange, symbol, time));
)";

std::string native_schema() {
  std::string s;
  s += "CREATE TABLE ohlcv (" + std::string(kOhlcvColumns) + ") PARTITION BY LIST (timeframe);\n";
  s += "CREATE TABLE trades (" + std::string(kTradesColumns) + ") PARTITION BY RANGE (time);\n";
  s += "CREATE INDEX trades_by_time ON trades (exchange, symbol, time);\n";
  s += kCommonTables;
  return s;
}

// TimescaleDB: hypertables with 1-day chunks (create_hypertable, chunk_time_interval),
// compression segmented by series and ordered by time (ALTER TABLE ... SET
// (timescaledb.compress ...), add_compression_policy). Per-timeframe retention of `ohlcv` is
// done by the store (DELETE by timeframe; drop_chunks cannot filter a column), the continuous
// aggregates get add_retention_policy.
std::string timescale_schema() {
  std::string s = "CREATE EXTENSION IF NOT EXISTS timescaledb;\n";
  s += "CREATE TABLE ohlcv (" + std::string(kOhlcvColumns) + ");\n";
  s += "SELECT create_hypertable('ohlcv', 'time', chunk_time_interval => INTERVAL '1 day', "
       "if_not_exists => TRUE);\n";
  s += "ALTER TABLE ohlcv SET (timescaledb.compress, timescaledb.compress_segmentby = "
       "'exchange, symbol, timeframe', timescaledb.compress_orderby = 'time DESC');\n";
  s += "SELECT add_compression_policy('ohlcv', compress_after => INTERVAL '7 days', "
       "if_not_exists => TRUE);\n";
  s += "CREATE TABLE trades (" + std::string(kTradesColumns) + ");\n";
  s += "SELECT create_hypertable('trades', 'time', chunk_time_interval => INTERVAL '1 day', "
       "if_not_exists => TRUE);\n";
  s += "CREATE INDEX trades_by_time ON trades (exchange, symbol, time);\n";
  s += "ALTER TABLE trades SET (timescaledb.compress, timescaledb.compress_segmentby = "
       "'exchange, symbol', timescaledb.compress_orderby = 'time DESC');\n";
  s += "SELECT add_compression_policy('trades', compress_after => INTERVAL '2 days', "
       "if_not_exists => TRUE);\n";
  s += kCommonTables;
  return s;
}

// Continuous aggregates of the 1m candles (time_bucket + first/last), refreshed by policy,
// with retention 1 year (hourly) and 5 years (daily) — the specification's retention.
std::string timescale_caggs() {
  auto cagg = [](const std::string& name, const std::string& bucket) {
    return "CREATE MATERIALIZED VIEW IF NOT EXISTS " + name +
           " WITH (timescaledb.continuous) AS SELECT time_bucket(INTERVAL '" + bucket +
           "', time) AS bucket, exchange, symbol, first(open, time) AS open, max(high) AS high, "
           "min(low) AS low, last(close, time) AS close, sum(volume) AS volume, "
           "sum(quote_volume) AS quote_volume, sum(trades) AS trades FROM ohlcv "
           "WHERE timeframe = '1m' GROUP BY bucket, exchange, symbol WITH NO DATA;\n";
  };
  std::string s;
  s += cagg("ohlcv_1h_from_1m", "1 hour");
  s += "SELECT add_continuous_aggregate_policy('ohlcv_1h_from_1m', start_offset => INTERVAL "
       "'3 hours', end_offset => INTERVAL '1 hour', schedule_interval => INTERVAL '30 minutes', "
       "if_not_exists => TRUE);\n";
  s += "SELECT add_retention_policy('ohlcv_1h_from_1m', drop_after => INTERVAL '365 days', "
       "if_not_exists => TRUE);\n";
  s += cagg("ohlcv_1d_from_1m", "1 day");
  s += "SELECT add_continuous_aggregate_policy('ohlcv_1d_from_1m', start_offset => INTERVAL "
       "'3 days', end_offset => INTERVAL '1 hour', schedule_interval => INTERVAL '1 hour', "
       "if_not_exists => TRUE);\n";
  s += "SELECT add_retention_policy('ohlcv_1d_from_1m', drop_after => INTERVAL '1825 days', "
       "if_not_exists => TRUE);\n";
  return s;
}

}  // namespace

// Native: one index on trades instead of two. The identity constraint ordered (exchange,
// symbol, time, ...) also serves the range reads (ORDER BY time DESC, trade_id DESC), so
// trades_by_time is dropped: a trade insert maintains one index, not two (a third less time
// per row, measured with bench/pg). Not applied to TimescaleDB hypertables (compression on).
constexpr const char* kTradesOneIndex = R"(
DROP INDEX IF EXISTS trades_by_time;
ALTER TABLE trades DROP CONSTRAINT trades_identity;
ALTER TABLE trades ADD CONSTRAINT trades_identity UNIQUE (exchange, symbol, time, trade_id, aggregated);
)";

// Order-book snapshots (storage/book_store.h): the columns of BookSnapshotEvent the initial
// table lacks (exact nanosecond times next to `time`), and an index for retention by time.
constexpr const char* kOrderbookColumns = R"(
ALTER TABLE orderbook_snapshots
  ADD COLUMN IF NOT EXISTS exchange_symbol text NOT NULL DEFAULT '',
  ADD COLUMN IF NOT EXISTS depth integer NOT NULL DEFAULT 0,
  ADD COLUMN IF NOT EXISTS crossed boolean NOT NULL DEFAULT false,
  ADD COLUMN IF NOT EXISTS ts_event_ns bigint NOT NULL DEFAULT 0,
  ADD COLUMN IF NOT EXISTS ts_recv_ns bigint NOT NULL DEFAULT 0;
CREATE INDEX IF NOT EXISTS orderbook_snapshots_by_time ON orderbook_snapshots (time);
)";

std::vector<Migration> store_migrations(bool timescale) {
  std::vector<Migration> out;
  out.push_back({1, "initial schema", timescale ? timescale_schema() : native_schema(), true});
  if (timescale) out.push_back({2, "continuous aggregates from 1m", timescale_caggs(), false});
  if (!timescale) out.push_back({3, "trades: one index for identity and range reads", kTradesOneIndex, true});
  out.push_back({4, "orderbook_snapshots: snapshot columns and time index", kOrderbookColumns, true});
  return out;
}

Result<int> apply_migrations(PgConnection& conn, const std::vector<Migration>& migrations) {
  TICKFLOW_RETURN_IF_ERROR(
      conn.exec("CREATE TABLE IF NOT EXISTS tickflow_schema_migrations (version integer PRIMARY "
                "KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())")
          .status());
  TICKFLOW_RETURN_IF_ERROR(conn.exec(std::string("SELECT pg_advisory_lock(") + kLockKey + ")").status());
  auto unlock = [&] { (void)conn.exec(std::string("SELECT pg_advisory_unlock(") + kLockKey + ")"); };

  auto done = conn.exec("SELECT version FROM tickflow_schema_migrations");
  if (!done) {
    unlock();
    return done.status();
  }
  std::set<int64_t> applied;
  for (int r = 0; r < done->rows(); ++r) applied.insert(done->get_int64(r, 0));

  std::vector<const Migration*> todo;
  for (const Migration& m : migrations)
    if (!applied.count(m.version)) todo.push_back(&m);
  std::sort(todo.begin(), todo.end(), [](auto* a, auto* b) { return a->version < b->version; });

  int count = 0;
  for (const Migration* m : todo) {
    const std::string record = "INSERT INTO tickflow_schema_migrations (version, name) VALUES (" +
                               std::to_string(m->version) + ", " + conn.quote_literal(m->name) + ")";
    Status st;
    if (m->in_transaction) {
      st = conn.exec("BEGIN;\n" + m->sql + "\n;" + record + ";\nCOMMIT").status();
      if (!st) (void)conn.exec("ROLLBACK");
    } else {
      st = conn.exec(m->sql).status();
      if (st) st = conn.exec(record).status();
    }
    if (!st) {
      unlock();
      return Status(st.code() == ErrorCode::kUnavailable && conn.healthy() ? ErrorCode::kInternal
                                                                            : st.code(),
                    "migration " + std::to_string(m->version) + " (" + m->name +
                        ") failed: " + st.message());
    }
    spdlog::info("postgres: applied migration {} ({})", m->version, m->name);
    ++count;
  }
  unlock();
  return count;
}

}  // namespace tickflow::storage::pg
