#include "exchange/binance/depth_sync.h"

namespace tickflow::exchange::binance {

DepthSync::Step DepthSync::step(int64_t first, int64_t last) const {
  if (!bridged_) {
    if (last <= last_) return Step::kStale;
    return first <= last_ + 1 ? Step::kApplied : Step::kBridgeFailed;  // last >= last_ + 1 here
  }
  return first == last_ + 1 ? Step::kApplied : Step::kGap;
}

void DepthSync::apply(const std::vector<DepthLevel>& bids, const std::vector<DepthLevel>& asks, int64_t last) {
  // The parser guarantees price > 0 and quantity >= 0, so apply() cannot fail here.
  for (const auto& l : bids) (void)book_.apply(book::BookSide::kBid, l.price, l.quantity);
  for (const auto& l : asks) (void)book_.apply(book::BookSide::kAsk, l.price, l.quantity);
  levels_applied_ += bids.size() + asks.size();
  last_ = last;
  bridged_ = true;
}

void DepthSync::buffer(int64_t first, int64_t last, const std::vector<DepthLevel>& bids,
                       const std::vector<DepthLevel>& asks) {
  if (buffer_.size() >= max_buffer_ && !buffer_.empty()) buffer_.pop_front();
  buffer_.push_back(Diff{first, last, bids, asks});
}

DepthSync::Step DepthSync::on_diff(int64_t first, int64_t last, const std::vector<DepthLevel>& bids,
                                   const std::vector<DepthLevel>& asks) {
  if (!in_sync_) {
    buffer(first, last, bids, asks);
    return Step::kBuffered;
  }
  const Step s = step(first, last);
  if (s == Step::kApplied) {
    apply(bids, asks, last);
  } else if (s != Step::kStale) {
    reset();
    buffer(first, last, bids, asks);
  }
  return s;
}

DepthSync::Step DepthSync::on_snapshot(const DepthSnapshot& snap) {
  book_.clear();
  for (const auto& l : snap.bids) (void)book_.apply(book::BookSide::kBid, l.price, l.quantity);
  for (const auto& l : snap.asks) (void)book_.apply(book::BookSide::kAsk, l.price, l.quantity);
  levels_applied_ += snap.bids.size() + snap.asks.size();
  last_ = snap.last_update_id;
  bridged_ = false;
  while (!buffer_.empty()) {
    const Diff& d = buffer_.front();
    const Step s = step(d.first, d.last);
    if (s == Step::kBridgeFailed || s == Step::kGap) {
      // Keep this diff and the ones after it for the next snapshot.
      book_.clear();
      in_sync_ = false;
      bridged_ = false;
      last_ = 0;
      return s;
    }
    if (s == Step::kApplied) apply(d.bids, d.asks, d.last);
    buffer_.pop_front();
  }
  in_sync_ = true;
  return Step::kApplied;
}

void DepthSync::reset() {
  buffer_.clear();
  book_.clear();
  in_sync_ = false;
  bridged_ = false;
  last_ = 0;
}

}  // namespace tickflow::exchange::binance
