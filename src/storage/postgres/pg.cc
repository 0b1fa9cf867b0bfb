// libpq seam: connection strings without leaking the password, RAII results, exec /
// exec_params / COPY FROM STDIN with server errors mapped to Status.
#include "storage/postgres/pg.h"

#include <libpq-fe.h>

#include <cstdio>
#include <algorithm>
#include <climits>
#include <cstring>

namespace tickflow::storage::pg {
namespace {

// libpq keyword values: single-quoted, with \ and ' escaped.
void append_kv(std::string& out, std::string_view key, std::string_view value) {
  if (!out.empty()) out.push_back(' ');
  out.append(key);
  out.append("='");
  for (char c : value) {
    if (c == '\\' || c == '\'') out.push_back('\\');
    out.push_back(c);
  }
  out.push_back('\'');
}

// SQLSTATE classes that mean "the connection or server is gone / not ready" → retryable.
bool retryable_sqlstate(std::string_view state) {
  return state.starts_with("08") ||   // connection exception
         state.starts_with("57P") ||  // admin shutdown, crash shutdown, cannot connect now
         state == "53300" ||          // too many connections
         state == "40001" ||          // serialization failure
         state == "40P01";            // deadlock detected
}

}  // namespace

std::string PgConnInfo::conninfo() const {
  std::string out;
  append_kv(out, "host", host);
  append_kv(out, "port", port);
  append_kv(out, "dbname", db);
  append_kv(out, "user", user);
  if (!password.empty()) append_kv(out, "password", password);
  append_kv(out, "connect_timeout", std::to_string(connect_timeout_s));
  append_kv(out, "application_name", application_name);
  return out;
}

std::string PgConnInfo::describe() const {
  return "postgresql://" + user + "@" + host + ":" + port + "/" + db;
}

PgResult& PgResult::operator=(PgResult&& o) noexcept {
  if (this != &o) {
    if (r_) PQclear(r_);
    r_ = o.r_;
    o.r_ = nullptr;
  }
  return *this;
}

PgResult::~PgResult() {
  if (r_) PQclear(r_);
}

int PgResult::rows() const { return r_ ? PQntuples(r_) : 0; }
int PgResult::columns() const { return r_ ? PQnfields(r_) : 0; }
bool PgResult::is_null(int row, int col) const { return !r_ || PQgetisnull(r_, row, col); }

std::string_view PgResult::get(int row, int col) const {
  if (!r_) return {};
  return std::string_view(PQgetvalue(r_, row, col), static_cast<size_t>(PQgetlength(r_, row, col)));
}

int64_t PgResult::get_int64(int row, int col) const {
  if (is_null(row, col)) return 0;
  std::string_view v = get(row, col);
  int64_t out = 0;
  bool neg = false;
  size_t i = 0;
  if (!v.empty() && v[0] == '-') {
    neg = true;
    i = 1;
  }
  for (; i < v.size(); ++i) {
    if (v[i] < '0' || v[i] > '9') return 0;
    out = out * 10 + (v[i] - '0');
  }
  return neg ? -out : out;
}

int64_t PgResult::affected() const {
  if (!r_) return 0;
  const char* n = PQcmdTuples(r_);
  return (n && *n) ? std::strtoll(n, nullptr, 10) : 0;
}

Result<std::unique_ptr<PgConnection>> PgConnection::connect(const PgConnInfo& info) {
  PGconn* c = PQconnectdb(info.conninfo().c_str());
  if (c == nullptr) return Status::unavailable("postgres " + info.describe() + ": out of memory");
  if (PQstatus(c) != CONNECTION_OK) {
    std::string msg = PQerrorMessage(c);
    PQfinish(c);
    while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) msg.pop_back();
    // libpq's messages name host/port/user but never the password.
    return Status::unavailable("postgres " + info.describe() + ": cannot connect: " + msg);
  }
  PQsetNoticeProcessor(c, [](void*, const char*) {}, nullptr);  // NOTICEs (IF NOT EXISTS) are noise
  return std::unique_ptr<PgConnection>(new PgConnection(c, info.describe()));
}

PgConnection::~PgConnection() {
  if (c_) PQfinish(c_);
}

bool PgConnection::healthy() const { return c_ && PQstatus(c_) == CONNECTION_OK; }
int PgConnection::server_version() const { return c_ ? PQserverVersion(c_) : 0; }

std::string PgConnection::quote_ident(std::string_view s) const {
  char* q = PQescapeIdentifier(c_, s.data(), s.size());
  if (!q) return "\"\"";
  std::string out(q);
  PQfreemem(q);
  return out;
}

std::string PgConnection::quote_literal(std::string_view s) const {
  char* q = PQescapeLiteral(c_, s.data(), s.size());
  if (!q) return "''";
  std::string out(q);
  PQfreemem(q);
  return out;
}

