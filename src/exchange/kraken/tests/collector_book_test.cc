// The Kraken v1 collector's books against scripted fakes (FakeWs, FakeHttp, InMemoryBus), fed
// the real XBT/USD book-1000 frames of testdata/exchanges/kraken (so every checksum is Kraken's
// own): verified updates, a corrupted checksum → resync (unsubscribe + subscribe, stale updates
// skipped, new snapshot), and the book equal to the reference afterwards.
#include <gtest/gtest.h>
#include <simdjson.h>

#include <algorithm>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "bus/testing/in_memory_bus.h"
#include "core/topics.h"
#include "exchange/kraken/book.h"
#include "exchange/kraken/collector.h"
#include "exchange/tests/fake_transport.h"

namespace tickflow::exchange::kraken {
namespace {

using bus::testing::InMemoryBus;
using testing::HttpScript;
using testing::WsScript;

// The recording's XBT/USD book-1000 frames, in receive order (the first is the snapshot).
const std::vector<std::string>& xbt_book_frames() {
  static const std::vector<std::string> frames = [] {
    std::ifstream in(std::string(TICKFLOW_SOURCE_DIR) + "/testdata/exchanges/kraken/kraken_2021-04-05.jsonl");
    EXPECT_TRUE(in.good());
    std::vector<std::string> out;
    simdjson::dom::parser parser;
    std::string line;
    while (std::getline(in, line)) {
      simdjson::dom::element rec = parser.parse(line);
      if (std::string_view(rec["direction"].get_string().value()) != "in") continue;
      std::string_view raw = rec["raw"].get_string().value();
      if (raw.ends_with(R"(,"book-1000","XBT/USD"])")) out.emplace_back(raw);
    }
    return out;
  }();
  return frames;
}

// A v1 snapshot frame holding exactly `b` (level timestamps are not part of the book).
std::string snapshot_of(const book::OrderBook& b) {
  const book::BookTop top = b.top(0);
  std::string s = R"([320,{"as":[)";
  for (size_t i = 0; i < top.asks.size(); ++i) {
    if (i) s += ',';
    s += "[\"" + top.asks[i].price.to_string() + "\",\"" + top.asks[i].quantity.to_string() +
         "\",\"1617666500.000000\"]";
  }
  s += R"(],"bs":[)";
  for (size_t i = 0; i < top.bids.size(); ++i) {
    if (i) s += ',';
    s += "[\"" + top.bids[i].price.to_string() + "\",\"" + top.bids[i].quantity.to_string() +
         "\",\"1617666500.000000\"]";
  }
  s += R"(]},"book-1000","XBT/USD"])";
  return s;
}

// The frame with its checksum "c" replaced by a wrong one.
std::string corrupt_checksum(std::string frame) {
  const size_t c = frame.find("\"c\":\"");
  EXPECT_NE(c, std::string::npos);
  const size_t end = frame.find('"', c + 5);
  frame.replace(c + 5, end - (c + 5), "12345");
  return frame;
}

constexpr std::string_view kStatus =
    R"({"connectionID":13935949241502919679,"event":"systemStatus","status":"online","version":"1.8.3"})";
constexpr std::string_view kTradeAck =
    R"({"channelID":321,"channelName":"trade","event":"subscriptionStatus","pair":"XBT/USD","status":"subscribed","subscription":{"name":"trade"}})";
constexpr std::string_view kBookAck =
    R"({"channelID":320,"channelName":"book-1000","event":"subscriptionStatus","pair":"XBT/USD","status":"subscribed","subscription":{"depth":1000,"name":"book"}})";

CollectorConfig config() {
  CollectorConfig c;
  c.ws_url = "wss://ws.kraken.test";
  c.rest_url = "https://api.kraken.test";
  c.symbols = {"BTC-USD"};
  c.book_depth = 1000;
  c.fetch_instruments = false;  // no AssetPairs in these scripts
  c.backoff.base_delay = kNsPerMs;
  c.backoff.max_delay = 5 * kNsPerMs;
  return c;
}

TEST(KrakenCollectorBookTest, BookDepthMustBeOneOfKrakens) {
  for (int depth : {10, 25, 100, 500, 1000, 0}) {
    auto c = config();
    c.book_depth = depth;
    EXPECT_TRUE(validate(c).is_ok()) << depth;
  }
  for (int depth : {1, 20, 50, 2000, -10}) {
    auto c = config();
    c.book_depth = depth;
    const Status st = validate(c);
    ASSERT_FALSE(st.is_ok()) << depth;
    EXPECT_NE(st.message().find("collector.kraken.book_depth: " + std::to_string(depth)), std::string::npos)
        << st.message();
  }
}

transport::HttpResponse ok_body(std::string body) {
  transport::HttpResponse r;
  r.status = 200;
  r.body = std::move(body);
  return r;
}

constexpr std::string_view kAssetPairs =
    R"({"error":[],"result":{"XXBTZUSD":{"altname":"XBTUSD","wsname":"XBT/USD","base":"XXBT","quote":"ZUSD","pair_decimals":1,"lot_decimals":8,"tick_size":"0.1","status":"online"},"XETHZUSD":{"altname":"ETHUSD","wsname":"ETH/USD","base":"XETH","quote":"ZUSD","pair_decimals":2,"lot_decimals":8,"tick_size":"0.01","status":"online"}}})";

TEST(KrakenCollectorConfigTest, StartResolvesSymbolsThroughAssetPairs) {
  for (const auto& [symbols, error] :
       std::vector<std::pair<std::vector<std::string>, std::string>>{
           {{"BTC-USD", "ETH/USD"}, ""},
           {{"BTC-USD", "FOO-USD"}, "collector.kraken.symbols: unknown kraken symbol(s): FOO-USD"}}) {
    WsScript ws;
    HttpScript http;
    http.set_handler([](const transport::Url& url) -> Result<transport::HttpResponse> {
      EXPECT_EQ(url.target, "/0/public/AssetPairs");
      return ok_body(std::string(kAssetPairs));
    });
    auto c = config();
    c.fetch_instruments = true;
    c.symbols = symbols;
    InMemoryBus bus;
    Collector collector(c, bus, SystemClock::instance(), ws.make(), http.make());
    const Status st = collector.start();
    if (error.empty()) {
      EXPECT_TRUE(st.is_ok()) << st.to_string();
      ASSERT_TRUE(bus.wait_until([&] { return ws.sent().size() >= 2; }));
      EXPECT_EQ(ws.sent()[0], R"({"event":"subscribe","pair":["XBT/USD","ETH/USD"],"subscription":{"name":"trade"}})");
    } else {
      ASSERT_FALSE(st.is_ok());
      EXPECT_EQ(st.message().rfind(error, 0), 0u) << st.message();
      EXPECT_TRUE(ws.connect_urls().empty());  // nothing subscribed
    }
    collector.stop();
  }
}

TEST(KrakenCollectorConfigTest, AtMostTwentyConnectionsPerHost) {
  std::vector<std::unique_ptr<Collector>> running;
  std::vector<WsScript> scripts(kMaxConnectionsPerIp + 1);
  HttpScript http;
  InMemoryBus bus;
  for (int i = 0; i < kMaxConnectionsPerIp; ++i) {
    running.push_back(std::make_unique<Collector>(config(), bus, SystemClock::instance(), scripts[i].make(), http.make()));
    ASSERT_TRUE(running.back()->start().is_ok()) << i;
  }
  Collector extra(config(), bus, SystemClock::instance(), scripts.back().make(), http.make());
  const Status st = extra.start();
  ASSERT_FALSE(st.is_ok());
  EXPECT_EQ(st.code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(st.message().find("would open 21 WebSocket connections to ws.kraken.test; Kraken allows at most 20 per IP"),
            std::string::npos)
      << st.message();
  running.back()->stop();  // one stops: its slot is free again
  Collector again(config(), bus, SystemClock::instance(), WsScript().make(), http.make());
  EXPECT_TRUE(again.start().is_ok());
  again.stop();
  for (auto& c : running) c->stop();
}

TEST(KrakenCollectorBookTest, ChecksumMismatchResubscribesAndTheNewSnapshotResyncs) {
  const auto& frames = xbt_book_frames();
  ASSERT_GT(frames.size(), 400u);
  constexpr size_t kBad = 200;  // the update whose "c" is corrupted
  constexpr size_t kStale = 3;  // updates still in flight for the old subscription
  const size_t kEnd = 400;

  // Reference: the recording applied in order (every checksum verifies).
  FrameParser ref_parser;
  KrakenBook ref(1000);
  std::string resync_snapshot;
  uint32_t final_checksum = 0;
  for (size_t i = 0; i < kEnd; ++i) {
    ParsedMessage m;
    ASSERT_TRUE(ref_parser.parse(frames[i], 0, m).is_ok());
    ASSERT_TRUE(ref.apply(m).is_ok()) << i << ": " << ref.reason();
    if (i == kBad + kStale) resync_snapshot = snapshot_of(ref.book());
    if (i + 1 == kEnd) final_checksum = m.checksum;
  }

  WsScript ws;
  HttpScript http;
  ws.frame(std::string(kStatus));
  ws.frame(std::string(kTradeAck));
  ws.frame(std::string(kBookAck));
  for (size_t i = 0; i < kBad; ++i) ws.frame(frames[i]);
  ws.frame(corrupt_checksum(frames[kBad]));
  for (size_t i = kBad + 1; i <= kBad + kStale; ++i) ws.frame(frames[i]);
  ws.frame(R"({"channelID":320,"channelName":"book-1000","event":"subscriptionStatus","pair":"XBT/USD","status":"unsubscribed","subscription":{"depth":1000,"name":"book"}})");
  ws.frame(std::string(kBookAck));
  ws.frame(resync_snapshot);
  for (size_t i = kBad + kStale + 1; i < kEnd; ++i) ws.frame(frames[i]);

  InMemoryBus bus;
  Collector collector(config(), bus, SystemClock::instance(), ws.make(), http.make());
  ASSERT_TRUE(collector.start().is_ok());
  const uint64_t want_updates = kEnd - 1 - kStale - 1;  // all but the snapshot, the bad one and the stale ones
  const bool done = bus.wait_until(
      [&] {
        auto b = collector.book("BTC-USD");
        return b && b->synced && collector.stats().book_updates >= want_updates;
      },
      std::chrono::seconds(20));
  const auto stats = collector.stats();
  const auto view = collector.book("XBT/USD");
  collector.stop();
  ASSERT_TRUE(done) << stats.book_updates << " of " << want_updates;

  EXPECT_EQ(stats.book_snapshots, 2u);  // the first and the resync's
  EXPECT_EQ(stats.book_updates, want_updates);
  EXPECT_EQ(stats.checksum_mismatches, 1u);
  EXPECT_EQ(stats.book_resyncs, 1u);
  EXPECT_EQ(stats.book_stale, kStale);
  EXPECT_EQ(bus.count(topics::kDlqMarketData), 0u);

  // After the resync every update verified again, and the book is the reference's.
  ASSERT_TRUE(view && view->synced);
  EXPECT_EQ(view->checksum, final_checksum);
  EXPECT_EQ(view->checksum, book::kraken_checksum(ref.book()));
  const book::BookTop want = ref.book().top(10);
  EXPECT_EQ(view->top.bids, want.bids);
  EXPECT_EQ(view->top.asks, want.asks);

  // Subscribes on connect, then exactly one unsubscribe + subscribe of this pair's book.
  const auto sent = ws.sent();
  ASSERT_EQ(sent.size(), 4u);
  EXPECT_EQ(sent[0], R"({"event":"subscribe","pair":["XBT/USD"],"subscription":{"name":"trade"}})");
  EXPECT_EQ(sent[1], R"({"event":"subscribe","pair":["XBT/USD"],"subscription":{"name":"book","depth":1000}})");
  EXPECT_EQ(sent[2], R"({"event":"unsubscribe","pair":["XBT/USD"],"subscription":{"name":"book","depth":1000}})");
  EXPECT_EQ(sent[3], sent[1]);
}

TEST(KrakenCollectorBookTest, ReconnectRestartsTheBookFromTheNewSnapshot) {
  const auto& frames = xbt_book_frames();
  constexpr size_t kCut = 100, kEnd = 180;
  FrameParser ref_parser;
  KrakenBook ref(1000);
  std::string snapshot_at_cut;
  for (size_t i = 0; i < kEnd; ++i) {
    ParsedMessage m;
    ASSERT_TRUE(ref_parser.parse(frames[i], 0, m).is_ok());
    ASSERT_TRUE(ref.apply(m).is_ok());
    if (i == kCut + 10) snapshot_at_cut = snapshot_of(ref.book());  // 10 updates lost with the link
  }
  WsScript ws;
  HttpScript http;
  ws.frame(std::string(kStatus));
  ws.frame(std::string(kBookAck));
  for (size_t i = 0; i <= kCut; ++i) ws.frame(frames[i]);
  ws.disconnect();
  ws.frame(std::string(kStatus));
  ws.frame(std::string(kBookAck));
  ws.frame(snapshot_at_cut);
  for (size_t i = kCut + 11; i < kEnd; ++i) ws.frame(frames[i]);

  InMemoryBus bus;
  Collector collector(config(), bus, SystemClock::instance(), ws.make(), http.make());
  ASSERT_TRUE(collector.start().is_ok());
  const uint64_t want_updates = kCut + (kEnd - kCut - 11);
  const bool done =
      bus.wait_until([&] { return collector.stats().book_updates >= want_updates; }, std::chrono::seconds(20));
  const auto stats = collector.stats();
  const auto view = collector.book("BTC-USD");
  collector.stop();
  ASSERT_TRUE(done) << stats.book_updates;
  EXPECT_EQ(stats.reconnects, 1u);
  EXPECT_EQ(stats.book_snapshots, 2u);
  EXPECT_EQ(stats.checksum_mismatches, 0u);
  ASSERT_TRUE(view && view->synced);
  EXPECT_EQ(view->checksum, book::kraken_checksum(ref.book()));
  EXPECT_EQ(view->top.bids, ref.book().top(10).bids);
}

}  // namespace
}  // namespace tickflow::exchange::kraken
