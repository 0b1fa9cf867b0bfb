// Binance collector worker, books: depth@100ms diffs into one DepthSync per symbol, the REST
// snapshots (GET /api/v3/depth through collector::RestFetcher: 429 Retry-After, 418 >= 2 min),
// resyncs counted by reason through collector::BookOutput, and the in-sync states handed to
// BookOutput (top-N snapshots on raw.orderbook).
#include <mutex>

#include <spdlog/spdlog.h>

#include "exchange/binance/collector_worker.h"

namespace tickflow::exchange::binance {

using namespace internal;

void Collector::Worker::on_depth(TimestampNs recv) {
  SymbolState* s = find_symbol(parsed_.book_symbol);
  if (s == nullptr || s->book < 0) {
    stats_.ignored.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  BookState& b = books_[static_cast<size_t>(s->book)];
  const int64_t previous = b.sync.update_id();
  DepthSync::Step step;
  {
    std::lock_guard lk(book_mu_);
    step = b.sync.on_diff(parsed_.first_update_id, parsed_.last_update_id, parsed_.bids, parsed_.asks);
    // Counted under the lock that publishes the book: whoever sees the book sees its counts.
    if (step == DepthSync::Step::kBuffered) stats_.depth_buffered.fetch_add(1, std::memory_order_relaxed);
    if (step == DepthSync::Step::kStale) stats_.depth_stale.fetch_add(1, std::memory_order_relaxed);
    if (step == DepthSync::Step::kApplied) {
      stats_.depth_applied.fetch_add(1, std::memory_order_relaxed);
      count_crossed(b);
    }
  }
  switch (step) {
    case DepthSync::Step::kBuffered:
    case DepthSync::Step::kStale:
      break;
    case DepthSync::Step::kApplied:
      book_applied(b, parsed_.book_event_time, recv);
      break;
    case DepthSync::Step::kGap:
      spdlog::warn("collector.binance: {} depth gap: U={} after u={}; resyncing from a new snapshot",
                   s->exchange_symbol, parsed_.first_update_id, previous);
      resync(b, "sequence_gap");
      break;
    case DepthSync::Step::kBridgeFailed:
      spdlog::warn("collector.binance: {} first depth diff U={} u={} does not bridge the snapshot's {}; resyncing",
                   s->exchange_symbol, parsed_.first_update_id, parsed_.last_update_id, previous);
      resync(b, "bridge_failed");
      break;
  }
}

void Collector::Worker::resync(BookState& b, std::string_view reason) {
  book_out_.on_resync(b.output, reason);
  if (reason == "sequence_gap") stats_.resyncs_sequence_gap.fetch_add(1, std::memory_order_relaxed);
  if (reason == "bridge_failed") stats_.resyncs_bridge_failed.fetch_add(1, std::memory_order_relaxed);
  if (reason == "reconnect") stats_.resyncs_reconnect.fetch_add(1, std::memory_order_relaxed);
}

void Collector::Worker::count_crossed(BookState& b) {
  // A Binance spot book is never crossed when in sync: count it (BookOutput does too); the
  // next gap or reconnect resyncs it. Called with book_mu_ held, right after the apply.
  b.crossed_count = b.sync.book().crossed() ? stats_.crossed_books.fetch_add(1, std::memory_order_relaxed) + 1 : 0;
}

void Collector::Worker::book_applied(BookState& b, TimestampNs ts_event, TimestampNs recv) {
  const book::OrderBook& state = b.sync.book();
  if (b.crossed_count % 1000 == 1) {  // the first crossed state, then every 1000th: say so
    spdlog::warn("collector.binance: {} book crossed at u={} (bid {} >= ask {})", symbols_[b.symbol].exchange_symbol,
                 b.sync.update_id(), state.best_bid()->price.to_string(), state.best_ask()->price.to_string());
  }
  book_out_.on_book(b.output, state, b.sync.update_id(), ts_event, recv);
}

void Collector::Worker::sync_books() {
  for (auto& b : books_) {
    // A snapshot older than the stream is fetched again after book_retry_delay, here (a quiet
    // symbol may send no diff for a while), at most kSnapshotTries times per batch.
    constexpr int kSnapshotTries = 3;
    for (int i = 0; i < kSnapshotTries; ++i) {
      if (control_.stopping() || end_) return;
      if (!b.sync.needs_snapshot() || SteadyClock::now() < b.next_snapshot) break;
      fetch_snapshot(b);
      if (!b.sync.needs_snapshot() || i + 1 == kSnapshotTries) break;
      if (!control_.wait_for(config_.book_retry_delay)) return;
    }
  }
}

void Collector::Worker::fetch_snapshot(BookState& b) {
  const SymbolState& s = symbols_[b.symbol];
  const std::string url = rest_base_ + "/api/v3/depth?symbol=" + s.exchange_symbol +
                          "&limit=" + std::to_string(config_.book_snapshot_limit);
  stats_.book_snapshots.fetch_add(1, std::memory_order_relaxed);
  auto res = rest_.get(url);
  const TimestampNs recv = clock_.now_ns();
  const auto retry_at = SteadyClock::now() + std::chrono::nanoseconds(config_.book_retry_delay);
  if (!res) {
    spdlog::error("collector.binance: depth snapshot of {} failed: {}", s.exchange_symbol, res.status().message());
    b.next_snapshot = retry_at;
    return;
  }
  DepthSnapshot snap;
  Status st = parse_depth_snapshot(res->body, snap);
  if (!st) {
    out_.reject("bad_rest_response", st.message(), res->body, recv);
    b.next_snapshot = retry_at;
    return;
  }
  DepthSync::Step step;
  {
    std::lock_guard lk(book_mu_);
    step = b.sync.on_snapshot(snap);
    if (step == DepthSync::Step::kApplied) count_crossed(b);
  }
  if (step == DepthSync::Step::kApplied) {
    spdlog::info("collector.binance: {} book in sync at u={} (snapshot lastUpdateId {})", s.exchange_symbol,
                 b.sync.update_id(), snap.last_update_id);
    book_applied(b, 0, recv);
  } else if (step == DepthSync::Step::kBridgeFailed) {
    spdlog::warn("collector.binance: {} snapshot lastUpdateId {} is older than the buffered diffs; fetching "
                 "another",
                 s.exchange_symbol, snap.last_update_id);
    resync(b, "bridge_failed");
  } else {
    spdlog::warn("collector.binance: {} buffered depth diffs have a gap; fetching another snapshot",
                 s.exchange_symbol);
    resync(b, "sequence_gap");
  }
}

void Collector::Worker::reset_books_on_reconnect() {
  for (auto& b : books_) {
    if (!b.sync.active()) continue;
    {
      std::lock_guard lk(book_mu_);
      b.sync.reset();
    }
    b.next_snapshot = {};
    resync(b, "reconnect");
  }
}

std::optional<Collector::BookView> Collector::Worker::book(std::string_view symbol, size_t depth) const {
  const SymbolState* s = nullptr;
  for (const auto& c : symbols_) {
    if (c.exchange_symbol == symbol || c.unified == symbol) s = &c;
  }
  if (s == nullptr || s->book < 0) return std::nullopt;
  std::lock_guard lk(book_mu_);
  const DepthSync& sync = books_[static_cast<size_t>(s->book)].sync;
  BookView v;
  v.in_sync = sync.in_sync();
  v.update_id = sync.update_id();
  sync.book().top(depth, v.top);
  return v;
}

}  // namespace tickflow::exchange::binance
