// Collector against scripted fakes: FakeWs (frames + disconnects), FakeHttp (REST aggTrades)
// and InMemoryBus (bus/testing/in_memory_bus.h), plus one run on the real embedded bus.
#include "exchange/binance/collector.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <map>

#include <unistd.h>

#include "bus/testing/in_memory_bus.h"
#include "core/codec.h"
#include "core/topics.h"
#include "exchange/tests/fake_transport.h"
#include "observability/metrics.h"
#ifdef TICKFLOW_HAVE_EMBEDDED_BUS
#include "bus/factory.h"
#endif

namespace tickflow::exchange::binance {
namespace {

using bus::testing::InMemoryBus;
using testing::FakeHttp;
using testing::HttpScript;
using testing::WsScript;
using transport::HttpResponse;

constexpr int64_t kT0 = 1628952396572;  // ms

std::string agg_frame(int64_t id, std::string_view symbol = "BTCUSDT", std::string_view price = "46000.10") {
  std::string lower(symbol);
  std::transform(lower.begin(), lower.end(), lower.begin(), ::tolower);
  return R"({"stream":")" + lower + R"(@aggTrade","data":{"e":"aggTrade","E":)" + std::to_string(kT0 + id + 1) +
         R"(,"s":")" + std::string(symbol) + R"(","a":)" + std::to_string(id) + R"(,"p":")" + std::string(price) +
         R"(","q":"0.50000000","f":)" + std::to_string(id * 10) + R"(,"l":)" + std::to_string(id * 10 + 1) +
         R"(,"T":)" + std::to_string(kT0 + id) + R"(,"m":true,"M":true}})";
}

std::string trade_frame(int64_t id) {
  return R"({"stream":"btcusdt@trade","data":{"e":"trade","E":)" + std::to_string(kT0 + id + 1) +
         R"(,"s":"BTCUSDT","t":)" + std::to_string(id) + R"(,"p":"46000.10","q":"0.5","b":1,"a":2,"T":)" +
         std::to_string(kT0 + id) + R"(,"m":false,"M":true}})";
}

std::string rest_item(int64_t id) {
  return R"({"a":)" + std::to_string(id) + R"(,"p":"46000.10","q":"0.50000000","f":)" + std::to_string(id * 10) +
         R"(,"l":)" + std::to_string(id * 10 + 1) + R"(,"T":)" + std::to_string(kT0 + id) + R"(,"m":true,"M":true})";
}

int64_t query_int(std::string_view target, std::string_view name) {
  const std::string key = std::string(name) + "=";
  size_t pos = target.find(key);
  if (pos == std::string_view::npos) return -1;
  pos += key.size();
  int64_t v = -1;
  std::from_chars(target.data() + pos, target.data() + target.size(), v);
  return v;
}

// A REST aggTrades endpoint holding ids [first, last] of BTCUSDT, paged like Binance.
FakeHttp::Handler rest_history(int64_t first, int64_t last) {
  return [first, last](const transport::Url& url) -> Result<HttpResponse> {
    const int64_t from = std::max(first, query_int(url.target, "fromId"));
    const int64_t limit = query_int(url.target, "limit");
    std::string body = "[";
    for (int64_t id = from; id <= last && id < from + limit; ++id) {
      if (body.size() > 1) body += ',';
      body += rest_item(id);
    }
    body += "]";
    HttpResponse r;
    r.status = 200;
    r.body = std::move(body);
    return r;
  };
}

CollectorConfig test_config() {
  CollectorConfig c;
  c.ws_url = "ws://127.0.0.1:9";
  c.rest_url = "http://127.0.0.1:9";
  c.symbols = {"BTC-USDT"};
  c.backoff.base_delay = 1 * kNsPerMs;
  c.backoff.max_delay = 5 * kNsPerMs;
  c.backoff.breaker_cooldown = 5 * kNsPerMs;
  c.ban_min_wait = 1 * kNsPerMs;
  c.rate_limit_default_wait = 1 * kNsPerMs;
  c.stale_timeout = 30 * kNsPerSec;
  c.instruments = false;  // the scripted REST serves aggTrades only (instruments: collector_book_test.cc)
  return c;
}

std::vector<int64_t> raw_ids(const InMemoryBus& bus) {
  std::vector<int64_t> ids;
  for (const auto& r : bus.records(topics::kRawMarketData)) {
    auto t = codec::decode_trade(r.value);
    EXPECT_TRUE(t.is_ok()) << t.status().to_string();
    if (t.is_ok()) ids.push_back(t->trade_id);
  }
  return ids;
}

