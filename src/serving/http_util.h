// HTTP request/response values and the parsing helpers every API route shares: percent
// decoding, series path segments ("/{prefix}/{exchange}/{symbol}/{timeframe}"), start/end/limit
// query parameters, and JSON error bodies ({"error":..,"parameter":..}).
// No sockets, no Beast: route handlers stay pure functions, unit-tested without a server.
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <functional>
#include <initializer_list>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/result.h"
#include "core/symbol.h"
#include "core/time.h"
#include "core/timeframe.h"
#include "storage/candle_store.h"

namespace tickflow::serving {

struct HttpRequest {
  std::string method;  // "GET"
  std::string target;  // path and query, as on the request line
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // as received (names lower-case)
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // extra headers
};

// One validated candle series of a request path.
struct SeriesRef {
  Exchange exchange = Exchange::kBinance;
  std::string symbol;  // unified
  Timeframe timeframe;
  std::string key;     // series_key(exchange, symbol, timeframe)
};

using SeriesPredicate = std::function<bool(Exchange, const std::string& symbol, const Timeframe&)>;

HttpResponse json_response(int status, std::string body);
// {"error":"...","parameter":"..."} (parameter omitted when empty).
HttpResponse error_response(int status, std::string_view message, std::string_view parameter = {});
// 405 with an Allow header ("GET", "GET, DELETE", ...).
HttpResponse method_not_allowed(std::string_view allow = "GET");
// 503 for a retryable store error, 500 otherwise.
HttpResponse store_error(const Status& s);
// 404 {"error":"unknown series","exchange":..,"symbol":..,"timeframe":..}
HttpResponse unknown_series(const SeriesRef& s);

// Percent-decoding ('+' stays '+', so "+02:00" offsets survive). nullopt on a bad escape.
std::optional<std::string> percent_decode(std::string_view s);
void split_target(std::string_view target, std::string_view& path, std::string_view& query);
std::vector<std::string_view> split(std::string_view s, char sep);
std::string lower(std::string_view s);

// "/ohlcv/a/b/c" with prefix "ohlcv" → {a, b, c}; false when the shape differs.
bool series_segments(std::string_view path, std::string_view prefix, std::string_view (&seg)[3]);
// Validates the three path segments; on failure fills `error` (400 naming the parameter).
bool parse_series(const std::string_view (&seg)[3], SeriesRef& out, HttpResponse& error);
// True when the series is configured or has stored candles; else fills `error` (404, or the
// store's error) and returns false.
bool check_known(const storage::CandleStore& store, const SeriesPredicate& is_configured, const SeriesRef& s,
                 HttpResponse& error);
// "exchange":..,"symbol":..,"timeframe":.. (no braces).
void append_series_head(std::string& b, const SeriesRef& s);

// start / end (ISO-8601 or epoch ms, inclusive) / limit (1..max_limit), plus the route's own
// `extra_names` (returned verbatim in `extra`). Any other parameter, a repeated one, a bad value
// or start > end → false with `error` = 400 naming the parameter.
struct RangeParams {
  std::optional<TimestampNs> start, end;
  std::optional<size_t> limit;
  std::map<std::string, std::string> extra;
};
bool parse_range_params(std::string_view query, size_t max_limit, std::initializer_list<std::string_view> extra_names,
                        RangeParams& out, HttpResponse& error);

// A group of routes plugged into the ApiHandler (indicators, quality, subscriptions, ...), so
// a feature adds its endpoints in its own file without touching the core dispatch.
class RouteModule {
 public:
  virtual ~RouteModule() = default;
  // The route pattern serving `path` (a metric label such as "/quality"), or "" if none.
  virtual std::string_view match(std::string_view path) const = 0;
  // Handles a request whose path matched (any method: answer 405 for the wrong one).
  virtual HttpResponse handle(const HttpRequest& request, std::string_view path, std::string_view query) const = 0;
  // Optional lines for the HTML index ("<li>...</li>").
  virtual std::string index_html() const { return {}; }
};

}  // namespace tickflow::serving
