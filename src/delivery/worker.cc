#include "delivery/worker.h"

#include <algorithm>
#include <chrono>
#include <random>

#include <pthread.h>

#include <spdlog/spdlog.h>

#include "core/codec.h"
#include "core/thread.h"
#include "observability/metrics.h"

namespace tickflow::delivery {
namespace {

struct DeliveryProbe {
  prometheus::Family<prometheus::Counter>& deliveries;
  prometheus::Family<prometheus::Counter>& attempts;
  prometheus::Family<prometheus::Histogram>& latency;
  prometheus::Family<prometheus::Histogram>& request;
  prometheus::Family<prometheus::Counter>& decode_errors;

  static DeliveryProbe& get() {
    static DeliveryProbe* p = [] {
      auto& r = obs::registry();
      return new DeliveryProbe{
          prometheus::BuildCounter()
              .Name("tickflow_delivery_deliveries_total")
              .Help("Alerts settled per delivery channel, by outcome (delivered, dead_lettered)")
              .Register(r),
          prometheus::BuildCounter()
              .Name("tickflow_delivery_attempts_total")
              .Help("HTTP delivery attempts per channel, by result (ok, error)")
              .Register(r),
          prometheus::BuildHistogram()
              .Name("tickflow_delivery_latency_seconds")
              .Help("Alert appended to the bus to acknowledged by the destination")
              .Register(r),
          prometheus::BuildHistogram()
              .Name("tickflow_delivery_request_seconds")
              .Help("Duration of one delivery attempt")
              .Register(r),
          prometheus::BuildCounter()
              .Name("tickflow_delivery_decode_errors_total")
              .Help("processed.alerts records a delivery worker could not decode (skipped)")
              .Register(r)};
    }();
    return *p;
  }
};

}  // namespace

AlertDeliveryWorker::AlertDeliveryWorker(bus::EventBus& bus, WorkerOptions options, DeliverFn deliver,
                                         const Clock& clock)
    : bus_(bus), options_(std::move(options)), deliver_(std::move(deliver)), clock_(clock),
      rng_state_(std::random_device{}()) {
  auto& p = DeliveryProbe::get();
  for (const char* o : {"delivered", "dead_lettered"}) p.deliveries.Add({{"channel", options_.channel}, {"outcome", o}});
  for (const char* r : {"ok", "error"}) p.attempts.Add({{"channel", options_.channel}, {"result", r}});
}

AlertDeliveryWorker::~AlertDeliveryWorker() { stop(); }

Status AlertDeliveryWorker::start() {
  if (thread_.joinable()) return Status::invalid_argument("delivery worker " + options_.group + " already started");
  auto topic = bus_.topic(options_.topic);
  if (!topic) return topic.status();
  positions_.assign(static_cast<size_t>(topic->partitions), 0);
  bool init = false;
  if (options_.init_at_end) {
    auto marker = bus_.get_state("delivery_groups", options_.group);
    if (!marker) return marker.status();
    init = !marker->has_value();
  }
  std::unique_ptr<bus::Transaction> tx;
  if (init) tx = bus_.begin();
  for (int32_t p = 0; p < topic->partitions; ++p) {
    auto pos = init ? bus_.end_offset(options_.topic, p) : bus_.committed_offset(options_.group, options_.topic, p);
    if (!pos) return pos.status();
    positions_[static_cast<size_t>(p)] = *pos;
    if (init) tx->commit_offset(options_.group, options_.topic, p, *pos);
  }
  if (init) {
    tx->put_state("delivery_groups", options_.group, "1");
    Status s = tx->commit();
    if (!s.is_ok()) return s;
  }
  stopping_ = false;
  thread_ = std::thread([this] { run(); });
  return Status::ok();
}

void AlertDeliveryWorker::stop() {
  if (!thread_.joinable()) return;
  {
    std::lock_guard lock(wait_mu_);
    stopping_ = true;
  }
  wait_cv_.notify_all();
  bus_.wake_all();
  thread_.join();
}

bool AlertDeliveryWorker::wait_interruptible(DurationNs d) {
  std::unique_lock lock(wait_mu_);
  return !wait_cv_.wait_for(lock, std::chrono::nanoseconds(d), [&] { return stopping_.load(); });
}

DurationNs AlertDeliveryWorker::backoff(int failures) {
  DurationNs d = std::max<DurationNs>(options_.retry.initial_backoff, 0);
  for (int i = 1; i < failures && d < options_.retry.max_backoff; ++i) d *= 2;
  d = std::min(d, options_.retry.max_backoff);
  rng_state_ = rng_state_ * 6364136223846793005ULL + 1442695040888963407ULL;  // PCG-style LCG step
  const double u = static_cast<double>(rng_state_ >> 11) / static_cast<double>(1ULL << 53);
  return d / 2 + static_cast<DurationNs>(u * static_cast<double>(d / 2));
}

ComponentHealth AlertDeliveryWorker::health(std::string name) const {
  ComponentHealth h{std::move(name), HealthState::kUp, options_.destination};
  const int failures = consecutive_failures_.load();
  if (failures > 0) {
    std::lock_guard lock(error_mu_);
    h.state = HealthState::kDegraded;
    h.detail = options_.destination + ": retrying after " + std::to_string(failures) + " failed attempt(s): " +
               last_error_;
  }
  return h;
}

void AlertDeliveryWorker::run() {
  name_background_thread("tf-delivery");
  std::vector<bus::Record> batch;
  auto& probe = DeliveryProbe::get();
  const auto partitions = static_cast<int32_t>(positions_.size());
  while (!stopping_.load()) {
    const uint64_t seen = bus_.data_version(options_.topic);
    bool more = false;
    for (int32_t p = 0; p < partitions && !stopping_.load(); ++p) {
      auto& pos = positions_[static_cast<size_t>(p)];
      auto end = bus_.end_offset(options_.topic, p);
      if (end && *end <= pos) continue;
      batch.clear();
      Status s = bus_.read(options_.topic, p, pos, options_.max_batch, batch);
      if (!s.is_ok()) {
        spdlog::warn("delivery {}: read {}[{}]@{} failed: {}", options_.group, options_.topic, p, pos, s.to_string());
        continue;
      }
      int64_t skipped_to = -1;  // uncommitted position past records that needed no delivery
      for (const bus::Record& r : batch) {
        if (stopping_.load()) break;
        auto alert = codec::decode_alert(r.value);
        bool wanted = alert.is_ok() && (!options_.filter || options_.filter(*alert));
        if (!alert.is_ok()) {
          probe.decode_errors.Add({{"channel", options_.channel}}).Increment();
          spdlog::warn("delivery {}: undecodable alert at {}[{}]@{}: {}", options_.group, options_.topic, p,
                       r.offset, alert.status().to_string());
        }
        if (!wanted) {
          pos = r.offset + 1;
          skipped_to = pos;
          continue;
        }
        if (!settle(r, *alert)) break;  // stopping: leave uncommitted
        pos = r.offset + 1;
        skipped_to = -1;
      }
      if (skipped_to >= 0) {
        auto tx = bus_.begin();
        tx->commit_offset(options_.group, options_.topic, p, skipped_to);
        Status cs = tx->commit();
        if (!cs.is_ok()) spdlog::warn("delivery {}: committing position failed: {}", options_.group, cs.to_string());
      }
      if (batch.size() >= options_.max_batch) more = true;
    }
    if (!more && !stopping_.load()) bus_.wait_for_data(options_.topic, seen, options_.idle_wait);
  }
}

bool AlertDeliveryWorker::settle(const bus::Record& record, const Alert& alert) {
  auto& probe = DeliveryProbe::get();
  const int max_attempts = std::max(1, options_.retry.max_attempts);
  std::string last_error;
  bool ok = false;
  for (int attempt = 1; attempt <= max_attempts; ++attempt) {
    if (stopping_.load()) return false;
    const TimestampNs t0 = clock_.now_ns();
    Status s = deliver_(alert);
    const TimestampNs t1 = clock_.now_ns();
    attempts_.fetch_add(1);
    probe.request.Add({{"channel", options_.channel}}, obs::latency_buckets())
        .Observe(static_cast<double>(std::max<DurationNs>(0, t1 - t0)) / 1e9);
    if (s.is_ok()) {
      probe.attempts.Add({{"channel", options_.channel}, {"result", "ok"}}).Increment();
      ok = true;
      break;
    }
    probe.attempts.Add({{"channel", options_.channel}, {"result", "error"}}).Increment();
    last_error = s.message();
    {
      std::lock_guard lock(error_mu_);
      last_error_ = last_error;
    }
    consecutive_failures_.fetch_add(1);
    spdlog::warn("delivery {}: alert {} attempt {}/{} to {} failed: {}", options_.group, alert.alert_id, attempt,
                 max_attempts, options_.destination, last_error);
    if (attempt < max_attempts && !wait_interruptible(backoff(attempt))) return false;
  }
  if (ok) consecutive_failures_ = 0;
  auto tx = bus_.begin();
  if (!ok) {
    codec::DeadLetter d;
    d.source_topic = options_.topic;
    d.exchange = alert.exchange;
    d.reason = options_.dlq_reason;
    d.detail = options_.destination + ": " + last_error + " after " + std::to_string(max_attempts) + " attempts";
    d.payload = record.value;
    d.ts_recv = clock_.now_ns();
    tx->append(options_.dlq_topic, alert.alert_id, codec::encode_dead_letter(d, d.ts_recv));
  }
  tx->commit_offset(options_.group, options_.topic, record.partition, record.offset + 1);
  Status cs = tx->commit();
  if (!cs.is_ok()) {
    // Position not stored: the alert is delivered again after a restart (same idempotency key).
    spdlog::error("delivery {}: committing alert {} failed: {}", options_.group, alert.alert_id, cs.to_string());
  }
  if (ok) {
    delivered_.fetch_add(1);
    probe.deliveries.Add({{"channel", options_.channel}, {"outcome", "delivered"}}).Increment();
    if (record.timestamp > 0) {
      probe.latency.Add({{"channel", options_.channel}}, obs::latency_buckets())
          .Observe(static_cast<double>(std::max<DurationNs>(0, clock_.now_ns() - record.timestamp)) / 1e9);
    }
  } else {
    dead_lettered_.fetch_add(1);
    probe.deliveries.Add({{"channel", options_.channel}, {"outcome", "dead_lettered"}}).Increment();
    spdlog::error("delivery {}: alert {} dead-lettered after {} attempts to {}: {}", options_.group, alert.alert_id,
                  max_attempts, options_.destination, last_error);
  }
  return true;
}

}  // namespace tickflow::delivery
