// Clock: the only source of "now" for processing code, injected so tests never sleep.
// Thread-safety: SystemClock is stateless; ManualClock is atomic.
#pragma once

#include <atomic>
#include <chrono>

#include "core/time.h"

namespace tickflow {

class Clock {
 public:
  virtual ~Clock() = default;
  virtual TimestampNs now_ns() const = 0;
};

class SystemClock final : public Clock {
 public:
  TimestampNs now_ns() const override {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  }
  static const SystemClock& instance() {
    static const SystemClock c;
    return c;
  }
};

class ManualClock final : public Clock {
 public:
  explicit ManualClock(TimestampNs start = 0) : now_(start) {}
  TimestampNs now_ns() const override { return now_.load(std::memory_order_relaxed); }
  void set(TimestampNs t) { now_.store(t, std::memory_order_relaxed); }
  void advance(DurationNs d) { now_.fetch_add(d, std::memory_order_relaxed); }

 private:
  std::atomic<TimestampNs> now_;
};

}  // namespace tickflow
