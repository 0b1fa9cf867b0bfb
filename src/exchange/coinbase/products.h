// Coinbase Exchange REST GET /products (docs.cdp.coinbase.com, "Get all known trading pairs") →
// collector::Instrument. Pure.
//
// Body: a JSON array of {"id":"BTC-USD","base_currency":"BTC","quote_currency":"USD",
// "quote_increment":"0.01","base_increment":"0.00000001","status":"online",
// "trading_disabled":false, ...} (as in testdata/exchanges/coinbase, whose first record is this
// response). Coinbase's product id is already the unified BASE-QUOTE name. An instrument
// trades when status is "online" and trading_disabled is false (a product in `cancel_only`
// still counts as listed and trading: Coinbase's docs do not say it stops matching).
// price_increment = quote_increment, size_increment = base_increment.
// Errors: kCorruption naming the element (not that array, a field missing or malformed).
#pragma once

#include <string_view>
#include <vector>

#include "core/result.h"
#include "exchange/collector/instruments.h"

namespace tickflow::exchange::coinbase {

Result<std::vector<collector::Instrument>> parse_products(std::string_view body);

}  // namespace tickflow::exchange::coinbase
