#include "serving/trades_routes.h"

#include <climits>

#include "serving/candle_json.h"

namespace tickflow::serving {
namespace {

// "/trades/a/b" → {a, b}.
bool trade_segments(std::string_view path, std::string_view (&seg)[2]) {
  constexpr std::string_view kPrefix = "/trades/";
  if (!path.starts_with(kPrefix)) return false;
  auto parts = split(path.substr(kPrefix.size()), '/');
  if (parts.size() != 2 || parts[0].empty() || parts[1].empty()) return false;
  seg[0] = parts[0];
  seg[1] = parts[1];
  return true;
}

}  // namespace

TradesRoutes::TradesRoutes(const storage::TradeStore* store, TradesRoutesOptions options)
    : store_(store), options_(options) {}

std::string_view TradesRoutes::match(std::string_view path) const {
  std::string_view seg[2];
  return trade_segments(path, seg) ? kRoute : std::string_view();
}

std::string TradesRoutes::index_html() const {
  return "<li><code>GET /trades/{exchange}/{symbol}?start=&amp;end=&amp;limit=</code> trade history "
         "(postgres store), e.g. <a href=\"/trades/binance/BTC-USDT?limit=10\">/trades/binance/BTC-USDT?limit=10</a></li>\n";
}

HttpResponse TradesRoutes::handle(const HttpRequest& request, std::string_view path, std::string_view query) const {
  if (request.method != "GET") return method_not_allowed();
  std::string_view seg[2];
  trade_segments(path, seg);
  auto ex_text = percent_decode(seg[0]);
  auto exchange = ex_text ? parse_exchange(lower(*ex_text)) : std::nullopt;
  if (!exchange) return error_response(400, "exchange: unknown exchange '" + std::string(seg[0]) + "'", "exchange");
  auto sym_text = percent_decode(seg[1]);
  if (!sym_text) return error_response(400, "symbol: bad percent-encoding", "symbol");
  auto symbol = normalize_symbol(*exchange, *sym_text);
  if (!symbol) return error_response(400, "symbol: " + symbol.status().message(), "symbol");
  RangeParams range;
  HttpResponse error;
  if (!parse_range_params(query, options_.max_limit, {}, range, error)) return error;
  if (store_ == nullptr) {
    return error_response(501, "trade history needs the postgres store (storage.backend = \"postgres\"); "
                               "the embedded store keeps candles only");
  }
  storage::TradeQuery q;
  q.exchange = *exchange;
  q.symbol = *symbol;
  q.start = range.start.value_or(INT64_MIN);
  q.end = range.end ? (*range.end == INT64_MAX ? INT64_MAX : *range.end + 1) : INT64_MAX;  // inclusive end
  q.limit = range.limit.value_or(options_.default_limit);
  auto trades = store_->query_trades(q);
  if (!trades) return store_error(trades.status());

  std::string b;
  b.reserve(96 + trades->size() * 200);
  b += "{\"exchange\":";
  append_json_string(b, exchange_name(*exchange));
  b += ",\"symbol\":";
  append_json_string(b, *symbol);
  b += ",\"trades\":[";
  bool first = true;
  for (const Trade& t : *trades) {
    if (!first) b += ',';
    first = false;
    b += "{\"trade_id\":" + std::to_string(t.trade_id) + ",\"time\":\"";
    append_iso8601_ms(b, t.ts_event);
    b += "\",\"time_ms\":" + std::to_string(t.ts_event / kNsPerMs) + ",\"price\":\"";
    t.price.append_to(b);
    b += "\",\"quantity\":\"";
    t.quantity.append_to(b);
    b += "\",\"side\":\"";
    b += side_name(t.taker_side);
    b += "\",\"aggregated\":";
    b += t.aggregated ? "true" : "false";
    b += ",\"first_trade_id\":" + std::to_string(t.first_trade_id) +
         ",\"last_trade_id\":" + std::to_string(t.last_trade_id) + "}";
  }
  b += "]}";
  return json_response(200, std::move(b));
}

}  // namespace tickflow::serving
