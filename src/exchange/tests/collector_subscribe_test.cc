// Binance subscriptions by SUBSCRIBE message (config.subscribe = "message"): the outbound rate
// limit (SlidingWindowLimiter on a fake clock), batching, order and ids, resubscription after a
// reconnect, and a rejected SUBSCRIBE surfaced with Binance's own text.
#include <gtest/gtest.h>

#include <chrono>

#include "bus/testing/in_memory_bus.h"
#include "exchange/binance/collector.h"
#include "exchange/collector/rate_limit.h"
#include "exchange/tests/fake_transport.h"

namespace tickflow::exchange::binance {
namespace {

using bus::testing::InMemoryBus;
using testing::HttpScript;
using testing::WsScript;

TEST(SlidingWindowLimiterTest, AtMostFiveMessagesInAnyRollingSecond) {
  collector::SlidingWindowLimiter lim(5, kNsPerSec);
  TimestampNs now = 1000 * kNsPerSec;  // the fake clock
  std::vector<TimestampNs> sent;
  for (int i = 0; i < 23; ++i) {
    now += lim.delay(now);  // wait as told
    sent.push_back(now);
    lim.record(now);
    now += 10 * kNsPerMs;   // the next request comes 10 ms later
  }
  // The first five go at once; each later one waits for the oldest of the last five to age out.
  EXPECT_EQ(sent[4] - sent[0], 40 * kNsPerMs);
  EXPECT_EQ(sent[5] - sent[0], kNsPerSec);
  EXPECT_EQ(sent[10] - sent[5], kNsPerSec);
  for (size_t i = 5; i < sent.size(); ++i) EXPECT_GE(sent[i] - sent[i - 5], kNsPerSec) << i;
  // A token bucket of 5/s would have let message 9 go at ~0.8 s: here it waits for 1 s.
  collector::SlidingWindowLimiter fresh(5, kNsPerSec);
  for (int i = 0; i < 5; ++i) fresh.record(0);
  EXPECT_EQ(fresh.delay(800 * kNsPerMs), 200 * kNsPerMs);
  EXPECT_EQ(fresh.delay(kNsPerSec), 0);
  fresh.reset();
  EXPECT_EQ(fresh.delay(0), 0);
}

class SubscribeTest : public ::testing::Test {
 protected:
  CollectorConfig config() {
    CollectorConfig c;
    c.ws_url = "ws://127.0.0.1:9/";
    c.rest_url = "http://127.0.0.1:9";
    c.symbols = {"BTC-USDT", "ETH-USDT", "SOL-USDT", "BNB-USDT"};
    c.book_ticker = true;  // 2 streams per symbol
    c.instruments = false;
    c.subscribe = "message";
    c.subscribe_batch = 1;  // 8 messages per connection
    c.backoff.base_delay = 1 * kNsPerMs;
    c.backoff.max_delay = 5 * kNsPerMs;
    return c;
  }
  InMemoryBus bus_;
  ManualClock clock_{1628952396572 * kNsPerMs};
  WsScript ws_;
  HttpScript http_;
};

TEST_F(SubscribeTest, SubscribesInOrderWithinTheRateLimitAndAgainAfterAReconnect) {
  Collector c(config(), bus_, clock_, ws_.make(), http_.make());
  ASSERT_TRUE(c.start().is_ok());
  // Counted after each send: once the count is 8, every message is in sent().
  ASSERT_TRUE(bus_.wait_until([&] { return c.stats().subscribe_messages == 8; }, std::chrono::seconds(10)));
  ASSERT_EQ(ws_.sent().size(), 8u);
  EXPECT_EQ(ws_.connect_urls().at(0), "ws://127.0.0.1:9/stream");
  const std::vector<std::string> want = {"btcusdt@aggTrade", "btcusdt@bookTicker", "ethusdt@aggTrade",
                                         "ethusdt@bookTicker", "solusdt@aggTrade", "solusdt@bookTicker",
                                         "bnbusdt@aggTrade", "bnbusdt@bookTicker"};
  auto sent = ws_.sent();
  auto meta = ws_.sent_meta();
  for (size_t i = 0; i < 8; ++i) {
    EXPECT_EQ(sent[i], R"({"method":"SUBSCRIBE","params":[")" + want[i] + R"("],"id":)" + std::to_string(i + 1) + "}");
  }
  // The 6th message waited for the 1st to be a second old (real time here; the limiter itself
  // is tested on a fake clock above).
  EXPECT_GE(meta[5].first - meta[0].first, std::chrono::milliseconds(990));
  EXPECT_EQ(c.stats().subscribe_messages, 8u);

  ws_.frame(R"({"result":null,"id":1})");
  ws_.disconnect();
  ASSERT_TRUE(bus_.wait_until([&] { return ws_.sent().size() == 16; }, std::chrono::seconds(10)));
  sent = ws_.sent();
  meta = ws_.sent_meta();
  for (size_t i = 0; i < 8; ++i) {
    EXPECT_EQ(meta[8 + i].second, 2u);
    EXPECT_NE(sent[8 + i].find("\"" + want[i] + "\""), std::string::npos) << sent[8 + i];  // same order
    EXPECT_NE(sent[8 + i].find("\"id\":" + std::to_string(9 + i)), std::string::npos);
  }
  // A new connection has its own budget: its first five go at once.
  EXPECT_LT(meta[12].first - meta[8].first, std::chrono::milliseconds(500));
  EXPECT_EQ(c.stats().subscribe_errors, 0u);
  c.stop();
}

TEST_F(SubscribeTest, RejectedSubscribeSurfacesBinancesTextInHealth) {
  auto cfg = config();
  cfg.subscribe_batch = 200;  // one message
  Collector c(cfg, bus_, clock_, ws_.make(), http_.make());
  ASSERT_TRUE(c.start().is_ok());
  ASSERT_TRUE(bus_.wait_until([&] { return ws_.sent().size() == 1; }));
  EXPECT_EQ(ws_.sent()[0],
            R"({"method":"SUBSCRIBE","params":["btcusdt@aggTrade","btcusdt@bookTicker","ethusdt@aggTrade",)"
            R"("ethusdt@bookTicker","solusdt@aggTrade","solusdt@bookTicker","bnbusdt@aggTrade","bnbusdt@bookTicker"],"id":1})");
  ws_.frame(R"({"error":{"code":2,"msg":"Invalid request: unknown stream 'solusdt@bookTicker'"},"id":1})");
  ASSERT_TRUE(bus_.wait_until([&] { return c.stats().subscribe_errors == 1; }));
  const auto h = c.health();
  EXPECT_EQ(h.state, HealthState::kDegraded);
  EXPECT_NE(h.detail.find("Invalid request: unknown stream 'solusdt@bookTicker' (code 2)"), std::string::npos)
      << h.detail;
  c.stop();
}

TEST(SubscribeConfigTest, RejectsBadValues) {
  CollectorConfig c;
  c.symbols = {"BTC-USDT"};
  c.subscribe = "both";
  EXPECT_NE(validate(c).message().find("collector.binance.subscribe"), std::string::npos);
  c.subscribe = "message";
  c.subscribe_batch = 0;
  EXPECT_NE(validate(c).message().find("subscribe_batch"), std::string::npos);
  c.subscribe_batch = 1025;
  EXPECT_FALSE(validate(c).is_ok());
}

}  // namespace
}  // namespace tickflow::exchange::binance
