// Validator: the checks every normalized trade passes before a collector publishes it to
// raw.market-data (the pipeline's "validator" stage, run inside the collector so a rejected
// trade goes to dlq.market-data in the same bus transaction as the accepted ones: nothing is
// lost, nothing is published twice).
//
// The "transformer" is the exchange's parse step (src/exchange/binance/parse.cc): it already
// converts units (decimal strings → exact Decimal, milliseconds → ns since epoch) and symbols
// (BTCUSDT → unified BTC-USDT). The validator does not redo that work; it checks that the
// result IS normalized (a unified BASE-QUOTE symbol) and plausible.
//
// Rejection reasons (bounded vocabulary: DLQ reason and metric label):
//   missing_symbol       no exchange symbol or no unified symbol
//   bad_symbol           unified symbol not of the form BASE-QUOTE (A-Z, 0-9)
//   missing_event_time   event time or receive time not set
//   non_positive_price   price <= 0
//   non_positive_quantity quantity <= 0
//   bad_trade_ids        negative id, or first_trade_id > last_trade_id
//   stale_event_time     event time older than receive time − max_event_age (0 = off, the
//                        default: simulators and replays run on a fixed past clock; "24h" is
//                        the recommended setting against a live exchange)
//   future_event_time    event time newer than receive time + max_event_ahead (default 5 min).
//                        The same rule (and reason) the candle processor applies to records
//                        from producers that do not validate; kDefaultMaxEventAhead is shared.
// Thread-safety: pure functions.
#pragma once

#include <string_view>

#include "core/result.h"
#include "core/time.h"
#include "core/trade.h"

namespace tickflow::quality {

inline constexpr DurationNs kDefaultMaxEventAge = 0;  // off; 24 h recommended for live feeds
inline constexpr DurationNs kDefaultMaxEventAhead = 5 * kNsPerMin;

struct ValidatorConfig {
  DurationNs max_event_age = kDefaultMaxEventAge;
  DurationNs max_event_ahead = kDefaultMaxEventAhead;
};

// Error names the key ("quality.max_event_age: ...").
Status validate(const ValidatorConfig& c);

enum class Rejection : uint8_t {
  kNone = 0,
  kMissingSymbol,
  kBadSymbol,
  kMissingEventTime,
  kNonPositivePrice,
  kNonPositiveQuantity,
  kBadTradeIds,
  kStaleEventTime,
  kFutureEventTime,
};
inline constexpr size_t kRejectionCount = 9;

// "" for kNone.
std::string_view rejection_reason(Rejection r);

// Checks one normalized trade (times relative to its own ts_recv). kNone when it may be published.
Rejection validate_trade(const Trade& t, const ValidatorConfig& c);

// True when `symbol` has the unified shape BASE-QUOTE (upper-case letters and digits).
bool is_unified_symbol(std::string_view symbol);

}  // namespace tickflow::quality
