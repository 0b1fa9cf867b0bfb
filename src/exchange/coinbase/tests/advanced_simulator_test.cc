// Coinbase Advanced Trade against the in-process simulator (ws://.../coinbase-advanced): its wire
// protocol read with AdvancedParser (contiguous sequence_num, newest-first batches, every trade
// once, heartbeats, l2_data snapshot + updates = the simulator's book), and the collector with
// feed = "advanced" publishing every trade exactly once with the right taker side across
// dropped connections (the market_trades snapshot of each new connection overlapping what was
// already published, and REST repairing what it does not cover). Waits on conditions.
#include <gtest/gtest.h>

#include <map>
#include <set>

#include "bus/testing/in_memory_bus.h"
#include "core/codec.h"
#include "core/topics.h"
#include "exchange/coinbase/advanced_parse.h"
#include "exchange/coinbase/collector.h"
#include "exchange/simulator/simulator.h"
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

std::vector<Key> expected(const simulator::Simulator& sim, const std::string& symbol) {
  std::vector<Key> out;
  for (const auto& k : sim.kraken_history(symbol)) {  // Coinbase's µs times are these
    std::string p, q;
    simulator::append_units(p, k.trade.price);
    simulator::append_units(q, k.trade.qty);
    out.push_back({k.trade.id, norm(p), norm(q), k.trade.buyer_maker ? Side::kSell : Side::kBuy, k.time_us * 1000});
  }
  return out;
}

Key key(const Trade& t) {
  return {t.trade_id, norm(t.price.to_string()), norm(t.quantity.to_string()), t.taker_side, t.ts_event};
}

simulator::SimulatorConfig sim_config(uint64_t seed, int64_t max_trades) {
  simulator::SimulatorConfig sc;
  sc.seed = seed;
  sc.symbols = {"BTCUSD", "ETHUSD"};
  sc.rate = 2000;
  sc.max_trades = max_trades;
  sc.start_on_connect = true;
  sc.book_levels = 100;
  return sc;
}

TEST(CoinbaseAdvancedSimulatorProtocol, ContiguousSequenceNewestFirstBatchesEveryTradeOnceAndHeartbeats) {
  simulator::Simulator sim(sim_config(31, 3000));
  ASSERT_TRUE(sim.start().is_ok());
  auto ws = transport::make_ws_connection();
  ASSERT_TRUE(ws->connect(*transport::parse_url(sim.coinbase_advanced_ws_url()), 5 * kNsPerSec).is_ok());
  ASSERT_TRUE(ws->send_text(R"({"type":"subscribe","product_ids":["ZZZ-USD"],"channel":"market_trades"})").is_ok());
  AdvancedParser parser;
  AdvancedMessage m;
  auto f = ws->read_frame(5 * kNsPerSec);
  ASSERT_TRUE(f.is_ok());
  ASSERT_TRUE(parser.parse(*f, 0, m).is_ok()) << *f;
  ASSERT_EQ(m.channel, AdvancedChannel::kError);
  EXPECT_NE(m.error_message.find("ZZZ-USD is not a valid product"), std::string::npos);
  for (const char* ch : {"heartbeats", "market_trades", "level2"}) {
    ASSERT_TRUE(ws->send_text(std::string(R"({"type":"subscribe","product_ids":["BTC-USD"],"channel":")") + ch +
                              R"(","jwt":"ignored"})")
                    .is_ok());
  }
  int64_t last_seq = 0;
  size_t heartbeats = 0, subscriptions = 0, l2_snapshots = 0, l2_updates = 0;
  std::map<int64_t, Key> seen;
  size_t repeats = 0;
  bool newest_first_batch = false;
  const auto want = [&] { return sim.stats().market_ended && seen.size() >= sim.history("BTCUSD").size(); };
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (std::chrono::steady_clock::now() < deadline && !(want() && heartbeats > 0)) {
    f = ws->read_frame(300 * kNsPerMs);
    if (!f.is_ok()) continue;
    ASSERT_TRUE(parser.parse(*f, 0, m).is_ok()) << *f;
    EXPECT_EQ(m.sequence_num, last_seq + 1) << *f;  // contiguous over the connection, from 1
    last_seq = m.sequence_num;
    switch (m.channel) {
      case AdvancedChannel::kHeartbeats:
        EXPECT_EQ(m.heartbeat_counter, static_cast<int64_t>(++heartbeats));
        break;
      case AdvancedChannel::kSubscriptions:
        ++subscriptions;
        break;
      case AdvancedChannel::kL2Data:
        (m.events.at(0).snapshot ? l2_snapshots : l2_updates)++;
        break;
      case AdvancedChannel::kMarketTrades: {
        const std::string_view frame = *f;
        const auto first = frame.find("\"trade_id\":\""), second = frame.find("\"trade_id\":\"", first + 1);
        if (second != std::string_view::npos) {
          newest_first_batch = newest_first_batch ||
                               std::stoll(std::string(frame.substr(first + 12, 12))) >
                                   std::stoll(std::string(frame.substr(second + 12, 12)));
        }
        for (const auto& ev : m.events) {
          for (const auto& t : ev.trades) {
            EXPECT_EQ(t.symbol, "BTC-USD");
            if (!seen.emplace(t.trade_id, key(t)).second) ++repeats;
          }
        }
        break;
      }
      default:
        ADD_FAILURE() << *f;
    }
  }
  ws->close();
  std::vector<Key> got;
  for (const auto& [id, k] : seen) got.push_back(k);
  const auto want_trades = expected(sim, "BTCUSD");
  sim.stop();
  EXPECT_EQ(got, want_trades);  // every trade, exact price / size / taker side / time
  EXPECT_EQ(repeats, 0u);
  EXPECT_TRUE(newest_first_batch);
  EXPECT_EQ(subscriptions, 3u);
  EXPECT_EQ(l2_snapshots, 1u);
  EXPECT_GT(l2_updates, 0u);
  EXPECT_GT(heartbeats, 0u);
}

