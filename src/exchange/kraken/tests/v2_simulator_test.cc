// The Kraken collector in API v2 mode against the simulator's /v2 endpoint (real Beast transport
// on loopback): every trade exactly once, keyed by Kraken's trade_id, across many dropped
// connections (REST /0/public/Trades repair) and a restart; v2 books whose checksums (snapshot and
// updates) verify, resyncing after corrupted checksums. Waits on conditions only.
#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "bus/testing/in_memory_bus.h"
#include "core/codec.h"
#include "core/topics.h"
#include "exchange/kraken/collector.h"
#include "exchange/simulator/simulator.h"
#include "exchange/simulator/tests/test_client.h"

namespace tickflow::exchange::kraken {
namespace {

struct V2Key {
  int64_t id;
  std::string price, qty;
  Side side;
  friend bool operator==(const V2Key&, const V2Key&) = default;
};
std::ostream& operator<<(std::ostream& os, const V2Key& k) { return os << k.id << ' ' << k.price << ' ' << k.qty; }

std::string trim_zeros(std::string s) {
  if (s.find('.') == std::string::npos) return s;
  while (s.back() == '0') s.pop_back();
  if (s.back() == '.') s.pop_back();
  return s;
}

std::vector<V2Key> expected_v2(const simulator::Simulator& sim, const std::string& symbol) {
  std::vector<V2Key> out;
  for (const auto& k : sim.kraken_history(symbol)) {
    std::string p, q;
    simulator::append_units(p, k.trade.price);
    simulator::append_units(q, k.trade.qty);
    out.push_back({k.trade.id, trim_zeros(p), trim_zeros(q), k.trade.buyer_maker ? Side::kSell : Side::kBuy});
  }
  return out;
}

std::map<std::string, std::vector<V2Key>> published_v2(const bus::testing::InMemoryBus& bus) {
  std::map<std::string, std::vector<V2Key>> out;
  for (const auto& r : bus.records(topics::kRawMarketData)) {
    auto t = codec::decode_trade(r.value);
    EXPECT_TRUE(t.is_ok());
    out[t->symbol].push_back(
        {t->trade_id, trim_zeros(t->price.to_string()), trim_zeros(t->quantity.to_string()), t->taker_side});
  }
  return out;
}

simulator::SimulatorConfig v2_sim(uint64_t seed, int64_t max_trades) {
  simulator::SimulatorConfig sc;
  sc.seed = seed;
  sc.symbols = {"BTCUSD", "ETHUSD"};
  sc.rate = 2000;
  sc.max_trades = max_trades;
  sc.start_on_connect = true;
  return sc;
}

CollectorConfig v2_config(const simulator::Simulator& sim) {
  CollectorConfig c;
  c.api = "v2";
  c.ws_url = sim.kraken_v2_ws_url();
  c.rest_url = sim.rest_url();
  c.symbols = {"BTC-USD", "ETH-USD"};
  c.backoff.base_delay = 5 * kNsPerMs;
  c.backoff.max_delay = 50 * kNsPerMs;
  c.connect_timeout = 5 * kNsPerSec;
  return c;
}

size_t total(const simulator::Simulator& sim) {
  return sim.kraken_history("BTCUSD").size() + sim.kraken_history("ETHUSD").size();
}

TEST(KrakenV2SimulatorTest, EndpointSpeaksV2) {
  simulator::Simulator sim(v2_sim(30, 0));
  ASSERT_TRUE(sim.start().is_ok());
  simulator::testing::WsTestClient ws;
  ws.connect(sim.port(), "/v2");
  const std::string status = ws.read_one();
  EXPECT_EQ(status.rfind(R"({"channel":"status","type":"update","data":[{"version":"2.0.0","system":"online","api_version":"v2","connection_id":)", 0), 0u) << status;
  ws.send(R"({"method":"subscribe","params":{"channel":"trade","symbol":["BTC/USD","FOO/USD"]},"req_id":3})");
  const std::string ack = ws.read_one();
  EXPECT_EQ(ack.rfind(R"({"method":"subscribe","result":{"channel":"trade","snapshot":false,"symbol":"BTC/USD"},"req_id":3,"success":true,"time_in":")", 0), 0u) << ack;
  const std::string err = ws.read_one();
  EXPECT_EQ(err.rfind(R"({"error":"Currency pair not supported","method":"subscribe","req_id":3,"success":false,"symbol":"FOO/USD",)", 0), 0u) << err;
  const std::string trade = ws.read_one();
  EXPECT_EQ(trade.rfind(R"({"channel":"trade","type":"update","data":[{"symbol":"BTC/USD","side":")", 0), 0u) << trade;
  sim.stop();
}

TEST(KrakenV2SimulatorTest, EveryTradeOnceAcrossDropsWithRestRepair) {
  auto sc = v2_sim(31, 3000);
  sc.faults.drop_every = 60;
  simulator::Simulator sim(sc);
  ASSERT_TRUE(sim.start().is_ok());
  bus::testing::InMemoryBus bus;
  Collector collector(v2_config(sim), bus, SystemClock::instance());
  ASSERT_TRUE(collector.start().is_ok());
  const bool done = bus.wait_until(
      [&] { return sim.stats().market_ended && bus.count(topics::kRawMarketData) >= total(sim); },
      std::chrono::seconds(60));
  collector.stop();
  sim.stop();
  ASSERT_TRUE(done) << "published " << bus.count(topics::kRawMarketData) << " of " << total(sim);
  auto got = published_v2(bus);
  EXPECT_EQ(got["BTC-USD"], expected_v2(sim, "BTCUSD"));  // every trade once, in id order
  EXPECT_EQ(got["ETH-USD"], expected_v2(sim, "ETHUSD"));
  const auto s = collector.stats();
  EXPECT_GT(s.reconnects, 0u);
  EXPECT_GT(s.backfilled, 0u);
  EXPECT_EQ(s.unfilled_gaps, 0u);
  EXPECT_EQ(bus.count(topics::kDlqMarketData), 0u);
}

TEST(KrakenV2SimulatorTest, RestartResumesFromTheStoredTradeIdWithoutDoubleCounting) {
  simulator::Simulator sim(v2_sim(34, 4000));
  ASSERT_TRUE(sim.start().is_ok());
  bus::testing::InMemoryBus bus;
  {
    Collector first(v2_config(sim), bus, SystemClock::instance());
    ASSERT_TRUE(first.start().is_ok());
    ASSERT_TRUE(bus.wait_until([&] { return bus.count(topics::kRawMarketData) >= 500; }, std::chrono::seconds(30)));
    first.stop();
  }
  const size_t before = total(sim);
  ASSERT_TRUE(bus.wait_until([&] { return total(sim) > before + 200; }, std::chrono::seconds(30)));  // a hole
  Collector second(v2_config(sim), bus, SystemClock::instance());  // last ids from bus state only
  ASSERT_TRUE(second.start().is_ok());
  const bool done = bus.wait_until(
      [&] { return sim.stats().market_ended && bus.count(topics::kRawMarketData) >= total(sim); },
      std::chrono::seconds(60));
  second.stop();
  sim.stop();
  ASSERT_TRUE(done) << "published " << bus.count(topics::kRawMarketData) << " of " << total(sim);
  auto got = published_v2(bus);
  EXPECT_EQ(got["BTC-USD"], expected_v2(sim, "BTCUSD"));
  EXPECT_EQ(got["ETH-USD"], expected_v2(sim, "ETHUSD"));
  EXPECT_GT(second.stats().backfilled, 0u);
  EXPECT_EQ(second.stats().unfilled_gaps, 0u);
}

TEST(KrakenV2SimulatorTest, WithheldTradesAreAnIdGapRepairedFromRest) {
  auto sc = v2_sim(32, 3000);
  sc.faults.skip_every = 97;  // every 97th trade never reaches the WebSocket (REST keeps it)
  simulator::Simulator sim(sc);
  ASSERT_TRUE(sim.start().is_ok());
  bus::testing::InMemoryBus bus;
  Collector collector(v2_config(sim), bus, SystemClock::instance());
  ASSERT_TRUE(collector.start().is_ok());
  const bool done = bus.wait_until(
      [&] { return sim.stats().market_ended && bus.count(topics::kRawMarketData) >= total(sim); },
      std::chrono::seconds(60));
  collector.stop();
  sim.stop();
  ASSERT_TRUE(done) << "published " << bus.count(topics::kRawMarketData) << " of " << total(sim);
  auto got = published_v2(bus);
  EXPECT_EQ(got["BTC-USD"], expected_v2(sim, "BTCUSD"));
  EXPECT_EQ(got["ETH-USD"], expected_v2(sim, "ETHUSD"));
  EXPECT_GT(collector.stats().id_gaps, 0u);
  EXPECT_GE(collector.stats().backfilled, collector.stats().id_gaps);
}

TEST(KrakenV2SimulatorTest, BooksVerifyAndResyncAfterCorruptedChecksums) {
  auto sc = v2_sim(33, 3000);
  sc.rate = 1000;
  sc.faults.kraken_bad_checksum_every = 20;
  simulator::Simulator sim(sc);
  ASSERT_TRUE(sim.start().is_ok());
  bus::testing::InMemoryBus bus;
  auto config = v2_config(sim);
  config.book_depth = 10;
  Collector collector(config, bus, SystemClock::instance());
  ASSERT_TRUE(collector.start().is_ok());
  auto same = [&](const std::string& unified, const std::string& model) {
    const auto mine = collector.book(unified);
    const auto theirs = sim.kraken_book(model, 10);
    return mine && mine->synced && theirs.valid && mine->checksum == theirs.checksum;
  };
  const bool done = bus.wait_until(
      [&] { return sim.stats().market_ended && same("BTC-USD", "BTCUSD") && same("ETH-USD", "ETHUSD"); },
      std::chrono::seconds(60));
  const auto s = collector.stats();
  collector.stop();
  sim.stop();
  ASSERT_TRUE(done) << "updates " << s.book_updates << " mismatches " << s.checksum_mismatches;
  for (const auto& [unified, model] : {std::pair{"BTC-USD", "BTCUSD"}, std::pair{"ETH-USD", "ETHUSD"}}) {
    const auto mine = collector.book(unified);
    const auto theirs = sim.kraken_book(model, 10);
    ASSERT_TRUE(mine.has_value());
    std::vector<std::pair<std::string, std::string>> bids;
    for (const auto& l : mine->top.bids) bids.emplace_back(l.price.to_string(), l.quantity.to_string());
    EXPECT_EQ(bids, theirs.bids) << unified;  // full precision on the wire: the same text
  }
  EXPECT_GT(s.book_updates, 40u);
  EXPECT_GE(s.checksum_mismatches, 1u);
  EXPECT_EQ(s.book_resyncs, s.checksum_mismatches);
  EXPECT_EQ(s.book_snapshots, 2 + s.book_resyncs);
}

}  // namespace
}  // namespace tickflow::exchange::kraken
