// AlertDeliveryWorker: one consumer of processed.alerts that delivers each matching alert to one
// destination (a webhook subscription, Alertmanager), on its own thread.
//
// Positions: the consumer group `group` (one per destination) is read at start and committed
// after each alert is settled, so a restart resumes where delivery stopped; an alert in flight
// during a crash is delivered again with the same alert_id (receivers deduplicate on the
// Idempotency-Key / Alertmanager's label set). With init_at_end, a group that never ran starts
// at the current end (a newly configured Alertmanager does not replay 30 days of alerts).
//
// Retries: an attempt that fails (network error, timeout, non-2xx) is retried after an
// exponential backoff with jitter: attempt n waits uniform[d/2, d] with
// d = min(max_backoff, initial_backoff * 2^(n-1)). After max_attempts failures the alert is
// dead-lettered on dlq.market-data (reason `dlq_reason`, detail "<destination>: <last error>
// after N attempts", payload the alert record) in the same transaction that commits its
// position, and the worker moves on. Waits are interruptible by stop(); a dead destination
// only ever blocks its own worker, never the pipeline or another destination.
//
// Metrics (label channel = "webhook" | "alertmanager", bounded):
//   tickflow_delivery_deliveries_total{channel,outcome="delivered|dead_lettered"}
//   tickflow_delivery_attempts_total{channel,result="ok|error"}
//   tickflow_delivery_latency_seconds{channel}  (alert appended to the bus → acknowledged)
//   tickflow_delivery_request_seconds{channel}  (one HTTP attempt)
// Thread-safety: start/stop from one controlling thread; counters and health() from any.
// Ownership: the bus and the clock must outlive the worker.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "bus/event_bus.h"
#include "core/analytics.h"
#include "core/clock.h"
#include "core/health.h"
#include "core/result.h"
#include "core/topics.h"

namespace tickflow::delivery {

struct RetryPolicy {
  int max_attempts = 5;  // attempts per alert before it is dead-lettered (≥ 1)
  DurationNs initial_backoff = 1 * kNsPerSec;
  DurationNs max_backoff = 60 * kNsPerSec;
  DurationNs timeout = 5 * kNsPerSec;  // one HTTP request
};

// One attempt: ok when the destination acknowledged, else the error (kept as the last error).
using DeliverFn = std::function<Status(const Alert&)>;

struct WorkerOptions {
  std::string channel;      // metric label: "webhook" | "alertmanager"
  std::string group;        // consumer group holding the positions
  std::string destination;  // URL (logs, dead-letter detail)
  std::string dlq_reason;   // "webhook_failed" | "alertmanager_failed"
  std::string topic = std::string(topics::kProcessedAlerts);
  std::string dlq_topic = std::string(topics::kDlqMarketData);
  RetryPolicy retry;
  std::function<bool(const Alert&)> filter;  // empty: every alert
  bool init_at_end = false;
  size_t max_batch = 256;
  DurationNs idle_wait = 500 * kNsPerMs;
};

class AlertDeliveryWorker {
 public:
  AlertDeliveryWorker(bus::EventBus& bus, WorkerOptions options, DeliverFn deliver,
                      const Clock& clock = SystemClock::instance());
  ~AlertDeliveryWorker();
  AlertDeliveryWorker(const AlertDeliveryWorker&) = delete;
  AlertDeliveryWorker& operator=(const AlertDeliveryWorker&) = delete;

  // Reads the group's positions (the topic must exist) and starts the thread.
  Status start();
  // Idempotent. An alert whose delivery is in progress is not committed (redelivered later).
  void stop();

  const WorkerOptions& options() const { return options_; }
  uint64_t delivered() const { return delivered_.load(); }
  uint64_t dead_lettered() const { return dead_lettered_.load(); }
  uint64_t attempts() const { return attempts_.load(); }
  // Up while the last attempt succeeded (or none failed yet); degraded while retrying.
  ComponentHealth health(std::string name) const;

 private:
  void run();
  // Delivers with retries; false when stopping interrupted it (nothing to commit).
  bool settle(const bus::Record& record, const Alert& alert);
  bool wait_interruptible(DurationNs d);
  DurationNs backoff(int failures);

  bus::EventBus& bus_;
  const WorkerOptions options_;
  const DeliverFn deliver_;
  const Clock& clock_;
  std::vector<int64_t> positions_;
  std::thread thread_;
  std::atomic<bool> stopping_{false};
  std::mutex wait_mu_;
  std::condition_variable wait_cv_;
  std::atomic<uint64_t> delivered_{0}, dead_lettered_{0}, attempts_{0};
  std::atomic<int> consecutive_failures_{0};
  mutable std::mutex error_mu_;
  std::string last_error_;
  uint64_t rng_state_;
};

}  // namespace tickflow::delivery
