// Webhook subscriptions: what a receiver asked for (URL, filter, signing secret) and the durable
// store behind `POST/GET/DELETE /subscriptions`.
//
// A subscription is kept in the bus state namespace "webhook_subscriptions" (key = id, value =
// its JSON, secret included), written in ONE bus transaction together with the starting
// positions of its consumer group "webhook:<id>" on processed.alerts (the end offsets at
// creation): a new subscriber receives the alerts published after it subscribed, and every
// alert exactly once per subscription position (WebhookDispatcher commits the group as it
// delivers). Subscriptions therefore survive a restart with their positions.
//
// Thread-safety: every SubscriptionStore method is thread-safe (one mutex; the bus is
// thread-safe). The bus must outlive the store. Ownership: list()/get() return copies.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "bus/event_bus.h"
#include "core/analytics.h"
#include "core/clock.h"
#include "core/result.h"
#include "core/time.h"

namespace tickflow::delivery {

// Every list empty = any value. Non-empty lists match exactly (rule names, unified symbols,
// severities, states "firing" / "resolved").
struct SubscriptionFilter {
  std::vector<std::string> rules, symbols, severities, states;
  bool matches(const Alert& a) const;
};

struct Subscription {
  std::string id;  // "wh_" + 16 hex
  std::string url;
  SubscriptionFilter filter;
  std::string secret;
  TimestampNs created_at = 0;
};

// The body of POST /subscriptions, parsed (no URL validation: the route does that).
struct SubscriptionRequest {
  std::string url;
  SubscriptionFilter filter;
  std::optional<std::string> secret;
};
// Errors are kInvalidArgument whose message starts with the offending field name
// ("url: ...", "filter.states: ...", "body: not a JSON object", ...); `field` gets that name.
Result<SubscriptionRequest> parse_subscription_request(std::string_view body, std::string* field = nullptr);

// {"id":..,"url":..,"filter":{"rules":[..],..},"created_at":"..Z"} plus "secret" when asked.
std::string subscription_json(const Subscription& s, bool with_secret);
Result<Subscription> parse_stored_subscription(std::string_view json);

inline constexpr std::string_view kSubscriptionNamespace = "webhook_subscriptions";
std::string webhook_group(std::string_view subscription_id);  // "webhook:<id>"

class SubscriptionStore {
 public:
  // Loads every stored subscription (a corrupt entry is logged and skipped).
  SubscriptionStore(bus::EventBus& bus, std::string alerts_topic, const Clock& clock = SystemClock::instance());

  // Stores a new subscription (secret generated when absent) and its group's starting
  // positions in one transaction. Returns it with its secret.
  Result<Subscription> create(const SubscriptionRequest& request);
  std::vector<Subscription> list() const;
  std::optional<Subscription> get(std::string_view id) const;
  // kNotFound when absent.
  Status remove(std::string_view id);

  // Bumped by every create/remove; wait_changed returns when it differs from `seen` or after
  // `timeout` (or after wake()).
  uint64_t generation() const;
  uint64_t wait_changed(uint64_t seen, DurationNs timeout) const;
  void wake();

 private:
  bus::EventBus& bus_;
  const std::string topic_;
  const Clock& clock_;
  mutable std::mutex mu_;
  mutable std::condition_variable cv_;
  std::map<std::string, Subscription, std::less<>> subs_;
  uint64_t generation_ = 0;
  uint64_t wakes_ = 0;
};

}  // namespace tickflow::delivery
