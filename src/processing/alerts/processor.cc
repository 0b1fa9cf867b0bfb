#include "processing/alerts/processor.h"

#include <algorithm>
#include <chrono>
#include <map>
#include <optional>
#include <tuple>
#include <utility>

#include <pthread.h>

#include <spdlog/spdlog.h>

#include "core/codec.h"
#include "core/record_scan.h"
#include "core/topics.h"
#include "observability/metrics.h"

namespace tickflow::processing::alerts {
namespace {

constexpr DurationNs kMinBackoff = 10 * kNsPerMs;
constexpr DurationNs kMaxBackoff = 1 * kNsPerSec;
constexpr DurationNs kMaxIdleWait = 100 * kNsPerMs;

const topics::TopicSpec* spec_of(std::string_view topic) {
  for (const auto& spec : topics::kDefaultTopics)
    if (spec.name == topic) return &spec;
  return nullptr;
}

std::string alert_key(const Alert& a) { return a.symbol.empty() ? a.exchange : a.exchange + ":" + a.symbol; }

}  // namespace

struct AlertProcessor::Probe {
  prometheus::Family<prometheus::Counter>* transitions;
  prometheus::Counter* candles;
  prometheus::Counter* indicators;
  std::mutex mu;
  std::map<std::pair<std::string, std::string>, prometheus::Counter*> by_label;

