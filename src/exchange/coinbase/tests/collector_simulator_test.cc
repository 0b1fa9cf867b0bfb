// The Coinbase collector (real Beast transport) against the in-process simulator's Coinbase
// Exchange feed (ws://.../coinbase, REST /products/{id}/trades) on loopback, with its fault
// knobs: dropped connections, withheld trades (trade-id gaps), malformed frames. Also the
// simulator's wire protocol itself, read with the collector's own parser. Waits on conditions.
#include "exchange/coinbase/collector.h"

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "bus/testing/in_memory_bus.h"
#include "core/codec.h"
#include "core/topics.h"
#include "exchange/coinbase/parse.h"
#include "exchange/coinbase/rest.h"
#include "exchange/simulator/simulator.h"
#include "exchange/transport/http_client.h"
#include "exchange/transport/ws_connection.h"

namespace tickflow::exchange::coinbase {
namespace {

struct Key {
  int64_t trade_id;
  std::string price, qty;
  Side side;
  TimestampNs time;
  friend bool operator==(const Key&, const Key&) = default;
};

std::ostream& operator<<(std::ostream& os, const Key& k) {
  return os << k.trade_id << ' ' << k.price << ' ' << k.qty << ' ' << side_name(k.side) << ' ' << k.time;
}

std::string norm(std::string s) {
  if (s.find('.') == std::string::npos) return s;
  while (s.back() == '0') s.pop_back();
  if (s.back() == '.') s.pop_back();
  return s;
}

// The simulator's history as the collector must publish it (from `first_id` on).
std::vector<Key> expected(const simulator::Simulator& sim, const std::string& symbol, int64_t first_id = 0) {
  std::vector<Key> out;
  for (const auto& k : sim.kraken_history(symbol)) {  // Coinbase's times are these µs too
    if (k.trade.id < first_id) continue;
    std::string p, q;
    simulator::append_units(p, k.trade.price);
    simulator::append_units(q, k.trade.qty);
    out.push_back({k.trade.id, norm(p), norm(q), k.trade.buyer_maker ? Side::kSell : Side::kBuy, k.time_us * 1000});
  }
  return out;
}

std::map<std::string, std::vector<Key>> published(const bus::testing::InMemoryBus& bus) {
  std::map<std::string, std::vector<Key>> out;
  for (const auto& r : bus.records(topics::kRawMarketData)) {
    auto t = codec::decode_trade(r.value);
    EXPECT_TRUE(t.is_ok());
    EXPECT_EQ(t->exchange, Exchange::kCoinbase);
    EXPECT_EQ(r.key, instrument_key(Exchange::kCoinbase, t->symbol));
    out[t->symbol].push_back(
        {t->trade_id, norm(t->price.to_string()), norm(t->quantity.to_string()), t->taker_side, t->ts_event});
  }
  return out;
}

CollectorConfig config_for(const simulator::Simulator& sim) {
  CollectorConfig c;
  c.ws_url = sim.coinbase_ws_url();
  c.rest_url = sim.rest_url();
  c.symbols = {"BTC-USD", "ETH-USD"};
  c.channels = {"heartbeat", "matches", "ticker"};
  c.backoff.base_delay = 5 * kNsPerMs;
  c.backoff.max_delay = 50 * kNsPerMs;
  c.connect_timeout = 5 * kNsPerSec;
  return c;
}

simulator::SimulatorConfig sim_config(uint64_t seed, int64_t max_trades) {
  simulator::SimulatorConfig sc;
  sc.seed = seed;
  sc.symbols = {"BTCUSD", "ETHUSD"};
  sc.rate = 2000;
  sc.max_trades = max_trades;
  sc.start_on_connect = true;
  return sc;
}

size_t total(const simulator::Simulator& sim) {
  return sim.history("BTCUSD").size() + sim.history("ETHUSD").size();
}

TEST(CoinbaseSimulatorProtocol, SubscribeAckMatchesTickerTwinsHeartbeatsAndRestPaging) {
  simulator::Simulator sim(sim_config(3, 400));
  ASSERT_TRUE(sim.start().is_ok());
  auto ws = transport::make_ws_connection();
  ASSERT_TRUE(ws->connect(*transport::parse_url(sim.coinbase_ws_url()), 5 * kNsPerSec).is_ok());
  ASSERT_TRUE(ws->send_text(R"({"type":"subscribe","product_ids":["ZZZ-USD"],"channels":["matches"]})").is_ok());
  FrameParser parser;
  ParsedMessage m;
  auto f = ws->read_frame(5 * kNsPerSec);
  ASSERT_TRUE(f.is_ok());
  ASSERT_TRUE(parser.parse(*f, 0, m).is_ok()) << *f;
  EXPECT_EQ(m.kind, MessageKind::kError);
  EXPECT_EQ(m.error_reason, "ZZZ-USD is not a valid product");
  ASSERT_TRUE(ws->send_text(
                    R"({"type":"subscribe","product_ids":["BTC-USD"],"channels":["heartbeat","matches",{"name":"ticker","product_ids":["BTC-USD"]}]})")
                  .is_ok());
  f = ws->read_frame(5 * kNsPerSec);
  ASSERT_TRUE(f.is_ok());
  ASSERT_TRUE(parser.parse(*f, 0, m).is_ok()) << *f;
  ASSERT_EQ(m.kind, MessageKind::kSubscriptions);
  ASSERT_EQ(m.subscriptions.size(), 3u);
  EXPECT_EQ(m.subscriptions[0].name, "heartbeat");
  EXPECT_EQ(m.subscriptions[1].product_ids, std::vector<std::string>{"BTC-USD"});
  std::map<int64_t, Side> match_side, ticker_side;
  int heartbeats = 0;
  int64_t last_match_id = -1;
  const bool ok = [&] {
    while (!(sim.stats().market_ended && heartbeats >= 2)) {
      auto fr = ws->read_frame(5 * kNsPerSec);
      if (!fr) return false;
      if (!parser.parse(*fr, 0, m).is_ok()) {
        ADD_FAILURE() << *fr;
        return false;
      }
      if (m.kind == MessageKind::kMatch) {
        EXPECT_GT(m.trade.trade_id, last_match_id);
        last_match_id = m.trade.trade_id;
        match_side[m.trade.trade_id] = m.trade.taker_side;
      } else if (m.kind == MessageKind::kTicker) {
        ticker_side[m.ticker.trade_id] = m.ticker.taker_side;
      } else if (m.kind == MessageKind::kHeartbeat && sim.stats().market_ended) {
        EXPECT_EQ(m.last_trade_id, last_match_id);
        ++heartbeats;
      }
    }
    return true;
  }();
  ws->close();
  ASSERT_TRUE(ok);
  const auto history = sim.history("BTCUSD");
  EXPECT_EQ(match_side.size(), history.size());
  EXPECT_EQ(match_side, ticker_side);  // every match has a ticker twin, same taker side
  // REST: newest first, after= older, before= newer, CB-BEFORE / CB-AFTER cursors.
  auto http = transport::make_http_client();
  const int64_t mid = history[history.size() / 2].id;
  auto res = http->get(*transport::parse_url(sim.rest_url() + "/products/BTC-USD/trades?limit=5&after=" +
                                             std::to_string(mid)),
                       {}, 5 * kNsPerSec);
  ASSERT_TRUE(res.is_ok());
  ASSERT_EQ(res->status, 200) << res->body;
  std::vector<Trade> page;
  ASSERT_TRUE(parse_rest_trades(res->body, "BTC-USD", 0, page).is_ok()) << res->body;
  ASSERT_EQ(page.size(), 5u);
  EXPECT_EQ(page.front().trade_id, mid - 1);
  EXPECT_EQ(page.back().trade_id, mid - 5);
  EXPECT_EQ(res->header("CB-AFTER"), std::to_string(mid - 5));
  EXPECT_EQ(res->header("CB-BEFORE"), std::to_string(mid - 1));
  res = http->get(*transport::parse_url(sim.rest_url() + "/products/BTC-USD/trades?limit=3&before=" +
                                        std::to_string(mid)),
                  {}, 5 * kNsPerSec);
  ASSERT_TRUE(res.is_ok());
  page.clear();
  ASSERT_TRUE(parse_rest_trades(res->body, "BTC-USD", 0, page).is_ok());
  ASSERT_EQ(page.size(), 3u);
  EXPECT_EQ(page.front().trade_id, mid + 3);
  EXPECT_EQ(page.back().trade_id, mid + 1);
  res = http->get(*transport::parse_url(sim.rest_url() + "/products/NOPE-USD/trades"), {}, 5 * kNsPerSec);
  ASSERT_TRUE(res.is_ok());
  EXPECT_EQ(res->status, 404);
  sim.stop();
}

TEST(CoinbaseCollectorSimulatorTest, EveryTradeOnceAcrossDropsAndGapsWithRestBackfill) {
  auto sc = sim_config(7, 3000);
  sc.faults.drop_every = 400;  // frames per connection: reconnect holes
  sc.faults.skip_every = 97;   // withheld matches: trade-id gaps (and a heartbeat-only one at the end)
  simulator::Simulator sim(sc);
  ASSERT_TRUE(sim.start().is_ok());
  bus::testing::InMemoryBus bus;
  Collector collector(config_for(sim), bus, SystemClock::instance());
  ASSERT_TRUE(collector.start().is_ok());
  // The next 3 REST calls (backfill pages) answer HTTP 429: retried, no hole left.
  sim.inject_rest_limit(429, 3);
  const bool done = bus.wait_until(
      [&] { return sim.stats().market_ended && bus.count(topics::kRawMarketData) >= total(sim); },
      std::chrono::seconds(90));
  collector.stop();
  sim.stop();
  ASSERT_TRUE(done) << "published " << bus.count(topics::kRawMarketData) << " of " << total(sim);
  auto got = published(bus);
  EXPECT_EQ(got["BTC-USD"], expected(sim, "BTCUSD"));  // every trade once, in id order, exact
  EXPECT_EQ(got["ETH-USD"], expected(sim, "ETHUSD"));
  const auto s = collector.stats();
  EXPECT_EQ(s.http_rate_limited, 3u);
  EXPECT_GT(s.reconnects, 0u);
  EXPECT_GT(s.gaps, 0u);
  EXPECT_GT(s.backfilled, 0u);
  EXPECT_GT(s.tickers, 0u);  // received, never published
  EXPECT_EQ(s.trades_published, total(sim));
  EXPECT_EQ(s.unfilled_gaps, 0u);
  EXPECT_EQ(bus.count(topics::kDlqMarketData), 0u);
}

TEST(CoinbaseCollectorSimulatorTest, RestartResumesFromStoredIdWithoutDoubleCounting) {
  simulator::Simulator sim(sim_config(9, 4000));
  ASSERT_TRUE(sim.start().is_ok());
  bus::testing::InMemoryBus bus;
  {
    Collector first(config_for(sim), bus, SystemClock::instance());
    ASSERT_TRUE(first.start().is_ok());
    ASSERT_TRUE(bus.wait_until([&] { return bus.count(topics::kRawMarketData) >= 500; }, std::chrono::seconds(30)));
    first.stop();
  }
  const size_t before = total(sim);
  ASSERT_TRUE(bus.wait_until([&] { return total(sim) > before + 200; }, std::chrono::seconds(30)));  // a hole
  Collector second(config_for(sim), bus, SystemClock::instance());
  ASSERT_TRUE(second.start().is_ok());
  const bool done = bus.wait_until(
      [&] { return sim.stats().market_ended && bus.count(topics::kRawMarketData) >= total(sim); },
      std::chrono::seconds(60));
  second.stop();
  sim.stop();
  ASSERT_TRUE(done) << "published " << bus.count(topics::kRawMarketData) << " of " << total(sim);
  auto got = published(bus);
  EXPECT_EQ(got["BTC-USD"], expected(sim, "BTCUSD"));
  EXPECT_EQ(got["ETH-USD"], expected(sim, "ETHUSD"));
  EXPECT_GT(second.stats().backfilled, 0u);
}

TEST(CoinbaseCollectorSimulatorTest, MalformedFramesAreDeadLettered) {
  auto sc = sim_config(11, 1500);
  sc.faults.malformed_every = 100;  // a truncated copy before every 100th match
  simulator::Simulator sim(sc);
  ASSERT_TRUE(sim.start().is_ok());
  bus::testing::InMemoryBus bus;
  Collector collector(config_for(sim), bus, SystemClock::instance());
  ASSERT_TRUE(collector.start().is_ok());
  const bool done = bus.wait_until(
      [&] { return sim.stats().market_ended && bus.count(topics::kRawMarketData) >= total(sim); },
      std::chrono::seconds(60));
  collector.stop();
  sim.stop();
  ASSERT_TRUE(done);
  auto got = published(bus);
  EXPECT_EQ(got["BTC-USD"], expected(sim, "BTCUSD"));
  EXPECT_EQ(got["ETH-USD"], expected(sim, "ETHUSD"));
  const auto dlq = bus.records(topics::kDlqMarketData);
  ASSERT_GE(dlq.size(), 10u);
  for (const auto& r : dlq) {
    auto d = codec::decode_dead_letter(r.value);
    ASSERT_TRUE(d.is_ok());
    EXPECT_EQ(d->exchange, "coinbase");
    EXPECT_EQ(d->reason, "malformed_json");
    EXPECT_FALSE(d->payload.empty());
  }
}

TEST(CoinbaseCollectorSimulatorTest, UnknownProductIsSurfacedWithCoinbasesText) {
  simulator::Simulator sim(sim_config(13, 100));
  ASSERT_TRUE(sim.start().is_ok());
  bus::testing::InMemoryBus bus;
  auto config = config_for(sim);
  config.symbols = {"BTC-USD", "FOO-USD"};
  config.resolve_products = false;  // so that Coinbase itself answers (the resolution: products test)
  Collector collector(config, bus, SystemClock::instance());
  ASSERT_TRUE(collector.start().is_ok());
  ASSERT_TRUE(bus.wait_until([&] { return collector.stats().exchange_errors >= 1; }, std::chrono::seconds(30)));
  const auto health = collector.health();
  collector.stop();
  sim.stop();
  EXPECT_EQ(health.state, HealthState::kDegraded);
  EXPECT_NE(health.detail.find("FOO-USD is not a valid product"), std::string::npos) << health.detail;
}

}  // namespace
}  // namespace tickflow::exchange::coinbase
