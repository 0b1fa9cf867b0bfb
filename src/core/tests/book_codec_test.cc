// BookSnapshotEvent: round trip with exact decimals, the stable event id, the JSON view.
#include <gtest/gtest.h>

#include "core/codec.h"

namespace tickflow {
namespace {

BookLevel lv(const char* p, const char* q) { return {*Decimal::parse(p), *Decimal::parse(q)}; }

// Levels of FTMUSDT from the recorded Binance depth stream (testdata, 2021-08-14).
BookSnapshot ftm() {
  BookSnapshot b;
  b.exchange = Exchange::kBinance;
  b.symbol = "FTM-USDT";
  b.exchange_symbol = "FTMUSDT";
  b.sequence = 800360968;
  b.bids = {lv("0.33988000", "1500.00000000"), lv("0.33984000", "4625.80000000")};
  b.asks = {lv("0.34034000", "2746.10000000")};
  b.depth = 20;
  b.ts_event = 1628952395768LL * kNsPerMs;
  b.ts_recv = 1628952396261184000LL;
  return b;
}

TEST(BookCodec, RoundTripsExactDecimalsAndOrder) {
  const BookSnapshot b = ftm();
  const std::string bytes = codec::encode_book(b, 42);
  EXPECT_EQ(codec::peek_kind(bytes), codec::RecordKind::kBook);
  auto back = codec::decode_book(bytes);
  ASSERT_TRUE(back) << back.status().to_string();
  EXPECT_EQ(back->exchange, Exchange::kBinance);
  EXPECT_EQ(back->symbol, "FTM-USDT");
  EXPECT_EQ(back->exchange_symbol, "FTMUSDT");
  EXPECT_EQ(back->sequence, 800360968);
  EXPECT_EQ(back->bids, b.bids);  // scale included
  EXPECT_EQ(back->asks, b.asks);
  EXPECT_EQ(back->bids[0].price.to_string(), "0.33988000");
  EXPECT_EQ(back->depth, 20u);
  EXPECT_FALSE(back->crossed);
  EXPECT_EQ(back->ts_event, b.ts_event);
  EXPECT_EQ(back->ts_recv, b.ts_recv);
}

TEST(BookCodec, EventIdIsStableAndContentDerived) {
  BookSnapshot b = ftm();
  EXPECT_EQ(codec::event_id_of(codec::encode_book(b, 1)), "binance:FTM-USDT:book:1628952395768000000:800360968");
  EXPECT_EQ(codec::event_id_of(codec::encode_book(b, 1)), codec::event_id_of(codec::encode_book(b, 99)));
  b.ts_event = 0;  // a venue without an event time: the receive time identifies it
  EXPECT_EQ(codec::book_event_id(b), "binance:FTM-USDT:book:1628952396261184000:800360968");
}

TEST(BookCodec, CrossedAndEmptySidesSurvive) {
  BookSnapshot b = ftm();
  b.crossed = true;
  b.asks.clear();
  auto back = codec::decode_book(codec::encode_book(b));
  ASSERT_TRUE(back);
  EXPECT_TRUE(back->crossed);
  EXPECT_TRUE(back->asks.empty());
  EXPECT_EQ(back->bids.size(), 2u);
}

TEST(BookCodec, JsonViewHasExactStrings) {
  auto json = codec::record_to_json(codec::encode_book(ftm(), 5));
  ASSERT_TRUE(json);
  EXPECT_NE(json->find("\"book\""), std::string::npos) << *json;
  EXPECT_NE(json->find("\"price\":\"0.33988000\""), std::string::npos) << *json;
  EXPECT_NE(json->find("\"quantity\":\"4625.80000000\""), std::string::npos) << *json;
}

TEST(BookCodec, OtherKindsAreNotBooks) {
  Trade t;
  t.symbol = "FTM-USDT";
  t.price = *Decimal::parse("1");
  t.quantity = *Decimal::parse("1");
  const std::string trade = codec::encode_trade(t);
  EXPECT_FALSE(codec::decode_book(trade));
  EXPECT_FALSE(codec::decode_trade(codec::encode_book(ftm())));
}

}  // namespace
}  // namespace tickflow
