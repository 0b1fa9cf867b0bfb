#include "processing/quality/monitor.h"

#include <algorithm>
#include <chrono>
#include <map>

#include <pthread.h>

#include <spdlog/spdlog.h>

#include "core/codec.h"
#include "core/record_scan.h"
#include "core/topics.h"
#include "observability/metrics.h"

namespace tickflow::quality {
namespace {

constexpr DurationNs kMaxIdleWait = 100 * kNsPerMs;

int32_t default_partitions(std::string_view topic) {
  for (const auto& spec : topics::kDefaultTopics)
    if (spec.name == topic) return spec.partitions;
  return 1;
}

DurationNs default_retention(std::string_view topic) {
  for (const auto& spec : topics::kDefaultTopics)
    if (spec.name == topic) return spec.retention;
  return 0;
}

}  // namespace

// Metrics of every QualityMonitor in the process (families registered once). Gauges per scope
// are created on first use; label sets are bounded by the configured series.
struct QualityMonitor::Probe {
  prometheus::Family<prometheus::Gauge>* score;
  prometheus::Family<prometheus::Gauge>* age;
  std::array<std::array<prometheus::Counter*, kCheckCount>, kExchangeCount> events{};
  std::mutex mu;
  std::array<CheckCounts, kExchangeCount> exported{};  // totals already added to `events`

  static Probe& instance() {
    static Probe* p = new Probe();  // never destroyed, like the registry
    return *p;
  }

  Probe() {
    auto& reg = obs::registry();
    score = &prometheus::BuildGauge()
                 .Name("tickflow_quality_score")
                 .Help("Data-quality score in [0, 1] per feed and configured series (formula: "
                       "src/processing/quality/README.md)")
                 .Register(reg);
    age = &prometheus::BuildGauge()
               .Name("tickflow_quality_last_data_age_seconds")
               .Help("Seconds since the newest event of the feed or series (since start when none yet)")
               .Register(reg);
    auto& ev = prometheus::BuildCounter()
                   .Name("tickflow_quality_events_total")
                   .Help("Data-quality findings per check and exchange")
                   .Register(reg);
    for (size_t e = 0; e < kExchangeCount; ++e)
      for (size_t c = 0; c < kCheckCount; ++c)
        events[e][c] = &ev.Add({{"check", std::string(check_name(static_cast<Check>(c)))},
                                {"exchange", std::string(exchange_name(static_cast<Exchange>(e)))}});
  }

