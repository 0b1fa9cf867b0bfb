// libFuzzer target: binance::FrameParser::parse (one WebSocket text frame per input).
// Differential: the hand-written fast path (parse_fast.cc) and the general simdjson path
// (parse.cc) must agree on every input — same status, same error reason and message, and on
// success the same ParsedFrame, field by field. Also checks the documented contract: failures
// carry one of the bounded reasons and leave kind kUnknown; trades have first <= last.
#include <string_view>

#include "exchange/binance/parse.h"
#include "fuzz/fuzz_util.h"

namespace {

using namespace tickflow;
using namespace tickflow::exchange::binance;
using tickflow::fuzz::same_decimal;

constexpr TimestampNs kRecv = 1'700'000'000'000'000'000;

bool known_reason(std::string_view r) {
  return r == "malformed_json" || r == "missing_field" || r == "bad_field" || r == "bad_decimal" ||
         r == "bad_symbol" || r == "unknown_event";
}

void check_same(const ParsedFrame& a, const ParsedFrame& b) {
  TF_FUZZ_CHECK(a.kind == b.kind, "kind differs between fast and simdjson paths");
  switch (a.kind) {
    case MessageKind::kTrade:
    case MessageKind::kAggTrade: {
      const Trade& x = a.trade;
      const Trade& y = b.trade;
      TF_FUZZ_CHECK(x.exchange == y.exchange, "exchange");
      TF_FUZZ_CHECK(x.symbol == y.symbol, x.symbol + " vs " + y.symbol);
      TF_FUZZ_CHECK(x.exchange_symbol == y.exchange_symbol,
                    x.exchange_symbol + " vs " + y.exchange_symbol);
      TF_FUZZ_CHECK(x.trade_id == y.trade_id, "trade_id");
      TF_FUZZ_CHECK(x.first_trade_id == y.first_trade_id, "first_trade_id");
      TF_FUZZ_CHECK(x.last_trade_id == y.last_trade_id, "last_trade_id");
      TF_FUZZ_CHECK(same_decimal(x.price, y.price),
                    x.price.to_string() + " vs " + y.price.to_string());
      TF_FUZZ_CHECK(same_decimal(x.quantity, y.quantity),
                    x.quantity.to_string() + " vs " + y.quantity.to_string());
      TF_FUZZ_CHECK(x.taker_side == y.taker_side, "taker_side");
      TF_FUZZ_CHECK(x.ts_event == y.ts_event, "ts_event");
      TF_FUZZ_CHECK(x.ts_recv == y.ts_recv, "ts_recv");
      TF_FUZZ_CHECK(x.aggregated == y.aggregated, "aggregated");
      TF_FUZZ_CHECK(x.first_trade_id <= x.last_trade_id, "first > last");
      TF_FUZZ_CHECK(x.ts_event >= 0, "negative ts_event");
      TF_FUZZ_CHECK(!x.symbol.empty(), "empty unified symbol");
      break;
    }
    case MessageKind::kDepthUpdate:
    case MessageKind::kBookTicker:
      TF_FUZZ_CHECK(a.first_update_id == b.first_update_id, "U");
      TF_FUZZ_CHECK(a.last_update_id == b.last_update_id, "u");
      break;
    case MessageKind::kKline: {
      const Kline& x = a.kline;
      const Kline& y = b.kline;
      TF_FUZZ_CHECK(x.exchange_symbol == y.exchange_symbol && x.interval == y.interval,
                    "kline s/i");
      TF_FUZZ_CHECK(x.open_time_ms == y.open_time_ms && x.close_time_ms == y.close_time_ms,
                    "kline t/T");
      TF_FUZZ_CHECK(same_decimal(x.open, y.open) && same_decimal(x.high, y.high) &&
                        same_decimal(x.low, y.low) && same_decimal(x.close, y.close),
                    "kline ohlc");
      TF_FUZZ_CHECK(x.trades == y.trades && x.closed == y.closed, "kline n/x");
      break;
    }
    case MessageKind::kSubscriptionResult:
    case MessageKind::kUnknown:
      break;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static FrameParser fast;  // fast path on (the default)
  static FrameParser slow;  // simdjson only
  slow.set_fast_path(false);
  const std::string_view frame = tickflow::fuzz::as_view(data, size);

  ParsedFrame a, b;
  Status sa = fast.parse(frame, kRecv, a);
  Status sb = slow.parse(frame, kRecv, b);
  TF_FUZZ_CHECK(sa.is_ok() == sb.is_ok(), "fast: " + sa.message() + " / simdjson: " + sb.message());
  TF_FUZZ_CHECK(sa.code() == sb.code(), "status code differs");
  TF_FUZZ_CHECK(sa.message() == sb.message(), sa.message() + " vs " + sb.message());
  TF_FUZZ_CHECK(fast.error_reason() == slow.error_reason(), "error_reason differs");
  if (!sa.is_ok()) {
    TF_FUZZ_CHECK(known_reason(fast.error_reason()),
                  "unbounded reason: " + std::string(fast.error_reason()));
    TF_FUZZ_CHECK(a.kind == MessageKind::kUnknown, "failed parse left a kind");
    return 0;
  }
  TF_FUZZ_CHECK(fast.error_reason().empty(), "reason set on success");
  check_same(a, b);

  // The same frame again through the warm symbol caches gives the same result.
  ParsedFrame c;
  TF_FUZZ_CHECK(fast.parse(frame, kRecv, c).is_ok(), "second parse failed");
  check_same(a, c);
  return 0;
}
