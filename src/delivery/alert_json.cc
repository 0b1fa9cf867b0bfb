#include "delivery/alert_json.h"

#include <charconv>
#include <cmath>

#include "core/time.h"

namespace tickflow::delivery {

void append_json_quoted(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  out.push_back('"');
  for (char ch : s) {
    auto c = static_cast<unsigned char>(ch);
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20) {
          out += "\\u00";
          out.push_back(kHex[c >> 4]);
          out.push_back(kHex[c & 0xf]);
        } else {
          out.push_back(ch);
        }
    }
  }
  out.push_back('"');
}

void append_json_number(std::string& out, double v) {
  if (!std::isfinite(v)) {
    out += "null";
    return;
  }
  char buf[32];
  auto r = std::to_chars(buf, buf + sizeof(buf), v);
  out.append(buf, r.ptr);
}

void append_alert_fields(std::string& out, const Alert& a) {
  auto field = [&](std::string_view name, std::string_view value) {
    append_json_quoted(out, name);
    out.push_back(':');
    append_json_quoted(out, value);
    out.push_back(',');
  };
  field("alert_id", a.alert_id);
  field("rule", a.rule);
  field("kind", a.kind);
  field("state", a.state);
  field("severity", a.severity);
  field("exchange", a.exchange);
  field("symbol", a.symbol);
  field("timeframe", a.timeframe);
  field("ts_event", format_iso8601_ms(a.ts_event));
  out += "\"ts_event_ms\":" + std::to_string(a.ts_event / kNsPerMs) + ",\"value\":";
  append_json_number(out, a.value);
  out += ",\"threshold\":";
  append_json_number(out, a.threshold);
  out += ',';
  field("message", a.message);
  out += "\"labels\":{";
  for (size_t i = 0; i < a.labels.size(); ++i) {
    if (i > 0) out.push_back(',');
    append_json_quoted(out, a.labels[i].first);
    out.push_back(':');
    append_json_quoted(out, a.labels[i].second);
  }
  out += '}';
}

std::string alert_json(const Alert& a) {
  std::string out = "{";
  append_alert_fields(out, a);
  out += '}';
  return out;
}

std::string alert_ws_message(const Alert& a) {
  std::string out = R"({"type":"alert","data":{)";
  append_alert_fields(out, a);
  out += "}}";
  return out;
}

std::string_view alert_instance_id(std::string_view id) {
  for (std::string_view suffix : {std::string_view(":firing"), std::string_view(":resolved")}) {
    if (id.size() > suffix.size() && id.substr(id.size() - suffix.size()) == suffix)
      return id.substr(0, id.size() - suffix.size());
  }
  return id;
}

}  // namespace tickflow::delivery
