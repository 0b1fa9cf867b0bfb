#include "processing/alerts/rule.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "processing/alerts/tests/alert_test_support.h"

namespace tickflow::processing::alerts {
namespace {

using namespace testing;  // NOLINT

std::string error_of(std::vector<AlertRule> rules) {
  auto e = validate_rules(rules);
  return e ? e->to_string() : "";
}

AlertRule good_cross() {
  AlertRule r = rule("ok", RuleKind::kCrossAbove);
  r.level = 1;
  return r;
}

TEST(AlertRules, ValidRulesGetDerivedFields) {
  std::vector<AlertRule> rs;
  rs.push_back(good_cross());
  AlertRule rsi = rule("rsi", RuleKind::kRsiOversold, "5m");
  rs.push_back(rsi);
  AlertRule move = rule("move", RuleKind::kPctMove);
  move.level = 0.5;
  move.window = 5 * kMin;
  move.symbols = {"btc-usdt"};
  rs.push_back(move);
  rs.push_back(rule("q", RuleKind::kQualityBelow, ""));
  ASSERT_FALSE(validate_rules(rs).has_value());
  EXPECT_EQ(rs[0].source, Source::kCandle);
  EXPECT_EQ(rs[0].series, "close");
  EXPECT_EQ(rs[1].source, Source::kIndicator);
  EXPECT_EQ(rs[1].series, "rsi14");
  EXPECT_DOUBLE_EQ(rs[1].threshold, 30);
  EXPECT_EQ(rs[1].tf.duration_ns(), 5 * kMin);
  EXPECT_EQ(rs[2].window_bars, 5);
  EXPECT_EQ(rs[2].symbols[0], "BTC-USDT");
  EXPECT_DOUBLE_EQ(rs[3].threshold, 0.8);
}

TEST(AlertRules, ErrorsNameTheKeyAndTheReason) {
  AlertRule no_level = rule("a", RuleKind::kCrossAbove);
  EXPECT_EQ(error_of({good_cross(), good_cross()}), "alerts.rules[1].name: duplicate rule name 'ok'");
  EXPECT_EQ(error_of({good_cross(), good_cross(), no_level}).rfind("alerts.rules[1].name", 0), 0u);
  no_level.name = "b";
  EXPECT_EQ(error_of({good_cross(), no_level}), "alerts.rules[1].level: required for cross_above (or set other)");

  auto expect_key = [](AlertRule r, const std::string& key) {
    std::string e = error_of({std::move(r)});
    EXPECT_EQ(e.rfind("alerts.rules[0]." + key + ": ", 0), 0u) << key << " -> " << e;
  };
  AlertRule r = good_cross();
  r.name = "bad name";
  expect_key(r, "name");
  r = good_cross();
  r.timeframe = "";
  expect_key(r, "timeframe");
  r.timeframe = "7x";
  expect_key(r, "timeframe");
  r = good_cross();
  r.hysteresis = -1;
  expect_key(r, "hysteresis");
  r = good_cross();
  r.severity = "page";
  expect_key(r, "severity");
  r = good_cross();
  r.exchange = "mtgox";
  expect_key(r, "exchange");
  r = good_cross();
  r.symbols = {"BTC USDT"};
  expect_key(r, "symbols");
  r = good_cross();
  r.labels = {{"severity", "x"}};
  expect_key(r, "labels");
  r = good_cross();
  r.series = "sma20";
  r.other = "close";
  expect_key(r, "other");
  r = good_cross();
  r.cooldown = -kNsPerSec;
  expect_key(r, "cooldown");

  AlertRule rsi = rule("rsi", RuleKind::kRsiOverbought);
  rsi.level = 120;
  expect_key(rsi, "level");
  rsi.level.reset();
  rsi.series = "close";
  expect_key(rsi, "series");

  AlertRule vol = rule("vol", RuleKind::kVolumeSpike);
  vol.factor = -2;
  expect_key(vol, "factor");
  vol.factor = 2;
  vol.lookback = 0;
  expect_key(vol, "lookback");

  AlertRule move = rule("move", RuleKind::kPctMove);
  expect_key(move, "level");
  move.level = 1;
  expect_key(move, "window");
  move.window = 90 * kNsPerSec;
  expect_key(move, "window");
  move.window = 2 * kMin;
  move.direction = "sideways";
  expect_key(move, "direction");

  AlertRule q = rule("q", RuleKind::kQualityBelow, "");
  q.level = 1.5;
  expect_key(q, "level");
  q.level = 0.5;
  q.scope = "planet";
  expect_key(q, "scope");
  AlertRule stale = rule("s", RuleKind::kStaleFeed, "1m");
  expect_key(stale, "timeframe");
}

TEST(AlertRules, KindNamesRoundTrip) {
  for (const char* n : {"cross_above", "cross_below", "rsi_overbought", "rsi_oversold", "volume_spike", "pct_move",
                        "stale_feed", "quality_below"}) {
    auto k = parse_rule_kind(n);
    ASSERT_TRUE(k.has_value()) << n;
    EXPECT_EQ(rule_kind_name(*k), n);
  }
  EXPECT_FALSE(parse_rule_kind("crosses").has_value());
}

}  // namespace
}  // namespace tickflow::processing::alerts
