#include "exchange/collector/worker.h"

#include <algorithm>
#include <chrono>

#include <spdlog/spdlog.h>

namespace tickflow::exchange::collector {

bool WorkerControl::wait_for(DurationNs d) {
  std::unique_lock lk(mu_);
  return !cv_.wait_for(lk, std::chrono::nanoseconds(std::max<DurationNs>(d, 0)), [this] { return stopping_.load(); });
}

void WorkerControl::request_stop() {
  {
    std::lock_guard lk(mu_);
    stopping_.store(true);
  }
  cv_.notify_all();
}

void HealthCell::set(HealthState state, std::string detail) {
  std::lock_guard lk(mu_);
  health_.state = state;
  health_.detail = std::move(detail);
}

ComponentHealth HealthCell::get() const {
  std::lock_guard lk(mu_);
  return health_;
}

bool run_connection_loop(std::string_view component, std::string_view target, const BackoffConfig& config,
                         WorkerControl& control, HealthCell& health, CollectorProbe& probe,
                         ConnectionCounters& counters, const ConnectionHooks& hooks) {
  using SteadyClock = std::chrono::steady_clock;
  Backoff backoff(config);
  bool first = true;
  bool halted = false;
  while (!control.stopping()) {
    backoff.on_attempt();
    Status st = hooks.connect();
    if (!st) {
      if (control.stopping()) break;
      const DurationNs delay = backoff.on_failure();
      spdlog::warn("{}: connect to {} failed ({}); retry in {} ms", component, target, st.message(), delay / kNsPerMs);
      if (backoff.state() == Backoff::State::kOpen) {
        health.set(HealthState::kDown, "circuit open after " + std::to_string(backoff.consecutive_failures()) +
                                           " failed connects: " + st.message());
      } else {
        health.set(HealthState::kDegraded, "reconnecting: " + st.message());
      }
      if (!control.wait_for(delay)) break;
      continue;
    }
    counters.connects.fetch_add(1);
    if (!first) {
      counters.reconnects.fetch_add(1);
      probe.reconnect();
    }
    first = false;
    probe.connected(true);
    health.set(HealthState::kUp, "connected to " + std::string(target));
    spdlog::info("{}: connected to {}", component, target);
    const auto began = SteadyClock::now();
    const SessionEnd end = hooks.session();
    probe.connected(false);
    if (end == SessionEnd::kFatal) {
      halted = true;
      break;
    }
    if (end == SessionEnd::kStopped || control.stopping()) break;
    health.set(HealthState::kDegraded, "reconnecting");
    const bool healthy = hooks.session_frames() > 0 &&
                         SteadyClock::now() - began >= std::chrono::nanoseconds(config.base_delay);
    if (end == SessionEnd::kAged || healthy) {
      backoff.on_success();
      continue;  // at once: the hole stays small and is backfilled
    }
    if (!control.wait_for(backoff.on_failure())) break;
  }
  probe.connected(false);
  return halted;
}

SessionEnd read_frames(std::string_view component, transport::WsConnection& ws, const WorkerControl& control,
                       DurationNs stale_timeout, size_t max_batch_frames,
                       const std::function<bool(std::string_view)>& process,
                       const std::function<std::optional<SessionEnd>()>& close_batch) {
  while (!control.stopping()) {
    auto frame = ws.read_frame(stale_timeout);
    if (!frame) {
      if (control.stopping()) return SessionEnd::kStopped;
      if (ws.is_open()) {
        spdlog::warn("{}: no frame for {} ms; reconnecting", component, stale_timeout / kNsPerMs);
        return SessionEnd::kStale;
      }
      spdlog::warn("{}: connection lost: {}", component, frame.status().message());
      return SessionEnd::kDropped;
    }
    bool more_ok = process(*frame);
    for (size_t n = 1; n < max_batch_frames && more_ok; ++n) {
      auto more = ws.read_frame(0);  // only what is already buffered: latency first
      if (!more) break;
      more_ok = process(*more);
    }
    if (auto end = close_batch()) return *end;
  }
  return SessionEnd::kStopped;
}

}  // namespace tickflow::exchange::collector
