// JSON views of candles shared by the REST API and the WebSocket push, plus the tiny JSON
// writing helpers they are built from (hand-written: no JSON library on the serving path;
// the unchecked raw-buffer writers underneath are in json_writer.h).
//
// Decimals are written as JSON strings with the exchange's own digits, so they stay exact
// (`"open":"43000.64000000"`). Times are ISO-8601 UTC with milliseconds plus epoch ms.
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <string_view>

#include "core/candle.h"

namespace tickflow::serving {

// Appends `s` as a quoted JSON string, escaping quotes, backslashes and control characters
// (invalid UTF-8 bytes are passed through unchanged).
void append_json_string(std::string& out, std::string_view s);
// Shortest round-trip form; integral values keep a ".0" (1.0); NaN/inf become null.
void append_json_double(std::string& out, double v);

// {"open_time":"2021-08-14T14:46:00.000Z","open_time_ms":..,"close_time":"..59.999Z",
//  "close_time_ms":..,"open":"..","high","low","close","volume","quote_volume","vwap",
//  "trades":n,"taker_buy_volume","taker_buy_quote_volume","first_trade_id","last_trade_id",
//  "status":"provisional|final|corrected","revision":n,"coverage":1.0,"gap_reason":""}
void append_candle_json(std::string& out, const Candle& c);
// An upper bound of the bytes append_candle_json(out, c) appends (for reserving a response).
size_t candle_json_bound(const Candle& c);

// The WebSocket push of one update:
// {"type":"candle","exchange":"binance","symbol":"BTC-USDT","timeframe":"1m","data":{candle}}
std::string candle_update_message(const Candle& c);

}  // namespace tickflow::serving
