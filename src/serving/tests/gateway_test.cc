#include "serving/gateway.h"

#include <gtest/gtest.h>

#include "core/codec.h"
#include "observability/metrics.h"
#include "delivery/alert_json.h"
#include "serving/candle_json.h"
#include "serving/tests/fakes.h"
#include "serving/tests/test_util.h"

namespace tickflow::serving {
namespace {

using testing::eventually;
using testing::FakeEventBus;
using testing::make_candle;

constexpr int64_t kT0 = 1628952360000;

// Records every delivered message.
class RecordingSubscriber final : public Subscriber {
 public:
  void deliver(std::shared_ptr<const std::string> json) override {
    std::lock_guard lock(mu_);
    messages_.push_back(*json);
  }
  std::vector<std::string> messages() const {
    std::lock_guard lock(mu_);
    return messages_;
  }
  size_t count() const {
    std::lock_guard lock(mu_);
    return messages_.size();
  }

 private:
  mutable std::mutex mu_;
  std::vector<std::string> messages_;
};

// A connection that never writes: its conflating queue is all it has.
class StalledSubscriber final : public Subscriber {
 public:
  explicit StalledSubscriber(std::string key) : key_(std::move(key)) {}
  void deliver(std::shared_ptr<const std::string> json) override { queue.push(key_, std::move(json)); }
  ConflatingQueue queue;

 private:
  std::string key_;
};

class GatewayTest : public ::testing::Test {
 protected:
  GatewayTest() {
    EXPECT_TRUE(bus_.create_topic({std::string(topics::kNormalizedOhlcv), 8, 0}).is_ok());
  }
  void publish(const Candle& c, TimestampNs last_trade_recv = 0) {
    ASSERT_TRUE(bus_.publish(topics::kNormalizedOhlcv, instrument_key(c.exchange, c.symbol),
                             codec::encode_candle(c, 0, last_trade_recv))
                    .is_ok());
  }

