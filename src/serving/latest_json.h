// JSON objects of the "latest value" views (GET /latest/..., and the values cached in Redis by
// cache::CacheWriter, so a cache hit is served as stored without re-encoding):
//   indicators: {"open_time":"..Z","open_time_ms":n,"candle_revision":n,"provisional":false,
//                "values":{"rsi_14":55.2,...}}
//   alert:      {"alert_id":..,"rule":..,"kind":..,"state":"firing","severity":..,
//                "ts_event":"..Z","ts_event_ms":n,"value":x,"threshold":y,"message":..,
//                "labels":{..}}
// Candles use append_candle_json (candle_json.h), exactly as GET /ohlcv prints them.
// Thread-safety: pure functions.
#pragma once

#include <string>

#include "core/analytics.h"

namespace tickflow::serving {

void append_indicators_json(std::string& out, const IndicatorRecord& r);
void append_alert_json(std::string& out, const Alert& a);

}  // namespace tickflow::serving
