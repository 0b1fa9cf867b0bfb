#include "app/config_delivery.h"

#include <set>
#include <string>
#include <utility>

#include "app/config_reader.h"
#include "exchange/transport/url.h"

namespace tickflow::app {
namespace {

using namespace config_reader;  // fail, guarded, check_keys, get_*

int get_attempts(const toml::table& t, const std::string& p, const char* key, int def) {
  return static_cast<int>(get_int(t, p, key, def, 1, 1000));
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
    out.enabled = get_bool(t, p, "enabled", out.enabled);
    out.max_attempts = get_attempts(t, p, "max_attempts", out.max_attempts);
    out.backoff = get_duration(t, p, "backoff", out.backoff, Sign::kPositive);
    out.max_backoff = get_duration(t, p, "max_backoff", out.max_backoff, Sign::kPositive);
    out.timeout = get_duration(t, p, "timeout", out.timeout, Sign::kPositive);
  });
}

std::optional<ConfigError> parse_alertmanager_config(const toml::table& t, AlertmanagerConfig& out) {
  return guarded([&] {
    const std::string p = "alertmanager.";
    check_keys(t, "alertmanager", {"url", "timeout", "max_attempts", "backoff", "max_backoff", "generator_url"});
    out.url = get_string(t, p, "url", out.url);
    out.generator_url = get_string(t, p, "generator_url", out.generator_url);
    out.max_attempts = get_attempts(t, p, "max_attempts", out.max_attempts);
    out.backoff = get_duration(t, p, "backoff", out.backoff, Sign::kPositive);
    out.max_backoff = get_duration(t, p, "max_backoff", out.max_backoff, Sign::kPositive);
    out.timeout = get_duration(t, p, "timeout", out.timeout, Sign::kPositive);
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
