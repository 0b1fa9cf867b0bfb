// Alertmanager delivery: processed.alerts → Prometheus Alertmanager's v2 API
// (POST <url>/api/v2/alerts, a JSON array of postable alerts), one AlertDeliveryWorker on its
// own thread with consumer group "alertmanager" (starting at the end of the topic the first
// time it runs), retried with backoff, dead-lettered with reason "alertmanager_failed".
//
// Mapping of one Alert:
//   labels:      alertname = rule, severity, exchange, symbol, timeframe (the non-empty ones),
//                alert_id = the firing instance id (alert_id without ":firing"/":resolved", so
//                the resolution carries the same label set and resolves the firing alert in
//                Alertmanager), plus the rule's own labels with valid Prometheus names
//   annotations: summary (the message), description (rule, series, value vs threshold),
//                value, threshold, tickflow_alert_id (the full alert_id)
//   startsAt:    the event time (for a resolution: the firing bar time encoded in the id, when
//                present); endsAt: the event time on "resolved" (absent while firing: Alertmanager
//                then applies its resolve_timeout)
//   generatorURL: options.generator_url
// Thread-safety: as AlertDeliveryWorker.
#pragma once

#include <memory>
#include <string>

#include "bus/event_bus.h"
#include "delivery/webhook.h"
#include "delivery/worker.h"

namespace tickflow::delivery {

struct AlertmanagerOptions {
  std::string url;            // base URL, e.g. http://127.0.0.1:9093 (path prefix allowed)
  std::string generator_url;  // back-link shown in Alertmanager
  RetryPolicy retry;
  std::string topic = std::string(topics::kProcessedAlerts);
  DurationNs idle_wait = 500 * kNsPerMs;
  HttpClientFactory http;  // empty: exchange::transport::make_http_client()
};

// The JSON array posted for one alert.
std::string alertmanager_payload(const Alert& alert, const std::string& generator_url);
// "<url>/api/v2/alerts" (no doubled slash).
std::string alertmanager_endpoint(const std::string& base_url);

// A worker delivering to Alertmanager; start() it after the topic exists.
Result<std::unique_ptr<AlertDeliveryWorker>> make_alertmanager_worker(bus::EventBus& bus, AlertmanagerOptions options,
                                                                      const Clock& clock = SystemClock::instance());

}  // namespace tickflow::delivery
