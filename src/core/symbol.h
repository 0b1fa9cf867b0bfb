// Exchanges and instrument naming.
//
// Every record carries the unified symbol BASE-QUOTE (BTC-USDT; Kraken's XBT is BTC) next to
// the exchange's own symbol (BTCUSDT, BTC-USD, XBT/USD).
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/result.h"

namespace tickflow {

enum class Exchange : uint8_t { kBinance = 0, kCoinbase = 1, kKraken = 2 };
constexpr int kExchangeCount = 3;

std::string_view exchange_name(Exchange e);
std::optional<Exchange> parse_exchange(std::string_view name);

// Binance concatenates base and quote ("BTCUSDT"); the quote is recognised by the longest
// known quote-asset suffix. Returns "" when no known quote matches.
std::string unify_binance_symbol(std::string_view exchange_symbol);
// Kraken "XBT/USD" → "BTC-USD" (XBT→BTC, XDG→DOGE).
std::string unify_kraken_symbol(std::string_view exchange_symbol);
// Unified "BTC-USDT" → Binance "BTCUSDT" (uppercase, no dash).
std::string binance_symbol_from_unified(std::string_view unified);

// Accepts "BTC-USDT", "btc-usdt", "BTCUSDT" (for Binance) and returns the unified form,
// or an error naming the input.
Result<std::string> normalize_symbol(Exchange e, std::string_view text);

// "binance:BTC-USDT" — the bus key of one instrument (one series stays in one partition).
std::string instrument_key(Exchange e, std::string_view unified_symbol);
// "binance:BTC-USDT:1m" — one candle series.
std::string series_key(Exchange e, std::string_view unified_symbol, std::string_view timeframe);

}  // namespace tickflow
