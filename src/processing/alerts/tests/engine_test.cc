#include "processing/alerts/engine.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "processing/alerts/tests/alert_test_support.h"

namespace tickflow::processing::alerts {
namespace {

using namespace testing;  // NOLINT

std::vector<Alert> feed_closes(AlertEngine& e, const std::vector<std::string>& closes, int first_bar = 0) {
  std::vector<Alert> out;
  for (size_t i = 0; i < closes.size(); ++i) e.on_candle(candle(first_bar + static_cast<int>(i), closes[i]), out);
  return out;
}

std::string summary(const std::vector<Alert>& alerts) {
  std::string s;
  for (const auto& a : alerts) s += a.alert_id + " ";
  return s;
}

std::string bar_ms(int i) { return std::to_string((kT0 + i * kMin) / kNsPerMs); }

TEST(AlertEngine, CrossAboveNeedsBothSidesFiresOnceAndResolvesPastHysteresis) {
  AlertRule r = rule("btc_100", RuleKind::kCrossAbove);
  r.level = 100;
  r.hysteresis = 2;
  AlertEngine e({validated(r)});
  // Bar 0 already above: only sets the side. 1: past the hysteresis below → armed. 2: cross →
  // fire. 3: still above. 4: back below but within hysteresis (99 > 98). 5: past it → resolved.
  // 6: cross again → fire.
  auto out = feed_closes(e, {"105", "97", "101", "120", "99", "97.5", "100.5"});
  ASSERT_EQ(out.size(), 3u) << summary(out);
  EXPECT_EQ(out[0].alert_id, "btc_100:binance:BTC-USDT:1m:" + bar_ms(2) + ":firing");
  EXPECT_EQ(out[0].state, "firing");
  EXPECT_EQ(out[0].kind, "cross_above");
  EXPECT_EQ(out[0].ts_event, kT0 + 2 * kMin);
  EXPECT_DOUBLE_EQ(out[0].value, 101);
  EXPECT_DOUBLE_EQ(out[0].threshold, 100);
  // The resolution names the episode's firing bar.
  EXPECT_EQ(out[1].alert_id, "btc_100:binance:BTC-USDT:1m:" + bar_ms(2) + ":resolved");
  EXPECT_EQ(out[1].state, "resolved");
  EXPECT_EQ(out[1].ts_event, kT0 + 5 * kMin);
  EXPECT_EQ(out[2].alert_id, "btc_100:binance:BTC-USDT:1m:" + bar_ms(6) + ":firing");
}

TEST(AlertEngine, CrossBelowAndScopeFilters) {
  AlertRule r = rule("eth_low", RuleKind::kCrossBelow);
  r.level = 50;
  r.symbols = {"ETH-USDT"};
  r.severity = "critical";
  r.labels = {{"team", "desk"}};
  AlertEngine e({validated(r)});
  std::vector<Alert> out;
  // Other symbol, other timeframe: ignored.
  e.on_candle(candle(0, "60"), out);
  e.on_candle(candle(1, "40"), out);
  Candle h = candle(0, "60", "1", CandleStatus::kFinal, "ETH-USDT");
  h.timeframe = *Timeframe::parse("1h");
  e.on_candle(h, out);
  EXPECT_TRUE(out.empty());
  e.on_candle(candle(0, "60", "1", CandleStatus::kFinal, "ETH-USDT"), out);
  e.on_candle(candle(1, "49.99", "1", CandleStatus::kFinal, "ETH-USDT"), out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].symbol, "ETH-USDT");
  EXPECT_EQ(out[0].severity, "critical");
  ASSERT_EQ(out[0].labels.size(), 1u);
  EXPECT_EQ(out[0].labels[0].second, "desk");
  e.on_candle(candle(2, "50", "1", CandleStatus::kFinal, "ETH-USDT"), out);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[1].state, "resolved");
}

TEST(AlertEngine, IndicatorSeriesCrossesAnotherSeries) {
  AlertRule r = rule("golden", RuleKind::kCrossAbove);
  r.series = "sma20";
  r.other = "sma50";
  AlertEngine e({validated(r)});
  ASSERT_TRUE(e.wants_indicators());
  ASSERT_FALSE(e.wants_candles());
  std::vector<Alert> out;
  e.on_indicators(indicators(0, {{"sma20", 9}}), out);  // sma50 still warming up: nothing known
  e.on_indicators(indicators(1, {{"sma20", 9}, {"sma50", 10}}), out);
  e.on_indicators(indicators(2, {{"sma20", 10.5}, {"sma50", 10}}), out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].alert_id, "golden:binance:BTC-USDT:1m:" + bar_ms(2) + ":firing");
  EXPECT_DOUBLE_EQ(out[0].value, 0.5);
  e.on_indicators(indicators(3, {{"sma20", 9.9}, {"sma50", 10}}), out);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[1].state, "resolved");
}

