// Kraken WebSocket v2 parser (v2_parse.h): the documented message shapes, and book checksums on
// real data — the recording's XBT/USD v1 book stream re-encoded as v2 messages the way v2 prints
// them (JSON numbers, trailing zeros dropped, the checksum on the snapshot and every update).
#include "exchange/kraken/v2_parse.h"

#include <gtest/gtest.h>
#include <simdjson.h>

#include <fstream>
#include <string>
#include <vector>

#include "exchange/kraken/book.h"

namespace tickflow::exchange::kraken {
namespace {

TEST(KrakenV2Parse, StatusHeartbeatAcksErrorsPong) {
  V2Parser p;
  ParsedMessage m;
  ASSERT_TRUE(p.parse(R"({"channel":"status","type":"update","data":[{"version":"2.0.0","system":"online","api_version":"v2","connection_id":12393906104898154338}]})", 1, m).is_ok());
  EXPECT_EQ(m.kind, MessageKind::kSystemStatus);
  EXPECT_EQ(m.status, "online");
  EXPECT_EQ(m.version, "2.0.0");
  EXPECT_EQ(m.connection_id, 12393906104898154338ull);

  ASSERT_TRUE(p.parse(R"({"channel":"heartbeat"})", 1, m).is_ok());
  EXPECT_EQ(m.kind, MessageKind::kHeartbeat);

  ASSERT_TRUE(p.parse(R"({"method":"subscribe","result":{"channel":"book","depth":10,"snapshot":true,"symbol":"ALGO/USD"},"success":true,"time_in":"2023-10-06T17:35:55.219022Z","time_out":"2023-10-06T17:35:55.219067Z"})", 1, m).is_ok());
  EXPECT_EQ(m.kind, MessageKind::kSubscriptionStatus);
  EXPECT_EQ(m.status, "subscribed");
  EXPECT_EQ(m.subscription_name, "book");
  EXPECT_EQ(m.subscription_depth, 10);
  EXPECT_EQ(m.pair, "ALGO/USD");
  EXPECT_EQ(m.symbol, "ALGO-USD");
  EXPECT_FALSE(m.is_error());

  ASSERT_TRUE(p.parse(R"({"error":"Currency pair not supported","method":"subscribe","req_id":7,"success":false,"symbol":"FOO/USD","time_in":"2023-10-06T17:35:55.219022Z","time_out":"2023-10-06T17:35:55.219067Z"})", 1, m).is_ok());
  EXPECT_TRUE(m.is_error());
  EXPECT_EQ(m.error_message, "Currency pair not supported");
  EXPECT_EQ(m.pair, "FOO/USD");
  EXPECT_EQ(m.reqid, 7);

  ASSERT_TRUE(p.parse(R"({"method":"unsubscribe","result":{"channel":"trade","symbol":"BTC/USD"},"success":true})", 1, m).is_ok());
  EXPECT_EQ(m.status, "unsubscribed");
  EXPECT_EQ(m.subscription_name, "trade");

  ASSERT_TRUE(p.parse(R"({"method":"pong","req_id":101,"time_in":"2023-09-24T14:10:23.799685Z","time_out":"2023-09-24T14:10:23.799703Z"})", 1, m).is_ok());
  EXPECT_EQ(m.kind, MessageKind::kPong);
}

TEST(KrakenV2Parse, TradesCarryKrakensIdTakerSideAndExactDecimals) {
  V2Parser p;
  ParsedMessage m;
  ASSERT_TRUE(p.parse(R"({"channel":"trade","type":"update","data":[{"symbol":"MATIC/USD","side":"sell","price":0.5117,"qty":40.0,"ord_type":"market","trade_id":4665906,"timestamp":"2023-09-25T07:49:37.708706Z"},{"symbol":"MATIC/USD","side":"buy","price":"0.51170","qty":1e-3,"ord_type":"limit","trade_id":4665907,"timestamp":"2023-09-25T07:49:37.708706Z"}]})", 42, m).is_ok() == false);
  EXPECT_EQ(p.error_reason(), "bad_decimal");  // exponents are not exact decimals: refused

  ASSERT_TRUE(p.parse(R"({"channel":"trade","type":"update","data":[{"symbol":"MATIC/USD","side":"sell","price":0.5117,"qty":40.0,"ord_type":"market","trade_id":4665906,"timestamp":"2023-09-25T07:49:37.708706Z"},{"symbol":"MATIC/USD","side":"buy","price":"0.51170","qty":0.001,"ord_type":"limit","trade_id":4665907,"timestamp":"2023-09-25T07:49:37.708707Z"}]})", 42, m).is_ok());
  EXPECT_EQ(m.kind, MessageKind::kTrade);
  ASSERT_EQ(m.trades.size(), 2u);
  const Trade& a = m.trades[0];
  EXPECT_EQ(a.exchange, Exchange::kKraken);
  EXPECT_EQ(a.symbol, "MATIC-USD");
  EXPECT_EQ(a.exchange_symbol, "MATIC/USD");
  EXPECT_EQ(a.trade_id, 4665906);
  EXPECT_EQ(a.taker_side, Side::kSell);
  EXPECT_EQ(a.price.to_string(), "0.5117");
  EXPECT_EQ(a.quantity.to_string(), "40.0");
  EXPECT_EQ(a.ts_event, 1695628177708706000);
  EXPECT_EQ(a.ts_recv, 42);
  EXPECT_EQ(m.trades[1].taker_side, Side::kBuy);
  EXPECT_EQ(m.trades[1].price.to_string(), "0.51170");

  p.set_precision("MATIC/USD", 5, 8);  // AssetPairs' pair_decimals / lot_decimals
  ASSERT_TRUE(p.parse(R"({"channel":"trade","type":"snapshot","data":[{"symbol":"MATIC/USD","side":"sell","price":0.5117,"qty":40,"ord_type":"market","trade_id":1,"timestamp":"2023-09-25T07:49:37.708706Z"}]})", 42, m).is_ok());
  EXPECT_EQ(m.trades[0].price.to_string(), "0.51170");
  EXPECT_EQ(m.trades[0].quantity.to_string(), "40.00000000");
}

TEST(KrakenV2Parse, MalformedAndUnexpectedInputFailsWithABoundedReason) {
  V2Parser p;
  ParsedMessage m;
  const std::vector<std::pair<std::string, std::string>> cases = {
      {R"({"channel":"trade","type":"upd)", "malformed_json"},
      {R"([1,2,3])", "malformed_json"},
      {R"({"channel":"trade","type":"update","data":[{"symbol":"BTC/USD","side":"buy","price":1}]})", "missing_field"},
      {R"({"channel":"trade","type":"update","data":[{"symbol":"BTC/USD","side":"up","price":1,"qty":1,"trade_id":1,"timestamp":"2023-09-25T07:49:37Z"}]})", "bad_field"},
      {R"({"channel":"book","type":"update","data":[{"symbol":"BTC/USD","bids":[{"price":"abc","qty":1}],"checksum":1}]})", "bad_decimal"},
      {R"({"channel":"book","type":"update","data":[{"symbol":"BTC/USD","bids":[]}]})", "missing_field"},
      {R"({"channel":"ohlc","type":"update","data":[]})", "unknown_channel"},
      {R"({"method":"add_order","success":true})", "unknown_method"},
      {R"({"foo":1})", "missing_field"},
  };
  for (const auto& [frame, reason] : cases) {
    EXPECT_FALSE(p.parse(frame, 0, m).is_ok()) << frame;
    EXPECT_EQ(p.error_reason(), reason) << frame;
  }
}

// ---- the recording's XBT/USD book as v2 messages ----

// "58729.40000" → "58729.4" (a JSON number as v2 prints it: trailing zeros dropped).
std::string trimmed(const Decimal& d) {
  std::string s = d.to_string();
  if (s.find('.') == std::string::npos) return s;
  while (s.back() == '0') s.pop_back();
  if (s.back() == '.') s.pop_back();
  return s;
}

std::string v2_levels(const std::vector<BookEntry>& side) {
  std::string s = "[";
  for (size_t i = 0; i < side.size(); ++i) {
    if (i) s += ',';
    s += R"({"price":)" + trimmed(side[i].price) + R"(,"qty":)" + trimmed(side[i].volume) + "}";
  }
  return s + "]";
}

std::vector<std::string> recorded_book_as_v2() {
  std::ifstream in(std::string(TICKFLOW_SOURCE_DIR) + "/testdata/exchanges/kraken/kraken_2021-04-05.jsonl");
  EXPECT_TRUE(in.good());
  simdjson::dom::parser json;
  FrameParser v1;
  KrakenBook book(1000);  // to compute the snapshot's checksum (v1 snapshots carry none)
  std::vector<std::string> out;
  std::string line;
  while (std::getline(in, line)) {
    simdjson::dom::element rec = json.parse(line);
    if (std::string_view(rec["direction"].get_string().value()) != "in") continue;
    std::string_view raw = rec["raw"].get_string().value();
    if (!raw.ends_with(R"(,"book-1000","XBT/USD"])")) continue;
    ParsedMessage m;
    EXPECT_TRUE(v1.parse(raw, 0, m).is_ok());
    EXPECT_TRUE(book.apply(m).is_ok());
    const bool snap = m.kind == MessageKind::kBookSnapshot;
    const uint32_t c = snap ? book::kraken_checksum(book.book()) : m.checksum;
    out.push_back(std::string(R"({"channel":"book","type":")") + (snap ? "snapshot" : "update") +
                  R"(","data":[{"symbol":"BTC/USD","bids":)" + v2_levels(m.bids) + R"(,"asks":)" + v2_levels(m.asks) +
                  R"(,"checksum":)" + std::to_string(c) + R"(,"timestamp":"2021-04-05T23:47:03.693648Z"}]})");
  }
  return out;
}

TEST(KrakenV2Parse, EveryRecordedBookChecksumVerifiesThroughV2AtThePairsPrecision) {
  const auto frames = recorded_book_as_v2();
  ASSERT_GT(frames.size(), 5000u);
  V2Parser p;
  p.set_precision("BTC/USD", 5, 8);  // the recording's XBT/USD: 5 price decimals, 8 volume decimals
  KrakenBook book(1000);
  ParsedMessage m;
  for (size_t i = 0; i < frames.size(); ++i) {
    ASSERT_TRUE(p.parse(frames[i], 0, m).is_ok()) << p.error_reason() << " " << frames[i].substr(0, 200);
    EXPECT_EQ(m.symbol, "BTC-USD");
    ASSERT_TRUE(m.has_checksum);
    ASSERT_TRUE(book.apply(m).is_ok()) << i << ": " << book.reason();
  }
  EXPECT_EQ(book.checksum_failures(), 0u);
  EXPECT_EQ(book.snapshots(), 1u);
  EXPECT_EQ(book.updates(), frames.size() - 1);

  // Without the pair's precision the trimmed numbers hash differently: the snapshot fails.
  V2Parser bare;
  KrakenBook other(1000);
  ASSERT_TRUE(bare.parse(frames[0], 0, m).is_ok());
  const Status st = other.apply(m);
  EXPECT_FALSE(st.is_ok());
  EXPECT_EQ(other.reason(), "checksum_mismatch");
}

}  // namespace
}  // namespace tickflow::exchange::kraken
