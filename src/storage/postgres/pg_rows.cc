// COPY text rows and result-row decoding for the PostgreSQL store; its Prometheus metrics.
#include "storage/postgres/pg_rows.h"

#include <algorithm>
#include <charconv>
#include <climits>
#include <cmath>
#include <iterator>

#include "observability/metrics.h"

namespace tickflow::storage::pg {
namespace {

void tab(std::string& out) { out.push_back('\t'); }

void append_int(std::string& out, int64_t v) {
  char buf[24];
  auto [p, ec] = std::to_chars(buf, buf + sizeof buf, v);
  (void)ec;
  out.append(buf, p);
}

std::optional<CandleStatus> parse_status(std::string_view s) {
  if (s == "provisional") return CandleStatus::kProvisional;
  if (s == "final") return CandleStatus::kFinal;
  if (s == "corrected") return CandleStatus::kCorrected;
  return std::nullopt;
}

Side parse_side(std::string_view s) {
  if (s == side_name(Side::kBuy)) return Side::kBuy;
  if (s == side_name(Side::kSell)) return Side::kSell;
  return Side::kUnknown;
}

Status bad_row(std::string_view what, std::string_view value) {
  return Status::corruption("postgres: stored " + std::string(what) + " is malformed: '" +
                            std::string(value) + "'");
}

}  // namespace

const char* const kTradeSelectCols =
    "(extract(epoch from time) * 1000000000)::int8, exchange, symbol, exchange_symbol, trade_id, "
    "aggregated, first_trade_id, last_trade_id, price, quantity, side, "
    "coalesce((extract(epoch from recv_time) * 1000000000)::int8, 0)";

void append_double(std::string& out, double v) {
  char buf[32];
  auto [p, ec] = std::to_chars(buf, buf + sizeof buf, v);
  (void)ec;
  out.append(buf, p);
}

double parse_double(std::string_view text) {
  double v = 0;
  std::from_chars(text.data(), text.data() + text.size(), v);
  return v;
}

void append_candle_copy_row(std::string& out, int seq, const Candle& c) {
  append_int(out, seq);
  tab(out);
  append_timestamptz(out, c.open_time);
  tab(out);
  out.append(exchange_name(c.exchange));
  tab(out);
  copy_escape(out, c.symbol);
  tab(out);
  copy_escape(out, c.timeframe.label());
  tab(out);
  c.open.append_to(out);
  tab(out);
  c.high.append_to(out);
  tab(out);
  c.low.append_to(out);
  tab(out);
  c.close.append_to(out);
  tab(out);
  c.volume.append_to(out);
  tab(out);
  append_timestamptz(out, c.close_time);
  tab(out);
  copy_escape(out, c.exchange_symbol);
  tab(out);
  c.quote_volume.append_to(out);
  tab(out);
  c.taker_buy_volume.append_to(out);
  tab(out);
  c.taker_buy_quote_volume.append_to(out);
  tab(out);
  append_int(out, c.trades);
  tab(out);
  append_int(out, c.first_trade_id);
  tab(out);
  append_int(out, c.last_trade_id);
  tab(out);
  out.append(candle_status_name(c.status));
  tab(out);
  append_int(out, c.revision);
  tab(out);
  append_int(out, static_cast<int64_t>(c.precedence()));
  tab(out);
  append_double(out, std::isfinite(c.coverage) ? c.coverage : 0.0);
  tab(out);
  copy_escape(out, c.gap_reason);
  tab(out);
  c.vwap().append_to(out);
  out.push_back('\n');
}

std::string text_array_literal(const std::vector<std::string>& items) {
  std::string out = "{";
  for (size_t i = 0; i < items.size(); ++i) {
    if (i) out.push_back(',');
    out.push_back('"');
    for (char ch : items[i]) {
      if (ch == '"' || ch == '\\') out.push_back('\\');
      out.push_back(ch);
    }
    out.push_back('"');
  }
  out.push_back('}');
  return out;
}

void append_alert_copy_row(std::string& out, const Alert& a) {
  copy_escape(out, a.alert_id);
  tab(out);
  append_timestamptz(out, a.ts_event);
  for (const std::string* text : {&a.rule, &a.kind, &a.state, &a.severity, &a.exchange, &a.symbol, &a.timeframe}) {
    tab(out);
    copy_escape(out, *text);
  }
  for (double v : {a.value, a.threshold}) {
    tab(out);
    if (std::isfinite(v)) {
      append_double(out, v);
    } else {
      out.append("\\N");
    }
  }
  tab(out);
  copy_escape(out, a.message);
  std::vector<std::string> keys, values;
  for (const auto& [k, v] : a.labels) {
    keys.push_back(k);
    values.push_back(v);
  }
  tab(out);
  copy_escape(out, text_array_literal(keys));
  tab(out);
  copy_escape(out, text_array_literal(values));
  out.push_back('\n');
}

void append_indicator_copy_row(std::string& out, int seq, const IndicatorRecord& r) {
  append_int(out, seq);
  tab(out);
  append_timestamptz(out, r.open_time);
  tab(out);
  out.append(exchange_name(r.exchange));
  tab(out);
  copy_escape(out, r.symbol);
  tab(out);
  copy_escape(out, r.timeframe.label());
  tab(out);
  append_timestamptz(out, r.close_time);
  tab(out);
  append_int(out, r.candle_revision);
  tab(out);
  std::vector<std::string> names;
  std::string values = "{";
  for (size_t i = 0; i < r.values.size(); ++i) {
    names.push_back(r.values[i].first);
    if (i) values.push_back(',');
    append_double(values, r.values[i].second);
  }
  values.push_back('}');
  copy_escape(out, text_array_literal(names));
  tab(out);
  out.append(values);
  out.push_back('\n');
}

void append_trade_copy_row(std::string& out, const Trade& t) {
  append_timestamptz(out, t.ts_event);
  tab(out);
  out.append(exchange_name(t.exchange));
  tab(out);
  copy_escape(out, t.symbol);
  tab(out);
  copy_escape(out, t.exchange_symbol);
  tab(out);
  append_int(out, t.trade_id);
  tab(out);
  out.append(t.aggregated ? "t" : "f");
  tab(out);
  append_int(out, t.first_trade_id);
  tab(out);
  append_int(out, t.last_trade_id);
  tab(out);
  t.price.append_to(out);
  tab(out);
  t.quantity.append_to(out);
  tab(out);
  out.append(side_name(t.taker_side));
  tab(out);
  if (t.ts_recv > 0)
    append_timestamptz(out, t.ts_recv);
  else
    out.append("\\N");
  out.push_back('\n');
}

void append_candle_binary_row(CopyBinaryWriter& w, const Candle& c) {
  w.row(23);
  w.timestamptz(c.open_time);
  w.text(exchange_name(c.exchange));
  w.text(c.symbol);
  w.text(c.timeframe.label());
  for (const Decimal* d : {&c.open, &c.high, &c.low, &c.close}) w.numeric(d->units(), d->scale());
  w.numeric(c.volume.units(), c.volume.scale());
  w.timestamptz(c.close_time);
  w.text(c.exchange_symbol);
  for (const WideDecimal* d : {&c.quote_volume, &c.taker_buy_volume, &c.taker_buy_quote_volume})
    w.numeric(d->units(), d->scale());
  w.int8(c.trades);
  w.int8(c.first_trade_id);
  w.int8(c.last_trade_id);
  w.text(candle_status_name(c.status));
  w.int4(static_cast<int32_t>(c.revision));
  w.int8(static_cast<int64_t>(c.precedence()));
  w.float8(std::isfinite(c.coverage) ? c.coverage : 0.0);
  w.text(c.gap_reason);
  const Decimal vwap = c.vwap();
  w.numeric(vwap.units(), vwap.scale());
}

void append_trade_binary_row(CopyBinaryWriter& w, const Trade& t) {
  w.row(12);
  w.timestamptz(t.ts_event);
  w.text(exchange_name(t.exchange));
  w.text(t.symbol);
  w.text(t.exchange_symbol);
  w.int8(t.trade_id);
  w.boolean(t.aggregated);
  w.int8(t.first_trade_id);
  w.int8(t.last_trade_id);
  w.numeric(t.price.units(), t.price.scale());
  w.numeric(t.quantity.units(), t.quantity.scale());
  w.text(side_name(t.taker_side));
  if (t.ts_recv > 0)
    w.timestamptz(t.ts_recv);
  else
    w.null();
}

const char* const kCandleBinarySelectCols =
    "time, open, high, low, close, volume, close_time, exchange_symbol, quote_volume, "
    "taker_buy_volume, taker_buy_quote_volume, trades, first_trade_id, last_trade_id, status, "
    "revision, coverage, gap_reason";

namespace {
namespace bin = pg_binary;
constexpr uint32_t kCandleBinaryTypes[] = {
    bin::kTimestamptzOid, bin::kNumericOid, bin::kNumericOid, bin::kNumericOid, bin::kNumericOid,
    bin::kNumericOid,     bin::kTimestamptzOid, bin::kTextOid, bin::kNumericOid, bin::kNumericOid,
    bin::kNumericOid,     bin::kInt8Oid,    bin::kInt8Oid,    bin::kInt8Oid,    bin::kTextOid,
    bin::kInt4Oid,        bin::kFloat8Oid,  bin::kTextOid};
constexpr int kCandleBinaryColumns = static_cast<int>(std::size(kCandleBinaryTypes));

Status bad_binary(std::string_view what) {
  return Status::corruption("postgres: stored " + std::string(what) + " is malformed (binary)");
}
}  // namespace

size_t RowKeyHash::operator()(const RowKey& k) const noexcept {
  uint64_t h = k.series * 0x9E3779B97F4A7C15ull;
  h ^= static_cast<uint64_t>(k.time_us) + 0x7F4A7C159E3779B9ull + (h << 6) + (h >> 2);
  h ^= static_cast<uint64_t>(k.id) * 0xC2B2AE3D27D4EB4Full + (h << 6) + (h >> 2);
  return static_cast<size_t>(h ^ (k.aggregated ? 0x165667B19E3779F9ull : 0));
}

Status probe_stored(PgConnection& conn, const std::string& name, const std::string& sql,
                    const std::vector<ProbeSeries>& series, const KeyIndex& keys, std::vector<char>& stored) {
  std::vector<std::string> exchanges, symbols, timeframes, lo, hi;
  const bool with_timeframe = !series.empty() && !series.front().timeframe.empty();
  for (const ProbeSeries& s : series) {
    exchanges.push_back(s.exchange);
    symbols.push_back(s.symbol);
    if (with_timeframe) timeframes.push_back(s.timeframe);
    lo.push_back(timestamptz(s.lo));
    hi.push_back(timestamptz(s.hi));
  }
  const int64_t limit = static_cast<int64_t>(stored.size()) * 2 + 1000;
  std::vector<std::optional<std::string>> params = {text_array_literal(exchanges), text_array_literal(symbols)};
  if (with_timeframe) params.push_back(text_array_literal(timeframes));
  params.push_back(text_array_literal(lo));
  params.push_back(text_array_literal(hi));
  params.push_back(std::to_string(limit));
  auto r = conn.exec_prepared(name, sql, params, /*binary_result=*/true);
  if (!r) return r.status();
  if (r->rows() >= limit) {
    std::fill(stored.begin(), stored.end(), 1);
    return Status::ok();
  }
  const bool trade_keys = r->columns() == 4;
  for (int i = 0; i < r->rows(); ++i) {
    int32_t ordinal = 0;
    RowKey k;
    TimestampNs t = 0;
    if (!bin::int4(r->get(i, 0), ordinal) || ordinal < 1 || !bin::timestamptz_ns(r->get(i, 1), t))
      return bad_binary("probe row");
    k.series = static_cast<uint32_t>(ordinal - 1);
    k.time_us = floor_us(t);
    if (trade_keys) {
      const std::string_view agg = r->get(i, 3);
      if (!bin::int8(r->get(i, 2), k.id) || agg.size() != 1) return bad_binary("probe row");
      k.aggregated = agg[0] != 0;
    }
    if (auto it = keys.find(k); it != keys.end()) stored[it->second] = 1;
  }
  return Status::ok();
}

Status check_candle_binary_columns(const PgResult& r) {
  if (r.columns() != kCandleBinaryColumns)
    return Status::internal("postgres: candle query returned " + std::to_string(r.columns()) + " columns");
  for (int i = 0; i < kCandleBinaryColumns; ++i) {
    if (r.column_type(i) != kCandleBinaryTypes[i])
      return Status::internal("postgres: candle query column " + std::to_string(i) + " has type oid " +
                              std::to_string(r.column_type(i)));
  }
  return Status::ok();
}

Status candle_from_binary_row(const PgResult& r, int row, Candle& c) {
  if (!bin::timestamptz_ns(r.get(row, 0), c.open_time)) return bad_binary("time");
  Decimal* prices[] = {&c.open, &c.high, &c.low, &c.close};
  for (int i = 0; i < 4; ++i) {
    __int128 units = 0;
    int scale = 0;
    if (!bin::numeric(r.get(row, 1 + i), Decimal::kMaxScale, units, scale) || units > INT64_MAX ||
        units < INT64_MIN)
      return bad_binary("price");
    *prices[i] = Decimal(static_cast<int64_t>(units), scale);
  }
  WideDecimal* wides[] = {&c.volume, &c.quote_volume, &c.taker_buy_volume, &c.taker_buy_quote_volume};
  const int wide_cols[] = {5, 8, 9, 10};
  for (int i = 0; i < 4; ++i) {
    __int128 units = 0;
    int scale = 0;
    if (!bin::numeric(r.get(row, wide_cols[i]), WideDecimal::kMaxScale, units, scale))
      return bad_binary("volume");
    *wides[i] = WideDecimal(units, scale);
  }
  if (!bin::timestamptz_ns(r.get(row, 6), c.close_time)) return bad_binary("close_time");
  c.exchange_symbol = std::string(r.get(row, 7));
  if (!bin::int8(r.get(row, 11), c.trades) || !bin::int8(r.get(row, 12), c.first_trade_id) ||
      !bin::int8(r.get(row, 13), c.last_trade_id))
    return bad_binary("trade count or ids");
  auto st = parse_status(r.get(row, 14));
  if (!st) return bad_row("status", r.get(row, 14));
  c.status = *st;
  int32_t revision = 0;
  if (!bin::int4(r.get(row, 15), revision)) return bad_binary("revision");
  c.revision = static_cast<uint32_t>(revision);
  if (!bin::float8(r.get(row, 16), c.coverage)) return bad_binary("coverage");
  c.gap_reason = std::string(r.get(row, 17));
  return Status::ok();
}

Result<Trade> trade_from_row(const PgResult& r, int row) {
  Trade t;
  t.ts_event = r.get_int64(row, 0);
  auto e = parse_exchange(r.get(row, 1));
  if (!e) return bad_row("exchange", r.get(row, 1));
  t.exchange = *e;
  t.symbol = std::string(r.get(row, 2));
  t.exchange_symbol = std::string(r.get(row, 3));
  t.trade_id = r.get_int64(row, 4);
  t.aggregated = r.get(row, 5) == "t";
  t.first_trade_id = r.get_int64(row, 6);
  t.last_trade_id = r.get_int64(row, 7);
  if (!Decimal::parse(r.get(row, 8), t.price)) return bad_row("price", r.get(row, 8));
  if (!Decimal::parse(r.get(row, 9), t.quantity)) return bad_row("quantity", r.get(row, 9));
  t.taker_side = parse_side(r.get(row, 10));
  t.ts_recv = r.get_int64(row, 11);
  return t;
}

PgProbe& PgProbe::get() {
  static PgProbe* p = [] {
    auto& reg = obs::registry();
    auto& rows = prometheus::BuildCounter()
                     .Name("tickflow_pgstore_rows_written_total")
                     .Help("Rows inserted or updated in PostgreSQL by table")
                     .Register(reg);
    auto& errors = prometheus::BuildCounter()
                       .Name("tickflow_pgstore_write_errors_total")
                       .Help("PostgreSQL store batch writes that failed (rolled back, retried)")
                       .Register(reg);
    auto& write_s = prometheus::BuildHistogram()
                        .Name("tickflow_pgstore_write_seconds")
                        .Help("PostgreSQL store batch write latency (COPY + upsert + commit)")
                        .Register(reg);
    auto& query_s = prometheus::BuildHistogram()
                        .Name("tickflow_pgstore_query_seconds")
                        .Help("PostgreSQL store read latency by query")
                        .Register(reg);
    auto& deleted = prometheus::BuildCounter()
                        .Name("tickflow_pgstore_retention_deleted_total")
                        .Help("Candles removed by retention (dropped partitions or deleted rows)")
                        .Register(reg);
    auto& conflicts = prometheus::BuildCounter()
                          .Name("tickflow_pgstore_direct_copy_conflicts_total")
                          .Help("Direct COPYs redone through the staging upsert after a unique violation")
                          .Register(reg);
    return new PgProbe{rows.Add({{"table", "ohlcv"}}),
                       rows.Add({{"table", "trades"}}),
                       errors.Add({}),
                       write_s.Add({}, obs::latency_buckets()),
                       query_s.Add({{"query", "ohlcv"}}, obs::latency_buckets()),
                       query_s.Add({{"query", "trades"}}, obs::latency_buckets()),
                       query_s.Add({{"query", "indicators"}}, obs::latency_buckets()),
                       deleted.Add({}),
                       conflicts.Add({})};
  }();
  return *p;
}

}  // namespace tickflow::storage::pg
