#include "delivery/alertmanager.h"

#include <charconv>

#include "delivery/alert_json.h"

namespace tickflow::delivery {
namespace {

namespace tr = exchange::transport;

bool valid_label_name(std::string_view n) {
  if (n.empty()) return false;
  for (size_t i = 0; i < n.size(); ++i) {
    char c = n[i];
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (i > 0 && c >= '0' && c <= '9');
    if (!ok) return false;
  }
  return n.substr(0, 2) != "__";
}

void kv(std::string& out, bool& first, std::string_view k, std::string_view v) {
  if (!first) out += ',';
  first = false;
  append_json_quoted(out, k);
  out += ':';
  append_json_quoted(out, v);
}

std::string number_text(double v) {
  std::string s;
  append_json_number(s, v);
  return s;
}

// The firing bar time (ms) encoded in "...:<ms>:<state>" ids; 0 when absent.
TimestampNs fire_time_of(std::string_view id) {
  std::string_view inst = alert_instance_id(id);
  if (inst.size() == id.size()) return 0;
  auto colon = inst.rfind(':');
  if (colon == std::string_view::npos) return 0;
  int64_t ms = 0;
  auto tail = inst.substr(colon + 1);
  auto r = std::from_chars(tail.data(), tail.data() + tail.size(), ms);
  if (r.ec != std::errc() || r.ptr != tail.data() + tail.size()) return 0;
  return ms * kNsPerMs;
}

}  // namespace

std::string alertmanager_endpoint(const std::string& base_url) {
  std::string u = base_url;
  while (!u.empty() && u.back() == '/') u.pop_back();
  return u + "/api/v2/alerts";
}

std::string alertmanager_payload(const Alert& a, const std::string& generator_url) {
  std::string out = "[{\"labels\":{";
  bool first = true;
  kv(out, first, "alertname", a.rule);
  if (!a.severity.empty()) kv(out, first, "severity", a.severity);
  if (!a.exchange.empty()) kv(out, first, "exchange", a.exchange);
  if (!a.symbol.empty()) kv(out, first, "symbol", a.symbol);
  if (!a.timeframe.empty()) kv(out, first, "timeframe", a.timeframe);
  kv(out, first, "alert_id", alert_instance_id(a.alert_id));
  for (const auto& [k, v] : a.labels) {
    if (!valid_label_name(k) || k == "alertname" || k == "severity" || k == "exchange" || k == "symbol" ||
        k == "timeframe" || k == "alert_id")
      continue;
    kv(out, first, k, v);
  }
  out += "},\"annotations\":{";
  first = true;
  std::string series = a.exchange;
  if (!a.symbol.empty()) series += (series.empty() ? "" : " ") + a.symbol;
  if (!a.timeframe.empty()) series += " " + a.timeframe;
  kv(out, first, "summary", a.message.empty() ? a.rule + " " + a.state + " on " + series : a.message);
  kv(out, first, "description",
     a.rule + " (" + a.kind + ") " + a.state + " on " + (series.empty() ? "the pipeline" : series) +
         ": value " + number_text(a.value) + ", threshold " + number_text(a.threshold));
  kv(out, first, "value", number_text(a.value));
  kv(out, first, "threshold", number_text(a.threshold));
  kv(out, first, "tickflow_alert_id", a.alert_id);
  out += "}";
  TimestampNs starts = a.ts_event;
  if (a.state == "resolved") {
    TimestampNs fired = fire_time_of(a.alert_id);
    if (fired > 0 && fired <= a.ts_event) starts = fired;
  }
  out += ",\"startsAt\":\"" + format_iso8601_ms(starts) + "\"";
  if (a.state == "resolved") out += ",\"endsAt\":\"" + format_iso8601_ms(a.ts_event) + "\"";
  if (!generator_url.empty()) {
    out += ",\"generatorURL\":";
    append_json_quoted(out, generator_url);
  }
  out += "}]";
  return out;
}

Result<std::unique_ptr<AlertDeliveryWorker>> make_alertmanager_worker(bus::EventBus& bus, AlertmanagerOptions options,
                                                                      const Clock& clock) {
  auto url = tr::parse_url(alertmanager_endpoint(options.url));
  if (!url) return url.status();
  if (url->websocket()) return Status::invalid_argument("alertmanager.url must be http(s): " + options.url);
  std::shared_ptr<tr::HttpClient> http = options.http ? options.http() : tr::make_http_client();
  WorkerOptions wo;
  wo.channel = "alertmanager";
  wo.group = "alertmanager";
  wo.destination = url->to_string();
  wo.dlq_reason = "alertmanager_failed";
  wo.topic = options.topic;
  wo.retry = options.retry;
  wo.idle_wait = options.idle_wait;
  wo.init_at_end = true;
  const DurationNs timeout = options.retry.timeout;
  auto deliver = [http, endpoint = *url, generator = options.generator_url, timeout](const Alert& a) -> Status {
    auto res = http->post(endpoint, {{"Content-Type", "application/json"}}, alertmanager_payload(a, generator), timeout);
    if (!res) return res.status();
    if (res->status < 200 || res->status > 299)
      return Status::unavailable("HTTP " + std::to_string(res->status) + " from " + endpoint.to_string() + ": " +
                                 res->body.substr(0, 200));
    return Status::ok();
  };
  return std::make_unique<AlertDeliveryWorker>(bus, std::move(wo), std::move(deliver), clock);
}

}  // namespace tickflow::delivery