  FakeEventBus bus_;
};

TEST(ConflatingQueue, KeepsOnlyTheLatestPendingMessagePerKeyInArrivalOrder) {
  ConflatingQueue q;
  auto msg = [](const char* s) { return std::make_shared<const std::string>(s); };
  EXPECT_FALSE(q.push("a", msg("a1")));
  EXPECT_FALSE(q.push("b", msg("b1")));
  EXPECT_TRUE(q.push("a", msg("a2")));
  EXPECT_TRUE(q.push("a", msg("a3")));
  q.push_front(msg("snapshot"));
  EXPECT_EQ(q.size(), 3u);
  EXPECT_EQ(q.dropped(), 2u);
  EXPECT_EQ(*q.pop(), "snapshot");
  EXPECT_EQ(*q.pop(), "a3");  // keeps a's original position
  EXPECT_FALSE(q.push("a", msg("a4")));  // a popped: queued again, not conflated
  EXPECT_EQ(*q.pop(), "b1");
  EXPECT_EQ(*q.pop(), "a4");
  EXPECT_EQ(q.pop(), nullptr);
}

TEST_F(GatewayTest, StartFailsWhenTheTopicIsMissing) {
  FakeEventBus empty;
  RealtimeGateway gw(empty);
  Status s = gw.start();
  EXPECT_EQ(s.code(), ErrorCode::kNotFound);
  EXPECT_NE(s.message().find("normalized.ohlcv"), std::string::npos);
  gw.stop();  // idempotent on a never-started gateway
}

TEST_F(GatewayTest, DeliversLiveUpdatesOnlyToSubscribersOfTheSeries) {
  publish(make_candle(kT0 - 60'000));  // before start: history, not live
  RealtimeGateway gw(bus_);
  auto btc = std::make_shared<RecordingSubscriber>();
  auto btc5m = std::make_shared<RecordingSubscriber>();
  auto eth = std::make_shared<RecordingSubscriber>();
  gw.subscribe("binance:BTC-USDT:1m", btc);
  gw.subscribe("binance:BTC-USDT:5m", btc5m);
  gw.subscribe("binance:ETH-USDT:1m", eth);
  EXPECT_EQ(gw.subscriber_count(), 3u);
  ASSERT_TRUE(gw.start().is_ok());

  Candle c1 = make_candle(kT0, "46000.10000000", CandleStatus::kProvisional);
  Candle c2 = make_candle(kT0, "46000.20000000", CandleStatus::kFinal);
  publish(c1);
  publish(make_candle(kT0, "3000.00000000", CandleStatus::kFinal, "ETH-USDT"));
  publish(c2);
  ASSERT_TRUE(eventually([&] { return btc->count() == 2 && eth->count() == 1; }));
  EXPECT_EQ(btc->messages(), (std::vector<std::string>{candle_update_message(c1), candle_update_message(c2)}));
  EXPECT_EQ(btc5m->count(), 0u);
  EXPECT_EQ(gw.updates(), 3u);
  gw.stop();
  gw.stop();
}

TEST_F(GatewayTest, UnsubscribedAndDestroyedSubscribersReceiveNothing) {
  RealtimeGateway gw(bus_);
  auto kept = std::make_shared<RecordingSubscriber>();
  auto removed = std::make_shared<RecordingSubscriber>();
  auto dropped = std::make_shared<RecordingSubscriber>();
  gw.subscribe("binance:BTC-USDT:1m", kept);
  gw.subscribe("binance:BTC-USDT:1m", removed);
  gw.subscribe("binance:BTC-USDT:1m", dropped);
  gw.unsubscribe("binance:BTC-USDT:1m", removed.get());
  gw.unsubscribe("binance:BTC-USDT:1m", removed.get());  // no-op
  EXPECT_EQ(gw.subscriber_count(), 2u);
  std::weak_ptr<RecordingSubscriber> weak = dropped;
  dropped.reset();  // a closed connection that forgot to unsubscribe is skipped
  ASSERT_TRUE(gw.start().is_ok());
  publish(make_candle(kT0));
  ASSERT_TRUE(eventually([&] { return kept->count() == 1; }));
  EXPECT_EQ(removed->count(), 0u);
  EXPECT_TRUE(weak.expired());
}

TEST_F(GatewayTest, SlowConsumerGetsOnlyTheLatestWhileOthersGetEverything) {
  RealtimeGateway gw(bus_);
  auto slow = std::make_shared<StalledSubscriber>("binance:BTC-USDT:1m");
  auto fast = std::make_shared<RecordingSubscriber>();
  gw.subscribe("binance:BTC-USDT:1m", slow);
  gw.subscribe("binance:BTC-USDT:1m", fast);
  ASSERT_TRUE(gw.start().is_ok());
  constexpr int kUpdates = 200;
  std::string last;
  for (int i = 0; i < kUpdates; ++i) {
    Candle c = make_candle(kT0, "46000.10000000", CandleStatus::kProvisional);
    c.trades = 3 + i;
    last = candle_update_message(c);
    publish(c);
  }
  ASSERT_TRUE(eventually([&] { return fast->count() == kUpdates; }));
  EXPECT_EQ(slow->queue.size(), 1u);
  EXPECT_EQ(slow->queue.dropped(), static_cast<uint64_t>(kUpdates - 1));
  EXPECT_EQ(*slow->queue.pop(), last);
  EXPECT_EQ(fast->messages().back(), last);
}

TEST_F(GatewayTest, PushLatencyIsMeasuredFromTheNewestTradesReceiveTime) {
  ManualClock clock(1'000 * kNsPerSec);
  RealtimeGateway gw(bus_, {}, clock);
  auto sub = std::make_shared<RecordingSubscriber>();
  gw.subscribe("binance:BTC-USDT:1m", sub);
  ASSERT_TRUE(gw.start().is_ok());
  std::string before = obs::render_text();
  publish(make_candle(kT0), clock.now_ns() - 3 * kNsPerMs);  // 3 ms old
  ASSERT_TRUE(eventually([&] { return sub->count() == 1; }));
  std::string after = obs::render_text();
  auto bucket = [](const std::string& text, const std::string& le) {
    std::string key = "tickflow_realtime_push_latency_seconds_bucket{le=\"" + le + "\"} ";
    size_t p = text.find(key);
    return p == std::string::npos ? -1.0 : std::stod(text.substr(p + key.size()));
  };
  EXPECT_EQ(bucket(after, "0.0025") - bucket(before, "0.0025"), 0.0);
  EXPECT_EQ(bucket(after, "0.005") - bucket(before, "0.005"), 1.0);
}


IndicatorRecord make_indicators(const std::string& symbol, double sma) {
  IndicatorRecord r;
  r.exchange = Exchange::kBinance;
  r.symbol = symbol;
  r.timeframe = *Timeframe::parse("1m");
  r.open_time = kT0 * kNsPerMs;
  r.close_time = (kT0 + 59'999) * kNsPerMs;
  r.values = {{"sma20", sma}, {"rsi14", 55.5}};
  return r;
}

Alert make_ws_alert(const std::string& rule, const std::string& symbol) {
  Alert a;
  a.alert_id = rule + ":binance:" + symbol + ":1m:1:firing";
  a.rule = rule;
  a.kind = "price_cross";
  a.exchange = "binance";
  a.symbol = symbol;
  a.timeframe = "1m";
  a.ts_event = kT0 * kNsPerMs;
  a.value = 1.5;
  return a;
}

TEST_F(GatewayTest, IndicatorsGoToTheSeriesSubscribersAndAlertsToMatchingAlertSubscribers) {
  ASSERT_TRUE(bus_.create_topic({std::string(topics::kProcessedIndicators), 4, 0}).is_ok());
  ASSERT_TRUE(bus_.create_topic({std::string(topics::kProcessedAlerts), 2, 0}).is_ok());
  RealtimeGateway gw(bus_);
  auto btc = std::make_shared<RecordingSubscriber>();
  auto eth = std::make_shared<RecordingSubscriber>();
  auto all_alerts = std::make_shared<RecordingSubscriber>();
  auto rsi_eth = std::make_shared<RecordingSubscriber>();
  gw.subscribe("binance:BTC-USDT:1m", btc);
  gw.subscribe("binance:ETH-USDT:1m", eth);
  gw.subscribe_alerts({}, all_alerts);
  gw.subscribe_alerts(AlertFilter{{"rsi_high"}, {"ETH-USDT"}}, rsi_eth);
  EXPECT_EQ(gw.subscriber_count(), 4u);
  ASSERT_TRUE(gw.start().is_ok());

  IndicatorRecord ind = make_indicators("BTC-USDT", 46000.25);
  ASSERT_TRUE(bus_.publish(topics::kProcessedIndicators, "k", codec::encode_indicators(ind)).is_ok());
  const Alert a1 = make_ws_alert("btc_above", "BTC-USDT"), a2 = make_ws_alert("rsi_high", "ETH-USDT"),
              a3 = make_ws_alert("rsi_high", "BTC-USDT");
  for (const Alert& a : {a1, a2, a3})
    ASSERT_TRUE(bus_.publish(topics::kProcessedAlerts, "same-partition", codec::encode_alert(a)).is_ok());

  ASSERT_TRUE(eventually([&] { return btc->count() == 1 && all_alerts->count() == 3 && rsi_eth->count() == 1; }));
  const std::string msg = btc->messages()[0];
  EXPECT_EQ(msg, indicators_update_message(ind));
  EXPECT_EQ(msg.rfind(R"({"type":"indicators","exchange":"binance","symbol":"BTC-USDT","timeframe":"1m","provisional":false,"data":{)", 0), 0u) << msg;
  EXPECT_NE(msg.find(R"("values":{"sma20":46000.25,"rsi14":55.5})"), std::string::npos) << msg;
  EXPECT_EQ(eth->count(), 0u);
  EXPECT_EQ(all_alerts->messages(), (std::vector<std::string>{delivery::alert_ws_message(a1), delivery::alert_ws_message(a2),
                                                             delivery::alert_ws_message(a3)}));
  EXPECT_EQ(rsi_eth->messages(), std::vector<std::string>{delivery::alert_ws_message(a2)});
  EXPECT_EQ(gw.alerts(), 3u);
  EXPECT_EQ(gw.indicator_updates(), 1u);
  gw.unsubscribe_alerts(all_alerts.get());
  EXPECT_EQ(gw.subscriber_count(), 3u);
  gw.stop();
}

TEST(ConflatingQueue, PushBackNeverConflatesAndCountsPending) {
  ConflatingQueue q;
  auto msg = [](const char* s) { return std::make_shared<const std::string>(s); };
  EXPECT_EQ(q.push_back(msg("a1")), 1u);
  EXPECT_EQ(q.push_back(msg("a1")), 2u);  // identical alerts are both kept
  q.push("series", msg("c1"));
  EXPECT_EQ(q.push_back(msg("a2")), 4u);
  EXPECT_EQ(q.dropped(), 0u);
  EXPECT_EQ(*q.pop(), "a1");
  EXPECT_EQ(*q.pop(), "a1");
  EXPECT_EQ(*q.pop(), "c1");
  EXPECT_EQ(*q.pop(), "a2");
}

}  // namespace
}  // namespace tickflow::serving
