// The Coinbase collector's level2 books (collector.h "Books"): snapshot + l2update → one
// book::OrderBook per product → collector::BookOutput; crossed or rejected books and reconnects
// resync the product (unsubscribe + subscribe its level2 channel → a fresh snapshot).
#include <spdlog/spdlog.h>

#include "exchange/coinbase/collector_worker.h"

namespace tickflow::exchange::coinbase {

void Collector::Worker::on_level2(Product& p, std::string_view frame, TimestampNs recv) {
  std::unique_lock lk(books_mu_);
  if (parsed_.kind == MessageKind::kL2Update && !p.book_synced) {
    // Before the product's snapshot (first subscription, or a resync in flight): the snapshot
    // will hold these changes.
    st_.book_updates_dropped.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  if (Status st = apply_to_book(parsed_, p.book); !st) {
    lk.unlock();
    out_.reject("bad_book_level", st.message(), frame, recv);
    lk.lock();
    resync_book(p, "bad_level");
    return;
  }
  if (parsed_.kind == MessageKind::kSnapshot) {
    p.book_synced = true;
    p.resync_pending = false;
    st_.book_snapshots.fetch_add(1, std::memory_order_relaxed);
  } else {
    st_.book_updates.fetch_add(1, std::memory_order_relaxed);
  }
  // Coinbase's level2 carries no sequence number (0); a snapshot has no time (the receive time).
  books_->on_book(p.book_output, p.book, 0, parsed_.time > 0 ? parsed_.time : recv, recv);
  if (p.book.crossed()) {
    // Coinbase's matching engine never leaves a resting book crossed: an update was lost or
    // misapplied (level2 has no sequence numbers, so this is how a lost update shows).
    st_.crossed_books.fetch_add(1, std::memory_order_relaxed);
    spdlog::warn("collector.coinbase: {} book crossed (bid {} >= ask {}); resyncing", p.id,
                 p.book.best_bid()->price.to_string(), p.book.best_ask()->price.to_string());
    resync_book(p, "crossed_book");
  }
}

void Collector::Worker::resync_book(Product& p, std::string_view reason) {
  // books_mu_ held.
  books_->on_resync(p.book_output, reason);
  st_.book_resyncs.fetch_add(1, std::memory_order_relaxed);
  p.book.clear();
  p.book_synced = false;
  if (p.resync_pending || end_) return;
  p.resync_pending = true;
  const std::string ts = std::to_string(clock_.now_ns() / kNsPerSec);
  for (std::string_view type : {std::string_view("unsubscribe"), std::string_view("subscribe")}) {
    auto m = channel_message(config_, type, p.id, l2_channel(), ts);
    Status st = m ? ws_->send_text(*m) : m.status();
    if (!st) {
      // The reconnect's new subscription resyncs every book.
      spdlog::warn("collector.coinbase: {} level2 resubscription failed: {}; reconnecting", p.id, st.to_string());
      end_ = SessionEnd::kReconnect;
      return;
    }
  }
}

void Collector::Worker::reset_books_for_session() {
  if (!books_) return;
  std::lock_guard lk(books_mu_);
  for (auto& p : products_) {
    if (p.book_synced) {
      books_->on_resync(p.book_output, "reconnect");
      st_.book_resyncs.fetch_add(1, std::memory_order_relaxed);
    }
    p.book.clear();
    p.book_synced = false;
    p.resync_pending = false;  // the connect's subscribe message asks for every snapshot
  }
}

Result<book::BookTop> Collector::Worker::book_top(std::string_view product, size_t depth) const {
  std::lock_guard lk(books_mu_);
  for (const auto& p : products_) {
    if (p.id != product) continue;
    if (!books_ || !p.book_synced) return Status(ErrorCode::kNotFound, std::string(product) + ": no book in sync");
    return p.book.top(depth);
  }
  return Status(ErrorCode::kNotFound, std::string(product) + ": not collected");
}

}  // namespace tickflow::exchange::coinbase