std::vector<int64_t> iota(int64_t from, int64_t to) {
  std::vector<int64_t> v;
  for (int64_t i = from; i <= to; ++i) v.push_back(i);
  return v;
}

class CollectorTest : public ::testing::Test {
 protected:
  std::unique_ptr<Collector> make(CollectorConfig config) {
    return std::make_unique<Collector>(std::move(config), bus_, clock_, ws_.make(), http_.make());
  }
  bool wait_raw(size_t n) {
    return bus_.wait_until([&] { return bus_.count(topics::kRawMarketData) >= n; });
  }
  std::optional<std::string> state(std::string_view key) {
    auto s = bus_.get_state("collector.binance", key);
    return s.is_ok() ? *s : std::nullopt;
  }

  InMemoryBus bus_;
  ManualClock clock_{kT0 * kNsPerMs + 5 * kNsPerMs};
  WsScript ws_;
  HttpScript http_;
};

TEST(CollectorConfigTest, BuildsCombinedStreamUrl) {
  CollectorConfig c;
  c.symbols = {"BTC-USDT", "ethusdt", "BTCUSDT"};
  auto url = combined_stream_url(c);
  ASSERT_TRUE(url.is_ok()) << url.status().to_string();
  EXPECT_EQ(*url, "wss://stream.binance.com:9443/stream?streams=btcusdt@aggTrade/ethusdt@aggTrade");
  c.ws_url = "ws://127.0.0.1:4567/";
  c.trade_stream = "trade";
  c.symbols = {"SOL-USDT"};
  EXPECT_EQ(*combined_stream_url(c), "ws://127.0.0.1:4567/stream?streams=solusdt@trade");
}

TEST(CollectorConfigTest, RejectsBadConfigNamingTheKey) {
  CollectorConfig c;
  EXPECT_NE(validate(c).message().find("symbols"), std::string::npos);
  c.symbols = {"BTC-USDT"};
  EXPECT_TRUE(validate(c).is_ok());
  c.trade_stream = "depth";
  EXPECT_NE(validate(c).message().find("trade_stream"), std::string::npos);
  c.trade_stream = "trade";
  c.ws_url = "https://stream.binance.com";
  EXPECT_NE(validate(c).message().find("ws_url"), std::string::npos);
  c.ws_url = "wss://stream.binance.com:9443";
  c.rest_url = "nope";
  EXPECT_NE(validate(c).message().find("rest_url"), std::string::npos);
  c.rest_url = "https://api.binance.com";
  c.symbols = {"NOTASYMBOL"};
  EXPECT_NE(validate(c).message().find("symbols[0]"), std::string::npos);
}

TEST_F(CollectorTest, PublishesTradesKeyedByInstrumentAndStoresLastId) {
  auto c = make(test_config());
  EXPECT_EQ(c->health().state, HealthState::kDown);
  ws_.frame(agg_frame(100));
  ws_.frame(agg_frame(101));
  ws_.frame(agg_frame(102));
  ASSERT_TRUE(c->start().is_ok());
  ASSERT_TRUE(wait_raw(3));
  EXPECT_TRUE(bus_.wait_until([&] { return state("BTCUSDT") == "102"; }));
  const auto records = bus_.records(topics::kRawMarketData);
  ASSERT_EQ(records.size(), 3u);
  for (const auto& r : records) EXPECT_EQ(r.key, "binance:BTC-USDT");
  auto t = codec::decode_trade(records[0].value);
  ASSERT_TRUE(t.is_ok());
  EXPECT_EQ(t->symbol, "BTC-USDT");
  EXPECT_EQ(t->exchange_symbol, "BTCUSDT");
  EXPECT_EQ(t->price.to_string(), "46000.10");
  EXPECT_EQ(t->taker_side, Side::kSell);  // m=true: the buyer was the maker
  EXPECT_EQ(t->ts_event, (kT0 + 100) * kNsPerMs);
  EXPECT_EQ(t->ts_recv, clock_.now_ns());
  EXPECT_EQ(raw_ids(bus_), iota(100, 102));
  EXPECT_EQ(c->health().state, HealthState::kUp);
  ASSERT_EQ(ws_.connect_urls().size(), 1u);
  EXPECT_EQ(ws_.connect_urls()[0], "ws://127.0.0.1:9/stream?streams=btcusdt@aggTrade");
  EXPECT_TRUE(bus_.topic(topics::kRawMarketData).is_ok());
  EXPECT_TRUE(bus_.topic(topics::kDlqMarketData).is_ok());
  c->stop();
  c->stop();
  EXPECT_EQ(c->health().state, HealthState::kDown);
  EXPECT_NE(obs::render_text().find("tickflow_collector_messages_total{exchange=\"binance\",kind=\"aggTrade\"}"),
            std::string::npos);
}