TEST(AlertEngine, RsiOverboughtAndOversoldFireOnEntering) {
  AlertRule ob = rule("rsi_ob", RuleKind::kRsiOverbought);
  ob.hysteresis = 5;
  AlertRule os = rule("rsi_os", RuleKind::kRsiOversold);
  AlertEngine e({validated(ob), validated(os)});
  std::vector<Alert> out;
  const double values[] = {50, 72, 80, 68, 64, 71, 25, 35};
  for (int i = 0; i < 8; ++i) e.on_indicators(indicators(i, {{"rsi14", values[i]}}), out);
  // 72 fires overbought; 68 stays (> 70 − 5); 64 resolves; 71 fires again; 25: overbought
  // resolves (25 <= 65) and oversold fires; 35 resolves oversold.
  ASSERT_EQ(out.size(), 6u) << summary(out);
  EXPECT_EQ(out[0].alert_id, "rsi_ob:binance:BTC-USDT:1m:" + bar_ms(1) + ":firing");
  EXPECT_EQ(out[1].alert_id, "rsi_ob:binance:BTC-USDT:1m:" + bar_ms(1) + ":resolved");
  EXPECT_EQ(out[2].alert_id, "rsi_ob:binance:BTC-USDT:1m:" + bar_ms(5) + ":firing");
  EXPECT_EQ(out[3].alert_id, "rsi_ob:binance:BTC-USDT:1m:" + bar_ms(5) + ":resolved");
  EXPECT_EQ(out[4].alert_id, "rsi_os:binance:BTC-USDT:1m:" + bar_ms(6) + ":firing");
  EXPECT_DOUBLE_EQ(out[4].threshold, 30);
  EXPECT_EQ(out[5].alert_id, "rsi_os:binance:BTC-USDT:1m:" + bar_ms(6) + ":resolved");
}

