// Coinbase level2 against the in-process simulator (ws://.../coinbase): the simulator's
// snapshot + l2update stream read with the collector's own parser rebuilds exactly the
// simulator's book (compared with its REST depth once the market has ended), and the collector
// with `book = true` keeps every product's book exact across dropped connections (each
// reconnect a counted resync from a fresh snapshot), never crossed, while its trades stay
// exactly-once. Waits on conditions.
#include <gtest/gtest.h>

#include <simdjson.h>

#include <map>
#include <set>
#include <string>
#include <vector>

#include "bus/testing/in_memory_bus.h"
#include "core/codec.h"
#include "core/topics.h"
#include "exchange/coinbase/collector.h"
#include "exchange/coinbase/parse.h"
#include "exchange/simulator/simulator.h"
#include "exchange/transport/http_client.h"
#include "exchange/transport/ws_connection.h"

namespace tickflow::exchange::coinbase {
namespace {

using Levels = std::vector<std::pair<std::string, std::string>>;

std::string norm(std::string s) {
  if (s.find('.') == std::string::npos) return s;
  while (s.back() == '0') s.pop_back();
  if (s.back() == '.') s.pop_back();
  return s;
}

Levels levels(const std::vector<book::Level>& side) {
  Levels out;
  for (const auto& l : side) out.emplace_back(norm(l.price.to_string()), norm(l.quantity.to_string()));
  return out;
}

// The simulator's book now, from its REST depth (Binance's /api/v3/depth on the same model).
bool rest_book(const simulator::Simulator& sim, const std::string& symbol, Levels& bids, Levels& asks) {
  auto http = transport::make_http_client();
  auto url = transport::parse_url(sim.rest_url() + "/api/v3/depth?symbol=" + symbol + "&limit=1000");
  if (!url) return false;
  auto res = http->get(*url, {}, 5 * kNsPerSec);
  if (!res || res->status != 200) return false;
  simdjson::dom::parser p;
  simdjson::dom::element doc;
  if (p.parse(res->body).get(doc) != simdjson::SUCCESS) return false;
  bids.clear();
  asks.clear();
  for (auto [key, out] : {std::pair<const char*, Levels*>{"bids", &bids}, {"asks", &asks}}) {
    simdjson::dom::array arr;
    if (doc[key].get_array().get(arr) != simdjson::SUCCESS) return false;
    for (auto lv : arr) {
      std::string_view price, qty;
      if (lv.at(0).get_string().get(price) != simdjson::SUCCESS || lv.at(1).get_string().get(qty) != simdjson::SUCCESS) {
        return false;
      }
      out->emplace_back(norm(std::string(price)), norm(std::string(qty)));
    }
  }
  return true;
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

TEST(CoinbaseSimulatorLevel2, SnapshotPlusUpdatesRebuildTheSimulatorsBookExactly) {
  simulator::Simulator sim(sim_config(21, 4000));
  ASSERT_TRUE(sim.start().is_ok());
  auto ws = transport::make_ws_connection();
  ASSERT_TRUE(ws->connect(*transport::parse_url(sim.coinbase_ws_url()), 5 * kNsPerSec).is_ok());
  ASSERT_TRUE(ws->send_text(R"({"type":"subscribe","product_ids":["BTC-USD"],"channels":["level2_batch"]})").is_ok());
  FrameParser parser;
  ParsedMessage m;
  auto f = ws->read_frame(5 * kNsPerSec);
  ASSERT_TRUE(f.is_ok());
  ASSERT_TRUE(parser.parse(*f, 0, m).is_ok()) << *f;
  ASSERT_EQ(m.kind, MessageKind::kSubscriptions);
  ASSERT_EQ(m.subscriptions.size(), 1u);
  EXPECT_EQ(m.subscriptions[0].name, "level2_batch");
  f = ws->read_frame(5 * kNsPerSec);
  ASSERT_TRUE(f.is_ok());
  ASSERT_TRUE(parser.parse(*f, 0, m).is_ok()) << *f;
  ASSERT_EQ(m.kind, MessageKind::kSnapshot);  // right after the ack
  EXPECT_EQ(m.product_id, "BTC-USD");
  book::OrderBook book;
  ASSERT_TRUE(apply_to_book(m, book).is_ok());
  EXPECT_GT(book.bid_count(), 0u);
  EXPECT_GT(book.ask_count(), 0u);
  size_t updates = 0, crossed = 0;
  bool equal = false;
  Levels want_bids, want_asks;
  // Read until the market has ended and the book equals the simulator's (or 60 s).
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (!equal && std::chrono::steady_clock::now() < deadline) {
    f = ws->read_frame(200 * kNsPerMs);
    if (f.is_ok()) {
      ASSERT_TRUE(parser.parse(*f, 0, m).is_ok()) << *f;
      ASSERT_EQ(m.kind, MessageKind::kL2Update) << *f;
      ASSERT_EQ(m.product_id, "BTC-USD");
      EXPECT_GT(m.time, 0);
      ASSERT_TRUE(apply_to_book(m, book).is_ok());
      ++updates;
      if (book.crossed()) ++crossed;
      continue;
    }
    if (!sim.stats().market_ended) continue;
    ASSERT_TRUE(rest_book(sim, "BTCUSD", want_bids, want_asks));
    const auto top = book.top(0);
    equal = levels(top.bids) == want_bids && levels(top.asks) == want_asks;
  }
  ws->close();
  sim.stop();
  EXPECT_TRUE(equal) << "book differs from the simulator's after " << updates << " l2updates";
  EXPECT_GT(updates, 10u);
  EXPECT_EQ(crossed, 0u);
}

// Waits (90 s at most) until the market has ended, the bus holds as many trades as the
// simulator made for BTC-USD and ETH-USD, and the collector's books of both equal the
// simulator's (its REST depth).
bool wait_trades_and_books_exact(const simulator::Simulator& sim, Collector& collector,
                                 bus::testing::InMemoryBus& bus) {
  Levels btc_bids, btc_asks, eth_bids, eth_asks;
  auto same = [&](const std::string& product, const Levels& bids, const Levels& asks) {
    auto top = collector.book_top(product, 0);
    return top.is_ok() && levels(top->bids) == bids && levels(top->asks) == asks;
  };
  return bus.wait_until(
      [&] {
        if (!sim.stats().market_ended) return false;
        const size_t trades = sim.history("BTCUSD").size() + sim.history("ETHUSD").size();
        if (bus.count(topics::kRawMarketData) < trades) return false;
        return rest_book(sim, "BTCUSD", btc_bids, btc_asks) && rest_book(sim, "ETHUSD", eth_bids, eth_asks) &&
               same("BTC-USD", btc_bids, btc_asks) && same("ETH-USD", eth_bids, eth_asks);
      },
      std::chrono::seconds(90));
}

TEST(CoinbaseSimulatorLevel2, CollectorBooksStayExactAcrossDroppedConnections) {
  auto sc = sim_config(23, 3000);
  sc.faults.drop_every = 700;  // frames per connection
  simulator::Simulator sim(sc);
  ASSERT_TRUE(sim.start().is_ok());
  bus::testing::InMemoryBus bus;
  CollectorConfig c;
  c.ws_url = sim.coinbase_ws_url();
  c.rest_url = sim.rest_url();
  c.symbols = {"BTC-USD", "ETH-USD"};
  c.book = true;
  c.backoff.base_delay = 5 * kNsPerMs;
  c.backoff.max_delay = 50 * kNsPerMs;
  Collector collector(c, bus, SystemClock::instance());
  ASSERT_TRUE(collector.start().is_ok());
  const bool done = wait_trades_and_books_exact(sim, collector, bus);
  const auto s = collector.stats();
  collector.stop();
  sim.stop();
  EXPECT_TRUE(done) << "books or trades not exact at the end";
  EXPECT_GT(s.reconnects, 0u);
  EXPECT_GE(s.book_resyncs, s.reconnects);  // both books resync on every reconnect (once in sync)
  EXPECT_GE(s.book_snapshots, 2 * (s.reconnects + 1));
  EXPECT_EQ(s.crossed_books, 0u);
  EXPECT_GT(s.book_updates, 0u);
  EXPECT_GT(s.book_published, 0u);
  EXPECT_EQ(s.trades_published, bus.count(topics::kRawMarketData));
  EXPECT_EQ(bus.count(topics::kDlqMarketData), 0u);
}

// Advanced Trade: every 150th live message of a connection is numbered but never sent (a
// sequence_num gap, Faults::advanced_sequence_gap_every). Each gap makes the collector repair
// every product (REST backfill of trades, book resubscribed from a fresh snapshot): at the end
// every trade is published once and both books equal the simulator's.
TEST(CoinbaseSimulatorLevel2, AdvancedTradeSequenceGapsAreRepairedTradesAndBooksExact) {
  auto sc = sim_config(29, 4000);
  sc.faults.advanced_sequence_gap_every = 150;
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
  const bool done = wait_trades_and_books_exact(sim, collector, bus);
  const auto s = collector.stats();
  collector.stop();
  sim.stop();
  EXPECT_TRUE(done) << "books or trades not exact at the end";
  std::map<std::string, std::set<int64_t>> ids;
  size_t records = 0;
  for (const auto& r : bus.records(topics::kRawMarketData)) {
    auto t = codec::decode_trade(r.value);
    ASSERT_TRUE(t.is_ok());
    ++records;
    EXPECT_TRUE(ids[t->symbol].insert(t->trade_id).second) << "trade " << t->trade_id << " published twice";
  }
  EXPECT_EQ(ids["BTC-USD"].size(), sim.history("BTCUSD").size());
  EXPECT_EQ(ids["ETH-USD"].size(), sim.history("ETHUSD").size());
  EXPECT_EQ(records, sim.history("BTCUSD").size() + sim.history("ETHUSD").size());
  EXPECT_GT(sim.stats().sequence_gaps_made, 0u);
  EXPECT_GT(s.sequence_gaps, 0u);
  EXPECT_GT(s.book_resyncs, 0u);
  EXPECT_EQ(s.crossed_books, 0u);
  EXPECT_EQ(bus.count(topics::kDlqMarketData), 0u);
}

// The simulator serves GET /products (its model's products): the collector resolves against it.
TEST(CoinbaseSimulatorProducts, ProductsResolveAgainstTheSimulatorAndUnknownOnesFailStart) {
  simulator::Simulator sim(sim_config(25, 100));
  ASSERT_TRUE(sim.start().is_ok());
  bus::testing::InMemoryBus bus;
  CollectorConfig c;
  c.ws_url = sim.coinbase_ws_url();
  c.rest_url = sim.rest_url();
  c.symbols = {"eth-usd", "BTC-USD"};
  {
    Collector ok(c, bus, SystemClock::instance());
    ASSERT_TRUE(ok.start().is_ok());
    const auto ins = ok.instruments();
    ASSERT_EQ(ins.size(), 2u);
    EXPECT_EQ(ins[0].symbol, "ETH-USD");
    EXPECT_EQ(ins[1].base, "BTC");
    EXPECT_EQ(ins[1].quote, "USD");
    EXPECT_FALSE(ins[1].price_increment.is_zero());
    EXPECT_FALSE(ins[1].size_increment.is_zero());
    ok.stop();
  }
  c.symbols = {"BTC-USD", "DOGE-EUR"};
  Collector bad(c, bus, SystemClock::instance());
  const Status st = bad.start();
  sim.stop();
  EXPECT_EQ(st.code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(st.message().find("DOGE-EUR"), std::string::npos) << st.message();
}

}  // namespace
}  // namespace tickflow::exchange::coinbase
