#include "core/codec.h"

#include <gtest/gtest.h>

namespace tickflow {
namespace {

TEST(Codec, TradeRoundTrips) {
  Trade t;
  t.symbol = "FTM-USDT";
  t.exchange_symbol = "FTMUSDT";
  t.trade_id = 31718372;
  t.first_trade_id = t.last_trade_id = 38248910;
  t.price = *Decimal::parse("0.33993000");
  t.quantity = *Decimal::parse("99.90000000");
  t.taker_side = Side::kSell;
  t.ts_event = 1628952396572LL * kNsPerMs;
  t.ts_recv = t.ts_event + 5;
  t.aggregated = true;
  std::string bytes = codec::encode_trade(t, 7);
  EXPECT_EQ(codec::peek_kind(bytes), codec::RecordKind::kTrade);
  auto back = codec::decode_trade(bytes);
  ASSERT_TRUE(back);
  EXPECT_EQ(back->price.to_string(), "0.33993000");
  EXPECT_EQ(back->trade_id, 31718372);
  EXPECT_EQ(back->taker_side, Side::kSell);
  EXPECT_EQ(codec::event_id_of(bytes), "binance:FTM-USDT:a:31718372");
  auto json = codec::record_to_json(bytes);
  ASSERT_TRUE(json);
  EXPECT_NE(json->find("\"price\":\"0.33993000\""), std::string::npos) << *json;
}

TEST(Codec, CandleRoundTrips) {
  Candle c;
  c.symbol = "BTC-USDT";
  c.exchange_symbol = "BTCUSDT";
  c.timeframe = *Timeframe::parse("1m");
  c.open_time = 60 * kNsPerSec;
  c.close_time = c.open_time + 59999 * kNsPerMs;
  c.open = c.high = c.low = c.close = *Decimal::parse("1.5");
  c.volume.add(*Decimal::parse("2.0"));
  c.quote_volume.add_product(c.open, *Decimal::parse("2.0"));
  c.trades = 1;
  c.first_trade_id = c.last_trade_id = 9;
  c.status = CandleStatus::kCorrected;
  c.revision = 2;
  auto back = codec::decode_candle(codec::encode_candle(c));
  ASSERT_TRUE(back);
  EXPECT_TRUE(same_values(c, *back));
  EXPECT_EQ(back->revision, 2u);
  EXPECT_EQ(back->status, CandleStatus::kCorrected);
  EXPECT_EQ(back->vwap().to_string(), "1.50000000");
}

TEST(Codec, RejectsGarbage) {
  EXPECT_FALSE(codec::decode_trade("not a protobuf"));
  EXPECT_EQ(codec::peek_kind(""), codec::RecordKind::kUnknown);
}

}  // namespace
}  // namespace tickflow
