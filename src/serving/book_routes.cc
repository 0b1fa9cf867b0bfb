#include "serving/book_routes.h"

#include <climits>

#include "serving/candle_json.h"

namespace tickflow::serving {
namespace {

// "/orderbook/a/b" → {a, b, false}; "/orderbook/a/b/latest" → {a, b, true}.
bool book_segments(std::string_view path, std::string_view (&seg)[2], bool& latest) {
  constexpr std::string_view kPrefix = "/orderbook/";
  if (!path.starts_with(kPrefix)) return false;
  auto parts = split(path.substr(kPrefix.size()), '/');
  latest = parts.size() == 3 && parts[2] == "latest";
  if ((parts.size() != 2 && !latest) || parts[0].empty() || parts[1].empty()) return false;
  seg[0] = parts[0];
  seg[1] = parts[1];
  return true;
}

void append_levels(std::string& out, const std::vector<BookLevel>& levels) {
  out += '[';
  for (size_t i = 0; i < levels.size(); ++i) {
    if (i) out += ',';
    out += "[\"";
    levels[i].price.append_to(out);
    out += "\",\"";
    levels[i].quantity.append_to(out);
    out += "\"]";
  }
  out += ']';
}

}  // namespace

void append_book_json(std::string& b, const BookSnapshot& s) {
  b += "{\"time\":\"";
  append_iso8601_ms(b, s.time());
  b += "\",\"time_ms\":" + std::to_string(s.time() / kNsPerMs) + ",\"ts_event_ns\":" + std::to_string(s.ts_event) +
       ",\"ts_recv_ns\":" + std::to_string(s.ts_recv) + ",\"exchange_symbol\":";
  append_json_string(b, s.exchange_symbol);
  b += ",\"sequence\":" + std::to_string(s.sequence) + ",\"depth\":" + std::to_string(s.depth) + ",\"crossed\":";
  b += s.crossed ? "true" : "false";
  b += ",\"bids\":";
  append_levels(b, s.bids);
  b += ",\"asks\":";
  append_levels(b, s.asks);
  b += '}';
}

BookRoutes::BookRoutes(const storage::BookStore* store, BookRoutesOptions options)
    : store_(store), options_(options) {}

std::string_view BookRoutes::match(std::string_view path) const {
  std::string_view seg[2];
  bool latest = false;
  if (!book_segments(path, seg, latest)) return {};
  return latest ? kLatestRoute : kRoute;
}

std::string BookRoutes::index_html() const {
  return "<li><code>GET /orderbook/{exchange}/{symbol}?start=&amp;end=&amp;limit=</code> order-book snapshots, "
         "<code>/orderbook/{exchange}/{symbol}/latest</code> the newest, e.g. "
         "<a href=\"/orderbook/binance/BTC-USDT/latest\">/orderbook/binance/BTC-USDT/latest</a></li>\n";
}

HttpResponse BookRoutes::handle(const HttpRequest& request, std::string_view path, std::string_view query) const {
  if (request.method != "GET") return method_not_allowed();
  std::string_view seg[2];
  bool latest = false;
  book_segments(path, seg, latest);
  auto ex_text = percent_decode(seg[0]);
  auto exchange = ex_text ? parse_exchange(lower(*ex_text)) : std::nullopt;
  if (!exchange) return error_response(400, "exchange: unknown exchange '" + std::string(seg[0]) + "'", "exchange");
  auto sym_text = percent_decode(seg[1]);
  if (!sym_text) return error_response(400, "symbol: bad percent-encoding", "symbol");
  auto symbol = normalize_symbol(*exchange, *sym_text);
  if (!symbol) return error_response(400, "symbol: " + symbol.status().message(), "symbol");
  RangeParams range;
  HttpResponse error;
  if (!latest && !parse_range_params(query, options_.max_limit, {}, range, error)) return error;
  if (store_ == nullptr) return error_response(501, "this store keeps no order-book snapshots");
  storage::BookQuery q;
  q.exchange = *exchange;
  q.symbol = *symbol;
  q.start = range.start.value_or(INT64_MIN);
  q.end = range.end ? (*range.end == INT64_MAX ? INT64_MAX : *range.end + 1) : INT64_MAX;  // inclusive end
  q.limit = latest ? 1 : range.limit.value_or(options_.default_limit);
  auto snapshots = store_->query_books(q);
  if (!snapshots) return store_error(snapshots.status());
  std::string b;
  if (latest) {
    if (snapshots->empty())
      return error_response(404, "no order-book snapshot stored for " + std::string(exchange_name(*exchange)) + " " +
                                     *symbol);
    b += "{\"exchange\":";
    append_json_string(b, exchange_name(*exchange));
    b += ",\"symbol\":";
    append_json_string(b, *symbol);
    b += ",\"snapshot\":";
    append_book_json(b, snapshots->back());
    b += '}';
    return json_response(200, std::move(b));
  }
  b.reserve(96 + snapshots->size() * 1200);
  b += "{\"exchange\":";
  append_json_string(b, exchange_name(*exchange));
  b += ",\"symbol\":";
  append_json_string(b, *symbol);
  b += ",\"snapshots\":[";
  for (size_t i = 0; i < snapshots->size(); ++i) {
    if (i) b += ',';
    append_book_json(b, (*snapshots)[i]);
  }
  b += "]}";
  return json_response(200, std::move(b));
}

}  // namespace tickflow::serving
