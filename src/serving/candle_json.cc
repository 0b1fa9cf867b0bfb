#include "serving/candle_json.h"

#include <charconv>
#include <cmath>

#include "core/time.h"

namespace tickflow::serving {

void append_json_string(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  out += '"';
  for (char ch : s) {
    auto c = static_cast<unsigned char>(ch);
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20 || c == 0x7f) {
          out += "\\u00";
          out += kHex[c >> 4];
          out += kHex[c & 0xf];
        } else {
          out += ch;
        }
    }
  }
  out += '"';
}

void append_json_double(std::string& out, double v) {
  if (!std::isfinite(v)) {
    out += "null";
    return;
  }
  char buf[32];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), v);
  std::string_view text(buf, ec == std::errc() ? static_cast<size_t>(end - buf) : 0);
  out += text;
  if (text.find_first_of(".eEn") == std::string_view::npos) out += ".0";
}

namespace {

void key(std::string& out, std::string_view k) {
  out += '"';
  out += k;  // keys are ASCII literals
  out += "\":";
}

void int_field(std::string& out, std::string_view k, int64_t v) {
  key(out, k);
  out += std::to_string(v);
  out += ',';
}

template <typename D>
void decimal_field(std::string& out, std::string_view k, const D& d) {
  key(out, k);
  out += '"';
  d.append_to(out);
  out += "\",";
}

void time_fields(std::string& out, std::string_view k, TimestampNs ts) {
  key(out, k);
  out += '"';
  append_iso8601_ms(out, ts);
  out += "\",";
  std::string ms_key(k);
  ms_key += "_ms";
  int_field(out, ms_key, ts / kNsPerMs);
}

}  // namespace

void append_candle_json(std::string& out, const Candle& c) {
  out += '{';
  time_fields(out, "open_time", c.open_time);
  time_fields(out, "close_time", c.close_time);
  decimal_field(out, "open", c.open);
  decimal_field(out, "high", c.high);
  decimal_field(out, "low", c.low);
  decimal_field(out, "close", c.close);
  decimal_field(out, "volume", c.volume.trimmed(8));
  decimal_field(out, "quote_volume", c.quote_volume.trimmed(8));
  decimal_field(out, "vwap", c.vwap());
  int_field(out, "trades", c.trades);
  decimal_field(out, "taker_buy_volume", c.taker_buy_volume.trimmed(8));
  decimal_field(out, "taker_buy_quote_volume", c.taker_buy_quote_volume.trimmed(8));
  int_field(out, "first_trade_id", c.first_trade_id);
  int_field(out, "last_trade_id", c.last_trade_id);
  key(out, "status");
  append_json_string(out, candle_status_name(c.status));
  out += ',';
  int_field(out, "revision", c.revision);
  key(out, "coverage");
  append_json_double(out, c.coverage);
  out += ',';
  key(out, "gap_reason");
  append_json_string(out, c.gap_reason);
  out += '}';
}

std::string candle_update_message(const Candle& c) {
  std::string out;
  out.reserve(640);
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
