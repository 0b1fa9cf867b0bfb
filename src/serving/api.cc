#include "serving/api.h"
#include "serving/openapi.h"

#include <algorithm>
#include <chrono>
#include <climits>
#include <optional>

#include "observability/metrics.h"
#include "serving/candle_json.h"

namespace tickflow::serving {

namespace {

constexpr std::string_view kOhlcvRoute = "/ohlcv/{exchange}/{symbol}/{timeframe}";
constexpr std::string_view kWsOhlcvRoute = "/ws/ohlcv/{exchange}/{symbol}/{timeframe}";
constexpr std::string_view kIndexHtml = R"(<!doctype html>
<html><head><meta charset="utf-8"><title>tickflow</title></head>
<body>
<h1>tickflow</h1>
<ul>
<li><code>GET /ohlcv/{exchange}/{symbol}/{timeframe}?start=&amp;end=&amp;limit=</code> candles (JSON; times ISO-8601 or epoch ms; limit 1..5000, default 500), e.g. <a href="/ohlcv/binance/BTC-USDT/1m?limit=10">/ohlcv/binance/BTC-USDT/1m?limit=10</a></li>
<li><code>WS /ws/ohlcv/{exchange}/{symbol}/{timeframe}</code> live candle updates (provisional, final, corrected)</li>
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

HttpResponse json_response(int status, std::string body) {
  HttpResponse r;
  r.status = status;
  r.content_type = "application/json";
  r.body = std::move(body);
  return r;
}

// {"error":"...","parameter":"..."} (parameter omitted when empty).
HttpResponse error_response(int status, std::string_view message, std::string_view parameter = {}) {
  std::string b = "{\"error\":";
  append_json_string(b, message);
  if (!parameter.empty()) {
    b += ",\"parameter\":";
    append_json_string(b, parameter);
  }
  b += '}';
  return json_response(status, std::move(b));
}

HttpResponse method_not_allowed() {
  HttpResponse r = error_response(405, "method not allowed (use GET)");
  r.headers.emplace_back("Allow", "GET");
  return r;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Percent-decoding ('+' stays '+', so "+02:00" offsets survive). nullopt on a bad escape.
std::optional<std::string> percent_decode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') {
      out += s[i];
      continue;
    }
    if (i + 2 >= s.size()) return std::nullopt;
    int hi = hex_value(s[i + 1]), lo = hex_value(s[i + 2]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out += static_cast<char>(hi * 16 + lo);
    i += 2;
  }
  return out;
}

void split_target(std::string_view target, std::string_view& path, std::string_view& query) {
  size_t q = target.find('?');
  path = target.substr(0, q);
  query = q == std::string_view::npos ? std::string_view{} : target.substr(q + 1);
  size_t hash = query.find('#');
  if (hash != std::string_view::npos) query = query.substr(0, hash);
}

std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> parts;
  size_t pos = 0;
  while (true) {
    size_t next = s.find(sep, pos);
    parts.push_back(s.substr(pos, next == std::string_view::npos ? std::string_view::npos : next - pos));
    if (next == std::string_view::npos) break;
    pos = next + 1;
  }
  return parts;
}

// "/ohlcv/a/b/c" with prefix "ohlcv" → {a, b, c}; false when the shape differs.
bool series_segments(std::string_view path, std::string_view prefix, std::string_view (&seg)[3]) {
  if (path.size() < prefix.size() + 2 || path[0] != '/' || path.substr(1, prefix.size()) != prefix ||
      path[prefix.size() + 1] != '/')
    return false;
  auto parts = split(path.substr(prefix.size() + 2), '/');
  if (parts.size() != 3) return false;
  for (int i = 0; i < 3; ++i) seg[i] = parts[static_cast<size_t>(i)];
  return true;
}

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

// Validates the three path segments; on failure fills `error` (400 naming the parameter).
bool parse_series(const std::string_view (&seg)[3], SeriesRef& out, HttpResponse& error) {
  static constexpr std::string_view kNames[3] = {"exchange", "symbol", "timeframe"};
  std::string decoded[3];
  for (int i = 0; i < 3; ++i) {
    auto d = percent_decode(seg[i]);
    if (!d || d->empty()) {
      error = error_response(400, "missing or badly encoded " + std::string(kNames[i]), kNames[i]);
      return false;
    }
    decoded[i] = std::move(*d);
  }
  auto exchange = parse_exchange(lower(decoded[0]));
  if (!exchange) {
    error = error_response(400, "unknown exchange '" + decoded[0] + "' (binance, coinbase, kraken)",
                           "exchange");
    return false;
  }
  auto symbol = normalize_symbol(*exchange, decoded[1]);
  if (!symbol) {
    error = error_response(400, symbol.status().message(), "symbol");
    return false;
  }
  auto tf = Timeframe::parse(decoded[2]);
  if (!tf) {
    error = error_response(400, tf.status().message(), "timeframe");
    return false;
  }
  out.exchange = *exchange;
  out.symbol = std::move(*symbol);
  out.timeframe = std::move(*tf);
  out.key = series_key(out.exchange, out.symbol, out.timeframe.label());
  return true;
}

HttpResponse store_error(const Status& s) {
  return error_response(s.retryable() ? 503 : 500, "store: " + s.message());
}

