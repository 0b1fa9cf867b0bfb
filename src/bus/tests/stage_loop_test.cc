// StageLoop: wakes on new data and drains it, ends on a fatal failure, retries a
// transient one, and stops promptly while idle.
#include "bus/stage_loop.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>

#include "bus/testing/in_memory_bus.h"

namespace tickflow::bus {
namespace {

using namespace std::chrono_literals;
using testing::InMemoryBus;

struct Fixture {
  InMemoryBus bus;
  std::atomic<int64_t> read{0};   // records the "stage" consumed
  std::atomic<int> steps{0};
  Fixture() { EXPECT_TRUE(bus.create_topic({"in", 1, 0}).is_ok()); }
  // Consumes up to `batch` of the records published so far.
  Result<size_t> step(size_t batch) {
    ++steps;
    const auto end = *bus.end_offset("in", 0);
    const int64_t n = std::min<int64_t>(static_cast<int64_t>(batch), end - read.load());
    read += n;
    return static_cast<size_t>(n);
  }
};

StageLoopOptions options(DurationNs idle_wait) {
  return {.thread_name = "test-stage", .topics = {"in"}, .max_batch = 4, .idle_wait = idle_wait,
          .min_backoff = kNsPerMs, .max_backoff = 2 * kNsPerMs};
}

TEST(StageLoop, WakesOnNewDataDrainsItAndStopsPromptly) {
  Fixture f;
  StageLoop loop(f.bus);
  // An idle wait far longer than the test: only a commit can wake the loop in time.
  loop.start(options(60 * kNsPerSec), {.step = [&] { return f.step(4); }});
  ASSERT_TRUE(f.bus.wait_until([&] { return f.steps.load() >= 1; }));
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(f.bus.publish("in", "k", "v").is_ok());
  ASSERT_TRUE(f.bus.wait_until([&] { return f.read.load() == 10; }, 5s));
  const auto t0 = std::chrono::steady_clock::now();
  loop.stop();  // idle in a 60 s wait: stop() wakes it
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 5s);
  EXPECT_FALSE(loop.running());
}

TEST(StageLoop, RetriesATransientFailureAndEndsOnAFatalOne) {
  Fixture f;
  std::atomic<int> failures{0};
  std::atomic<bool> fatal{false};
  StageLoop loop(f.bus);
  loop.start(options(10 * kNsPerMs),
             {.step = [&]() -> Result<size_t> {
                ++f.steps;
                return Status::unavailable("down");
              },
              .failed = [&](const Status& s) {
                EXPECT_EQ(s.message(), "down");
                return ++failures >= 3 || fatal.load();
              }});
  // Retried twice with backoff, then the third failure is declared fatal: no more steps.
  ASSERT_TRUE(f.bus.wait_until([&] { return failures.load() == 3; }, 5s));
  const int steps = f.steps.load();
  EXPECT_EQ(steps, 3);
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(f.bus.publish("in", "k", "v").is_ok());  // would wake a live loop
  EXPECT_FALSE(f.bus.wait_until([&] { return f.steps.load() > steps; }, 100ms));
  loop.stop();
}

}  // namespace
}  // namespace tickflow::bus
