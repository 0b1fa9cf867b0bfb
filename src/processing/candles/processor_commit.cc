// CandleProcessor's consumer iteration and its commits (processor.h): batches are committed
// through Transaction::commit_async with up to max_commits_in_flight of them in flight.
//
// Why it stays exactly-once: a batch's state and positions are applied only once its outputs
// are acknowledged and every earlier batch was applied (finish_commits takes them oldest
// first). After a failed commit the later ones are cancelled (nothing of them applied) and all
// of them are committed again, in order, from the batches kept in retry_: the same records,
// state deltas and positions, so the result is that of committing them one by one. Outputs of
// a cancelled commit that were acknowledged are in the log twice after the retry, as after a
// crash between produce and local write: the sinks drop them (candle updates are keyed by
// series, open time and revision; the changelog's markers close only their own commit).
#include <algorithm>
#include <chrono>

#include <spdlog/spdlog.h>

#include "core/topics.h"
#include "processing/candles/processor.h"
#include "processing/candles/processor_internal.h"

namespace tickflow::processing {
namespace {

double seconds(DurationNs d) { return static_cast<double>(d) / static_cast<double>(kNsPerSec); }

double since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

Result<size_t> CandleProcessor::step(size_t depth) {
  if (!fatal_.is_ok()) return fatal_;
  depth = std::max<size_t>(1, depth);
  // After a failed commit: the batches it and the later ones held, again, one at a time.
  if (!retry_.empty()) {
    const auto t0 = std::chrono::steady_clock::now();
    Status s = commit_batch(*retry_.front())->wait();
    probe_.commit_seconds->Observe(since(t0));
    if (!s.is_ok()) return commit_failed(s);
    std::unique_ptr<Batch> done = std::move(retry_.front());
    retry_.pop_front();
    after_commit(*done);
    return done->consumed;
  }
  size_t finished = 0;
  // Room for the batch about to start.
  TICKFLOW_RETURN_IF_ERROR(finish_commits(depth - 1, &finished));
  if (member_) {
    // A rebalance hands partitions over only once everything consumed is committed.
    TICKFLOW_RETURN_IF_ERROR(finish_commits(0, &finished));
    Status synced = sync_assignment();
    if (!synced.is_ok()) {
      set_health(HealthState::kDegraded, "rebalance: " + synced.to_string());
      return synced;
    }
  }
  auto batch = std::make_unique<Batch>();
  Status s = build_batch(*batch);
  if (batch->timer_fired) update_lag_gauge();
  if (!s.is_ok() && batch->empty()) {  // nothing consumed: the engine is unchanged
    set_health(HealthState::kDegraded, "reading raw.market-data: " + s.to_string());
    return s;
  }
  if (batch->empty()) {
    // Nothing new to overlap them with: finish what is in flight.
    TICKFLOW_RETURN_IF_ERROR(finish_commits(0, &finished));
    return finished;
  }
  const size_t consumed = batch->consumed;
  InFlight f;
  f.started = std::chrono::steady_clock::now();
  f.commit = commit_batch(*batch);
  f.batch = std::move(batch);
  inflight_.push_back(std::move(f));
  // A commit already done (a bus that commits at once) is finished now; depth 1 waits for it.
  TICKFLOW_RETURN_IF_ERROR(finish_commits(depth - 1, &finished));
  return consumed;
}

Status CandleProcessor::finish_commits(size_t max_left, size_t* finished) {
  while (!inflight_.empty() && (inflight_.size() > max_left || inflight_.front().commit->ready())) {
    InFlight& f = inflight_.front();
    Status s = f.commit->wait();
    probe_.commit_seconds->Observe(since(f.started));
    if (!s.is_ok()) {
      // The later commits must not apply before this one: cancel them; all are committed again.
      for (InFlight& g : inflight_) {
        g.commit->cancel();
        retry_.push_back(std::move(g.batch));
      }
      inflight_.clear();
      return commit_failed(s);
    }
    std::unique_ptr<Batch> done = std::move(f.batch);
    inflight_.erase(inflight_.begin());
    after_commit(*done);
    if (finished != nullptr) *finished += done->consumed;
  }
  return Status::ok();
}

Status CandleProcessor::commit_failed(const Status& s) {
  {
    std::lock_guard lock(mu_);
    ++stats_.commit_failures;
  }
  if (s.retryable()) {
    spdlog::warn("processor: commit failed, retrying the same {} batch(es): {}", retry_.size(), s.to_string());
    set_health(HealthState::kDegraded, "commit retrying: " + s.message());
    return s;
  }
  // Not retryable (kIo: disk full, corruption): stop consuming. The engine's memory is ahead
  // of the bus; it is never used again — a restart restores from what was committed.
  spdlog::critical("processor: commit failed, consumption STOPPED (restart resumes from the "
                   "last commit): {}",
                   s.to_string());
  fatal_ = s;
  retry_.clear();
  set_health(HealthState::kDown, "commit failed, consumption stopped: " + s.to_string());
  return s;
}

std::unique_ptr<bus::PendingCommit> CandleProcessor::commit_batch(const Batch& b) {
  auto txn = bus_.begin();
  for (const auto& r : b.records) txn->append(r.topic, r.key, r.value);
  for (const auto& [key, blob] : b.state.puts) txn->put_state(kProcessorStateNamespace, key, blob);
  for (const auto& key : b.state.deletes) txn->delete_state(kProcessorStateNamespace, key);
  for (const auto& [p, next] : b.offsets)
    txn->commit_offset(config_.group, topics::kRawMarketData, p, next);
  return txn->commit_async();
}

void CandleProcessor::after_commit(const Batch& b) {
  const TimestampNs published = clock_.now_ns();
  {
    std::lock_guard lock(mu_);
    for (const auto& [p, next] : b.offsets) committed_pos_[static_cast<size_t>(p)] = next;
    stats_.records += b.consumed;
    for (uint64_t t : b.trades) stats_.trades += t;
    stats_.duplicates += b.duplicates;
    stats_.too_late += b.too_late;
    stats_.undecodable += b.undecodable;
    stats_.rejected_future += b.future;
    stats_.updates += b.updates;
    ++stats_.commits;
    if (health_.state == HealthState::kDegraded) {
      health_.state = HealthState::kUp;
      health_.detail = "running";
    }
  }
  for (int i = 0; i < kExchangeCount; ++i)
    if (b.trades[static_cast<size_t>(i)] > 0)
      probe_.trades[static_cast<size_t>(i)]->Increment(static_cast<double>(b.trades[static_cast<size_t>(i)]));
  if (b.duplicates) probe_.duplicates->Increment(static_cast<double>(b.duplicates));
  if (b.corrected) probe_.late_corrected->Increment(static_cast<double>(b.corrected));
  if (b.too_late) {
    probe_.late_too_late->Increment(static_cast<double>(b.too_late));
    probe_.dlq_too_late->Increment(static_cast<double>(b.too_late));
  }
  if (b.undecodable) probe_.dlq_undecodable->Increment(static_cast<double>(b.undecodable));
  if (b.future) probe_.dlq_future->Increment(static_cast<double>(b.future));
  for (const auto& u : b.update_counts)
    probe_.updates(u.timeframe, u.status).Increment(static_cast<double>(u.count));
  for (TimestampNs recv : b.last_trade_recv)
    probe_.e2e_latency->Observe(seconds(std::max<DurationNs>(0, published - recv)));
  add_share(*probe_.open_windows, open_windows_share_, static_cast<double>(engine_->open_window_count()));
}

}  // namespace tickflow::processing
