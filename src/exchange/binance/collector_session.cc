// Binance collector worker, live path: the connect / reconnect loop (backoff, circuit breaker,
// stale and age limits), frame processing (parse, dedup, gap detection), batching into one bus
// Transaction per socket drain, dead-lettering, and the commit with the last ids (flush).
#include <algorithm>
#include <limits>
#include <mutex>

#include <spdlog/spdlog.h>

#include "core/codec.h"
#include "core/topics.h"
#include "exchange/binance/collector_worker.h"

namespace tickflow::exchange::binance {

using namespace internal;

namespace {

constexpr size_t kMaxDeadLetterPayload = 64 * 1024;
constexpr DurationNs kRejectLogInterval = 10 * kNsPerSec;

std::string upper(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  }
  return out;
}

}  // namespace

void Collector::Worker::run() {
  Backoff backoff(config_.backoff);
  bool first = true;
  while (!stopping()) {
    backoff.on_attempt();
    Status st = ws_->connect(ws_target_, config_.connect_timeout);
    if (!st) {
      if (stopping()) break;
      const DurationNs delay = backoff.on_failure();
      spdlog::warn("collector.binance: connect to {} failed ({}); retry in {} ms", ws_target_.to_string(),
                   st.message(), delay / kNsPerMs);
      if (backoff.state() == Backoff::State::kOpen) {
        set_health(HealthState::kDown, "circuit open after " + std::to_string(backoff.consecutive_failures()) +
                                           " failed connects: " + st.message());
      } else {
        set_health(HealthState::kDegraded, "reconnecting: " + st.message());
      }
      if (!wait_for(delay)) break;
      continue;
    }
    stats_.connects.fetch_add(1);
    if (!first) {
      stats_.reconnects.fetch_add(1);
      probe_.reconnect();
    }
    first = false;
    probe_.connected(true);
    set_health(HealthState::kUp, "connected to " + ws_target_.host_header());
    spdlog::info("collector.binance: connected to {}", ws_target_.to_string());
    const auto began = SteadyClock::now();
    frames_this_session_ = 0;
    const SessionEnd end = run_session();
    probe_.connected(false);
    if (end == SessionEnd::kFatal) {
      halted_.store(true);
      break;
    }
    if (end == SessionEnd::kStopped || stopping()) break;
    set_health(HealthState::kDegraded, "reconnecting");
    const bool healthy = frames_this_session_ > 0 &&
                         SteadyClock::now() - began >= std::chrono::nanoseconds(config_.backoff.base_delay);
    if (end == SessionEnd::kAged || healthy) {
      backoff.on_success();
      continue;  // reconnect at once: the hole stays small and is backfilled
    }
    const DurationNs delay = backoff.on_failure();
    if (!wait_for(delay)) break;
  }
  probe_.connected(false);
  txn_.reset();
}

Collector::Worker::SessionEnd Collector::Worker::run_session() {
  const auto connected_at = SteadyClock::now();
  if (agg_) {
    for (auto& s : symbols_) {
      if (s.last_id != kNoId) backfill(s, std::numeric_limits<int64_t>::max());
      if (end_) return take_end();
    }
    flush();
    if (end_) return take_end();
  }
  while (!stopping()) {
    auto frame = ws_->read_frame(config_.stale_timeout);
    if (!frame) {
      if (stopping()) return SessionEnd::kStopped;
      if (ws_->is_open()) {
        spdlog::warn("collector.binance: no frame for {} ms; reconnecting", config_.stale_timeout / kNsPerMs);
        return SessionEnd::kStale;
      }
      spdlog::warn("collector.binance: connection lost: {}", frame.status().message());
      return SessionEnd::kDropped;
    }
    process(*frame);
    size_t n = 1;
    while (n < config_.max_batch_frames && !end_) {
      auto more = ws_->read_frame(0);  // only what is already buffered: latency first
      if (!more) break;
      process(*more);
      ++n;
    }
    if (!end_) flush();
    if (end_) return take_end();
    if (SteadyClock::now() - connected_at >= std::chrono::nanoseconds(config_.max_connection_age)) {
      spdlog::info("collector.binance: connection age limit reached; reconnecting");
      return SessionEnd::kAged;
    }
  }
  return SessionEnd::kStopped;
}

Collector::Worker::SessionEnd Collector::Worker::take_end() {
  SessionEnd e = *end_;
  end_.reset();
  return e;
}

void Collector::Worker::process(std::string_view frame) {
  stats_.frames.fetch_add(1, std::memory_order_relaxed);
  ++frames_this_session_;
  const TimestampNs recv = clock_.now_ns();
  Status st = parser_.parse(frame, recv, parsed_);
  if (!st) {
    probe_.invalid();
    std::string_view reason = parser_.error_reason();
    reject(reason.empty() ? "malformed" : reason, st.message(), frame, recv);
    return;
  }
  probe_.message(parsed_.kind);
  switch (parsed_.kind) {
    case MessageKind::kTrade:
    case MessageKind::kAggTrade:
      if ((parsed_.kind == MessageKind::kAggTrade) == agg_) {
        on_live_trade(parsed_.trade, frame, recv);
      } else {
        stats_.ignored.fetch_add(1, std::memory_order_relaxed);
      }
      return;
    case MessageKind::kDepthUpdate:
    case MessageKind::kBookTicker:
    case MessageKind::kKline:
    case MessageKind::kSubscriptionResult:
      stats_.ignored.fetch_add(1, std::memory_order_relaxed);
      return;
    case MessageKind::kUnknown:
      break;
  }
  reject("unknown_event", "frame of an unknown kind", frame, recv);
}

