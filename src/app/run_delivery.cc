#include "app/run_delivery.h"

#include "delivery/alertmanager.h"

namespace tickflow::app {

Status DeliveryStage::start() {
  if (webhooks) {
    if (Status s = webhooks->start(); !s.is_ok()) return s;
  }
  if (alertmanager) {
    if (Status s = alertmanager->start(); !s.is_ok()) return s;
  }
  return Status::ok();
}

void DeliveryStage::stop() {
  if (alertmanager) alertmanager->stop();
  if (webhooks) webhooks->stop();
}

void DeliveryStage::append_health(std::vector<ComponentHealth>& out) const {
  if (webhooks) out.push_back(webhooks->health());
  if (alertmanager) out.push_back(alertmanager->health("alertmanager"));
}

Result<std::unique_ptr<DeliveryStage>> make_delivery_stage(bus::EventBus& bus, const AppConfig& c,
                                                           const std::string& api_url) {
  auto stage = std::make_unique<DeliveryStage>();
  const std::string topic(topics::kProcessedAlerts);
  stage->subscriptions = std::make_unique<delivery::SubscriptionStore>(bus, topic);
  if (c.webhooks.enabled) {
    delivery::WebhookOptions wo;
    wo.retry.max_attempts = c.webhooks.max_attempts;
    wo.retry.initial_backoff = c.webhooks.backoff;
    wo.retry.max_backoff = c.webhooks.max_backoff;
    wo.retry.timeout = c.webhooks.timeout;
    stage->webhooks = std::make_unique<delivery::WebhookDispatcher>(bus, *stage->subscriptions, wo);
  }
  if (!c.alertmanager.url.empty()) {
    delivery::AlertmanagerOptions ao;
    ao.url = c.alertmanager.url;
    ao.generator_url = c.alertmanager.generator_url.empty() ? api_url : c.alertmanager.generator_url;
    ao.retry.max_attempts = c.alertmanager.max_attempts;
    ao.retry.initial_backoff = c.alertmanager.backoff;
    ao.retry.max_backoff = c.alertmanager.max_backoff;
    ao.retry.timeout = c.alertmanager.timeout;
    auto worker = delivery::make_alertmanager_worker(bus, ao);
    if (!worker) return worker.status();
    stage->alertmanager = std::move(*worker);
  }
  return stage;
}

}  // namespace tickflow::app
