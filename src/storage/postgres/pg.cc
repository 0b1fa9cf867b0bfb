// libpq seam: connection strings without leaking the password, RAII results, exec /
// exec_params / COPY FROM STDIN with server errors mapped to Status.
#include "storage/postgres/pg.h"

#include <libpq-fe.h>

#include <cstdio>
#include <algorithm>
#include <bit>
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

uint32_t PgResult::column_type(int col) const {
  return r_ && col >= 0 && col < PQnfields(r_) ? static_cast<uint32_t>(PQftype(r_, col)) : 0;
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

Result<PgResult> PgConnection::exec_prepared(const std::string& name, const std::string& sql,
                                             const std::vector<std::optional<std::string>>& params,
                                             bool binary_result) {
  if (!c_) return Status::unavailable("postgres " + describe_ + ": not connected");
  if (std::find(prepared_.begin(), prepared_.end(), name) == prepared_.end()) {
    PgResult prep(PQprepare(c_, name.c_str(), sql.c_str(), static_cast<int>(params.size()), nullptr));
    if (!prep.r_ || PQresultStatus(prep.r_) != PGRES_COMMAND_OK) return error_status(prep.r_, "prepare");
    prepared_.push_back(name);
  }
  std::vector<const char*> values(params.size());
  for (size_t i = 0; i < params.size(); ++i) values[i] = params[i] ? params[i]->c_str() : nullptr;
  PgResult res(PQexecPrepared(c_, name.c_str(), static_cast<int>(params.size()), values.data(),
                              nullptr, nullptr, binary_result ? 1 : 0));
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

bool is_unique_violation(const Status& st) {
  return !st && st.message().find("[SQLSTATE 23505]") != std::string::npos;  // error_status's form
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

namespace pg_binary {
namespace {

// Big-endian unsigned of n bytes at v[at] (the caller checked the size). 2, 4 and 8 bytes are
// one load (+ byte swap) once inlined: this runs ~20 times per candle row of a range read.
template <typename U>
inline U load_be(const char* p) {
  U x;
  std::memcpy(&x, p, sizeof x);
  if constexpr (std::endian::native == std::endian::little) {
    if constexpr (sizeof(U) == 2) x = __builtin_bswap16(x);
    if constexpr (sizeof(U) == 4) x = __builtin_bswap32(x);
    if constexpr (sizeof(U) == 8) x = __builtin_bswap64(x);
  }
  return x;
}

inline uint64_t be(std::string_view v, size_t at, size_t n) {
  const char* p = v.data() + at;
  switch (n) {
    case 2: return load_be<uint16_t>(p);
    case 4: return load_be<uint32_t>(p);
    case 8: return load_be<uint64_t>(p);
    default: break;
  }
  uint64_t x = 0;
  for (size_t i = 0; i < n; ++i) x = (x << 8) | static_cast<unsigned char>(p[i]);
  return x;
}

// 10^0 .. 10^38 (all fit in a signed 128-bit integer).
constexpr auto kPow10 = [] {
  struct T { __int128 v[39]; } t{};
  t.v[0] = 1;
  for (int i = 1; i < 39; ++i) t.v[i] = t.v[i - 1] * 10;
  return t;
}();

}  // namespace

bool int4(std::string_view v, int32_t& out) {
  if (v.size() != 4) return false;
  out = static_cast<int32_t>(static_cast<uint32_t>(be(v, 0, 4)));
  return true;
}

bool int8(std::string_view v, int64_t& out) {
  if (v.size() != 8) return false;
  out = static_cast<int64_t>(be(v, 0, 8));
  return true;
}

bool float8(std::string_view v, double& out) {
  if (v.size() != 8) return false;
  const uint64_t bits = be(v, 0, 8);
  std::memcpy(&out, &bits, sizeof out);
  return true;
}

bool timestamptz_ns(std::string_view v, TimestampNs& out) {
  constexpr int64_t kPgEpochUs = 946684800LL * 1000000;  // 2000-01-01 in Unix microseconds
  int64_t us = 0;
  if (!int8(v, us)) return false;
  // ±infinity and values whose nanoseconds overflow are not representable.
  if (__builtin_add_overflow(us, kPgEpochUs, &us) || __builtin_mul_overflow(us, int64_t{1000}, &out))
    return false;
  return true;
}

bool numeric(std::string_view v, int max_scale, __int128& units, int& scale) {
  constexpr uint64_t kPos = 0x0000, kNeg = 0x4000;
  if (v.size() < 8) return false;
  const auto ndigits = static_cast<int16_t>(be(v, 0, 2));
  const auto weight = static_cast<int16_t>(be(v, 2, 2));
  const uint64_t sign = be(v, 4, 2);
  const int dscale = static_cast<int>(be(v, 6, 2));
  if (ndigits < 0 || v.size() != 8 + 2 * static_cast<size_t>(ndigits)) return false;
  if ((sign != kPos && sign != kNeg) || dscale > max_scale) return false;  // NaN, ±Infinity
  // Fast path (prices, volumes: at most 16 significant digits): Horner in 64 bits, h =
  // Σ d[i]·10000^(ndigits−1−i), then one scaling by the power of ten of the last digit.
  // Same results as the general loop below, which handles everything else.
  if (const int e_last = 4 * (weight - ndigits + 1) + dscale; ndigits <= 4 && e_last > -4 && e_last <= 22) {
    uint64_t h = 0;
    for (int i = 0; i < ndigits; ++i) {
      const uint64_t d = be(v, 8 + 2 * static_cast<size_t>(i), 2);
      if (d > 9999) return false;
      h = h * 10000 + d;
    }
    __int128 acc;
    if (e_last >= 0) {
      acc = static_cast<__int128>(h) * kPow10.v[e_last];  // < 10^16 · 10^22: no overflow
    } else {
      // Below dscale: numeric_send pads the last base-10000 digit with zeros only.
      const auto div = static_cast<uint64_t>(kPow10.v[-e_last]);
      if (h % div != 0) return false;
      acc = static_cast<__int128>(h / div);
    }
    units = sign == kNeg ? -acc : acc;
    scale = dscale;
    return true;
  }
  // value = Σ d[i]·10000^(weight − i); units = value·10^dscale.
  __int128 acc = 0;
  for (int i = 0; i < ndigits; ++i) {
    const auto d = static_cast<int>(be(v, 8 + 2 * static_cast<size_t>(i), 2));
    if (d > 9999) return false;
    if (d == 0) continue;
    const int e = 4 * (weight - i) + dscale;  // power of ten of this digit in units
    __int128 term;
    if (e >= 0) {
      if (e > 38 || __builtin_mul_overflow(static_cast<__int128>(d), kPow10.v[e], &term)) return false;
    } else {
      // Below dscale: numeric_send pads the last base-10000 digit with zeros only.
      if (e <= -4 || d % static_cast<int>(kPow10.v[-e]) != 0) return false;
      term = d / static_cast<int>(kPow10.v[-e]);
    }
    if (__builtin_add_overflow(acc, term, &acc)) return false;
  }
  units = sign == kNeg ? -acc : acc;
  scale = dscale;
  return true;
}

}  // namespace pg_binary

}  // namespace tickflow::storage::pg
