// PgCandleStore's BookStore side: order-book snapshots COPYed into a staging table and inserted
// into orderbook_snapshots with ON CONFLICT DO NOTHING (identity: exchange, symbol, time), the
// positions in the same transaction; range reads; retention by time.
//
// Columns: time = BookSnapshot::time() (µs), last_update_id = sequence, bids / asks = jsonb
// arrays of [price, quantity] string pairs (the exact decimals as printed), exchange_symbol,
// depth, crossed, ts_event_ns / ts_recv_ns (exact nanoseconds; migration 4).
#include <chrono>

#include "storage/postgres/pg_candle_store.h"
#include "storage/postgres/pg_rows.h"

namespace tickflow::storage::pg {
namespace {

constexpr uint32_t kBookStage = 16;
constexpr const char* kBookCols =
    "time, exchange, symbol, exchange_symbol, last_update_id, bids, asks, depth, crossed, ts_event_ns, ts_recv_ns";

// [["0.1","2"],["0.09","5"]] — decimals print as digits, '-' and '.', nothing JSON escapes.
void append_levels_json(std::string& out, const std::vector<BookLevel>& levels) {
  out.push_back('[');
  for (size_t i = 0; i < levels.size(); ++i) {
    if (i) out.push_back(',');
    out += "[\"";
    levels[i].price.append_to(out);
    out += "\",\"";
    levels[i].quantity.append_to(out);
    out += "\"]";
  }
  out.push_back(']');
}

void append_book_copy_row(std::string& out, const BookSnapshot& b) {
  append_timestamptz(out, b.time());
  out.push_back('\t');
  copy_escape(out, exchange_name(b.exchange));
  out.push_back('\t');
  copy_escape(out, b.symbol);
  out.push_back('\t');
  copy_escape(out, b.exchange_symbol);
  out.push_back('\t');
  out += std::to_string(b.sequence);
  out.push_back('\t');
  append_levels_json(out, b.bids);
  out.push_back('\t');
  append_levels_json(out, b.asks);
  out.push_back('\t');
  out += std::to_string(b.depth);
  out.push_back('\t');
  out += b.crossed ? "t" : "f";
  out.push_back('\t');
  out += std::to_string(b.ts_event);
  out.push_back('\t');
  out += std::to_string(b.ts_recv);
  out.push_back('\n');
}

// The jsonb text PostgreSQL prints for append_levels_json's arrays ('[["0.1", "2"], ...]'):
// the quoted strings in order, paired.
bool parse_levels_json(std::string_view text, std::vector<BookLevel>& out) {
  std::vector<std::string_view> strings;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '"') continue;
    const size_t close = text.find('"', i + 1);
    if (close == std::string_view::npos) return false;
    strings.push_back(text.substr(i + 1, close - i - 1));
    i = close;
  }
  if (strings.size() % 2 != 0) return false;
  for (size_t i = 0; i < strings.size(); i += 2) {
    BookLevel l;
    if (!Decimal::parse(strings[i], l.price) || !Decimal::parse(strings[i + 1], l.quantity)) return false;
    out.push_back(l);
  }
  return true;
}

}  // namespace

Status PgCandleStore::write_books(const std::vector<BookSnapshot>& snapshots,
                                  const std::vector<ConsumerPosition>& positions) {
  for (const BookSnapshot& b : snapshots)
    if (b.symbol.empty()) return Status::invalid_argument("store write: book snapshot without symbol");
  if (snapshots.empty() && positions.empty()) return Status::ok();
  auto conn = lease();
  if (!conn) return conn.status();
  std::string data;
  for (const BookSnapshot& b : snapshots) append_book_copy_row(data, b);
  std::vector<std::string> statements;
  if (!snapshots.empty()) {
    // DISTINCT ON: a batch may hold a key twice (a replay inside one batch); the first is kept.
    statements.push_back(std::string("INSERT INTO orderbook_snapshots (") + kBookCols + ") SELECT DISTINCT ON " +
                         "(exchange, symbol, time) " + kBookCols +
                         " FROM tickflow_book_stage ORDER BY exchange, symbol, time, seq ON CONFLICT DO NOTHING");
  }
  return staged_transaction(
      **conn, kBookStage,
      "CREATE TEMP TABLE IF NOT EXISTS tickflow_book_stage (seq bigserial, time timestamptz, exchange text, "
      "symbol text, exchange_symbol text, last_update_id bigint, bids jsonb, asks jsonb, depth integer, "
      "crossed boolean, ts_event_ns bigint, ts_recv_ns bigint) ON COMMIT DELETE ROWS",
      std::string("COPY tickflow_book_stage (") + kBookCols + ") FROM STDIN", data, statements, positions, nullptr);
}

Result<std::vector<BookSnapshot>> PgCandleStore::query_books(const BookQuery& q) const {
  std::vector<BookSnapshot> out;
  if (q.limit == 0 || q.start >= q.end) return out;
  auto conn = lease();
  if (!conn) return conn.status();
  auto r = (*conn)->exec_params(
      "SELECT exchange_symbol, last_update_id, bids::text, asks::text, depth, crossed, ts_event_ns, ts_recv_ns "
      "FROM orderbook_snapshots WHERE exchange = $1 AND symbol = $2 AND time >= $3::timestamptz AND time < "
      "$4::timestamptz ORDER BY time DESC LIMIT $5::int8",
      {std::string(exchange_name(q.exchange)), q.symbol, timestamptz_ceil(q.start), timestamptz_ceil(q.end),
       std::to_string(q.limit)});
  if (!r) return r.status();
  out.reserve(static_cast<size_t>(r->rows()));
  for (int i = r->rows() - 1; i >= 0; --i) {
    BookSnapshot b;
    b.exchange = q.exchange;
    b.symbol = q.symbol;
    b.exchange_symbol = std::string(r->get(i, 0));
    b.sequence = r->get_int64(i, 1);
    if (!parse_levels_json(r->get(i, 2), b.bids) || !parse_levels_json(r->get(i, 3), b.asks))
      return Status::corruption("orderbook_snapshots row with malformed levels");
    b.depth = static_cast<uint32_t>(r->get_int64(i, 4));
    b.crossed = r->get(i, 5) == "t";
    b.ts_event = r->get_int64(i, 6);
    b.ts_recv = r->get_int64(i, 7);
    out.push_back(std::move(b));
  }
  return out;
}

Result<int64_t> PgCandleStore::enforce_book_retention(PgConnection& conn, TimestampNs now) const {
  auto r = conn.exec_params("DELETE FROM orderbook_snapshots WHERE time < $1::timestamptz",
                            {timestamptz(now - options_.retention.orderbook)});
  if (!r) return r.status();
  return r->affected();
}

}  // namespace tickflow::storage::pg
