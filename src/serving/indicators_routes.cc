#include "serving/indicators_routes.h"

#include <algorithm>
#include <climits>
#include <cmath>

#include "serving/candle_json.h"

namespace tickflow::serving {
namespace {

void time_field(std::string& out, std::string_view key, TimestampNs ts) {
  out += '"';
  out += key;
  out += "\":\"";
  append_iso8601_ms(out, ts);
  out += "\",\"";
  out += key;
  out += "_ms\":";
  out += std::to_string(ts / kNsPerMs);
  out += ',';
}

}  // namespace

void append_indicator_json(std::string& out, const IndicatorRecord& r) {
  out += '{';
  time_field(out, "open_time", r.open_time);
  time_field(out, "close_time", r.close_time);
  out += "\"revision\":";
  out += std::to_string(r.candle_revision);
  out += ",\"values\":{";
  bool first = true;
  for (const auto& [name, value] : r.values) {
    if (!std::isfinite(value)) continue;  // never the case (IndicatorSet), never sent anyway
    if (!first) out += ',';
    first = false;
    append_json_string(out, name);
    out += ':';
    append_json_double(out, value);
  }
  out += "}}";
}

IndicatorRoutes::IndicatorRoutes(const storage::CandleStore& store, IndicatorRoutesOptions options)
    : store_(store), options_(std::move(options)) {}

std::string_view IndicatorRoutes::match(std::string_view path) const {
  std::string_view seg[3];
  return series_segments(path, "indicators", seg) ? kRoute : std::string_view();
}

std::string IndicatorRoutes::index_html() const {
  return "<li><code>GET /indicators/{exchange}/{symbol}/{timeframe}?name=&amp;start=&amp;end=&amp;limit=</code> "
         "indicator history (JSON numbers), e.g. <a href=\"/indicators/binance/BTC-USDT/1m?name=sma20,rsi14&amp;"
         "limit=10\">/indicators/binance/BTC-USDT/1m?name=sma20,rsi14&amp;limit=10</a></li>\n";
}

HttpResponse IndicatorRoutes::handle(const HttpRequest& request, std::string_view path,
                                     std::string_view query) const {
  if (request.method != "GET") return method_not_allowed();
  std::string_view seg[3];
  series_segments(path, "indicators", seg);
  SeriesRef series;
  HttpResponse error;
  if (!parse_series(seg, series, error)) return error;
  RangeParams range;
  if (!parse_range_params(query, options_.max_limit, {"name"}, range, error)) return error;

  std::vector<std::string> names;
  if (auto it = range.extra.find("name"); it != range.extra.end()) {
    std::vector<std::string> configured;
    if (options_.output_names) configured = options_.output_names(series.timeframe);
    for (std::string_view n : split(it->second, ',')) {
      if (n.empty()) return error_response(400, "name: empty entry in '" + it->second + "'", "name");
      if (options_.output_names && std::find(configured.begin(), configured.end(), n) == configured.end()) {
        std::string list;
        for (const auto& c : configured) list += (list.empty() ? "" : ", ") + c;
        return error_response(400,
                              "unknown indicator '" + std::string(n) + "' for " + series.timeframe.label() +
                                  " (configured: " + (list.empty() ? "none" : list) + ")",
                              "name");
      }
      if (std::find(names.begin(), names.end(), n) == names.end()) names.emplace_back(n);
    }
  }
  if (!check_known(store_, options_.is_configured, series, error)) return error;

  storage::IndicatorQuery q;
  q.exchange = series.exchange;
  q.symbol = series.symbol;
  q.timeframe = series.timeframe;
  q.names = names;
  q.start = range.start.value_or(INT64_MIN);
  q.end = range.end ? (*range.end == INT64_MAX ? INT64_MAX : *range.end + 1) : INT64_MAX;  // inclusive end
  q.limit = range.limit.value_or(options_.default_limit);
  auto records = store_.query_indicators(q);
  if (!records) return store_error(records.status());

  std::string b;
  b.reserve(128 + records->size() * (160 + 24 * (names.empty() ? 16 : names.size())));
  b += '{';
  append_series_head(b, series);
  b += ",\"indicators\":[";
  bool first = true;
  for (const IndicatorRecord& r : *records) {
    if (!first) b += ',';
    first = false;
    append_indicator_json(b, r);
  }
  b += "]}";
  return json_response(200, std::move(b));
}

}  // namespace tickflow::serving
