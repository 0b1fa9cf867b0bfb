// JSON serialization of GET /ohlcv answers (src/serving/candle_json.h), independent of the store:
//   BM_CandleJson1000     1000 candles appended as the handler does (one reserve, no SQL)
//   BM_OhlcvHandler1000   ApiHandler::handle("/ohlcv/...?limit=1000") over an in-memory store
//                         (routing, parameters, the store's copy of the candles, JSON, metrics)
//   BM_DecimalWrite       one exact decimal of each kind as text (the bulk of a candle)
// Candles are the ones pg_bench stores (8-decimal prices, 16-decimal quote volumes).
//   ninja -C build json_bench && build/bench/json_bench
#include <string>
#include <vector>

#include <benchmark/benchmark.h>

#include "core/candle.h"
#include "core/text_writer.h"
#include "serving/api.h"
#include "serving/candle_json.h"
#include "storage/candle_store.h"

namespace {

using namespace tickflow;

constexpr TimestampNs kT0 = 1628899200LL * kNsPerSec;  // 2021-08-14T00:00:00Z

std::vector<Candle> thousand_candles() {
  std::vector<Candle> out;
  for (int64_t i = 0; i < 1000; ++i) {
    Candle c;
    c.symbol = "S7-USDT";
    c.exchange_symbol = "S7USDT";
    c.timeframe = *Timeframe::parse("1m");
    c.open_time = kT0 + i * kNsPerMin;
    c.close_time = c.open_time + kNsPerMin - kNsPerMs;
    const int64_t p = 4'300'000'000'000 + (i * 7919) % 100'000'000;
    c.open = Decimal(p, 8);
    c.high = Decimal(p + 1'000'000, 8);
    c.low = Decimal(p - 1'000'000, 8);
    c.close = Decimal(p + 123'456, 8);
    c.volume = *WideDecimal::parse("12.34567800");
    c.quote_volume = *WideDecimal::parse("530887.1234567800000000");
    c.taker_buy_volume = *WideDecimal::parse("6.10000000");
    c.taker_buy_quote_volume = *WideDecimal::parse("262305.0000000000000000");
    c.trades = 100 + i % 50;
    c.first_trade_id = i * 200;
    c.last_trade_id = i * 200 + c.trades - 1;
    c.status = CandleStatus::kFinal;
    out.push_back(c);
  }
  return out;
}

void BM_CandleJson1000(benchmark::State& state) {
  const std::vector<Candle> candles = thousand_candles();
  size_t bytes = 0;
  for (auto _ : state) {
    size_t bound = 128;
    for (const Candle& c : candles) bound += serving::candle_json_bound(c) + 1;
    std::string b;
    b.reserve(bound);
    b += "{\"candles\":[";
    for (const Candle& c : candles) {
      serving::append_candle_json(b, c);
      b += ',';
    }
    b += "]}";
    bytes = b.size();
    benchmark::DoNotOptimize(b.data());
  }
  state.counters["bytes"] = static_cast<double>(bytes);
  state.SetItemsProcessed(state.iterations() * 1000);
}
BENCHMARK(BM_CandleJson1000)->Unit(benchmark::kMicrosecond);

// A CandleStore answering every query with the same candles (the embedded store's shape:
// the answer is a fresh vector per query).
class FixedStore final : public storage::CandleStore {
 public:
  explicit FixedStore(std::vector<Candle> candles) : candles_(std::move(candles)) {}
  Status write(const std::vector<Candle>&, const std::vector<storage::ConsumerPosition>&) override { return Status::ok(); }
  Result<int64_t> position(const std::string&, const std::string&, int32_t) const override { return int64_t{0}; }
  Result<std::vector<Candle>> query(const storage::CandleQuery&) const override { return candles_; }
  Status write_indicators(const std::vector<IndicatorRecord>&, const std::vector<storage::ConsumerPosition>&) override {
    return Status::ok();
  }
  Result<std::vector<IndicatorRecord>> query_indicators(const storage::IndicatorQuery&) const override {
    return std::vector<IndicatorRecord>{};
  }
  Result<bool> has_series(Exchange, const std::string&, const Timeframe&) const override { return true; }
  Result<std::vector<storage::SeriesInfo>> list_series() const override { return std::vector<storage::SeriesInfo>{}; }
  Result<int64_t> enforce_retention(TimestampNs) override { return int64_t{0}; }

 private:
  std::vector<Candle> candles_;
};

void BM_OhlcvHandler1000(benchmark::State& state) {
  FixedStore store(thousand_candles());
  serving::ApiHandler api(store, {});
  const serving::HttpRequest request{"GET", "/ohlcv/binance/S7-USDT/1m?limit=1000", ""};
  for (auto _ : state) {
    serving::HttpResponse r = api.handle(request);
    if (r.status != 200) state.SkipWithError("not 200");
    benchmark::DoNotOptimize(r.body.data());
  }
  state.SetItemsProcessed(state.iterations() * 1000);
}
BENCHMARK(BM_OhlcvHandler1000)->Unit(benchmark::kMicrosecond);

void BM_DecimalWrite(benchmark::State& state) {
  const Decimal price(4'300'064'000'000, 8);
  const WideDecimal quote = *WideDecimal::parse("530887.1234567800000000");
  char buf[kDecimalMaxChars + kWideDecimalMaxChars];
  for (auto _ : state) {
    char* p = write_decimal(buf, price);
    p = write_decimal_trimmed(p, quote, 8);
    benchmark::DoNotOptimize(p);
  }
}
BENCHMARK(BM_DecimalWrite);

}  // namespace
