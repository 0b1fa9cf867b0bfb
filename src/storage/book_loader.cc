// BookLoader: raw.orderbook → BookStore, positions stored with the rows.
#include "storage/book_loader.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>

#include "core/codec.h"
#include "observability/metrics.h"

namespace tickflow::storage {
namespace {

struct BookSinkProbe {
  prometheus::Counter& written;
  prometheus::Counter& undecodable;
  prometheus::Counter& errors;
  prometheus::Gauge& lag;

  static BookSinkProbe& get() {
    static BookSinkProbe* p = [] {
      auto& reg = obs::registry();
      auto& written = prometheus::BuildCounter()
                          .Name("tickflow_books_sink_written_total")
                          .Help("Order-book snapshots handed to the store (replays included, ignored there)")
                          .Register(reg);
      auto& undecodable = prometheus::BuildCounter()
                              .Name("tickflow_books_sink_undecodable_total")
                              .Help("raw.orderbook records that could not be decoded (skipped)")
                              .Register(reg);
      auto& errors = prometheus::BuildCounter()
                         .Name("tickflow_books_sink_errors_total")
                         .Help("Order-book sink batches that failed (retried)")
                         .Register(reg);
      auto& lag = prometheus::BuildGauge()
                      .Name("tickflow_books_sink_lag_records")
                      .Help("Records of raw.orderbook not yet in the store")
                      .Register(reg);
      return new BookSinkProbe{written.Add({}), undecodable.Add({}), errors.Add({}), lag.Add({})};
    }();
    return *p;
  }
};

}  // namespace

BookLoader::BookLoader(bus::EventBus& bus, BookStore& store, BookLoaderConfig config)
    : bus_(bus), store_(store), config_(std::move(config)) {}

BookLoader::~BookLoader() { stop(); }

Status BookLoader::ensure_loaded() const {
  if (loaded_) return Status::ok();
  auto topic = bus_.topic(config_.topic);
  if (!topic) return topic.status();
  std::vector<int64_t> positions(static_cast<size_t>(topic->partitions), 0);
  for (int32_t p = 0; p < topic->partitions; ++p) {
    auto pos = store_.position(config_.group, config_.topic, p);
    if (!pos) return pos.status();
    positions[static_cast<size_t>(p)] = *pos;
  }
  positions_ = std::move(positions);
  loaded_ = true;
  return Status::ok();
}

Result<size_t> BookLoader::run_once() {
  auto& probe = BookSinkProbe::get();
  std::lock_guard run_lk(run_mu_);
  TICKFLOW_RETURN_IF_ERROR(ensure_loaded());
  const size_t n = positions_.size();
  std::vector<int64_t> next = positions_;
  std::vector<BookSnapshot> snapshots;
  std::vector<ConsumerPosition> changed;
  std::vector<bus::Record> records;
  size_t budget = config_.max_batch_records;
  size_t consumed = 0;
  uint64_t bad = 0;
  int64_t lag = 0;
  const size_t share = std::max<size_t>(64, config_.max_batch_records / std::max<size_t>(1, n));
  for (size_t pi = 0; pi < n; ++pi) {
    const auto p = static_cast<int32_t>(pi);
    auto end = bus_.end_offset(config_.topic, p);
    if (!end) return end.status();
    if (next[pi] >= *end || budget == 0) {
      lag += std::max<int64_t>(0, *end - next[pi]);
      continue;
    }
    records.clear();
    TICKFLOW_RETURN_IF_ERROR(bus_.read(config_.topic, p, next[pi], std::min(budget, share), records));
    if (records.empty()) {
      auto begin = bus_.begin_offset(config_.topic, p);
      if (!begin) return begin.status();
      if (*begin > next[pi]) {  // fell behind the bus retention: go on from the first record left
        next[pi] = std::min(*begin, *end);
        changed.push_back({config_.group, config_.topic, p, next[pi]});
      }
      lag += std::max<int64_t>(0, *end - next[pi]);
      continue;
    }
    for (const bus::Record& r : records) {
      if (codec::peek_kind(r.value) != codec::RecordKind::kBook) continue;
      auto b = codec::decode_book(r.value);
      if (!b || b->symbol.empty()) {
        if (++bad <= 10)
          spdlog::warn("orderbook sink: undecodable snapshot {}/{}@{}: {}", r.topic, r.partition, r.offset,
                       b ? "no symbol" : b.status().message());
        continue;
      }
      snapshots.push_back(std::move(b).value());
    }
    next[pi] = records.back().offset + 1;
    changed.push_back({config_.group, config_.topic, p, next[pi]});
    budget -= records.size();
    consumed += records.size();
    lag += std::max<int64_t>(0, *end - next[pi]);
  }
  if (!changed.empty()) {
    TICKFLOW_RETURN_IF_ERROR(store_.write_books(snapshots, changed));
    positions_ = std::move(next);
    written_.fetch_add(snapshots.size());
    probe.written.Increment(static_cast<double>(snapshots.size()));
    probe.undecodable.Increment(static_cast<double>(bad));
  }
  lag_.store(lag);
  probe.lag.Set(static_cast<double>(lag));
  return consumed;
}

bool BookLoader::caught_up() const {
  std::lock_guard run_lk(run_mu_);
  if (!ensure_loaded().is_ok()) return false;
  int64_t lag = 0;
  for (size_t i = 0; i < positions_.size(); ++i) {
    auto end = bus_.end_offset(config_.topic, static_cast<int32_t>(i));
    if (!end) return false;
    lag += std::max<int64_t>(0, *end - positions_[i]);
  }
  lag_.store(lag);
  return lag == 0;
}

Status BookLoader::start() {
  std::lock_guard life(lifecycle_mu_);
  {
    auto topic = bus_.topic(config_.topic);
    if (!topic) return topic.status();
    std::lock_guard run_lk(run_mu_);
    Status st = ensure_loaded();
    if (!st && !st.retryable()) return st;
  }
  std::lock_guard lk(state_mu_);
  if (running_) return Status::ok();
  running_ = true;
  stopping_ = false;
  exited_ = false;
  thread_ = std::thread([this] { worker(); });
  return Status::ok();
}

void BookLoader::stop() {
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

void BookLoader::worker() {
  auto& probe = BookSinkProbe::get();
  DurationNs backoff = config_.error_backoff;
  for (;;) {
    {
      std::lock_guard lk(state_mu_);
      if (stopping_) break;
    }
    const uint64_t seen = bus_.data_version(config_.topic);
    auto r = run_once();
    if (!r) {
      probe.errors.Increment();
      spdlog::error("orderbook sink: batch failed (retry in {} ms): {}", backoff / kNsPerMs, r.status().to_string());
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

ComponentHealth BookLoader::health() const {
  ComponentHealth h;
  h.name = "orderbook";
  h.detail = "lag " + std::to_string(lag()) + " records";
  std::lock_guard lk(state_mu_);
  if (running_ && exited_ && !stopping_) {
    h.state = HealthState::kDown;
    h.detail = "worker exited";
  } else if (!last_error_.empty()) {
    h.state = HealthState::kDegraded;
    h.detail = last_error_;
  }
  return h;
}

}  // namespace tickflow::storage
