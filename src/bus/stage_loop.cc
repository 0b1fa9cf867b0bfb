#include "bus/stage_loop.h"

#include <algorithm>
#include <chrono>
#include <utility>

#include "core/thread.h"

namespace tickflow::bus {

StageLoop::~StageLoop() { stop(); }

void StageLoop::start(StageLoopOptions options, StageLoopHooks hooks) {
  if (thread_.joinable()) return;
  options_ = std::move(options);
  hooks_ = std::move(hooks);
  {
    std::lock_guard lock(mu_);
    stopping_ = false;
  }
  thread_ = std::thread([this] { run(); });
}

void StageLoop::stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) {
    bus_.wake_all();
    thread_.join();
  }
}

bool StageLoop::wait_stop(std::chrono::steady_clock::time_point until) {
  std::unique_lock lock(mu_);
  return cv_.wait_until(lock, until, [this] { return stopping_; });
}

void StageLoop::run() {
  if (options_.background) {
    name_background_thread(options_.thread_name.c_str());
  } else {
    name_this_thread(options_.thread_name.c_str());
  }
  DurationNs backoff = options_.min_backoff;
  std::vector<uint64_t> seen(options_.topics.size(), 0);
  for (;;) {
    for (size_t i = 0; i < seen.size(); ++i) seen[i] = bus_.data_version(options_.topics[i]);
    {
      std::lock_guard lock(mu_);
      if (stopping_) return;
    }
    const auto step_start = std::chrono::steady_clock::now();
    Result<size_t> r = hooks_.step();
    if (r.is_ok()) {
      backoff = options_.min_backoff;
      const size_t consumed = *r;
      if (consumed > 0 && (options_.max_batch == 0 || consumed >= options_.max_batch)) continue;
      if (consumed > 0) {
        if (options_.min_step_interval > 0) wait_stop(step_start + std::chrono::nanoseconds(options_.min_step_interval));
        continue;
      }
      if (hooks_.idle) hooks_.idle();
      bool other_changed = false;
      for (size_t i = 1; i < seen.size(); ++i) other_changed |= bus_.data_version(options_.topics[i]) != seen[i];
      if (other_changed) continue;
      if (seen.empty()) {
        wait_stop(std::chrono::steady_clock::now() + std::chrono::nanoseconds(options_.idle_wait));
      } else {
        bus_.wait_for_data(options_.topics[0], seen[0], options_.idle_wait);
      }
      continue;
    }
    if (hooks_.failed && hooks_.failed(r.status())) return;
    if (wait_stop(std::chrono::steady_clock::now() + std::chrono::nanoseconds(backoff))) return;
    backoff = std::min(backoff * 2, options_.max_backoff);
  }
}

}  // namespace tickflow::bus
