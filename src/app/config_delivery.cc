#include "app/config_delivery.h"

#include <set>
#include <string>
#include <utility>

#include "exchange/transport/url.h"

namespace tickflow::app {
namespace {

struct Fail {
  ConfigError error;
};

[[noreturn]] void fail(std::string key, std::string message) { throw Fail{{std::move(key), std::move(message)}}; }

void check_keys(const toml::table& t, const std::string& prefix, const std::set<std::string>& known) {
  for (const auto& [k, v] : t) {
    std::string key(k.str());
    if (!known.count(key))
      fail(prefix + "." + key, "unknown setting (check the spelling against config/tickflow.example.toml)");
  }
}

std::string get_string(const toml::table& t, const std::string& p, const char* key, const std::string& def) {
  const toml::node* n = t.get(key);
  if (!n) return def;
  if (auto s = n->value<std::string>()) return *s;
  fail(p + key, "must be a string");
}

int get_attempts(const toml::table& t, const std::string& p, const char* key, int def) {
  const toml::node* n = t.get(key);
  if (!n) return def;
  if (!n->is_integer()) fail(p + key, "must be an integer");
  int64_t v = *n->value<int64_t>();
  if (v < 1 || v > 1000) fail(p + key, "must be 1..1000, got " + std::to_string(v));
  return static_cast<int>(v);
}

DurationNs get_duration(const toml::table& t, const std::string& p, const char* key, DurationNs def) {
  const toml::node* n = t.get(key);
  if (!n) return def;
  auto s = n->value<std::string>();
  if (!s) fail(p + key, "must be a duration string such as \"500ms\" or \"2s\"");
  auto d = parse_duration(*s);
  if (!d) fail(p + key, d.status().message());
  if (*d <= 0) fail(p + key, "must be positive");
  return *d;
}

template <class F>
std::optional<ConfigError> guarded(F&& f) {
  try {
    f();
  } catch (const Fail& e) {
    return e.error;
  }
  return std::nullopt;
}

void check_http_url(const std::string& key, const std::string& url) {
  auto u = exchange::transport::parse_url(url);
  if (!u) fail(key, "not a valid URL: " + u.status().message());
  if (u->scheme != "http" && u->scheme != "https") fail(key, "must be an http:// or https:// URL, got '" + url + "'");
}

}  // namespace

std::optional<ConfigError> parse_webhooks_config(const toml::table& t, WebhooksConfig& out) {
  return guarded([&] {
    const std::string p = "webhooks.";
    check_keys(t, "webhooks", {"enabled", "max_attempts", "backoff", "max_backoff", "timeout"});
    if (const toml::node* n = t.get("enabled")) {
      if (!n->is_boolean()) fail(p + "enabled", "must be true or false");
      out.enabled = *n->value<bool>();
    }
    out.max_attempts = get_attempts(t, p, "max_attempts", out.max_attempts);
    out.backoff = get_duration(t, p, "backoff", out.backoff);
    out.max_backoff = get_duration(t, p, "max_backoff", out.max_backoff);
    out.timeout = get_duration(t, p, "timeout", out.timeout);
  });
}

std::optional<ConfigError> parse_alertmanager_config(const toml::table& t, AlertmanagerConfig& out) {
  return guarded([&] {
    const std::string p = "alertmanager.";
    check_keys(t, "alertmanager", {"url", "timeout", "max_attempts", "backoff", "max_backoff", "generator_url"});
    out.url = get_string(t, p, "url", out.url);
    out.generator_url = get_string(t, p, "generator_url", out.generator_url);
    out.max_attempts = get_attempts(t, p, "max_attempts", out.max_attempts);
    out.backoff = get_duration(t, p, "backoff", out.backoff);
    out.max_backoff = get_duration(t, p, "max_backoff", out.max_backoff);
    out.timeout = get_duration(t, p, "timeout", out.timeout);
  });
}

std::optional<ConfigError> validate_delivery_config(const AppConfig& c) {
  return guarded([&] {
    if (c.webhooks.max_backoff < c.webhooks.backoff) fail("webhooks.max_backoff", "must be at least webhooks.backoff");
    if (!c.alertmanager.url.empty()) check_http_url("alertmanager.url", c.alertmanager.url);
    if (!c.alertmanager.generator_url.empty()) check_http_url("alertmanager.generator_url", c.alertmanager.generator_url);
    if (c.alertmanager.max_backoff < c.alertmanager.backoff)
      fail("alertmanager.max_backoff", "must be at least alertmanager.backoff");
  });
}

}  // namespace tickflow::app
