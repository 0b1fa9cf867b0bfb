#include "exchange/backoff.h"

#include <gtest/gtest.h>

namespace tickflow::exchange {
namespace {

BackoffConfig small_config() {
  BackoffConfig c;
  c.base_delay = 100;
  c.max_delay = 1000;
  c.max_attempts = 5;
  c.breaker_cooldown = 50'000;
  return c;
}

TEST(BackoffTest, DefaultsFollowTheSpecification) {
  BackoffConfig c;
  EXPECT_EQ(c.base_delay, 5 * kNsPerSec);
  EXPECT_EQ(c.max_attempts, 5);
  EXPECT_GT(c.breaker_cooldown, 0);
}

TEST(BackoffTest, FullJitterCeilingDoublesPerFailureUpToMax) {
  // An RNG that always returns just under 1 exposes the ceiling of each step.
  Backoff b(small_config(), [] { return 0.999999; });
  EXPECT_NEAR(b.on_failure(), 100, 1);
  EXPECT_NEAR(b.on_failure(), 200, 1);
  EXPECT_NEAR(b.on_failure(), 400, 1);
  EXPECT_NEAR(b.on_failure(), 800, 1);
  EXPECT_EQ(b.state(), Backoff::State::kClosed);
  BackoffConfig c = small_config();
  c.max_attempts = 100;
  Backoff capped(c, [] { return 0.999999; });
  DurationNs last = 0;
  for (int i = 0; i < 20; ++i) last = capped.on_failure();
  EXPECT_NEAR(last, 1000, 1);
}

TEST(BackoffTest, JitterScalesWithTheRng) {
  double u = 0.0;
  Backoff b(small_config(), [&] { return u; });
  EXPECT_EQ(b.on_failure(), 0);
  u = 0.5;
  EXPECT_EQ(b.on_failure(), 100);  // second failure: ceiling 200
}

TEST(BackoffTest, BreakerOpensAfterMaxAttemptsAndHalfOpens) {
  Backoff b(small_config(), [] { return 0.5; });
  for (int i = 0; i < 4; ++i) {
    b.on_attempt();
    EXPECT_LT(b.on_failure(), 1000);
  }
  b.on_attempt();
  EXPECT_EQ(b.on_failure(), 50'000);  // 5th consecutive failure: cool-down
  EXPECT_EQ(b.state(), Backoff::State::kOpen);
  b.on_attempt();
  EXPECT_EQ(b.state(), Backoff::State::kHalfOpen);
  EXPECT_EQ(b.on_failure(), 50'000);  // failed trial re-opens for another cool-down
  EXPECT_EQ(b.state(), Backoff::State::kOpen);
  b.on_attempt();
  b.on_success();
  EXPECT_EQ(b.state(), Backoff::State::kClosed);
  EXPECT_EQ(b.consecutive_failures(), 0);
  EXPECT_EQ(b.on_failure(), 50);  // back to the first step
}

TEST(BackoffTest, DefaultRngStaysInRange) {
  Backoff b(small_config());
  for (int i = 0; i < 4; ++i) {
    DurationNs d = b.on_failure();
    EXPECT_GE(d, 0);
    EXPECT_LE(d, 100 << i);
  }
}

}  // namespace
}  // namespace tickflow::exchange
