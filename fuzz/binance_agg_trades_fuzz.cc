// libFuzzer target: binance::parse_agg_trades_response (the body of GET /api/v3/aggTrades,
// used to backfill gaps). Input: the response body. Checks: no crash; on success every trade
// carries the request's symbol, the aggregate flag and a non-negative event time; on failure
// nothing is half-appended beyond what the contract allows (out only grows).
#include "exchange/binance/parse.h"
#include "fuzz/fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace tickflow;
  std::vector<Trade> out;
  Status st = exchange::binance::parse_agg_trades_response(fuzz::as_view(data, size), "BTCUSDT",
                                                           1'700'000'000'000'000'000, out);
  if (!st.is_ok()) {
    TF_FUZZ_CHECK(st.code() == ErrorCode::kParse, "non-parse error: " + st.message());
    return 0;
  }
  for (const Trade& t : out) {
    TF_FUZZ_CHECK(t.exchange == Exchange::kBinance && t.aggregated, "exchange/aggregated");
    TF_FUZZ_CHECK(t.symbol == "BTC-USDT" && t.exchange_symbol == "BTCUSDT", t.symbol);
    TF_FUZZ_CHECK(t.ts_event >= 0, "negative ts_event");
    TF_FUZZ_CHECK(t.taker_side != Side::kUnknown, "side");
  }
  return 0;
}