TEST_F(CollectorTest, MalformedFramesAreDeadLetteredWithReasonAndIgnoredKindsCounted) {
  auto c = make(test_config());
  ws_.frame("{not json");
  ws_.frame(agg_frame(100, "BTCUSDT", "abc"));
  ws_.frame(agg_frame(7, "ETHUSDT"));  // valid, but not subscribed
  ws_.frame(R"({"result":null,"id":1})");
  ws_.frame(R"({"stream":"btcusdt@depth@100ms","data":{"e":"depthUpdate","E":1,"s":"BTCUSDT","U":1,"u":2,"b":[],"a":[]}})");
  ws_.frame(agg_frame(100));
  ASSERT_TRUE(c->start().is_ok());
  ASSERT_TRUE(wait_raw(1));
  ASSERT_TRUE(bus_.wait_until([&] { return bus_.count(topics::kDlqMarketData) >= 3; }));
  const auto dlq = bus_.records(topics::kDlqMarketData);
  ASSERT_EQ(dlq.size(), 3u);
  std::vector<std::string> reasons;
  for (const auto& r : dlq) {
    auto d = codec::decode_dead_letter(r.value);
    ASSERT_TRUE(d.is_ok()) << d.status().to_string();
    EXPECT_EQ(d->source_topic, "collector");
    EXPECT_EQ(d->exchange, "binance");
    EXPECT_FALSE(d->detail.empty());
    EXPECT_GT(d->ts_recv, 0);
    reasons.push_back(d->reason);
  }
  EXPECT_EQ(reasons, (std::vector<std::string>{"malformed_json", "bad_decimal", "unknown_symbol"}));
  EXPECT_EQ(codec::decode_dead_letter(dlq[0].value)->payload, "{not json");
  const auto stats = c->stats();
  EXPECT_EQ(stats.rejected, 3u);
  EXPECT_EQ(stats.ignored, 2u);
  EXPECT_EQ(stats.frames, 6u);
  EXPECT_EQ(raw_ids(bus_), std::vector<int64_t>{100});
  EXPECT_NE(obs::render_text().find("reason=\"malformed_json\""), std::string::npos);
  EXPECT_EQ(c->health().state, HealthState::kUp);
}

TEST_F(CollectorTest, ValidatorRejectionsAreDeadLetteredWithTheReasonAndNothingIsLost) {
  auto config = test_config();
  config.validation.max_event_age = kNsPerHour;
  auto c = make(config);
  auto frame = [](int64_t id, std::string_view price, std::string_view qty, int64_t t_ms) {
    return R"({"stream":"btcusdt@aggTrade","data":{"e":"aggTrade","E":1,"s":"BTCUSDT","a":)" + std::to_string(id) +
           R"(,"p":")" + std::string(price) + R"(","q":")" + std::string(qty) + R"(","f":)" + std::to_string(id * 10) +
           R"(,"l":)" + std::to_string(id * 10) + R"(,"T":)" + std::to_string(t_ms) + R"(,"m":true,"M":true}})";
  };
  ws_.frame(agg_frame(100));
  ws_.frame(frame(101, "0.00000000", "1.0", kT0));                 // non-positive price
  ws_.frame(frame(102, "46000.10", "0.00000000", kT0));            // non-positive quantity
  ws_.frame(frame(103, "46000.10", "1.0", kT0 + 6 * 60 * 1000));   // 6 min ahead of receive time
  ws_.frame(frame(104, "46000.10", "1.0", kT0 - 2 * 3600 * 1000)); // older than max_event_age
  ws_.frame(agg_frame(105));
  http_.set_handler(rest_history(100, 200));  // the exchange's own (valid) record of 101..104
  ASSERT_TRUE(c->start().is_ok());
  ASSERT_TRUE(wait_raw(6));
  ASSERT_TRUE(bus_.wait_until([&] { return bus_.count(topics::kDlqMarketData) >= 4; }));
  EXPECT_TRUE(bus_.wait_until([&] { return state("BTCUSDT") == "105"; }));
  std::vector<std::string> reasons;
  for (const auto& r : bus_.records(topics::kDlqMarketData)) {
    auto d = codec::decode_dead_letter(r.value);
    ASSERT_TRUE(d.is_ok());
    reasons.push_back(d->reason);
    EXPECT_NE(d->payload.find("\"aggTrade\""), std::string::npos);  // the frame itself
    EXPECT_NE(d->detail.find("BTCUSDT"), std::string::npos);
  }
  EXPECT_EQ(reasons, (std::vector<std::string>{"non_positive_price", "non_positive_quantity", "future_event_time",
                                               "stale_event_time"}));
  // The corrupt live frames left a hole that the REST backfill repaired before 105: nothing lost.
  EXPECT_EQ(raw_ids(bus_), iota(100, 105));
  ASSERT_EQ(http_.requests().size(), 1u);
  EXPECT_EQ(http_.requests()[0], "/api/v3/aggTrades?symbol=BTCUSDT&fromId=101&limit=1000");
  EXPECT_EQ(c->stats().rejected, 4u);
  EXPECT_NE(obs::render_text().find("reason=\"non_positive_price\""), std::string::npos);
  c->stop();
}

