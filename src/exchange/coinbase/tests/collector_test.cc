// Coinbase collector against scripted fakes: FakeWs (frames + disconnects), FakeHttp (REST
// /products/{id}/trades with Coinbase's after= paging) and InMemoryBus; the subscription
// signature against the openssl CLI.
#include "exchange/coinbase/collector.h"

#include <gtest/gtest.h>

#include <charconv>
#include <cstdio>

#include "bus/testing/in_memory_bus.h"
#include "core/codec.h"
#include "core/topics.h"
#include "exchange/coinbase/auth.h"
#include "exchange/tests/fake_transport.h"

namespace tickflow::exchange::coinbase {
namespace {

using bus::testing::InMemoryBus;
using testing::FakeHttp;
using testing::HttpScript;
using testing::WsScript;
using transport::HttpResponse;

std::string iso_time(int64_t id) {
  // 2021-04-17T16:43:<ss>.<id µs>Z: increasing with the id.
  char buf[64];
  std::snprintf(buf, sizeof buf, "2021-04-17T16:43:%02d.%06dZ", static_cast<int>(10 + id / 1000000 % 40),
                static_cast<int>(id % 1000000));
  return buf;
}

// As in testdata/exchanges/coinbase (key order of the recording).
std::string match(int64_t id, std::string_view type = "match", std::string_view price = "14.7775",
                  std::string_view side = "sell") {
  return R"({"type":")" + std::string(type) + R"(","trade_id":)" + std::to_string(id) +
         R"(,"maker_order_id":"27fff20b-af29-4f45-8744-56dd1ef57dc0","taker_order_id":"1da6ce16-c8da-4732-9f71-6049f4c6aaf8","side":")" +
         std::string(side) + R"(","size":"0.04","price":")" + std::string(price) +
         R"(","product_id":"BTC-USD","sequence":)" + std::to_string(1000 + 2 * id) + R"(,"time":")" + iso_time(id) +
         R"("})";
}
std::string ticker(int64_t id) {
  return R"({"type":"ticker","sequence":)" + std::to_string(1000 + 2 * id) +
         R"(,"product_id":"BTC-USD","price":"14.7775","open_24h":"14.6647","volume_24h":"94381.28000000","low_24h":"14.3691","high_24h":"16.55","volume_30d":"2295579.57000000","best_bid":"14.7550","best_ask":"14.8060","side":"buy","time":")" +
         iso_time(id) + R"(","trade_id":)" + std::to_string(id) + R"(,"last_size":"0.04"})";
}
std::string heartbeat(int64_t last_trade_id) {
  return R"({"type":"heartbeat","sequence":)" + std::to_string(1001 + 2 * last_trade_id) + R"(,"last_trade_id":)" +
         std::to_string(last_trade_id) + R"(,"product_id":"BTC-USD","time":"2021-04-17T16:44:00.000000Z"})";
}
constexpr std::string_view kSubscriptions =
    R"({"type":"subscriptions","channels":[{"name":"heartbeat","product_ids":["BTC-USD"]},{"name":"matches","product_ids":["BTC-USD"]}]})";

int64_t query_int(std::string_view target, std::string_view name) {
  const std::string key = std::string(name) + "=";
  size_t pos = target.find(key);
  if (pos == std::string_view::npos) return -1;
  pos += key.size();
  int64_t v = -1;
  std::from_chars(target.data() + pos, target.data() + target.size(), v);
  return v;
}

// REST /products/BTC-USD/trades holding ids [first, *last], newest first, paged by after=.
FakeHttp::Handler rest_history(int64_t first, std::shared_ptr<std::atomic<int64_t>> last) {
  return [first, last](const transport::Url& url) -> Result<HttpResponse> {
    HttpResponse r;
    if (url.target.find("/products/BTC-USD/trades") != 0) {
      r.status = 404;
      r.body = R"({"message":"NotFound"})";
      return r;
    }
    const int64_t after = query_int(url.target, "after");
    const int64_t limit = query_int(url.target, "limit");
    const int64_t top = after < 0 ? last->load() : std::min(last->load(), after - 1);
    std::string body = "[";
    for (int64_t id = top; id >= first && id > top - limit; --id) {
      if (body.size() > 1) body += ',';
      body += R"({"time":")" + iso_time(id) + R"(","trade_id":)" + std::to_string(id) +
              R"(,"price":"14.7775","size":"0.04","side":"sell"})";
    }
    body += "]";
    r.status = 200;
    r.body = std::move(body);
    return r;
  };
}

