// PgCandleStore's TradeStore and AlertStore sides: trades / alerts COPYed into a staging table
// and inserted with ON CONFLICT DO NOTHING, positions in the same transaction; trade range reads.
#include <chrono>

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
  std::string data;
  data.reserve(trades.size() * 128);
  for (const Trade& t : trades) append_trade_copy_row(data, t);
  std::vector<std::string> statements;
  if (!trades.empty()) {
    statements.push_back(std::string("INSERT INTO trades (") + kTradeCols + ") SELECT " + kTradeCols +
                         " FROM tickflow_trade_stage ON CONFLICT DO NOTHING");
  }
  int64_t inserted = 0;
  Status st = staged_transaction(
      **conn, kTradeStage,
      "CREATE TEMP TABLE IF NOT EXISTS tickflow_trade_stage (time timestamptz, exchange text, "
      "symbol text, exchange_symbol text, trade_id bigint, aggregated boolean, first_trade_id "
      "bigint, last_trade_id bigint, price numeric, quantity numeric, side text, recv_time "
      "timestamptz) ON COMMIT DELETE ROWS",
      std::string("COPY tickflow_trade_stage (") + kTradeCols + ") FROM STDIN", data, statements,
      positions, &inserted);
  auto& probe = PgProbe::get();
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
