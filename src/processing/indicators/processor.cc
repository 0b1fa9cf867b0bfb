#include "processing/indicators/processor.h"

#include <algorithm>
#include <array>
#include <chrono>
#include <optional>
#include <set>
#include <utility>

#include <pthread.h>

#include <spdlog/spdlog.h>

#include "core/codec.h"
#include "core/topics.h"
#include "observability/metrics.h"

namespace tickflow::processing::indicators {
namespace {

constexpr DurationNs kMinBackoff = 10 * kNsPerMs;
constexpr DurationNs kMaxBackoff = 1 * kNsPerSec;
constexpr DurationNs kIdleWait = 100 * kNsPerMs;
constexpr size_t kOutcomes = 6;

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

Status IndicatorProcessorConfig::validate() const {
  auto base = IndicatorSet::create(spec);
  if (!base) return Status::invalid_argument("indicators.spec: " + base.status().message());
  for (const auto& [label, s] : timeframe_specs) {
    if (!Timeframe::parse(label))
      return Status::invalid_argument("indicators.timeframes." + label + ": not a timeframe");
    auto set = IndicatorSet::create(s);
    if (!set) return Status::invalid_argument("indicators.timeframes." + label + ": " + set.status().message());
  }
  if (max_checkpoints == 0) return Status::invalid_argument("indicators.max_checkpoints: must be > 0");
  if (max_batch == 0) return Status::invalid_argument("indicators.max_batch: must be > 0");
  if (group.empty()) return Status::invalid_argument("indicators.group: must not be empty");
  return Status::ok();
}

const std::string& IndicatorProcessorConfig::spec_for(const Timeframe& tf) const {
  auto it = timeframe_specs.find(tf.label());
  return it == timeframe_specs.end() ? spec : it->second;
}

struct IndicatorProcessor::Probe {
  std::array<prometheus::Counter*, kOutcomes> candles{};
  prometheus::Counter* records;
  prometheus::Counter* warmups;
  prometheus::Histogram* commit_seconds;
  prometheus::Gauge* lag;
  prometheus::Gauge* series;

  static Probe& instance() {
    static Probe* p = new Probe();  // never destroyed, like the registry
    return *p;
  }

  Probe() {
    auto& reg = obs::registry();
    auto& candles_f = prometheus::BuildCounter()
                          .Name("tickflow_indicators_candles_total")
                          .Help("Closed candles seen by the indicator stage, by outcome")
                          .Register(reg);
    for (size_t i = 0; i < kOutcomes; ++i)
      candles[i] = &candles_f.Add({{"outcome", std::string(apply_outcome_name(static_cast<ApplyOutcome>(i)))}});
    records = &prometheus::BuildCounter()
                   .Name("tickflow_indicators_records_total")
                   .Help("Indicator records published on processed.indicators")
                   .Register(reg)
                   .Add({});
    warmups = &prometheus::BuildCounter()
                   .Name("tickflow_indicators_warmups_total")
                   .Help("Series warmed up from stored candle history")
                   .Register(reg)
                   .Add({});
    commit_seconds = &prometheus::BuildHistogram()
                          .Name("tickflow_indicators_commit_seconds")
                          .Help("Duration of one exactly-once commit of the indicator stage")
                          .Register(reg)
                          .Add({}, obs::latency_buckets());
    lag = &prometheus::BuildGauge()
               .Name("tickflow_indicators_consumer_lag_records")
               .Help("Records of normalized.ohlcv not yet committed by the indicator stage")
               .Register(reg)
               .Add({});
    series = &prometheus::BuildGauge()
                  .Name("tickflow_indicators_series")
                  .Help("Series with indicator state")
                  .Register(reg)
                  .Add({});
  }
};

struct IndicatorProcessor::Batch {
  std::vector<std::pair<std::string, std::string>> records;  // key, value
  std::set<std::string> dirty;                                // series keys changed
  std::vector<std::pair<std::string, std::string>> state;     // series key, blob
  std::vector<std::pair<int32_t, int64_t>> offsets;
  size_t consumed = 0;
  std::array<uint64_t, kOutcomes> outcomes{};
  uint64_t closed = 0, undecodable = 0, warmups = 0;

