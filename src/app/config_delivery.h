// The [webhooks] and [alertmanager] tables of the TOML config: retry policy of webhook
// deliveries (src/delivery/webhook.h) and the Alertmanager sender (src/delivery/alertmanager.h).
// Used by config.cc only.
// Thread-safety: plain functions.
#pragma once

#include <optional>

#include <toml++/toml.h>

#include "app/config.h"

namespace tickflow::app {

// Parse and check the types of [webhooks] / [alertmanager] into `out` (the error names the key).
std::optional<ConfigError> parse_webhooks_config(const toml::table& t, WebhooksConfig& out);
std::optional<ConfigError> parse_alertmanager_config(const toml::table& t, AlertmanagerConfig& out);
// Cross-checks after every layer (file, env, flags): URLs parse and are http(s), ranges.
std::optional<ConfigError> validate_delivery_config(const AppConfig& c);

}  // namespace tickflow::app
