// The real collector (Beast transport) against the in-process Binance simulator on loopback.
#include <gtest/gtest.h>

#ifdef TICKFLOW_HAVE_SIMULATOR
#include "bus/testing/in_memory_bus.h"
#include "core/codec.h"
#include "core/topics.h"
#include "exchange/binance/collector.h"
#include "exchange/binance/instruments.h"
#include "exchange/binance/parse.h"
#include "exchange/simulator/simulator.h"
#include "exchange/transport/http_client.h"

#include <map>
#endif

namespace tickflow::exchange::binance {
namespace {

#ifdef TICKFLOW_HAVE_SIMULATOR
TEST(CollectorSimulatorTest, StreamsEveryAggTradeInOrderAcrossDropsAndSkips) {
  simulator::SimulatorConfig sc;
  sc.seed = 7;
  sc.symbols = {"BTCUSDT", "ETHUSDT"};
  sc.rate = 2000;
  sc.max_trades = 3000;
  sc.start_on_connect = true;
  sc.faults.drop_every = 700;      // reconnect + backfill
  sc.faults.skip_every = 97;       // live id gaps + backfill
  simulator::Simulator sim(sc);
  ASSERT_TRUE(sim.start().is_ok());

  bus::testing::InMemoryBus bus;
  CollectorConfig config;
  config.ws_url = sim.ws_url();
  config.rest_url = sim.rest_url();
  config.symbols = {"BTC-USDT", "ETH-USDT"};
  config.backoff.base_delay = 5 * kNsPerMs;
  config.backoff.max_delay = 50 * kNsPerMs;
  config.connect_timeout = 5 * kNsPerSec;
  Collector collector(config, bus, SystemClock::instance());
  ASSERT_TRUE(collector.start().is_ok());

  auto expected = [&](const std::string& symbol) { return sim.agg_history(symbol).size(); };
  const bool done = bus.wait_until(
      [&] {
        if (!sim.stats().market_ended) return false;
        return bus.count(topics::kRawMarketData) >= expected("BTCUSDT") + expected("ETHUSDT");
      },
      std::chrono::seconds(60));
  collector.stop();
  sim.stop();
  ASSERT_TRUE(done) << "published " << bus.count(topics::kRawMarketData);

  std::map<std::string, std::vector<int64_t>> ids;
  for (const auto& r : bus.records(topics::kRawMarketData)) {
    auto t = codec::decode_trade(r.value);
    ASSERT_TRUE(t.is_ok());
    ids[t->exchange_symbol].push_back(t->trade_id);
  }
  for (const std::string symbol : {"BTCUSDT", "ETHUSDT"}) {
    std::vector<int64_t> want;
    for (const auto& a : sim.agg_history(symbol)) want.push_back(a.id);
    EXPECT_EQ(ids[symbol], want) << symbol;  // every aggregate once, in id order
  }
  EXPECT_GT(collector.stats().reconnects, 0u);
  EXPECT_GT(collector.stats().backfilled, 0u);
  EXPECT_GT(collector.stats().gaps, 0u);
  EXPECT_EQ(collector.stats().unfilled_gaps, 0u);
  EXPECT_EQ(bus.count(topics::kDlqMarketData), 0u);
}

TEST(CollectorSimulatorTest, TradeStreamDeadLettersMalformedFrames) {
  simulator::SimulatorConfig sc;
  sc.seed = 11;
  sc.symbols = {"BTCUSDT"};
  sc.rate = 2000;
  sc.max_trades = 1000;
  sc.start_on_connect = true;
  sc.faults.malformed_every = 100;  // a truncated copy before every 100th trade frame
  simulator::Simulator sim(sc);
  ASSERT_TRUE(sim.start().is_ok());

  bus::testing::InMemoryBus bus;
  CollectorConfig config;
  config.ws_url = sim.ws_url();
  config.rest_url = sim.rest_url();
  config.symbols = {"BTC-USDT"};
  config.trade_stream = "trade";
  Collector collector(config, bus, SystemClock::instance());
  ASSERT_TRUE(collector.start().is_ok());
  const bool done = bus.wait_until(
      [&] { return sim.stats().market_ended && bus.count(topics::kRawMarketData) >= sim.history("BTCUSDT").size(); },
      std::chrono::seconds(60));
  ASSERT_TRUE(bus.wait_until([&] { return bus.count(topics::kDlqMarketData) >= 10; }));
  collector.stop();
  sim.stop();
  ASSERT_TRUE(done) << "published " << bus.count(topics::kRawMarketData);
  std::vector<int64_t> got, want;
  for (const auto& r : bus.records(topics::kRawMarketData)) got.push_back(codec::decode_trade(r.value)->trade_id);
  for (const auto& t : sim.history("BTCUSDT")) want.push_back(t.id);
  EXPECT_EQ(got, want);
  const auto dlq = bus.records(topics::kDlqMarketData);
  EXPECT_EQ(dlq.size(), 10u);
  for (const auto& r : dlq) {
    auto d = codec::decode_dead_letter(r.value);
    ASSERT_TRUE(d.is_ok());
    EXPECT_EQ(d->reason, "malformed_json");
    EXPECT_FALSE(d->payload.empty());
  }
  EXPECT_EQ(collector.stats().rejected, 10u);
  EXPECT_EQ(collector.stats().gaps, 0u);
}
// depth@100ms against the simulator with diffs withheld (the skip_depth fault, twice per
// symbol while the market runs): each gap resyncs from a new REST snapshot, and once the market
// has ended the collector's whole book equals the simulator's /api/v3/depth, level for level,
// at the same update id. (A withheld *last* diff would be undetectable until the next one: the
// faults are injected early so the market's final diffs arrive.)
TEST(CollectorSimulatorTest, DepthBookResyncsAfterSkippedDiffsAndEqualsTheExchangeBook) {
  simulator::SimulatorConfig sc;
  sc.seed = 5;
  sc.symbols = {"BTCUSDT", "ETHUSDT"};
  sc.rate = 1000;
  sc.max_trades = 3000;
  sc.start_on_connect = true;
  sc.book_levels = 50;
  simulator::Simulator sim(sc);
  ASSERT_TRUE(sim.start().is_ok());

  bus::testing::InMemoryBus bus;
  CollectorConfig config;
  config.ws_url = sim.ws_url();
  config.rest_url = sim.rest_url();
  config.symbols = {"BTC-USDT", "ETH-USDT"};
  config.book = true;
  config.book_interval = 0;
  config.book_retry_delay = 10 * kNsPerMs;
  Collector collector(config, bus, SystemClock::instance());
  ASSERT_TRUE(collector.start().is_ok());
  auto in_sync = [&](const char* symbol) {
    auto b = collector.book(symbol);
    return b && b->in_sync;
  };
  for (uint64_t round = 1; round <= 2; ++round) {
    ASSERT_TRUE(bus.wait_until([&] { return in_sync("BTCUSDT") && in_sync("ETHUSDT"); }));
    sim.inject_skip_depth(1, "BTCUSDT");
    sim.inject_skip_depth(1, "ETHUSDT");
    // A withheld diff right after a snapshot fails the bridge; later, it is a sequence gap.
    auto resyncs = [&] {
      const auto st = collector.stats();
      return st.resyncs_sequence_gap + st.resyncs_bridge_failed;
    };
    ASSERT_TRUE(bus.wait_until([&] { return resyncs() >= 2 * round; })) << resyncs();
  }
  ASSERT_TRUE(bus.wait_until([&] { return sim.stats().market_ended; }, std::chrono::seconds(60)));

  auto http = transport::make_http_client();
  for (const std::string symbol : {"BTCUSDT", "ETHUSDT"}) {
    auto url = transport::parse_url(sim.rest_url() + "/api/v3/depth?symbol=" + symbol + "&limit=5000");
    ASSERT_TRUE(url.is_ok());
    auto res = http->get(*url, {}, 5 * kNsPerSec);
    ASSERT_TRUE(res.is_ok() && res->status == 200);
    DepthSnapshot want;
    ASSERT_TRUE(parse_depth_snapshot(res->body, want).is_ok());
    const bool synced = bus.wait_until([&] {
      auto b = collector.book(symbol);
      return b && b->in_sync && b->update_id == want.last_update_id;
    });
    auto got = collector.book(symbol);
    ASSERT_TRUE(synced) << symbol << " at " << (got ? got->update_id : -1) << ", exchange at " << want.last_update_id;
    auto text = [](const auto& levels) {
      std::vector<std::string> out;
      for (const auto& l : levels) out.push_back(l.price.to_string() + "@" + l.quantity.to_string());
      return out;
    };
    EXPECT_EQ(text(got->top.bids), text(want.bids)) << symbol;
    EXPECT_EQ(text(got->top.asks), text(want.asks)) << symbol;
    EXPECT_FALSE(got->top.bids.empty());
  }
  const auto s = collector.stats();
  collector.stop();
  sim.stop();
  EXPECT_EQ(s.resyncs_sequence_gap + s.resyncs_bridge_failed, 4u);
  EXPECT_EQ(s.resyncs_reconnect, 0u);
  EXPECT_EQ(s.book_snapshots, 2 + 4u);  // one per book, then one per resync
  EXPECT_GT(s.depth_applied, 20u);
  EXPECT_EQ(s.crossed_books, 0u);
  EXPECT_EQ(bus.count(topics::kDlqMarketData), 0u);
}
// The proactive reconnect before Binance's 24 h cut, with a short age: every session ends
// aged, the next connect is immediate and the hole is backfilled: no trade lost or doubled.
TEST(CollectorSimulatorTest, AgedConnectionsReconnectWithoutLosingATrade) {
  simulator::SimulatorConfig sc;
  sc.seed = 3;
  sc.symbols = {"BTCUSDT"};
  sc.rate = 1500;
  sc.max_trades = 3000;
  sc.start_on_connect = true;
  simulator::Simulator sim(sc);
  ASSERT_TRUE(sim.start().is_ok());
  bus::testing::InMemoryBus bus;
  CollectorConfig config;
  config.ws_url = sim.ws_url();
  config.rest_url = sim.rest_url();
  config.symbols = {"BTC-USDT"};
  config.max_connection_age = 300 * kNsPerMs;
  Collector collector(config, bus, SystemClock::instance());
  ASSERT_TRUE(collector.start().is_ok());
  const bool done = bus.wait_until(
      [&] { return sim.stats().market_ended && bus.count(topics::kRawMarketData) >= sim.agg_history("BTCUSDT").size(); },
      std::chrono::seconds(60));
  const auto s = collector.stats();
  collector.stop();
  sim.stop();
  ASSERT_TRUE(done) << "published " << bus.count(topics::kRawMarketData);
  std::vector<int64_t> got, want;
  for (const auto& r : bus.records(topics::kRawMarketData)) got.push_back(codec::decode_trade(r.value)->trade_id);
  for (const auto& a : sim.agg_history("BTCUSDT")) want.push_back(a.id);
  EXPECT_EQ(got, want);
  EXPECT_GE(s.reconnects, 3u);  // ~2 s of market / 300 ms
  EXPECT_EQ(sim.stats().connections_dropped, 0u);  // every reconnect was the collector's own
}

// Keep-alive against a half-dead peer: while the market is silent, a connection whose pings are
// answered stays up (no reconnect however long the silence); when the pongs stall too, the
// transport declares it dead within 2 ping intervals, the collector reconnects and backfills, and
// every aggregate still arrives exactly once.
TEST(CollectorSimulatorTest, StalledPongsAreDetectedAndTheFeedHeals) {
  simulator::SimulatorConfig sc;
  sc.seed = 17;
  sc.symbols = {"BTCUSDT"};
  sc.rate = 1000;
  sc.max_trades = 6000;
  sc.start_on_connect = true;
  simulator::Simulator sim(sc);
  ASSERT_TRUE(sim.start().is_ok());
  bus::testing::InMemoryBus bus;
  CollectorConfig config;
  config.ws_url = sim.ws_url();
  config.rest_url = sim.rest_url();
  config.symbols = {"BTC-USDT"};
  config.ping_interval = 150 * kNsPerMs;
  config.backoff.base_delay = 5 * kNsPerMs;
  config.backoff.max_delay = 50 * kNsPerMs;
  Collector collector(config, bus, SystemClock::instance());
  ASSERT_TRUE(collector.start().is_ok());
  ASSERT_TRUE(bus.wait_until([&] { return bus.count(topics::kRawMarketData) >= 100; }, std::chrono::seconds(30)));

  // 1. Silent but healthy: 3 s without a frame, pings answered.
  const uint64_t pings0 = sim.stats().pings_received;
  sim.inject_stall(3000);
  ASSERT_TRUE(bus.wait_until([&] { return sim.stats().pings_received >= pings0 + 6; }, std::chrono::seconds(30)))
      << "no keep-alive pings during a silence of 20 ping intervals";
  EXPECT_EQ(collector.stats().reconnects, 0u) << "a quiet connection that answers pings was dropped";

  // 2. Silent and no pongs: dead within 2 ping intervals, reconnected.
  sim.inject_stall_pongs(1500);
  ASSERT_TRUE(bus.wait_until([&] { return collector.stats().reconnects >= 1; }, std::chrono::seconds(30)))
      << "a peer that stopped answering pings was not detected";
  EXPECT_GT(sim.stats().pongs_withheld, 0u);

  const bool done = bus.wait_until(
      [&] { return sim.stats().market_ended && bus.count(topics::kRawMarketData) >= sim.agg_history("BTCUSDT").size(); },
      std::chrono::seconds(60));
  collector.stop();
  sim.stop();
  ASSERT_TRUE(done) << "published " << bus.count(topics::kRawMarketData);
  std::vector<int64_t> got, want;
  for (const auto& r : bus.records(topics::kRawMarketData)) got.push_back(codec::decode_trade(r.value)->trade_id);
  for (const auto& a : sim.agg_history("BTCUSDT")) want.push_back(a.id);
  EXPECT_EQ(got, want);  // every aggregate once, in order, across the dead connection
  EXPECT_EQ(bus.count(topics::kDlqMarketData), 0u);
}

// The simulator's GET /api/v3/exchangeInfo has the recordings' shape: parse_exchange_info reads
// its symbols with the model's tick and step.
TEST(CollectorSimulatorTest, ExchangeInfoListsTheSimulatedSymbols) {
  simulator::SimulatorConfig sc;
  sc.symbols = {"BTCUSDT", "ETHUSDT"};
  simulator::Simulator sim(sc);
  ASSERT_TRUE(sim.start().is_ok());
  auto http = transport::make_http_client();
  auto res = http->get(*transport::parse_url(sim.rest_url() + "/api/v3/exchangeInfo"), {}, 5 * kNsPerSec);
  ASSERT_TRUE(res.is_ok() && res->status == 200);
  std::vector<collector::Instrument> list;
  ASSERT_TRUE(parse_exchange_info(res->body, list).is_ok()) << res->body.substr(0, 300);
  ASSERT_EQ(list.size(), 2u);
  EXPECT_EQ(list[0].exchange_symbol, "BTCUSDT");
  EXPECT_EQ(list[0].symbol, "BTC-USDT");
  EXPECT_TRUE(list[0].trading);
  EXPECT_FALSE(list[0].price_increment.is_zero());
  EXPECT_FALSE(list[0].size_increment.is_zero());
  auto one = http->get(*transport::parse_url(sim.rest_url() + "/api/v3/exchangeInfo?symbol=ETHUSDT"), {}, 5 * kNsPerSec);
  ASSERT_TRUE(one.is_ok() && one->status == 200);
  list.clear();
  ASSERT_TRUE(parse_exchange_info(one->body, list).is_ok());
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list[0].symbol, "ETH-USDT");
  auto bad = http->get(*transport::parse_url(sim.rest_url() + "/api/v3/exchangeInfo?symbol=FOOUSDT"), {}, 5 * kNsPerSec);
  ASSERT_TRUE(bad.is_ok());
  EXPECT_EQ(bad->status, 400);
  EXPECT_NE(bad->body.find("-1121"), std::string::npos);
  sim.stop();
}
// subscribe = "message" against the simulator: connect to /stream, SUBSCRIBE (3 messages of
// at most 2 streams), every aggregate trade once and in order across a dropped connection
// (resubscribed in the same order), and the books in sync.
TEST(CollectorSimulatorTest, SubscribeMessagesOnStreamAcrossAReconnect) {
  simulator::SimulatorConfig sc;
  sc.seed = 9;
  sc.symbols = {"BTCUSDT", "ETHUSDT"};
  sc.rate = 1000;
  sc.max_trades = 2000;
  sc.start_on_connect = true;
  sc.faults.drop_every = 900;
  simulator::Simulator sim(sc);
  ASSERT_TRUE(sim.start().is_ok());
  bus::testing::InMemoryBus bus;
  CollectorConfig config;
  config.ws_url = sim.ws_url();
  config.rest_url = sim.rest_url();
  config.symbols = {"BTC-USDT", "ETH-USDT"};
  config.subscribe = "message";
  config.subscribe_batch = 2;
  config.book = true;
  config.book_ticker = false;
  config.backoff.base_delay = 5 * kNsPerMs;
  Collector collector(config, bus, SystemClock::instance());
  ASSERT_TRUE(collector.start().is_ok());
  const bool done = bus.wait_until(
      [&] {
        return sim.stats().market_ended &&
               bus.count(topics::kRawMarketData) >= sim.agg_history("BTCUSDT").size() + sim.agg_history("ETHUSDT").size();
      },
      std::chrono::seconds(60));
  const auto s = collector.stats();
  collector.stop();
  sim.stop();
  ASSERT_TRUE(done) << "published " << bus.count(topics::kRawMarketData);
  std::map<std::string, std::vector<int64_t>> ids;
  for (const auto& r : bus.records(topics::kRawMarketData)) {
    auto t = codec::decode_trade(r.value);
    ids[t->exchange_symbol].push_back(t->trade_id);
  }
  for (const std::string symbol : {"BTCUSDT", "ETHUSDT"}) {
    std::vector<int64_t> want;
    for (const auto& a : sim.agg_history(symbol)) want.push_back(a.id);
    EXPECT_EQ(ids[symbol], want) << symbol;
  }
  EXPECT_GT(s.reconnects, 0u);
  EXPECT_EQ(s.subscribe_messages, 2 * (s.reconnects + 1));  // 4 streams / 2 per message, per connection
  EXPECT_EQ(s.subscribe_errors, 0u);
  EXPECT_GT(s.depth_applied, 0u);
  EXPECT_GE(s.resyncs_reconnect, 2u);  // both books, at least once
}

// The simulator's REST limit faults: a 429 with Retry-After 1 s, then a 418 with Retry-After 0
// (the ban floor applies): the collector waits as told before each retry, then syncs its book.
TEST(CollectorSimulatorTest, RestRateLimitAndBanAreHonoured) {
  simulator::SimulatorConfig sc;
  sc.symbols = {"BTCUSDT"};
  sc.rate = 500;
  sc.start_on_connect = true;
  simulator::Simulator sim(sc);
  ASSERT_TRUE(sim.start().is_ok());
  bus::testing::InMemoryBus bus;
  CollectorConfig config;
  config.ws_url = sim.ws_url();
  config.rest_url = sim.rest_url();
  config.symbols = {"BTC-USDT"};
  config.book = true;
  config.ban_min_wait = 400 * kNsPerMs;
  config.backoff.base_delay = 5 * kNsPerMs;
  sim.inject_rest_limit(429, 1, 1);  // exchangeInfo: 429, Retry-After: 1
  Collector collector(config, bus, SystemClock::instance());
  const auto began = std::chrono::steady_clock::now();
  ASSERT_TRUE(collector.start().is_ok());
  auto synced = [&] {
    auto b = collector.book("BTCUSDT");
    return b && b->in_sync;
  };
  ASSERT_TRUE(bus.wait_until(synced, std::chrono::seconds(20)));
  EXPECT_GE(std::chrono::steady_clock::now() - began, std::chrono::milliseconds(1000));  // waited Retry-After
  EXPECT_EQ(collector.stats().http_rate_limited, 1u);
  EXPECT_EQ(collector.stats().unknown_symbols, 0u);  // the list was fetched on the retry

  // 418 with Retry-After 0 on the next snapshot (forced by a withheld diff): >= ban_min_wait.
  sim.inject_rest_limit(418, 1, 0);
  sim.inject_skip_depth(1, "BTCUSDT");
  ASSERT_TRUE(bus.wait_until([&] { return collector.stats().http_rate_limited == 2; }, std::chrono::seconds(20)));
  const auto banned_at = std::chrono::steady_clock::now();
  ASSERT_TRUE(bus.wait_until([&] { return synced() && collector.stats().book_snapshots >= 2; }, std::chrono::seconds(20)));
  EXPECT_GE(std::chrono::steady_clock::now() - banned_at, std::chrono::milliseconds(300));
  collector.stop();
  sim.stop();
}
#else
TEST(CollectorSimulatorTest, Skipped) {
  GTEST_SKIP() << "src/exchange/simulator is not built in this tree";
}
#endif

}  // namespace
}  // namespace tickflow::exchange::binance
