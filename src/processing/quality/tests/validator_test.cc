// Validator: every rejection reason, and the accepted shape.
#include "processing/quality/validator.h"

#include <gtest/gtest.h>

#include "processing/quality/tests/quality_test_util.h"

namespace tickflow::quality {
namespace {

using testutil::kT0;
using testutil::make_trade;

TEST(ValidatorTest, AcceptsANormalizedTrade) {
  EXPECT_EQ(validate_trade(make_trade("BTC-USDT", 1, "43000.10", kT0), {}), Rejection::kNone);
  EXPECT_EQ(rejection_reason(Rejection::kNone), "");
}

TEST(ValidatorTest, RejectsWithABoundedReason) {
  ValidatorConfig c;
  c.max_event_age = 24 * kNsPerHour;
  auto t = make_trade("BTC-USDT", 1, "43000.10", kT0);
  auto check = [&](Trade bad, std::string_view reason) {
    const Rejection r = validate_trade(bad, c);
    EXPECT_EQ(rejection_reason(r), reason);
  };
  { auto b = t; b.symbol.clear(); check(b, "missing_symbol"); }
  { auto b = t; b.exchange_symbol.clear(); check(b, "missing_symbol"); }
  { auto b = t; b.symbol = "BTCUSDT"; check(b, "bad_symbol"); }
  { auto b = t; b.symbol = "btc-usdt"; check(b, "bad_symbol"); }
  { auto b = t; b.symbol = "BTC-"; check(b, "bad_symbol"); }
  { auto b = t; b.ts_event = 0; check(b, "missing_event_time"); }
  { auto b = t; b.ts_recv = 0; check(b, "missing_event_time"); }
  { auto b = t; b.price = Decimal(0, 2); check(b, "non_positive_price"); }
  { auto b = t; b.price = Decimal(-1, 2); check(b, "non_positive_price"); }
  { auto b = t; b.quantity = Decimal(0, 8); check(b, "non_positive_quantity"); }
  { auto b = t; b.first_trade_id = 5; b.last_trade_id = 4; check(b, "bad_trade_ids"); }
  { auto b = t; b.trade_id = -1; check(b, "bad_trade_ids"); }
  { auto b = t; b.ts_event = b.ts_recv - 24 * kNsPerHour - 1; check(b, "stale_event_time"); }
  { auto b = t; b.ts_event = b.ts_recv - 24 * kNsPerHour; check(b, ""); }
  { auto b = t; b.ts_event = b.ts_recv + 5 * kNsPerMin + 1; check(b, "future_event_time"); }
  { auto b = t; b.ts_event = b.ts_recv + 5 * kNsPerMin; check(b, ""); }
}

TEST(ValidatorTest, WindowIsConfigurable) {
  ValidatorConfig c;
  c.max_event_age = kNsPerMin;
  c.max_event_ahead = kNsPerSec;
  auto t = make_trade("ETH-USDT", 1, "3000", kT0);
  t.ts_event = t.ts_recv - 2 * kNsPerMin;
  EXPECT_EQ(validate_trade(t, c), Rejection::kStaleEventTime);
  t.ts_event = t.ts_recv + 2 * kNsPerSec;
  EXPECT_EQ(validate_trade(t, c), Rejection::kFutureEventTime);
  EXPECT_TRUE(validate(c).is_ok());
  c.max_event_age = -1;
  EXPECT_NE(validate(c).message().find("quality.max_event_age"), std::string::npos);
  // 0 turns the age check off (fixed-clock simulators and replays); the future check stays.
  c.max_event_age = 0;
  EXPECT_TRUE(validate(c).is_ok());
  t.ts_event = 1;
  EXPECT_EQ(validate_trade(t, c), Rejection::kNone);
}

TEST(ValidatorTest, ReasonsAreDistinct) {
  for (size_t i = 1; i < kRejectionCount; ++i)
    for (size_t j = i + 1; j < kRejectionCount; ++j)
      EXPECT_NE(rejection_reason(static_cast<Rejection>(i)), rejection_reason(static_cast<Rejection>(j)));
}

}  // namespace
}  // namespace tickflow::quality