CollectorConfig test_config() {
  CollectorConfig c;
  c.ws_url = "ws://127.0.0.1:9";
  c.rest_url = "http://127.0.0.1:9";
  c.symbols = {"BTC-USD"};
  c.backoff.base_delay = 1 * kNsPerMs;
  c.backoff.max_delay = 5 * kNsPerMs;
  c.backoff.breaker_cooldown = 5 * kNsPerMs;
  c.backfill_limit = 3;  // several pages per hole
  c.resolve_products = false;  // the fakes serve trades only (products: collector_book_test.cc)
  return c;
}

std::vector<Trade> raw_trades(const InMemoryBus& bus) {
  std::vector<Trade> out;
  for (const auto& r : bus.records(topics::kRawMarketData)) {
    EXPECT_EQ(r.key, "coinbase:BTC-USD");
    auto t = codec::decode_trade(r.value);
    EXPECT_TRUE(t.is_ok()) << t.status().to_string();
    if (t.is_ok()) out.push_back(*t);
  }
  return out;
}
std::vector<int64_t> raw_ids(const InMemoryBus& bus) {
  std::vector<int64_t> ids;
  for (const auto& t : raw_trades(bus)) ids.push_back(t.trade_id);
  return ids;
}
std::vector<int64_t> iota(int64_t from, int64_t to) {
  std::vector<int64_t> v;
  for (int64_t i = from; i <= to; ++i) v.push_back(i);
  return v;
}

class CoinbaseCollectorTest : public ::testing::Test {
 protected:
  std::unique_ptr<Collector> make(CollectorConfig config = test_config()) {
    return std::make_unique<Collector>(std::move(config), bus_, clock_, ws_.make(), http_.make());
  }
  bool wait_raw(size_t n) {
    return bus_.wait_until([&] { return bus_.count(topics::kRawMarketData) >= n; });
  }
  InMemoryBus bus_;
  ManualClock clock_{1618677817000000000};
  WsScript ws_;
  HttpScript http_;
  std::shared_ptr<std::atomic<int64_t>> rest_last_ = std::make_shared<std::atomic<int64_t>>(0);
};

TEST(CoinbaseSubscribe, MessageNamesProductsAndChannels) {
  CollectorConfig c = test_config();
  c.symbols = {"BTC-USD", "eth-usd", "BTC-USD"};
  c.channels = {"heartbeat", "matches", "ticker"};
  auto m = subscribe_message(c, "1618677817");
  ASSERT_TRUE(m.is_ok());
  EXPECT_EQ(*m,
            R"({"type":"subscribe","product_ids":["BTC-USD","ETH-USD"],"channels":["heartbeat","matches","ticker"]})");
  c.channels = {"level3"};
  EXPECT_NE(validate(c).message().find("channels[0]"), std::string::npos);
  c.channels = {"heartbeat"};
  EXPECT_NE(validate(c).message().find("matches"), std::string::npos);
  c.channels = {"matches"};
  c.api_key = "k";
  EXPECT_NE(validate(c).message().find("go together"), std::string::npos);
}

// The signature equals what the openssl CLI computes for the same secret and prehash string.
TEST(CoinbaseSubscribe, SignatureMatchesOpensslHmac) {
  const std::string secret_bytes = "tickflow-test-secret-0123456789\x01\xfe";
  const std::string secret_b64 = base64_encode(secret_bytes);
  auto back = base64_decode(secret_b64);
  ASSERT_TRUE(back.is_ok());
  EXPECT_EQ(*back, secret_bytes);
  std::string hex;
  for (unsigned char ch : secret_bytes) {
    char b[3];
    std::snprintf(b, sizeof b, "%02x", ch);
    hex += b;
  }
  const std::string timestamp = "1618677817";
  const std::string cmd = "printf '%s' '" + timestamp + "GET/users/self/verify' | openssl dgst -sha256 -mac HMAC -macopt hexkey:" +
                          hex + " -binary | openssl base64 -A";
  FILE* p = popen(cmd.c_str(), "r");
  ASSERT_NE(p, nullptr);
  char buf[256] = {};
  const size_t n = fread(buf, 1, sizeof buf - 1, p);
  ASSERT_EQ(pclose(p), 0);
  std::string expected(buf, n);
  while (!expected.empty() && (expected.back() == '\n' || expected.back() == '\r')) expected.pop_back();
  ASSERT_EQ(expected.size(), 44u) << expected;
  auto sig = subscription_signature(secret_b64, timestamp);
  ASSERT_TRUE(sig.is_ok()) << sig.status().to_string();
  EXPECT_EQ(*sig, expected);

  CollectorConfig c = test_config();
  c.api_key = "key-1";
  c.api_secret = secret_b64;
  c.api_passphrase = "pass phrase";
  auto m = subscribe_message(c, timestamp);
  ASSERT_TRUE(m.is_ok());
  EXPECT_EQ(*m, R"({"type":"subscribe","product_ids":["BTC-USD"],"channels":["heartbeat","matches"],"signature":")" +
                    expected + R"(","key":"key-1","passphrase":"pass phrase","timestamp":"1618677817"})");
  c.api_secret = "not base64!";
  EXPECT_FALSE(validate(c).is_ok());
}

