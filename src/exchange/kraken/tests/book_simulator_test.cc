// The Kraken v1 collector's books against the in-process simulator's book-N channels (real
// Beast transport on loopback): every update's checksum verifies, and after the checksum faults
// (a corrupted "c", silently dropped updates) the book resyncs and ends equal to the simulator's
// (top 10 levels and checksum). Waits on conditions only.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "bus/testing/in_memory_bus.h"
#include "core/topics.h"
#include "exchange/kraken/book.h"
#include "exchange/kraken/collector.h"
#include "exchange/kraken/parse.h"
#include "exchange/simulator/simulator.h"
#include "exchange/simulator/tests/test_client.h"

namespace tickflow::exchange::kraken {
namespace {

simulator::SimulatorConfig book_sim_config(uint64_t seed, int64_t max_trades) {
  simulator::SimulatorConfig sc;
  sc.seed = seed;
  sc.symbols = {"BTCUSD", "ETHUSD"};
  sc.rate = 1000;
  sc.max_trades = max_trades;
  sc.start_on_connect = true;
  return sc;
}

CollectorConfig book_config(const simulator::Simulator& sim, int depth) {
  CollectorConfig c;
  c.ws_url = sim.kraken_ws_url();
  c.rest_url = sim.rest_url();
  c.symbols = {"BTC-USD", "ETH-USD"};
  c.book_depth = depth;
  c.backoff.base_delay = 5 * kNsPerMs;
  c.backoff.max_delay = 50 * kNsPerMs;
  c.connect_timeout = 5 * kNsPerSec;
  return c;
}

using Levels = std::vector<std::pair<std::string, std::string>>;
Levels levels_of(const std::vector<book::Level>& side) {
  Levels out;
  for (const auto& l : side) out.emplace_back(l.price.to_string(), l.quantity.to_string());
  return out;
}

// The collector's book equals the simulator's: same top 10 (as printed) and checksum.
bool same_book(const Collector& c, const simulator::Simulator& sim, const std::string& unified,
               const std::string& model_symbol) {
  const auto mine = c.book(unified);
  const auto theirs = sim.kraken_book(model_symbol, 10);
  return mine && mine->synced && theirs.valid && mine->checksum == theirs.checksum &&
         levels_of(mine->top.bids) == theirs.bids && levels_of(mine->top.asks) == theirs.asks;
}

void expect_same_book(const Collector& c, const simulator::Simulator& sim, const std::string& unified,
                      const std::string& model_symbol) {
  const auto mine = c.book(unified);
  const auto theirs = sim.kraken_book(model_symbol, 10);
  ASSERT_TRUE(mine && mine->synced) << unified;
  ASSERT_TRUE(theirs.valid) << model_symbol;
  EXPECT_EQ(mine->checksum, theirs.checksum) << unified;
  EXPECT_EQ(levels_of(mine->top.bids), theirs.bids) << unified;
  EXPECT_EQ(levels_of(mine->top.asks), theirs.asks) << unified;
  EXPECT_EQ(theirs.bids.size(), 10u);
  EXPECT_EQ(theirs.asks.size(), 10u);
}

// The wire protocol itself: acks in Kraken's key order, a bad depth refused with Kraken's text,
// the snapshot, and updates whose "c" verifies (with republished levels among them).
TEST(KrakenBookSimulatorTest, BookChannelSpeaksKrakenV1) {
  simulator::Simulator sim(book_sim_config(24, 0));
  ASSERT_TRUE(sim.start().is_ok());
  simulator::testing::WsTestClient ws;
  ws.connect(sim.port(), "/kraken");
  EXPECT_NE(ws.read_one().find(R"("event":"systemStatus","status":"online")"), std::string::npos);
  ws.send(R"({"event":"subscribe","pair":["XBT/USD"],"subscription":{"name":"book","depth":7},"reqid":5})");
  EXPECT_EQ(ws.read_one(),
            R"({"errorMessage":"Subscription depth not supported","event":"subscriptionStatus","pair":"XBT/USD","reqid":5,"status":"error","subscription":{"depth":7,"name":"book"}})");
  ws.send(R"({"event":"subscribe","pair":["XBT/USD"],"subscription":{"name":"book","depth":10}})");
  EXPECT_EQ(ws.read_one(),
            R"({"channelID":2000,"channelName":"book-10","event":"subscriptionStatus","pair":"XBT/USD","status":"subscribed","subscription":{"depth":10,"name":"book"}})");
  ws.start_reader();
  FrameParser parser;
  KrakenBook book(10);
  size_t updates = 0, republished = 0, i = 0;
  bool ok = true;
  std::string failure;
  ws.wait_until(
      [&](const std::vector<std::string>& frames, bool) {
        for (; i < frames.size() && ok; ++i) {
          ParsedMessage m;
          if (!parser.parse(frames[i], 0, m).is_ok()) {
            ok = false;
            failure = "parse: " + frames[i];
            break;
          }
          if (m.kind == MessageKind::kHeartbeat) continue;
          if (i == 0 && (m.kind != MessageKind::kBookSnapshot || m.asks.size() != 10 || m.bids.size() != 10)) {
            ok = false;
            failure = "first frame is not a 10-level snapshot: " + frames[i];
          }
          if (Status st = book.apply(m); !st.is_ok()) {
            ok = false;
            failure = st.message();
          }
          updates += m.kind == MessageKind::kBookUpdate;
          for (const auto* side : {&m.asks, &m.bids}) {
            for (const auto& e : *side) republished += e.republished;
          }
        }
        return !ok || (updates >= 30 && republished > 0);
      },
      std::chrono::seconds(30));
  sim.stop();
  EXPECT_TRUE(ok) << failure;
  EXPECT_GE(updates, 30u);
  EXPECT_GT(republished, 0u);
  EXPECT_EQ(book.checksum_failures(), 0u);
}

TEST(KrakenBookSimulatorTest, EveryUpdateVerifiesAtEveryDepth) {
  for (int depth : {10, 100}) {
    simulator::Simulator sim(book_sim_config(21, 3000));
    ASSERT_TRUE(sim.start().is_ok());
    bus::testing::InMemoryBus bus;
    Collector collector(book_config(sim, depth), bus, SystemClock::instance());
    ASSERT_TRUE(collector.start().is_ok());
    const bool done = bus.wait_until(
        [&] {
          return sim.stats().market_ended && same_book(collector, sim, "BTC-USD", "BTCUSD") &&
                 same_book(collector, sim, "ETH-USD", "ETHUSD");
        },
        std::chrono::seconds(60));
    const auto s = collector.stats();
    collector.stop();
    sim.stop();
    ASSERT_TRUE(done) << "depth " << depth << ": updates " << s.book_updates << " mismatches " << s.checksum_mismatches;
    expect_same_book(collector, sim, "BTC-USD", "BTCUSD");
    expect_same_book(collector, sim, "ETH-USD", "ETHUSD");
    EXPECT_GT(s.book_updates, 40u) << depth;  // ~10 depth events per pair and second
    EXPECT_EQ(s.book_snapshots, 2u) << depth;
    EXPECT_EQ(s.checksum_mismatches, 0u) << depth;
    EXPECT_EQ(s.book_resyncs, 0u) << depth;
    EXPECT_EQ(bus.count(topics::kDlqMarketData), 0u);
  }
}

TEST(KrakenBookSimulatorTest, CorruptedChecksumResyncsTheBook) {
  auto sc = book_sim_config(22, 3000);
  sc.faults.kraken_bad_checksum_every = 20;  // every 20th book update carries a wrong "c"
  simulator::Simulator sim(sc);
  ASSERT_TRUE(sim.start().is_ok());
  bus::testing::InMemoryBus bus;
  Collector collector(book_config(sim, 10), bus, SystemClock::instance());
  ASSERT_TRUE(collector.start().is_ok());
  const bool done = bus.wait_until(
      [&] {
        return sim.stats().market_ended && same_book(collector, sim, "BTC-USD", "BTCUSD") &&
               same_book(collector, sim, "ETH-USD", "ETHUSD");
      },
      std::chrono::seconds(60));
  const auto s = collector.stats();
  collector.stop();
  sim.stop();
  ASSERT_TRUE(done) << "mismatches " << s.checksum_mismatches << " resyncs " << s.book_resyncs;
  expect_same_book(collector, sim, "BTC-USD", "BTCUSD");
  expect_same_book(collector, sim, "ETH-USD", "ETHUSD");
  ASSERT_GT(sim.kraken_book_faults(), 0u);
  // Each corrupted "c" is seen once, unless it hit an update already stale (sent between a
  // mismatch and the simulator taking the unsubscribe).
  EXPECT_GE(s.checksum_mismatches, 1u);
  EXPECT_LE(s.checksum_mismatches, sim.kraken_book_faults());
  EXPECT_GE(s.checksum_mismatches + s.book_stale, sim.kraken_book_faults());
  EXPECT_EQ(s.book_resyncs, s.checksum_mismatches);
  EXPECT_EQ(s.book_snapshots, 2 + s.book_resyncs);  // one new snapshot per resync
}

TEST(KrakenBookSimulatorTest, DroppedUpdatesAreDetectedAndTheBookResyncs) {
  simulator::Simulator sim(book_sim_config(23, 10000));
  ASSERT_TRUE(sim.start().is_ok());
  bus::testing::InMemoryBus bus;
  Collector collector(book_config(sim, 10), bus, SystemClock::instance());
  ASSERT_TRUE(collector.start().is_ok());
  ASSERT_TRUE(bus.wait_until([&] { return collector.stats().book_updates >= 50; }, std::chrono::seconds(30)));
  sim.inject_kraken_book_fault(3, simulator::KrakenBookFault::kDropUpdate);
  const bool detected = bus.wait_until([&] { return collector.stats().checksum_mismatches >= 1; },
                                       std::chrono::seconds(30));
  const bool done = bus.wait_until(
      [&] {
        return sim.stats().market_ended && same_book(collector, sim, "BTC-USD", "BTCUSD") &&
               same_book(collector, sim, "ETH-USD", "ETHUSD");
      },
      std::chrono::seconds(60));
  const auto s = collector.stats();
  collector.stop();
  sim.stop();
  EXPECT_EQ(sim.kraken_book_faults(), 3u);
  EXPECT_TRUE(detected) << "three dropped updates at depth 10 went unnoticed";
  ASSERT_TRUE(done);
  expect_same_book(collector, sim, "BTC-USD", "BTCUSD");
  expect_same_book(collector, sim, "ETH-USD", "ETHUSD");
  EXPECT_GE(s.book_resyncs, 1u);
}

}  // namespace
}  // namespace tickflow::exchange::kraken
