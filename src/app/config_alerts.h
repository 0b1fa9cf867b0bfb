// The [alerts] table of the TOML config: settings of the alert stage and its
// `[[alerts.rules]]` (reference: src/processing/alerts/README.md). Used by config.cc only.
// Thread-safety: plain functions.
#pragma once

#include <optional>

#include <toml++/toml.h>

#include "app/config.h"

namespace tickflow::app {

// Parses and validates [alerts] into `out`. The error names the key ("alerts.rules[2].level").
std::optional<ConfigError> parse_alerts_config(const toml::table& alerts, AlertsConfig& out);

// Once every layer is applied: each candle/indicator rule's timeframe is built
// (candles.timeframes) and each indicator series it watches is an output of that timeframe's
// indicator spec (with [indicators] enabled) — otherwise the rule could never fire.
std::optional<ConfigError> check_alert_inputs(const AppConfig& c);

}  // namespace tickflow::app
