// Kraken v1 parser and book against the real recording testdata/exchanges/kraken/.
#include "exchange/kraken/parse.h"

#include <gtest/gtest.h>
#include <simdjson.h>

#include <fstream>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "exchange/kraken/book.h"
#include "exchange/kraken/rest.h"

namespace tickflow::exchange::kraken {
namespace {

struct Recorded {
  std::string raw;
  TimestampNs recv = 0;
};

// Every direction "in" frame of the recording, in receive order.
const std::vector<Recorded>& recording() {
  static const std::vector<Recorded> frames = [] {
    std::ifstream in(std::string(TICKFLOW_SOURCE_DIR) +
                     "/testdata/exchanges/kraken/kraken_2021-04-05.jsonl");
    EXPECT_TRUE(in.good());
    std::vector<Recorded> out;
    simdjson::dom::parser parser;
    std::string line;
    while (std::getline(in, line)) {
      simdjson::dom::element rec = parser.parse(line);
      if (std::string_view(rec["direction"].get_string().value()) != "in") continue;
      out.push_back(
          {std::string(rec["raw"].get_string().value()), rec["recv_ts_ns"].get_int64().value()});
    }
    return out;
  }();
  return frames;
}

TEST(KrakenParse, EveryRecordedFrameParsesAndCountsMatchTheReadme) {
  FrameParser parser;
  std::map<MessageKind, int> kinds;
  size_t trades = 0, republished = 0;
  std::set<std::string> traded;
  for (const Recorded& r : recording()) {
    ParsedMessage m;
    Status st = parser.parse(r.raw, r.recv, m);
    ASSERT_TRUE(st.is_ok()) << st.to_string() << " [" << parser.error_reason() << "] in "
                            << r.raw.substr(0, 300);
    ++kinds[m.kind];
    trades += m.trades.size();
    for (const Trade& t : m.trades) traded.insert(t.exchange_symbol);
    for (const BookEntry& e : m.asks) republished += e.republished;
    for (const BookEntry& e : m.bids) republished += e.republished;
  }
  // README message-count table: trade 12, snapshot 10, update 14496, heartbeat 357,
  // status 3, sub_ack 30, ticker 22; 28 distinct trades on ALGO/XBT DASH/EUR XBT/USD.
  EXPECT_EQ(kinds[MessageKind::kTrade], 12);
  EXPECT_EQ(kinds[MessageKind::kBookSnapshot], 10);
  EXPECT_EQ(kinds[MessageKind::kBookUpdate], 14496);
  EXPECT_EQ(kinds[MessageKind::kHeartbeat], 357);
  EXPECT_EQ(kinds[MessageKind::kSystemStatus], 3);
  EXPECT_EQ(kinds[MessageKind::kSubscriptionStatus], 30);
  EXPECT_EQ(kinds[MessageKind::kTicker], 22);
  EXPECT_EQ(trades, 28u);
  EXPECT_EQ(traded, (std::set<std::string>{"ALGO/XBT", "DASH/EUR", "XBT/USD"}));
  EXPECT_EQ(republished, 2535u);  // issue 3: "the recording has 2,535 republished levels"
}

// The key proof: every checksum of every update in the recording verifies.
TEST(KrakenBook, EveryRecordedChecksumVerifies) {
  FrameParser parser;
  std::map<int64_t, KrakenBook> books;  // by channel id
  size_t verified = 0, two_sided = 0, with_republish = 0;
  for (const Recorded& r : recording()) {
    ParsedMessage m;
    ASSERT_TRUE(parser.parse(r.raw, r.recv, m).is_ok());
    if (m.kind != MessageKind::kBookSnapshot && m.kind != MessageKind::kBookUpdate) continue;
    KrakenBook& book = books[m.channel_id];
    Status st = book.apply(m);
    ASSERT_TRUE(st.is_ok()) << st.to_string() << " [" << book.reason() << "] in "
                            << r.raw.substr(0, 300);
    if (m.kind == MessageKind::kBookUpdate) {
      ASSERT_TRUE(m.has_checksum);
      EXPECT_EQ(book.last_checksum(), m.checksum);
      ++verified;
      if (!m.asks.empty() && !m.bids.empty()) ++two_sided;
      for (const auto* side : {&m.asks, &m.bids})
        for (const BookEntry& e : *side) with_republish += e.republished;
    }
    EXPECT_LE(book.book().bid_count(), 1000u);
    EXPECT_LE(book.book().ask_count(), 1000u);
  }
  EXPECT_EQ(verified, 14496u);
  EXPECT_EQ(books.size(), 10u);
  EXPECT_GE(two_sided, 1u);
  EXPECT_EQ(with_republish, 2535u);
  size_t full_sides = 0;
  for (const auto& [id, b] : books) {
    EXPECT_TRUE(b.synced());
    EXPECT_EQ(b.checksum_failures(), 0u);
    // Every republished level was one our depth-1000 truncation had dropped: the depth
    // handling beyond the checksummed top 10 matches Kraken's.
    EXPECT_EQ(b.republish_conflicts(), 0u);
    full_sides += (b.book().bid_count() == 1000) + (b.book().ask_count() == 1000);
  }
  EXPECT_GE(full_sides, 2u);  // XBT/USD and one more side reached the depth
}

// A corrupted update (one volume changed) is caught by the checksum, and the book stays out of
// sync until the next snapshot.
TEST(KrakenBook, CorruptedUpdateIsDetected) {
  FrameParser parser;
  KrakenBook book;
  ParsedMessage snapshot;
  std::vector<std::string> updates;
  for (const Recorded& r : recording()) {
    if (r.raw.rfind("[320,", 0) != 0) continue;  // XBT/USD book channel
    if (snapshot.pair.empty()) {
      ASSERT_TRUE(parser.parse(r.raw, r.recv, snapshot).is_ok());
      ASSERT_EQ(snapshot.kind, MessageKind::kBookSnapshot);
      continue;
    }
    if (r.raw.find("\"book-1000\"") != std::string::npos) updates.push_back(r.raw);
    if (updates.size() == 50) break;
  }
  ASSERT_EQ(updates.size(), 50u);
  ASSERT_TRUE(book.apply(snapshot).is_ok());
  ParsedMessage m;
  for (size_t i = 0; i < 10; ++i) {
    ASSERT_TRUE(parser.parse(updates[i], 0, m).is_ok());
    ASSERT_TRUE(book.apply(m).is_ok());
  }
  // The next real update, with one extra entry that changes the best ask's volume by one unit
  // of its last digit (a corruption inside the checksummed top 10).
  ASSERT_TRUE(parser.parse(updates[10], 0, m).is_ok());
  ASSERT_TRUE(m.has_checksum);
  const book::Level best = *book.book().best_ask();
  m.asks.push_back(
      {best.price, Decimal(best.quantity.units() + 1, best.quantity.scale()), 0, false});
  Status st = book.apply(m);
  ASSERT_FALSE(st.is_ok());
  EXPECT_EQ(st.code(), ErrorCode::kCorruption);
  EXPECT_EQ(book.reason(), "checksum_mismatch");
  EXPECT_FALSE(book.synced());
  EXPECT_EQ(book.checksum_failures(), 1u);
  // Later valid updates are refused until a snapshot.
  ASSERT_TRUE(parser.parse(updates[20], 0, m).is_ok());
  EXPECT_FALSE(book.apply(m).is_ok());
  EXPECT_EQ(book.reason(), "out_of_sync");
  ASSERT_TRUE(book.apply(snapshot).is_ok());
  EXPECT_TRUE(book.synced());
}

// Dropping one update (a lost message) breaks the checksum at once or within a few updates.
TEST(KrakenBook, LostUpdateIsDetected) {
  FrameParser parser;
  std::map<int64_t, KrakenBook> books;
  int skipped = 0;
  bool detected = false;
  for (const Recorded& r : recording()) {
    ParsedMessage m;
    ASSERT_TRUE(parser.parse(r.raw, r.recv, m).is_ok());
    if (m.kind != MessageKind::kBookSnapshot && m.kind != MessageKind::kBookUpdate) continue;
    if (m.pair != "XBT/USD") continue;
    KrakenBook& book = books[m.channel_id];
    // Drop the 100th XBT/USD update whose first level is the best ask or best bid.
    if (m.kind == MessageKind::kBookUpdate && skipped == 0 && book.updates() >= 100 &&
        !m.asks.empty() && book.book().best_ask() &&
        m.asks[0].price == book.book().best_ask()->price) {
      skipped = 1;
      continue;
    }
    if (!book.apply(m).is_ok()) {
      EXPECT_EQ(book.reason(), "checksum_mismatch");
      detected = true;
      break;
    }
  }
  EXPECT_EQ(skipped, 1);
  EXPECT_TRUE(detected);
}

TEST(KrakenParse, KnownTradeFromRecordingAndStableKeys) {
  std::vector<Trade> first, second;
  for (std::vector<Trade>* run : {&first, &second}) {
    FrameParser parser;
    for (const Recorded& r : recording()) {
      ParsedMessage m;
      ASSERT_TRUE(parser.parse(r.raw, r.recv, m).is_ok());
      run->insert(run->end(), m.trades.begin(), m.trades.end());
    }
  }
  ASSERT_EQ(first.size(), 28u);
  std::map<std::string, std::set<int64_t>> keys;
  std::map<std::string, int64_t> last;
  for (size_t i = 0; i < first.size(); ++i) {
    EXPECT_EQ(first[i].trade_id, second[i].trade_id);  // identical on replay
    EXPECT_TRUE(keys[first[i].symbol].insert(first[i].trade_id).second);
    // Increasing per pair, consistent with the trade time.
    if (last.count(first[i].symbol)) {
      EXPECT_GT(first[i].trade_id, last[first[i].symbol]);
    }
    last[first[i].symbol] = first[i].trade_id;
    EXPECT_EQ(first[i].trade_id / 1000, first[i].ts_event / 1000);
  }
  // [321,[["58721.20000","0.02798644","1617666461.465618","s","m",""],...],"trade","XBT/USD"]
  const Trade& t = first[0];
  EXPECT_EQ(t.exchange, Exchange::kKraken);
  EXPECT_EQ(t.exchange_symbol, "XBT/USD");
  EXPECT_EQ(t.symbol, "BTC-USD");
  EXPECT_EQ(t.price.to_string(), "58721.20000");
  EXPECT_EQ(t.quantity.to_string(), "0.02798644");
  EXPECT_EQ(t.taker_side, Side::kSell);
  EXPECT_EQ(t.ts_event, 1617666461465618000LL);
  EXPECT_EQ(t.trade_id, 1617666461465618LL * 1000);
  EXPECT_EQ(t.first_trade_id, t.trade_id);
  EXPECT_EQ(t.last_trade_id, t.trade_id);
  EXPECT_FALSE(t.aggregated);
}

TEST(KrakenParse, SameMicrosecondTradesGetSuccessiveOrdinals) {
  FrameParser parser;
  ParsedMessage m;
  ASSERT_TRUE(
      parser
          .parse(
              R"([1,[["1.0","2.0","1617666461.000001","b","l",""],["1.0","2.0","1617666461.000001","b","l",""]],"trade","XDG/USD"])",
              5, m)
          .is_ok());
  ASSERT_EQ(m.trades.size(), 2u);
  EXPECT_EQ(m.trades[0].symbol, "DOGE-USD");
  EXPECT_EQ(m.trades[0].trade_id, 1617666461000001LL * 1000);
  EXPECT_EQ(m.trades[1].trade_id, 1617666461000001LL * 1000 + 1);
  EXPECT_EQ(m.trades[1].taker_side, Side::kBuy);
  // The ordinal continues into the next message of the same pair.
  ASSERT_TRUE(
      parser.parse(R"([1,[["1.0","3.0","1617666461.000001","s","m",""]],"trade","XDG/USD"])", 6, m)
          .is_ok());
  EXPECT_EQ(m.trades[0].trade_id, 1617666461000001LL * 1000 + 2);
  ASSERT_TRUE(
      parser.parse(R"([1,[["1.0","3.0","1617666461.000002","s","m",""]],"trade","XDG/USD"])", 6, m)
          .is_ok());
  EXPECT_EQ(m.trades[0].trade_id, 1617666461000002LL * 1000);
}

TEST(KrakenParse, EventsIncludingSubscriptionError) {
  FrameParser parser;
  ParsedMessage m;
  ASSERT_TRUE(
      parser
          .parse(
              R"({"connectionID":13935949241502919679,"event":"systemStatus","status":"online","version":"1.8.3"})",
              0, m)
          .is_ok());
  EXPECT_EQ(m.kind, MessageKind::kSystemStatus);
  EXPECT_EQ(m.connection_id, 13935949241502919679ULL);
  EXPECT_EQ(m.status, "online");
  EXPECT_EQ(m.version, "1.8.3");
  ASSERT_TRUE(
      parser
          .parse(
              R"({"channelID":320,"channelName":"book-1000","event":"subscriptionStatus","pair":"XBT/USD","status":"subscribed","subscription":{"depth":1000,"name":"book"}})",
              0, m)
          .is_ok());
  EXPECT_EQ(m.kind, MessageKind::kSubscriptionStatus);
  EXPECT_EQ(m.channel_id, 320);
  EXPECT_EQ(m.symbol, "BTC-USD");
  EXPECT_EQ(m.subscription_name, "book");
  EXPECT_EQ(m.subscription_depth, 1000);
  EXPECT_FALSE(m.is_error());
  // Error status (format from Kraken's v1 documentation).
  ASSERT_TRUE(
      parser
          .parse(
              R"({"errorMessage":"Currency pair not in ISO 4217-A3 format foo","event":"subscriptionStatus","pair":"XBT/USD","status":"error","subscription":{"name":"ticker"}})",
              0, m)
          .is_ok());
  EXPECT_TRUE(m.is_error());
  EXPECT_EQ(m.error_message, "Currency pair not in ISO 4217-A3 format foo");
  ASSERT_TRUE(parser.parse(R"({"event":"heartbeat"})", 0, m).is_ok());
  EXPECT_EQ(m.kind, MessageKind::kHeartbeat);
  ASSERT_TRUE(parser.parse(R"({"event":"pong","reqid":42})", 0, m).is_ok());
  EXPECT_EQ(m.kind, MessageKind::kPong);
  EXPECT_EQ(m.reqid, 42);
}

TEST(KrakenParse, MalformedFramesFailWithBoundedReasons) {
  const std::vector<std::pair<std::string, std::string_view>> cases = {
      {"", "malformed_json"},
      {"[320,{\"a\":[[\"1.0\",\"1.0\",\"1.0\"]],\"c\":\"1\"},\"book-1000\",\"XBT/USD\"",
       "malformed_json"},
      {"42", "bad_field"},
      {R"({"status":"online"})", "missing_field"},
      {R"({"event":"subscribed"})", "unknown_event"},
      {R"({"event":"systemStatus"})", "missing_field"},
      {R"({"event":"subscriptionStatus","status":"error"})", "missing_field"},
      {R"([320,{"a":[]},"book-1000","XBT/USD"])", "missing_field"},  // no checksum
      {R"([320,{"a":[["1.0","1.0","1.0"]],"c":"x1"},"book-1000","XBT/USD"])", "bad_field"},
      {R"([320,{"a":[["1.0","1.0","1.0"]],"c":"4294967296"},"book-1000","XBT/USD"])", "bad_field"},
      {R"([320,{"a":[["1.0","-1.0","1.0"]],"c":"1"},"book-1000","XBT/USD"])", "bad_decimal"},
      {R"([320,{"a":[["1e5","1.0","1.0"]],"c":"1"},"book-1000","XBT/USD"])", "bad_decimal"},
      {R"([320,{"a":[["0.0","1.0","1.0"]],"c":"1"},"book-1000","XBT/USD"])", "bad_field"},
      {R"([320,{"a":[["1.0","1.0","1.0","x"]],"c":"1"},"book-1000","XBT/USD"])", "bad_field"},
      {R"([320,{"a":[["1.0","1.0"]],"c":"1"},"book-1000","XBT/USD"])", "bad_field"},
      {R"([320,{"a":[[1.0,"1.0","1.0"]],"c":"1"},"book-1000","XBT/USD"])", "bad_field"},
      {R"([320,{"as":[],"bs":[]},{"a":[],"c":"1"},"book-1000","XBT/USD"])", "bad_field"},
      {R"([320,{"x":[]},"book-1000","XBT/USD"])", "bad_field"},
      {R"([320,{"as":[]},"book-x","XBT/USD"])", "unknown_channel"},
      {R"([320,{"as":[]},"spread","XBT/USD"])", "unknown_channel"},
      {R"([320,{"as":[]},"book-10","XBTUSD"])", "bad_symbol"},
      {R"([320,{"as":[]},"book-10"])", "missing_field"},
      {R"(["320",{"as":[]},"book-10","XBT/USD"])", "bad_field"},
      {R"([321,[],"trade","XBT/USD"])", "bad_field"},
      {R"([321,[["1.0","1.0","1.0","x","m",""]],"trade","XBT/USD"])", "bad_field"},
      {R"([321,[["1.0","1.0","1.0","b","z",""]],"trade","XBT/USD"])", "bad_field"},
      {R"([321,[["1.0","1.0","yesterday","b","m",""]],"trade","XBT/USD"])", "bad_field"},
      {R"([321,[["1.0","1.0","1.0","b","m"]],"trade","XBT/USD"])", "missing_field"},
      {R"([321,[["1.0","0.0","1.0","b","m",""]],"trade","XBT/USD"])", "bad_field"},
  };
  FrameParser parser;
  for (const auto& [frame, reason] : cases) {
    ParsedMessage m;
    Status st = parser.parse(frame, 0, m);
    EXPECT_FALSE(st.is_ok()) << frame;
    EXPECT_EQ(st.code(), ErrorCode::kParse) << frame;
    EXPECT_EQ(parser.error_reason(), reason) << frame << ": " << st.to_string();
  }
}

TEST(KrakenParse, EveryTruncationOfRecordedFramesIsAnErrorNeverACrash) {
  FrameParser parser;
  int frames = 0;
  for (const Recorded& r : recording()) {
    if (r.raw.size() > 600 || ++frames > 200) continue;
    for (size_t n = 0; n < r.raw.size(); ++n) {
      ParsedMessage m;
      EXPECT_FALSE(parser.parse(std::string_view(r.raw).substr(0, n), 0, m).is_ok())
          << r.raw.substr(0, n);
      EXPECT_FALSE(parser.error_reason().empty());
    }
  }
}

TEST(KrakenBook, UpdateBeforeSnapshotAndDepthTruncation) {
  FrameParser parser;
  KrakenBook book;
  ParsedMessage m;
  ASSERT_TRUE(
      parser.parse(R"([1,{"a":[["5.0","1.0","1.0"]],"c":"0"},"book-10","XBT/USD"])", 0, m).is_ok());
  EXPECT_FALSE(book.apply(m).is_ok());
  EXPECT_EQ(book.reason(), "update_before_snapshot");
  // Snapshot of depth 2: an insert in the middle drops the worst level (no qty-0 is sent for it).
  ASSERT_TRUE(
      parser
          .parse(
              R"([1,{"as":[["5.0","1.0","1.0"],["6.0","1.0","1.0"]],"bs":[["4.0","1.0","1.0"]]},"book-2","XBT/USD"])",
              0, m)
          .is_ok());
  ASSERT_TRUE(book.apply(m).is_ok());
  book::OrderBook expect(2);
  ASSERT_TRUE(expect.apply(book::BookSide::kAsk, Decimal(50, 1), Decimal(10, 1)).is_ok());
  ASSERT_TRUE(expect.apply(book::BookSide::kAsk, Decimal(55, 1), Decimal(20, 1)).is_ok());
  ASSERT_TRUE(expect.apply(book::BookSide::kBid, Decimal(40, 1), Decimal(10, 1)).is_ok());
  const std::string update = R"([1,{"a":[["5.5","2.0","2.0"]],"c":")" +
                             std::to_string(book::kraken_checksum(expect)) +
                             R"("},"book-2","XBT/USD"])";
  ASSERT_TRUE(parser.parse(update, 0, m).is_ok());
  ASSERT_TRUE(book.apply(m).is_ok()) << book.reason();
  EXPECT_EQ(book.book().ask_count(), 2u);
  EXPECT_EQ(book.book().top(0).asks.back().price, Decimal(55, 1));
}