  static Probe& instance() {
    static Probe* p = new Probe();  // never destroyed, like the registry
    return *p;
  }
  Probe() {
    auto& reg = obs::registry();
    transitions = &prometheus::BuildCounter()
                       .Name("tickflow_alerts_transitions_total")
                       .Help("Alert transitions published on processed.alerts, by state and severity")
                       .Register(reg);
    auto& rec = prometheus::BuildCounter()
                    .Name("tickflow_alerts_records_total")
                    .Help("Input records evaluated by the alert stage, by topic")
                    .Register(reg);
    candles = &rec.Add({{"topic", std::string(topics::kNormalizedOhlcv)}});
    indicators = &rec.Add({{"topic", std::string(topics::kProcessedIndicators)}});
  }
  prometheus::Counter& transition(const std::string& state, const std::string& severity) {
    std::lock_guard lock(mu);
    auto key = std::make_pair(state, severity);
    auto it = by_label.find(key);
    if (it == by_label.end())
      it = by_label.emplace(key, &transitions->Add({{"state", state}, {"severity", severity}})).first;
    return *it->second;
  }
};

struct AlertProcessor::Batch {
  std::vector<Alert> alerts;
  std::vector<std::pair<std::string, std::string>> state;
  std::vector<std::tuple<std::string_view, int32_t, int64_t>> offsets;  // topic, partition, next
  TimestampNs publish_ts = 0;
  size_t consumed = 0;
  uint64_t candles = 0, indicators = 0, undecodable = 0, skipped = 0;
  bool empty() const { return alerts.empty() && state.empty() && offsets.empty(); }
  // Nothing to publish or persist: only read positions moved.
  bool positions_only() const { return alerts.empty() && state.empty(); }
  // Takes over an earlier positions-only batch: its positions (unless this batch moved the same
  // partition further) and its counts.
  void absorb(const Batch& earlier) {
    for (const auto& [topic, p, next] : earlier.offsets) {
      const bool newer = std::any_of(offsets.begin(), offsets.end(), [&, t = topic, q = p](const auto& o) {
        return std::get<0>(o) == t && std::get<1>(o) == q;
      });
      if (!newer) offsets.emplace_back(topic, p, next);
    }
    consumed += earlier.consumed;
    candles += earlier.candles;
    indicators += earlier.indicators;
    undecodable += earlier.undecodable;
    skipped += earlier.skipped;
  }
};

AlertProcessor::AlertProcessor(bus::EventBus& bus, AlertProcessorConfig config, const Clock& clock,
                               QualitySource quality)
    : bus_(bus),
      config_(std::move(config)),
      clock_(clock),
      quality_(std::move(quality)),
      probe_(Probe::instance()),
      loop_(bus) {
  health_.name = "alerts";
  health_.state = HealthState::kUp;
  health_.detail = "not started";
}

AlertProcessor::~AlertProcessor() { stop(); }

std::vector<std::string_view> AlertProcessor::input_topics() const {
  std::vector<std::string_view> out;
  if (engine_->wants_candles()) out.push_back(topics::kNormalizedOhlcv);
  if (engine_->wants_indicators()) out.push_back(topics::kProcessedIndicators);
  return out;
}

Status AlertProcessor::open() {
  if (config_.max_batch == 0) return Status::invalid_argument("alerts.max_batch: must be > 0");
  if (config_.quality_interval <= 0) return Status::invalid_argument("alerts.quality_interval: must be > 0");
  if (config_.group.empty()) return Status::invalid_argument("alerts.group: must not be empty");
  if (auto e = validate_rules(config_.rules)) return Status::invalid_argument(e->to_string());
  for (std::string_view name : {topics::kNormalizedOhlcv, topics::kProcessedIndicators, topics::kProcessedAlerts}) {
    if (bus_.topic(name).is_ok()) continue;
    const auto* spec = spec_of(name);
    TICKFLOW_RETURN_IF_ERROR(bus_.create_topic({std::string(name), spec ? spec->partitions : 1,
                                                spec ? spec->retention : 0}));
  }

  auto engine = std::make_unique<AlertEngine>(config_.rules);
  Status restore_status;
  size_t restored = 0;
  TICKFLOW_RETURN_IF_ERROR(bus_.scan_state(kAlertStateNamespace, [&](std::string_view key, std::string_view blob) {
    if (!restore_status.is_ok()) return;
    restore_status = engine->restore(key, blob);
    ++restored;
  }));
  TICKFLOW_RETURN_IF_ERROR(restore_status);
  engine_ = std::move(engine);

  std::vector<Input> inputs;
  std::vector<std::pair<std::string_view, std::vector<int64_t>>> committed;
  for (std::string_view topic : input_topics()) {
    auto t = bus_.topic(topic);
    if (!t) return t.status();
    Input in{topic, std::vector<int64_t>(static_cast<size_t>(t->partitions), 0), 0};
    for (int32_t p = 0; p < t->partitions; ++p) {
      auto off = bus_.committed_offset(config_.group, topic, p);
      if (!off) return off.status();
      in.read_pos[static_cast<size_t>(p)] = *off;
    }
    committed.emplace_back(topic, in.read_pos);
    inputs.push_back(std::move(in));
  }
  inputs_ = std::move(inputs);
  last_quality_ = clock_.now_ns();
  pending_.reset();
  deferred_.reset();
  last_commit_ = last_quality_;
  fatal_ = Status::ok();
  {
    std::lock_guard lock(mu_);
    committed_pos_ = std::move(committed);
  }
  opened_ = true;
  opened_once_ = true;
  spdlog::info("alerts: {} rules, restored {} state keys, group '{}'", config_.rules.size(), restored, config_.group);
  return Status::ok();
}

Status AlertProcessor::start() {
  if (loop_.running()) return Status::ok();
  opened_ = false;
  TICKFLOW_RETURN_IF_ERROR(open());
  set_health(HealthState::kUp, "running");
  // Waits on the first input (candles); the others are checked at least every idle_wait. A
  // trickle (provisional updates every few ms) is taken one batch per min_step_interval.
  bus::StageLoopOptions o{.thread_name = "tf-alerts",
                          .background = true,
                          .max_batch = config_.max_batch,
                          .min_step_interval = config_.min_step_interval,
                          .idle_wait = std::min(config_.quality_interval, kMaxIdleWait),
                          .min_backoff = kMinBackoff,
                          .max_backoff = kMaxBackoff};
  for (const Input& in : inputs_) o.topics.emplace_back(in.topic);
  loop_.start(std::move(o), {.step = [this] { return step(); },
                             .failed = [this](const Status&) { return !fatal_.is_ok(); }});
  return Status::ok();
}

void AlertProcessor::stop() {
  loop_.stop();
  opened_ = false;
}

Result<size_t> AlertProcessor::run_once() {
  if (!opened_) TICKFLOW_RETURN_IF_ERROR(open());
  return step();
}

Result<size_t> AlertProcessor::step() {
  if (!fatal_.is_ok()) return fatal_;
  // Records read by this step (a retried commit reports its batch again); a step that only
  // commits deferred positions reports 0, so the loop goes idle.
  std::optional<size_t> fresh;
  if (!pending_) {
    auto batch = std::make_unique<Batch>();
    Status s = build_batch(*batch);
    if (!s.is_ok() && batch->empty()) {
      set_health(HealthState::kDegraded, "reading input: " + s.to_string());
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
  Status s = commit_batch(*pending_);
  if (!s.is_ok()) {
    {
      std::lock_guard lock(mu_);
      ++stats_.commit_failures;
    }
    if (s.retryable()) {
      spdlog::warn("alerts: commit failed, retrying the same batch: {}", s.to_string());
      set_health(HealthState::kDegraded, "commit retrying: " + s.message());
      return s;
    }
    spdlog::critical("alerts: commit failed, consumption STOPPED (restart resumes from the last commit): {}",
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

Status AlertProcessor::build_batch(Batch& b) {
  const TimestampNs now = clock_.now_ns();
  b.publish_ts = now;
  std::vector<bus::Record> recs;
  Status read_status;
  size_t budget = config_.max_batch;
  for (Input& in : inputs_) {
    const bool candles = in.topic == topics::kNormalizedOhlcv;
    const auto partitions = static_cast<int32_t>(in.read_pos.size());
    int32_t last_read = -1;
    for (int32_t i = 0; i < partitions && budget > 0; ++i) {
      const int32_t p = (in.next_partition + i) % partitions;
      auto& pos = in.read_pos[static_cast<size_t>(p)];
      auto end = bus_.end_offset(in.topic, p);
      if (end.is_ok() && *end <= pos) continue;
      recs.clear();
      read_status = bus_.read(in.topic, p, pos, budget, recs);
      if (!read_status.is_ok()) break;
      if (recs.empty()) continue;
      if (candles) {
        evaluate_candles(recs, b);
      } else {
        for (const bus::Record& rec : recs) {
          auto r = codec::decode_indicators(rec.value);
          if (!r) {
            ++b.undecodable;
            continue;
          }
          engine_->on_indicators(*r, b.alerts);
          ++b.indicators;
        }
      }
      last_read = p;
      pos = recs.back().offset + 1;
      b.offsets.emplace_back(in.topic, p, pos);
      b.consumed += recs.size();
      budget -= std::min(budget, recs.size());
    }
    if (last_read >= 0) in.next_partition = (last_read + 1) % partitions;
    if (!read_status.is_ok()) break;
  }
  if (quality_ && engine_->wants_quality() && now - last_quality_ >= config_.quality_interval) {
    last_quality_ = now;
    auto readings = quality_();
    engine_->on_quality(readings, now, b.alerts);
  }
  b.state = engine_->take_dirty();
  return read_status;
}

void AlertProcessor::evaluate_candles(const std::vector<bus::Record>& recs, Batch& b) {
  const bool live = engine_->wants_provisional_candles();
  // Newest first: decide what to evaluate and decode it; then evaluate oldest first.
  newest_.clear();
  size_t n = 0;
  for (auto rec = recs.rbegin(); rec != recs.rend(); ++rec) {
    const auto head = codec::peek_candle_head(rec->value);
    auto series = newest_.end();
    if (head) {
      series = std::find_if(newest_.begin(), newest_.end(), [&](const Newest& s) {
        return s.symbol == head->symbol && s.timeframe == head->timeframe && s.exchange == head->exchange;
      });
      if (head->status == CandleStatus::kProvisional &&
          (!live || (series != newest_.end() && series->open_time >= head->open_time))) {
        ++b.skipped;
        continue;
      }
    }
    if (n == candles_.size()) candles_.emplace_back();
    if (!codec::decode_candle_into(rec->value, candles_[n]).is_ok()) {
      ++b.undecodable;
      continue;
    }
    ++n;
    // Only a record that decodes supersedes earlier updates of its series.
    if (!head) continue;
    if (series == newest_.end()) {
      newest_.push_back({head->exchange, head->symbol, head->timeframe, head->open_time});
    } else {
      series->open_time = std::max(series->open_time, head->open_time);
    }
  }
  for (size_t k = n; k-- > 0;) engine_->on_candle(candles_[k], b.alerts);
  b.candles += n;
  newest_.clear();  // its views point into `recs`
}

Status AlertProcessor::commit_batch(const Batch& b) {
  auto txn = bus_.begin();
  for (const Alert& a : b.alerts) txn->append(topics::kProcessedAlerts, alert_key(a), codec::encode_alert(a, b.publish_ts));
  for (const auto& [key, blob] : b.state) txn->put_state(kAlertStateNamespace, key, blob);
  for (const auto& [topic, p, next] : b.offsets) txn->commit_offset(config_.group, topic, p, next);
  return txn->commit();
}

void AlertProcessor::after_commit(const Batch& b) {
  uint64_t firing = 0, resolved = 0;
  for (const Alert& a : b.alerts) {
    (a.state == "firing" ? firing : resolved)++;
    probe_.transition(a.state, a.severity).Increment();
    if (a.state == "firing")
      spdlog::info("alert {} firing: {} {} {}: {}", a.rule, a.exchange, a.symbol, a.timeframe, a.message);
  }
  if (b.candles) probe_.candles->Increment(static_cast<double>(b.candles));
  if (b.indicators) probe_.indicators->Increment(static_cast<double>(b.indicators));
  std::lock_guard lock(mu_);
  for (const auto& [topic, p, next] : b.offsets) {
    for (auto& [t, positions] : committed_pos_)
      if (t == topic) positions[static_cast<size_t>(p)] = next;
  }
  stats_.records += b.consumed;
  stats_.undecodable += b.undecodable;
  stats_.skipped += b.skipped;
  stats_.firing += firing;
  stats_.resolved += resolved;
  ++stats_.commits;
  if (health_.state == HealthState::kDegraded) {
    health_.state = HealthState::kUp;
    health_.detail = "running";
  }
}

bool AlertProcessor::caught_up() const {
  std::vector<std::pair<std::string_view, std::vector<int64_t>>> committed;
  {
    std::lock_guard lock(mu_);
    committed = committed_pos_;
  }
  if (!opened_once_.load()) return false;
  for (const auto& [topic, positions] : committed) {
    for (size_t p = 0; p < positions.size(); ++p) {
      auto end = bus_.end_offset(topic, static_cast<int32_t>(p));
      if (!end.is_ok() || *end > positions[p]) return false;
    }
  }
  return true;
}

ComponentHealth AlertProcessor::health() const {
  std::lock_guard lock(mu_);
  return health_;
}

AlertProcessorStats AlertProcessor::stats() const {
  std::lock_guard lock(mu_);
  return stats_;
}

void AlertProcessor::set_health(HealthState state, std::string detail) {
  std::lock_guard lock(mu_);
  health_.state = state;
  health_.detail = std::move(detail);
}

}  // namespace tickflow::processing::alerts
