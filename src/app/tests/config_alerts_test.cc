// [alerts] / [[alerts.rules]] parsing and validation (src/app/config_alerts.cc).
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <string>

#include <gtest/gtest.h>

#include "app/config.h"

namespace tickflow::app {
namespace {

namespace al = processing::alerts;

std::string write_temp(const std::string& text) {
  char path[] = "/tmp/tickflow_alerts_config_XXXXXX";
  int fd = mkstemp(path);
  EXPECT_GE(fd, 0);
  close(fd);
  std::ofstream(path) << text;
  return path;
}

std::variant<AppConfig, ConfigError> load(const std::string& toml) {
  std::string path = write_temp(toml);
  auto r = load_config(path, {}, {});
  std::remove(path.c_str());
  return r;
}

ConfigError error_of(const std::string& toml) {
  auto r = load(toml);
  EXPECT_TRUE(std::holds_alternative<ConfigError>(r)) << toml;
  return std::holds_alternative<ConfigError>(r) ? std::get<ConfigError>(r) : ConfigError{};
}

TEST(AlertsConfig, RulesAreParsedWithEveryField) {
  auto r = load(R"(
[alerts]
quality_interval = "2s"

[[alerts.rules]]
name = "btc_50k"
kind = "cross_above"
symbols = ["btc-usdt"]
timeframe = "1m"
level = 50000
hysteresis = 100
cooldown = "15m"
confirm = "live"
severity = "critical"
labels = { team = "desk", channel = "pager" }

[[alerts.rules]]
name = "golden_cross"
kind = "cross_above"
timeframe = "1h"
series = "sma20"
other = "ema20"

[[alerts.rules]]
name = "move"
kind = "pct_move"
symbols = "ETH-USDT"
timeframe = "1m"
level = 0.5
window = "5m"
direction = "up"

[[alerts.rules]]
name = "vol"
kind = "volume_spike"
timeframe = "1m"
factor = 4
lookback = 30

[[alerts.rules]]
name = "feed_quality"
kind = "quality_below"
scope = "series"
level = 0.8
)");
  ASSERT_TRUE(std::holds_alternative<AppConfig>(r)) << std::get<ConfigError>(r).to_string();
  const AlertsConfig& a = std::get<AppConfig>(r).alerts;
  EXPECT_EQ(a.quality_interval, 2 * kNsPerSec);
  ASSERT_EQ(a.rules.size(), 5u);
  const al::AlertRule& b = a.rules[0];
  EXPECT_EQ(b.kind, al::RuleKind::kCrossAbove);
  EXPECT_EQ(b.symbols, std::vector<std::string>{"BTC-USDT"});
  EXPECT_DOUBLE_EQ(b.threshold, 50000);
  EXPECT_DOUBLE_EQ(b.hysteresis, 100);
  EXPECT_EQ(b.cooldown, 15 * kNsPerMin);
  EXPECT_EQ(b.confirm, al::Confirm::kLive);
  EXPECT_EQ(b.severity, "critical");
  ASSERT_EQ(b.labels.size(), 2u);
  EXPECT_EQ(a.rules[1].source, al::Source::kIndicator);
  EXPECT_EQ(a.rules[1].other, "ema20");
  EXPECT_EQ(a.rules[2].window_bars, 5);
  EXPECT_EQ(a.rules[2].direction, "up");
  EXPECT_EQ(a.rules[2].symbols, std::vector<std::string>{"ETH-USDT"});
  EXPECT_EQ(a.rules[3].lookback, 30);
  EXPECT_DOUBLE_EQ(a.rules[3].factor, 4);
  EXPECT_EQ(a.rules[4].scope, "series");
}

TEST(AlertsConfig, ErrorsNameTheRuleKey) {
  const std::string head = "[[alerts.rules]]\nname = \"ok\"\nkind = \"cross_above\"\ntimeframe = \"1m\"\nlevel = 1\n";
  EXPECT_EQ(error_of("[alerts]\nrulez = []\n").key, "alerts.rulez");
  EXPECT_EQ(error_of("[alerts]\nrules = 3\n").key, "alerts.rules");
  EXPECT_EQ(error_of("[alerts]\nquality_interval = \"0s\"\n").key, "alerts.quality_interval");
  EXPECT_EQ(error_of(head + "[[alerts.rules]]\nname = \"x\"\nkind = \"crosses\"\n").key, "alerts.rules[1].kind");
  EXPECT_EQ(error_of(head + "[[alerts.rules]]\nkind = \"cross_above\"\n").key, "alerts.rules[1].name");
  EXPECT_EQ(error_of(head + "lvl = 2\n").key, "alerts.rules[0].lvl");
  EXPECT_EQ(error_of(head + "confirm = \"maybe\"\n").key, "alerts.rules[0].confirm");
  EXPECT_EQ(error_of(head + "cooldown = 5\n").key, "alerts.rules[0].cooldown");
  EXPECT_EQ(error_of(head + "labels = { team = 1 }\n").key, "alerts.rules[0].labels.team");
  EXPECT_EQ(error_of(head + head).key, "alerts.rules[1].name");
  // Validation (processing/alerts/rule.cc) errors keep the key too.
  ConfigError e = error_of(head + "[[alerts.rules]]\nname = \"r\"\nkind = \"rsi_overbought\"\ntimeframe = \"1m\"\nlevel = 150\n");
  EXPECT_EQ(e.key, "alerts.rules[1].level");
  EXPECT_EQ(e.message, "RSI level must be in (0, 100)");
  EXPECT_EQ(error_of("[[alerts.rules]]\nname = \"m\"\nkind = \"pct_move\"\ntimeframe = \"1m\"\nlevel = 1\nwindow = \"90s\"\n").key,
            "alerts.rules[0].window");
}

TEST(AlertsConfig, RulesMustWatchWhatThePipelineBuilds) {
  const std::string rsi = "[[alerts.rules]]\nname = \"r\"\nkind = \"rsi_overbought\"\ntimeframe = \"1m\"\n";
  ConfigError e = error_of(rsi + "series = \"rsi7\"\n");
  EXPECT_EQ(e.key, "alerts.rules[0].series");
  EXPECT_NE(e.message.find("rsi14"), std::string::npos) << e.message;  // lists what exists
  EXPECT_EQ(error_of("[indicators]\nenabled = false\n" + rsi).key, "alerts.rules[0].series");
  EXPECT_EQ(error_of("[candles]\ntimeframes = [\"5m\"]\n" + rsi).key, "alerts.rules[0].timeframe");
  EXPECT_EQ(error_of("[[alerts.rules]]\nname = \"g\"\nkind = \"cross_above\"\ntimeframe = \"1m\"\n"
                     "series = \"sma20\"\nother = \"sma50\"\n")
                .key,
            "alerts.rules[0].other");
  // A per-timeframe spec provides it; disabled alerts are not checked.
  EXPECT_TRUE(std::holds_alternative<AppConfig>(load("[indicators.timeframes]\n\"1m\" = \"rsi:7\"\n" + rsi +
                                                     "series = \"rsi7\"\n")));
  EXPECT_TRUE(std::holds_alternative<AppConfig>(load("[alerts]\nenabled = false\n" + rsi + "series = \"rsi7\"\n")));
}

TEST(AlertsConfig, ShippedConfigsLoad) {
  for (const char* file : {"/config/tickflow.example.toml", "/config/demo.toml"}) {
    auto r = load_config(std::string(TICKFLOW_SOURCE_DIR) + file, {}, {});
    ASSERT_TRUE(std::holds_alternative<AppConfig>(r)) << file << ": " << std::get<ConfigError>(r).to_string();
    EXPECT_FALSE(std::get<AppConfig>(r).alerts.rules.empty()) << file;
  }
}

}  // namespace
}  // namespace tickflow::app
