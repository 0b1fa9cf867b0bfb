// SlidingWindowLimiter: at most `max_messages` outbound messages in any `window` (Binance: 5
// WebSocket messages per second per connection). Stricter than a token bucket of the same
// rate, which lets up to 2N - 1 messages land in one rolling window (a full bucket, then the
// refills): here the (N+1)th message waits until the oldest of the last N is `window` old.
// Pure: the caller supplies the time (tests use a fake clock) and does the waiting.
//
// Thread-safety: plain value, one owner thread.
#pragma once

#include <algorithm>
#include <cstddef>
#include <deque>

#include "core/time.h"

namespace tickflow::exchange::collector {

class SlidingWindowLimiter {
 public:
  SlidingWindowLimiter(size_t max_messages, DurationNs window) : max_(std::max<size_t>(max_messages, 1)), window_(window) {}

  // How long to wait at `now` before the next message may go (0 = now).
  DurationNs delay(TimestampNs now) const {
    if (sent_.size() < max_) return 0;
    return std::max<DurationNs>(0, sent_.front() + window_ - now);
  }
  // A message went out at `now`.
  void record(TimestampNs now) {
    sent_.push_back(now);
    while (sent_.size() > max_) sent_.pop_front();
  }
  // Forgets the history (a new connection has its own limit).
  void reset() { sent_.clear(); }

 private:
  size_t max_;
  DurationNs window_;
  std::deque<TimestampNs> sent_;
};

}  // namespace tickflow::exchange::collector
