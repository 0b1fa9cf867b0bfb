#include "processing/quality/validator.h"

namespace tickflow::quality {

Status validate(const ValidatorConfig& c) {
  if (c.max_event_age < 0) return Status::invalid_argument("quality.max_event_age: must be >= 0 (0 = off)");
  if (c.max_event_ahead <= 0) return Status::invalid_argument("quality.max_event_ahead: must be > 0");
  return Status::ok();
}

std::string_view rejection_reason(Rejection r) {
  switch (r) {
    case Rejection::kNone: return "";
    case Rejection::kMissingSymbol: return "missing_symbol";
    case Rejection::kBadSymbol: return "bad_symbol";
    case Rejection::kMissingEventTime: return "missing_event_time";
    case Rejection::kNonPositivePrice: return "non_positive_price";
    case Rejection::kNonPositiveQuantity: return "non_positive_quantity";
    case Rejection::kBadTradeIds: return "bad_trade_ids";
    case Rejection::kStaleEventTime: return "stale_event_time";
    case Rejection::kFutureEventTime: return "future_event_time";
  }
  return "unknown";
}

bool is_unified_symbol(std::string_view symbol) {
  const size_t dash = symbol.find('-');
  if (dash == std::string_view::npos || dash == 0 || dash + 1 == symbol.size()) return false;
  for (size_t i = 0; i < symbol.size(); ++i) {
    const char c = symbol[i];
    if (i == dash) continue;
    if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))) return false;
  }
  return true;
}

Rejection validate_trade(const Trade& t, const ValidatorConfig& c) {
  if (t.symbol.empty() || t.exchange_symbol.empty()) return Rejection::kMissingSymbol;
  if (!is_unified_symbol(t.symbol)) return Rejection::kBadSymbol;
  if (t.ts_event <= 0 || t.ts_recv <= 0) return Rejection::kMissingEventTime;
  if (t.price.is_zero() || t.price.is_negative()) return Rejection::kNonPositivePrice;
  if (t.quantity.is_zero() || t.quantity.is_negative()) return Rejection::kNonPositiveQuantity;
  if (t.trade_id < 0 || t.first_trade_id < 0 || t.first_trade_id > t.last_trade_id) return Rejection::kBadTradeIds;
  if (c.max_event_age > 0 && t.ts_event < t.ts_recv - c.max_event_age) return Rejection::kStaleEventTime;
  if (t.ts_event > t.ts_recv + c.max_event_ahead) return Rejection::kFutureEventTime;
  return Rejection::kNone;
}

}  // namespace tickflow::quality
