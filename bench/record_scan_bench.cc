// Decode cost per record of the analytics stages' inputs (CPU time, so a shared machine changes
// little): a trade (quality monitor) and a candle (alert stage), through the protobuf codec and
// through the record scan into a reused value (src/core/record_scan.h); and the candle peek.
//   ninja -C build record_scan_bench && build/bench/record_scan_bench
#include <string>

#include <benchmark/benchmark.h>

#include "core/codec.h"
#include "core/record_scan.h"

namespace {

using namespace tickflow;

// A trade and a provisional candle as the load run's collector and processor write them.
std::string trade_record() {
  Trade t;
  t.symbol = "BTC-USDT";
  t.exchange_symbol = "BTCUSDT";
  t.trade_id = 3178463921;
  t.first_trade_id = t.last_trade_id = t.trade_id;
  t.price = *Decimal::parse("43123.45000000");
  t.quantity = *Decimal::parse("0.01250000");
  t.taker_side = Side::kBuy;
  t.ts_event = 1628952396572LL * kNsPerMs;
  t.ts_recv = t.ts_event + 1234567;
  return codec::encode_trade(t, t.ts_recv + 50000);
}

std::string candle_record() {
  Candle c;
  c.symbol = "BTC-USDT";
  c.exchange_symbol = "BTCUSDT";
  c.timeframe = *Timeframe::parse("1m");
  c.open_time = 1628952360000LL * kNsPerMs;
  c.close_time = c.open_time + 59999 * kNsPerMs;
  c.open = *Decimal::parse("43120.01");
  c.high = *Decimal::parse("43190.50");
  c.low = *Decimal::parse("43101.99");
  c.close = *Decimal::parse("43123.45");
  for (int i = 0; i < 40; ++i) {
    const Decimal q = *Decimal::parse("0.0125");
    c.volume.add(q);
    c.quote_volume.add_product(c.close, q);
    if (i % 2) c.taker_buy_volume.add(q);
  }
  c.trades = 40;
  c.first_trade_id = 3178463900;
  c.last_trade_id = 3178463939;
  return codec::encode_candle(c, c.open_time + 30 * kNsPerSec, c.open_time + 29 * kNsPerSec);
}

void BM_TradeCodec(benchmark::State& state) {
  const std::string rec = trade_record();
  for (auto _ : state) benchmark::DoNotOptimize(codec::decode_trade(rec));
}
BENCHMARK(BM_TradeCodec);

void BM_TradeScanInto(benchmark::State& state) {
  const std::string rec = trade_record();
  Trade t;
  for (auto _ : state) {
    benchmark::DoNotOptimize(codec::decode_trade_into(rec, t));
    benchmark::DoNotOptimize(t);
  }
}
BENCHMARK(BM_TradeScanInto);

void BM_CandleCodec(benchmark::State& state) {
  const std::string rec = candle_record();
  for (auto _ : state) benchmark::DoNotOptimize(codec::decode_candle(rec));
}
BENCHMARK(BM_CandleCodec);

void BM_CandleScanInto(benchmark::State& state) {
  const std::string rec = candle_record();
  Candle c;
  for (auto _ : state) {
    benchmark::DoNotOptimize(codec::decode_candle_into(rec, c));
    benchmark::DoNotOptimize(c);
  }
}
BENCHMARK(BM_CandleScanInto);

void BM_CandleHeadPeek(benchmark::State& state) {
  const std::string rec = candle_record();
  for (auto _ : state) benchmark::DoNotOptimize(codec::peek_candle_head(rec));
}
BENCHMARK(BM_CandleHeadPeek);

}  // namespace
