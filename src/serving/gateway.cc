#include "serving/gateway.h"

#include <algorithm>

#include <pthread.h>

#include <spdlog/spdlog.h>

#include "core/codec.h"
#include "observability/metrics.h"
#include "delivery/alert_json.h"
#include "serving/candle_json.h"
#include "serving/indicators_routes.h"

namespace tickflow::serving {

namespace {

struct RealtimeProbe {
  prometheus::Counter& updates;
  prometheus::Gauge& clients;
  prometheus::Histogram& push_latency;
  prometheus::Counter& dropped;
  prometheus::Family<prometheus::Counter>& decode_errors;
  prometheus::Counter& indicator_updates;
  prometheus::Counter& alerts;
  prometheus::Counter& alert_disconnects;

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
              .Help("Records of a consumed topic the realtime gateway could not decode")
              .Register(r),
          prometheus::BuildCounter()
              .Name("tickflow_realtime_indicator_updates_total")
              .Help("Indicator records consumed from the bus by the realtime gateway")
              .Register(r)
              .Add({}),
          prometheus::BuildCounter()
              .Name("tickflow_realtime_alerts_total")
              .Help("Alerts consumed from the bus by the realtime gateway")
              .Register(r)
              .Add({}),
          prometheus::BuildCounter()
              .Name("tickflow_realtime_alert_disconnects_total")
              .Help("WebSocket alert connections closed because their alert queue overflowed (alerts are never dropped silently)")
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

size_t ConflatingQueue::push_back(Message msg) {
  std::lock_guard lock(mu_);
  entries_.push_back(Entry{std::string(), std::move(msg)});
  return entries_.size();
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

Status RealtimeGateway::add_reader(
    const std::string& topic, bool required,
    void (RealtimeGateway::*dispatch)(const bus::Record&, std::vector<std::shared_ptr<Subscriber>>&)) {
  if (topic.empty()) return Status::ok();
  auto cfg = bus_.topic(topic);
  if (!cfg) {
    if (!required) {
      spdlog::info("realtime gateway: topic {} does not exist, its WebSocket pushes are off", topic);
      return Status::ok();
    }
    return Status::not_found("realtime gateway: topic " + topic +
                             " does not exist (create topics before starting the gateway): " +
                             cfg.status().message());
  }
  auto reader = std::make_unique<Reader>();
  reader->topic = topic;
  reader->dispatch = dispatch;
  reader->positions.assign(static_cast<size_t>(cfg->partitions), 0);
  for (int32_t p = 0; p < cfg->partitions; ++p) {
    auto end = bus_.end_offset(topic, p);
    if (!end) return end.status();
    reader->positions[static_cast<size_t>(p)] = *end;
  }
  readers_.push_back(std::move(reader));
  return Status::ok();
}

Status RealtimeGateway::start() {
  std::lock_guard lock(lifecycle_mu_);
  if (started_) return Status::invalid_argument("realtime gateway already started");
  readers_.clear();
  Status s = add_reader(config_.topic, true, &RealtimeGateway::dispatch);
  if (s.is_ok()) s = add_reader(config_.indicators_topic, false, &RealtimeGateway::dispatch_indicators);
  if (s.is_ok()) s = add_reader(config_.alerts_topic, false, &RealtimeGateway::dispatch_alert);
  if (!s.is_ok()) {
    readers_.clear();
    return s;
  }
  stopping_ = false;
  started_ = true;
  for (auto& r : readers_) {
    Reader* reader = r.get();
    reader->thread = std::thread([this, reader] { run(*reader); });
  }
  return Status::ok();
}

void RealtimeGateway::stop() {
  std::lock_guard lock(lifecycle_mu_);
  bool any = false;
  for (auto& r : readers_) any = any || r->thread.joinable();
  if (!any) return;
  stopping_ = true;
  bus_.wake_all();
  for (auto& r : readers_) {
    if (r->thread.joinable()) r->thread.join();
  }
}

bool AlertFilter::matches(const Alert& a) const {
  auto in = [](const std::vector<std::string>& v, const std::string& x) {
    return v.empty() || std::find(v.begin(), v.end(), x) != v.end();
  };
  return in(rules, a.rule) && in(symbols, a.symbol);
}

void RealtimeGateway::count_alert_disconnect() { RealtimeProbe::get().alert_disconnects.Increment(); }

void RealtimeGateway::subscribe_alerts(AlertFilter filter, const std::shared_ptr<Subscriber>& subscriber) {
  std::lock_guard lock(subs_mu_);
  alert_subs_.push_back(AlertEntry{subscriber.get(), subscriber, std::move(filter)});
  ++sub_count_;
  RealtimeProbe::get().clients.Increment();
}

void RealtimeGateway::unsubscribe_alerts(const Subscriber* subscriber) {
  std::lock_guard lock(subs_mu_);
  auto e = std::find_if(alert_subs_.begin(), alert_subs_.end(), [&](const AlertEntry& x) { return x.id == subscriber; });
  if (e == alert_subs_.end()) return;
  alert_subs_.erase(e);
  --sub_count_;
  RealtimeProbe::get().clients.Decrement();
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

void RealtimeGateway::run(Reader& reader) {
  pthread_setname_np(pthread_self(), "tf-gateway");  // `top -H`, perf
  std::vector<bus::Record> batch;
  std::vector<std::shared_ptr<Subscriber>> scratch;
  const std::string& topic = reader.topic;
  const auto partitions = static_cast<int32_t>(reader.positions.size());
  while (!stopping_.load(std::memory_order_acquire)) {
    // Read the version before reading data so a commit in between is never missed.
    uint64_t seen = bus_.data_version(topic);
    bool more = false;
    for (int32_t p = 0; p < partitions && !stopping_.load(std::memory_order_relaxed); ++p) {
      batch.clear();
      auto& pos = reader.positions[static_cast<size_t>(p)];
      // Skip idle partitions cheaply (60 by default) before paying for a read.
      auto end = bus_.end_offset(topic, p);
      if (end && *end <= pos) continue;
      Status s = bus_.read(topic, p, pos, config_.max_batch, batch);
      if (!s.is_ok()) {
        spdlog::warn("realtime gateway: read {}[{}]@{} failed: {}", topic, p, pos, s.to_string());
        continue;
      }
      for (const bus::Record& r : batch) {
        (this->*reader.dispatch)(r, scratch);
        pos = r.offset + 1;
      }
      if (batch.size() >= config_.max_batch) more = true;
    }
    if (!more && !stopping_.load(std::memory_order_acquire)) bus_.wait_for_data(topic, seen, config_.idle_wait);
  }
}

void RealtimeGateway::collect(const std::string& key, std::vector<std::shared_ptr<Subscriber>>& out) const {
  std::lock_guard lock(subs_mu_);
  auto it = subs_.find(key);
  if (it == subs_.end()) return;
  for (const Entry& e : it->second) {
    if (auto s = e.sub.lock()) out.push_back(std::move(s));
  }
}

void RealtimeGateway::dispatch(const bus::Record& record, std::vector<std::shared_ptr<Subscriber>>& scratch) {
  auto& probe = RealtimeProbe::get();
  // One protobuf parse per record on the hot path: the kind is only examined when decoding as
  // a candle fails (records that are not candles are skipped; a candle that does not decode
  // counts as a decode error).
  TimestampNs last_trade_recv = 0;
  auto candle = codec::decode_candle(record.value, &last_trade_recv);
  if (!candle) {
    if (codec::peek_kind(record.value) == codec::RecordKind::kCandle)
      probe.decode_errors.Add({{"topic", record.topic}}).Increment();
    return;
  }
  updates_.fetch_add(1, std::memory_order_relaxed);
  probe.updates.Increment();

  scratch.clear();
  collect(candle->series_key(), scratch);
  if (scratch.empty()) return;
  auto json = std::make_shared<const std::string>(candle_update_message(*candle));
  if (last_trade_recv > 0) {  // observed before the hand-over: a client that got it finds it in /metrics
    double latency = static_cast<double>(clock_.now_ns() - last_trade_recv) / 1e9;
    probe.push_latency.Observe(std::max(0.0, latency));
  }
  for (auto& s : scratch) s->deliver(json);
  scratch.clear();  // release references outside the lock
}

std::string indicators_update_message(const IndicatorRecord& r) {
  std::string out = "{\"type\":\"indicators\",\"exchange\":";
  append_json_string(out, exchange_name(r.exchange));
  out += ",\"symbol\":";
  append_json_string(out, r.symbol);
  out += ",\"timeframe\":";
  append_json_string(out, r.timeframe.label());
  out += r.provisional ? ",\"provisional\":true,\"data\":" : ",\"provisional\":false,\"data\":";
  append_indicator_json(out, r);
  out += '}';
  return out;
}

void RealtimeGateway::dispatch_indicators(const bus::Record& record,
                                          std::vector<std::shared_ptr<Subscriber>>& scratch) {
  auto rec = codec::decode_indicators(record.value);
  if (!rec) {
    if (codec::peek_kind(record.value) == codec::RecordKind::kIndicators)
      RealtimeProbe::get().decode_errors.Add({{"topic", record.topic}}).Increment();
    return;
  }
  indicator_updates_.fetch_add(1, std::memory_order_relaxed);
  RealtimeProbe::get().indicator_updates.Increment();
  scratch.clear();
  collect(rec->series_key(), scratch);
  if (scratch.empty()) return;
  auto json = std::make_shared<const std::string>(indicators_update_message(*rec));
  for (auto& s : scratch) s->deliver_indicators(json);
  scratch.clear();
}

void RealtimeGateway::dispatch_alert(const bus::Record& record, std::vector<std::shared_ptr<Subscriber>>& scratch) {
  auto alert = codec::decode_alert(record.value);
  if (!alert) {
    if (codec::peek_kind(record.value) == codec::RecordKind::kAlert)
      RealtimeProbe::get().decode_errors.Add({{"topic", record.topic}}).Increment();
    return;
  }
  alerts_.fetch_add(1, std::memory_order_relaxed);
  RealtimeProbe::get().alerts.Increment();
  scratch.clear();
  {
    std::lock_guard lock(subs_mu_);
    for (const AlertEntry& e : alert_subs_) {
      if (!e.filter.matches(*alert)) continue;
      if (auto s = e.sub.lock()) scratch.push_back(std::move(s));
    }
  }
  if (scratch.empty()) return;
  auto json = std::make_shared<const std::string>(delivery::alert_ws_message(*alert));
  for (auto& s : scratch) s->deliver(json);
  scratch.clear();
}

}  // namespace tickflow::serving
