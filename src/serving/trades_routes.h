// TradesRoutes: `GET /trades/{exchange}/{symbol}?start=&end=&limit=`, the stored trade history
// (raw.market-data → TradeLoader → TradeStore), as a RouteModule plugged into the ApiHandler
// through ApiOptions::modules.
//
// start/end (inclusive, on the exchange trade time; ISO-8601 or epoch ms) and limit
// (1..max_limit, default default_limit, the most recent trades of the range) as /ohlcv; a bad
// value or start > end → 400 naming the parameter. With a store that keeps no trades (the
// embedded one) → 501 saying trades need the postgres backend.
// Response: {"exchange":..,"symbol":..,"trades":[{"trade_id":n,"time":"..Z","time_ms":n,
// "price":"..","quantity":"..","side":"buy"|"sell"|"unknown","aggregated":bool,
// "first_trade_id":n,"last_trade_id":n}]} oldest first; decimals are exact strings.
// Thread-safety: handle() is const and safe from any thread; the store must outlive the module.
#pragma once

#include <string>

#include "serving/http_util.h"
#include "storage/trade_store.h"

namespace tickflow::serving {

struct TradesRoutesOptions {
  size_t default_limit = 500;
  size_t max_limit = 5000;
};

class TradesRoutes final : public RouteModule {
 public:
  static constexpr std::string_view kRoute = "/trades/{exchange}/{symbol}";

  // `store` may be null: the backend keeps no trades (501).
  TradesRoutes(const storage::TradeStore* store, TradesRoutesOptions options = {});

  std::string_view match(std::string_view path) const override;
  HttpResponse handle(const HttpRequest& request, std::string_view path, std::string_view query) const override;
  std::string index_html() const override;

 private:
  const storage::TradeStore* store_;
  TradesRoutesOptions options_;
};

}  // namespace tickflow::serving
