// Binance's instrument list: GET /api/v3/exchangeInfo → collector::Instrument (unified
// BASE-QUOTE from baseAsset/quoteAsset, PRICE_FILTER tickSize, LOT_SIZE stepSize, status
// TRADING). Pure (simdjson, no I/O).
#pragma once

#include <string_view>
#include <vector>

#include "core/result.h"
#include "exchange/collector/instruments.h"

namespace tickflow::exchange::binance {

// Appends one Instrument per entry of "symbols" (binance.com and binance.us share the shape).
// A symbol without a PRICE_FILTER or LOT_SIZE keeps a zero increment; status other than
// "TRADING" (e.g. "BREAK") gives trading = false. kParse on malformed JSON or a symbol without
// symbol/status/baseAsset/quoteAsset.
Status parse_exchange_info(std::string_view body, std::vector<collector::Instrument>& out);

}  // namespace tickflow::exchange::binance
