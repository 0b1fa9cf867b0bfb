#include "serving/api.h"
#include "serving/openapi.h"

#include <algorithm>
#include <chrono>
#include <climits>
#include <optional>

#include "observability/metrics.h"
#include "serving/candle_json.h"
#include "serving/http_util.h"
#include "serving/json_writer.h"

namespace tickflow::serving {

namespace {

constexpr std::string_view kOhlcvRoute = "/ohlcv/{exchange}/{symbol}/{timeframe}";
constexpr std::string_view kWsOhlcvRoute = "/ws/ohlcv/{exchange}/{symbol}/{timeframe}";
constexpr std::string_view kWsAlertsRoute = "/ws/alerts";
constexpr std::string_view kIndexHtml = R"(<!doctype html>
<html><head><meta charset="utf-8"><title>tickflow</title></head>
<body>
<h1>tickflow</h1>
<ul>
<li><code>GET /ohlcv/{exchange}/{symbol}/{timeframe}?start=&amp;end=&amp;limit=</code> candles (JSON; times ISO-8601 or epoch ms; limit 1..5000, default 500), e.g. <a href="/ohlcv/binance/BTC-USDT/1m?limit=10">/ohlcv/binance/BTC-USDT/1m?limit=10</a></li>
<li><code>WS /ws/ohlcv/{exchange}/{symbol}/{timeframe}</code> live candle updates (provisional, final, corrected) and indicator values</li>
<li><code>WS /ws/alerts?rule=&amp;symbol=</code> every alert as it fires or resolves (never conflated)</li>
<li><a href="/health"><code>GET /health</code></a> component status</li>
<li><a href="/metrics"><code>GET /metrics</code></a> Prometheus metrics</li>
<li><a href="/openapi.json"><code>GET /openapi.json</code></a> OpenAPI 3.0 description</li>
</ul>
</body></html>
)";

// Per-process API metrics (families registered once on the shared registry).
struct ApiProbe {
  prometheus::Family<prometheus::Counter>& requests;
  prometheus::Family<prometheus::Histogram>& latency;

  static ApiProbe& get() {
    static ApiProbe* p = new ApiProbe{
        prometheus::BuildCounter()
            .Name("tickflow_api_requests_total")
            .Help("HTTP requests by route pattern and status code")
            .Register(obs::registry()),
        prometheus::BuildHistogram()
            .Name("tickflow_api_request_seconds")
            .Help("HTTP request handling time by route pattern")
            .Register(obs::registry())};
    return *p;
  }
  void record(std::string_view route, int code, double seconds) {
    requests.Add({{"route", std::string(route)}, {"code", std::to_string(code)}}).Increment();
    latency.Add({{"route", std::string(route)}}, obs::latency_buckets()).Observe(seconds);
  }
};

}  // namespace

ApiHandler::ApiHandler(storage::CandleStore& store, HealthFn health, ApiOptions options)
    : store_(store), health_(std::move(health)), options_(options) {
  ApiProbe::get();
}

const RouteModule* ApiHandler::module_for(std::string_view path, std::string_view* route) const {
  for (const auto& m : options_.modules) {
    std::string_view r = m->match(path);
    if (!r.empty()) {
      if (route) *route = r;
      return m.get();
    }
  }
  return nullptr;
}

std::string_view ApiHandler::route_of(std::string_view target) const {
  std::string_view path, query;
  split_target(target, path, query);
  std::string_view seg[3];
  if (series_segments(path, "ohlcv", seg)) return kOhlcvRoute;
  if (series_segments(path, "ws/ohlcv", seg)) return kWsOhlcvRoute;
  if (path == kWsAlertsRoute) return kWsAlertsRoute;
  if (path == "/health") return "/health";
  if (path == "/metrics") return "/metrics";
  if (path == "/openapi.json") return "/openapi.json";
  if (path == "/") return "/";
  std::string_view route;
  if (module_for(path, &route)) return route;
  return "other";
}

