// Test helpers: wait on a predicate with a deadline (no fixed sleeps).
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>

namespace tickflow::serving::testing {

// Polls pred until true or the deadline; yields between polls.
inline bool eventually(const std::function<bool()>& pred, std::chrono::milliseconds deadline = std::chrono::seconds(10)) {
  auto until = std::chrono::steady_clock::now() + deadline;
  while (!pred()) {
    if (std::chrono::steady_clock::now() > until) return false;
    std::this_thread::yield();
  }
  return true;
}

}  // namespace tickflow::serving::testing
