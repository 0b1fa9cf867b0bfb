// QualityRoutes: `GET /quality[?exchange=&symbol=]`, the data-quality scores of every feed
// (exchange) and series (exchange + symbol) from the QualityMonitor, as a RouteModule plugged
// into the ApiHandler through ApiOptions::modules.
//
// Query: `exchange` (binance, coinbase, kraken) and `symbol` (unified or the exchange's
// spelling) filter the answer; any other parameter, a repeated one or a bad value → 400 naming
// it. No monitor (quality disabled) → 503.
// Response:
//   {"overall_score":0.998,"stale_after_seconds":300,"window_seconds":300,
//    "feeds":[Scope..],"series":[Scope..]}
//   Scope = {"exchange":..,"symbol":..(series only),"score":0.99,"stale":false,
//            "last_data":"..Z"|null,"last_data_age_seconds":1.5|null,"trades":n,
//            "window":{"events":n,"duplicate":n,"gap":n,...},"totals":{"duplicate":n,...}}
//   window counts are the score's inputs (gap: missing ids); totals count since the monitor
//   started (gap: gaps; stale: transitions into stale). overall_score is the lowest feed score
//   (1 with no feed). Numbers are always finite.
// Thread-safety: handle() is const and safe from any thread; `reports` must be thread-safe
// (QualityMonitor::report is).
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "processing/quality/checker.h"
#include "serving/http_util.h"

namespace tickflow::serving {

struct QualityRoutesOptions {
  std::function<std::vector<quality::ScopeReport>()> reports;  // empty: quality disabled (503)
  DurationNs stale_after = 5 * kNsPerMin;
  DurationNs window = 5 * kNsPerMin;
};

class QualityRoutes final : public RouteModule {
 public:
  static constexpr std::string_view kRoute = "/quality";

  explicit QualityRoutes(QualityRoutesOptions options);

  std::string_view match(std::string_view path) const override;
  HttpResponse handle(const HttpRequest& request, std::string_view path, std::string_view query) const override;
  std::string index_html() const override;

 private:
  QualityRoutesOptions options_;
};

}  // namespace tickflow::serving
