// WebhookDispatcher: delivers processed.alerts to every webhook subscription (SubscriptionStore),
// one AlertDeliveryWorker (own thread, own consumer group "webhook:<id>") per subscription, so a
// dead receiver only delays its own alerts. A supervisor thread follows the store: a new
// subscription gets a worker, a deleted one has its worker stopped.
//
// Each matching alert is POSTed as JSON (delivery/alert_json.h alert_json) with headers
//   Content-Type: application/json
//   Idempotency-Key: <alert_id>                      (identical on every retry and after restarts)
//   X-Tickflow-Timestamp: <unix seconds of this attempt>
//   X-Tickflow-Signature: sha256=<hex HMAC-SHA256(secret, timestamp + "." + body)>
//   X-Tickflow-Subscription: <subscription id>
// A 2xx answer acknowledges; anything else (or a network error/timeout) is retried, then
// dead-lettered with reason "webhook_failed" (see worker.h).
// Thread-safety: start/stop from one thread; health()/worker_count() from any.
// Ownership: the bus and the store must outlive the dispatcher.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "bus/event_bus.h"
#include "core/health.h"
#include "delivery/subscription.h"
#include "delivery/worker.h"
#include "exchange/transport/http_client.h"

namespace tickflow::delivery {

using HttpClientFactory = std::function<std::unique_ptr<exchange::transport::HttpClient>()>;

struct WebhookOptions {
  RetryPolicy retry;
  std::string topic = std::string(topics::kProcessedAlerts);
  DurationNs idle_wait = 500 * kNsPerMs;
  HttpClientFactory http;  // empty: exchange::transport::make_http_client()
};

// The POST of one alert to one subscription (one attempt). Non-2xx → kUnavailable "HTTP <code>".
Status post_webhook(exchange::transport::HttpClient& http, const Subscription& sub, const Alert& alert,
                    DurationNs timeout, const Clock& clock = SystemClock::instance());

class WebhookDispatcher {
 public:
  WebhookDispatcher(bus::EventBus& bus, SubscriptionStore& store, WebhookOptions options = {},
                    const Clock& clock = SystemClock::instance());
  ~WebhookDispatcher();
  WebhookDispatcher(const WebhookDispatcher&) = delete;
  WebhookDispatcher& operator=(const WebhookDispatcher&) = delete;

  Status start();
  void stop();  // idempotent

  size_t worker_count() const;
  // "webhooks": up, or degraded listing the subscriptions that are retrying.
  ComponentHealth health() const;

 private:
  void supervise(uint64_t seen);  // seen: the store generation the first reconcile covered
  void reconcile();

  bus::EventBus& bus_;
  SubscriptionStore& store_;
  const WebhookOptions options_;
  const Clock& clock_;
  mutable std::mutex mu_;
  std::map<std::string, std::unique_ptr<AlertDeliveryWorker>> workers_;
  std::thread thread_;
  std::atomic<bool> stopping_{false};
};

}  // namespace tickflow::delivery
