// LatestCache: the newest candle, indicator record and alert ("signal") per series, kept hot so
// `GET /latest/...` never reads history (issue 6 item 5). Backends: cache/redis (Redis 7 via
// hiredis). Only the app wiring includes a backend header.
//
// Contract of put(): for every key the cache keeps the value of the highest rank, never a lower
// one — a replay, a rebuild from the store or an out-of-order batch cannot move a key back in
// time. Ranks (fixed-width strings, compared as bytes, equal rank replaces):
//   candle      open_time, revision, final-over-provisional, trades (a provisional candle only
//               gains trades, so a newer provisional update outranks an older one)
//   indicators  open_time, candle_revision, final-over-provisional
//   alert       ts_event
// Each key gets a TTL (the backend's policy: e.g. 2 x timeframe + a margin), so a series that
// stopped trading disappears from the cache and reads fall back to the store.
// get() returns the cached values as the JSON objects the API serves (see latest_json.h).
// Cache loss is harmless: the marker (has_marker / set_marker) tells the writer whether the
// cache was (re)built since the last flush or restart; if not it rebuilds from the store.
//
// Thread-safety: every method is safe to call from any thread (backends hold a connection pool).
// Errors: kUnavailable (retryable) when the cache is down or in reconnect backoff — callers then
// fall back to the store (reads) or keep their position and retry (the writer).
#pragma once

#include <cinttypes>
#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include "core/analytics.h"
#include "core/candle.h"
#include "core/health.h"
#include "core/result.h"

namespace tickflow::cache {

struct LatestBatch {
  std::vector<Candle> candles;
  std::vector<IndicatorRecord> indicators;
  std::vector<Alert> alerts;
  bool empty() const { return candles.empty() && indicators.empty() && alerts.empty(); }
  size_t size() const { return candles.size() + indicators.size() + alerts.size(); }
};

// Cached JSON objects of one series (absent = not cached).
struct LatestSnapshot {
  std::optional<std::string> candle;      // append_candle_json's object
  std::optional<std::string> indicators;  // latest_json.h: indicators_json
  std::optional<std::string> alert;       // latest_json.h: alert_json
};

class LatestCache {
 public:
  virtual ~LatestCache() = default;
  // Writes the batch (one round trip per few thousand keys); see the rank contract above.
  virtual Status put(const LatestBatch& batch) = 0;
  // Reads the three values of one series in one round trip. exchange is the exchange name.
  virtual Result<LatestSnapshot> get(std::string_view exchange, std::string_view symbol,
                                     std::string_view timeframe) = 0;
  virtual Result<bool> has_marker() = 0;
  virtual Status set_marker() = 0;
  // "redis": up, or degraded with detail "down: ..." (password-free reason, reconnect backoff).
  virtual ComponentHealth health() const = 0;
};

// ---- ranks (shared by the writer's per-batch coalescing and the backends) ----

inline std::string candle_rank(const Candle& c) {
  char buf[80];
  std::snprintf(buf, sizeof buf, "%020" PRId64 ".%010u.%d.%020" PRId64, c.open_time, c.revision,
                c.status == CandleStatus::kProvisional ? 0 : 1, c.trades);
  return buf;
}

inline std::string indicators_rank(const IndicatorRecord& r) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%020" PRId64 ".%010u.%d", r.open_time, r.candle_revision, r.provisional ? 0 : 1);
  return buf;
}

inline std::string alert_rank(const Alert& a) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%020" PRId64, a.ts_event);
  return buf;
}

}  // namespace tickflow::cache
