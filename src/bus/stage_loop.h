// StageLoop: the worker thread of a pipeline stage that consumes bus topics (candle processor,
// indicator, alert and quality stages). It calls the stage's step() until stop():
//   - a step that consumed a full batch (>= max_batch) runs again at once: a backlog is read
//     back to back;
//   - a step that consumed less waits until min_step_interval after it began (0 = no pause), so
//     a trickling input is taken in batches rather than with a wake-up (and a commit) per record;
//   - a step that found nothing waits for a commit to the first watched topic (bounded by
//     idle_wait), unless another watched topic changed meanwhile, and calls idle() first;
//   - a failed step is passed to failed(), which ends the loop by returning true (a failure that
//     cannot be retried); otherwise the loop backs off on the stop signal, doubling from
//     min_backoff to max_backoff.
// The versions of the watched topics are read BEFORE each step, so a commit racing with a step
// is never slept through.
// Thread-safety: start()/stop() from one controlling thread; the hooks run on the loop's thread.
// Lifecycle: start() → stop() (idempotent; also in the destructor, which the owner should not
// rely on: stop it before the state its hooks use is destroyed).
#pragma once

#include <condition_variable>
#include <cstddef>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "bus/event_bus.h"
#include "core/result.h"
#include "core/time.h"

namespace tickflow::bus {

struct StageLoopOptions {
  std::string thread_name;          // `top -H`, perf (≤ 15 characters)
  bool background = false;          // nice 10: the latency-critical stages get the core first
  std::vector<std::string> topics;  // watched; the first is waited on when idle
  size_t max_batch = 0;             // a step consuming this many runs again at once (0: any)
  DurationNs min_step_interval = 0;
  DurationNs idle_wait = 100 * kNsPerMs;
  DurationNs min_backoff = 10 * kNsPerMs;
  DurationNs max_backoff = 1 * kNsPerSec;
};

struct StageLoopHooks {
  std::function<Result<size_t>()> step;  // records consumed
  std::function<void()> idle;            // optional: nothing consumed (e.g. refresh a lag gauge)
  std::function<bool(const Status&)> failed;  // optional: after a failed step; true ends the loop
};

class StageLoop {
 public:
  explicit StageLoop(EventBus& bus) : bus_(bus) {}
  ~StageLoop();
  StageLoop(const StageLoop&) = delete;
  StageLoop& operator=(const StageLoop&) = delete;

  // No-op when running. The options are per start: a stage's inputs may depend on what it
  // found when it opened.
  void start(StageLoopOptions options, StageLoopHooks hooks);
  void stop();                       // wakes the loop (and every bus waiter) and joins it
  bool running() const { return thread_.joinable(); }

 private:
  void run();
  bool wait_stop(std::chrono::steady_clock::time_point until);  // true when stopping

  EventBus& bus_;
  StageLoopOptions options_;
  StageLoopHooks hooks_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace tickflow::bus
