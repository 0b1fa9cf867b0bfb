#include "serving/quality_routes.h"

#include <algorithm>
#include <cmath>
#include <optional>

#include "serving/candle_json.h"

namespace tickflow::serving {
namespace {

void append_counts(std::string& out, const quality::CheckCounts& counts) {
  for (size_t c = 0; c < quality::kCheckCount; ++c) {
    if (c > 0) out += ',';
    out += '"';
    out += quality::check_name(static_cast<quality::Check>(c));
    out += "\":";
    out += std::to_string(counts[c]);
  }
}

void append_number(std::string& out, double v) {
  if (std::isfinite(v)) {
    append_json_double(out, v);
  } else {
    out += "null";
  }
}

void append_scope(std::string& out, const quality::ScopeReport& r) {
  out += "{\"exchange\":";
  append_json_string(out, r.reading.exchange);
  if (r.reading.scope == "series") {
    out += ",\"symbol\":";
    append_json_string(out, r.reading.symbol);
  }
  out += ",\"score\":";
  append_number(out, r.reading.score);
  out += ",\"stale\":";
  out += r.reading.stale ? "true" : "false";
  out += ",\"last_data\":";
  if (r.reading.last_data > 0) {
    out += '"';
    append_iso8601_ms(out, r.reading.last_data);
    out += '"';
  } else {
    out += "null";
  }
  out += ",\"last_data_age_seconds\":";
  if (r.last_data_age_seconds >= 0) {
    append_number(out, r.last_data_age_seconds);
  } else {
    out += "null";
  }
  out += ",\"trades\":";
  out += std::to_string(r.total_trades);
  out += ",\"window\":{\"events\":";
  out += std::to_string(r.window_events);
  out += ',';
  append_counts(out, r.window_counts);
  out += "},\"totals\":{";
  append_counts(out, r.total_counts);
  out += "}}";
}

}  // namespace

QualityRoutes::QualityRoutes(QualityRoutesOptions options) : options_(std::move(options)) {}

std::string_view QualityRoutes::match(std::string_view path) const {
  return path == kRoute || path == "/quality/" ? kRoute : std::string_view();
}

std::string QualityRoutes::index_html() const {
  return "<li><code>GET /quality?exchange=&amp;symbol=</code> data-quality scores per feed and series, "
         "e.g. <a href=\"/quality\">/quality</a></li>\n";
}

HttpResponse QualityRoutes::handle(const HttpRequest& request, std::string_view, std::string_view query) const {
  if (request.method != "GET") return method_not_allowed();
  std::optional<Exchange> exchange;
  std::optional<std::string> symbol_text;
  for (std::string_view part : split(query, '&')) {
    if (part.empty()) continue;
    const size_t eq = part.find('=');
    auto name = percent_decode(part.substr(0, eq));
    auto value = percent_decode(eq == std::string_view::npos ? std::string_view() : part.substr(eq + 1));
    if (!name || !value) return error_response(400, "bad percent-encoding in the query");
    if (*name == "exchange") {
      if (exchange) return error_response(400, "exchange: given more than once", "exchange");
      exchange = parse_exchange(lower(*value));
      if (!exchange) return error_response(400, "exchange: unknown exchange '" + *value + "'", "exchange");
    } else if (*name == "symbol") {
      if (symbol_text) return error_response(400, "symbol: given more than once", "symbol");
      if (value->empty()) return error_response(400, "symbol: must not be empty", "symbol");
      symbol_text = *value;
    } else {
      return error_response(400, "unknown parameter '" + *name + "' (allowed: exchange, symbol)", *name);
    }
  }
  std::string symbol;
  if (symbol_text) {
    auto s = normalize_symbol(exchange.value_or(Exchange::kBinance), *symbol_text);
    if (!s) return error_response(400, "symbol: " + s.status().message(), "symbol");
    symbol = *s;
  }
  if (!options_.reports) return error_response(503, "data-quality monitoring is not running");

  const auto reports = options_.reports();
  double overall = 1.0;
  std::string feeds, series;
  const std::string_view exchange_label = exchange ? exchange_name(*exchange) : std::string_view();
  for (const auto& r : reports) {
    if (exchange && r.reading.exchange != exchange_label) continue;
    if (r.reading.scope == "feed") {
      overall = std::min(overall, r.reading.score);
      if (!feeds.empty()) feeds += ',';
      append_scope(feeds, r);
    } else {
      if (!symbol.empty() && r.reading.symbol != symbol) continue;
      if (!series.empty()) series += ',';
      append_scope(series, r);
    }
  }
  std::string body = "{\"overall_score\":";
  append_number(body, overall);
  body += ",\"stale_after_seconds\":";
  append_number(body, static_cast<double>(options_.stale_after) / 1e9);
  body += ",\"window_seconds\":";
  append_number(body, static_cast<double>(options_.window) / 1e9);
  body += ",\"feeds\":[" + feeds + "],\"series\":[" + series + "]}";
  return json_response(200, std::move(body));
}

}  // namespace tickflow::serving