// Regression (fuzz/kraken_rest_fuzz.cc, fuzz/regressions/kraken_rest/): REST Trades accepted a
// zero or negative price or volume that the WebSocket parser rejects, so such a trade could
// enter candles through backfill.
TEST(KrakenRest, NonPositivePriceOrVolumeIsRejectedAsOnTheWebSocket) {
  RestTradesPage page;
  auto body = [](const std::string& entry) {
    return R"({"error":[],"result":{"XXBTZUSD":[)" + entry + R"(],"last":"1"}})";
  };
  ASSERT_TRUE(parse_rest_trades(body(R"(["58721.2","0.5",1617666461.465618,"s","m",""])"), "XBT/USD", 0, page)
                  .is_ok());
  ASSERT_EQ(page.trades.size(), 1u);
  for (const char* entry : {R"(["58721.2","0.00000000",1617666461.465618,"s","m",""])",
                            R"(["58721.2","-0.5",1617666461.465618,"s","m",""])",
                            R"(["0.0","0.5",1617666461.465618,"b","l",""])",
                            R"(["-1","0.5",1617666461.465618,"b","l",""])"}) {
    EXPECT_EQ(parse_rest_trades(body(entry), "XBT/USD", 0, page).code(), ErrorCode::kCorruption) << entry;
  }
}

}  // namespace
}  // namespace tickflow::exchange::kraken
