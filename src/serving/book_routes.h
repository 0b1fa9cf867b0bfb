// BookRoutes: the stored order-book snapshots (raw.orderbook → BookLoader → BookStore), as a
// RouteModule plugged into the ApiHandler through ApiOptions::modules.
//
//   GET /orderbook/{exchange}/{symbol}?start=&end=&limit=   snapshots of a range, newest last
//   GET /orderbook/{exchange}/{symbol}/latest               the newest stored snapshot
//
// start/end (inclusive, on the snapshot time: the exchange time, or the receive time when the
// venue gives none; ISO-8601 or epoch ms) and limit (1..max_limit, default default_limit, the
// most recent snapshots of the range) as /trades; a bad value or start > end → 400 naming the
// parameter. /latest with nothing stored → 404. Without a book store → 501.
// Snapshot JSON: {"time":"..Z","time_ms":n,"ts_event_ns":n,"ts_recv_ns":n,"exchange_symbol":"..",
// "sequence":n,"depth":n,"crossed":bool,"bids":[["price","quantity"],..],"asks":[..]}, best
// level first on each side; decimals are the exchange's exact strings.
// Thread-safety: handle() is const and safe from any thread; the store must outlive the module.
#pragma once

#include <string>

#include "serving/http_util.h"
#include "storage/book_store.h"

namespace tickflow::serving {

struct BookRoutesOptions {
  size_t default_limit = 100;
  size_t max_limit = 1000;
};

class BookRoutes final : public RouteModule {
 public:
  static constexpr std::string_view kRoute = "/orderbook/{exchange}/{symbol}";
  static constexpr std::string_view kLatestRoute = "/orderbook/{exchange}/{symbol}/latest";

  // `store` may be null: no snapshots are kept (501).
  explicit BookRoutes(const storage::BookStore* store, BookRoutesOptions options = {});

  std::string_view match(std::string_view path) const override;
  HttpResponse handle(const HttpRequest& request, std::string_view path, std::string_view query) const override;
  std::string index_html() const override;

 private:
  const storage::BookStore* store_;
  BookRoutesOptions options_;
};

// Appends one snapshot as the JSON object above.
void append_book_json(std::string& out, const BookSnapshot& b);

}  // namespace tickflow::serving
