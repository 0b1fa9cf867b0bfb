// The Coinbase collector's level2 books against scripted fakes (FakeWs records what the
// collector sends): snapshot + l2update → the book, updates before the snapshot dropped, a
// crossed book → unsubscribe + subscribe of that product's level2 channel and a fresh snapshot,
// a reconnect → every book rebuilt from the new subscription's snapshot.
#include <gtest/gtest.h>

#include "bus/testing/in_memory_bus.h"
#include "core/codec.h"
#include "core/topics.h"
#include "exchange/coinbase/collector.h"
#include "exchange/tests/fake_transport.h"

namespace tickflow::exchange::coinbase {
namespace {

using bus::testing::InMemoryBus;
using testing::HttpScript;
using testing::WsScript;

CollectorConfig book_config() {
  CollectorConfig c;
  c.ws_url = "ws://127.0.0.1:9";
  c.rest_url = "http://127.0.0.1:9";
  c.symbols = {"BTC-USD", "ETH-USD"};
  c.book = true;
  c.book_output.interval = 0;
  c.resolve_products = false;
  c.backoff.base_delay = 1 * kNsPerMs;
  c.backoff.max_delay = 5 * kNsPerMs;
  c.backoff.breaker_cooldown = 5 * kNsPerMs;
  return c;
}

// As in testdata/exchanges/coinbase (key order of the recording).
std::string snapshot(std::string_view product, std::string_view bids, std::string_view asks) {
  return R"({"type":"snapshot","product_id":")" + std::string(product) + R"(","asks":)" + std::string(asks) +
         R"(,"bids":)" + std::string(bids) + "}";
}
std::string l2update(std::string_view product, std::string_view changes) {
  return R"({"type":"l2update","product_id":")" + std::string(product) + R"(","changes":)" + std::string(changes) +
         R"(,"time":"2021-04-17T16:43:37.075687Z"})";
}

using Levels = std::vector<std::pair<std::string, std::string>>;
Levels levels(const std::vector<book::Level>& side) {
  Levels out;
  for (const auto& l : side) out.emplace_back(l.price.to_string(), l.quantity.to_string());
  return out;
}

class CoinbaseBookTest : public ::testing::Test {
 protected:
  std::unique_ptr<Collector> make(CollectorConfig config = book_config()) {
    return std::make_unique<Collector>(std::move(config), bus_, clock_, ws_.make(), http_.make());
  }
  bool wait_frames(const Collector& c, uint64_t n) {
    return bus_.wait_until([&] { return c.stats().frames >= n; });
  }
  InMemoryBus bus_;
  ManualClock clock_{1618677817000000000};
  WsScript ws_;
  HttpScript http_;
};

TEST(CoinbaseBookConfig, Level2ChannelJoinsTheSubscriptionAndLevel2NeedsCredentials) {
  CollectorConfig c = book_config();
  auto m = subscribe_message(c, "1618677817");
  ASSERT_TRUE(m.is_ok());
  EXPECT_EQ(*m,
            R"({"type":"subscribe","product_ids":["BTC-USD","ETH-USD"],"channels":["heartbeat","matches","level2_batch"]})");
  c.level2_channel = "level3";
  EXPECT_NE(validate(c).message().find("level2_channel"), std::string::npos);
  c.level2_channel = "level2";  // Coinbase: level2 requires authentication
  EXPECT_NE(validate(c).message().find("authenticated"), std::string::npos);
  c.api_key = "k";
  c.api_secret = "c2VjcmV0";
  c.api_passphrase = "p";
  EXPECT_TRUE(validate(c).is_ok()) << validate(c).to_string();
}

TEST_F(CoinbaseBookTest, SnapshotPlusUpdatesMakeTheBookAndEarlierUpdatesAreDropped) {
  auto c = make();
  ASSERT_TRUE(c->start().is_ok());
  ws_.frame(l2update("BTC-USD", R"([["buy","99.00","5"]])"));  // before the snapshot
  ws_.frame(snapshot("BTC-USD", R"([["100.00","1.5"],["99.50","2"]])", R"([["100.50","3"],["101.00","4"]])"));
  ws_.frame(l2update("BTC-USD", R"([["buy","100.00","0"],["buy","100.25","0.7"],["sell","100.50","2.5"]])"));
  ws_.frame(l2update("BTC-USD", R"([["sell","101.00","0"]])"));
  ASSERT_TRUE(wait_frames(*c, 4));
  auto top = c->book_top("BTC-USD", 10);
  ASSERT_TRUE(top.is_ok()) << top.status().to_string();
  EXPECT_EQ(levels(top->bids), (Levels{{"100.25", "0.7"}, {"99.50", "2"}}));
  EXPECT_EQ(levels(top->asks), (Levels{{"100.50", "2.5"}}));
  EXPECT_FALSE(c->book_top("ETH-USD", 10).is_ok());  // no snapshot yet
  const auto s = c->stats();
  EXPECT_EQ(s.book_snapshots, 1u);
  EXPECT_EQ(s.book_updates, 2u);
  EXPECT_EQ(s.book_updates_dropped, 1u);
  EXPECT_EQ(s.book_resyncs, 0u);
  EXPECT_EQ(s.crossed_books, 0u);
  EXPECT_EQ(s.book_published, 3u);  // interval 0: every applied message
  c->stop();
  // The snapshots on raw.orderbook (BookOutput), the last one = the book above.
  const auto recs = bus_.records(topics::kRawOrderbook);
  ASSERT_EQ(recs.size(), 3u);
  EXPECT_EQ(recs.back().key, "coinbase:BTC-USD");
  auto snap = codec::decode_book(recs.back().value);
  ASSERT_TRUE(snap.is_ok()) << snap.status().to_string();
  EXPECT_EQ(snap->symbol, "BTC-USD");
  EXPECT_FALSE(snap->crossed);
  ASSERT_EQ(snap->bids.size(), 2u);
  EXPECT_EQ(snap->bids[0].price.to_string(), "100.25");
  ASSERT_EQ(snap->asks.size(), 1u);
  EXPECT_EQ(snap->asks[0].quantity.to_string(), "2.5");
  EXPECT_EQ(ws_.sent().size(), 1u);  // just the connect's subscribe
}

TEST_F(CoinbaseBookTest, CrossedBookResubscribesThatProductAndRebuildsFromTheNewSnapshot) {
  auto c = make();
  ASSERT_TRUE(c->start().is_ok());
  ws_.frame(snapshot("BTC-USD", R"([["100.00","1"]])", R"([["100.50","1"]])"));
  ws_.frame(snapshot("ETH-USD", R"([["10.00","1"]])", R"([["10.50","1"]])"));
  ws_.frame(l2update("BTC-USD", R"([["buy","100.50","2"]])"));  // bid at the ask: a lost update
  ASSERT_TRUE(wait_frames(*c, 3));
  EXPECT_FALSE(c->book_top("BTC-USD", 10).is_ok());
  EXPECT_TRUE(c->book_top("ETH-USD", 10).is_ok());  // the other product is untouched
  auto sent = ws_.sent();
  ASSERT_EQ(sent.size(), 3u);
  EXPECT_EQ(sent[1], R"({"type":"unsubscribe","product_ids":["BTC-USD"],"channels":["level2_batch"]})");
  EXPECT_EQ(sent[2], R"({"type":"subscribe","product_ids":["BTC-USD"],"channels":["level2_batch"]})");
  ws_.frame(l2update("BTC-USD", R"([["sell","101.00","1"]])"));  // in flight: dropped
  ws_.frame(l2update("BTC-USD", R"([["buy","100.60","1"]])"));   // would cross again: dropped
  ws_.frame(snapshot("BTC-USD", R"([["100.40","3"]])", R"([["100.60","2"]])"));
  ws_.frame(l2update("BTC-USD", R"([["buy","100.45","1"]])"));
  ASSERT_TRUE(wait_frames(*c, 7));
  auto top = c->book_top("BTC-USD", 10);
  ASSERT_TRUE(top.is_ok());
  EXPECT_EQ(levels(top->bids), (Levels{{"100.45", "1"}, {"100.40", "3"}}));
  EXPECT_EQ(levels(top->asks), (Levels{{"100.60", "2"}}));
  const auto s = c->stats();
  EXPECT_EQ(s.crossed_books, 1u);
  EXPECT_EQ(s.book_resyncs, 1u);
  EXPECT_EQ(s.book_updates_dropped, 2u);
  EXPECT_EQ(s.book_snapshots, 3u);
  c->stop();
  EXPECT_EQ(ws_.sent().size(), 3u);  // one resubscription only
}

TEST_F(CoinbaseBookTest, ReconnectRebuildsEveryBookFromTheNewSubscription) {
  auto c = make();
  ASSERT_TRUE(c->start().is_ok());
  ws_.frame(snapshot("BTC-USD", R"([["100.00","1"]])", R"([["100.50","1"]])"));
  ws_.frame(l2update("BTC-USD", R"([["buy","99.00","1"]])"));
  ASSERT_TRUE(wait_frames(*c, 2));
  ws_.disconnect();
  ws_.frame(l2update("BTC-USD", R"([["buy","98.00","1"]])"));  // new connection, no snapshot yet
  ws_.frame(snapshot("BTC-USD", R"([["100.10","5"]])", R"([["100.20","6"]])"));
  ASSERT_TRUE(wait_frames(*c, 4));
  auto top = c->book_top("BTC-USD", 10);
  ASSERT_TRUE(top.is_ok());
  EXPECT_EQ(levels(top->bids), (Levels{{"100.10", "5"}}));  // nothing of the old connection
  EXPECT_EQ(levels(top->asks), (Levels{{"100.20", "6"}}));
  const auto s = c->stats();
  EXPECT_EQ(s.reconnects, 1u);
  EXPECT_EQ(s.book_resyncs, 1u);  // BTC-USD was in sync; ETH-USD never was
  EXPECT_EQ(s.book_updates_dropped, 1u);
  c->stop();
  auto sent = ws_.sent();
  ASSERT_EQ(sent.size(), 2u);  // the full subscription on each connect
  EXPECT_EQ(sent[0], sent[1]);
}

TEST_F(CoinbaseBookTest, BooksOffIgnoresLevel2) {
  CollectorConfig cfg = book_config();
  cfg.book = false;
  auto c = make(cfg);
  ASSERT_TRUE(c->start().is_ok());
  ws_.frame(snapshot("BTC-USD", R"([["100.00","1"]])", R"([["100.50","1"]])"));
  ASSERT_TRUE(wait_frames(*c, 1));
  EXPECT_EQ(c->book_top("BTC-USD", 10).status().code(), ErrorCode::kNotFound);
  EXPECT_EQ(c->stats().ignored, 1u);
  c->stop();
}

}  // namespace
}  // namespace tickflow::exchange::coinbase
