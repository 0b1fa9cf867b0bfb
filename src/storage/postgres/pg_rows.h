// Row encoding of the PostgreSQL store: candles / indicators / trades to COPY text rows and
// back from query results (decimals as exact numeric text, times as timestamptz read back as
// epoch nanoseconds), and the store's metrics.
// Thread-safety: pure functions; PgProbe::get() is safe from any thread.
#pragma once

#include <prometheus/counter.h>
#include <prometheus/histogram.h>

#include <chrono>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/analytics.h"
#include "core/candle.h"
#include "core/result.h"
#include "core/trade.h"
#include "storage/postgres/copy_binary.h"
#include "storage/postgres/pg.h"

namespace tickflow::storage::pg {

// Columns selected by trade_from_row, in its order.
extern const char* const kTradeSelectCols;

// One COPY row: seq, then the ohlcv columns in kOhlcvCols order.
void append_candle_copy_row(std::string& out, int seq, const Candle& c);
// seq, time, exchange, symbol, timeframe, close_time, candle_revision, names, values.
void append_indicator_copy_row(std::string& out, int seq, const IndicatorRecord& r);
// time, exchange, symbol, exchange_symbol, trade_id, aggregated, first_trade_id, last_trade_id,
// price, quantity, side, recv_time.
void append_trade_copy_row(std::string& out, const Trade& t);

// The same rows for COPY (FORMAT binary), without seq: the ohlcv columns in kOhlcvCols order
// (23 fields) and the trade columns above (12 fields). Numbers and times exact, as above.
void append_candle_binary_row(CopyBinaryWriter& w, const Candle& c);
void append_trade_binary_row(CopyBinaryWriter& w, const Trade& t);

// The write path's probe of stored keys (see PgCandleStore): one entry per series of a batch
// with the batch's time span in it; `timeframe` is empty for trades.
struct ProbeSeries {
  std::string exchange, symbol, timeframe;
  TimestampNs lo = 0, hi = 0;
};
// A row's unique key at the columns' resolution: the series' index in the batch, the time in
// microseconds, and for trades the trade id and aggregated flag (0 / false for candles).
struct RowKey {
  uint32_t series = 0;
  int64_t time_us = 0;
  int64_t id = 0;
  bool aggregated = false;
  bool operator==(const RowKey&) const = default;
};
struct RowKeyHash {
  size_t operator()(const RowKey& k) const noexcept;
};
using KeyIndex = std::unordered_map<RowKey, size_t, RowKeyHash>;  // key → row of the batch
inline int64_t floor_us(TimestampNs ns) { return ns / 1000 - (ns % 1000 < 0 ? 1 : 0); }
// Runs the prepared probe `sql` (parameters: exchanges, symbols, [timeframes,] lo, hi as arrays
// over `series`, then a row limit; result in binary: series ordinality int4, time timestamptz
// [, trade_id int8, aggregated bool]) and sets stored[row] for every key of `keys` it returns.
// More stored rows in the spans than the limit (twice the batch) marks every row stored.
Status probe_stored(PgConnection& conn, const std::string& name, const std::string& sql,
                    const std::vector<ProbeSeries>& series, const KeyIndex& keys, std::vector<char>& stored);

// alert_id, time, rule, kind, state, severity, exchange, symbol, timeframe, value, threshold,
// message, label_keys (text[]), label_values (text[]); non-finite numbers as NULL.
void append_alert_copy_row(std::string& out, const Alert& a);

// The range read's columns, fetched in binary format (no timestamp arithmetic or numeric text in
// the server, no decimal parsing here); exchange, symbol and timeframe are the query's own.
extern const char* const kCandleBinarySelectCols;
// OK when the result has kCandleBinarySelectCols' columns with the expected types.
Status check_candle_binary_columns(const PgResult& r);
// Fills everything but exchange, symbol and timeframe from a binary row.
Status candle_from_binary_row(const PgResult& r, int row, Candle& c);
Result<Trade> trade_from_row(const PgResult& r, int row);

// '{"a","b"}' — a text[] literal.
std::string text_array_literal(const std::vector<std::string>& items);
double parse_double(std::string_view text);
void append_double(std::string& out, double v);

struct PgProbe {
  prometheus::Counter& rows_written_ohlcv;
  prometheus::Counter& rows_written_trades;
  prometheus::Counter& write_errors;
  prometheus::Histogram& write_seconds;
  prometheus::Histogram& query_ohlcv_seconds;
  prometheus::Histogram& query_trades_seconds;
  prometheus::Histogram& query_indicators_seconds;
  prometheus::Counter& retention_deleted;
  // Direct COPYs that met a unique violation (a key stored since the probe) and were redone
  // through the staging upsert.
  prometheus::Counter& direct_copy_conflicts;
  static PgProbe& get();
};

inline double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace tickflow::storage::pg