TEST_F(CollectorTest, ReconnectBackfillsTheHoleInOrderWithoutDuplicates) {
  auto config = test_config();
  config.backfill_limit = 2;  // forces paging
  http_.set_handler(rest_history(90, 104));
  ws_.frame(agg_frame(100));
  ws_.frame(agg_frame(101));
  ws_.disconnect();
  // Live after reconnect: 103 and 104 were also fetched from REST, 105 is new.
  ws_.frame(agg_frame(103));
  ws_.frame(agg_frame(104));
  ws_.frame(agg_frame(105));
  auto c = make(config);
  ASSERT_TRUE(c->start().is_ok());
  ASSERT_TRUE(wait_raw(6));
  EXPECT_TRUE(bus_.wait_until([&] { return state("BTCUSDT") == "105"; }));
  EXPECT_EQ(raw_ids(bus_), iota(100, 105));
  const auto requests = http_.requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[0], "/api/v3/aggTrades?symbol=BTCUSDT&fromId=102&limit=2");
  EXPECT_EQ(requests[1], "/api/v3/aggTrades?symbol=BTCUSDT&fromId=104&limit=2");
  const auto stats = c->stats();
  EXPECT_EQ(stats.reconnects, 1u);
  EXPECT_EQ(stats.backfilled, 3u);
  EXPECT_EQ(stats.duplicates_dropped, 2u);
  EXPECT_EQ(ws_.connect_urls().size(), 2u);
}

TEST_F(CollectorTest, LiveIdGapIsBackfilledBeforeTheLiveTrade) {
  http_.set_handler(rest_history(1, 200));
  ws_.frame(agg_frame(100));
  ws_.frame(agg_frame(101));
  ws_.frame(agg_frame(105));
  ws_.frame(agg_frame(106));
  auto c = make(test_config());
  ASSERT_TRUE(c->start().is_ok());
  ASSERT_TRUE(wait_raw(7));
  EXPECT_EQ(raw_ids(bus_), iota(100, 106));
  ASSERT_EQ(http_.requests().size(), 1u);
  EXPECT_EQ(http_.requests()[0], "/api/v3/aggTrades?symbol=BTCUSDT&fromId=102&limit=1000");
  EXPECT_EQ(c->stats().gaps, 1u);
  EXPECT_EQ(c->stats().unfilled_gaps, 0u);
  EXPECT_EQ(c->stats().backfilled, 3u);
}

TEST_F(CollectorTest, ResumesFromTheStoredLastIdAfterRestart) {
  bus_.set_state("collector.binance", "BTCUSDT", "99");
  http_.set_handler(rest_history(1, 101));
  ws_.frame(agg_frame(101));
  ws_.frame(agg_frame(102));
  auto c = make(test_config());
  ASSERT_TRUE(c->start().is_ok());
  ASSERT_TRUE(wait_raw(3));
  EXPECT_EQ(raw_ids(bus_), iota(100, 102));
  ASSERT_FALSE(http_.requests().empty());
  EXPECT_EQ(http_.requests()[0], "/api/v3/aggTrades?symbol=BTCUSDT&fromId=100&limit=1000");
}

