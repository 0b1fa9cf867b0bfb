#include "delivery/webhook.h"

#include <pthread.h>

#include <spdlog/spdlog.h>

#include "core/thread.h"
#include "delivery/alert_json.h"
#include "delivery/signing.h"

namespace tickflow::delivery {

namespace tr = exchange::transport;

Status post_webhook(tr::HttpClient& http, const Subscription& sub, const Alert& alert, DurationNs timeout,
                    const Clock& clock) {
  auto url = tr::parse_url(sub.url);
  if (!url) return url.status();
  std::string body = alert_json(alert);
  const std::string ts = std::to_string(clock.now_ns() / kNsPerSec);
  tr::Headers headers{{"Content-Type", "application/json"},
                      {"Idempotency-Key", alert.alert_id},
                      {"X-Tickflow-Timestamp", ts},
                      {"X-Tickflow-Signature", signature_header(sub.secret, ts, body)},
                      {"X-Tickflow-Subscription", sub.id}};
  auto res = http.post(*url, headers, std::move(body), timeout);
  if (!res) return res.status();
  if (res->status < 200 || res->status > 299)
    return Status::unavailable("HTTP " + std::to_string(res->status) + " from " + sub.url);
  return Status::ok();
}

WebhookDispatcher::WebhookDispatcher(bus::EventBus& bus, SubscriptionStore& store, WebhookOptions options,
                                     const Clock& clock)
    : bus_(bus), store_(store), options_(std::move(options)), clock_(clock) {}

WebhookDispatcher::~WebhookDispatcher() { stop(); }

Status WebhookDispatcher::start() {
  if (thread_.joinable()) return Status::invalid_argument("webhook dispatcher already started");
  auto topic = bus_.topic(options_.topic);
  if (!topic) return topic.status();
  stopping_ = false;
  // The generation is read BEFORE the first reconcile: a subscription created in between is
  // then seen as a change by the supervisor (reading it in the thread would miss it for good).
  const uint64_t seen = store_.generation();
  reconcile();
  thread_ = std::thread([this, seen] { supervise(seen); });
  return Status::ok();
}

void WebhookDispatcher::stop() {
  if (thread_.joinable()) {
    stopping_ = true;
    store_.wake();
    thread_.join();
  }
  std::map<std::string, std::unique_ptr<AlertDeliveryWorker>> workers;
  {
    std::lock_guard lock(mu_);
    workers.swap(workers_);
  }
  workers.clear();  // stops each worker
}

void WebhookDispatcher::supervise(uint64_t seen) {
  name_background_thread("tf-webhooks");
  while (!stopping_.load()) {
    uint64_t now = store_.wait_changed(seen, 5 * kNsPerSec);
    if (stopping_.load()) break;
    if (now != seen) {
      seen = now;
      reconcile();
    }
  }
}

void WebhookDispatcher::reconcile() {
  const auto subs = store_.list();
  std::vector<std::unique_ptr<AlertDeliveryWorker>> retired;
  std::lock_guard lock(mu_);
  for (auto it = workers_.begin(); it != workers_.end();) {
    bool keep = false;
    for (const auto& s : subs) keep = keep || s.id == it->first;
    if (keep) {
      ++it;
    } else {
      retired.push_back(std::move(it->second));
      it = workers_.erase(it);
    }
  }
  for (const auto& sub : subs) {
    if (workers_.count(sub.id)) continue;
    WorkerOptions wo;
    wo.channel = "webhook";
    wo.group = webhook_group(sub.id);
    wo.destination = sub.url;
    wo.dlq_reason = "webhook_failed";
    wo.topic = options_.topic;
    wo.retry = options_.retry;
    wo.idle_wait = options_.idle_wait;
    wo.filter = [f = sub.filter](const Alert& a) { return f.matches(a); };
    std::shared_ptr<tr::HttpClient> http =
        options_.http ? options_.http() : tr::make_http_client();
    const DurationNs timeout = options_.retry.timeout;
    const Clock& clock = clock_;
    auto worker = std::make_unique<AlertDeliveryWorker>(
        bus_, std::move(wo),
        [http, sub, timeout, &clock](const Alert& a) { return post_webhook(*http, sub, a, timeout, clock); }, clock_);
    Status s = worker->start();
    if (!s.is_ok()) {
      spdlog::error("webhook subscription {}: starting delivery failed: {}", sub.id, s.to_string());
      continue;
    }
    spdlog::info("webhook subscription {} → {}: delivering", sub.id, sub.url);
    workers_.emplace(sub.id, std::move(worker));
  }
  // `retired` workers stop (join) here, after the map is consistent.
}

size_t WebhookDispatcher::worker_count() const {
  std::lock_guard lock(mu_);
  return workers_.size();
}

ComponentHealth WebhookDispatcher::health() const {
  ComponentHealth h{"webhooks", HealthState::kUp, ""};
  std::lock_guard lock(mu_);
  size_t retrying = 0;
  for (const auto& [id, w] : workers_) {
    auto wh = w->health(id);
    if (wh.state == HealthState::kUp) continue;
    h.state = HealthState::kDegraded;
    if (retrying++ < 3) h.detail += (h.detail.empty() ? "" : "; ") + id + ": " + wh.detail;
  }
  if (h.state == HealthState::kUp) h.detail = std::to_string(workers_.size()) + " subscription(s)";
  return h;
}

}  // namespace tickflow::delivery