Collector::Worker::SymbolState* Collector::Worker::find_symbol(std::string_view exchange_symbol) {
  auto it = index_.find(std::string(exchange_symbol));
  if (it == index_.end()) it = index_.find(upper(exchange_symbol));
  return it == index_.end() ? nullptr : &symbols_[it->second];
}

void Collector::Worker::on_live_trade(Trade& trade, std::string_view frame, TimestampNs recv) {
  SymbolState* s = find_symbol(trade.exchange_symbol);
  if (s == nullptr) {
    reject("unknown_symbol", "trade for unsubscribed symbol " + trade.exchange_symbol, frame, recv);
    return;
  }
  if (trade.ts_event > 0) probe_.feed_lag(trade.ts_recv - trade.ts_event);
  if (s->last_id != kNoId && trade.trade_id <= s->last_id) {
    stats_.duplicates_dropped.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  if (trade.symbol.empty()) trade.symbol = s->unified;
  // A rejected trade leaves last_id where it was: the next trade reveals the hole and the REST
  // backfill fetches the exchange's own record of it (a corrupt live frame is repaired).
  if (!accept(trade, frame)) return;
  if (s->last_id != kNoId && trade.trade_id > s->last_id + 1) {
    stats_.gaps.fetch_add(1, std::memory_order_relaxed);
    probe_.gap();
    if (agg_) {
      spdlog::info("collector.binance: {} aggregate id gap {}..{}; backfilling", s->exchange_symbol,
                   s->last_id + 1, trade.trade_id - 1);
      backfill(*s, trade.trade_id);
      if (end_) return;
    } else {
      spdlog::warn("collector.binance: {} trade id gap {}..{} ({} trades) cannot be backfilled on the trade "
                   "stream",
                   s->exchange_symbol, s->last_id + 1, trade.trade_id - 1, trade.trade_id - s->last_id - 1);
    }
  }
  publish(*s, trade);
}

void Collector::Worker::ensure_txn() {
  if (!txn_) txn_ = bus_.begin();
}

bool Collector::Worker::accept(const Trade& trade, std::string_view payload) {
  const quality::Rejection rejection = quality::validate_trade(trade, config_.validation);
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

void Collector::Worker::publish(SymbolState& s, const Trade& trade) {
  ensure_txn();
  txn_->append(topics::kRawMarketData, s.key, codec::encode_trade(trade, clock_.now_ns()));
  s.last_id = trade.trade_id;
  s.dirty = true;
  stats_.trades_published.fetch_add(1, std::memory_order_relaxed);
}

void Collector::Worker::reject(std::string_view reason, std::string detail, std::string_view payload, TimestampNs recv) {
  stats_.rejected.fetch_add(1, std::memory_order_relaxed);
  probe_.rejected(reason);
  const TimestampNs now = clock_.now_ns();
  if (last_reject_log_ == 0 || now - last_reject_log_ >= kRejectLogInterval) {
    spdlog::warn("collector.binance: rejected frame ({}: {}); {} more since last report; sample: {}", reason,
                 detail, suppressed_rejects_, payload.substr(0, 300));
    last_reject_log_ = now;
    suppressed_rejects_ = 0;
  } else {
    ++suppressed_rejects_;
  }
  codec::DeadLetter dl;
  dl.source_topic = "collector";
  dl.exchange = std::string(kExchange);
  dl.reason = std::string(reason);
  dl.detail = std::move(detail);
  dl.payload = std::string(payload.substr(0, kMaxDeadLetterPayload));
  dl.ts_recv = recv;
  ensure_txn();
  txn_->append(topics::kDlqMarketData, kExchange, codec::encode_dead_letter(dl, now));
}

void Collector::Worker::flush() {
  if (!txn_) return;
  bool any_dirty = false;
  for (auto& s : symbols_) {
    if (s.dirty) {
      txn_->put_state(kStateNs, s.state_key, std::to_string(s.last_id));
      any_dirty = true;
    }
  }
  if (txn_->appended() == 0 && !any_dirty) {
    txn_.reset();
    return;
  }
  Status st = txn_->commit();
  txn_.reset();
  if (st) {
    stats_.commits.fetch_add(1, std::memory_order_relaxed);
    for (auto& s : symbols_) {
      s.committed_id = s.last_id;
      s.dirty = false;
    }
    return;
  }
  stats_.publish_errors.fetch_add(1);
  probe_.publish_error();
  for (auto& s : symbols_) {
    s.last_id = s.committed_id;
    s.dirty = false;
  }
  if (st.code() == ErrorCode::kIo || !st.retryable()) {
    spdlog::critical("collector.binance: bus commit failed ({}); INGESTION STOPPED", st.to_string());
    set_health(HealthState::kDown, "ingestion stopped: bus commit failed: " + st.to_string());
    end_ = SessionEnd::kFatal;
  } else {
    spdlog::error("collector.binance: bus commit failed ({}); reconnecting to backfill", st.to_string());
    end_ = SessionEnd::kReconnect;
  }
}

}  // namespace tickflow::exchange::binance
