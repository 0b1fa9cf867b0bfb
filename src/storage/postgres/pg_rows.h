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
#include <vector>

#include "core/analytics.h"
#include "core/candle.h"
#include "core/result.h"
#include "core/trade.h"
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
  static PgProbe& get();
};

inline double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace tickflow::storage::pg