  // Adds the growth of a feed's totals since the last export (totals are per monitor; a
  // restarted monitor starts again from 0, which the max() below absorbs).
  void export_totals(Exchange e, const CheckCounts& totals) {
    std::lock_guard lock(mu);
    auto& seen = exported[static_cast<size_t>(e)];
    for (size_t c = 0; c < kCheckCount; ++c) {
      if (totals[c] > seen[c]) events[static_cast<size_t>(e)][c]->Increment(static_cast<double>(totals[c] - seen[c]));
      seen[c] = std::max(seen[c], totals[c]);
    }
  }
  void reset_exported() {
    std::lock_guard lock(mu);
    exported = {};
  }
};

QualityMonitor::QualityMonitor(bus::EventBus& bus, QualityMonitorConfig config, const Clock& clock)
    : bus_(bus), config_(std::move(config)), clock_(clock), probe_(Probe::instance()), loop_(bus) {
  health_.name = "quality";
  health_.state = HealthState::kUp;
  health_.detail = "not started";
}

QualityMonitor::~QualityMonitor() { stop(); }

Status QualityMonitor::open() {
  TICKFLOW_RETURN_IF_ERROR(validate(config_.checker));
  if (config_.max_batch == 0) return Status::invalid_argument("quality.max_batch: must be > 0");
  if (config_.tick_interval <= 0) return Status::invalid_argument("quality.tick_interval: must be > 0");
  if (config_.group.empty()) return Status::invalid_argument("quality.group: must not be empty");
  if (!bus_.topic(topics::kRawMarketData).is_ok()) {
    TICKFLOW_RETURN_IF_ERROR(bus_.create_topic({std::string(topics::kRawMarketData),
                                                default_partitions(topics::kRawMarketData),
                                                default_retention(topics::kRawMarketData)}));
  }
  auto raw = bus_.topic(topics::kRawMarketData);
  if (!raw) return raw.status();
  partitions_ = raw->partitions;
  read_pos_.assign(static_cast<size_t>(partitions_), 0);
  for (int32_t p = 0; p < partitions_; ++p) {
    auto off = config_.from_committed ? bus_.committed_offset(config_.group, topics::kRawMarketData, p)
                                      : bus_.end_offset(topics::kRawMarketData, p);
    if (!off) return off.status();
    read_pos_[static_cast<size_t>(p)] = *off;
  }
  committed_pos_ = read_pos_;
  if (!bus_.topic(topics::kRawOrderbook).is_ok()) {
    TICKFLOW_RETURN_IF_ERROR(bus_.create_topic({std::string(topics::kRawOrderbook),
                                                default_partitions(topics::kRawOrderbook),
                                                default_retention(topics::kRawOrderbook)}));
  }
  auto books = bus_.topic(topics::kRawOrderbook);
  if (!books) return books.status();
  book_pos_.assign(static_cast<size_t>(books->partitions), 0);
  for (int32_t p = 0; p < books->partitions; ++p) {
    auto off = config_.from_committed ? bus_.committed_offset(config_.group, topics::kRawOrderbook, p)
                                      : bus_.end_offset(topics::kRawOrderbook, p);
    if (!off) return off.status();
    book_pos_[static_cast<size_t>(p)] = *off;
  }
  book_committed_pos_ = book_pos_;
  last_frames_.assign(kExchangeCount, 0);
  const TimestampNs now = clock_.now_ns();
  last_tick_ = now;
  auto checker = std::make_unique<QualityChecker>(config_.checker, now);
  for (const auto& [e, symbol] : config_.series) checker->expect_series(e, symbol);
  {
    std::lock_guard lock(mu_);
    checker_ = std::move(checker);
    started_at_ = now;
    stats_ = {};
    health_.state = HealthState::kUp;
    health_.detail = "running";
  }
  probe_.reset_exported();
  opened_ = true;
  do_tick(now);
  return Status::ok();
}

Status QualityMonitor::start() {
  if (loop_.running()) return Status::ok();
  opened_ = false;
  TICKFLOW_RETURN_IF_ERROR(open());
  {
    std::lock_guard lock(mu_);
    health_.state = HealthState::kUp;
    health_.detail = "running";
  }
  // A live stream trickles in: measure it in batches, at most one per min_step_interval; a
  // failed read is retried every tick_interval (the score keeps its last window meanwhile).
  loop_.start({.thread_name = "tf-quality",
               .background = true,
               .topics = {std::string(topics::kRawMarketData), std::string(topics::kRawOrderbook)},
               .max_batch = config_.max_batch,
               .min_step_interval = config_.min_step_interval,
               .idle_wait = std::min(config_.tick_interval, kMaxIdleWait),
               .min_backoff = config_.tick_interval,
               .max_backoff = config_.tick_interval},
              {.step = [this] { return step(); },
               .failed =
                   [this](const Status& s) {
                     std::lock_guard lock(mu_);
                     health_.state = HealthState::kDegraded;
                     health_.detail = "reading raw.market-data: " + s.to_string();
                     return false;
                   }});
  return Status::ok();
}

void QualityMonitor::stop() {
  loop_.stop();
  opened_ = false;
}

Result<size_t> QualityMonitor::run_once() {
  if (!opened_) TICKFLOW_RETURN_IF_ERROR(open());
  return step();
}

Result<size_t> QualityMonitor::step() {
  size_t consumed = 0;
  size_t budget = config_.max_batch;
  Status read_status;
  for (int32_t p = 0; p < partitions_ && budget > 0; ++p) {
    auto& pos = read_pos_[static_cast<size_t>(p)];
    auto end = bus_.end_offset(topics::kRawMarketData, p);
    if (end.is_ok() && *end <= pos) continue;
    recs_.clear();
    read_status = bus_.read(topics::kRawMarketData, p, pos, budget, recs_);
    if (!read_status.is_ok()) break;
    if (recs_.empty()) continue;
    const TimestampNs now = clock_.now_ns();
    uint64_t trades = 0, undecodable = 0;
    {
      std::lock_guard lock(mu_);
      for (const bus::Record& rec : recs_) {
        // Into a reused Trade, without a protobuf message: no allocation per record.
        if (!codec::decode_trade_into(rec.value, trade_).is_ok() || trade_.symbol.empty()) {
          // The candle processor dead-letters these; a misrouted book snapshot is just skipped.
          if (codec::peek_kind(rec.value) != codec::RecordKind::kBook) ++undecodable;
          continue;
        }
        checker_->on_trade(trade_, now);
        ++trades;
      }
      stats_.records += recs_.size();
      stats_.trades += trades;
      stats_.undecodable += undecodable;
    }
    pos = recs_.back().offset + 1;
    consumed += recs_.size();
    budget -= std::min(budget, recs_.size());
  }
  if (read_status.is_ok() && budget > 0) {
    auto books = step_books(budget);
    if (books) consumed += *books;
    else read_status = books.status();
  }
  const TimestampNs now = clock_.now_ns();
  if (now - last_tick_ >= config_.tick_interval) {
    last_tick_ = now;
    do_tick(now);
  }
  if (!read_status.is_ok() && consumed == 0) return read_status;
  return consumed;
}

void QualityMonitor::do_tick(TimestampNs now) {
  std::vector<FeedLiveness> alive;
  if (config_.liveness) alive = config_.liveness();
  std::vector<ScopeReport> reports;
  TimestampNs started = 0;
  {
    std::lock_guard lock(mu_);
    for (const FeedLiveness& f : alive) {
      auto& last = last_frames_[static_cast<size_t>(f.exchange)];
      if (f.connected && f.frames > last) checker_->on_feed_alive(f.exchange, now);
      last = f.frames;
    }
    reports = checker_->report(now);
    started = started_at_;
    ++stats_.ticks;
  }
  // Metrics: feeds always; series only when configured (bounded label set).
  for (const ScopeReport& r : reports) {
    const auto e = parse_exchange(r.reading.exchange).value_or(Exchange::kBinance);
    if (r.reading.scope == "series") {
      const bool configured = std::any_of(config_.series.begin(), config_.series.end(), [&](const auto& s) {
        return s.first == e && s.second == r.reading.symbol;
      });
      if (!configured) continue;
    } else {
      probe_.export_totals(e, r.total_counts);
    }
    const prometheus::Labels labels = {
        {"scope", r.reading.scope}, {"exchange", r.reading.exchange}, {"symbol", r.reading.symbol}};
    probe_.score->Add(labels).Set(r.reading.score);
    const TimestampNs last = r.reading.last_data > 0 ? r.reading.last_data : started;
    probe_.age->Add(labels).Set(static_cast<double>(std::max<DurationNs>(0, now - last)) / 1e9);
  }
  // Positions of the group (offsets only): lag tooling sees how far the monitor is.
  bool moved = read_pos_ != committed_pos_ || book_pos_ != book_committed_pos_;
  if (moved) {
    auto txn = bus_.begin();
    for (size_t p = 0; p < read_pos_.size(); ++p)
      if (read_pos_[p] != committed_pos_[p])
        txn->commit_offset(config_.group, topics::kRawMarketData, static_cast<int32_t>(p), read_pos_[p]);
    for (size_t p = 0; p < book_pos_.size(); ++p)
      if (book_pos_[p] != book_committed_pos_[p])
        txn->commit_offset(config_.group, topics::kRawOrderbook, static_cast<int32_t>(p), book_pos_[p]);
    Status s = txn->commit();
    if (s.is_ok()) {
      committed_pos_ = read_pos_;
      book_committed_pos_ = book_pos_;
    } else {
      spdlog::warn("quality: committing read positions failed (measurement continues): {}", s.to_string());
    }
  }
  std::lock_guard lock(mu_);
  if (health_.state == HealthState::kDegraded && health_.detail.rfind("reading", 0) == 0) {
    health_.state = HealthState::kUp;
    health_.detail = "running";
  }
}

std::vector<QualityReading> QualityMonitor::snapshot() const {
  const TimestampNs now = clock_.now_ns();
  std::lock_guard lock(mu_);
  if (!checker_) return {};
  return checker_->readings(now);
}

std::vector<ScopeReport> QualityMonitor::report() const {
  const TimestampNs now = clock_.now_ns();
  std::lock_guard lock(mu_);
  if (!checker_) return {};
  return checker_->report(now);
}

double QualityMonitor::overall_score() const {
  double score = 1.0;
  for (const auto& r : snapshot())
    if (r.scope == "feed") score = std::min(score, r.score);
  return score;
}

ComponentHealth QualityMonitor::health() const {
  ComponentHealth h;
  {
    std::lock_guard lock(mu_);
    h = health_;
  }
  if (h.state == HealthState::kUp && h.detail == "running") {
    size_t stale = 0;
    double score = 1.0;
    for (const auto& r : snapshot()) {
      if (r.scope != "feed") continue;
      score = std::min(score, r.score);
      if (r.stale) ++stale;
    }
    h.detail = fmt::format("running; score {:.3f}; {} stale feed(s)", score, stale);
  }
  return h;
}

QualityMonitorStats QualityMonitor::stats() const {
  std::lock_guard lock(mu_);
  return stats_;
}

Result<size_t> QualityMonitor::step_books(size_t budget) {
  size_t consumed = 0;
  for (size_t p = 0; p < book_pos_.size() && budget > 0; ++p) {
    auto& pos = book_pos_[p];
    const auto partition = static_cast<int32_t>(p);
    auto end = bus_.end_offset(topics::kRawOrderbook, partition);
    if (end.is_ok() && *end <= pos) continue;
    recs_.clear();
    TICKFLOW_RETURN_IF_ERROR(bus_.read(topics::kRawOrderbook, partition, pos, budget, recs_));
    if (recs_.empty()) continue;
    const TimestampNs now = clock_.now_ns();
    uint64_t checked = 0, crossed = 0, undecodable = 0;
    {
      std::lock_guard lock(mu_);
      for (const bus::Record& rec : recs_) {
        auto book = codec::decode_book(rec.value);
        if (!book || book->symbol.empty()) {
          ++undecodable;
          continue;
        }
        const Decimal bid = book->bids.empty() ? Decimal() : book->bids.front().price;
        const Decimal ask = book->asks.empty() ? Decimal() : book->asks.front().price;
        if (checker_->on_book_top(book->exchange, book->symbol, bid, ask, now)) ++crossed;
        ++checked;
      }
      stats_.records += recs_.size();
      stats_.book_snapshots += checked;
      stats_.crossed_books += crossed;
      stats_.undecodable += undecodable;
    }
    pos = recs_.back().offset + 1;
    consumed += recs_.size();
    budget -= std::min(budget, recs_.size());
  }
  return consumed;
}

void QualityMonitor::on_book_top(Exchange e, std::string_view symbol, const Decimal& bid, const Decimal& ask) {
  const TimestampNs now = clock_.now_ns();
  std::lock_guard lock(mu_);
  if (checker_) checker_->on_book_top(e, symbol, bid, ask, now);
}

}  // namespace tickflow::quality
