// ApiHandler: the REST API as pure request → response functions (no sockets, no Beast), so it
// is unit-tested with a fake store and the one Beast TU (server.cc) stays a thin transport.
//
// Routes (GET only; another method on a known route → 405 with an Allow header):
//   /ohlcv/{exchange}/{symbol}/{timeframe}?start=&end=&limit=   candles, JSON
//   /health                                                    per-component status, JSON
//   /metrics                                                   Prometheus text format 0.0.4
//   /                                                          a small HTML index
//   /ws/ohlcv/{exchange}/{symbol}/{timeframe}                  WebSocket (see resolve_ws)
//   /ws/alerts?rule=&symbol=                                   WebSocket of alerts (see resolve_ws)
// Query semantics: start and end (ISO-8601 or epoch ms) bound the candles' open_time, both
// inclusive; limit 1..5000 (default 500) returns the most recent `limit` candles of the range,
// oldest first. Bad parameters → 400 {"error":..,"parameter":"start"}; a series that never
// stored a candle → 404 {"error":"unknown series",..}; unknown path → 404.
// Metrics: tickflow_api_requests_total{route,code}, tickflow_api_request_seconds{route}
// (route is the pattern, never the raw path).
// Thread-safety: handle()/resolve_ws()/ws_snapshot() are const-safe and may be called from
// any number of threads at once. The store and the health function must outlive the handler
// and be thread-safe themselves.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/health.h"
#include "core/symbol.h"
#include "core/timeframe.h"
#include "serving/gateway.h"
#include "serving/http_util.h"
#include "storage/candle_store.h"

namespace tickflow::serving {

using HealthFn = std::function<std::vector<ComponentHealth>()>;

struct ApiOptions {
  size_t default_limit = 500;
  size_t max_limit = 5000;
  // Candles sent in the first WebSocket message (the most recent stored ones).
  size_t ws_snapshot_candles = 1;
  // Series the running pipeline is configured to build. A configured series is known even
  // before its first candle is stored (REST answers 200 with no candles; WS subscribes).
  SeriesPredicate is_configured;
  // Feature routes (indicators, quality, subscriptions, ...), tried in order after the core ones.
  std::vector<std::shared_ptr<const RouteModule>> modules;
};

enum class WsKind { kSeries, kAlerts };

// Result of validating a WebSocket upgrade request: ok() → upgrade and subscribe to `series`
// (kSeries: candles + indicators) or to alerts matching `alerts` (kAlerts); otherwise send
// `error` as a plain HTTP response and do not upgrade.
struct WsResolution {
  bool ok() const { return error.status == 101; }
  WsKind kind = WsKind::kSeries;
  SeriesRef series;
  AlertFilter alerts;
  HttpResponse error{101, "", "", {}};
};

// `rule` and `symbol` (comma lists; each at most once) of /ws/alerts. Any other parameter, a
// repeated or empty one → false with `error` = 400 naming it.
bool parse_alert_filter(std::string_view query, AlertFilter& out, HttpResponse& error);

class ApiHandler {
 public:
  ApiHandler(storage::CandleStore& store, HealthFn health, ApiOptions options = {});

  HttpResponse handle(const HttpRequest& request) const;

  // Validates `GET /ws/ohlcv/{exchange}/{symbol}/{timeframe}` exactly like the REST route
  // (400 naming the parameter, 404 unknown series/path, 405 wrong method), and
  // `GET /ws/alerts?rule=a,b&symbol=BTC-USDT` (parse_alert_filter).
  WsResolution resolve_ws(const HttpRequest& request) const;
  // First WebSocket message: the latest stored candle(s) of the series.
  // {"type":"snapshot","exchange":..,"symbol":..,"timeframe":..,"candles":[...]}
  std::string ws_snapshot(const SeriesRef& series) const;

  // Route pattern of a target, for metric labels ("/ohlcv/{exchange}/{symbol}/{timeframe}",
  // "/health", "/metrics", "/", "/ws/ohlcv/{exchange}/{symbol}/{timeframe}", a module's pattern,
  // "other").
  std::string_view route_of(std::string_view target) const;

 private:
  HttpResponse dispatch(const HttpRequest& request, std::string_view route) const;
  const RouteModule* module_for(std::string_view path, std::string_view* route = nullptr) const;
  HttpResponse ohlcv(std::string_view path, std::string_view query) const;
  HttpResponse health() const;

  storage::CandleStore& store_;
  HealthFn health_;
  ApiOptions options_;
};

}  // namespace tickflow::serving
