#include "processing/candles/processor.h"

#include <algorithm>
#include <array>
#include <chrono>
#include <map>
#include <utility>

#include <pthread.h>

#include <spdlog/spdlog.h>

#include "core/codec.h"
#include "core/topics.h"
#include "observability/metrics.h"
#include "processing/quality/validator.h"
#include "processing/candles/processor_internal.h"

namespace tickflow::processing {
namespace {

// A trade stamped further ahead of its receive time than this is rejected: a bad exchange
// clock must not open (and fill with flat candles) windows years ahead. The collectors' validator
// applies the same rule (and reason) before publishing; this is the one rule, kept here as a
// defence against producers that do not validate.
constexpr DurationNs kMaxFutureSkew = quality::kDefaultMaxEventAhead;
constexpr DurationNs kMinBackoff = 10 * kNsPerMs;
constexpr DurationNs kMaxBackoff = 1 * kNsPerSec;
constexpr DurationNs kMaxIdleWait = 100 * kNsPerMs;
// Reading the input taking longer than this (a broker query hanging on an outage) means the
// input was not observable meanwhile (build_batch).
constexpr DurationNs kInputStall = kNsPerSec;
// After an outage the quiet periods restart this much later, at most (see processor.h).
constexpr DurationNs kMaxOutageHold = 60 * kNsPerSec;

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

// The raw.market-data partition of a state key: its instrument's ("binance:BTC-USDT" of
// "binance:BTC-USDT/1m/..."), as the collectors key their trades.
int32_t state_partition(std::string_view key, int32_t partitions) {
  return topics::partition_for(key.substr(0, key.find('/')), partitions);
}

std::string exchange_of_key(std::string_view key) {
  auto colon = key.find(':');
  return std::string(colon == std::string_view::npos ? std::string_view() : key.substr(0, colon));
}

}  // namespace

CandleProcessor::CandleProcessor(bus::EventBus& bus, ProcessorConfig config, const Clock& clock)
    : bus_(bus),
      config_(std::move(config)),
      clock_(clock),
      probe_(Probe::instance()),
      loop_(bus) {
  health_.name = "processor";
  health_.state = HealthState::kUp;
  health_.detail = "not started";
}

CandleProcessor::~CandleProcessor() { stop(); }

Status CandleProcessor::ensure_topics() {
  for (std::string_view name : {topics::kRawMarketData, topics::kNormalizedOhlcv, topics::kDlqMarketData}) {
    if (bus_.topic(name).is_ok()) continue;
    TICKFLOW_RETURN_IF_ERROR(bus_.create_topic(
        {std::string(name), default_partitions(name), default_retention(name)}));
  }
  return Status::ok();
}

// Fresh engine from the committed state; positions from the committed offsets. Called before
// the first iteration of every start(), so a stopped processor always resumes from what the
// bus holds, never from uncommitted memory.
Status CandleProcessor::open() {
  if (config_.max_batch == 0) return Status::invalid_argument("processor.max_batch: must be > 0");
  if (config_.timer_interval <= 0)
    return Status::invalid_argument("processor.timer_interval: must be > 0");
  if (config_.candles.timeframes.empty())
    return Status::invalid_argument("processor.timeframes: at least one timeframe is needed");
  if (config_.group.empty()) return Status::invalid_argument("processor.group: must not be empty");
  if (config_.instances < 1 || config_.instance < 0 || config_.instance >= config_.instances)
    return Status::invalid_argument("processor.instance: must be 0.." + std::to_string(config_.instances - 1) +
                                    " with processor.instances = " + std::to_string(config_.instances));
  TICKFLOW_RETURN_IF_ERROR(ensure_topics());
  auto raw = bus_.topic(topics::kRawMarketData);
  if (!raw) return raw.status();
  partitions_ = raw->partitions;
  owned_.assign(static_cast<size_t>(partitions_), 0);
  if (config_.group_membership) {
    // Nothing is owned until the group coordinator assigns partitions (sync_assignment).
    if (!member_) {
      bus::GroupOptions go;
      go.group = config_.group;
      go.topic = std::string(topics::kRawMarketData);
      go.session_timeout = config_.session_timeout;
      go.state_namespace = std::string(kProcessorStateNamespace);
      go.store = "candles";
      go.partition_of = state_partition;
      auto joined = bus_.join_group(go);
      if (!joined) return joined.status();
      member_ = std::move(joined).value();
    }
    synced_generation_ = 0;
  } else {
    for (int32_t p = 0; p < partitions_; ++p) owned_[static_cast<size_t>(p)] = config_.owns(p) ? 1 : 0;
  }
  TICKFLOW_RETURN_IF_ERROR(load());
  next_partition_ = 0;
  last_timer_ = clock_.now_ns();
  inflight_.clear();  // (after stop() nothing is in flight)
  retry_.clear();
  fatal_ = Status::ok();
  opened_ = true;
  update_lag_gauge();
  if (config_.group_membership) {
    spdlog::info("processor: group '{}' joined ({} partitions); state restored per partition on assignment",
                 config_.group, partitions_);
  } else {
    spdlog::info("processor: restored {} instruments ({} open windows), group '{}', {} partitions (instance {} of {})",
                 engine_->instrument_count(), engine_->open_window_count(), config_.group, partitions_,
                 config_.instance, config_.instances);
  }
  return Status::ok();
}

// The engine from the committed state of the owned partitions (static split and group mode alike:
// several processors may share one bus, each with its partitions), positions from the
// committed offsets.
Status CandleProcessor::load() {
  auto engine = std::make_unique<CandleEngine>(config_.candles);
  Status restore_status;
  TICKFLOW_RETURN_IF_ERROR(bus_.scan_state(
      kProcessorStateNamespace, [&](std::string_view key, std::string_view blob) {
        if (!restore_status.is_ok()) return;
        if (!owns(state_partition(key, partitions_))) return;  // another instance's or thread's
        restore_status = engine->restore(key, blob);
        if (!restore_status.is_ok())
          restore_status = Status(restore_status.code(),
                                  "restoring candle state of " + std::string(key) + ": " +
                                      restore_status.message());
      }));
  TICKFLOW_RETURN_IF_ERROR(restore_status);

  std::vector<int64_t> positions(static_cast<size_t>(partitions_), 0);
  for (int32_t p = 0; p < partitions_; ++p) {
    auto off = bus_.committed_offset(config_.group, topics::kRawMarketData, p);
    if (!off) return off.status();
    positions[static_cast<size_t>(p)] = *off;
  }
  engine_ = std::move(engine);
  read_pos_ = positions;
  {
    std::lock_guard lock(mu_);
    committed_pos_ = std::move(positions);
    owned_shared_ = owned_;
  }
  add_share(*probe_.open_windows, open_windows_share_, static_cast<double>(engine_->open_window_count()));
  return Status::ok();
}

// Called with no batch pending (everything consumed is committed). Revoked partitions are
// dropped from the engine and released at once; newly assigned ones are restored from the
// changelog, then the engine is rebuilt for the new set.
Status CandleProcessor::sync_assignment() {
  const bus::GroupAssignment a = member_->assignment();
  if (a.generation == synced_generation_) return Status::ok();
  std::vector<char> next(static_cast<size_t>(partitions_), 0);
  for (int32_t p : a.owned)
    if (p >= 0 && p < partitions_) next[static_cast<size_t>(p)] = 1;
  size_t revoked = 0, added = 0;
  for (size_t p = 0; p < owned_.size(); ++p) {
    if (owned_[p] && !next[p]) {
      owned_[p] = 0;
      ++revoked;
    }
  }
  if (revoked > 0) TICKFLOW_RETURN_IF_ERROR(load());
  member_->release(a.generation);
  for (int32_t p : a.owned) {
    if (owns(p)) continue;
    TICKFLOW_RETURN_IF_ERROR(member_->restore(p));
    owned_[static_cast<size_t>(p)] = 1;
    ++added;
  }
  if (added > 0) TICKFLOW_RETURN_IF_ERROR(load());
  synced_generation_ = a.generation;
  spdlog::info("processor: group '{}' generation {}: {} partitions owned ({} released, {} restored), {} instruments "
               "({} open windows)",
               config_.group, a.generation, a.owned.size(), revoked, added, engine_->instrument_count(),
               engine_->open_window_count());
  return Status::ok();
}

Status CandleProcessor::start() {
  if (loop_.running()) return Status::ok();
  opened_ = false;
  TICKFLOW_RETURN_IF_ERROR(open());
  set_health(HealthState::kUp, "running");
  // Nothing available: wait for a commit to raw.market-data or the next timer tick; more
  // available: no pause between batches (the latency-critical path). A failed commit is
  // retried with backoff unless step() declared it fatal (logged there).
  loop_.start({.thread_name = "tf-processor",
               .topics = {std::string(topics::kRawMarketData)},
               .idle_wait = std::min(config_.timer_interval, kMaxIdleWait),
               .min_backoff = kMinBackoff,
               .max_backoff = kMaxBackoff},
              {.step = [this] { return step(std::max<size_t>(1, config_.max_commits_in_flight)); }, .failed = [this](const Status&) { return !fatal_.is_ok(); }});
  return Status::ok();
}

void CandleProcessor::stop() {
  loop_.stop();
  // What is in flight is produced already: finish it (a failure leaves it to the restart).
  if (fatal_.is_ok() && !inflight_.empty()) (void)finish_commits(0, nullptr);
  inflight_.clear();
  retry_.clear();
  member_.reset();  // leaves the group: the partitions move to the other members
  // The next start() or run_once() rebuilds the engine from the committed state.
  opened_ = false;
}

Result<size_t> CandleProcessor::run_once() {
  if (!opened_) TICKFLOW_RETURN_IF_ERROR(open());
  return step(1);  // committed when it returns
}

Status CandleProcessor::build_batch(Batch& b) {
  const TimestampNs now = clock_.now_ns();
  b.publish_ts = now;
  std::vector<CandleUpdate> updates;
  std::vector<bus::Record> recs;
  Status read_status;
  Status end_status;  // the last failed end_offset (the read may still have succeeded)
  size_t budget = config_.max_batch;

  int32_t last_read = -1;
  for (int32_t i = 0; i < partitions_ && budget > 0; ++i) {
    const int32_t p = (next_partition_ + i) % partitions_;
    if (!owns(p)) continue;
    auto& pos = read_pos_[static_cast<size_t>(p)];
    // end_offset is cheap (an atomic in the embedded bus); skip idle partitions without a read.
    auto end = bus_.end_offset(topics::kRawMarketData, p);
    if (end.is_ok() && *end <= pos) continue;
    recs.clear();
    read_status = bus_.read(topics::kRawMarketData, p, pos, budget, recs);
    if (!end.is_ok()) end_status = end.status();
    if (!read_status.is_ok()) break;  // commit what was consumed so far
    if (recs.empty()) continue;
    for (const bus::Record& rec : recs) {
      auto trade = codec::decode_trade(rec.value);
      if (trade.is_ok() && trade->symbol.empty())
        trade = Status::corruption("trade record without a symbol");
      if (!trade.is_ok()) {
        // Book snapshots belong on raw.orderbook; one found here is not a bad trade: skipped.
        if (codec::peek_kind(rec.value) == codec::RecordKind::kBook) continue;
        codec::DeadLetter d;
        d.source_topic = std::string(topics::kRawMarketData);
        d.exchange = exchange_of_key(rec.key);
        d.reason = std::string(kReasonUndecodable);
        d.detail = trade.status().message();
        d.payload = rec.value;
        d.ts_recv = now;
        b.records.push_back({topics::kDlqMarketData, rec.key, codec::encode_dead_letter(d, now)});
        ++b.undecodable;
        continue;
      }
      if (trade->ts_recv > 0 && trade->ts_event > trade->ts_recv + kMaxFutureSkew) {
        codec::DeadLetter d;
        d.source_topic = std::string(topics::kRawMarketData);
        d.exchange = std::string(exchange_name(trade->exchange));
        d.reason = std::string(kReasonFutureEventTime);
        d.detail = "trade time " + format_iso8601_ms(trade->ts_event) + " is more than 5 min after its receive time " +
                   format_iso8601_ms(trade->ts_recv);
        d.payload = rec.value;
        d.ts_recv = trade->ts_recv;
        b.records.push_back({topics::kDlqMarketData, rec.key, codec::encode_dead_letter(d, now)});
        ++b.future;
        continue;
      }
      const size_t first_update = updates.size();
      switch (engine_->on_trade(*trade, now, updates)) {
        case TradeOutcome::kApplied: {
          ++b.trades[static_cast<size_t>(trade->exchange)];
          for (size_t u = first_update; u < updates.size(); ++u) {
            if (updates[u].candle.status == CandleStatus::kCorrected) {
              ++b.corrected;
              break;
            }
          }
          break;
        }
        case TradeOutcome::kDuplicate:
          ++b.duplicates;
          break;
        case TradeOutcome::kTooLate: {
          codec::DeadLetter d;
          d.source_topic = std::string(topics::kRawMarketData);
          d.exchange = std::string(exchange_name(trade->exchange));
          d.reason = std::string(kReasonTooLate);
          d.detail = "trade at " + format_iso8601_ms(trade->ts_event) +
                     " is older than the correction horizon";
          d.payload = rec.value;
          d.ts_recv = trade->ts_recv;
          b.records.push_back({topics::kDlqMarketData, instrument_key(trade->exchange, trade->symbol),
                               codec::encode_dead_letter(d, now)});
          ++b.too_late;
          break;
        }
      }
    }
    last_read = p;
    pos = recs.back().offset + 1;
    b.offsets.emplace_back(p, pos);
    b.consumed += recs.size();
    budget -= std::min(budget, recs.size());
  }
  // Round robin: the next batch starts after the last partition read, so a busy partition
  // cannot starve the others when max_batch is reached.
  if (last_read >= 0) next_partition_ = (last_read + 1) % partitions_;

  // The timer finalizes the windows of quiet instruments by wall clock: only once the input is
  // read to its end (a backlog or an unreadable partition may hold their trades), and a silence
  // during which the input could not be read (a failed read, or reads that hung on a broker
  // outage, while the collector may be holding trades it cannot publish) is not quiet.
  const TimestampNs read_done = clock_.now_ns();
  const Status input_status = read_status.is_ok() ? end_status : read_status;
  const bool drained = input_status.is_ok() && budget > 0;
  if (!input_status.is_ok() || read_done - now > kInputStall) {
    if (!input_impaired_) {
      spdlog::warn("processor: raw.market-data {}: no window is finalized by the clock until it is read again",
                   !input_status.is_ok() ? "unreadable (" + input_status.to_string() + ")"
                                        : "reads took " + std::to_string((read_done - now) / kNsPerMs) + " ms");
      impaired_since_ = now;
    }
    input_impaired_ = true;
  } else if (input_impaired_ && drained) {
    input_impaired_ = false;
    // The collector may still hold trades from the outage (it republishes after its own retry
    // backoff): a silence counts only once it has outlasted the outage.
    const DurationNs hold = std::clamp<DurationNs>(read_done - impaired_since_, kInputStall, kMaxOutageHold);
    engine_->restart_quiet(read_done + hold);
    spdlog::info("processor: raw.market-data read to its end again; quiet periods restart in {} ms", hold / kNsPerMs);
  }
  if (drained && !input_impaired_ && now - last_timer_ >= config_.timer_interval) {
    last_timer_ = now;
    b.timer_fired = true;
    engine_->on_timer(now, updates);
  }

  for (const CandleUpdate& u : updates) {
    b.records.push_back({topics::kNormalizedOhlcv, instrument_key(u.candle.exchange, u.candle.symbol),
                         codec::encode_candle(u.candle, now, u.last_trade_recv)});
    b.count_update(u.candle);
    // Finals wait for the watermark (grace) by design: latency is measured on the updates a
    // trade triggers (provisional and corrected).
    if (u.last_trade_recv > 0 && u.candle.status != CandleStatus::kFinal)
      b.last_trade_recv.push_back(u.last_trade_recv);
  }
  b.state = engine_->take_dirty();
  return read_status;
}

void CandleProcessor::add_share(prometheus::Gauge& gauge, double& share, double value) {
  gauge.Increment(value - share);
  share = value;
}

void CandleProcessor::update_lag_gauge() {
  std::vector<int64_t> committed;
  std::vector<char> owned;
  {
    std::lock_guard lock(mu_);
    committed = committed_pos_;
    owned = owned_shared_;
  }
  int64_t lag = 0;
  for (size_t p = 0; p < committed.size() && p < owned.size(); ++p) {
    if (!owned[p]) continue;
    auto end = bus_.end_offset(topics::kRawMarketData, static_cast<int32_t>(p));
    if (end.is_ok()) lag += std::max<int64_t>(0, *end - committed[p]);
  }
  add_share(*probe_.lag, lag_share_, static_cast<double>(lag));
}

bool CandleProcessor::caught_up() const {
  std::vector<int64_t> committed;
  std::vector<char> owned;
  {
    std::lock_guard lock(mu_);
    committed = committed_pos_;
    owned = owned_shared_;
  }
  if (committed.empty()) return false;  // never opened
  for (size_t p = 0; p < committed.size() && p < owned.size(); ++p) {
    if (!owned[p]) continue;
    auto end = bus_.end_offset(topics::kRawMarketData, static_cast<int32_t>(p));
    if (!end.is_ok() || *end > committed[p]) return false;
  }
  return true;
}

ComponentHealth CandleProcessor::health() const {
  std::lock_guard lock(mu_);
  return health_;
}

ProcessorStats CandleProcessor::stats() const {
  std::lock_guard lock(mu_);
  return stats_;
}

void CandleProcessor::set_health(HealthState state, std::string detail) {
  std::lock_guard lock(mu_);
  health_.state = state;
  health_.detail = std::move(detail);
}

}  // namespace tickflow::processing
