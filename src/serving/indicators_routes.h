// IndicatorRoutes: `GET /indicators/{exchange}/{symbol}/{timeframe}?name=&start=&end=&limit=`, the
// stored indicator history (processed.indicators → CandleStore::write_indicators), as a
// RouteModule plugged into the ApiHandler through ApiOptions::modules.
//
// Query: `name` is a comma list of output names (sma20,rsi14,macd,...; default: all outputs).
// A name that is not configured for the series' timeframe → 400 naming `name` and listing the
// configured ones. start/end (inclusive, on open time) and limit (1..max_limit, default
// default_limit, the most recent records of the range) as /ohlcv. Unknown series → 404.
// Response: {"exchange":..,"symbol":..,"timeframe":..,"indicators":[{"open_time":"..Z",
// "open_time_ms":n,"close_time":"..Z","close_time_ms":n,"revision":n,"values":{"sma20":1.5,..}}]}
// oldest first; values are JSON numbers (never NaN/Inf); outputs still warming up are absent.
// Thread-safety: handle() is const and safe from any thread; the store must outlive the module.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "serving/http_util.h"
#include "storage/candle_store.h"

namespace tickflow::serving {

struct IndicatorRoutesOptions {
  size_t default_limit = 500;
  size_t max_limit = 5000;
  SeriesPredicate is_configured;
  // Output names configured for a timeframe (empty function: any name is accepted).
  std::function<std::vector<std::string>(const Timeframe&)> output_names;
};

class IndicatorRoutes final : public RouteModule {
 public:
  static constexpr std::string_view kRoute = "/indicators/{exchange}/{symbol}/{timeframe}";

  IndicatorRoutes(const storage::CandleStore& store, IndicatorRoutesOptions options);

  std::string_view match(std::string_view path) const override;
  HttpResponse handle(const HttpRequest& request, std::string_view path, std::string_view query) const override;
  std::string index_html() const override;

 private:
  const storage::CandleStore& store_;
  IndicatorRoutesOptions options_;
};

// {"open_time":..,"open_time_ms":..,"close_time":..,"close_time_ms":..,"revision":n,"values":{..}}
void append_indicator_json(std::string& out, const IndicatorRecord& r);

}  // namespace tickflow::serving