TEST_F(CoinbaseCollectorTest, PublishesMatchesOnceAndNeverTickers) {
  http_.set_handler(rest_history(1, rest_last_));
  auto c = make();
  ASSERT_TRUE(c->start().is_ok());
  ws_.frame(std::string(kSubscriptions));
  ws_.frame(ticker(100));
  ws_.frame(match(100, "last_match"));
  ws_.frame(match(101, "match", "14.80", "buy"));
  ws_.frame(ticker(101));
  ws_.frame(match(101));  // a replayed match: duplicate
  ws_.frame(heartbeat(101));
  ASSERT_TRUE(bus_.wait_until([&] { return c->stats().frames >= 7; }));
  ASSERT_TRUE(wait_raw(2));
  c->stop();
  auto trades = raw_trades(bus_);
  ASSERT_EQ(trades.size(), 2u);
  EXPECT_EQ(trades[0].trade_id, 100);
  EXPECT_EQ(trades[0].taker_side, Side::kBuy);  // maker sold
  EXPECT_EQ(trades[1].trade_id, 101);
  EXPECT_EQ(trades[1].taker_side, Side::kSell);  // maker bought
  Decimal expected_price;
  ASSERT_TRUE(Decimal::parse("14.80", expected_price));
  EXPECT_EQ(trades[1].price.to_string(), expected_price.to_string());
  EXPECT_EQ(trades[0].exchange, Exchange::kCoinbase);
  EXPECT_EQ(trades[0].symbol, "BTC-USD");
  EXPECT_EQ(c->stats().tickers, 2u);
  EXPECT_EQ(c->stats().duplicates_dropped, 1u);
  EXPECT_EQ(c->stats().gaps, 0u);
  EXPECT_EQ(bus_.get_state("collector.coinbase", "BTC-USD")->value_or(""), "101");
  EXPECT_TRUE(http_.requests().empty());
}

TEST_F(CoinbaseCollectorTest, TradeIdGapIsBackfilledFromRestInOrder) {
  rest_last_->store(200);
  http_.set_handler(rest_history(1, rest_last_));
  auto c = make();
  ASSERT_TRUE(c->start().is_ok());
  ws_.frame(match(100));
  ws_.frame(match(108));  // 101..107 missing
  ws_.frame(match(109));
  ASSERT_TRUE(wait_raw(10));
  c->stop();
  EXPECT_EQ(raw_ids(bus_), iota(100, 109));
  EXPECT_EQ(c->stats().gaps, 1u);
  EXPECT_EQ(c->stats().backfilled, 7u);
  EXPECT_EQ(c->stats().unfilled_gaps, 0u);
  // Paged backwards from the trade that revealed the hole: after=108, then the CB-AFTER cursor.
  auto req = http_.requests();
  ASSERT_GE(req.size(), 3u);
  EXPECT_EQ(req[0], "/products/BTC-USD/trades?limit=3&after=108");
  EXPECT_EQ(req[1], "/products/BTC-USD/trades?limit=3&after=105");
}

TEST_F(CoinbaseCollectorTest, HeartbeatAheadOfTheLastTradeRevealsMissedTrades) {
  rest_last_->store(103);
  http_.set_handler(rest_history(1, rest_last_));
  auto c = make();
  ASSERT_TRUE(c->start().is_ok());
  ws_.frame(match(100));
  ws_.frame(heartbeat(103));  // 101..103 were never received
  ws_.frame(heartbeat(103));
  ws_.frame(match(104));
  ASSERT_TRUE(wait_raw(5));
  c->stop();
  EXPECT_EQ(raw_ids(bus_), iota(100, 104));
  EXPECT_EQ(c->stats().gaps, 1u);
  EXPECT_EQ(c->stats().backfilled, 3u);
}

