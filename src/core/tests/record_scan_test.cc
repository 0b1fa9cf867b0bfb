// The record scan gives exactly what the codec gives: on the encoders' records, on every other
// layout protobuf accepts, and on corrupted bytes (same value, or the same error).
#include "core/record_scan.h"

#include <cstring>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "core/codec.h"
#include "tickflow.pb.h"

namespace tickflow {
namespace {

std::string describe(const Trade& t) {
  return std::string(exchange_name(t.exchange)) + "|" + t.symbol + "|" + t.exchange_symbol + "|" +
         std::to_string(t.trade_id) + "|" + std::to_string(t.first_trade_id) + "|" + std::to_string(t.last_trade_id) +
         "|" + t.price.to_string() + "|" + t.quantity.to_string() + "|" + std::string(side_name(t.taker_side)) + "|" +
         std::to_string(t.ts_event) + "|" + std::to_string(t.ts_recv) + "|" + (t.aggregated ? "agg" : "trade");
}

std::string describe(const Candle& c, TimestampNs recv) {
  char coverage[32];
  std::snprintf(coverage, sizeof coverage, "%a", c.coverage);
  return std::string(exchange_name(c.exchange)) + "|" + c.symbol + "|" + c.exchange_symbol + "|" + c.timeframe.label() +
         "|" + std::to_string(c.open_time) + "|" + std::to_string(c.close_time) + "|" + c.open.to_string() + "|" +
         c.high.to_string() + "|" + c.low.to_string() + "|" + c.close.to_string() + "|" + c.volume.to_string() + "|" +
         c.quote_volume.to_string() + "|" + c.taker_buy_volume.to_string() + "|" +
         c.taker_buy_quote_volume.to_string() + "|" + std::to_string(c.trades) + "|" +
         std::to_string(c.first_trade_id) + "|" + std::to_string(c.last_trade_id) + "|" +
         std::string(candle_status_name(c.status)) + "|" + std::to_string(c.revision) + "|" + coverage + "|" +
         c.gap_reason + "|" + std::to_string(recv);
}

// decode_*_into on a reused value agrees with decode_* (value or error).
void expect_same_trade(std::string_view bytes, Trade& reused) {
  auto want = codec::decode_trade(bytes);
  Status got = codec::decode_trade_into(bytes, reused);
  ASSERT_EQ(got.is_ok(), want.is_ok()) << got.to_string();
  if (want) {
    EXPECT_EQ(describe(reused), describe(*want));
  } else {
    EXPECT_EQ(got.to_string(), want.status().to_string());
  }
}

void expect_same_candle(std::string_view bytes, Candle& reused) {
  TimestampNs want_recv = -1, got_recv = -1;
  auto want = codec::decode_candle(bytes, &want_recv);
  Status got = codec::decode_candle_into(bytes, reused, &got_recv);
  ASSERT_EQ(got.is_ok(), want.is_ok()) << got.to_string();
  if (want) {
    EXPECT_EQ(describe(reused, got_recv), describe(*want, want_recv));
    auto head = codec::peek_candle_head(bytes);
    if (head) {
      EXPECT_EQ(head->symbol, want->symbol);
      EXPECT_EQ(head->exchange, exchange_name(want->exchange));
      EXPECT_EQ(head->open_time, want->open_time);
      EXPECT_EQ(head->status, want->status);
      EXPECT_EQ(Timeframe::parse(head->timeframe)->label(), want->timeframe.label());
    }
  } else {
    EXPECT_EQ(got.to_string(), want.status().to_string());
  }
}

std::vector<Trade> trades() {
  std::vector<Trade> out;
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
  out.push_back(t);
  t.exchange = Exchange::kKraken;
  t.symbol = "A-VERY-LONG-SYMBOL-BEYOND-SSO";
  t.exchange_symbol = "";
  t.trade_id = -3;  // negative ints are ten-byte varints
  t.first_trade_id = t.last_trade_id = 0;
  t.price = *Decimal::parse("43210.5");
  t.quantity = *Decimal::parse("0");
  t.taker_side = Side::kBuy;
  t.ts_event = 0;
  t.aggregated = false;
  out.push_back(t);
  out.push_back(Trade{});  // every field at its default (absent on the wire)
  return out;
}

std::vector<Candle> candles() {
  std::vector<Candle> out;
  Candle c;
  c.symbol = "BTC-USDT";
  c.exchange_symbol = "BTCUSDT";
  c.timeframe = *Timeframe::parse("1m");
  c.open_time = 1628952360000LL * kNsPerMs;
  c.close_time = c.open_time + 59999 * kNsPerMs;
  c.open = *Decimal::parse("47000.1");
  c.high = *Decimal::parse("47100");
  c.low = *Decimal::parse("46999.99");
  c.close = *Decimal::parse("47050.25");
  c.volume.add(*Decimal::parse("2.5"));
  c.quote_volume.add_product(c.close, *Decimal::parse("2.5"));
  c.taker_buy_volume.add(*Decimal::parse("1.25"));
  c.trades = 17;
  c.first_trade_id = 100;
  c.last_trade_id = 116;
  out.push_back(c);
  c.status = CandleStatus::kFinal;
  c.coverage = 0.875;
  c.gap_reason = "disconnected";
  out.push_back(c);
  c.status = CandleStatus::kCorrected;
  c.revision = 300;
  c.timeframe = *Timeframe::parse("4h");
  c.exchange = Exchange::kCoinbase;
  out.push_back(c);
  return out;
}

TEST(RecordScan, TradesDecodeAsTheCodecDecodesThem) {
  Trade reused;
  for (const Trade& t : trades()) expect_same_trade(codec::encode_trade(t, 99), reused);
  for (const Trade& t : trades()) expect_same_trade(codec::encode_trade(t, 0), reused);
}

TEST(RecordScan, CandlesDecodeAsTheCodecDecodesThem) {
  Candle reused;
  for (const Candle& c : candles()) expect_same_candle(codec::encode_candle(c, 99, 12345), reused);
  for (const Candle& c : candles()) expect_same_candle(codec::encode_candle(c), reused);
}

// Other layouts protobuf accepts, and ones it rejects: the codec decides, so the answers agree.
TEST(RecordScan, UnusualLayoutsGoToTheCodec) {
  const Trade t = trades()[0];
  const Candle c = candles()[1];
  std::vector<std::string> inputs;
  auto with = [&](auto edit) {
    v1::Envelope env;
    EXPECT_TRUE(env.ParseFromString(codec::encode_trade(t, 5)));
    edit(env);
    inputs.push_back(env.SerializeAsString());
  };
  with([](v1::Envelope& e) { e.set_schema_version(2); });
  with([](v1::Envelope& e) { e.set_schema_version(0); });
  with([](v1::Envelope& e) { e.mutable_trade()->set_exchange("nyse"); });
  with([](v1::Envelope& e) { e.mutable_trade()->set_price("1.2.3"); });
  with([](v1::Envelope& e) { e.mutable_trade()->set_quantity(""); });
  with([](v1::Envelope& e) { e.mutable_trade()->set_symbol("BTC-\xC3\xA9"); });  // valid UTF-8, not ASCII
  with([](v1::Envelope& e) { e.mutable_trade()->set_taker_side(static_cast<v1::Side>(7)); });
  with([](v1::Envelope& e) {  // an unknown field (101) inside the trade: kept by protobuf, ignored by the codec
    v1::TradeEvent body;
    EXPECT_TRUE(body.ParseFromString(e.trade().SerializeAsString() + std::string("\xa8\x06\x01", 3)));
    *e.mutable_trade() = body;
  });
  const std::string trade_bytes = codec::encode_trade(t, 5);
  const std::string candle_bytes = codec::encode_candle(c, 5);
  inputs.push_back(trade_bytes + std::string("\xa8\x06\x01", 3));  // an unknown envelope field
  inputs.push_back(trade_bytes + trade_bytes);    // a repeated body: protobuf merges the two
  inputs.push_back(trade_bytes + candle_bytes);   // two bodies: the last one wins
  inputs.push_back(candle_bytes + trade_bytes);
  inputs.push_back(std::string("\x08\x01", 2) + trade_bytes);  // schema_version twice
  inputs.push_back(std::string("\x12\x02\xff\xfe", 4) + trade_bytes);  // event_id: invalid UTF-8 first
  inputs.push_back(candle_bytes);
  inputs.push_back("");
  inputs.push_back("not a protobuf");
  {
    v1::Envelope env;
    EXPECT_TRUE(env.ParseFromString(candle_bytes));
    env.mutable_candle()->set_timeframe("120s");  // parses, printed "2m"
    env.mutable_candle()->set_taker_buy_quote_volume("");
    env.mutable_candle()->set_status(static_cast<v1::CandleStatus>(9));
    inputs.push_back(env.SerializeAsString());
    env.mutable_candle()->set_timeframe("7q");
    inputs.push_back(env.SerializeAsString());
    env.mutable_candle()->set_timeframe("1m");
    env.mutable_candle()->set_volume("x");
    inputs.push_back(env.SerializeAsString());
  }
  Trade reused_trade;
  Candle reused_candle;
  for (const std::string& in : inputs) {
    SCOPED_TRACE(in.size());
    expect_same_trade(in, reused_trade);
    expect_same_candle(in, reused_candle);
  }
}

// Every prefix and every single-byte corruption of a real record: same answer as the codec.
TEST(RecordScan, CorruptedBytesAgreeWithTheCodec) {
  const std::string trade = codec::encode_trade(trades()[0], 77);
  const std::string candle = codec::encode_candle(candles()[1], 77, 5);
  Trade reused_trade;
  Candle reused_candle;
  for (const std::string& record : {trade, candle}) {
    for (size_t n = 0; n <= record.size(); ++n) {
      SCOPED_TRACE("prefix " + std::to_string(n));
      expect_same_trade(std::string_view(record).substr(0, n), reused_trade);
      expect_same_candle(std::string_view(record).substr(0, n), reused_candle);
    }
    for (size_t i = 0; i < record.size(); ++i) {
      for (const unsigned char b : {0x00, 0x01, 0x7f, 0x80, 0xff, 0x2e, 0x39}) {
        std::string bad = record;
        bad[i] = static_cast<char>(b);
        if (bad == record) continue;
        SCOPED_TRACE("byte " + std::to_string(i) + " = " + std::to_string(b));
        expect_same_trade(bad, reused_trade);
        expect_same_candle(bad, reused_candle);
      }
    }
  }
}

TEST(RecordScan, CandleHeadViewsTheSeriesAndStatus) {
  const Candle c = candles()[2];
  const std::string bytes = codec::encode_candle(c, 1);
  auto head = codec::peek_candle_head(bytes);
  ASSERT_TRUE(head.has_value());
  EXPECT_EQ(head->exchange, "coinbase");
  EXPECT_EQ(head->symbol, "BTC-USDT");
  EXPECT_EQ(head->timeframe, "4h");
  EXPECT_EQ(head->open_time, c.open_time);
  EXPECT_EQ(head->status, CandleStatus::kCorrected);
  EXPECT_FALSE(codec::peek_candle_head(codec::encode_trade(trades()[0], 1)).has_value());
  EXPECT_FALSE(codec::peek_candle_head(std::string_view(bytes).substr(0, bytes.size() - 1)).has_value());
}

}  // namespace
}  // namespace tickflow
