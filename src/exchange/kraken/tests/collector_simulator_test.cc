// The Kraken v1 collector (real Beast transport) against the in-process simulator's Kraken
// endpoint (ws://.../kraken, REST /0/public/Trades) on loopback. Waits on conditions only.
#include "exchange/kraken/collector.h"

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "bus/testing/in_memory_bus.h"
#include "core/codec.h"
#include "core/topics.h"
#include "exchange/simulator/simulator.h"

namespace tickflow::exchange::kraken {
namespace {

struct Key {
  int64_t trade_id;
  std::string price, qty;
  Side side;
  friend bool operator==(const Key&, const Key&) = default;
};

std::ostream& operator<<(std::ostream& os, const Key& k) {
  return os << k.trade_id << ' ' << k.price << ' ' << k.qty << ' ' << side_name(k.side);
}

// Exact decimal text without trailing zeros (Kraken prints prices with 5 decimals).
std::string norm(std::string s) {
  if (s.find('.') == std::string::npos) return s;
  while (s.back() == '0') s.pop_back();
  if (s.back() == '.') s.pop_back();
  return s;
}

// The simulator's history as the collector must publish it: parse.h's derived keys.
std::vector<Key> expected(const simulator::Simulator& sim, const std::string& symbol) {
  std::vector<Key> out;
  int64_t last_us = -1, ordinal = 0;
  for (const auto& k : sim.kraken_history(symbol)) {
    ordinal = k.time_us == last_us ? ordinal + 1 : 0;
    last_us = k.time_us;
    std::string p, q;
    simulator::append_units(p, k.trade.price);
    simulator::append_units(q, k.trade.qty);
    out.push_back({k.time_us * 1000 + ordinal, norm(p), norm(q),
                   k.trade.buyer_maker ? Side::kSell : Side::kBuy});
  }
  return out;
}

std::map<std::string, std::vector<Key>> published(const bus::testing::InMemoryBus& bus) {
  std::map<std::string, std::vector<Key>> out;
  for (const auto& r : bus.records(topics::kRawMarketData)) {
    auto t = codec::decode_trade(r.value);
    EXPECT_TRUE(t.is_ok());
    EXPECT_EQ(t->exchange, Exchange::kKraken);
    EXPECT_EQ(r.key, instrument_key(Exchange::kKraken, t->symbol));
    out[t->symbol].push_back({t->trade_id, norm(t->price.to_string()), norm(t->quantity.to_string()), t->taker_side});
  }
  return out;
}

CollectorConfig config_for(const simulator::Simulator& sim) {
  CollectorConfig c;
  c.ws_url = sim.kraken_ws_url();
  c.rest_url = sim.rest_url();
  c.symbols = {"BTC-USD", "ETH-USD"};
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
  return sim.kraken_history("BTCUSD").size() + sim.kraken_history("ETHUSD").size();
}

TEST(KrakenCollectorSimulatorTest, EveryTradeOnceAcrossDropsWithRestBackfill) {
  auto sc = sim_config(7, 3000);
  sc.faults.drop_every = 60;  // Kraken frames (one per taker order): many reconnect holes
  simulator::Simulator sim(sc);
  ASSERT_TRUE(sim.start().is_ok());
  bus::testing::InMemoryBus bus;
  Collector collector(config_for(sim), bus, SystemClock::instance());
  ASSERT_TRUE(collector.start().is_ok());
  // The next 3 REST calls (backfills) answer Kraken's "EAPI:Rate limit exceeded" (HTTP 200):
  // retried, not a lost hole.
  sim.inject_rest_limit(429, 3);
  const bool done = bus.wait_until(
      [&] { return sim.stats().market_ended && bus.count(topics::kRawMarketData) >= total(sim); },
      std::chrono::seconds(60));
  collector.stop();
  sim.stop();
  ASSERT_TRUE(done) << "published " << bus.count(topics::kRawMarketData) << " of " << total(sim);
  auto got = published(bus);
  EXPECT_EQ(got["BTC-USD"], expected(sim, "BTCUSD"));  // every trade once, in order, same key
  EXPECT_EQ(got["ETH-USD"], expected(sim, "ETHUSD"));
  const auto s = collector.stats();
  EXPECT_EQ(s.rest_rate_limited, 3u);
  EXPECT_GT(s.reconnects, 0u);
  EXPECT_GT(s.backfilled, 0u);
  EXPECT_GT(s.duplicates_dropped, 0u);  // live frames the backfill had already covered
  EXPECT_EQ(s.unfilled_gaps, 0u);
  EXPECT_EQ(bus.count(topics::kDlqMarketData), 0u);
}

TEST(KrakenCollectorSimulatorTest, RestartResumesFromStoredKeyWithoutDoubleCounting) {
  simulator::Simulator sim(sim_config(9, 4000));
  ASSERT_TRUE(sim.start().is_ok());
  bus::testing::InMemoryBus bus;
  {
    Collector first(config_for(sim), bus, SystemClock::instance());
    ASSERT_TRUE(first.start().is_ok());
    ASSERT_TRUE(bus.wait_until([&] { return bus.count(topics::kRawMarketData) >= 500; }, std::chrono::seconds(30)));
    first.stop();
  }
  const size_t before = sim.kraken_history("BTCUSD").size() + sim.kraken_history("ETHUSD").size();
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
  // The first session started at the first trade: the whole history, once.
  EXPECT_EQ(got["BTC-USD"], expected(sim, "BTCUSD"));
  EXPECT_EQ(got["ETH-USD"], expected(sim, "ETHUSD"));
  EXPECT_GT(second.stats().backfilled, 0u);
}

TEST(KrakenCollectorSimulatorTest, MalformedFramesAreDeadLetteredAndErrorsSurfaced) {
  auto sc = sim_config(11, 1500);
  sc.faults.malformed_every = 100;  // a truncated copy before the message of every 100th trade
  simulator::Simulator sim(sc);
  ASSERT_TRUE(sim.start().is_ok());
  bus::testing::InMemoryBus bus;
  auto config = config_for(sim);
  config.symbols = {"BTC-USD", "ETH-USD", "FOO-USD"};  // FOO/USD: Kraken refuses it
  config.fetch_instruments = false;  // (with the AssetPairs list, start() would refuse FOO-USD itself)
  Collector collector(config, bus, SystemClock::instance());
  ASSERT_TRUE(collector.start().is_ok());
  const bool done = bus.wait_until(
      [&] { return sim.stats().market_ended && bus.count(topics::kRawMarketData) >= total(sim); },
      std::chrono::seconds(60));
  const auto health = collector.health();
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
    EXPECT_EQ(d->exchange, "kraken");
    EXPECT_EQ(d->reason, "malformed_json");
    EXPECT_FALSE(d->payload.empty());
  }
  EXPECT_EQ(collector.stats().exchange_errors, 1u);
  EXPECT_NE(health.detail.find("Currency pair not supported FOO/USD"), std::string::npos) << health.detail;
}

}  // namespace
}  // namespace tickflow::exchange::kraken