HttpResponse unknown_series(const SeriesRef& s) {
  std::string b = "{\"error\":\"unknown series\",\"exchange\":";
  append_json_string(b, exchange_name(s.exchange));
  b += ",\"symbol\":";
  append_json_string(b, s.symbol);
  b += ",\"timeframe\":";
  append_json_string(b, s.timeframe.label());
  b += '}';
  return json_response(404, std::move(b));
}

// 404 when the store never saw the series; filled `error` and false on any failure.
bool check_known(const storage::CandleStore& store, const ApiOptions& options, const SeriesRef& s,
                 HttpResponse& error) {
  if (options.is_configured && options.is_configured(s.exchange, s.symbol, s.timeframe)) return true;
  auto known = store.has_series(s.exchange, s.symbol, s.timeframe);
  if (!known) {
    error = store_error(known.status());
    return false;
  }
  if (!*known) {
    error = unknown_series(s);
    return false;
  }
  return true;
}

void append_series_head(std::string& b, const SeriesRef& s) {
  b += "\"exchange\":";
  append_json_string(b, exchange_name(s.exchange));
  b += ",\"symbol\":";
  append_json_string(b, s.symbol);
  b += ",\"timeframe\":";
  append_json_string(b, s.timeframe.label());
}

}  // namespace

ApiHandler::ApiHandler(storage::CandleStore& store, HealthFn health, ApiOptions options)
    : store_(store), health_(std::move(health)), options_(options) {
  ApiProbe::get();
}

std::string_view ApiHandler::route_of(std::string_view target) {
  std::string_view path, query;
  split_target(target, path, query);
  std::string_view seg[3];
  if (series_segments(path, "ohlcv", seg)) return kOhlcvRoute;
  if (series_segments(path, "ws/ohlcv", seg)) return kWsOhlcvRoute;
  if (path == "/health") return "/health";
  if (path == "/metrics") return "/metrics";
  if (path == "/openapi.json") return "/openapi.json";
  if (path == "/") return "/";
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

  std::optional<TimestampNs> start, end;
  std::optional<size_t> limit;
  if (!query.empty()) {
    for (std::string_view pair : split(query, '&')) {
      if (pair.empty()) continue;
      size_t eq = pair.find('=');
      auto name = percent_decode(pair.substr(0, eq));
      auto value = percent_decode(eq == std::string_view::npos ? std::string_view{} : pair.substr(eq + 1));
      if (!name) return error_response(400, "badly encoded query parameter name");
      const std::string& n = *name;
      if (n != "start" && n != "end" && n != "limit")
        return error_response(400, "unknown query parameter '" + n + "' (start, end, limit)", n);
      if (!value) return error_response(400, "badly encoded value of " + n, n);
      if (value->empty()) return error_response(400, n + " is empty", n);
      if (n == "limit") {
        if (limit) return error_response(400, "limit given twice", n);
        size_t v = 0;
        bool ok = value->size() <= 6 &&
                  std::all_of(value->begin(), value->end(), [](char c) { return c >= '0' && c <= '9'; });
        if (ok) v = std::stoul(*value);
        if (!ok || v < 1 || v > options_.max_limit)
          return error_response(400,
                                "limit must be an integer in 1.." + std::to_string(options_.max_limit) +
                                    " (got '" + *value + "')",
                                n);
        limit = v;
        continue;
      }
      auto& slot = n == "start" ? start : end;
      if (slot) return error_response(400, n + " given twice", n);
      auto t = parse_time(*value);
      if (!t)
        return error_response(400,
                              "bad " + n + " '" + *value + "': " + t.status().message() +
                                  " (use ISO-8601 like 2021-08-14T14:46:00Z or epoch milliseconds)",
                              n);
      slot = *t;
    }
  }
  if (start && end && *start > *end)
    return error_response(400, "start (" + format_iso8601_ms(*start) + ") is after end (" +
                                   format_iso8601_ms(*end) + ")",
                          "start");

  if (!check_known(store_, options_, series, error)) return error;

  storage::CandleQuery q;
  q.exchange = series.exchange;
  q.symbol = series.symbol;
  q.timeframe = series.timeframe;
  q.start = start.value_or(INT64_MIN);
  q.end = end ? (*end == INT64_MAX ? INT64_MAX : *end + 1) : INT64_MAX;  // inclusive end
  q.limit = limit.value_or(options_.default_limit);
  auto candles = store_.query(q);
  if (!candles) return store_error(candles.status());

  std::string b;
  b.reserve(128 + candles->size() * 560);
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

WsResolution ApiHandler::resolve_ws(const HttpRequest& request) const {
  auto t0 = std::chrono::steady_clock::now();
  WsResolution res;
  std::string_view path, query;
  split_target(request.target, path, query);
  std::string_view seg[3];
  if (!series_segments(path, "ws/ohlcv", seg)) {
    res.error = error_response(404, "not found: " + std::string(path));
  } else if (request.method != "GET") {
    res.error = method_not_allowed();
  } else if (!query.empty()) {
    res.error = error_response(400, "this WebSocket route takes no query parameters",
                               query.substr(0, query.find_first_of("=&")));
  } else if (parse_series(seg, res.series, res.error) && check_known(store_, options_, res.series, res.error)) {
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