TEST(CoinbaseAdvancedCollectorSimulatorTest, EveryTradeOnceWithTakerSideAcrossDroppedConnections) {
  auto sc = sim_config(33, 6000);
  sc.faults.drop_every = 250;  // frames per connection
  simulator::Simulator sim(sc);
  ASSERT_TRUE(sim.start().is_ok());
  bus::testing::InMemoryBus bus;
  CollectorConfig c;
  c.feed = "advanced";
  c.ws_url = sim.coinbase_advanced_ws_url();
  c.rest_url = sim.rest_url();
  c.symbols = {"BTC-USD", "ETH-USD"};
  c.book = true;
  c.backoff.base_delay = 5 * kNsPerMs;
  c.backoff.max_delay = 50 * kNsPerMs;
  Collector collector(c, bus, SystemClock::instance());
  ASSERT_TRUE(collector.start().is_ok());
  const auto total = [&] { return sim.history("BTCUSD").size() + sim.history("ETHUSD").size(); };
  const bool done = bus.wait_until(
      [&] { return sim.stats().market_ended && bus.count(topics::kRawMarketData) >= total(); },
      std::chrono::seconds(90));
  const auto s = collector.stats();
  collector.stop();
  sim.stop();
  ASSERT_TRUE(done) << "published " << bus.count(topics::kRawMarketData) << " of " << total();
  std::map<std::string, std::vector<Key>> got;
  for (const auto& r : bus.records(topics::kRawMarketData)) {
    auto t = codec::decode_trade(r.value);
    ASSERT_TRUE(t.is_ok());
    got[t->symbol].push_back(key(*t));
  }
  EXPECT_EQ(got["BTC-USD"], expected(sim, "BTCUSD"));  // every trade once, in id order, exact
  EXPECT_EQ(got["ETH-USD"], expected(sim, "ETHUSD"));
  EXPECT_GT(s.reconnects, 0u);
  EXPECT_GT(s.duplicates_dropped, 0u);  // the new connections' snapshots overlapped
  EXPECT_EQ(s.trades_published, total());
  EXPECT_EQ(s.sequence_gaps, 0u);
  EXPECT_EQ(s.crossed_books, 0u);
  EXPECT_GT(s.book_snapshots, 0u);
  EXPECT_EQ(bus.count(topics::kDlqMarketData), 0u);
}

}  // namespace
}  // namespace tickflow::exchange::coinbase
