#include "serving/latest_json.h"

#include "core/time.h"
#include "serving/candle_json.h"

namespace tickflow::serving {

void append_indicators_json(std::string& out, const IndicatorRecord& r) {
  out += "{\"open_time\":\"";
  append_iso8601_ms(out, r.open_time);
  out += "\",\"open_time_ms\":";
  out += std::to_string(r.open_time / kNsPerMs);
  out += ",\"candle_revision\":";
  out += std::to_string(r.candle_revision);
  out += ",\"provisional\":";
  out += r.provisional ? "true" : "false";
  out += ",\"values\":{";
  bool first = true;
  for (const auto& [name, value] : r.values) {
    if (!first) out += ',';
    first = false;
    append_json_string(out, name);
    out += ':';
    append_json_double(out, value);
  }
  out += "}}";
}

void append_alert_json(std::string& out, const Alert& a) {
  out += "{\"alert_id\":";
  append_json_string(out, a.alert_id);
  out += ",\"rule\":";
  append_json_string(out, a.rule);
  out += ",\"kind\":";
  append_json_string(out, a.kind);
  out += ",\"state\":";
  append_json_string(out, a.state);
  out += ",\"severity\":";
  append_json_string(out, a.severity);
  out += ",\"ts_event\":\"";
  append_iso8601_ms(out, a.ts_event);
  out += "\",\"ts_event_ms\":";
  out += std::to_string(a.ts_event / kNsPerMs);
  out += ",\"value\":";
  append_json_double(out, a.value);
  out += ",\"threshold\":";
  append_json_double(out, a.threshold);
  out += ",\"message\":";
  append_json_string(out, a.message);
  out += ",\"labels\":{";
  bool first = true;
  for (const auto& [k, v] : a.labels) {
    if (!first) out += ',';
    first = false;
    append_json_string(out, k);
    out += ':';
    append_json_string(out, v);
  }
  out += "}}";
}

}  // namespace tickflow::serving
