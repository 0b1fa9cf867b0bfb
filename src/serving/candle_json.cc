#include "serving/candle_json.h"

#include "core/text_writer.h"
#include "serving/json_writer.h"

namespace tickflow::serving {

void append_json_string(std::string& out, std::string_view s) {
  json::append_bounded(out, json::string_bound(s), [&](char* p) { return json::put_string(p, s); });
}

void append_json_double(std::string& out, double v) {
  json::append_bounded(out, json::kMaxDoubleChars, [&](char* p) { return json::put_double(p, v); });
}

namespace {

// The fixed text of a candle object (keys and punctuation) and the bounds of its values.
constexpr size_t kCandleKeysChars = 400;  // put_candle's literals: 288 bytes
constexpr size_t kCandleValuesBound = 2 * (kIso8601MsChars + json::kMaxIntChars) +
                                      5 * kDecimalMaxChars + 4 * kWideDecimalMaxChars +
                                      5 * json::kMaxIntChars + json::kMaxDoubleChars +
                                      json::string_bound("provisional");

// `"time":"...","time_ms":n,` for a key literal such as "\"open_time\":\"".
char* put_time(char* p, std::string_view key_quote, std::string_view ms_key, TimestampNs ts) {
  p = json::put(p, key_quote);
  p = write_iso8601_ms(p, ts);
  p = json::put(p, ms_key);
  p = json::put_int(p, ts / kNsPerMs);
  *p++ = ',';
  return p;
}

char* put_candle(char* p, const Candle& c) {
  p = put_time(p, "{\"open_time\":\"", "\",\"open_time_ms\":", c.open_time);
  p = put_time(p, "\"close_time\":\"", "\",\"close_time_ms\":", c.close_time);
  p = json::put(p, "\"open\":\"");
  p = write_decimal(p, c.open);
  p = json::put(p, "\",\"high\":\"");
  p = write_decimal(p, c.high);
  p = json::put(p, "\",\"low\":\"");
  p = write_decimal(p, c.low);
  p = json::put(p, "\",\"close\":\"");
  p = write_decimal(p, c.close);
  p = json::put(p, "\",\"volume\":\"");
  p = write_decimal_trimmed(p, c.volume, 8);
  p = json::put(p, "\",\"quote_volume\":\"");
  p = write_decimal_trimmed(p, c.quote_volume, 8);
  p = json::put(p, "\",\"vwap\":\"");
  p = write_decimal(p, c.vwap());
  p = json::put(p, "\",\"trades\":");
  p = json::put_int(p, c.trades);
  p = json::put(p, ",\"taker_buy_volume\":\"");
  p = write_decimal_trimmed(p, c.taker_buy_volume, 8);
  p = json::put(p, "\",\"taker_buy_quote_volume\":\"");
  p = write_decimal_trimmed(p, c.taker_buy_quote_volume, 8);
  p = json::put(p, "\",\"first_trade_id\":");
  p = json::put_int(p, c.first_trade_id);
  p = json::put(p, ",\"last_trade_id\":");
  p = json::put_int(p, c.last_trade_id);
  p = json::put(p, ",\"status\":");
  p = json::put_string(p, candle_status_name(c.status));
  p = json::put(p, ",\"revision\":");
  p = json::put_int(p, c.revision);
  p = json::put(p, ",\"coverage\":");
  p = json::put_double(p, c.coverage);
  p = json::put(p, ",\"gap_reason\":");
  p = json::put_string(p, c.gap_reason);
  *p++ = '}';
  return p;
}

}  // namespace

size_t candle_json_bound(const Candle& c) {
  return kCandleKeysChars + kCandleValuesBound + json::string_bound(c.gap_reason);
}

void append_candle_json(std::string& out, const Candle& c) {
  json::append_bounded(out, candle_json_bound(c), [&](char* p) { return put_candle(p, c); });
}

std::string candle_update_message(const Candle& c) {
  std::string out;
  out.reserve(96 + json::string_bound(c.symbol) + candle_json_bound(c));
  out += "{\"type\":\"candle\",\"exchange\":";
  append_json_string(out, exchange_name(c.exchange));
  out += ",\"symbol\":";
  append_json_string(out, c.symbol);
  out += ",\"timeframe\":";
  append_json_string(out, c.timeframe.label());
  out += ",\"data\":";
  append_candle_json(out, c);
  out += '}';
  return out;
}

}  // namespace tickflow::serving
