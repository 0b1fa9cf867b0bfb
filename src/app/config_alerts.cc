#include "app/config_alerts.h"

#include "app/config_reader.h"
#include "processing/indicators/indicator_set.h"

#include <algorithm>
#include <set>
#include <string>
#include <utility>

namespace tickflow::app {
namespace {

namespace al = processing::alerts;
using namespace config_reader;  // fail, check_keys, get_*

al::AlertRule parse_rule(const toml::table& t, const std::string& p) {
  check_keys(t, p, {"name", "kind", "exchange", "symbols", "timeframe", "scope", "series", "other", "level",
                    "hysteresis", "factor", "lookback", "window", "direction", "cooldown", "confirm", "severity",
                    "labels"});
  al::AlertRule r;
  r.name = get_string(t, p, "name", "");
  if (r.name.empty()) fail(p + "name", "required (a unique name; part of every alert id)");
  const std::string kind = get_string(t, p, "kind", "");
  auto k = al::parse_rule_kind(kind);
  if (!k)
    fail(p + "kind", (kind.empty() ? std::string("required") : "unknown kind '" + kind + "'") +
                         " (cross_above, cross_below, rsi_overbought, rsi_oversold, volume_spike, pct_move, "
                         "stale_feed, quality_below)");
  r.kind = *k;
  r.exchange = get_string(t, p, "exchange", r.exchange);
  if (const toml::node* n = t.get("symbols")) {
    if (auto s = n->value<std::string>()) {
      r.symbols = {*s};
    } else if (const toml::array* a = n->as_array()) {
      for (const auto& e : *a) {
        auto s = e.value<std::string>();
        if (!s) fail(p + "symbols", "must be an array of strings");
        r.symbols.push_back(*s);
      }
    } else {
      fail(p + "symbols", "must be a string or an array of strings");
    }
  }
  r.timeframe = get_string(t, p, "timeframe", r.timeframe);
  r.scope = get_string(t, p, "scope", r.scope);
  r.series = get_string(t, p, "series", r.series);
  r.other = get_string(t, p, "other", r.other);
  r.level = get_optional_number(t, p, "level");
  r.hysteresis = get_number(t, p, "hysteresis", r.hysteresis);
  r.factor = get_number(t, p, "factor", r.factor);
  r.lookback = static_cast<int>(get_int(t, p, "lookback", r.lookback, 1, 10000));
  r.window = get_duration(t, p, "window", r.window);
  r.direction = get_string(t, p, "direction", r.direction);
  r.cooldown = get_duration(t, p, "cooldown", r.cooldown);
  const std::string confirm = get_string(t, p, "confirm", "close");
  if (confirm == "close") r.confirm = al::Confirm::kClose;
  else if (confirm == "live") r.confirm = al::Confirm::kLive;
  else fail(p + "confirm", "must be \"close\" or \"live\" (got '" + confirm + "')");
  r.severity = get_string(t, p, "severity", r.severity);
  if (const toml::node* n = t.get("labels")) {
    const toml::table* lt = n->as_table();
    if (!lt) fail(p + "labels", "must be a table of strings, e.g. { team = \"desk\" }");
    for (const auto& [lk, lv] : *lt) {
      auto s = lv.value<std::string>();
      if (!s) fail(p + "labels." + std::string(lk.str()), "must be a string");
      r.labels.emplace_back(std::string(lk.str()), *s);
    }
  }
  return r;
}

std::string joined(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) s += (s.empty() ? "" : ", ") + x;
  return s;
}

}  // namespace

std::optional<ConfigError> check_alert_inputs(const AppConfig& c) {
  if (!c.alerts.enabled) return std::nullopt;
  for (size_t i = 0; i < c.alerts.rules.size(); ++i) {
    const al::AlertRule& r = c.alerts.rules[i];
    const std::string p = "alerts.rules[" + std::to_string(i) + "].";
    if (r.kind == al::RuleKind::kStaleFeed || r.kind == al::RuleKind::kQualityBelow) continue;
    if (std::find(c.candles.timeframes.begin(), c.candles.timeframes.end(), r.tf) == c.candles.timeframes.end())
      return ConfigError{p + "timeframe", r.timeframe + " is not built (add it to candles.timeframes)"};
    if (r.source != al::Source::kIndicator) continue;
    if (!c.indicators.enabled)
      return ConfigError{p + "series", "'" + r.series + "' needs the indicator stage ([indicators] enabled = true)"};
    auto it = c.indicators.timeframes.find(r.tf.label());
    auto set = processing::indicators::IndicatorSet::create(it == c.indicators.timeframes.end() ? c.indicators.spec
                                                                                                 : it->second);
    if (!set) continue;  // reported under indicators.*
    const auto& names = set->names();
    for (const char* field : {"series", "other"}) {
      const std::string& name = std::string(field) == "series" ? r.series : r.other;
      if (name.empty() || std::find(names.begin(), names.end(), name) != names.end()) continue;
      return ConfigError{p + field, "'" + name + "' is not an indicator output of timeframe " + r.tf.label() + " (" +
                                        joined(names) + "; see [indicators])"};
    }
  }
  return std::nullopt;
}

std::optional<ConfigError> parse_alerts_config(const toml::table& t, AlertsConfig& out) {
  try {
    check_keys(t, "alerts.", {"enabled", "quality_interval", "rules"});
    out.enabled = get_bool(t, "alerts.", "enabled", out.enabled);
    out.quality_interval = get_duration(t, "alerts.", "quality_interval", out.quality_interval, Sign::kPositive);
    if (const toml::node* n = t.get("rules")) {
      const toml::array* a = n->as_array();
      if (!a) fail("alerts.rules", "must be an array of tables ([[alerts.rules]])");
      out.rules.clear();
      for (size_t i = 0; i < a->size(); ++i) {
        const std::string p = "alerts.rules[" + std::to_string(i) + "].";
        const toml::table* rt = (*a)[i].as_table();
        if (!rt) fail("alerts.rules[" + std::to_string(i) + "]", "must be a table");
        out.rules.push_back(parse_rule(*rt, p));
      }
    }
    if (auto e = al::validate_rules(out.rules, "alerts.rules")) return ConfigError{e->key, e->message};
  } catch (const ConfigFailure& f) {
    return f.error;
  }
  return std::nullopt;
}

}  // namespace tickflow::app
