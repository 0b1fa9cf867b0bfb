#include "cache/cache_writer.h"

#include <spdlog/spdlog.h>

#include <chrono>
#include <unordered_map>

#include "core/codec.h"
#include "observability/metrics.h"

namespace tickflow::cache {
namespace {

struct WriterProbe {
  prometheus::Counter& writes;
  prometheus::Counter& errors;
  prometheus::Counter& rebuilds;
  prometheus::Counter& undecodable;
  prometheus::Gauge& lag;
  prometheus::Histogram& write_seconds;

  static WriterProbe& get() {
    static WriterProbe* p = [] {
      auto& reg = obs::registry();
      return new WriterProbe{
          prometheus::BuildCounter()
              .Name("tickflow_cache_writes_total")
              .Help("Latest values written to the cache (after coalescing per batch)")
              .Register(reg)
              .Add({}),
          prometheus::BuildCounter()
              .Name("tickflow_cache_write_errors_total")
              .Help("Cache writer batches that failed (kept their position, retried with backoff)")
              .Register(reg)
              .Add({}),
          prometheus::BuildCounter()
              .Name("tickflow_cache_rebuilds_total")
              .Help("Rebuilds of the latest values from the store (start, flush, restart)")
              .Register(reg)
              .Add({}),
          prometheus::BuildCounter()
              .Name("tickflow_cache_undecodable_total")
              .Help("Records the cache writer could not decode (skipped)")
              .Register(reg)
              .Add({}),
          prometheus::BuildGauge()
              .Name("tickflow_cache_lag_records")
              .Help("Records of the cached topics not yet written to the cache")
              .Register(reg)
              .Add({}),
          prometheus::BuildHistogram()
              .Name("tickflow_cache_write_seconds")
              .Help("Time to read, coalesce and write one batch to the cache")
              .Register(reg)
              .Add({}, obs::latency_buckets())};
    }();
    return *p;
  }
};

// Newest value per key within a batch: higher rank wins, a later record wins a tie.
template <typename T>
void coalesce(std::unordered_map<std::string, std::pair<std::string, T>>& slots, std::string key, std::string rank,
              T value) {
  auto [it, inserted] = slots.try_emplace(std::move(key), std::move(rank), std::move(value));
  if (inserted) return;
  if (it->second.first > rank) return;
  it->second = {std::move(rank), std::move(value)};
}

}  // namespace

CacheWriter::CacheWriter(bus::EventBus& bus, LatestCache& cache, const storage::CandleStore* store,
                         CacheWriterConfig config)
    : bus_(bus), cache_(cache), store_(store), config_(std::move(config)) {
  WriterProbe::get();
}

CacheWriter::~CacheWriter() { stop(); }

Status CacheWriter::load_topics() {
  // Topics appear when their producers start: pick up each one as soon as it exists.
  for (const std::string& name : config_.topics) {
    bool have = false;
    for (const TopicState& t : topics_) have = have || t.name == name;
    if (have) continue;
    auto topic = bus_.topic(name);
    if (!topic) continue;
    TopicState ts{name, std::vector<int64_t>(static_cast<size_t>(topic->partitions), 0)};
    for (int32_t p = 0; p < topic->partitions; ++p) {
      auto pos = bus_.committed_offset(config_.group, name, p);
      if (!pos) return pos.status();
      ts.positions[static_cast<size_t>(p)] = *pos;
    }
    topics_.push_back(std::move(ts));
  }
  return Status::ok();
}

Result<size_t> CacheWriter::rebuild() {
  if (store_ == nullptr) {
    TICKFLOW_RETURN_IF_ERROR(cache_.set_marker());
    return size_t{0};
  }
  auto series = store_->list_series();
  if (!series) return series.status();
  LatestBatch batch;
  size_t written = 0;
  auto flush = [&]() -> Status {
    if (batch.empty()) return Status::ok();
    TICKFLOW_RETURN_IF_ERROR(cache_.put(batch));
    written += batch.size();
    batch = {};
    return Status::ok();
  };
  for (const storage::SeriesInfo& s : *series) {
    auto tf = Timeframe::parse(s.timeframe);
    if (!tf) continue;
    storage::CandleQuery q;
    q.exchange = s.exchange;
    q.symbol = s.symbol;
    q.timeframe = *tf;
    q.limit = 1;
    auto candles = store_->query(q);
    if (!candles) return candles.status();
    for (Candle& c : *candles) batch.candles.push_back(std::move(c));
    storage::IndicatorQuery iq;
    iq.exchange = s.exchange;
    iq.symbol = s.symbol;
    iq.timeframe = *tf;
    iq.limit = 1;
    auto ind = store_->query_indicators(iq);
    if (!ind) return ind.status();
    for (IndicatorRecord& r : *ind) batch.indicators.push_back(std::move(r));
    if (batch.size() >= 1000) TICKFLOW_RETURN_IF_ERROR(flush());
  }
  TICKFLOW_RETURN_IF_ERROR(flush());
  TICKFLOW_RETURN_IF_ERROR(cache_.set_marker());
  rebuilds_.fetch_add(1);
  WriterProbe::get().rebuilds.Increment();
  spdlog::info("cache: rebuilt {} latest values of {} series from the store", written, series->size());
  return written;
}

Status CacheWriter::check_marker(bool force) {
  const auto now = std::chrono::steady_clock::now();
  if (!force && marker_ok_ && now - last_marker_check_ < std::chrono::nanoseconds(config_.marker_check))
    return Status::ok();
  auto has = cache_.has_marker();
  if (!has) {
    marker_ok_ = false;
    return has.status();
  }
  if (!*has) {
    auto r = rebuild();
    if (!r) {
      marker_ok_ = false;
      return r.status();
    }
  }
  marker_ok_ = true;
  last_marker_check_ = now;
  return Status::ok();
}

Result<size_t> CacheWriter::run_once() {
  auto& probe = WriterProbe::get();
  const auto t0 = std::chrono::steady_clock::now();
  std::lock_guard run_lk(run_mu_);
  TICKFLOW_RETURN_IF_ERROR(load_topics());
  if (Status st = check_marker(false); !st) {
    note_lag();  // the cache is down: the lag grows while the position stays
    return st;
  }

  std::unordered_map<std::string, std::pair<std::string, Candle>> candles;
  std::unordered_map<std::string, std::pair<std::string, IndicatorRecord>> indicators;
  std::unordered_map<std::string, std::pair<std::string, Alert>> alerts;
  std::vector<std::vector<int64_t>> next;
  for (const TopicState& t : topics_) next.push_back(t.positions);
  std::vector<bus::Record> records;
  size_t budget = config_.max_batch_records;
  size_t consumed = 0;
  uint64_t bad = 0;
  int64_t lag = 0;

  for (size_t ti = 0; ti < topics_.size(); ++ti) {
    const std::string& topic = topics_[ti].name;
    for (size_t pi = 0; pi < next[ti].size(); ++pi) {
      const auto p = static_cast<int32_t>(pi);
      auto end = bus_.end_offset(topic, p);
      if (!end) return end.status();
      int64_t& pos = next[ti][pi];
      if (pos < *end && budget > 0) {
        records.clear();
        TICKFLOW_RETURN_IF_ERROR(bus_.read(topic, p, pos, budget, records));
        if (records.empty()) {
          // Our position fell behind retention: go on from the first record left.
          auto begin = bus_.begin_offset(topic, p);
          if (!begin) return begin.status();
          if (*begin > pos) pos = std::min(*begin, *end);
        }
        for (const bus::Record& r : records) {
          switch (codec::peek_kind(r.value)) {
            case codec::RecordKind::kCandle: {
              auto c = codec::decode_candle(r.value);
              if (!c) break;
              std::string key = c->series_key(), rank = candle_rank(*c);  // before the value moves
              coalesce(candles, std::move(key), std::move(rank), std::move(c).value());
              continue;
            }
            case codec::RecordKind::kIndicators: {
              auto ind = codec::decode_indicators(r.value);
              if (!ind) break;
              std::string key = ind->series_key(), rank = indicators_rank(*ind);
              coalesce(indicators, std::move(key), std::move(rank), std::move(ind).value());
              continue;
            }
            case codec::RecordKind::kAlert: {
              auto a = codec::decode_alert(r.value);
              if (!a) break;
              std::string key = a->exchange + ":" + a->symbol + ":" + a->timeframe, rank = alert_rank(*a);
              coalesce(alerts, std::move(key), std::move(rank), std::move(a).value());
              continue;
            }
            default:
              break;
          }
          ++bad;  // not a record the cache holds, or undecodable
        }
        if (!records.empty()) {
          pos = records.back().offset + 1;
          budget -= records.size();
          consumed += records.size();
        }
      }
      lag += std::max<int64_t>(0, *end - pos);
    }
  }

  LatestBatch batch;
  for (auto& [k, v] : candles) batch.candles.push_back(std::move(v.second));
  for (auto& [k, v] : indicators) batch.indicators.push_back(std::move(v.second));
  for (auto& [k, v] : alerts) batch.alerts.push_back(std::move(v.second));
  if (!batch.empty()) {
    Status st = cache_.put(batch);
    if (!st) {
      marker_ok_ = false;  // the cache may have restarted empty: check before the retry
      note_lag();
      return st;
    }
  }
  // Positions after the values: a crash in between replays the batch (harmless by rank).
  bool moved = false;
  auto tx = bus_.begin();
  for (size_t ti = 0; ti < topics_.size(); ++ti) {
    for (size_t pi = 0; pi < next[ti].size(); ++pi) {
      if (next[ti][pi] == topics_[ti].positions[pi]) continue;
      tx->commit_offset(config_.group, topics_[ti].name, static_cast<int32_t>(pi), next[ti][pi]);
      moved = true;
    }
  }
  if (moved) TICKFLOW_RETURN_IF_ERROR(tx->commit());
  for (size_t ti = 0; ti < topics_.size(); ++ti) topics_[ti].positions = std::move(next[ti]);

  lag_.store(lag);
  probe.lag.Set(static_cast<double>(lag));
  if (bad > 0) probe.undecodable.Increment(static_cast<double>(bad));
  if (!batch.empty()) {
    keys_written_.fetch_add(batch.size());
    probe.writes.Increment(static_cast<double>(batch.size()));
    probe.write_seconds.Observe(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  return consumed;
}

void CacheWriter::note_lag() {
  int64_t lag = 0;
  for (const TopicState& t : topics_) {
    for (size_t pi = 0; pi < t.positions.size(); ++pi) {
      auto end = bus_.end_offset(t.name, static_cast<int32_t>(pi));
      if (end) lag += std::max<int64_t>(0, *end - t.positions[pi]);
    }
  }
  lag_.store(lag);
  WriterProbe::get().lag.Set(static_cast<double>(lag));
}

bool CacheWriter::caught_up() const {
  std::lock_guard run_lk(run_mu_);
  int64_t lag = 0;
  for (const TopicState& t : topics_) {
    for (size_t pi = 0; pi < t.positions.size(); ++pi) {
      auto end = bus_.end_offset(t.name, static_cast<int32_t>(pi));
      if (!end) return false;
      lag += std::max<int64_t>(0, *end - t.positions[pi]);
    }
  }
  // A topic that exists but was not picked up yet holds records we have not seen.
  for (const std::string& name : config_.topics) {
    bool have = false;
    for (const TopicState& t : topics_) have = have || t.name == name;
    if (have) continue;
    auto topic = bus_.topic(name);
    if (!topic) continue;
    for (int32_t p = 0; p < topic->partitions; ++p) {
      auto end = bus_.end_offset(name, p);
      if (end && *end > 0) return false;
    }
  }
  lag_.store(lag);
  return lag == 0;
}

Status CacheWriter::start() {
  std::lock_guard life(lifecycle_mu_);
  std::lock_guard lk(state_mu_);
  if (running_) return Status::ok();
  running_ = true;
  stopping_ = false;
  exited_ = false;
  thread_ = std::thread([this] { worker(); });
  return Status::ok();
}

void CacheWriter::stop() {
  std::lock_guard life(lifecycle_mu_);
  std::unique_lock lk(state_mu_);
  if (!running_) return;
  stopping_ = true;
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

void CacheWriter::worker() {
  auto& probe = WriterProbe::get();
  DurationNs backoff = 0;
  const std::string wait_topic = config_.topics.empty() ? std::string() : config_.topics.front();
  for (;;) {
    {
      std::lock_guard lk(state_mu_);
      if (stopping_) break;
    }
    const uint64_t seen = bus_.data_version(wait_topic);
    auto r = run_once();
    if (!r) {
      probe.errors.Increment();
      backoff = backoff == 0 ? config_.backoff_initial : std::min(config_.backoff_max, backoff * 2);
      std::unique_lock lk(state_mu_);
      if (last_error_ != r.status().to_string())
        spdlog::warn("cache: batch failed (position kept, retry in {} ms): {}", backoff / kNsPerMs,
                     r.status().to_string());
      last_error_ = r.status().to_string();
      state_cv_.wait_for(lk, std::chrono::nanoseconds(backoff), [this] { return stopping_; });
      continue;
    }
    backoff = 0;
    {
      std::lock_guard lk(state_mu_);
      if (!last_error_.empty()) spdlog::info("cache: writing again after: {}", last_error_);
      last_error_.clear();
      if (stopping_) break;
    }
    // Idle: wake on new candles, or after marker_check to look at the other topics and the
    // marker (other topics are light; their records are picked up on the next pass).
    if (*r == 0) bus_.wait_for_data(wait_topic, seen, std::min(config_.idle_wait, config_.marker_check));
  }
  std::lock_guard lk(state_mu_);
  exited_ = true;
  state_cv_.notify_all();
}

ComponentHealth CacheWriter::health() const {
  ComponentHealth h;
  h.name = "cache-writer";
  std::lock_guard lk(state_mu_);
  if (running_ && exited_ && !stopping_) {
    h.state = HealthState::kDown;
    h.detail = "worker exited";
  } else if (!last_error_.empty()) {
    h.state = HealthState::kDegraded;
    h.detail = last_error_ + "; lag " + std::to_string(lag_.load()) + " records";
  } else {
    h.state = HealthState::kUp;
    h.detail = "lag " + std::to_string(lag_.load()) + " records";
  }
  return h;
}

}  // namespace tickflow::cache
