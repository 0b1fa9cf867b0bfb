// The Binance collector's depth books against scripted fakes (FakeWs frames + disconnects,
// FakeHttp REST depth snapshots): bridging, stale diffs, gaps, failed bridges and reconnects,
// each resync with a new REST snapshot and counted by reason.
#include <gtest/gtest.h>

#include <algorithm>
#include <deque>
#include <mutex>

#include "bus/testing/in_memory_bus.h"
#include "core/topics.h"
#include "exchange/binance/collector.h"
#include "exchange/tests/fake_transport.h"

namespace tickflow::exchange::binance {
namespace {

using bus::testing::InMemoryBus;
using testing::HttpScript;
using testing::WsScript;
using transport::HttpResponse;

constexpr int64_t kT0 = 1628952396572;  // ms

std::string diff(int64_t first, int64_t last, std::string bids = "[]", std::string asks = "[]") {
  return R"({"stream":"btcusdt@depth@100ms","data":{"e":"depthUpdate","E":)" + std::to_string(kT0 + last) +
         R"(,"s":"BTCUSDT","U":)" + std::to_string(first) + R"(,"u":)" + std::to_string(last) + R"(,"b":)" + bids +
         R"(,"a":)" + asks + "}}";
}

std::string snapshot(int64_t last_update_id, std::string bids = R"([["100.00","1.0"],["99.00","2.0"]])",
                     std::string asks = R"([["101.00","1.5"],["102.00","3.0"]])") {
  return R"({"lastUpdateId":)" + std::to_string(last_update_id) + R"(,"bids":)" + bids + R"(,"asks":)" + asks + "}";
}

class CollectorBookTest : public ::testing::Test {
 protected:
  CollectorBookTest() {
    // Depth snapshots served in order from snapshots_ (the last one repeats).
    http_.set_handler([this](const transport::Url& url) -> Result<HttpResponse> {
      HttpResponse r;
      std::lock_guard lk(mu_);
      if (url.target.rfind("/api/v3/depth?", 0) != 0 || snapshots_.empty()) {
        r.status = 404;
        r.body = R"({"code":-1000,"msg":"not scripted"})";
        return r;
      }
      r.status = snapshots_.front().first;
      r.body = snapshots_.front().second;
      if (r.status != 200) r.headers.emplace_back("Retry-After", "0");
      if (snapshots_.size() > 1) snapshots_.pop_front();
      return r;
    });
  }
  void serve(std::string body, int status = 200) {
    std::lock_guard lk(mu_);
    snapshots_.emplace_back(status, std::move(body));
  }
  CollectorConfig config() {
    CollectorConfig c;
    c.ws_url = "ws://127.0.0.1:9";
    c.rest_url = "http://127.0.0.1:9";
    c.symbols = {"BTC-USDT"};
    c.backoff.base_delay = 1 * kNsPerMs;
    c.backoff.max_delay = 5 * kNsPerMs;
    c.ban_min_wait = 1 * kNsPerMs;
    c.rate_limit_default_wait = 1 * kNsPerMs;
    c.instruments = false;
    c.book = true;
    c.book_interval = 0;
    c.book_retry_delay = 1 * kNsPerMs;
    return c;
  }
  std::unique_ptr<Collector> start(CollectorConfig c) {
    auto col = std::make_unique<Collector>(std::move(c), bus_, clock_, ws_.make(), http_.make());
    EXPECT_TRUE(col->start().is_ok());
    return col;
  }
  size_t depth_requests() const {
    auto r = http_.requests();
    return static_cast<size_t>(std::count_if(r.begin(), r.end(), [](const std::string& t) {
      return t == "/api/v3/depth?symbol=BTCUSDT&limit=1000";
    }));
  }
  bool wait_for(const std::function<bool()>& pred) { return bus_.wait_until(pred); }
  bool synced_at(const Collector& c, int64_t u) {
    return wait_for([&] {
      auto b = c.book("BTCUSDT");
      return b && b->in_sync && b->update_id == u;
    });
  }

