// libFuzzer target: kraken::parse_rest_trades (the body of GET /0/public/Trades, used to
// backfill reconnect holes). Checks: failures are kCorruption (malformed), kUnavailable or
// kInvalidArgument (Kraken's own error list); on success every trade has what the WebSocket
// parser guarantees for the same trades (positive price and volume, b/s side, the pair's
// symbols, non-negative time) and the derived key time_us * 1000 + ordinal (ordinal < 1000).
#include "exchange/kraken/rest.h"
#include "fuzz/fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace tickflow;
  exchange::kraken::RestTradesPage page;
  Status st = exchange::kraken::parse_rest_trades(fuzz::as_view(data, size), "XBT/USD",
                                                  1'700'000'000'000'000'000, page);
  if (!st.is_ok()) {
    TF_FUZZ_CHECK(st.code() == ErrorCode::kCorruption || st.code() == ErrorCode::kUnavailable ||
                      st.code() == ErrorCode::kInvalidArgument,
                  "unexpected error code: " + st.message());
    return 0;
  }
  for (const Trade& t : page.trades) {
    TF_FUZZ_CHECK(t.price > Decimal() && t.quantity > Decimal(),
                  "trade with price " + t.price.to_string() + " volume " + t.quantity.to_string());
    TF_FUZZ_CHECK(t.taker_side == Side::kBuy || t.taker_side == Side::kSell, "side");
    TF_FUZZ_CHECK(t.symbol == "BTC-USD" && t.exchange_symbol == "XBT/USD", t.symbol);
    TF_FUZZ_CHECK(t.ts_event >= 0 && t.trade_id / 1000 == t.ts_event / 1000, "derived key");
  }
  return 0;
}
