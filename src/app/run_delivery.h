// Alert deliveries of `tickflow run`: the webhook subscription store (behind the
// /subscriptions routes), the WebhookDispatcher ([webhooks]) and the Alertmanager sender
// ([alertmanager] url), built from the config. All consume processed.alerts with their own
// durable consumer groups, so they start before the alert processor and stop after it.
// Thread-safety: built, started and stopped by the run thread; health() from any thread.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "app/config.h"
#include "bus/event_bus.h"
#include "core/health.h"
#include "delivery/subscription.h"
#include "delivery/webhook.h"
#include "delivery/worker.h"

namespace tickflow::app {

struct DeliveryStage {
  std::unique_ptr<delivery::SubscriptionStore> subscriptions;
  std::unique_ptr<delivery::WebhookDispatcher> webhooks;        // null when [webhooks] enabled = false
  std::unique_ptr<delivery::AlertDeliveryWorker> alertmanager;  // null without [alertmanager] url

  Status start();
  void stop();
  void append_health(std::vector<ComponentHealth>& out) const;
};

// `api_url` ("http://host:port/") is the default Alertmanager generatorURL.
Result<std::unique_ptr<DeliveryStage>> make_delivery_stage(bus::EventBus& bus, const AppConfig& c,
                                                           const std::string& api_url);

}  // namespace tickflow::app
