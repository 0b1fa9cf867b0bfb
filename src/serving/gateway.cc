#include "serving/gateway.h"

#include <algorithm>

#include <pthread.h>

#include <spdlog/spdlog.h>

#include "core/codec.h"
#include "observability/metrics.h"
#include "serving/candle_json.h"

namespace tickflow::serving {

namespace {

struct RealtimeProbe {
  prometheus::Counter& updates;
  prometheus::Gauge& clients;
  prometheus::Histogram& push_latency;
  prometheus::Counter& dropped;
  prometheus::Counter& decode_errors;

  static RealtimeProbe& get() {
    static RealtimeProbe* p = [] {
      auto& r = obs::registry();
      return new RealtimeProbe{
          prometheus::BuildCounter()
              .Name("tickflow_realtime_updates_total")
              .Help("Candle updates consumed from the bus by the realtime gateway")
              .Register(r)
              .Add({}),
          prometheus::BuildGauge()
              .Name("tickflow_realtime_clients")
              .Help("Live WebSocket subscriptions")
              .Register(r)
              .Add({}),
          prometheus::BuildHistogram()
              .Name("tickflow_realtime_push_latency_seconds")
              .Help("Receive time of the newest trade of a candle to its hand-off to subscribers")
              .Register(r)
              .Add({}, obs::latency_buckets()),
          prometheus::BuildCounter()
              .Name("tickflow_realtime_dropped_total")
              .Help("Updates replaced by a newer one before a slow client could receive them (conflated)")
              .Register(r)
              .Add({}),
          prometheus::BuildCounter()
              .Name("tickflow_realtime_decode_errors_total")
              .Help("normalized.ohlcv records the gateway could not decode")
              .Register(r)
              .Add({})};
    }();
    return *p;
  }
};

}  // namespace

// ---------------------------------------------------------------------------------------------
// ConflatingQueue

bool ConflatingQueue::push(const std::string& key, Message msg) {
  {
    std::lock_guard lock(mu_);
    auto it = by_key_.find(key);
    if (it == by_key_.end()) {
      entries_.push_back(Entry{key, std::move(msg)});
      by_key_.emplace(key, std::prev(entries_.end()));
      return false;
    }
    it->second->msg = std::move(msg);
    ++dropped_;
  }
  RealtimeProbe::get().dropped.Increment();
  return true;
}

void ConflatingQueue::push_front(Message msg) {
  std::lock_guard lock(mu_);
  entries_.push_front(Entry{std::string(), std::move(msg)});
}

ConflatingQueue::Message ConflatingQueue::pop() {
  std::lock_guard lock(mu_);
  if (entries_.empty()) return nullptr;
  Entry& e = entries_.front();
  Message m = std::move(e.msg);
  if (!e.key.empty()) by_key_.erase(e.key);
  entries_.pop_front();
  return m;
}

size_t ConflatingQueue::size() const {
  std::lock_guard lock(mu_);
  return entries_.size();
}

uint64_t ConflatingQueue::dropped() const {
  std::lock_guard lock(mu_);
  return dropped_;
}

// ---------------------------------------------------------------------------------------------
// RealtimeGateway

RealtimeGateway::RealtimeGateway(bus::EventBus& bus, GatewayConfig config, const Clock& clock)
    : bus_(bus), config_(std::move(config)), clock_(clock) {
  RealtimeProbe::get();
}

RealtimeGateway::~RealtimeGateway() {
  stop();
  std::lock_guard lock(subs_mu_);
  RealtimeProbe::get().clients.Decrement(static_cast<double>(sub_count_));
}

Status RealtimeGateway::start() {
  std::lock_guard lock(lifecycle_mu_);
  if (started_) return Status::invalid_argument("realtime gateway already started");
  auto topic = bus_.topic(config_.topic);
  if (!topic)
    return Status::not_found("realtime gateway: topic " + config_.topic +
                             " does not exist (create topics before starting the gateway): " +
                             topic.status().message());
  positions_.assign(static_cast<size_t>(topic->partitions), 0);
  for (int32_t p = 0; p < topic->partitions; ++p) {
    auto end = bus_.end_offset(config_.topic, p);
    if (!end) return end.status();
    positions_[static_cast<size_t>(p)] = *end;
  }
  stopping_ = false;
  started_ = true;
  thread_ = std::thread([this] { run(); });
  return Status::ok();
}

void RealtimeGateway::stop() {
  std::lock_guard lock(lifecycle_mu_);
  if (!thread_.joinable()) return;
  stopping_ = true;
  bus_.wake_all();
  thread_.join();
}

void RealtimeGateway::subscribe(const std::string& series_key, const std::shared_ptr<Subscriber>& subscriber) {
  std::lock_guard lock(subs_mu_);
  subs_[series_key].push_back(Entry{subscriber.get(), subscriber});
  ++sub_count_;
  RealtimeProbe::get().clients.Increment();
}

void RealtimeGateway::unsubscribe(const std::string& series_key, const Subscriber* subscriber) {
  std::lock_guard lock(subs_mu_);
  auto it = subs_.find(series_key);
  if (it == subs_.end()) return;
  auto& v = it->second;
  auto e = std::find_if(v.begin(), v.end(), [&](const Entry& x) { return x.id == subscriber; });
  if (e == v.end()) return;
  v.erase(e);
  if (v.empty()) subs_.erase(it);
  --sub_count_;
  RealtimeProbe::get().clients.Decrement();
}

size_t RealtimeGateway::subscriber_count() const {
  std::lock_guard lock(subs_mu_);
  return sub_count_;
}

void RealtimeGateway::run() {
  pthread_setname_np(pthread_self(), "tf-gateway");  // `top -H`, perf
  std::vector<bus::Record> batch;
  const auto partitions = static_cast<int32_t>(positions_.size());
  while (!stopping_.load(std::memory_order_acquire)) {
    // Read the version before reading data so a commit in between is never missed.
    uint64_t seen = bus_.data_version(config_.topic);
    bool more = false;
    for (int32_t p = 0; p < partitions && !stopping_.load(std::memory_order_relaxed); ++p) {
      batch.clear();
      auto& pos = positions_[static_cast<size_t>(p)];
      // Skip idle partitions cheaply (60 by default) before paying for a read.
      auto end = bus_.end_offset(config_.topic, p);
      if (end && *end <= pos) continue;
      Status s = bus_.read(config_.topic, p, pos, config_.max_batch, batch);
      if (!s.is_ok()) {
        spdlog::warn("realtime gateway: read {}[{}]@{} failed: {}", config_.topic, p, pos, s.to_string());
        continue;
      }
      for (const bus::Record& r : batch) {
        dispatch(r);
        pos = r.offset + 1;
      }
      if (batch.size() >= config_.max_batch) more = true;
    }
    if (!more && !stopping_.load(std::memory_order_acquire))
      bus_.wait_for_data(config_.topic, seen, config_.idle_wait);
  }
}

void RealtimeGateway::dispatch(const bus::Record& record) {
  auto& probe = RealtimeProbe::get();
  // One protobuf parse per record on the hot path: the kind is only examined when decoding as
  // a candle fails (records that are not candles are skipped; a candle that does not decode
  // counts as a decode error).
  TimestampNs last_trade_recv = 0;
  auto candle = codec::decode_candle(record.value, &last_trade_recv);
  if (!candle) {
    if (codec::peek_kind(record.value) == codec::RecordKind::kCandle) probe.decode_errors.Increment();
    return;
  }
  updates_.fetch_add(1, std::memory_order_relaxed);
  probe.updates.Increment();

  scratch_.clear();
  {
    std::lock_guard lock(subs_mu_);
    auto it = subs_.find(candle->series_key());
    if (it == subs_.end()) return;
    for (const Entry& e : it->second) {
      if (auto s = e.sub.lock()) scratch_.push_back(std::move(s));
    }
  }
  if (scratch_.empty()) return;
  auto json = std::make_shared<const std::string>(candle_update_message(*candle));
  for (auto& s : scratch_) s->deliver(json);
  if (last_trade_recv > 0) {
    double latency = static_cast<double>(clock_.now_ns() - last_trade_recv) / 1e9;
    probe.push_latency.Observe(std::max(0.0, latency));
  }
  scratch_.clear();  // release references outside the lock
}

}  // namespace tickflow::serving
