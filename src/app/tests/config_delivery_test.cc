// [webhooks] / [alertmanager] parsing and validation (src/app/config_delivery.cc).
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <string>

#include <gtest/gtest.h>

#include "app/config.h"

namespace tickflow::app {
namespace {

std::variant<AppConfig, ConfigError> load(const std::string& toml, const std::map<std::string, std::string>& env = {}) {
  char path[] = "/tmp/tickflow_delivery_config_XXXXXX";
  int fd = mkstemp(path);
  EXPECT_GE(fd, 0);
  close(fd);
  std::ofstream(path) << toml;
  auto r = load_config(path, env, {});
  std::remove(path);
  return r;
}

std::string key_of(const std::string& toml, const std::map<std::string, std::string>& env = {}) {
  auto r = load(toml, env);
  EXPECT_TRUE(std::holds_alternative<ConfigError>(r)) << toml;
  return std::holds_alternative<ConfigError>(r) ? std::get<ConfigError>(r).key : std::string();
}

TEST(DeliveryConfig, DefaultsAndEveryKey) {
  auto d = load("");
  ASSERT_TRUE(std::holds_alternative<AppConfig>(d));
  EXPECT_TRUE(std::get<AppConfig>(d).alertmanager.url.empty());
  EXPECT_EQ(std::get<AppConfig>(d).webhooks.max_attempts, 5);

  auto r = load(R"(
[webhooks]
enabled = true
max_attempts = 3
backoff = "250ms"
max_backoff = "10s"
timeout = "2s"

[alertmanager]
url = "http://127.0.0.1:9093"
generator_url = "http://tickflow.example:8080/"
timeout = "3s"
max_attempts = 7
backoff = "1s"
max_backoff = "30s"
)");
  ASSERT_TRUE(std::holds_alternative<AppConfig>(r)) << std::get<ConfigError>(r).to_string();
  const AppConfig& c = std::get<AppConfig>(r);
  EXPECT_EQ(c.webhooks.max_attempts, 3);
  EXPECT_EQ(c.webhooks.backoff, 250 * kNsPerMs);
  EXPECT_EQ(c.webhooks.max_backoff, 10 * kNsPerSec);
  EXPECT_EQ(c.webhooks.timeout, 2 * kNsPerSec);
  EXPECT_EQ(c.alertmanager.url, "http://127.0.0.1:9093");
  EXPECT_EQ(c.alertmanager.generator_url, "http://tickflow.example:8080/");
  EXPECT_EQ(c.alertmanager.timeout, 3 * kNsPerSec);
  EXPECT_EQ(c.alertmanager.max_attempts, 7);
}

TEST(DeliveryConfig, BadValuesNameTheKey) {
  EXPECT_EQ(key_of("[alertmanager]\nurl = \"ftp://am:9093\"\n"), "alertmanager.url");
  EXPECT_EQ(key_of("[alertmanager]\nurl = \"not a url\"\n"), "alertmanager.url");
  EXPECT_EQ(key_of("[alertmanager]\nurl = 9093\n"), "alertmanager.url");
  EXPECT_EQ(key_of("[alertmanager]\ntimeout = \"soon\"\n"), "alertmanager.timeout");
  EXPECT_EQ(key_of("[alertmanager]\ncolour = \"red\"\n"), "alertmanager.colour");
  EXPECT_EQ(key_of("[webhooks]\nmax_attempts = 0\n"), "webhooks.max_attempts");
  EXPECT_EQ(key_of("[webhooks]\ntimeout = \"0s\"\n"), "webhooks.timeout");
  EXPECT_EQ(key_of("[webhooks]\nbackoff = \"1m\"\nmax_backoff = \"1s\"\n"), "webhooks.max_backoff");
  EXPECT_EQ(key_of("[webhooks]\nretries = 3\n"), "webhooks.retries");
  // The environment is validated like the file.
  EXPECT_EQ(key_of("", {{"TICKFLOW_ALERTMANAGER_URL", "am:9093"}}), "alertmanager.url");
}

}  // namespace
}  // namespace tickflow::app
