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

TEST(Codec, PeekCandleStatusAgreesWithDecode) {
  Candle c;
  c.symbol = "BTC-USDT";
  c.exchange_symbol = "BTCUSDT";
  c.timeframe = *Timeframe::parse("5m");
  c.open_time = 300 * kNsPerSec;
  c.close_time = c.open_time + 299999 * kNsPerMs;
  c.open = c.high = c.low = c.close = *Decimal::parse("27000.01");
  c.trades = 3;
  for (CandleStatus s : {CandleStatus::kProvisional, CandleStatus::kFinal, CandleStatus::kCorrected}) {
    c.status = s;
    c.revision = s == CandleStatus::kCorrected ? 300 : 0;  // a multi-byte varint after the status
    const std::string bytes = codec::encode_candle(c, 12345);
    ASSERT_EQ(codec::peek_candle_status(bytes), codec::decode_candle(bytes)->status);
    // Every strict prefix is malformed (or, cut before the candle, not a candle): never a status.
    for (size_t n = 0; n < bytes.size(); ++n)
      EXPECT_EQ(codec::peek_candle_status(std::string_view(bytes).substr(0, n)), std::nullopt) << n;
  }
  Trade t;
  t.symbol = "BTC-USDT";
  t.exchange_symbol = "BTCUSDT";
  t.price = t.quantity = *Decimal::parse("1");
  EXPECT_EQ(codec::peek_candle_status(codec::encode_trade(t, 1)), std::nullopt);
  EXPECT_EQ(codec::peek_candle_status("not a protobuf"), std::nullopt);
}

// Regression (fuzz/codec_fuzz.cc, fuzz/regressions/codec/): two candle bodies in one record
// merge in protobuf (the last status wins) and another body replaces a candle, but
// peek_candle_status answered from the first candle body.
TEST(Codec, PeekCandleStatusFollowsProtobufMergeSemantics) {
  Candle c;
  c.symbol = "BTC-USDT";
  c.exchange_symbol = "BTCUSDT";
  c.timeframe = *Timeframe::parse("1m");
  c.open = c.high = c.low = c.close = *Decimal::parse("27000.01");
  c.status = CandleStatus::kFinal;
  const std::string final_bytes = codec::encode_candle(c, 1);
  c.status = CandleStatus::kCorrected;
  c.revision = 1;
  const std::string corrected_bytes = codec::encode_candle(c, 2);
  Trade t;
  t.symbol = "BTC-USDT";
  t.exchange_symbol = "BTCUSDT";
  t.price = t.quantity = *Decimal::parse("1");
  const std::string trade_bytes = codec::encode_trade(t, 3);

  const std::string merged = final_bytes + corrected_bytes;  // concatenation = protobuf merge
  ASSERT_EQ(codec::decode_candle(merged)->status, CandleStatus::kCorrected);
  EXPECT_EQ(codec::peek_candle_status(merged), CandleStatus::kCorrected);
  const std::string replaced = final_bytes + trade_bytes;  // the trade body replaces the candle
  ASSERT_FALSE(codec::decode_candle(replaced));
  EXPECT_EQ(codec::peek_candle_status(replaced), std::nullopt);
  const std::string candle_last = trade_bytes + final_bytes;
  ASSERT_EQ(codec::decode_candle(candle_last)->status, CandleStatus::kFinal);
  EXPECT_EQ(codec::peek_candle_status(candle_last), CandleStatus::kFinal);
}

TEST(Codec, IndicatorRecordRoundTrips) {
  IndicatorRecord r;
  r.symbol = "ETH-USDT";
  r.timeframe = *Timeframe::parse("5m");
  r.open_time = 300 * kNsPerSec;
  r.close_time = 600 * kNsPerSec - kNsPerMs;
  r.candle_revision = 1;
  r.values = {{"sma20", 1234.5}, {"rsi14", 55.25}};
  std::string bytes = codec::encode_indicators(r);
  EXPECT_EQ(codec::peek_kind(bytes), codec::RecordKind::kIndicators);
  EXPECT_EQ(codec::event_id_of(bytes), "binance:ETH-USDT:5m:300000:ind:1");
  auto back = codec::decode_indicators(bytes);
  ASSERT_TRUE(back);
  EXPECT_EQ(back->series_key(), r.series_key());
  EXPECT_EQ(back->open_time, r.open_time);
  EXPECT_EQ(back->close_time, r.close_time);
  EXPECT_EQ(back->candle_revision, 1u);
  EXPECT_FALSE(back->provisional);
  EXPECT_EQ(back->values, r.values);
  EXPECT_FALSE(codec::decode_alert(bytes));
}

TEST(Codec, AlertRoundTrips) {
  Alert a;
  a.alert_id = "rsi-hot:binance:BTC-USDT:1m:60000:firing";
  a.rule = "rsi-hot";
  a.kind = "rsi_overbought";
  a.exchange = "binance";
  a.symbol = "BTC-USDT";
  a.timeframe = "1m";
  a.ts_event = 119999 * kNsPerMs;
  a.value = 71.5;
  a.threshold = 70;
  a.message = "RSI 71.5 above 70";
  a.labels = {{"desk", "a"}, {"team", "quant"}};
  std::string bytes = codec::encode_alert(a);
  EXPECT_EQ(codec::peek_kind(bytes), codec::RecordKind::kAlert);
  EXPECT_EQ(codec::event_id_of(bytes), a.alert_id);
  auto back = codec::decode_alert(bytes);
  ASSERT_TRUE(back);
  EXPECT_EQ(back->alert_id, a.alert_id);
  EXPECT_EQ(back->rule, a.rule);
  EXPECT_EQ(back->kind, a.kind);
  EXPECT_EQ(back->state, "firing");
  EXPECT_EQ(back->ts_event, a.ts_event);
  EXPECT_EQ(back->value, 71.5);
  EXPECT_EQ(back->threshold, 70);
  EXPECT_EQ(back->labels, a.labels);
}

TEST(Codec, RejectsGarbage) {
  EXPECT_FALSE(codec::decode_trade("not a protobuf"));
  EXPECT_EQ(codec::peek_kind(""), codec::RecordKind::kUnknown);
}

}  // namespace
}  // namespace tickflow
