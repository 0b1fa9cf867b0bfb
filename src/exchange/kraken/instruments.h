// Kraken REST GET /0/public/AssetPairs (docs.kraken.com "Get Tradable Asset Pairs") → the
// collectors' Instrument list (exchange/collector/instruments.h). Pure.
//
// Body: {"error":[],"result":{"XXBTZUSD":{"altname":"XBTUSD","wsname":"XBT/USD","base":"XXBT",
// "quote":"ZUSD","pair_decimals":1,"lot_decimals":8,"tick_size":"0.1","status":"online",..},..}}.
// Instrument: exchange_symbol = wsname ("XBT/USD", the v1 WebSocket name); symbol / base / quote
// from wsname with XBT → BTC and XDG → DOGE ("BTC-USD"); price_increment = tick_size when present,
// else 10^-pair_decimals; size_increment = 10^-lot_decimals; trading = status is online,
// cancel_only, post_only, limit_only or reduce_only (market data flows), false otherwise
// (delisted, maintenance, ...). Entries without wsname (dark-pool ".d" pairs) are skipped.
// A non-empty "error" list → kUnavailable (EAPI:Rate limit / EService:...) or kInvalidArgument
// with Kraken's own text; malformed → kCorruption.
// Thread-safety: stateless.
#pragma once

#include <string_view>
#include <vector>

#include "core/result.h"
#include "exchange/collector/instruments.h"

namespace tickflow::exchange::kraken {

Result<std::vector<collector::Instrument>> parse_asset_pairs(std::string_view body);

}  // namespace tickflow::exchange::kraken
