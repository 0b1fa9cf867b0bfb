#include "exchange/collector/output.h"

#include <charconv>

#include <spdlog/spdlog.h>

#include "core/codec.h"
#include "core/topics.h"

namespace tickflow::exchange::collector {

namespace {

constexpr size_t kMaxDeadLetterPayload = 64 * 1024;
constexpr DurationNs kRejectLogInterval = 10 * kNsPerSec;

}  // namespace

CollectorOutput::CollectorOutput(std::string_view exchange, bus::EventBus& bus, const Clock& clock,
                                 CollectorProbe& probe, quality::ValidatorConfig validation, std::string_view state_ns)
    : exchange_(exchange),
      component_("collector." + std::string(exchange)),
      state_ns_(state_ns.empty() ? component_ : std::string(state_ns)),
      bus_(bus),
      clock_(clock),
      probe_(probe),
      validation_(std::move(validation)) {}

Status CollectorOutput::create_topics() {
  for (const auto& spec : topics::kDefaultTopics) {
    if (spec.name == topics::kRawMarketData || spec.name == topics::kDlqMarketData ||
        spec.name == topics::kRawOrderbook) {
      TICKFLOW_RETURN_IF_ERROR(bus_.create_topic({std::string(spec.name), spec.partitions, spec.retention}));
    }
  }
  return Status::ok();
}

Result<size_t> CollectorOutput::add_series(std::string bus_key, std::string state_key) {
  Series s;
  s.bus_key = std::move(bus_key);
  s.state_key = std::move(state_key);
  auto stored = bus_.get_state(state_ns_, s.state_key);
  if (!stored) return stored.status();
  if (stored->has_value()) {
    const std::string& v = **stored;
    int64_t id = kNoId;
    auto [ptr, ec] = std::from_chars(v.data(), v.data() + v.size(), id);
    if (ec != std::errc() || ptr != v.data() + v.size() || id < 0) {
      return Status::corruption(component_ + " state for " + s.state_key + " is not an id: " + v);
    }
    s.last_id = s.committed_id = id;
  }
  series_.push_back(std::move(s));
  return series_.size() - 1;
}

void CollectorOutput::ensure_txn() {
  if (!txn_) txn_ = bus_.begin();
}

bool CollectorOutput::accept(const Trade& trade, std::string_view payload) {
  const quality::Rejection rejection = quality::validate_trade(trade, validation_);
  if (rejection == quality::Rejection::kNone) return true;
  std::string detail = "trade " + std::to_string(trade.trade_id) + " of " + trade.exchange_symbol + " at " +
                       format_iso8601_ms(trade.ts_event) + " (received " + format_iso8601_ms(trade.ts_recv) +
                       ") price " + trade.price.to_string() + " qty " + trade.quantity.to_string();
  if (payload.empty()) {
    reject(quality::rejection_reason(rejection), std::move(detail), codec::encode_trade(trade), trade.ts_recv);
  } else {
    reject(quality::rejection_reason(rejection), std::move(detail), payload, trade.ts_recv);
  }
  return false;
}

void CollectorOutput::publish(size_t i, const Trade& trade) {
  ensure_txn();
  Series& s = series_[i];
  txn_->append(topics::kRawMarketData, s.bus_key, codec::encode_trade(trade, clock_.now_ns()));
  s.last_id = trade.trade_id;
  s.dirty = true;
  published_.fetch_add(1, std::memory_order_relaxed);
}

void CollectorOutput::publish_book(const BookSnapshot& snapshot) {
  ensure_txn();
  txn_->append(topics::kRawOrderbook, instrument_key(snapshot.exchange, snapshot.symbol),
               codec::encode_book(snapshot, clock_.now_ns()));
  books_published_.fetch_add(1, std::memory_order_relaxed);
}

void CollectorOutput::reject(std::string_view reason, std::string detail, std::string_view payload,
                             TimestampNs recv) {
  rejected_.fetch_add(1, std::memory_order_relaxed);
  probe_.rejected(reason);
  const TimestampNs now = clock_.now_ns();
  if (last_reject_log_ == 0 || now - last_reject_log_ >= kRejectLogInterval) {
    spdlog::warn("{}: rejected frame ({}: {}); {} more since last report; sample: {}", component_, reason, detail,
                 suppressed_rejects_, payload.substr(0, 300));
    last_reject_log_ = now;
    suppressed_rejects_ = 0;
  } else {
    ++suppressed_rejects_;
  }
  codec::DeadLetter dl;
  dl.source_topic = "collector";
  dl.exchange = exchange_;
  dl.reason = std::string(reason);
  dl.detail = std::move(detail);
  dl.payload = std::string(payload.substr(0, kMaxDeadLetterPayload));
  dl.ts_recv = recv;
  ensure_txn();
  txn_->append(topics::kDlqMarketData, exchange_, codec::encode_dead_letter(dl, now));
}

bool CollectorOutput::start_commit() {
  if (!txn_) return false;
  bool any_dirty = false;
  for (auto& s : series_) {
    if (s.dirty) {
      txn_->put_state(state_ns_, s.state_key, std::to_string(s.last_id));
      any_dirty = true;
    }
  }
  if (txn_->appended() == 0 && !any_dirty) {
    txn_.reset();
    return false;
  }
  InFlight f;
  f.ids.reserve(series_.size());
  for (auto& s : series_) {
    f.ids.push_back(s.last_id);
    s.dirty = false;  // written by this batch; a later move makes it dirty again
  }
  f.pending = txn_->commit_async();
  txn_.reset();
  in_flight_.push_back(std::move(f));
  return true;
}

CollectorOutput::Flush CollectorOutput::finish_in_flight(size_t keep, bool only_ready) {
  while (in_flight_.size() > keep || (only_ready && !in_flight_.empty() && in_flight_.front().pending->ready())) {
    InFlight f = std::move(in_flight_.front());
    in_flight_.pop_front();
    const Status st = f.pending->wait();
    if (!st) return failed(st);
    commits_.fetch_add(1, std::memory_order_relaxed);
    for (size_t i = 0; i < series_.size() && i < f.ids.size(); ++i) series_[i].committed_id = f.ids[i];
  }
  return Flush::kOk;
}

CollectorOutput::Flush CollectorOutput::failed(const Status& st) {
  // The later batches must not apply their state before this one's: cancel them.
  for (auto& f : in_flight_) f.pending->cancel();
  in_flight_.clear();
  txn_.reset();
  publish_errors_.fetch_add(1, std::memory_order_relaxed);
  probe_.publish_error();
  for (auto& s : series_) {
    s.last_id = s.committed_id;
    s.dirty = false;
  }
  last_error_ = st;
  if (st.code() == ErrorCode::kIo || !st.retryable()) {
    spdlog::critical("{}: bus commit failed ({}); INGESTION STOPPED", component_, st.to_string());
    return Flush::kFatal;
  }
  spdlog::error("{}: bus commit failed ({}); reconnecting to backfill", component_, st.to_string());
  return Flush::kReconnect;
}

CollectorOutput::Flush CollectorOutput::flush() {
  start_commit();
  return finish_in_flight(0);
}

CollectorOutput::Flush CollectorOutput::flush_async() {
  // Earlier verdicts first (a failure there rolls back this batch's ids too).
  if (Flush f = finish_in_flight(max_in_flight_, /*only_ready=*/true); f != Flush::kOk) return f;
  if (!start_commit()) return Flush::kOk;
  // Whatever is already acknowledged (a bus that commits at once: this batch) finishes now.
  return finish_in_flight(max_in_flight_, /*only_ready=*/true);
}

}  // namespace tickflow::exchange::collector