HttpResponse ApiHandler::handle(const HttpRequest& request) const {
  auto t0 = std::chrono::steady_clock::now();
  std::string_view route = route_of(request.target);
  HttpResponse r = dispatch(request, route);
  ApiProbe::get().record(route, r.status,
                         std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  return r;
}

HttpResponse ApiHandler::dispatch(const HttpRequest& request, std::string_view route) const {
  std::string_view path, query;
  split_target(request.target, path, query);
  if (route == "other") return error_response(404, "not found: " + std::string(path));
  if (const RouteModule* m = module_for(path)) return m->handle(request, path, query);
  if (request.method != "GET") return method_not_allowed();
  if (route == kOhlcvRoute) return ohlcv(path, query);
  if (route == "/health") return health();
  if (route == "/openapi.json") {
    HttpResponse r;
    r.body = std::string(openapi_document());
    return r;
  }
  if (route == "/metrics") {
    HttpResponse r;
    r.content_type = "text/plain; version=0.0.4";
    r.body = obs::render_text();
    return r;
  }
  if (route == "/") {
    HttpResponse r;
    r.content_type = "text/html; charset=utf-8";
    r.body = kIndexHtml;
    std::string extra;
    for (const auto& m : options_.modules) extra += m->index_html();
    if (!extra.empty()) r.body.insert(r.body.find("</ul>"), extra);
    return r;
  }
  // The WebSocket route reached as plain HTTP (no Upgrade header).
  return error_response(426, "this route is a WebSocket endpoint (send an Upgrade: websocket request)");
}

HttpResponse ApiHandler::ohlcv(std::string_view path, std::string_view query) const {
  std::string_view seg[3];
  series_segments(path, "ohlcv", seg);
  SeriesRef series;
  HttpResponse error;
  if (!parse_series(seg, series, error)) return error;

  RangeParams range;
  if (!parse_range_params(query, options_.max_limit, {}, range, error)) return error;
  const auto& start = range.start;
  const auto& end = range.end;
  const auto& limit = range.limit;

  storage::CandleQuery q;
  q.exchange = series.exchange;
  q.symbol = series.symbol;
  q.timeframe = series.timeframe;
  q.start = start.value_or(INT64_MIN);
  q.end = end ? (*end == INT64_MAX ? INT64_MAX : *end + 1) : INT64_MAX;  // inclusive end
  q.limit = limit.value_or(options_.default_limit);
  auto candles = store_.query(q);
  if (!candles) return store_error(candles.status());
  // Candles prove the series known; only an empty answer needs the (extra round trip) check.
  if (candles->empty() && !check_known(store_, options_.is_configured, series, error)) return error;

  // One allocation: the bounds of every candle (about twice the text), no regrowth.
  size_t bound = 128 + 2 * json::string_bound(series.symbol);
  for (const Candle& c : *candles) bound += candle_json_bound(c) + 1;
  std::string b;
  b.reserve(bound);
  b += '{';
  append_series_head(b, series);
  b += ",\"candles\":[";
  bool first = true;
  for (const Candle& c : *candles) {
    if (!first) b += ',';
    first = false;
    append_candle_json(b, c);
  }
  b += "]}";
  return json_response(200, std::move(b));
}

HttpResponse ApiHandler::health() const {
  std::vector<ComponentHealth> components;
  if (health_) components = health_();
  HealthState overall = HealthState::kUp;
  for (const auto& c : components) {
    if (c.state == HealthState::kDown) overall = HealthState::kDown;
    else if (c.state == HealthState::kDegraded && overall == HealthState::kUp) overall = HealthState::kDegraded;
  }
  std::string b = "{\"status\":";
  append_json_string(b, health_state_name(overall));
  b += ",\"components\":[";
  bool first = true;
  for (const auto& c : components) {
    if (!first) b += ',';
    first = false;
    b += "{\"name\":";
    append_json_string(b, c.name);
    b += ",\"state\":";
    append_json_string(b, health_state_name(c.state));
    b += ",\"detail\":";
    append_json_string(b, c.detail);
    b += '}';
  }
  b += "]}";
  return json_response(overall == HealthState::kDown ? 503 : 200, std::move(b));
}

bool parse_alert_filter(std::string_view query, AlertFilter& out, HttpResponse& error) {
  bool seen_rule = false, seen_symbol = false;
  for (std::string_view part : split(query, '&')) {
    if (part.empty()) continue;
    const size_t eq = part.find('=');
    const std::string_view name = part.substr(0, eq);
    auto value = percent_decode(eq == std::string_view::npos ? std::string_view() : part.substr(eq + 1));
    if (name != "rule" && name != "symbol") {
      error = error_response(400, "unknown parameter (this route takes rule and symbol)", name);
      return false;
    }
    bool& seen = name == "rule" ? seen_rule : seen_symbol;
    if (seen) {
      error = error_response(400, "repeated parameter (use a comma list)", name);
      return false;
    }
    seen = true;
    if (!value || value->empty()) {
      error = error_response(400, "empty or badly escaped value", name);
      return false;
    }
    auto& list = name == "rule" ? out.rules : out.symbols;
    for (std::string_view item : split(*value, ',')) {
      if (item.empty()) {
        error = error_response(400, "empty item in the list", name);
        return false;
      }
      list.emplace_back(item);
    }
  }
  return true;
}

WsResolution ApiHandler::resolve_ws(const HttpRequest& request) const {
  auto t0 = std::chrono::steady_clock::now();
  WsResolution res;
  std::string_view path, query;
  split_target(request.target, path, query);
  std::string_view seg[3];
  if (path == kWsAlertsRoute && request.method == "GET") {
    res.kind = WsKind::kAlerts;
    if (parse_alert_filter(query, res.alerts, res.error)) res.error = HttpResponse{101, "", "", {}};
  } else if (!series_segments(path, "ws/ohlcv", seg) && path != kWsAlertsRoute) {
    res.error = error_response(404, "not found: " + std::string(path));
  } else if (request.method != "GET") {
    res.error = method_not_allowed();
  } else if (!query.empty()) {
    res.error = error_response(400, "this WebSocket route takes no query parameters",
                               query.substr(0, query.find_first_of("=&")));
  } else if (parse_series(seg, res.series, res.error) && check_known(store_, options_.is_configured, res.series, res.error)) {
    res.error = HttpResponse{101, "", "", {}};
  }
  ApiProbe::get().record(route_of(request.target), res.error.status,
                         std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  return res;
}

std::string ApiHandler::ws_snapshot(const SeriesRef& series) const {
  std::string b = "{\"type\":\"snapshot\",";
  append_series_head(b, series);
  b += ",\"candles\":[";
  storage::CandleQuery q;
  q.exchange = series.exchange;
  q.symbol = series.symbol;
  q.timeframe = series.timeframe;
  q.start = INT64_MIN;
  q.limit = std::max<size_t>(1, options_.ws_snapshot_candles);
  auto candles = store_.query(q);
  if (candles) {
    bool first = true;
    for (const Candle& c : *candles) {
      if (!first) b += ',';
      first = false;
      append_candle_json(b, c);
    }
  }
  b += "]}";
  return b;
}

}  // namespace tickflow::serving
