// The worker-thread plumbing shared by the exchange collectors (composition, not a base class):
//   WorkerControl       the stop flag and the interruptible wait every backoff/retry uses
//   HealthCell          the collector's ComponentHealth behind a mutex
//   run_connection_loop connect (+ subscribe) → session → reconnect with exponential backoff,
//                       full jitter and the circuit breaker (backoff.h); health and metrics
//   read_frames         one session's read loop: a frame (or a stale/dropped end), then whatever
//                       is already buffered (up to max_batch_frames) before the batch is closed
// The venue-specific parts (URL, subscribe message, frame handling, backfill) are callbacks.
//
// Thread-safety: WorkerControl and HealthCell are safe from any thread; the loops run on the
// collector's worker thread.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "core/health.h"
#include "core/result.h"
#include "exchange/backoff.h"
#include "exchange/collector/probe.h"
#include "exchange/transport/ws_connection.h"

namespace tickflow::exchange::collector {

class WorkerControl {
 public:
  bool stopping() const { return stopping_.load(std::memory_order_relaxed); }
  // Waits up to d; false when request_stop() interrupted (or preceded) the wait.
  bool wait_for(DurationNs d);
  void request_stop();

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::atomic<bool> stopping_{false};
};

class HealthCell {
 public:
  explicit HealthCell(std::string name) { health_ = {std::move(name), HealthState::kDown, "not started"}; }
  void set(HealthState state, std::string detail);
  ComponentHealth get() const;

 private:
  mutable std::mutex mu_;
  ComponentHealth health_;
};

enum class SessionEnd : uint8_t { kStopped, kDropped, kStale, kAged, kReconnect, kFatal };

struct ConnectionHooks {
  // Connects (and subscribes). A failure is retried with backoff.
  std::function<Status()> connect;
  // Reads until the session ends.
  std::function<SessionEnd()> session;
  // Frames read in the session that just ended (a session that read frames for at least the
  // base delay counts as healthy: the next connect is immediate and resets the backoff).
  std::function<uint64_t()> session_frames;
};

struct ConnectionCounters {
  std::atomic<uint64_t> connects{0};
  std::atomic<uint64_t> reconnects{0};
};

// Returns true when a session ended kFatal (ingestion halted), false when stopped.
bool run_connection_loop(std::string_view component, std::string_view target, const BackoffConfig& backoff,
                         WorkerControl& control, HealthCell& health, CollectorProbe& probe,
                         ConnectionCounters& counters, const ConnectionHooks& hooks);

// `process` handles one frame and returns false once the session must end (the batch is cut
// short); `close_batch` runs after each batch (commit) and returns the session's end when it
// must end. Stale: no frame for stale_timeout on an open socket.
SessionEnd read_frames(std::string_view component, transport::WsConnection& ws, const WorkerControl& control,
                       DurationNs stale_timeout, size_t max_batch_frames,
                       const std::function<bool(std::string_view)>& process,
                       const std::function<std::optional<SessionEnd>()>& close_batch);

}  // namespace tickflow::exchange::collector