  std::mutex mu_;
  std::deque<std::pair<int, std::string>> snapshots_;
  InMemoryBus bus_;
  ManualClock clock_{kT0 * kNsPerMs};
  WsScript ws_;
  HttpScript http_;
};

TEST_F(CollectorBookTest, SubscribesDepthAndBridgesTheRestSnapshot) {
  serve(snapshot(101));
  ws_.frame(diff(100, 101, R"([["100.00","9.0"]])"));  // u <= lastUpdateId: dropped
  ws_.frame(diff(102, 103, R"([["100.00","5.0"],["99.00","0.00000000"]])", R"([["101.50","0.5"]])"));
  auto c = start(config());
  ASSERT_TRUE(synced_at(*c, 103));
  EXPECT_EQ(ws_.connect_urls().at(0), "ws://127.0.0.1:9/stream?streams=btcusdt@aggTrade/btcusdt@depth@100ms");
  ws_.frame(diff(104, 104, "[]", R"([["101.00","0"]])"));
  ASSERT_TRUE(synced_at(*c, 104));
  auto b = c->book("BTC-USDT");
  ASSERT_TRUE(b.has_value());
  ASSERT_EQ(b->top.bids.size(), 1u);  // 99.00 removed by the bridged diff
  EXPECT_EQ(b->top.bids[0].price.to_string(), "100.00");
  EXPECT_EQ(b->top.bids[0].quantity.to_string(), "5.0");  // absolute: 5.0, not 9.0 (the stale diff)
  ASSERT_EQ(b->top.asks.size(), 2u);
  EXPECT_EQ(b->top.asks[0].price.to_string(), "101.50");
  EXPECT_EQ(b->top.asks[1].price.to_string(), "102.00");
  const auto s = c->stats();
  EXPECT_EQ(s.depth_buffered, 2u);
  EXPECT_EQ(s.depth_applied, 1u);
  EXPECT_EQ(s.book_snapshots, 1u);
  EXPECT_EQ(depth_requests(), 1u);
  EXPECT_EQ(s.resyncs_sequence_gap + s.resyncs_bridge_failed + s.resyncs_reconnect, 0u);
  EXPECT_EQ(s.crossed_books, 0u);
  EXPECT_EQ(bus_.count(topics::kRawMarketData), 0u);  // a book is never a trade
  c->stop();
}

TEST_F(CollectorBookTest, LiveDiffsOlderThanTheSnapshotAreDropped) {
  serve(snapshot(110));
  ws_.frame(diff(100, 101));
  auto c = start(config());
  ASSERT_TRUE(synced_at(*c, 110));  // the snapshot is newer than everything buffered
  ws_.frame(diff(105, 108));        // u <= 110: stale
  ws_.frame(diff(109, 110));        // stale
  ws_.frame(diff(109, 112, R"([["100.00","4.0"]])"));  // U <= 111 <= u: bridges
  ASSERT_TRUE(synced_at(*c, 112));
  ws_.frame(diff(113, 113));
  ASSERT_TRUE(synced_at(*c, 113));
  const auto s = c->stats();
  EXPECT_EQ(s.depth_stale, 2u);
  EXPECT_EQ(s.depth_applied, 2u);
  EXPECT_EQ(c->book("BTCUSDT")->top.bids[0].quantity.to_string(), "4.0");
  EXPECT_EQ(depth_requests(), 1u);
  c->stop();
}

TEST_F(CollectorBookTest, SequenceGapResyncsFromANewRestSnapshot) {
  serve(snapshot(101));
  serve(snapshot(120, R"([["98.00","7.0"]])", R"([["103.00","1.0"]])"));
  ws_.frame(diff(102, 103));
  auto c = start(config());
  ASSERT_TRUE(synced_at(*c, 103));
  ws_.frame(diff(106, 107));  // 104..105 missing
  ASSERT_TRUE(synced_at(*c, 120));
  ws_.frame(diff(121, 121));
  ASSERT_TRUE(synced_at(*c, 121));
  const auto s = c->stats();
  EXPECT_EQ(s.resyncs_sequence_gap, 1u);
  EXPECT_EQ(s.resyncs_bridge_failed, 0u);
  EXPECT_EQ(depth_requests(), 2u);
  auto b = c->book("BTCUSDT");
  ASSERT_EQ(b->top.bids.size(), 1u);  // the old book was discarded, not merged
  EXPECT_EQ(b->top.bids[0].price.to_string(), "98.00");
  c->stop();
}

TEST_F(CollectorBookTest, SnapshotOlderThanTheStreamFailsToBridgeAndIsFetchedAgain) {
  serve(snapshot(100));  // the first diff buffered is U=105: 100 + 1 < 105
  serve(snapshot(106));
  ws_.frame(diff(105, 107, R"([["100.00","2.5"]])"));
  auto c = start(config());
  ASSERT_TRUE(synced_at(*c, 107));
  const auto s = c->stats();
  EXPECT_EQ(s.resyncs_bridge_failed, 1u);
  EXPECT_EQ(depth_requests(), 2u);
  EXPECT_EQ(c->book("BTCUSDT")->top.bids[0].quantity.to_string(), "2.5");
  c->stop();
}

TEST_F(CollectorBookTest, FirstLiveDiffThatDoesNotBridgeTheSnapshotResyncs) {
  serve(snapshot(110));  // newer than everything buffered: the next live diff must bridge 111
  serve(snapshot(130));
  ws_.frame(diff(100, 101));
  auto c = start(config());
  ASSERT_TRUE(synced_at(*c, 110));
  ws_.frame(diff(112, 113));  // U > lastUpdateId + 1
  ASSERT_TRUE(synced_at(*c, 130));
  const auto s = c->stats();
  EXPECT_EQ(s.resyncs_bridge_failed, 1u);
  EXPECT_EQ(s.resyncs_sequence_gap, 0u);
  EXPECT_EQ(depth_requests(), 2u);
  c->stop();
}

TEST_F(CollectorBookTest, ReconnectResyncsEveryBook) {
  serve(snapshot(101));
  serve(snapshot(200));
  ws_.frame(diff(101, 102));
  auto c = start(config());
  ASSERT_TRUE(synced_at(*c, 102));
  ws_.disconnect();
  ws_.frame(diff(199, 201, R"([["97.00","1.0"]])"));
  ASSERT_TRUE(synced_at(*c, 201));
  const auto s = c->stats();
  EXPECT_EQ(s.reconnects, 1u);
  EXPECT_EQ(s.resyncs_reconnect, 1u);
  EXPECT_EQ(s.resyncs_sequence_gap + s.resyncs_bridge_failed, 0u);
  EXPECT_EQ(depth_requests(), 2u);
  c->stop();
}

TEST_F(CollectorBookTest, SnapshotRateLimitIsHonouredAndCrossedBooksCounted) {
  serve("{}", 429);
  serve(snapshot(101, R"([["101.00","1.0"]])", R"([["100.50","1.0"]])"));  // bid >= ask
  ws_.frame(diff(101, 102));
  auto c = start(config());
  ASSERT_TRUE(synced_at(*c, 102));
  const auto s = c->stats();
  EXPECT_EQ(s.http_rate_limited, 1u);
  EXPECT_EQ(depth_requests(), 2u);  // the 429 was retried by the RestFetcher
  EXPECT_GE(s.crossed_books, 1u);
  c->stop();
}

// exchangeInfo at start: an unknown symbol is not subscribed and named in /health; the known
// one is collected.
TEST(CollectorInstrumentsTest, UnknownSymbolIsNotSubscribedAndNamedInHealth) {
  InMemoryBus bus;
  ManualClock clock{kT0 * kNsPerMs};
  WsScript ws;
  HttpScript http;
  http.set_handler([](const transport::Url& url) -> Result<HttpResponse> {
    HttpResponse r;
    r.status = 200;
    if (url.target == "/api/v3/exchangeInfo") {
      r.body = R"({"timezone":"UTC","serverTime":1,"rateLimits":[],"exchangeFilters":[],"symbols":[)"
               R"({"symbol":"BTCUSDT","status":"TRADING","baseAsset":"BTC","quoteAsset":"USDT","filters":[)"
               R"({"filterType":"PRICE_FILTER","minPrice":"0.01","maxPrice":"1000000","tickSize":"0.01"},)"
               R"({"filterType":"LOT_SIZE","minQty":"0.00001","maxQty":"9000","stepSize":"0.00001"}]},)"
               R"({"symbol":"ETHUSDT","status":"BREAK","baseAsset":"ETH","quoteAsset":"USDT","filters":[]}]})";
    } else {
      r.status = 404;
    }
    return r;
  });
  CollectorConfig c;
  c.ws_url = "ws://127.0.0.1:9";
  c.rest_url = "http://127.0.0.1:9";
  c.symbols = {"BTC-USDT", "FOO-USDT", "ETH-USDT"};
  Collector col(c, bus, clock, ws.make(), http.make());
  ASSERT_TRUE(col.start().is_ok());
  ASSERT_TRUE(bus.wait_until([&] { return !ws.connect_urls().empty(); }));
  EXPECT_EQ(ws.connect_urls()[0], "ws://127.0.0.1:9/stream?streams=btcusdt@aggTrade");
  ASSERT_TRUE(bus.wait_until([&] { return col.health().detail.find("FOO-USDT") != std::string::npos; }));
  const auto h = col.health();
  EXPECT_EQ(h.state, HealthState::kDegraded);
  EXPECT_NE(h.detail.find("unknown binance symbol(s): FOO-USDT"), std::string::npos) << h.detail;
  EXPECT_NE(h.detail.find("not trading: ETH-USDT"), std::string::npos) << h.detail;
  EXPECT_EQ(col.stats().unknown_symbols, 2u);
  ws.frame(R"({"stream":"btcusdt@aggTrade","data":{"e":"aggTrade","E":2,"s":"BTCUSDT","a":5,"p":"1.00","q":"1.0","f":1,"l":1,"T":1,"m":true,"M":true}})");
  ASSERT_TRUE(bus.wait_until([&] { return bus.count(topics::kRawMarketData) == 1; }));
  col.stop();

  // Nothing left to collect: down, never connects.
  WsScript ws2;
  c.symbols = {"FOO-USDT"};
  Collector none(c, bus, clock, ws2.make(), http.make());
  ASSERT_TRUE(none.start().is_ok());
  ASSERT_TRUE(bus.wait_until([&] { return none.health().detail.find("nothing to collect") != std::string::npos; }));
  EXPECT_EQ(none.health().state, HealthState::kDown);
  none.stop();
  EXPECT_TRUE(ws2.connect_urls().empty());
  EXPECT_NE(none.health().detail.find("FOO-USDT"), std::string::npos);
}

TEST(CollectorBookConfigTest, StreamsAndLimits) {
  CollectorConfig c;
  c.symbols = {"BTC-USDT", "ETH-USDT"};
  c.book = true;
  c.book_ticker = true;
  EXPECT_EQ(*combined_stream_url(c),
            "wss://stream.binance.com:9443/stream?streams=btcusdt@aggTrade/btcusdt@depth@100ms/btcusdt@bookTicker/"
            "ethusdt@aggTrade/ethusdt@depth@100ms/ethusdt@bookTicker");
  c.book_snapshot_limit = 0;
  EXPECT_NE(validate(c).message().find("book_snapshot_limit"), std::string::npos);
  c.book_snapshot_limit = 1000;
  c.symbols.clear();
  for (int i = 0; i < 342; ++i) {  // 3 streams each
    c.symbols.push_back(std::string{'X', static_cast<char>('A' + i / 26), static_cast<char>('A' + i % 26)} + "USDT");
  }
  const Status st = validate(c);
  EXPECT_FALSE(st.is_ok());
  EXPECT_NE(st.message().find("1024"), std::string::npos) << st.message();
  c.symbols.resize(341);  // 1023 streams
  EXPECT_TRUE(validate(c).is_ok()) << validate(c).message();
}

}  // namespace
}  // namespace tickflow::exchange::binance
