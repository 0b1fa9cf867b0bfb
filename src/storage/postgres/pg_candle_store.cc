// PgCandleStore: start-up (TimescaleDB detection, migrations, partitions), candle and
// indicator writes through COPY + INSERT ... ON CONFLICT, queries, retention, health.
// Trades live in pg_trades.cc, row encoding in pg_rows.{h,cc}.
#include "storage/postgres/pg_candle_store.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <optional>
#include <unordered_map>

#include "storage/postgres/partitions.h"
#include "storage/postgres/pg_rows.h"

namespace tickflow::storage::pg {
namespace {

constexpr uint32_t kOhlcvStage = 1;
constexpr uint32_t kIndicatorStage = 2;

constexpr const char* kOhlcvStageSql =
    "CREATE TEMP TABLE IF NOT EXISTS tickflow_ohlcv_stage (seq integer, time timestamptz, "
    "exchange text, symbol text, timeframe text, open numeric, high numeric, low numeric, "
    "close numeric, volume numeric, close_time timestamptz, exchange_symbol text, "
    "quote_volume numeric, taker_buy_volume numeric, taker_buy_quote_volume numeric, "
    "trades bigint, first_trade_id bigint, last_trade_id bigint, status text, revision integer, "
    "precedence bigint, coverage double precision, gap_reason text, vwap numeric) "
    "ON COMMIT DELETE ROWS";

constexpr const char* kOhlcvCols =
    "time, exchange, symbol, timeframe, open, high, low, close, volume, close_time, "
    "exchange_symbol, quote_volume, taker_buy_volume, taker_buy_quote_volume, trades, "
    "first_trade_id, last_trade_id, status, revision, precedence, coverage, gap_reason, vwap";

constexpr const char* kIndicatorStageSql =
    "CREATE TEMP TABLE IF NOT EXISTS tickflow_indicator_stage (seq integer, time timestamptz, "
    "exchange text, symbol text, timeframe text, close_time timestamptz, candle_revision integer, "
    "names text[], \"values\" double precision[]) ON COMMIT DELETE ROWS";

Status check_candle(const Candle& c) {
  if (!c.timeframe.valid() || c.symbol.empty())
    return Status::invalid_argument("store write: candle without symbol or timeframe");
  return Status::ok();
}

}  // namespace

PgCandleStore::PgCandleStore(PgStoreOptions options)
    : options_(std::move(options)),
      pool_(PgPoolOptions{options_.conn, std::max<size_t>(1, options_.pool_size)}) {}

PgCandleStore::~PgCandleStore() = default;

Result<std::unique_ptr<PgCandleStore>> PgCandleStore::open(const PgStoreOptions& options) {
  if (options.conn.host.empty()) return Status::invalid_argument("timescale.host: must not be empty");
  if (options.conn.db.empty()) return Status::invalid_argument("timescale.db: must not be empty");
  if (options.timescale != "auto" && options.timescale != "off")
    return Status::invalid_argument("timescale mode must be auto or off");
  std::unique_ptr<PgCandleStore> store(new PgCandleStore(options));
  for (const auto& [label, keep] : options.retention.per_timeframe) {
    auto tf = Timeframe::parse(label);
    if (!tf) return Status::invalid_argument("store.retention." + label + ": not a timeframe");
    if (keep <= 0) return Status::invalid_argument("store.retention." + label + ": must be positive");
    store->retention_[tf->duration_ns()] = keep;
  }
  if (options.retention.orderbook <= 0)
    return Status::invalid_argument("storage.orderbook_retention: must be positive");
  Status st = store->ensure_ready();
  if (!st) {
    if (!st.retryable()) return st;  // a failing migration or a bad schema stops the service
    spdlog::warn("postgres {}: not reachable yet ({}); the store retries on use",
                 options.conn.describe(), st.message());
  }
  return store;
}

Result<PgPool::Lease> PgCandleStore::lease() const {
  TICKFLOW_RETURN_IF_ERROR(ensure_ready());
  return pool_.acquire();
}

Status PgCandleStore::ensure_ready() const {
  std::lock_guard lk(init_mu_);
  if (ready_) return Status::ok();
  auto conn = pool_.acquire();
  if (!conn) return conn.status();
  TICKFLOW_RETURN_IF_ERROR(init(**conn));
  ready_ = true;
  return Status::ok();
}

Status PgCandleStore::init(PgConnection& conn) const {
  // Keep an existing schema's flavour; otherwise TimescaleDB when it can be loaded.
  bool ts = false;
  auto existing = conn.exec("SELECT relkind::text FROM pg_class WHERE relname = 'ohlcv' AND "
                            "relnamespace = 'public'::regnamespace");
  if (!existing) return existing.status();
  const bool have_ohlcv = existing->rows() > 0;
  if (options_.timescale != "off") {
    auto avail = conn.exec(
        "SELECT (SELECT count(*) FROM pg_available_extensions WHERE name = 'timescaledb'), "
        "(SELECT count(*) FROM pg_extension WHERE extname = 'timescaledb'), "
        // pg_settings, not current_setting(): a role without pg_read_all_settings may not read
        // shared_preload_libraries (the row is hidden, not an error). It then relies on
        // pg_extension: an administrator creates the extension.
        "COALESCE((SELECT position('timescaledb' in setting) FROM pg_settings WHERE name = "
        "'shared_preload_libraries'), 0)");
    if (!avail) return avail.status();
    const bool available = avail->get_int64(0, 0) > 0;
    const bool installed = avail->get_int64(0, 1) > 0;
    const bool preloaded = avail->get_int64(0, 2) > 0;
    ts = installed || (available && preloaded);
  }
  if (have_ohlcv) ts = ts && existing->get(0, 0) != "p";
  std::vector<Migration> migrations = store_migrations(ts);
  migrations.insert(migrations.end(), options_.extra_migrations.begin(),
                    options_.extra_migrations.end());
  auto applied = apply_migrations(conn, migrations);
  if (!applied) return applied.status();

  std::string flavour;
  if (ts) {
    auto v = conn.exec("SELECT extversion FROM pg_extension WHERE extname = 'timescaledb'");
    if (!v) return v.status();
    flavour = "timescaledb " + std::string(v->rows() ? v->get(0, 0) : "?");
  } else {
    const int sv = conn.server_version();
    flavour = "postgresql " + std::to_string(sv / 10000) + "." + std::to_string(sv % 10000) +
              ", native partitioning";
  }
  timescale_.store(ts);
  flavour_ = flavour;
  if (!ts) {
    auto known = list_partitions(conn);
    if (!known) return known.status();
    {
      std::lock_guard plk(part_mu_);
      known_partitions_ = std::move(known).value();
    }
    // Partitions ahead of the data for every timeframe seen so far and the retained ones.
    std::set<std::string> labels = timeframe_labels(known_partitions_);
    for (const auto& [label, keep] : options_.retention.per_timeframe) {
      (void)keep;
      if (auto tf = Timeframe::parse(label)) labels.insert(tf->label());
    }
    std::set<std::pair<std::string, TimestampNs>> ohlcv;
    std::set<TimestampNs> days;
    const TimestampNs now = std::chrono::duration_cast<std::chrono::nanoseconds>(
                                std::chrono::system_clock::now().time_since_epoch())
                                .count();
    for (int d = 0; d <= options_.partitions_ahead_days; ++d) {
      const TimestampNs t = now + d * kNsPerDay;
      days.insert(floor_to(t, kNsPerDay));
      for (const std::string& label : labels) {
        auto tf = Timeframe::parse(label);
        if (tf) ohlcv.insert({tf->label(), floor_to(t, partition_width(*tf))});
      }
    }
    TICKFLOW_RETURN_IF_ERROR(ensure_partitions(conn, ohlcv, days));
  }
  spdlog::info("postgres {}: {} ({} migration(s) applied)", options_.conn.describe(), flavour,
               *applied);
  return Status::ok();
}

std::string PgCandleStore::flavour() const {
  std::lock_guard lk(init_mu_);
  return flavour_;
}

DurationNs PgCandleStore::partition_width(const Timeframe& tf) {
  if (tf.duration_ns() < kNsPerHour) return kNsPerDay;
  if (tf.duration_ns() < kNsPerDay) return 7 * kNsPerDay;
  return 365 * kNsPerDay;
}

Status PgCandleStore::ensure_partitions(PgConnection& conn,
                                        const std::set<std::pair<std::string, TimestampNs>>& ohlcv,
                                        const std::set<TimestampNs>& trade_days) const {
  std::vector<std::string> ddl;
  std::vector<std::string> names;
  {
    std::lock_guard plk(part_mu_);
    for (const auto& [label, start] : ohlcv) {
      const std::string parent = ohlcv_parent_name(label);
      if (!known_partitions_.count(parent)) {
        ddl.push_back("CREATE TABLE IF NOT EXISTS " + parent + " PARTITION OF ohlcv FOR VALUES IN (" +
                      conn.quote_literal(label) + ") PARTITION BY RANGE (time)");
        names.push_back(parent);
      }
      auto tf = Timeframe::parse(label);
      if (!tf) return Status::invalid_argument("store write: bad timeframe " + label);
      const std::string part = range_partition_name(parent, start);
      if (!known_partitions_.count(part)) {
        ddl.push_back("CREATE TABLE IF NOT EXISTS " + part + " PARTITION OF " + parent +
                      " FOR VALUES FROM ('" + timestamptz(start) + "') TO ('" +
                      timestamptz(start + partition_width(*tf)) + "')");
        names.push_back(part);
      }
    }
    for (TimestampNs day : trade_days) {
      const std::string part = range_partition_name("trades", day);
      if (!known_partitions_.count(part)) {
        ddl.push_back("CREATE TABLE IF NOT EXISTS " + part + " PARTITION OF trades FOR VALUES FROM ('" +
                      timestamptz(day) + "') TO ('" + timestamptz(day + kNsPerDay) + "')");
        names.push_back(part);
      }
    }
  }
  if (ddl.empty()) return Status::ok();
  std::string sql = "BEGIN; SELECT pg_advisory_xact_lock(7346121);";
  for (const std::string& d : ddl) sql += d + ";";
  sql += "COMMIT";
  Status st = conn.exec(sql).status();
  if (!st) {
    (void)conn.exec("ROLLBACK");
    return st;
  }
  std::lock_guard plk(part_mu_);
  known_partitions_.insert(names.begin(), names.end());
  return Status::ok();
}

Status PgCandleStore::upsert_positions(PgConnection& conn,
                                       const std::vector<ConsumerPosition>& positions) const {
  std::map<std::tuple<std::string, std::string, int32_t>, int64_t> last;
  for (const ConsumerPosition& p : positions) {
    if (p.next_offset < 0)
      return Status::invalid_argument("store write: negative position for " + p.topic);
    last[{p.group, p.topic, p.partition}] = p.next_offset;
  }
  if (last.empty()) return Status::ok();
  std::string sql = "INSERT INTO consumer_positions (group_id, topic, partition, next_offset) VALUES ";
  std::vector<std::optional<std::string>> params;
  for (const auto& [key, offset] : last) {
    const size_t n = params.size();
    if (n) sql += ",";
    sql += "($" + std::to_string(n + 1) + ",$" + std::to_string(n + 2) + ",$" +
           std::to_string(n + 3) + "::int4,$" + std::to_string(n + 4) + "::int8)";
    params.push_back(std::get<0>(key));
    params.push_back(std::get<1>(key));
    params.push_back(std::to_string(std::get<2>(key)));
    params.push_back(std::to_string(offset));
  }
  sql += " ON CONFLICT (group_id, topic, partition) DO UPDATE SET next_offset = "
         "excluded.next_offset, updated_at = now()";
  return conn.exec_params(sql, params).status();
}

Status PgCandleStore::staged_transaction(PgConnection& conn, uint32_t stage_flag,
                                         const std::string& create_stage, const std::string& copy_sql,
                                         const std::string& data,
                                         const std::vector<std::string>& statements,
                                         const std::vector<ConsumerPosition>& positions,
                                         int64_t* affected) const {
  if (!(conn.user_flags & stage_flag) && !create_stage.empty()) {
    TICKFLOW_RETURN_IF_ERROR(conn.exec(create_stage).status());
    conn.user_flags |= stage_flag;
  }
  auto run = [&]() -> Status {
    TICKFLOW_RETURN_IF_ERROR(conn.exec("BEGIN").status());
    if (!data.empty()) TICKFLOW_RETURN_IF_ERROR(conn.copy_in(copy_sql, data));
    for (const std::string& s : statements) {
      auto r = conn.exec(s);
      if (!r) return r.status();
      if (affected) *affected += r->affected();
    }
    TICKFLOW_RETURN_IF_ERROR(upsert_positions(conn, positions));
    return conn.exec("COMMIT").status();
  };
  Status st = run();
  if (!st) {
    if (conn.healthy()) (void)conn.exec("ROLLBACK");
    // A partition dropped by another process (retention): forget the cached names so the
    // next attempt re-creates what it needs (CREATE ... IF NOT EXISTS).
    if (st.message().find("no partition of relation") != std::string::npos) {
      std::lock_guard plk(part_mu_);
      std::erase_if(known_partitions_, [](const std::string& n) { return n.find("_p") != std::string::npos; });
    }
  }
  return st;
}

Status PgCandleStore::copy_transaction(PgConnection& conn, const CopyBatch& batch,
                                       const std::vector<ConsumerPosition>& positions, int64_t* affected,
                                       bool* direct_conflict) const {
  *direct_conflict = false;
  if (!batch.staged.empty() && !(conn.user_flags & batch.stage_flag)) {
    TICKFLOW_RETURN_IF_ERROR(conn.exec(batch.create_stage).status());
    conn.user_flags |= batch.stage_flag;
  }
  auto run = [&]() -> Status {
    TICKFLOW_RETURN_IF_ERROR(conn.exec("BEGIN").status());
    if (!batch.direct.empty()) {
      Status st = conn.copy_in(batch.direct_copy_sql, batch.direct);
      if (!st) {
        *direct_conflict = is_unique_violation(st);
        return st;
      }
      *affected += batch.direct_rows;
    }
    if (!batch.staged.empty()) {
      TICKFLOW_RETURN_IF_ERROR(conn.copy_in(batch.stage_copy_sql, batch.staged));
      auto r = conn.exec(batch.upsert_sql);
      if (!r) return r.status();
      *affected += r->affected();
    }
    TICKFLOW_RETURN_IF_ERROR(upsert_positions(conn, positions));
    return conn.exec("COMMIT").status();
  };
  Status st = run();
  if (!st) {
    if (conn.healthy()) (void)conn.exec("ROLLBACK");
    if (st.message().find("no partition of relation") != std::string::npos) {
      std::lock_guard plk(part_mu_);
      std::erase_if(known_partitions_, [](const std::string& n) { return n.find("_p") != std::string::npos; });
    }
  }
  return st;
}

Status PgCandleStore::write(const std::vector<Candle>& candles,
                            const std::vector<ConsumerPosition>& positions) {
  for (const Candle& c : candles) TICKFLOW_RETURN_IF_ERROR(check_candle(c));
  if (candles.empty() && positions.empty()) return Status::ok();
  const auto t0 = std::chrono::steady_clock::now();
  auto conn = lease();
  if (!conn) return conn.status();
  if (!timescale_.load() && !candles.empty()) {
    std::set<std::pair<std::string, TimestampNs>> parts;
    for (const Candle& c : candles)
      parts.insert({c.timeframe.label(), floor_to(c.open_time, partition_width(c.timeframe))});
    TICKFLOW_RETURN_IF_ERROR(ensure_partitions(**conn, parts, {}));
  }
  // One row per key, chosen here rather than by SELECT DISTINCT ON in the server (a sort that
  // cost a quarter of the INSERT, measured with bench/pg): the highest precedence, the latest
  // of equal ones. ON CONFLICT DO UPDATE must not see a key twice in one statement, and the
  // direct COPY must not either. Keys are compared at the column's microsecond resolution.
  std::vector<ProbeSeries> series;
  std::unordered_map<std::string, uint32_t> series_index;
  KeyIndex latest;
  latest.reserve(candles.size());
  std::vector<size_t> rows;
  std::vector<uint32_t> row_series;
  rows.reserve(candles.size());
  row_series.reserve(candles.size());
  for (size_t i = 0; i < candles.size(); ++i) {
    const Candle& c = candles[i];
    auto [sit, new_series] = series_index.try_emplace(c.series_key(), static_cast<uint32_t>(series.size()));
    if (new_series) {
      series.push_back({std::string(exchange_name(c.exchange)), c.symbol, c.timeframe.label(), c.open_time,
                        c.open_time});
    }
    ProbeSeries& ps = series[sit->second];
    ps.lo = std::min(ps.lo, c.open_time);
    ps.hi = std::max(ps.hi, c.open_time);
    auto [it, inserted] = latest.try_emplace({sit->second, floor_us(c.open_time)}, rows.size());
    if (inserted) {
      rows.push_back(i);
      row_series.push_back(sit->second);
    } else if (c.precedence() >= candles[rows[it->second]].precedence()) {
      rows[it->second] = i;
    }
  }
  // Which keys are stored already: they take the upsert; the others the direct COPY.
  std::vector<char> stored(rows.size(), 0);
  if (!rows.empty() && options_.probe_stored_keys) {
    static const std::string kProbeSql =
        "SELECT s.i::int4, x.time FROM unnest($1::text[], $2::text[], $3::text[], $4::timestamptz[], "
        "$5::timestamptz[]) WITH ORDINALITY AS s(exchange, symbol, timeframe, lo, hi, i) CROSS JOIN "
        "LATERAL (SELECT o.time FROM ohlcv o WHERE o.exchange = s.exchange AND o.symbol = s.symbol AND "
        "o.timeframe = s.timeframe AND o.time >= s.lo AND o.time <= s.hi) x LIMIT $6::int8";
    TICKFLOW_RETURN_IF_ERROR(probe_stored(**conn, "tickflow_ohlcv_probe", kProbeSql, series, latest, stored));
  }
  static const std::string kCols = kOhlcvCols;
  CopyBatch batch;
  batch.direct_copy_sql = "COPY ohlcv (" + kCols + ") FROM STDIN (FORMAT binary)";
  batch.stage_flag = kOhlcvStage;
  batch.create_stage = kOhlcvStageSql;
  batch.stage_copy_sql = "COPY tickflow_ohlcv_stage (" + kCols + ") FROM STDIN (FORMAT binary)";
  {
    std::string set;
    for (const char* col : {"open", "high", "low", "close", "volume", "close_time", "exchange_symbol",
                            "quote_volume", "taker_buy_volume", "taker_buy_quote_volume", "trades",
                            "first_trade_id", "last_trade_id", "status", "revision", "precedence",
                            "coverage", "gap_reason", "vwap"}) {
      if (!set.empty()) set += ", ";
      set += std::string(col) + " = excluded." + col;
    }
    batch.upsert_sql = "INSERT INTO ohlcv (" + kCols + ") SELECT " + kCols +
                       " FROM tickflow_ohlcv_stage ON CONFLICT (exchange, symbol, timeframe, time) "
                       "DO UPDATE SET " + set + " WHERE excluded.precedence >= ohlcv.precedence";
  }
  auto encode = [&](bool all_staged) {
    batch.direct.clear();
    batch.staged.clear();
    batch.direct_rows = 0;
    size_t n_staged = 0;
    for (size_t k = 0; k < rows.size(); ++k) n_staged += all_staged || stored[k];
    const size_t n_direct = rows.size() - n_staged;
    std::optional<CopyBinaryWriter> direct, staged;
    if (n_direct) direct.emplace(batch.direct).reserve_rows(n_direct, 320);
    if (n_staged) staged.emplace(batch.staged).reserve_rows(n_staged, 320);
    for (size_t k = 0; k < rows.size(); ++k)
      append_candle_binary_row(all_staged || stored[k] ? *staged : *direct, candles[rows[k]]);
    if (direct) direct->finish();
    if (staged) staged->finish();
    batch.direct_rows = static_cast<int64_t>(n_direct);
  };
  encode(false);
  int64_t upserted = 0;
  bool conflict = false;
  Status st = copy_transaction(**conn, batch, positions, &upserted, &conflict);
  auto& probe = PgProbe::get();
  if (!st && conflict) {
    probe.direct_copy_conflicts.Increment();
    encode(true);
    upserted = 0;
    st = copy_transaction(**conn, batch, positions, &upserted, &conflict);
  }
  if (!st) {
    probe.write_errors.Increment();
    return st;
  }
  probe.rows_written_ohlcv.Increment(static_cast<double>(upserted));
  probe.write_seconds.Observe(seconds_since(t0));
  return Status::ok();
}

Result<int64_t> PgCandleStore::position(const std::string& group, const std::string& topic,
                                        int32_t partition) const {
  auto conn = lease();
  if (!conn) return conn.status();
  auto r = (*conn)->exec_params(
      "SELECT next_offset FROM consumer_positions WHERE group_id = $1 AND topic = $2 AND "
      "partition = $3::int4",
      {group, topic, std::to_string(partition)});
  if (!r) return r.status();
  return r->rows() ? r->get_int64(0, 0) : int64_t{0};
}

Result<std::vector<Candle>> PgCandleStore::query(const CandleQuery& q) const {
  if (!q.timeframe.valid()) return Status::invalid_argument("timeframe: invalid");
  std::vector<Candle> out;
  if (q.limit == 0 || q.start >= q.end) return out;
  const auto t0 = std::chrono::steady_clock::now();
  auto conn = lease();
  if (!conn) return conn.status();
  // A named statement prepared once per connection (no parse, and a cached generic plan with
  // run-time partition pruning instead of planning over every partition per request) and a
  // binary result (timestamps as integers, numerics as base-10000 digits: no epoch arithmetic
  // in numeric, no numeric_out in the server, no decimal text parsing here).
  static const std::string kSql = std::string("SELECT ") + kCandleBinarySelectCols +
      " FROM ohlcv WHERE exchange = $1 AND symbol = $2 AND timeframe = $3 AND time >= "
      "$4::timestamptz AND time < $5::timestamptz ORDER BY time DESC LIMIT $6::int8";
  auto r = (*conn)->exec_prepared(
      "tickflow_ohlcv_range", kSql,
      {std::string(exchange_name(q.exchange)), q.symbol, q.timeframe.label(), timestamptz_ceil(q.start),
       timestamptz_ceil(q.end), std::to_string(q.limit)},
      /*binary_result=*/true);
  if (!r) return r.status();
  TICKFLOW_RETURN_IF_ERROR(check_candle_binary_columns(*r));
  out.resize(static_cast<size_t>(r->rows()));
  for (int i = r->rows() - 1, k = 0; i >= 0; --i, ++k) {
    Candle& c = out[static_cast<size_t>(k)];
    c.exchange = q.exchange;
    c.symbol = q.symbol;
    c.timeframe = q.timeframe;
    TICKFLOW_RETURN_IF_ERROR(candle_from_binary_row(*r, i, c));
  }
  PgProbe::get().query_ohlcv_seconds.Observe(seconds_since(t0));
  return out;
}

Status PgCandleStore::write_indicators(const std::vector<IndicatorRecord>& records,
                                       const std::vector<ConsumerPosition>& positions) {
  std::string data;
  int seq = 0;
  for (const IndicatorRecord& r : records) {
    if (r.provisional) continue;
    if (!r.timeframe.valid() || r.symbol.empty())
      return Status::invalid_argument("store write: indicator record without symbol or timeframe");
    append_indicator_copy_row(data, seq++, r);
  }
  if (data.empty() && positions.empty()) return Status::ok();
  auto conn = lease();
  if (!conn) return conn.status();
  std::vector<std::string> statements;
  if (!data.empty()) {
    statements.push_back(
        "INSERT INTO indicators (time, exchange, symbol, timeframe, close_time, candle_revision, "
        "names, \"values\") SELECT DISTINCT ON (exchange, symbol, timeframe, time) time, exchange, "
        "symbol, timeframe, close_time, candle_revision, names, \"values\" FROM "
        "tickflow_indicator_stage ORDER BY exchange, symbol, timeframe, time, candle_revision DESC, "
        "seq ASC ON CONFLICT (exchange, symbol, timeframe, time) DO UPDATE SET close_time = "
        "excluded.close_time, candle_revision = excluded.candle_revision, names = excluded.names, "
        "\"values\" = excluded.\"values\" WHERE excluded.candle_revision > indicators.candle_revision");
  }
  return staged_transaction(**conn, kIndicatorStage, kIndicatorStageSql,
                            "COPY tickflow_indicator_stage (seq, time, exchange, symbol, timeframe, "
                            "close_time, candle_revision, names, \"values\") FROM STDIN",
                            data, statements, positions, nullptr);
}

Result<std::vector<IndicatorRecord>> PgCandleStore::query_indicators(const IndicatorQuery& q) const {
  if (!q.timeframe.valid()) return Status::invalid_argument("timeframe: invalid");
  std::vector<IndicatorRecord> out;
  if (q.limit == 0 || q.start >= q.end) return out;
  const auto t0 = std::chrono::steady_clock::now();
  auto conn = lease();
  if (!conn) return conn.status();
  std::optional<std::string> names;
  if (!q.names.empty()) names = text_array_literal(q.names);
  auto r = (*conn)->exec_params(
      "SELECT " + epoch_ns_sql("s.time") + ", " + epoch_ns_sql("s.close_time") +
          ", s.candle_revision, n.name, n.value FROM (SELECT * FROM indicators WHERE exchange = $1 "
          "AND symbol = $2 AND timeframe = $3 AND time >= $4::timestamptz AND time < "
          "$5::timestamptz AND ($7::text[] IS NULL OR names && $7::text[]) ORDER BY time DESC "
          "LIMIT $6::int8) s, unnest(s.names, s.\"values\") WITH ORDINALITY AS n(name, value, ord) "
          "WHERE $7::text[] IS NULL OR n.name = ANY($7::text[]) ORDER BY s.time, n.ord",
      {std::string(exchange_name(q.exchange)), q.symbol, q.timeframe.label(), timestamptz_ceil(q.start),
       timestamptz_ceil(q.end), std::to_string(q.limit), names});
  if (!r) return r.status();
  for (int i = 0; i < r->rows(); ++i) {
    const TimestampNs open = r->get_int64(i, 0);
    if (out.empty() || out.back().open_time != open) {
      IndicatorRecord rec;
      rec.exchange = q.exchange;
      rec.symbol = q.symbol;
      rec.timeframe = q.timeframe;
      rec.open_time = open;
      rec.close_time = r->get_int64(i, 1);
      rec.candle_revision = static_cast<uint32_t>(r->get_int64(i, 2));
      out.push_back(std::move(rec));
    }
    out.back().values.emplace_back(std::string(r->get(i, 3)), parse_double(r->get(i, 4)));
  }
  PgProbe::get().query_indicators_seconds.Observe(seconds_since(t0));
  return out;
}

Result<bool> PgCandleStore::has_series(Exchange e, const std::string& symbol,
                                       const Timeframe& tf) const {
  auto conn = lease();
  if (!conn) return conn.status();
  // Prepared once per connection, like the range read: no planning over every partition.
  auto r = (*conn)->exec_prepared(
      "tickflow_has_series",
      "SELECT EXISTS (SELECT 1 FROM ohlcv WHERE exchange = $1 AND symbol = $2 AND timeframe = $3)",
      {std::string(exchange_name(e)), symbol, tf.label()}, /*binary_result=*/false);
  if (!r) return r.status();
  return r->rows() > 0 && r->get(0, 0) == "t";
}

Result<std::vector<SeriesInfo>> PgCandleStore::list_series() const {
  auto conn = lease();
  if (!conn) return conn.status();
  auto r = (*conn)->exec(
      "SELECT exchange, symbol, timeframe, count(*) FROM ohlcv GROUP BY 1, 2, 3 ORDER BY 1, 2, 3");
  if (!r) return r.status();
  std::vector<SeriesInfo> out;
  for (int i = 0; i < r->rows(); ++i) {
    auto e = parse_exchange(r->get(i, 0));
    if (!e) continue;
    out.push_back(SeriesInfo{*e, std::string(r->get(i, 1)), std::string(r->get(i, 2)), r->get_int64(i, 3)});
  }
  return out;
}

Result<int64_t> PgCandleStore::enforce_retention(TimestampNs now) {
  auto conn = lease();
  if (!conn) return conn.status();
  int64_t removed = 0;
  for (const auto& [tf_ns, keep] : retention_) {
    const Timeframe tf = Timeframe::from_duration(tf_ns);
    const TimestampNs cutoff = now - keep;
    if (timescale_.load()) {
      auto r = (*conn)->exec_params(
          "DELETE FROM ohlcv WHERE timeframe = $1 AND time < $2::timestamptz",
          {tf.label(), timestamptz(cutoff)});
      if (!r) return r.status();
      removed += r->affected();
      continue;
    }
    auto dropped = drop_partitions_before(**conn, ohlcv_parent_name(tf.label()), partition_width(tf), cutoff);
    if (!dropped) return dropped.status();
    removed += dropped->rows;
    std::lock_guard plk(part_mu_);
    for (const std::string& name : dropped->names) known_partitions_.erase(name);
  }
  if (!timescale_.load()) {
    // Keep partitions ahead of the data as time moves on.
    std::set<std::pair<std::string, TimestampNs>> ohlcv;
    std::set<TimestampNs> days;
    std::set<std::string> labels;
    {
      std::lock_guard plk(part_mu_);
      labels = timeframe_labels(known_partitions_);
    }
    for (int d = 0; d <= options_.partitions_ahead_days; ++d) {
      const TimestampNs t = now + d * kNsPerDay;
      days.insert(floor_to(t, kNsPerDay));
      for (const std::string& label : labels)
        if (auto tf = Timeframe::parse(label)) ohlcv.insert({tf->label(), floor_to(t, partition_width(*tf))});
    }
    TICKFLOW_RETURN_IF_ERROR(ensure_partitions(**conn, ohlcv, days));
  }
  auto books = enforce_book_retention(**conn, now);
  if (!books) return books.status();
  removed += *books;
  PgProbe::get().retention_deleted.Increment(static_cast<double>(removed));
  return removed;
}

std::optional<ComponentHealth> PgCandleStore::health() const {
  ComponentHealth h;
  h.name = "postgres";
  Status st = Status::ok();
  auto conn = lease();
  if (!conn) {
    st = conn.status();
  } else {
    st = (*conn)->exec("SELECT 1").status();
  }
  if (!st) {
    h.state = HealthState::kDown;
    h.detail = st.message();
  } else {
    h.detail = flavour();
  }
  return h;
}

}  // namespace tickflow::storage::pg
