// TradeLoader: raw.market-data → TradeStore, positions stored with the rows.
#include "storage/trade_loader.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>

#include "core/codec.h"
#include "observability/metrics.h"

namespace tickflow::storage {
namespace {

struct TradeSinkProbe {
  prometheus::Counter& written;
  prometheus::Counter& undecodable;
  prometheus::Counter& errors;
  prometheus::Histogram& batch_seconds;
  prometheus::Gauge& lag;

  static TradeSinkProbe& get() {
    static TradeSinkProbe* p = [] {
      auto& reg = obs::registry();
      auto& written = prometheus::BuildCounter()
                          .Name("tickflow_trades_sink_written_total")
                          .Help("Trades handed to the trade store (duplicates included, ignored there)")
                          .Register(reg);
      auto& undecodable = prometheus::BuildCounter()
                              .Name("tickflow_trades_sink_undecodable_total")
                              .Help("raw.market-data trade records that could not be decoded (skipped)")
                              .Register(reg);
      auto& errors = prometheus::BuildCounter()
                         .Name("tickflow_trades_sink_errors_total")
                         .Help("Trade sink batches that failed (retried)")
                         .Register(reg);
      auto& batch = prometheus::BuildHistogram()
                        .Name("tickflow_trades_sink_batch_seconds")
                        .Help("Time to read, decode and store one batch of trades")
                        .Register(reg);
      auto& lag = prometheus::BuildGauge()
                      .Name("tickflow_trades_sink_lag_records")
                      .Help("Records of raw.market-data not yet in the trade store")
                      .Register(reg);
      return new TradeSinkProbe{written.Add({}), undecodable.Add({}), errors.Add({}),
                                batch.Add({}, obs::latency_buckets()), lag.Add({})};
    }();
    return *p;
  }
};

}  // namespace

namespace {
size_t resolve_writers(const TradeLoaderConfig& c, const TradeStore& store) {
  return std::max<size_t>(1, c.writers ? c.writers : store.write_parallelism());
}
}  // namespace

TradeLoader::TradeLoader(bus::EventBus& bus, TradeStore& store, TradeLoaderConfig config)
    : bus_(bus), store_(store), config_(std::move(config)), writers_(resolve_writers(config_, store)),
      root_(this) {
  if (config_.writer != 0) return;
  for (size_t w = 1; w < writers_; ++w) {
    TradeLoaderConfig c = config_;
    c.writers = writers_;
    c.writer = w;
    siblings_.push_back(std::make_unique<TradeLoader>(bus, store, std::move(c)));
    siblings_.back()->root_ = this;
  }
}

TradeLoader::~TradeLoader() { stop(); }

Status TradeLoader::ensure_loaded() const {
  if (loaded_) return Status::ok();
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

Result<size_t> TradeLoader::run_once() {
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

Result<size_t> TradeLoader::run_batch() {
  auto& probe = TradeSinkProbe::get();
  const auto t0 = std::chrono::steady_clock::now();
  std::lock_guard run_lk(run_mu_);
  TICKFLOW_RETURN_IF_ERROR(ensure_loaded());
  const size_t n = positions_.size();
  std::vector<int64_t> next = positions_;
  std::vector<Trade> trades;
  std::vector<ConsumerPosition> changed;
  std::vector<bus::Record> records;
  size_t budget = config_.max_batch_records;
  size_t consumed = 0;
  uint64_t bad = 0;
  int64_t lag = 0;
  for (size_t pi = 0; pi < n; ++pi) {
    const auto p = static_cast<int32_t>(pi);
    if (!owns(pi)) continue;
    auto end = bus_.end_offset(config_.topic, p);
    if (!end) return end.status();
    if (next[pi] >= *end || budget == 0) {
      lag += std::max<int64_t>(0, *end - next[pi]);
      continue;
    }
    records.clear();
    // Fair share per partition so one busy partition does not starve the others.
    const size_t owned = (n + writers_ - 1 - config_.writer) / writers_;
    const size_t share = std::max<size_t>(256, config_.max_batch_records / std::max<size_t>(1, owned));
    TICKFLOW_RETURN_IF_ERROR(bus_.read(config_.topic, p, next[pi], std::min(budget, share), records));
    if (records.empty()) {
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
      if (codec::peek_kind(r.value) != codec::RecordKind::kTrade) continue;
      auto t = codec::decode_trade(r.value);
      if (!t) {
        if (++bad <= 10) spdlog::warn("trades sink: undecodable trade {}/{}@{}: {}", r.topic, r.partition, r.offset, t.status().message());
        continue;
      }
      trades.push_back(std::move(t).value());
    }
    next[pi] = records.back().offset + 1;
    changed.push_back({config_.group, config_.topic, p, next[pi]});
    budget -= records.size();
    consumed += records.size();
    lag += std::max<int64_t>(0, *end - next[pi]);
  }
  if (!changed.empty()) {
    TICKFLOW_RETURN_IF_ERROR(store_.write_trades(trades, changed));
    positions_ = std::move(next);
    trades_written_.fetch_add(trades.size());
    probe.written.Increment(static_cast<double>(trades.size()));
    probe.undecodable.Increment(static_cast<double>(bad));
    probe.batch_seconds.Observe(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  lag_.store(lag);
  probe.lag.Set(static_cast<double>(root_->lag()));
  return consumed;
}

bool TradeLoader::caught_up() const {
  bool all = own_caught_up();
  for (const auto& s : siblings_) all = s->own_caught_up() && all;
  return all;
}

int64_t TradeLoader::lag() const {
  int64_t lag = lag_.load();
  for (const auto& s : siblings_) lag += s->lag_.load();
  return lag;
}

uint64_t TradeLoader::trades_written() const {
  uint64_t n = trades_written_.load();
  for (const auto& s : siblings_) n += s->trades_written_.load();
  return n;
}

bool TradeLoader::own_caught_up() const {
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

Status TradeLoader::start() {
  std::lock_guard life(lifecycle_mu_);
  {
    auto topic = bus_.topic(config_.topic);
    if (!topic) return topic.status();
    std::lock_guard run_lk(run_mu_);
    Status st = ensure_loaded();
    if (!st && !st.retryable()) return st;
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

void TradeLoader::stop() {
  for (auto& s : siblings_) s->stop();
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

void TradeLoader::worker() {
  auto& probe = TradeSinkProbe::get();
  DurationNs backoff = config_.error_backoff;
  for (;;) {
    {
      std::lock_guard lk(state_mu_);
      if (stopping_) break;
    }
    const uint64_t seen = bus_.data_version(config_.topic);
    auto r = run_batch();
    if (!r) {
      probe.errors.Increment();
      spdlog::error("trades sink: batch failed (retry in {} ms): {}", backoff / kNsPerMs,
                    r.status().to_string());
      std::unique_lock lk(state_mu_);
      last_error_ = r.status().to_string();
      state_cv_.wait_for(lk, std::chrono::nanoseconds(backoff), [this] { return stopping_; });
      backoff = std::min(config_.max_error_backoff, backoff * 2);
      continue;
    }
    backoff = config_.error_backoff;
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

ComponentHealth TradeLoader::health() const {
  ComponentHealth h;
  h.name = "trades";
  h.detail = "lag " + std::to_string(lag()) + " records";
  // The worst of the writers.
  auto visit = [&h](const TradeLoader& l) {
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
