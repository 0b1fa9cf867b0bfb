// SubscriptionRoutes: the webhook subscription API as a RouteModule (ApiOptions::modules):
//   POST   /subscriptions        JSON {"url":..,"filter":{"rules":[],"symbols":[],"severities":[],
//                                "states":[]},"secret":..} → 201 with the subscription and its
//                                secret (generated when absent; returned only here) + Location
//   GET    /subscriptions        {"subscriptions":[..]} (no secrets)
//   GET    /subscriptions/{id}   the subscription (no secret), 404 when unknown
//   DELETE /subscriptions/{id}   204, 404 when unknown
// Validation (400 {"error":..,"parameter":..}): bad JSON / not an object → parameter "body"; a
// URL that does not parse, is not http(s), or whose host does not resolve → parameter "url";
// bad filter → "filter.<key>"; short secret → "secret". Another method → 405 with Allow.
// Store errors → 503/500. The store (delivery/subscription.h) makes subscriptions durable.
// Thread-safety: handle() is const and safe from any thread; the store must outlive the module.
#pragma once

#include <functional>
#include <string>

#include "delivery/subscription.h"
#include "serving/http_util.h"

namespace tickflow::serving {

// True when the host name resolves (getaddrinfo); replaceable in tests.
using HostResolver = std::function<bool(const std::string& host)>;
bool resolve_host(const std::string& host);

class SubscriptionRoutes final : public RouteModule {
 public:
  static constexpr std::string_view kCollection = "/subscriptions";
  static constexpr std::string_view kItem = "/subscriptions/{id}";

  explicit SubscriptionRoutes(delivery::SubscriptionStore& store, HostResolver resolver = resolve_host);

  std::string_view match(std::string_view path) const override;
  HttpResponse handle(const HttpRequest& request, std::string_view path, std::string_view query) const override;
  std::string index_html() const override;

 private:
  HttpResponse create(const HttpRequest& request) const;

  delivery::SubscriptionStore& store_;
  HostResolver resolver_;
};

}  // namespace tickflow::serving