TEST(AlertEngine, VolumeSpikeAgainstTheMeanOfClosedBars) {
  AlertRule r = rule("vol", RuleKind::kVolumeSpike);
  r.factor = 3;
  r.lookback = 3;
  AlertEngine e({validated(r)});
  std::vector<Alert> out;
  // Warm-up: bar 2 has a big volume but only 2 bars of baseline.
  e.on_candle(candle(0, "1", "1"), out);
  e.on_candle(candle(1, "1", "2"), out);
  e.on_candle(candle(2, "1", "100"), out);
  EXPECT_TRUE(out.empty());
  // Baseline of bars 1..3 = (2 + 100 + 3) / 3 = 35: 104 < 105 does not fire, 106 does.
  e.on_candle(candle(3, "1", "3"), out);
  e.on_candle(candle(4, "1", "104"), out);
  EXPECT_TRUE(out.empty()) << summary(out);
  Candle c5 = candle(5, "1", "1");
  e.on_candle(c5, out);  // baseline now (3 + 104 + 1) / 3 = 36
  e.on_candle(candle(6, "1", "109"), out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_NEAR(out[0].value, 109.0 / 36.0, 1e-12);
  EXPECT_DOUBLE_EQ(out[0].threshold, 3);
  EXPECT_EQ(out[0].alert_id, "vol:binance:BTC-USDT:1m:" + bar_ms(6) + ":firing");
}

TEST(AlertEngine, PctMoveWithinAWindow) {
  AlertRule r = rule("move", RuleKind::kPctMove);
  r.level = 1;  // percent
  r.window = 2 * kMin;
  r.direction = "down";
  AlertEngine e({validated(r)});
  // Bar 2 vs bar 0: −0.5 %; bar 3 vs bar 1: −1.5 % → fires; bar 4 vs 2: +1 % → clears.
  auto out = feed_closes(e, {"100", "101", "99.5", "99.485", "100.495"});
  ASSERT_EQ(out.size(), 2u) << summary(out);
  EXPECT_EQ(out[0].alert_id, "move:binance:BTC-USDT:1m:" + bar_ms(3) + ":firing");
  EXPECT_NEAR(out[0].value, -1.5, 1e-9);
  EXPECT_EQ(out[1].state, "resolved");

  AlertRule up = rule("up", RuleKind::kPctMove);
  up.level = 1;
  up.window = kMin;
  AlertEngine both({validated(up)});  // direction both: |x|
  auto out2 = feed_closes(both, {"100", "98.9"});
  ASSERT_EQ(out2.size(), 1u);
  EXPECT_NEAR(out2[0].value, -1.1, 1e-9);
}

TEST(AlertEngine, CooldownDelaysTheNextFiring) {
  AlertRule r = rule("cd", RuleKind::kCrossAbove);
  r.level = 100;
  r.cooldown = 5 * kMin;
  AlertEngine e({validated(r)});
  // Fire at bar 1, resolve at 2, cross again at 3 (within 5 min): held; still above at 6 (= 5 min
  // after bar 1): fires then.
  auto out = feed_closes(e, {"99", "101", "99", "101", "102", "103", "104"});
  ASSERT_EQ(out.size(), 3u) << summary(out);
  EXPECT_EQ(out[0].alert_id, "cd:binance:BTC-USDT:1m:" + bar_ms(1) + ":firing");
  EXPECT_EQ(out[1].state, "resolved");
  EXPECT_EQ(out[2].alert_id, "cd:binance:BTC-USDT:1m:" + bar_ms(6) + ":firing");
}

TEST(AlertEngine, ConfirmCloseNeverRepaintsAProvisionalSpike) {
  AlertRule close_rule = rule("on_close", RuleKind::kCrossAbove);
  close_rule.level = 100;
  AlertRule live_rule = close_rule;
  live_rule.name = "live";
  live_rule.confirm = Confirm::kLive;
  AlertEngine e({validated(close_rule), validated(live_rule)});
  std::vector<Alert> out;
  e.on_candle(candle(0, "99"), out);
  // Bar 1 spikes to 105 while open, then closes at 99.
  e.on_candle(candle(1, "105", "1", CandleStatus::kProvisional), out);
  e.on_candle(candle(1, "106", "1", CandleStatus::kProvisional), out);
  e.on_candle(candle(1, "99", "1", CandleStatus::kFinal), out);
  ASSERT_EQ(out.size(), 2u) << summary(out);
  EXPECT_EQ(out[0].alert_id, "live:binance:BTC-USDT:1m:" + bar_ms(1) + ":firing");
  EXPECT_EQ(out[1].alert_id, "live:binance:BTC-USDT:1m:" + bar_ms(1) + ":resolved");
  // The live rule re-arms but never fires twice for bar 1; a correction of bar 1 above the
  // level does not make the close rule fire for a bar it already judged.
  e.on_candle(candle(1, "107", "1", CandleStatus::kCorrected), out);
  EXPECT_EQ(out.size(), 2u) << summary(out);
  // Bar 2 closes above: both fire, once each, even with a provisional before the final.
  e.on_candle(candle(2, "101", "1", CandleStatus::kProvisional), out);
  e.on_candle(candle(2, "101", "1", CandleStatus::kFinal), out);
  ASSERT_EQ(out.size(), 4u) << summary(out);
  EXPECT_EQ(out[2].alert_id, "live:binance:BTC-USDT:1m:" + bar_ms(2) + ":firing");
  EXPECT_EQ(out[3].alert_id, "on_close:binance:BTC-USDT:1m:" + bar_ms(2) + ":firing");
}

TEST(AlertEngine, ProvisionalIndicatorsOnlyForLiveRules) {
  AlertRule r = rule("rsi", RuleKind::kRsiOverbought);
  AlertEngine e({validated(r)});
  std::vector<Alert> out;
  e.on_indicators(indicators(0, {{"rsi14", 90}}, /*provisional=*/true), out);
  EXPECT_TRUE(out.empty());
  e.on_indicators(indicators(0, {{"rsi14", 65}}), out);
  EXPECT_TRUE(out.empty());
  r.confirm = Confirm::kLive;
  AlertEngine live({validated(r)});
  live.on_indicators(indicators(0, {{"rsi14", 90}}, true), out);
  EXPECT_EQ(out.size(), 1u);
}

TEST(AlertEngine, QualityRules) {
  AlertRule stale = rule("stale", RuleKind::kStaleFeed, "");
  AlertRule low = rule("low_q", RuleKind::kQualityBelow, "");
  low.scope = "series";
  low.hysteresis = 0.05;
  AlertEngine e({validated(stale), validated(low)});
  ASSERT_TRUE(e.wants_quality());
  QualityReading feed{"feed", "binance", "", 1.0, kT0, false};
  QualityReading series{"series", "binance", "BTC-USDT", 0.9, kT0, false};
  std::vector<Alert> out;
  e.on_quality(std::vector<QualityReading>{feed, series}, kT0 + kNsPerSec, out);
  EXPECT_TRUE(out.empty());
  feed.stale = true;
  series.score = 0.7;
  e.on_quality(std::vector<QualityReading>{feed, series}, kT0 + 6 * kMin, out);
  e.on_quality(std::vector<QualityReading>{feed, series}, kT0 + 7 * kMin, out);  // same episodes
  ASSERT_EQ(out.size(), 2u) << summary(out);
  // Stale: the episode starts with the last data, so a restart derives the same id.
  EXPECT_EQ(out[0].alert_id, "stale:binance:" + bar_ms(0) + ":firing");
  EXPECT_DOUBLE_EQ(out[0].value, 360);
  EXPECT_EQ(out[1].alert_id, "low_q:binance:BTC-USDT:" + bar_ms(6) + ":firing");
  feed.stale = false;
  feed.last_data = kT0 + 8 * kMin;
  series.score = 0.83;  // not past 0.8 + 0.05
  e.on_quality(std::vector<QualityReading>{feed, series}, kT0 + 8 * kMin, out);
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out[2].alert_id, "stale:binance:" + bar_ms(0) + ":resolved");
  series.score = 0.86;
  e.on_quality(std::vector<QualityReading>{feed, series}, kT0 + 9 * kMin, out);
  ASSERT_EQ(out.size(), 4u);
  EXPECT_EQ(out[3].alert_id, "low_q:binance:BTC-USDT:" + bar_ms(6) + ":resolved");
}