TEST_F(CoinbaseCollectorTest, ReconnectHoleIsRepairedOnceSubscribed) {
  http_.set_handler(rest_history(1, rest_last_));
  auto c = make();
  ASSERT_TRUE(c->start().is_ok());
  ws_.frame(std::string(kSubscriptions));
  ws_.frame(match(100));
  ASSERT_TRUE(wait_raw(1));
  rest_last_->store(110);  // 101..110 happen while disconnected
  ws_.disconnect();
  ws_.frame(std::string(kSubscriptions));
  ws_.frame(match(110, "last_match"));
  ws_.frame(match(111));
  ASSERT_TRUE(wait_raw(12));
  c->stop();
  EXPECT_EQ(raw_ids(bus_), iota(100, 111));
  EXPECT_EQ(c->stats().reconnects, 1u);
  EXPECT_EQ(c->stats().backfilled, 10u);
  EXPECT_EQ(c->stats().unfilled_gaps, 0u);
  auto req = http_.requests();
  ASSERT_FALSE(req.empty());
  EXPECT_EQ(req[0], "/products/BTC-USD/trades?limit=3");  // the newest page first
}

TEST_F(CoinbaseCollectorTest, ResumesFromStoredIdAndDropsReplays) {
  bus_.create_default_topics();
  bus_.set_state("collector.coinbase", "BTC-USD", "105");
  rest_last_->store(107);
  http_.set_handler(rest_history(1, rest_last_));
  auto c = make();
  ASSERT_TRUE(c->start().is_ok());
  ws_.frame(match(105, "last_match"));
  ws_.frame(std::string(kSubscriptions));
  ws_.frame(match(108));
  ASSERT_TRUE(wait_raw(3));
  c->stop();
  EXPECT_EQ(raw_ids(bus_), iota(106, 108));
  EXPECT_EQ(c->stats().duplicates_dropped, 1u);
}

TEST_F(CoinbaseCollectorTest, BadFramesAreDeadLetteredAndErrorsSurfaced) {
  http_.set_handler(rest_history(1, rest_last_));
  auto c = make();
  ASSERT_TRUE(c->start().is_ok());
  const std::string good = match(100);
  ws_.frame(good.substr(0, good.size() / 2));  // truncated
  ws_.frame(match(100, "match", "abc"));        // bad price
  ws_.frame(R"({"type":"surprise","product_id":"BTC-USD"})");
  ws_.frame(R"({"type":"error","message":"Failed to subscribe","reason":"ZZZ-USD is not a valid product"})");
  ws_.frame(good);
  ASSERT_TRUE(wait_raw(1));
  ASSERT_TRUE(bus_.wait_until([&] { return bus_.count(topics::kDlqMarketData) >= 3; }));
  c->stop();
  std::vector<std::string> reasons;
  for (const auto& r : bus_.records(topics::kDlqMarketData)) {
    auto d = codec::decode_dead_letter(r.value);
    ASSERT_TRUE(d.is_ok());
    EXPECT_EQ(d->exchange, "coinbase");
    reasons.push_back(d->reason);
  }
  EXPECT_EQ(reasons, (std::vector<std::string>{"malformed_json", "bad_decimal", "unknown_type"}));
  EXPECT_EQ(c->stats().exchange_errors, 1u);
  EXPECT_EQ(c->stats().rejected, 3u);
  EXPECT_EQ(raw_ids(bus_), std::vector<int64_t>{100});
}

TEST_F(CoinbaseCollectorTest, CoinbaseErrorShowsInHealth) {
  auto c = make();
  ASSERT_TRUE(c->start().is_ok());
  ws_.frame(R"({"type":"error","message":"Failed to subscribe","reason":"ZZZ-USD is not a valid product"})");
  ASSERT_TRUE(bus_.wait_until([&] { return c->stats().exchange_errors >= 1; }));
  const ComponentHealth h = c->health();
  EXPECT_EQ(h.name, "collector.coinbase");
  EXPECT_EQ(h.state, HealthState::kDegraded);
  EXPECT_NE(h.detail.find("ZZZ-USD is not a valid product"), std::string::npos) << h.detail;
  c->stop();
  EXPECT_EQ(c->health().state, HealthState::kDown);
}

}  // namespace
}  // namespace tickflow::exchange::coinbase
