#include "serving/latest_route.h"

#include <chrono>

#include "observability/metrics.h"
#include "serving/candle_json.h"
#include "serving/latest_json.h"

namespace tickflow::serving {
namespace {

struct LatestProbe {
  prometheus::Counter& hit;
  prometheus::Counter& miss;
  prometheus::Counter& error;
  prometheus::Histogram& redis_seconds;
  prometheus::Histogram& store_seconds;

  static LatestProbe& get() {
    static LatestProbe* p = [] {
      auto& reg = obs::registry();
      auto& reads = prometheus::BuildCounter()
                        .Name("tickflow_latest_reads_total")
                        .Help("GET /latest reads by cache outcome (hit, miss, error)")
                        .Register(reg);
      auto& seconds = prometheus::BuildHistogram()
                          .Name("tickflow_latest_read_seconds")
                          .Help("GET /latest handling time by the source that answered (redis, store)")
                          .Register(reg);
      return new LatestProbe{reads.Add({{"result", "hit"}}), reads.Add({{"result", "miss"}}),
                             reads.Add({{"result", "error"}}), seconds.Add({{"source", "redis"}}, obs::latency_buckets()),
                             seconds.Add({{"source", "store"}}, obs::latency_buckets())};
    }();
    return *p;
  }
};

void append_value(std::string& b, std::string_view name, const std::optional<std::string>& json) {
  b += ",\"";
  b += name;
  b += "\":";
  b += json ? *json : "null";
}

HttpResponse answer(const SeriesRef& s, std::string_view source, const std::optional<std::string>& candle,
                    const std::optional<std::string>& indicators, const std::optional<std::string>& alert) {
  std::string b = "{";
  append_series_head(b, s);
  b += ",\"source\":\"";
  b += source;
  b += '"';
  append_value(b, "candle", candle);
  append_value(b, "indicators", indicators);
  append_value(b, "alert", alert);
  b += '}';
  HttpResponse r = json_response(200, std::move(b));
  r.headers.emplace_back("X-Tickflow-Source", std::string(source));
  return r;
}

}  // namespace

LatestRoute::LatestRoute(cache::LatestCache* cache, const storage::CandleStore& store, SeriesPredicate is_configured)
    : cache_(cache), store_(store), is_configured_(std::move(is_configured)) {
  LatestProbe::get();
}

std::string_view LatestRoute::match(std::string_view path) const {
  std::string_view seg[3];
  return series_segments(path, "latest", seg) ? kRoute : std::string_view{};
}

std::string LatestRoute::index_html() const {
  return "<li><code>GET /latest/{exchange}/{symbol}/{timeframe}</code> the newest candle (+ indicators, alert) "
         "from the cache, e.g. <a href=\"/latest/binance/BTC-USDT/1m\">/latest/binance/BTC-USDT/1m</a></li>\n";
}

HttpResponse LatestRoute::handle(const HttpRequest& request, std::string_view path, std::string_view query) const {
  if (request.method != "GET") return method_not_allowed("GET");
  std::string_view seg[3];
  if (!series_segments(path, "latest", seg)) return error_response(404, "not found");
  SeriesRef s;
  HttpResponse error;
  if (!parse_series(seg, s, error)) return error;
  RangeParams params;
  if (!parse_range_params(query, 1, {}, params, error)) return error;
  for (auto [given, name] : {std::pair{params.start.has_value(), "start"}, std::pair{params.end.has_value(), "end"},
                             std::pair{params.limit.has_value(), "limit"}}) {
    if (given) return error_response(400, std::string(name) + " is not a parameter of /latest", name);
  }

  auto& probe = LatestProbe::get();
  const auto t0 = std::chrono::steady_clock::now();
  auto elapsed = [&] { return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(); };
  if (cache_ != nullptr) {
    auto snap = cache_->get(exchange_name(s.exchange), s.symbol, s.timeframe.label());
    if (snap && snap->candle) {
      probe.hit.Increment();
      HttpResponse r = answer(s, "redis", snap->candle, snap->indicators, snap->alert);
      probe.redis_seconds.Observe(elapsed());
      return r;
    }
    (snap ? probe.miss : probe.error).Increment();
  }
  HttpResponse r = from_store(s);
  probe.store_seconds.Observe(elapsed());
  return r;
}

HttpResponse LatestRoute::from_store(const SeriesRef& s) const {
  HttpResponse error;
  if (!check_known(store_, is_configured_, s, error)) return error;
  storage::CandleQuery q;
  q.exchange = s.exchange;
  q.symbol = s.symbol;
  q.timeframe = s.timeframe;
  q.limit = 1;
  auto candles = store_.query(q);
  if (!candles) return store_error(candles.status());
  std::optional<std::string> candle, indicators;
  if (!candles->empty()) {
    candle.emplace();
    append_candle_json(*candle, candles->back());
  }
  storage::IndicatorQuery iq;
  iq.exchange = s.exchange;
  iq.symbol = s.symbol;
  iq.timeframe = s.timeframe;
  iq.limit = 1;
  auto ind = store_.query_indicators(iq);
  if (!ind) return store_error(ind.status());
  if (!ind->empty()) {
    indicators.emplace();
    append_indicators_json(*indicators, ind->back());
  }
  return answer(s, "store", candle, indicators, std::nullopt);
}

}  // namespace tickflow::serving
