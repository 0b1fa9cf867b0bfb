// Coinbase Exchange REST GET /products/{product_id}/trades (docs.cdp.coinbase.com, "Get product
// trades") → core trades. Pure.
//
// Body: a JSON array, newest first: [{"time":"2021-04-17T16:43:37.089723Z","trade_id":280232,
// "price":"0.00001305","size":"985","side":"sell"}, ...]. `side` is the MAKER's side, as on the
// WebSocket (the taker did the opposite). Pagination (docs "Pagination"): `after=<trade_id>`
// returns the page of older trades (ids below it), `before=<trade_id>` the page of newer ones;
// `limit` up to 1000; the cursors of the next pages also come in the CB-AFTER / CB-BEFORE
// headers. The trades are exactly those of the feed's match messages, so a REST trade equals
// the live one field for field (ts_event, price, size, taker side, trade id).
// Errors: kCorruption (the body is not that array: dead-letter it).
// Thread-safety: stateless (a simdjson parser per call).
#pragma once

#include <string_view>
#include <vector>

#include "core/result.h"
#include "core/trade.h"

namespace tickflow::exchange::coinbase {

// Appends the page's trades to `out` in the body's order. `product_id` is "BTC-USD".
Status parse_rest_trades(std::string_view body, std::string_view product_id, TimestampNs recv,
                         std::vector<Trade>& out);

}  // namespace tickflow::exchange::coinbase
