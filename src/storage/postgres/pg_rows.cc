// COPY text rows and result-row decoding for the PostgreSQL store; its Prometheus metrics.
#include "storage/postgres/pg_rows.h"

#include <charconv>
#include <cmath>

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

const char* const kCandleSelectCols =
    "(extract(epoch from time) * 1000000000)::int8, exchange, symbol, timeframe, open, high, low, "
    "close, volume, (extract(epoch from close_time) * 1000000000)::int8, exchange_symbol, "
    "quote_volume, taker_buy_volume, taker_buy_quote_volume, trades, first_trade_id, "
    "last_trade_id, status, revision, coverage, gap_reason";

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

Result<Candle> candle_from_row(const PgResult& r, int row) {
  Candle c;
  c.open_time = r.get_int64(row, 0);
  auto e = parse_exchange(r.get(row, 1));
  if (!e) return bad_row("exchange", r.get(row, 1));
  c.exchange = *e;
  c.symbol = std::string(r.get(row, 2));
  auto tf = Timeframe::parse(r.get(row, 3));
  if (!tf) return bad_row("timeframe", r.get(row, 3));
  c.timeframe = *tf;
  Decimal* prices[] = {&c.open, &c.high, &c.low, &c.close};
  for (int i = 0; i < 4; ++i) {
    if (!Decimal::parse(r.get(row, 4 + i), *prices[i])) return bad_row("price", r.get(row, 4 + i));
  }
  WideDecimal* wides[] = {&c.volume, &c.quote_volume, &c.taker_buy_volume, &c.taker_buy_quote_volume};
  const int wide_cols[] = {8, 11, 12, 13};
  for (int i = 0; i < 4; ++i) {
    auto w = WideDecimal::parse(r.get(row, wide_cols[i]));
    if (!w) return bad_row("volume", r.get(row, wide_cols[i]));
    *wides[i] = *w;
  }
  c.close_time = r.get_int64(row, 9);
  c.exchange_symbol = std::string(r.get(row, 10));
  c.trades = r.get_int64(row, 14);
  c.first_trade_id = r.get_int64(row, 15);
  c.last_trade_id = r.get_int64(row, 16);
  auto st = parse_status(r.get(row, 17));
  if (!st) return bad_row("status", r.get(row, 17));
  c.status = *st;
  c.revision = static_cast<uint32_t>(r.get_int64(row, 18));
  c.coverage = parse_double(r.get(row, 19));
  c.gap_reason = std::string(r.get(row, 20));
  return c;
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
    return new PgProbe{rows.Add({{"table", "ohlcv"}}),
                       rows.Add({{"table", "trades"}}),
                       errors.Add({}),
                       write_s.Add({}, obs::latency_buckets()),
                       query_s.Add({{"query", "ohlcv"}}, obs::latency_buckets()),
                       query_s.Add({{"query", "trades"}}, obs::latency_buckets()),
                       query_s.Add({{"query", "indicators"}}, obs::latency_buckets()),
                       deleted.Add({})};
  }();
  return *p;
}

}  // namespace tickflow::storage::pg
