// The real collector (Beast transport) against the in-process Binance simulator on loopback.
#include <gtest/gtest.h>

#ifdef TICKFLOW_HAVE_SIMULATOR
#include "bus/testing/in_memory_bus.h"
#include "core/codec.h"
#include "core/topics.h"
#include "exchange/binance/collector.h"
#include "exchange/simulator/simulator.h"

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
#else
TEST(CollectorSimulatorTest, Skipped) {
  GTEST_SKIP() << "src/exchange/simulator is not built in this tree";
}
#endif

}  // namespace
}  // namespace tickflow::exchange::binance