std::vector<AlertRule> every_kind() {
  std::vector<AlertRule> rs;
  AlertRule a = rule("cross", RuleKind::kCrossAbove);
  a.level = 100;
  a.hysteresis = 0.5;
  rs.push_back(a);
  AlertRule v = rule("vol", RuleKind::kVolumeSpike);
  v.factor = 2;
  v.lookback = 4;
  rs.push_back(v);
  AlertRule m = rule("move", RuleKind::kPctMove);
  m.level = 2;
  m.window = 3 * kMin;
  m.cooldown = 3 * kMin;
  rs.push_back(m);
  AlertRule live = rule("live", RuleKind::kCrossBelow);
  live.level = 99;
  live.confirm = Confirm::kLive;
  rs.push_back(live);
  for (auto& r : rs) r = validated(r);
  return rs;
}

// A deterministic pseudo-random walk of closes and volumes with provisional updates.
std::vector<Candle> walk(int bars) {
  std::vector<Candle> cs;
  uint64_t x = 12345;
  auto next = [&] {
    x = x * 6364136223846793005ULL + 1442695040888963407ULL;
    return static_cast<int>((x >> 33) % 1000);
  };
  for (int i = 0; i < bars; ++i) {
    for (int k = 0; k < 2; ++k) {
      int p = 9700 + next() / 2;
      cs.push_back(candle(i, std::to_string(p / 100) + "." + std::to_string(p % 100 / 10), std::to_string(1 + next() / 100),
                          k == 0 ? CandleStatus::kProvisional : CandleStatus::kFinal));
    }
  }
  return cs;
}

TEST(AlertEngine, SameInputSameAlertsAndStateRoundTripContinuesIdentically) {
  const auto input = walk(300);
  std::vector<Alert> full;
  AlertEngine a(every_kind());
  for (const auto& c : input) a.on_candle(c, full);
  ASSERT_GE(full.size(), 10u) << "the walk should trigger several rules";

  std::vector<Alert> again;
  AlertEngine b(every_kind());
  for (const auto& c : input) b.on_candle(c, again);
  ASSERT_EQ(summary(again), summary(full));

  for (size_t cut : {size_t{1}, size_t{57}, size_t{301}, size_t{598}}) {
    std::vector<Alert> split;
    AlertEngine first(every_kind());
    std::vector<std::pair<std::string, std::string>> stored;
    for (size_t i = 0; i < cut; ++i) {
      first.on_candle(input[i], split);
      for (auto& kv : first.take_dirty()) stored.push_back(std::move(kv));  // later puts win
    }
    AlertEngine second(every_kind());
    for (const auto& [k, blob] : stored) ASSERT_TRUE(second.restore(k, blob).is_ok()) << k;
    for (size_t i = cut; i < input.size(); ++i) second.on_candle(input[i], split);
    EXPECT_EQ(summary(split), summary(full)) << "cut at " << cut;
  }
}

TEST(AlertEngine, RestoreRejectsGarbageAndIgnoresRemovedRules) {
  AlertEngine e(every_kind());
  EXPECT_EQ(e.restore("cross|binance:BTC-USDT:1m", "garbage").code(), ErrorCode::kCorruption);
  EXPECT_EQ(e.restore("no-separator", "").code(), ErrorCode::kCorruption);
  std::vector<Alert> out;
  e.on_candle(candle(0, "99"), out);
  auto dirty = e.take_dirty();
  ASSERT_FALSE(dirty.empty());
  AlertEngine other({validated([] {
    AlertRule r = rule("something_else", RuleKind::kCrossAbove);
    r.level = 1;
    return r;
  }())});
  for (const auto& [k, blob] : dirty) EXPECT_TRUE(other.restore(k, blob).is_ok());
  EXPECT_EQ(other.state_count(), 0u);
  // Truncated blobs are corrupt.
  EXPECT_EQ(e.restore(dirty[0].first, dirty[0].second.substr(0, dirty[0].second.size() - 1)).code(),
            ErrorCode::kCorruption);
}

}  // namespace
}  // namespace tickflow::processing::alerts
