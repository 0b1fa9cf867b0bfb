// LatestRoute: GET /latest/{exchange}/{symbol}/{timeframe} — the newest candle of a series,
// with its latest indicator record and alert when present, as a RouteModule (http_util.h).
//
// Read path: the LatestCache (Redis) first, so a read never touches history while the cache is
// up and holds the series. On a miss (never cached, TTL expired, flushed and not yet rebuilt) or
// a cache error (down, in reconnect backoff) the route answers from the store instead — slower,
// still correct. The body's "source" field and the X-Tickflow-Source header say which
// ("redis" or "store"). A null cache always reads the store.
//
//   200 {"exchange":..,"symbol":..,"timeframe":..,"source":"redis","candle":{Candle}|null,
//        "indicators":{..}|null,"alert":{..}|null}
//   400 bad path parameter or any query parameter; 404 unknown series; 405 not GET;
//   503 store error while the cache could not answer.
// Metrics: tickflow_latest_reads_total{result="hit|miss|error"} (cache outcomes),
//          tickflow_latest_read_seconds{source="redis|store"}.
// Thread-safety: handle() from any thread; the cache and the store must be thread-safe and
// outlive the route.
#pragma once

#include <memory>
#include <string_view>

#include "cache/latest_cache.h"
#include "serving/http_util.h"
#include "storage/candle_store.h"

namespace tickflow::serving {

class LatestRoute final : public RouteModule {
 public:
  static constexpr std::string_view kRoute = "/latest/{exchange}/{symbol}/{timeframe}";

  LatestRoute(cache::LatestCache* cache, const storage::CandleStore& store, SeriesPredicate is_configured = {});

  std::string_view match(std::string_view path) const override;
  HttpResponse handle(const HttpRequest& request, std::string_view path, std::string_view query) const override;
  std::string index_html() const override;

 private:
  HttpResponse from_store(const SeriesRef& s) const;

  cache::LatestCache* cache_;
  const storage::CandleStore& store_;
  SeriesPredicate is_configured_;
};

}  // namespace tickflow::serving
