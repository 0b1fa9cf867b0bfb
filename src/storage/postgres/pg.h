// Thin libpq seam: connection settings, an RAII connection and result, and the few calls the
// PostgreSQL store needs (exec, exec_params, COPY FROM STDIN). libpq stays out of every other
// header: PGconn / PGresult are opaque here.
//
// Errors: a failed statement becomes a Status carrying the server's message (primary message,
// detail and SQLSTATE); a broken connection is kUnavailable (retryable), a statement the server
// rejected is kInvalidArgument / kInternal. The password is never part of any message or log
// line: PgConnInfo::describe() omits it and connection errors are reported with describe().
//
// Thread-safety: a PgConnection is used by one thread at a time (libpq's rule); PgConnInfo and
// the free functions are plain values / pure.
// Ownership: PgConnection owns its PGconn and closes it on destruction; PgResult owns a PGresult.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "core/time.h"

struct pg_conn;
struct pg_result;

namespace tickflow::storage::pg {

struct PgConnInfo {
  std::string host = "127.0.0.1";
  std::string port = "5432";
  std::string db = "tickflow";
  std::string user = "tickflow";
  std::string password;  // never logged
  int connect_timeout_s = 5;
  std::string application_name = "tickflow";

  // libpq keyword/value pairs (values quoted as libpq requires); contains the password.
  std::string conninfo() const;
  // "postgresql://user@host:port/db" — for logs and errors; never the password.
  std::string describe() const;
};

class PgResult {
 public:
  PgResult() = default;
  explicit PgResult(pg_result* r) : r_(r) {}
  PgResult(PgResult&& o) noexcept : r_(o.r_) { o.r_ = nullptr; }
  PgResult& operator=(PgResult&& o) noexcept;
  ~PgResult();

  int rows() const;
  int columns() const;
  bool is_null(int row, int col) const;
  std::string_view get(int row, int col) const;  // text format, or the raw bytes of a binary one
  int64_t get_int64(int row, int col) const;     // 0 when NULL / not an integer
  // Rows affected by INSERT/UPDATE/DELETE (0 when not applicable).
  int64_t affected() const;
  // The column's type OID (pg_type.oid; 0 when out of range).
  uint32_t column_type(int col) const;

 private:
  friend class PgConnection;
  pg_result* r_ = nullptr;
};

class PgConnection {
 public:
  // Connects (blocking, bounded by connect_timeout_s). kUnavailable when the server cannot be
  // reached or refuses the login; the message names describe(), never the password.
  static Result<std::unique_ptr<PgConnection>> connect(const PgConnInfo& info);
  ~PgConnection();
  PgConnection(const PgConnection&) = delete;
  PgConnection& operator=(const PgConnection&) = delete;

  // One or more ';'-separated statements (simple query protocol); returns the last result.
  Result<PgResult> exec(const std::string& sql);
  // One statement with $1..$n text parameters (nullopt = NULL).
  Result<PgResult> exec_params(const std::string& sql,
                               const std::vector<std::optional<std::string>>& params);
  // The named prepared statement `name` (prepared from `sql` on first use on this connection,
  // then reused: parsed and, after PostgreSQL's first few custom plans, planned once) with $1..$n
  // text parameters. binary_result: every column in binary format (see the pg_binary helpers).
  // `name` must always come with the same `sql`.
  Result<PgResult> exec_prepared(const std::string& name, const std::string& sql,
                                 const std::vector<std::optional<std::string>>& params,
                                 bool binary_result);
  // `copy_sql` is "COPY t (cols) FROM STDIN"; `data` is COPY text format (see copy_escape).
  Status copy_in(const std::string& copy_sql, std::string_view data);

  // False once the connection broke (the owner should drop it and reconnect).
  bool healthy() const;
  // Server version as major*10000+minor (e.g. 150004).
  int server_version() const;
  // Quotes an identifier / literal for SQL text.
  std::string quote_ident(std::string_view s) const;
  std::string quote_literal(std::string_view s) const;

  // Per-connection flags for callers' one-time setup on this session (e.g. temp staging
  // tables created). Bits are owned by the caller; a new connection starts at 0.
  uint32_t user_flags = 0;

 private:
  explicit PgConnection(pg_conn* c, std::string describe) : c_(c), describe_(std::move(describe)) {}
  Status error_status(pg_result* r, std::string_view what) const;

  pg_conn* c_ = nullptr;
  std::string describe_;
  std::vector<std::string> prepared_;  // statement names prepared on this session
};

// Decoding of binary-format result values (network byte order). False on a malformed value.
namespace pg_binary {
constexpr uint32_t kInt4Oid = 23, kInt8Oid = 20, kFloat8Oid = 701, kTextOid = 25,
                   kNumericOid = 1700, kTimestamptzOid = 1184;
bool int4(std::string_view v, int32_t& out);
bool int8(std::string_view v, int64_t& out);
bool float8(std::string_view v, double& out);
// timestamptz (microseconds since 2000-01-01 UTC) → nanoseconds since the Unix epoch.
bool timestamptz_ns(std::string_view v, TimestampNs& out);
// numeric (numeric_send: ndigits, weight, sign, dscale, base-10000 digits) → units at scale
// dscale (the number of decimals numeric_out prints), exactly. False for NaN / ±Infinity, a
// scale above max_scale or a value outside int128.
bool numeric(std::string_view v, int max_scale, __int128& units, int& scale);
}  // namespace pg_binary

// True when `st` is a statement error with SQLSTATE 23505 (unique_violation).
bool is_unique_violation(const Status& st);

// Appends `s` escaped for COPY text format (backslash, tab, newline, CR).
void copy_escape(std::string& out, std::string_view s);
// "2026-11-22 07:00:00.123456+00" (microseconds, UTC); the sub-microsecond part is dropped.
void append_timestamptz(std::string& out, TimestampNs ts);
std::string timestamptz(TimestampNs ts);
// Query bound: the smallest microsecond at or after ts, so `time >= bound` / `time < bound` on
// microsecond columns mean exactly `t >= ts` / `t < ts` in nanoseconds.
std::string timestamptz_ceil(TimestampNs ts);
// SQL expression turning a timestamptz column into epoch nanoseconds (exact, via numeric).
std::string epoch_ns_sql(std::string_view column);

}  // namespace tickflow::storage::pg
