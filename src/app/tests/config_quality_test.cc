// [quality] parsing and validation (src/app/config_quality.cc).
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <string>

#include <gtest/gtest.h>

#include "app/config.h"

namespace tickflow::app {
namespace {

std::variant<AppConfig, ConfigError> load(const std::string& toml) {
  char path[] = "/tmp/tickflow_quality_config_XXXXXX";
  int fd = mkstemp(path);
  EXPECT_GE(fd, 0);
  close(fd);
  std::ofstream(path) << toml;
  auto r = load_config(path, {}, {});
  std::remove(path);
  return r;
}

ConfigError error_of(const std::string& toml) {
  auto r = load(toml);
  EXPECT_TRUE(std::holds_alternative<ConfigError>(r)) << toml;
  return std::holds_alternative<ConfigError>(r) ? std::get<ConfigError>(r) : ConfigError{};
}

TEST(QualityConfigTest, DefaultsWithoutTheTable) {
  auto r = load("");
  ASSERT_TRUE(std::holds_alternative<AppConfig>(r));
  const auto& q = std::get<AppConfig>(r).quality;
  EXPECT_TRUE(q.enabled);
  EXPECT_EQ(q.checker.stale_after, 5 * kNsPerMin);
  EXPECT_EQ(q.validation.max_event_age, 0);  // off by default
  EXPECT_EQ(q.validation.max_event_ahead, 5 * kNsPerMin);
  EXPECT_FALSE(q.from_committed);
}

TEST(QualityConfigTest, EveryKeyIsParsed) {
  auto r = load(R"(
[quality]
enabled = true
stale_after = "2m"
series_stale_after = "30m"
window = "10m"
window_buckets = 20
outlier_window = 128
outlier_min_samples = 32
outlier_mad_k = 8
outlier_min_rel = 0.005
divergence_rel = 0.03
divergence_max_age = "1m"
dedup_window = 1024
max_series = 50
max_event_age = "1h"
max_event_ahead = "30s"
start = "committed"
weights = { gap = 0.5, duplicate = 2 }
)");
  ASSERT_TRUE(std::holds_alternative<AppConfig>(r)) << std::get<ConfigError>(r).to_string();
  const auto& q = std::get<AppConfig>(r).quality;
  EXPECT_EQ(q.checker.stale_after, 2 * kNsPerMin);
  EXPECT_EQ(q.checker.series_stale_after, 30 * kNsPerMin);
  EXPECT_EQ(q.checker.window, 10 * kNsPerMin);
  EXPECT_EQ(q.checker.window_buckets, 20);
  EXPECT_EQ(q.checker.outlier_window, 128u);
  EXPECT_EQ(q.checker.outlier_min_samples, 32u);
  EXPECT_DOUBLE_EQ(q.checker.outlier_mad_k, 8);
  EXPECT_DOUBLE_EQ(q.checker.outlier_min_rel, 0.005);
  EXPECT_DOUBLE_EQ(q.checker.divergence_rel, 0.03);
  EXPECT_EQ(q.checker.divergence_max_age, kNsPerMin);
  EXPECT_EQ(q.checker.dedup_window, 1024u);
  EXPECT_EQ(q.checker.max_series, 50u);
  EXPECT_EQ(q.validation.max_event_age, kNsPerHour);
  EXPECT_EQ(q.validation.max_event_ahead, 30 * kNsPerSec);
  EXPECT_TRUE(q.from_committed);
  EXPECT_DOUBLE_EQ(q.checker.weights[static_cast<size_t>(quality::Check::kGap)], 0.5);
  EXPECT_DOUBLE_EQ(q.checker.weights[static_cast<size_t>(quality::Check::kDuplicate)], 2);
  EXPECT_DOUBLE_EQ(q.checker.weights[static_cast<size_t>(quality::Check::kOutlier)], 1);
}

TEST(QualityConfigTest, BadValuesNameTheKey) {
  EXPECT_EQ(error_of("[quality]\nstale_afterr = \"5m\"\n").key, "quality.stale_afterr");
  EXPECT_EQ(error_of("[quality]\nstale_after = \"0s\"\n").key, "quality.stale_after");
  EXPECT_EQ(error_of("[quality]\nstale_after = 5\n").key, "quality.stale_after");
  EXPECT_EQ(error_of("[quality]\noutlier_window = 2\n").key, "quality.outlier_window");
  EXPECT_EQ(error_of("[quality]\noutlier_window = 10\noutlier_min_samples = 20\n").key,
            "quality.outlier_min_samples");
  EXPECT_EQ(error_of("[quality]\noutlier_mad_k = -1\n").key, "quality.outlier_mad_k");
  EXPECT_EQ(error_of("[quality]\ndivergence_rel = \"x\"\n").key, "quality.divergence_rel");
  EXPECT_EQ(error_of("[quality]\nmax_event_ahead = \"0ms\"\n").key, "quality.max_event_ahead");
  EXPECT_EQ(error_of("[quality]\nstart = \"beginning\"\n").key, "quality.start");
  EXPECT_EQ(error_of("[quality]\nweights = { stale = 1 }\n").key, "quality.weights.stale");
  EXPECT_EQ(error_of("[quality]\nweights = { gap = -1 }\n").key, "quality.weights.gap");
  EXPECT_EQ(error_of("[quality]\nenabled = 1\n").key, "quality.enabled");
}

}  // namespace
}  // namespace tickflow::app