TEST_F(CollectorTest, HonoursRateLimitsAndIpBansDuringBackfill) {
  int calls = 0;
  auto history = rest_history(1, 200);
  http_.set_handler([&calls, history](const transport::Url& url) -> Result<HttpResponse> {
    ++calls;
    if (calls <= 2) {
      HttpResponse r;
      r.status = calls == 1 ? 429 : 418;
      r.headers = {{"Retry-After", "0"}};
      r.body = R"({"code":-1003,"msg":"Too many requests"})";
      return r;
    }
    return history(url);
  });
  ws_.frame(agg_frame(100));
  ws_.frame(agg_frame(103));
  auto c = make(test_config());
  ASSERT_TRUE(c->start().is_ok());
  ASSERT_TRUE(wait_raw(4));
  EXPECT_EQ(raw_ids(bus_), iota(100, 103));
  EXPECT_EQ(c->stats().http_rate_limited, 2u);
  EXPECT_EQ(http_.requests().size(), 3u);
  EXPECT_NE(obs::render_text().find("tickflow_collector_http_rate_limited_total{code=\"418\""), std::string::npos);
}

TEST_F(CollectorTest, UnfillableGapIsCountedAndTheLiveTradeStillPublished) {
  http_.set_handler([](const transport::Url&) -> Result<HttpResponse> {
    HttpResponse r;
    r.status = 400;
    r.body = R"({"code":-1121,"msg":"Invalid symbol."})";
    return r;
  });
  ws_.frame(agg_frame(100));
  ws_.frame(agg_frame(110));
  auto c = make(test_config());
  ASSERT_TRUE(c->start().is_ok());
  ASSERT_TRUE(wait_raw(2));
  EXPECT_EQ(raw_ids(bus_), (std::vector<int64_t>{100, 110}));
  EXPECT_EQ(c->stats().gaps, 1u);
  EXPECT_EQ(c->stats().unfilled_gaps, 1u);
}

TEST_F(CollectorTest, TradeStreamCountsGapsWithoutBackfill) {
  auto config = test_config();
  config.trade_stream = "trade";
  ws_.frame(trade_frame(1));
  ws_.frame(agg_frame(2));  // the other stream: ignored
  ws_.frame(trade_frame(2));
  ws_.frame(trade_frame(5));
  auto c = make(config);
  ASSERT_TRUE(c->start().is_ok());
  ASSERT_TRUE(wait_raw(3));
  EXPECT_TRUE(bus_.wait_until([&] { return state("BTCUSDT@trade") == "5"; }));
  EXPECT_EQ(raw_ids(bus_), (std::vector<int64_t>{1, 2, 5}));
  EXPECT_EQ(c->stats().gaps, 1u);
  EXPECT_EQ(c->stats().ignored, 1u);
  EXPECT_TRUE(http_.requests().empty());
  EXPECT_EQ(ws_.connect_urls()[0], "ws://127.0.0.1:9/stream?streams=btcusdt@trade");
}

TEST_F(CollectorTest, FullDiskStopsIngestionLoudly) {
  bus_.fail_commits(Status::io_error("No space left on device"), InMemoryBus::kAlways);
  ws_.frame(agg_frame(100));
  auto c = make(test_config());
  ASSERT_TRUE(c->start().is_ok());
  ASSERT_TRUE(bus_.wait_until([&] { return c->health().state == HealthState::kDown; }));
  EXPECT_NE(c->health().detail.find("No space left"), std::string::npos);
  EXPECT_EQ(c->stats().publish_errors, 1u);
  ws_.frame(agg_frame(101));  // not ingested: the worker has stopped
  c->stop();
  EXPECT_EQ(ws_.pending(), 1u);
  EXPECT_EQ(bus_.count(topics::kRawMarketData), 0u);
  EXPECT_EQ(c->health().state, HealthState::kDown);
  EXPECT_NE(c->health().detail.find("ingestion stopped"), std::string::npos);
}