Status PgConnection::error_status(pg_result* r, std::string_view what) const {
  std::string msg;
  std::string state;
  if (r) {
    if (const char* p = PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY)) msg = p;
    if (const char* d = PQresultErrorField(r, PG_DIAG_MESSAGE_DETAIL)) msg += std::string(" (") + d + ")";
    if (const char* s = PQresultErrorField(r, PG_DIAG_SQLSTATE)) state = s;
  }
  if (msg.empty()) {
    msg = c_ ? PQerrorMessage(c_) : "no connection";
    while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) msg.pop_back();
  }
  std::string text = "postgres " + std::string(what) + ": " + msg;
  if (!state.empty()) text += " [SQLSTATE " + state + "]";
  if (!healthy() || state.empty() || retryable_sqlstate(state)) return Status::unavailable(text);
  if (state.starts_with("22") || state.starts_with("23") || state.starts_with("42"))
    return Status::invalid_argument(text);
  return Status::internal(text);
}

Result<PgResult> PgConnection::exec(const std::string& sql) {
  if (!c_) return Status::unavailable("postgres " + describe_ + ": not connected");
  PgResult res(PQexec(c_, sql.c_str()));
  const ExecStatusType st = res.r_ ? PQresultStatus(res.r_) : PGRES_FATAL_ERROR;
  if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK && st != PGRES_EMPTY_QUERY)
    return error_status(res.r_, "query");
  return res;
}

Result<PgResult> PgConnection::exec_params(const std::string& sql,
                                           const std::vector<std::optional<std::string>>& params) {
  if (!c_) return Status::unavailable("postgres " + describe_ + ": not connected");
  std::vector<const char*> values(params.size());
  for (size_t i = 0; i < params.size(); ++i) values[i] = params[i] ? params[i]->c_str() : nullptr;
  PgResult res(PQexecParams(c_, sql.c_str(), static_cast<int>(params.size()), nullptr,
                            values.data(), nullptr, nullptr, 0));
  const ExecStatusType st = res.r_ ? PQresultStatus(res.r_) : PGRES_FATAL_ERROR;
  if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) return error_status(res.r_, "query");
  return res;
}

Status PgConnection::copy_in(const std::string& copy_sql, std::string_view data) {
  if (!c_) return Status::unavailable("postgres " + describe_ + ": not connected");
  {
    PgResult start(PQexec(c_, copy_sql.c_str()));
    if (!start.r_ || PQresultStatus(start.r_) != PGRES_COPY_IN) return error_status(start.r_, "copy");
  }
  constexpr size_t kChunk = 1 << 20;
  for (size_t off = 0; off < data.size(); off += kChunk) {
    const size_t n = std::min(kChunk, data.size() - off);
    if (PQputCopyData(c_, data.data() + off, static_cast<int>(n)) != 1) {
      return error_status(nullptr, "copy");
    }
  }
  if (PQputCopyEnd(c_, nullptr) != 1) return error_status(nullptr, "copy");
  Status out = Status::ok();
  while (pg_result* r = PQgetResult(c_)) {
    PgResult res(r);
    if (PQresultStatus(r) != PGRES_COMMAND_OK && out.is_ok()) out = error_status(r, "copy");
  }
  return out;
}

void copy_escape(std::string& out, std::string_view s) {
  for (char c : s) {
    switch (c) {
      case '\\': out.append("\\\\"); break;
      case '\t': out.append("\\t"); break;
      case '\n': out.append("\\n"); break;
      case '\r': out.append("\\r"); break;
      default: out.push_back(c);
    }
  }
}

void append_timestamptz(std::string& out, TimestampNs ts) {
  int64_t us = ts / 1000;
  if (ts % 1000 < 0) --us;  // floor
  int64_t days = us / (86400LL * 1000000);
  int64_t rem = us % (86400LL * 1000000);
  if (rem < 0) {
    rem += 86400LL * 1000000;
    --days;
  }
  int64_t y = 0;
  unsigned m = 0, d = 0;
  civil_from_days(days, y, m, d);
  const int64_t secs = rem / 1000000;
  char buf[64];
  const int n = std::snprintf(buf, sizeof buf, "%04lld-%02u-%02u %02lld:%02lld:%02lld.%06lld+00",
                              static_cast<long long>(y), m, d, static_cast<long long>(secs / 3600),
                              static_cast<long long>(secs / 60 % 60), static_cast<long long>(secs % 60),
                              static_cast<long long>(rem % 1000000));
  out.append(buf, static_cast<size_t>(n));
}

std::string timestamptz(TimestampNs ts) {
  std::string out;
  append_timestamptz(out, ts);
  return out;
}

std::string timestamptz_ceil(TimestampNs ts) {
  const TimestampNs r = ts % 1000;
  if (r == 0 || ts > INT64_MAX - 1000) return timestamptz(ts);
  return timestamptz(r > 0 ? ts - r + 1000 : ts - r);
}

std::string epoch_ns_sql(std::string_view column) {
  return "(extract(epoch from " + std::string(column) + ") * 1000000000)::int8";
}

}  // namespace tickflow::storage::pg
