// The Coinbase collector's Advanced Trade mode (collector.h, config.feed = "advanced"): frames of
// wss://advanced-trade-ws.coinbase.com parsed with AdvancedParser and fed to the same trade path
// (dedup by trade id, trade-id gap → REST repair, bus batch with the last ids) and book path as
// the Exchange feed. `sequence_num` is contiguous over a connection: a jump means messages were
// lost, of any channel, so every product is repaired — trades newer than the last published id
// fetched from REST (GET /products/{id}/trades), every book resubscribed for a fresh snapshot.
#include <spdlog/spdlog.h>

#include "exchange/coinbase/collector_worker.h"

namespace tickflow::exchange::coinbase {

namespace {

// The closest Exchange-feed kind for the per-kind message counter (bounded labels).
MessageKind probe_kind(const AdvancedMessage& m) {
  switch (m.channel) {
    case AdvancedChannel::kMarketTrades:
      return MessageKind::kMatch;
    case AdvancedChannel::kL2Data:
      return !m.events.empty() && m.events.front().snapshot ? MessageKind::kSnapshot : MessageKind::kL2Update;
    case AdvancedChannel::kHeartbeats:
      return MessageKind::kHeartbeat;
    case AdvancedChannel::kSubscriptions:
      return MessageKind::kSubscriptions;
    case AdvancedChannel::kError:
      return MessageKind::kError;
    case AdvancedChannel::kOther:
      return MessageKind::kTicker;
  }
  return MessageKind::kTicker;
}

}  // namespace

bool Collector::Worker::process_advanced(std::string_view frame) {
  ++frames_this_session_;
  const TimestampNs recv = clock_.now_ns();
  if (Status st = adv_parser_.parse(frame, recv, adv_); !st) {
    probe_.invalid();
    const std::string_view reason = adv_parser_.error_reason();
    out_.reject(reason.empty() ? "malformed" : reason, st.message(), frame, recv);
    return !end_;
  }
  probe_.message(static_cast<size_t>(probe_kind(adv_)));
  if (adv_.sequence_num >= 0) {
    const int64_t last = last_sequence_num_;
    last_sequence_num_ = std::max(last_sequence_num_, adv_.sequence_num);
    if (last >= 0 && adv_.sequence_num <= last) {
      st_.sequence_regressions.fetch_add(1, std::memory_order_relaxed);
    } else if (last >= 0 && adv_.sequence_num > last + 1) {
      // Messages last+1 .. sequence_num-1 were lost (any channel, any product): repair all
      // before this message's content.
      st_.sequence_gaps.fetch_add(1, std::memory_order_relaxed);
      probe_.gap();
      spdlog::warn("collector.coinbase: advanced sequence_num gap {}..{}; repairing every product", last + 1,
                   adv_.sequence_num - 1);
      for (auto& p : products_) {
        if (end_) break;
        if (last_id(p) != kNoId) backfill(p, kUnbounded);
        if (books_) {
          std::lock_guard lk(books_mu_);
          p.resync_pending = false;  // the pending snapshot may be among the lost messages
          resync_book(p, "sequence_gap");
        }
      }
      if (end_) return false;
    }
  }
  switch (adv_.channel) {
    case AdvancedChannel::kMarketTrades:
      for (const AdvancedEvent& ev : adv_.events) {
        for (const Trade& t : ev.trades) {
          Product* p = find(t.symbol);
          if (p == nullptr) {
            out_.reject("unknown_symbol", "trade for unsubscribed product " + t.symbol, frame, recv);
            continue;
          }
          parsed_.trade = t;
          parsed_.sequence = -1;  // sequence_num is per connection, checked above
          on_trade(*p, frame);
          if (end_) return false;
        }
      }
      return !end_;
    case AdvancedChannel::kL2Data:
      if (!books_) break;
      for (const AdvancedEvent& ev : adv_.events) {
        Product* p = find(ev.product_id);
        if (p == nullptr) continue;
        to_level2_message(ev, adv_.timestamp, parsed_);
        on_level2(*p, frame, recv);
        if (end_) return false;
      }
      return !end_;
    case AdvancedChannel::kSubscriptions:
      for (auto& q : products_) {
        if (!q.needs_backfill || end_) continue;
        q.needs_backfill = false;
        backfill(q, kUnbounded);
      }
      break;
    case AdvancedChannel::kError:
      spdlog::error("collector.coinbase: Coinbase error: {}", adv_.error_message);
      health_.set(HealthState::kDegraded, "coinbase: " + adv_.error_message);
      st_.exchange_errors.fetch_add(1);  // after the health: whoever sees the count sees the health
      break;
    case AdvancedChannel::kHeartbeats:
    case AdvancedChannel::kOther:
      break;
  }
  st_.ignored.fetch_add(1, std::memory_order_relaxed);
  return !end_;
}

}  // namespace tickflow::exchange::coinbase