TEST_F(CollectorTest, RetryableCommitFailureReconnectsAndBackfillsAgain) {
  bus_.set_state("collector.binance", "BTCUSDT", "99");
  http_.set_handler(rest_history(1, 101));
  bus_.fail_commits(Status::unavailable("busy"), 1);  // the first backfill page is lost
  ws_.frame(agg_frame(102));
  auto c = make(test_config());
  ASSERT_TRUE(c->start().is_ok());
  ASSERT_TRUE(wait_raw(3));
  EXPECT_EQ(raw_ids(bus_), iota(100, 102));
  const auto requests = http_.requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[0], requests[1]);  // the same hole fetched again after reconnecting
  EXPECT_EQ(requests[1], "/api/v3/aggTrades?symbol=BTCUSDT&fromId=100&limit=1000");
  EXPECT_EQ(c->stats().publish_errors, 1u);
  EXPECT_EQ(c->stats().reconnects, 1u);
  EXPECT_EQ(c->health().state, HealthState::kUp);
}

TEST_F(CollectorTest, ConnectFailuresBackOffThenConnect) {
  ws_.fail_connects(7);  // beyond max_attempts: the breaker opens and half-opens
  ws_.frame(agg_frame(100));
  auto c = make(test_config());
  ASSERT_TRUE(c->start().is_ok());
  ASSERT_TRUE(wait_raw(1));
  EXPECT_EQ(ws_.connect_urls().size(), 8u);
  EXPECT_EQ(c->stats().connects, 1u);
  EXPECT_EQ(c->stats().reconnects, 0u);
  EXPECT_EQ(c->health().state, HealthState::kUp);
}

TEST_F(CollectorTest, StaleFeedReconnects) {
  auto config = test_config();
  config.stale_timeout = 20 * kNsPerMs;
  ws_.frame(agg_frame(100));
  auto c = make(config);
  ASSERT_TRUE(c->start().is_ok());
  ASSERT_TRUE(wait_raw(1));
  // Counted once connect() returned: waiting on the count implies the second connect.
  ASSERT_TRUE(bus_.wait_until([&] { return c->stats().reconnects >= 1; }));
  EXPECT_GE(ws_.connect_urls().size(), 2u);
}

TEST_F(CollectorTest, StopUnblocksAPendingReadAndStartTwiceFails) {
  auto c = make(test_config());
  ASSERT_TRUE(c->start().is_ok());
  ASSERT_TRUE(bus_.wait_until([&] { return c->health().state == HealthState::kUp; }));
  EXPECT_FALSE(c->start().is_ok());
  c->stop();  // the read waits up to stale_timeout (30 s) unless close() unblocks it
  EXPECT_EQ(c->health().state, HealthState::kDown);
  EXPECT_EQ(c->health().detail, "stopped");
}

#ifdef TICKFLOW_HAVE_EMBEDDED_BUS
TEST(CollectorEmbeddedBusTest, PublishesToTheRealBusAndResumesAfterRestart) {
  const auto dir = std::filesystem::temp_directory_path() /
                   ("tickflow_collector_test_" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  bus::BusConfig bc;
  bc.data_dir = dir.string();
  ManualClock clock(kT0 * kNsPerMs);
  {
    auto bus = bus::make_event_bus(bc);
    ASSERT_TRUE(bus.is_ok()) << bus.status().to_string();
    WsScript ws;
    HttpScript http;
    ws.frame(agg_frame(100));
    ws.frame(agg_frame(101));
    Collector c(test_config(), **bus, clock, ws.make(), http.make());
    ASSERT_TRUE(c.start().is_ok());
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (c.stats().commits < 1 || c.stats().trades_published < 2) {
      ASSERT_LT(std::chrono::steady_clock::now(), deadline);
      (*bus)->wait_for_data(topics::kRawMarketData, (*bus)->data_version(topics::kRawMarketData),
                            10 * kNsPerMs);
    }
    c.stop();
  }
  {
    auto bus = bus::make_event_bus(bc);
    ASSERT_TRUE(bus.is_ok()) << bus.status().to_string();
    auto topic = (*bus)->topic(topics::kRawMarketData);
    ASSERT_TRUE(topic.is_ok());
    const int32_t p = topics::partition_for("binance:BTC-USDT", topic->partitions);
    std::vector<bus::Record> out;
    ASSERT_TRUE((*bus)->read(topics::kRawMarketData, p, 0, 100, out).is_ok());
    ASSERT_EQ(out.size(), 2u);
    EXPECT_EQ(codec::decode_trade(out[1].value)->trade_id, 101);
    auto st = (*bus)->get_state("collector.binance", "BTCUSDT");
    ASSERT_TRUE(st.is_ok());
    EXPECT_EQ(st->value_or(""), "101");
  }
  std::filesystem::remove_all(dir);
}
#endif

}  // namespace
}  // namespace tickflow::exchange::binance
