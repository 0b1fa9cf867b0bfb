// Record scan: decoding of trade and candle records for the stages that read them at the full
// rate (quality monitor, alert stage) without building a protobuf message. A wire-format scan of
// the record (proto/tickflow.proto) fills a caller-owned value whose strings are reused, so a
// warm consumer allocates nothing per record.
//
// Contract: decode_trade_into / decode_candle_into give exactly what codec::decode_trade /
// codec::decode_candle give for EVERY input (same value, same error). The scan handles the
// layout the encoders write; anything else (unknown or repeated fields, a second body, a
// wire-type mismatch, non-ASCII text that protobuf would check as UTF-8, a value that does not
// parse) is handed to the codec, which decides.
//
// peek_candle_head() views the identity and status of a candle record in place (string_views
// into the record bytes): for consumers that only need to know which series a record belongs
// to, e.g. to skip provisional updates a later record of the same series supersedes.
//
// Thread-safety: pure functions; `out` is the caller's.
#pragma once

#include <optional>
#include <string_view>

#include "core/candle.h"
#include "core/result.h"
#include "core/trade.h"

namespace tickflow::codec {

// On error `out` is unspecified (partly overwritten).
Status decode_trade_into(std::string_view bytes, Trade& out);
Status decode_candle_into(std::string_view bytes, Candle& out, TimestampNs* last_trade_recv = nullptr);

// Views into the record bytes: valid while they are.
struct CandleHead {
  std::string_view exchange;   // as written ("binance")
  std::string_view symbol;     // unified
  std::string_view timeframe;  // label as written ("1m")
  TimestampNs open_time = 0;
  CandleStatus status = CandleStatus::kProvisional;
};
// nullopt when the record is not a candle in the encoders' layout (decode it to learn more).
std::optional<CandleHead> peek_candle_head(std::string_view bytes);

}  // namespace tickflow::codec
