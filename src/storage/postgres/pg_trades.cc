// PgCandleStore's TradeStore and AlertStore sides: trades probed for stored identities and the
// new ones COPYed (binary) straight into trades; alerts COPYed into a staging table and inserted
// with ON CONFLICT DO NOTHING; positions in the same transaction; trade range reads.
#include <algorithm>
#include <chrono>
#include <unordered_map>

#include "storage/postgres/partitions.h"
#include "storage/postgres/pg_candle_store.h"
#include "storage/postgres/pg_rows.h"

namespace tickflow::storage::pg {
namespace {

constexpr uint32_t kTradeStage = 4;
constexpr uint32_t kAlertStage = 8;
constexpr const char* kTradeCols =
    "time, exchange, symbol, exchange_symbol, trade_id, aggregated, first_trade_id, "
    "last_trade_id, price, quantity, side, recv_time";

}  // namespace

Status PgCandleStore::write_trades(const std::vector<Trade>& trades,
                                   const std::vector<ConsumerPosition>& positions) {
  for (const Trade& t : trades)
    if (t.symbol.empty()) return Status::invalid_argument("store write: trade without symbol");
  if (trades.empty() && positions.empty()) return Status::ok();
  const auto t0 = std::chrono::steady_clock::now();
  auto conn = lease();
  if (!conn) return conn.status();
  if (!timescale_.load() && !trades.empty()) {
    std::set<TimestampNs> days;
    for (const Trade& t : trades) days.insert(floor_to(t.ts_event, kNsPerDay));
    TICKFLOW_RETURN_IF_ERROR(ensure_partitions(**conn, {}, days));
  }
  // One row per identity (the first; DO NOTHING keeps the stored one), then the probe of the
  // identities stored already: those rows are dropped, the others COPYed straight into trades.
  std::vector<ProbeSeries> series;
  std::unordered_map<std::string, uint32_t> series_index;
  KeyIndex seen;
  seen.reserve(trades.size());
  std::vector<size_t> rows;
  rows.reserve(trades.size());
  std::string key;
  for (size_t i = 0; i < trades.size(); ++i) {
    const Trade& t = trades[i];
    key.assign(exchange_name(t.exchange));
    key.push_back(':');
    key.append(t.symbol);
    auto [sit, new_series] = series_index.try_emplace(key, static_cast<uint32_t>(series.size()));
    if (new_series) series.push_back({std::string(exchange_name(t.exchange)), t.symbol, "", t.ts_event, t.ts_event});
    ProbeSeries& ps = series[sit->second];
    ps.lo = std::min(ps.lo, t.ts_event);
    ps.hi = std::max(ps.hi, t.ts_event);
    if (seen.try_emplace({sit->second, floor_us(t.ts_event), t.trade_id, t.aggregated}, rows.size()).second)
      rows.push_back(i);
  }
  std::vector<char> stored(rows.size(), 0);
  if (!rows.empty() && options_.probe_stored_keys) {
    static const std::string kProbeSql =
        "SELECT s.i::int4, x.time, x.trade_id, x.aggregated FROM unnest($1::text[], $2::text[], "
        "$3::timestamptz[], $4::timestamptz[]) WITH ORDINALITY AS s(exchange, symbol, lo, hi, i) CROSS "
        "JOIN LATERAL (SELECT o.time, o.trade_id, o.aggregated FROM trades o WHERE o.exchange = "
        "s.exchange AND o.symbol = s.symbol AND o.time >= s.lo AND o.time <= s.hi) x LIMIT $5::int8";
    TICKFLOW_RETURN_IF_ERROR(probe_stored(**conn, "tickflow_trades_probe", kProbeSql, series, seen, stored));
  }
  static const std::string kCols = kTradeCols;
  CopyBatch batch;
  batch.direct_copy_sql = "COPY trades (" + kCols + ") FROM STDIN (FORMAT binary)";
  batch.stage_flag = kTradeStage;
  batch.create_stage =
      "CREATE TEMP TABLE IF NOT EXISTS tickflow_trade_stage (time timestamptz, exchange text, "
      "symbol text, exchange_symbol text, trade_id bigint, aggregated boolean, first_trade_id "
      "bigint, last_trade_id bigint, price numeric, quantity numeric, side text, recv_time "
      "timestamptz) ON COMMIT DELETE ROWS";
  batch.stage_copy_sql = "COPY tickflow_trade_stage (" + kCols + ") FROM STDIN (FORMAT binary)";
  batch.upsert_sql = "INSERT INTO trades (" + kCols + ") SELECT " + kCols +
                     " FROM tickflow_trade_stage ON CONFLICT DO NOTHING";
  size_t n_direct = 0;
  for (char s : stored) n_direct += !s;
  if (n_direct) {
    CopyBinaryWriter w(batch.direct);
    w.reserve_rows(n_direct, 140);
    for (size_t k = 0; k < rows.size(); ++k)
      if (!stored[k]) append_trade_binary_row(w, trades[rows[k]]);
    w.finish();
    batch.direct_rows = static_cast<int64_t>(n_direct);
  }
  int64_t inserted = 0;
  bool conflict = false;
  Status st = copy_transaction(**conn, batch, positions, &inserted, &conflict);
  auto& probe = PgProbe::get();
  if (!st && conflict) {
    // Stored by another writer since the probe: every new row through ON CONFLICT DO NOTHING.
    probe.direct_copy_conflicts.Increment();
    CopyBinaryWriter w(batch.staged);
    for (size_t k = 0; k < rows.size(); ++k)
      if (!stored[k]) append_trade_binary_row(w, trades[rows[k]]);
    w.finish();
    batch.direct.clear();
    batch.direct_rows = 0;
    inserted = 0;
    st = copy_transaction(**conn, batch, positions, &inserted, &conflict);
  }
  if (!st) {
    probe.write_errors.Increment();
    return st;
  }
  probe.rows_written_trades.Increment(static_cast<double>(inserted));
  probe.write_seconds.Observe(seconds_since(t0));
  return Status::ok();
}

Status PgCandleStore::write_alerts(const std::vector<Alert>& alerts,
                                   const std::vector<ConsumerPosition>& positions) {
  for (const Alert& a : alerts)
    if (a.alert_id.empty()) return Status::invalid_argument("store write: alert without alert_id");
  if (alerts.empty() && positions.empty()) return Status::ok();
  auto conn = lease();
  if (!conn) return conn.status();
  std::string data;
  for (const Alert& a : alerts) append_alert_copy_row(data, a);
  std::vector<std::string> statements;
  if (!alerts.empty()) {
    statements.push_back(
        "INSERT INTO alerts (alert_id, time, rule, kind, state, severity, exchange, symbol, timeframe, "
        "value, threshold, message, labels) SELECT alert_id, time, rule, kind, state, severity, exchange, "
        "symbol, timeframe, value, threshold, message, jsonb_object(label_keys, label_values) FROM "
        "tickflow_alert_stage ON CONFLICT (alert_id) DO NOTHING");
  }
  return staged_transaction(
      **conn, kAlertStage,
      "CREATE TEMP TABLE IF NOT EXISTS tickflow_alert_stage (alert_id text, time timestamptz, rule text, "
      "kind text, state text, severity text, exchange text, symbol text, timeframe text, value double "
      "precision, threshold double precision, message text, label_keys text[], label_values text[]) "
      "ON COMMIT DELETE ROWS",
      "COPY tickflow_alert_stage (alert_id, time, rule, kind, state, severity, exchange, symbol, "
      "timeframe, value, threshold, message, label_keys, label_values) FROM STDIN",
      data, statements, positions, nullptr);
}

Result<std::vector<Trade>> PgCandleStore::query_trades(const TradeQuery& q) const {
  std::vector<Trade> out;
  if (q.limit == 0 || q.start >= q.end) return out;
  const auto t0 = std::chrono::steady_clock::now();
  auto conn = lease();
  if (!conn) return conn.status();
  auto r = (*conn)->exec_params(
      std::string("SELECT ") + kTradeSelectCols +
          " FROM trades WHERE exchange = $1 AND symbol = $2 AND time >= $3::timestamptz AND time "
          "< $4::timestamptz ORDER BY time DESC, trade_id DESC LIMIT $5::int8",
      {std::string(exchange_name(q.exchange)), q.symbol, timestamptz_ceil(q.start), timestamptz_ceil(q.end),
       std::to_string(q.limit)});
  if (!r) return r.status();
  out.reserve(static_cast<size_t>(r->rows()));
  for (int i = r->rows() - 1; i >= 0; --i) {
    auto t = trade_from_row(*r, i);
    if (!t) return t.status();
    out.push_back(std::move(t).value());
  }
  PgProbe::get().query_trades_seconds.Observe(seconds_since(t0));
  return out;
}

}  // namespace tickflow::storage::pg