  bool empty() const { return records.empty() && state.empty() && offsets.empty(); }
  // Nothing to publish or persist: only read positions moved.
  bool positions_only() const { return records.empty() && state.empty(); }
  // Takes over an earlier positions-only batch: its positions (unless this batch moved the same
  // partition further) and its counts.
  void absorb(const Batch& earlier) {
    for (const auto& [p, next] : earlier.offsets) {
      const bool newer = std::any_of(offsets.begin(), offsets.end(), [p = p](const auto& o) { return o.first == p; });
      if (!newer) offsets.emplace_back(p, next);
    }
    consumed += earlier.consumed;
    for (size_t i = 0; i < kOutcomes; ++i) outcomes[i] += earlier.outcomes[i];
    closed += earlier.closed;
    undecodable += earlier.undecodable;
    warmups += earlier.warmups;
  }
};

IndicatorProcessor::IndicatorProcessor(bus::EventBus& bus, const storage::CandleStore& store,
                                       IndicatorProcessorConfig config, const Clock& clock)
    : bus_(bus),
      store_(store),
      config_(std::move(config)),
      clock_(clock),
      probe_(Probe::instance()),
      loop_(bus) {
  health_.name = "indicators";
  health_.state = HealthState::kUp;
  health_.detail = "not started";
}

IndicatorProcessor::~IndicatorProcessor() { stop(); }

Status IndicatorProcessor::open() {
  TICKFLOW_RETURN_IF_ERROR(config_.validate());
  for (std::string_view name : {topics::kNormalizedOhlcv, topics::kProcessedIndicators}) {
    if (bus_.topic(name).is_ok()) continue;
    TICKFLOW_RETURN_IF_ERROR(
        bus_.create_topic({std::string(name), default_partitions(name), default_retention(name)}));
  }
  auto in = bus_.topic(topics::kNormalizedOhlcv);
  if (!in) return in.status();
  partitions_ = in->partitions;

  std::unordered_map<std::string, SeriesIndicators> series;
  Status restore_status;
  size_t stale = 0;
  TICKFLOW_RETURN_IF_ERROR(bus_.scan_state(kIndicatorStateNamespace, [&](std::string_view key, std::string_view blob) {
    if (!restore_status.is_ok()) return;
    // The timeframe is the last segment of the series key.
    const auto colon = key.rfind(':');
    auto tf = Timeframe::parse(colon == std::string_view::npos ? key : key.substr(colon + 1));
    if (!tf) {
      restore_status = Status::corruption("indicator state key '" + std::string(key) + "': no timeframe");
      return;
    }
    auto s = SeriesIndicators::restore(blob, config_.spec_for(*tf));
    if (s.is_ok()) {
      series.insert_or_assign(std::string(key), std::move(s).value());
    } else if (s.status().code() == ErrorCode::kInvalidArgument) {
      ++stale;  // spec changed: warmed up again from the store when next seen
    } else {
      restore_status = Status(s.status().code(),
                              "restoring indicator state of " + std::string(key) + ": " + s.status().message());
    }
  }));
  TICKFLOW_RETURN_IF_ERROR(restore_status);

  std::vector<int64_t> positions(static_cast<size_t>(partitions_), 0);
  for (int32_t p = 0; p < partitions_; ++p) {
    auto off = bus_.committed_offset(config_.group, topics::kNormalizedOhlcv, p);
    if (!off) return off.status();
    positions[static_cast<size_t>(p)] = *off;
  }
  series_ = std::move(series);
  read_pos_ = positions;
  next_partition_ = 0;
  pending_.reset();
  deferred_.reset();
  last_commit_ = clock_.now_ns();
  fatal_ = Status::ok();
  {
    std::lock_guard lock(mu_);
    committed_pos_ = std::move(positions);
    series_count_ = series_.size();
  }
  opened_ = true;
  probe_.series->Set(static_cast<double>(series_.size()));
  update_lag_gauge();
  spdlog::info("indicators: restored {} series ({} with a changed spec will warm up again), group '{}'",
               series_.size(), stale, config_.group);
  return Status::ok();
}

Status IndicatorProcessor::start() {
  if (loop_.running()) return Status::ok();
  opened_ = false;
  TICKFLOW_RETURN_IF_ERROR(open());
  set_health(HealthState::kUp, "running");
  // Provisional updates trickle in every few ms and are almost all skipped: take them in
  // batches at most every min_step_interval, at background priority.
  loop_.start({.thread_name = "tf-indicators",
               .background = true,
               .topics = {std::string(topics::kNormalizedOhlcv)},
               .max_batch = config_.max_batch,
               .min_step_interval = config_.min_step_interval,
               .idle_wait = kIdleWait,
               .min_backoff = kMinBackoff,
               .max_backoff = kMaxBackoff},
              {.step = [this] { return step(); },
               .idle = [this] { update_lag_gauge(); },
               .failed = [this](const Status&) { return !fatal_.is_ok(); }});
  return Status::ok();
}

void IndicatorProcessor::stop() {
  loop_.stop();
  opened_ = false;
}

Result<size_t> IndicatorProcessor::run_once() {
  if (!opened_) TICKFLOW_RETURN_IF_ERROR(open());
  return step();
}

Result<size_t> IndicatorProcessor::step() {
  if (!fatal_.is_ok()) return fatal_;
  // Records read by this step (a retried commit reports its batch again); a step that only
  // commits deferred positions reports 0, so the loop goes idle.
  std::optional<size_t> fresh;
  if (!pending_) {
    auto batch = std::make_unique<Batch>();
    Status s = build_batch(*batch);
    if (!s.is_ok() && batch->empty()) {
      set_health(HealthState::kDegraded, "reading normalized.ohlcv: " + s.to_string());
      return s;
    }
    fresh = batch->consumed;
    if (deferred_) {
      batch->absorb(*deferred_);
      deferred_.reset();
    }
    if (batch->empty()) return size_t{0};
    if (*fresh > 0 && batch->positions_only() &&
        clock_.now_ns() - last_commit_ < config_.position_commit_interval) {
      deferred_ = std::move(batch);
      return *fresh;
    }
    pending_ = std::move(batch);
  }
  auto wall0 = std::chrono::steady_clock::now();
  Status s = commit_batch(*pending_);
  probe_.commit_seconds->Observe(std::chrono::duration<double>(std::chrono::steady_clock::now() - wall0).count());
  if (!s.is_ok()) {
    {
      std::lock_guard lock(mu_);
      ++stats_.commit_failures;
    }
    if (s.retryable()) {
      spdlog::warn("indicators: commit failed, retrying the same batch: {}", s.to_string());
      set_health(HealthState::kDegraded, "commit retrying: " + s.message());
      return s;
    }
    spdlog::critical("indicators: commit failed, consumption STOPPED (restart resumes from the last commit): {}",
                     s.to_string());
    fatal_ = s;
    pending_.reset();
    set_health(HealthState::kDown, "commit failed, consumption stopped: " + s.to_string());
    return s;
  }
  last_commit_ = clock_.now_ns();
  std::unique_ptr<Batch> done = std::move(pending_);
  after_commit(*done);
  return fresh.value_or(done->consumed);
}

SeriesIndicators* IndicatorProcessor::series_for(const Candle& c, Batch& b) {
  std::string key = c.series_key();
  auto it = series_.find(key);
  if (it != series_.end()) return &it->second;
  const uint32_t capacity = checkpoint_capacity(config_.correction_horizon, c.timeframe, config_.max_checkpoints);
  auto made = SeriesIndicators::create(c.exchange, c.symbol, c.timeframe, config_.spec_for(c.timeframe), capacity);
  if (!made) return nullptr;  // validated at open(): cannot happen
  SeriesIndicators s = std::move(made).value();
  if (config_.warmup && s.current().warmup_bars() > 0) {
    storage::CandleQuery q;
    q.exchange = c.exchange;
    q.symbol = c.symbol;
    q.timeframe = c.timeframe;
    q.end = c.open_time;
    q.limit = static_cast<size_t>(s.current().warmup_bars());
    auto history = store_.query(q);
    if (!history) {
      spdlog::warn("indicators: warm-up of {} from the store failed, starting cold: {}", key,
                   history.status().to_string());
    } else {
      size_t fed = 0;
      for (const Candle& h : *history) {
        if (h.status == CandleStatus::kProvisional) continue;
        s.warm(h);
        ++fed;
      }
      if (fed > 0) ++b.warmups;
    }
  }
  return &series_.emplace(std::move(key), std::move(s)).first->second;
}

void IndicatorProcessor::on_candle(const Candle& c, Batch& b) {
  if (c.status == CandleStatus::kProvisional) return;
  ++b.closed;
  const bool fresh = series_.find(c.series_key()) == series_.end();
  SeriesIndicators* s = series_for(c, b);
  if (s == nullptr) return;
  std::vector<IndicatorRecord> out;
  const ApplyOutcome o = s->apply(c, out);
  ++b.outcomes[static_cast<size_t>(o)];
  if (o == ApplyOutcome::kTooOld)
    spdlog::debug("indicators: {} candle {} (rev {}) is older than the retained checkpoints: ignored",
                  c.series_key(), format_iso8601_ms(c.open_time), c.revision);
  if (out.empty() && !fresh) return;  // nothing changed
  const std::string key = instrument_key(c.exchange, c.symbol);
  const TimestampNs now = clock_.now_ns();
  for (const IndicatorRecord& r : out) b.records.emplace_back(key, codec::encode_indicators(r, now));
  b.dirty.insert(c.series_key());
}

Status IndicatorProcessor::build_batch(Batch& b) {
  std::vector<bus::Record> recs;
  Status read_status;
  size_t budget = config_.max_batch;
  int32_t last_read = -1;
  for (int32_t i = 0; i < partitions_ && budget > 0; ++i) {
    const int32_t p = (next_partition_ + i) % partitions_;
    auto& pos = read_pos_[static_cast<size_t>(p)];
    auto end = bus_.end_offset(topics::kNormalizedOhlcv, p);
    if (end.is_ok() && *end <= pos) continue;
    recs.clear();
    read_status = bus_.read(topics::kNormalizedOhlcv, p, pos, budget, recs);
    if (!read_status.is_ok()) break;
    if (recs.empty()) continue;
    for (const bus::Record& rec : recs) {
      // Most records are provisional updates of open candles: skip them without decoding.
      if (codec::peek_candle_status(rec.value) == CandleStatus::kProvisional) continue;
      auto candle = codec::decode_candle(rec.value);
      if (!candle || candle->symbol.empty() || !candle->timeframe.valid()) {
        ++b.undecodable;  // the historical loader dead-letters it; nothing to compute here
        continue;
      }
      on_candle(*candle, b);
    }
    last_read = p;
    pos = recs.back().offset + 1;
    b.offsets.emplace_back(p, pos);
    b.consumed += recs.size();
    budget -= std::min(budget, recs.size());
  }
  if (last_read >= 0) next_partition_ = (last_read + 1) % partitions_;
  for (const std::string& key : b.dirty) {
    auto it = series_.find(key);
    if (it != series_.end()) b.state.emplace_back(key, it->second.serialize());
  }
  return read_status;
}

Status IndicatorProcessor::commit_batch(const Batch& b) {
  auto txn = bus_.begin();
  for (const auto& [key, value] : b.records) txn->append(topics::kProcessedIndicators, key, value);
  for (const auto& [key, blob] : b.state) txn->put_state(kIndicatorStateNamespace, key, blob);
  for (const auto& [p, next] : b.offsets) txn->commit_offset(config_.group, topics::kNormalizedOhlcv, p, next);
  return txn->commit();
}

void IndicatorProcessor::after_commit(const Batch& b) {
  {
    std::lock_guard lock(mu_);
    for (const auto& [p, next] : b.offsets) committed_pos_[static_cast<size_t>(p)] = next;
    stats_.records_in += b.consumed;
    stats_.closed += b.closed;
    stats_.applied += b.outcomes[static_cast<size_t>(ApplyOutcome::kApplied)];
    stats_.gaps += b.outcomes[static_cast<size_t>(ApplyOutcome::kGapApplied)];
    stats_.corrections += b.outcomes[static_cast<size_t>(ApplyOutcome::kCorrected)];
    stats_.duplicates += b.outcomes[static_cast<size_t>(ApplyOutcome::kDuplicate)];
    stats_.too_old += b.outcomes[static_cast<size_t>(ApplyOutcome::kTooOld)];
    stats_.rejected += b.outcomes[static_cast<size_t>(ApplyOutcome::kRejected)];
    stats_.undecodable += b.undecodable;
    stats_.published += b.records.size();
    stats_.warmups += b.warmups;
    ++stats_.commits;
    series_count_ = series_.size();
    if (health_.state == HealthState::kDegraded) {
      health_.state = HealthState::kUp;
      health_.detail = "running";
    }
  }
  for (size_t i = 0; i < kOutcomes; ++i)
    if (b.outcomes[i]) probe_.candles[i]->Increment(static_cast<double>(b.outcomes[i]));
  if (!b.records.empty()) probe_.records->Increment(static_cast<double>(b.records.size()));
  if (b.warmups) probe_.warmups->Increment(static_cast<double>(b.warmups));
  probe_.series->Set(static_cast<double>(series_.size()));
}

void IndicatorProcessor::update_lag_gauge() {
  std::vector<int64_t> committed;
  {
    std::lock_guard lock(mu_);
    committed = committed_pos_;
  }
  int64_t lag = 0;
  for (size_t p = 0; p < committed.size(); ++p) {
    auto end = bus_.end_offset(topics::kNormalizedOhlcv, static_cast<int32_t>(p));
    if (end.is_ok()) lag += std::max<int64_t>(0, *end - committed[p]);
  }
  probe_.lag->Set(static_cast<double>(lag));
}

bool IndicatorProcessor::caught_up() const {
  std::vector<int64_t> committed;
  {
    std::lock_guard lock(mu_);
    committed = committed_pos_;
  }
  if (committed.empty()) return false;
  for (size_t p = 0; p < committed.size(); ++p) {
    auto end = bus_.end_offset(topics::kNormalizedOhlcv, static_cast<int32_t>(p));
    if (!end.is_ok() || *end > committed[p]) return false;
  }
  return true;
}

ComponentHealth IndicatorProcessor::health() const {
  std::lock_guard lock(mu_);
  return health_;
}

IndicatorProcessorStats IndicatorProcessor::stats() const {
  std::lock_guard lock(mu_);
  return stats_;
}

size_t IndicatorProcessor::series_count() const {
  std::lock_guard lock(mu_);
  return series_count_;
}

void IndicatorProcessor::set_health(HealthState state, std::string detail) {
  std::lock_guard lock(mu_);
  health_.state = state;
  health_.detail = std::move(detail);
}

}  // namespace tickflow::processing::indicators
