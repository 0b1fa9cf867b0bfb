#include "storage/loader.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>

#include "core/clock.h"
#include "core/codec.h"
#include "observability/metrics.h"
#include "storage/alert_store.h"

namespace tickflow::storage {
namespace {

struct LoaderProbe {
  prometheus::Counter& candles_written;
  prometheus::Counter& undecodable;
  prometheus::Counter& errors;
  prometheus::Histogram& batch_seconds;
  prometheus::Gauge& lag_records;

  static LoaderProbe& get(LoaderRecords kind = LoaderRecords::kCandles) {
    if (kind == LoaderRecords::kAlerts) {
      static LoaderProbe* alerts = [] {
        auto& reg = obs::registry();
        auto& written = prometheus::BuildCounter()
                            .Name("tickflow_historical_alerts_written_total")
                            .Help("Alerts handed to the store by the alert loader (repeated ids ignored there)")
                            .Register(reg);
        auto& lag = prometheus::BuildGauge()
                        .Name("tickflow_historical_alerts_lag_records")
                        .Help("Records of processed.alerts not yet in the store")
                        .Register(reg);
        LoaderProbe& base = get(LoaderRecords::kCandles);
        return new LoaderProbe{written.Add({}), base.undecodable, base.errors, base.batch_seconds, lag.Add({})};
      }();
      return *alerts;
    }
    if (kind == LoaderRecords::kIndicators) {
      static LoaderProbe* ind = [] {
        auto& reg = obs::registry();
        auto& written = prometheus::BuildCounter()
                            .Name("tickflow_historical_indicators_written_total")
                            .Help("Indicator records written to the store by the indicator loader")
                            .Register(reg);
        auto& lag = prometheus::BuildGauge()
                        .Name("tickflow_historical_indicators_lag_records")
                        .Help("Records of processed.indicators not yet in the store")
                        .Register(reg);
        LoaderProbe& base = get(LoaderRecords::kCandles);
        return new LoaderProbe{written.Add({}), base.undecodable, base.errors, base.batch_seconds, lag.Add({})};
      }();
      return *ind;
    }
    static LoaderProbe* p = [] {
      auto& reg = obs::registry();
      auto& written = prometheus::BuildCounter()
                          .Name("tickflow_historical_candles_written_total")
                          .Help("Candle updates written to the store by the historical loader")
                          .Register(reg);
      auto& undecodable =
          prometheus::BuildCounter()
              .Name("tickflow_historical_undecodable_total")
              .Help("normalized.ohlcv records that were not candles (sent to the DLQ)")
              .Register(reg);
      auto& errors = prometheus::BuildCounter()
                         .Name("tickflow_historical_errors_total")
                         .Help("Historical loader batches that failed (retried)")
                         .Register(reg);
      auto& batch = prometheus::BuildHistogram()
                        .Name("tickflow_historical_batch_seconds")
                        .Help("Time to read, decode and store one batch")
                        .Register(reg);
      auto& lag = prometheus::BuildGauge()
                      .Name("tickflow_historical_lag_records")
                      .Help("Records of normalized.ohlcv not yet in the store")
                      .Register(reg);
      return new LoaderProbe{written.Add({}), undecodable.Add({}), errors.Add({}),
                             batch.Add({}, obs::latency_buckets()), lag.Add({})};
    }();
    return *p;
  }
};

std::string exchange_of_key(std::string_view key) {
  const size_t colon = key.find(':');
  return std::string(colon == std::string_view::npos ? std::string_view() : key.substr(0, colon));
}

}  // namespace

LoaderConfig indicator_loader_config() {
  LoaderConfig c;
  c.name = "historical.indicators";
  c.records = LoaderRecords::kIndicators;
  c.group = "historical.indicators";
  c.topic = std::string(topics::kProcessedIndicators);
  return c;
}

LoaderConfig alert_loader_config() {
  LoaderConfig c;
  c.name = "historical.alerts";
  c.records = LoaderRecords::kAlerts;
  c.group = "historical.alerts";
  c.topic = std::string(topics::kProcessedAlerts);
  return c;
}

namespace {
size_t resolve_writers(const LoaderConfig& c, const CandleStore& store) {
  return std::max<size_t>(1, c.writers ? c.writers : store.write_parallelism());
}
}  // namespace

HistoricalLoader::HistoricalLoader(bus::EventBus& bus, CandleStore& store, LoaderConfig config)
    : bus_(bus), store_(store), config_(std::move(config)), writers_(resolve_writers(config_, store)),
      root_(this) {
  if (config_.writer != 0) return;
  for (size_t w = 1; w < writers_; ++w) {
    LoaderConfig c = config_;
    c.writers = writers_;
    c.writer = w;
    siblings_.push_back(std::make_unique<HistoricalLoader>(bus, store, std::move(c)));
    siblings_.back()->root_ = this;
  }
}

HistoricalLoader::~HistoricalLoader() { stop(); }

Status HistoricalLoader::ensure_loaded() const {
  if (loaded_) return Status::ok();
  if (config_.records == LoaderRecords::kAlerts && store_.alerts() == nullptr)
    return Status::invalid_argument(config_.name + ": the store keeps no alerts");
  auto topic = bus_.topic(config_.topic);
  if (!topic) return topic.status();
  std::vector<int64_t> positions(static_cast<size_t>(topic->partitions), 0);
  for (int32_t p = 0; p < topic->partitions; ++p) {
    if (!owns(static_cast<size_t>(p))) continue;
    auto pos = store_.position(config_.group, config_.topic, p);
    if (!pos) return pos.status();
    positions[static_cast<size_t>(p)] = *pos;
  }
  positions_ = std::move(positions);
  loaded_ = true;
  return Status::ok();
}

Result<size_t> HistoricalLoader::run_once() {
  auto own = run_batch();
  Status first = own.status();
  size_t consumed = own ? *own : 0;
  for (auto& s : siblings_) {
    auto r = s->run_once();
    if (r) consumed += *r;
    else if (first.is_ok()) first = r.status();
  }
  if (!first) return first;
  return consumed;
}

Result<size_t> HistoricalLoader::run_batch() {
  auto& probe = LoaderProbe::get(config_.records);
  const auto t0 = std::chrono::steady_clock::now();
  std::lock_guard run_lk(run_mu_);
  TICKFLOW_RETURN_IF_ERROR(ensure_loaded());

  const size_t n = positions_.size();
  std::vector<int64_t> next = positions_;
  std::vector<Candle> candles;
  std::vector<IndicatorRecord> indicators;
  std::vector<Alert> alerts;
  const bool want_indicators = config_.records == LoaderRecords::kIndicators;
  const bool want_alerts = config_.records == LoaderRecords::kAlerts;
  std::vector<ConsumerPosition> changed;
  std::vector<bus::Record> records;
  auto dlq = bus_.begin();
  size_t budget = config_.max_batch_records;
  size_t consumed = 0;
  uint64_t bad = 0;
  int64_t lag = 0;

  for (size_t i = 0; i < n; ++i) {
    const size_t pi = (rr_start_ + i) % n;
    const auto p = static_cast<int32_t>(pi);
    if (!owns(pi)) continue;
    auto end = bus_.end_offset(config_.topic, p);
    if (!end) return end.status();
    if (next[pi] >= *end || budget == 0) {
      lag += std::max<int64_t>(0, *end - next[pi]);
      continue;
    }
    records.clear();
    TICKFLOW_RETURN_IF_ERROR(bus_.read(config_.topic, p, next[pi], budget, records));
    if (records.empty()) {
      // Everything from our position was removed by retention: skip to the first record left.
      auto begin = bus_.begin_offset(config_.topic, p);
      if (!begin) return begin.status();
      if (*begin > next[pi]) {
        next[pi] = std::min(*begin, *end);
        changed.push_back({config_.group, config_.topic, p, next[pi]});
      }
      lag += std::max<int64_t>(0, *end - next[pi]);
      continue;
    }
    for (const bus::Record& r : records) {
      Status decoded;
      if (want_alerts) {
        auto alert = codec::decode_alert(r.value);
        if (alert) {
          alerts.push_back(std::move(alert).value());
          continue;
        }
        decoded = alert.status();
      } else if (want_indicators) {
        auto rec = codec::decode_indicators(r.value);
        if (rec) {
          indicators.push_back(std::move(rec).value());
          continue;
        }
        decoded = rec.status();
      } else {
        auto candle = codec::decode_candle(r.value);
        if (candle) {
          candles.push_back(std::move(candle).value());
          continue;
        }
        decoded = candle.status();
      }
      ++bad;
      const uint64_t total_bad = undecodable_.load() + bad;
      if (total_bad <= 10 || total_bad % 1000 == 0) {
        spdlog::warn("{}: undecodable record {}/{}@{} (key '{}'): {} [{} so far]", config_.name, r.topic,
                     r.partition, r.offset, r.key, decoded.message(), total_bad);
      }
      codec::DeadLetter d;
      d.source_topic = r.topic;
      d.exchange = exchange_of_key(r.key);
      d.reason = "undecodable";
      d.detail = decoded.message() + " at " + r.topic + "/" + std::to_string(r.partition) +
                 "@" + std::to_string(r.offset);
      d.payload = r.value;
      d.ts_recv = SystemClock::instance().now_ns();
      dlq->append(config_.dlq_topic, r.key, codec::encode_dead_letter(d, d.ts_recv));
    }
    next[pi] = records.back().offset + 1;
    changed.push_back({config_.group, config_.topic, p, next[pi]});
    budget -= records.size();
    consumed += records.size();
    lag += std::max<int64_t>(0, *end - next[pi]);
  }
  if (n > 0) rr_start_ = (rr_start_ + 1) % n;
  if (changed.empty()) {
    lag_.store(lag);
    probe.lag_records.Set(static_cast<double>(root_->lag()));
    return consumed;
  }
  // Dead letters first: a crash before the store write repeats them, never loses them.
  if (dlq->appended() > 0) TICKFLOW_RETURN_IF_ERROR(dlq->commit());
  if (want_alerts) {
    TICKFLOW_RETURN_IF_ERROR(store_.alerts()->write_alerts(alerts, changed));
  } else if (want_indicators) {
    TICKFLOW_RETURN_IF_ERROR(store_.write_indicators(indicators, changed));
  } else {
    TICKFLOW_RETURN_IF_ERROR(store_.write(candles, changed));
  }
  const size_t rows = want_alerts ? alerts.size() : want_indicators ? indicators.size() : candles.size();
  positions_ = std::move(next);
  candles_written_.fetch_add(rows);
  undecodable_.fetch_add(bad);
  lag_.store(lag);
  probe.candles_written.Increment(static_cast<double>(rows));
  probe.undecodable.Increment(static_cast<double>(bad));
  probe.lag_records.Set(static_cast<double>(root_->lag()));
  probe.batch_seconds.Observe(
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  return consumed;
}

bool HistoricalLoader::caught_up() const {
  bool all = own_caught_up();
  for (const auto& s : siblings_) all = s->own_caught_up() && all;
  return all;
}

bool HistoricalLoader::own_caught_up() const {
  std::lock_guard run_lk(run_mu_);
  if (!ensure_loaded().is_ok()) return false;
  int64_t lag = 0;
  for (size_t i = 0; i < positions_.size(); ++i) {
    if (!owns(i)) continue;
    auto end = bus_.end_offset(config_.topic, static_cast<int32_t>(i));
    if (!end) return false;
    lag += std::max<int64_t>(0, *end - positions_[i]);
  }
  lag_.store(lag);
  return lag == 0;
}

int64_t HistoricalLoader::lag() const {
  int64_t lag = lag_.load();
  for (const auto& s : siblings_) lag += s->lag_.load();
  return lag;
}

uint64_t HistoricalLoader::candles_written() const {
  uint64_t n = candles_written_.load();
  for (const auto& s : siblings_) n += s->candles_written_.load();
  return n;
}

uint64_t HistoricalLoader::undecodable() const {
  uint64_t n = undecodable_.load();
  for (const auto& s : siblings_) n += s->undecodable_.load();
  return n;
}

Status HistoricalLoader::start() {
  std::lock_guard life(lifecycle_mu_);
  {
    std::lock_guard run_lk(run_mu_);
    Status st = ensure_loaded();
    // A store that is not reachable yet (database down at start) is retried by the worker.
    if (!st && !(st.retryable() && bus_.topic(config_.topic).is_ok())) return st;
    if (!st) spdlog::warn("historical: store not ready, retrying: {}", st.message());
  }
  {
    std::lock_guard lk(state_mu_);
    if (running_) return Status::ok();
    running_ = true;
    stopping_ = false;
    exited_ = false;
    thread_ = std::thread([this] { worker(); });
  }
  for (auto& s : siblings_) TICKFLOW_RETURN_IF_ERROR(s->start());
  return Status::ok();
}

void HistoricalLoader::stop() {
  for (auto& s : siblings_) s->stop();
  std::lock_guard life(lifecycle_mu_);
  std::unique_lock lk(state_mu_);
  if (!running_) return;
  stopping_ = true;
  // The worker may be about to block in wait_for_data: keep waking until it has left.
  while (!exited_) {
    bus_.wake_all();
    state_cv_.notify_all();
    state_cv_.wait_for(lk, std::chrono::milliseconds(20), [this] { return exited_; });
  }
  lk.unlock();
  if (thread_.joinable()) thread_.join();
  lk.lock();
  running_ = false;
}

void HistoricalLoader::worker() {
  auto& probe = LoaderProbe::get(config_.records);
  for (;;) {
    {
      std::lock_guard lk(state_mu_);
      if (stopping_) break;
    }
    const uint64_t seen = bus_.data_version(config_.topic);
    auto r = run_batch();
    if (!r) {
      probe.errors.Increment();
      spdlog::error("{}: batch failed (will retry): {}", config_.name, r.status().to_string());
      std::unique_lock lk(state_mu_);
      last_error_ = r.status().to_string();
      state_cv_.wait_for(lk, std::chrono::nanoseconds(config_.error_backoff),
                         [this] { return stopping_; });
      continue;
    }
    {
      std::lock_guard lk(state_mu_);
      last_error_.clear();
      if (stopping_) break;
    }
    if (*r == 0) bus_.wait_for_data(config_.topic, seen, config_.idle_wait);
  }
  std::lock_guard lk(state_mu_);
  exited_ = true;
  state_cv_.notify_all();
}

ComponentHealth HistoricalLoader::health() const {
  ComponentHealth h;
  h.name = config_.name;
  h.state = HealthState::kUp;
  h.detail = "lag " + std::to_string(lag()) + " records";
  // The worst of the writers: one down or failing is the loader's state.
  auto visit = [&h](const HistoricalLoader& l) {
    std::lock_guard lk(l.state_mu_);
    if (l.running_ && l.exited_ && !l.stopping_) {
      h.state = HealthState::kDown;
      h.detail = "worker exited";
    } else if (!l.last_error_.empty() && h.state == HealthState::kUp) {
      h.state = HealthState::kDegraded;
      h.detail = l.last_error_;
    }
  };
  visit(*this);
  for (const auto& s : siblings_) visit(*s);
  return h;
}

}  // namespace tickflow::storage
