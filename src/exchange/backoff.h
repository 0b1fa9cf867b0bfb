// Backoff: reconnect policy for exchange connections — exponential backoff with full jitter,
// then a circuit breaker (architecture brief §8: 5 attempts, 5 s base delay, then a breaker
// that half-opens after a cool-down).
//
// Pure and time-free: it only computes delays; the caller waits (interruptibly) and reports
// outcomes. Full jitter: the n-th consecutive failure waits uniform[0, min(max_delay,
// base_delay * 2^(n-1))). After max_attempts consecutive failures the breaker opens and the
// delay is breaker_cooldown; the next attempt is a half-open trial: success closes the
// breaker, failure re-opens it for another cool-down.
// Thread-safety: none (owned by one connection's worker thread).
#pragma once

#include <algorithm>
#include <cstdint>
#include <functional>
#include <memory>
#include <random>
#include <utility>

#include "core/time.h"

namespace tickflow::exchange {

struct BackoffConfig {
  DurationNs base_delay = 5 * kNsPerSec;
  DurationNs max_delay = 5 * kNsPerMin;
  int max_attempts = 5;  // consecutive failures before the breaker opens
  DurationNs breaker_cooldown = 5 * kNsPerMin;
};

class Backoff {
 public:
  enum class State { kClosed, kOpen, kHalfOpen };
  // Returns a uniform double in [0, 1).
  using Rng = std::function<double()>;

  explicit Backoff(BackoffConfig config, Rng rng = default_rng())
      : config_(config), rng_(std::move(rng)) {}

  // Reports a failed attempt; returns how long to wait before the next one.
  DurationNs on_failure() {
    if (state_ == State::kHalfOpen) {
      state_ = State::kOpen;
      return config_.breaker_cooldown;
    }
    ++failures_;
    if (failures_ >= std::max(1, config_.max_attempts)) {
      state_ = State::kOpen;
      return config_.breaker_cooldown;
    }
    DurationNs ceiling = std::max<DurationNs>(config_.base_delay, 0);
    for (int i = 1; i < failures_ && ceiling < config_.max_delay; ++i) ceiling *= 2;
    ceiling = std::min(ceiling, config_.max_delay);
    double u = rng_();
    u = std::clamp(u, 0.0, 1.0);
    return static_cast<DurationNs>(u * static_cast<double>(ceiling));
  }

  // Reports that the wait is over and a new attempt starts (an open breaker half-opens).
  void on_attempt() {
    if (state_ == State::kOpen) state_ = State::kHalfOpen;
  }

  // Reports a successful attempt: closes the breaker and resets the exponent.
  void on_success() {
    failures_ = 0;
    state_ = State::kClosed;
  }

  State state() const { return state_; }
  int consecutive_failures() const { return failures_; }
  const BackoffConfig& config() const { return config_; }

  static Rng default_rng() {
    auto gen = std::make_shared<std::mt19937_64>(std::random_device{}());
    return [gen] { return std::uniform_real_distribution<double>(0.0, 1.0)(*gen); };
  }

 private:
  BackoffConfig config_;
  Rng rng_;
  int failures_ = 0;
  State state_ = State::kClosed;
};

}  // namespace tickflow::exchange
