// Kraken REST GET /0/public/Trades (docs.kraken.com "Get Recent Trades") → core trades. Pure.
//
// Body: {"error":[],"result":{"XXBTZUSD":[[price, volume, time, side, orderType, misc,
// trade_id], ...],"last":"1688671969993150842"}} — price/volume decimal strings, time epoch
// seconds as a JSON number (or a string), side b/s = taker side, "last" the `since` of the next
// page (nanoseconds, exclusive). A non-empty "error" list fails with kUnavailable (retryable:
// "EAPI:Rate limit exceeded", "EService:...") or kInvalidArgument, the message being Kraken's
// own text.
//
// Trade keys: the same derivation as the WebSocket parser (parse.h): trade_id = time_µs * 1000 +
// ordinal among the page's trades with the same microsecond, counted from the page's first
// trade. A page that starts at the first trade of a microsecond (ask since = µs * 1000 - 1)
// therefore gives the keys the live stream gave. Time: REST prints up to 7 decimals as a
// floating-point number; it is rounded to the microsecond (the WS's precision).
// Thread-safety: stateless (a simdjson parser per call).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "core/trade.h"

namespace tickflow::exchange::kraken {

struct RestTradesPage {
  std::vector<Trade> trades;  // in the body's (time) order
  std::vector<int64_t> ids;   // per trade: Kraken's trade id (7th element; -1 when absent)
  std::string last;           // "last": the next page's since
};

// `pair` is Kraken's WS name ("XBT/USD"): it sets exchange_symbol and the unified symbol.
Status parse_rest_trades(std::string_view body, std::string_view pair, TimestampNs recv, RestTradesPage& out);

}  // namespace tickflow::exchange::kraken
