// JSON views of an Alert for every delivery channel: the webhook body and the WebSocket push
// share one rendering so a receiver sees the same fields everywhere.
// Hand-written JSON (no library on the delivery path); NaN/Inf become null, never reach a client.
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <string_view>

#include "core/analytics.h"

namespace tickflow::delivery {

// Appends `s` as a quoted JSON string (quotes, backslashes and control characters escaped).
void append_json_quoted(std::string& out, std::string_view s);
// Shortest round-trip number; NaN/Inf → null.
void append_json_number(std::string& out, double v);

// {"alert_id":..,"rule":..,"kind":..,"state":"firing|resolved","severity":..,"exchange":..,
//  "symbol":..,"timeframe":..,"ts_event":"2021-08-14T14:46:00.000Z","ts_event_ms":n,
//  "value":x,"threshold":y,"message":..,"labels":{..}}
void append_alert_fields(std::string& out, const Alert& a);  // the fields, no braces
std::string alert_json(const Alert& a);
// The WebSocket push: {"type":"alert","data":{alert_json}}
std::string alert_ws_message(const Alert& a);

// alert_id without its trailing ":firing" / ":resolved": the same for a firing and its
// resolution (Alertmanager identifies an alert by its label set).
std::string_view alert_instance_id(std::string_view alert_id);

}  // namespace tickflow::delivery
