#include "exchange/kraken/book.h"

#include <algorithm>
#include <utility>

namespace tickflow::exchange::kraken {

Status KrakenBook::fail(std::string_view reason, std::string message) {
  reason_ = reason;
  return Status::corruption(std::move(message));
}

Status KrakenBook::apply_entries(const std::vector<BookEntry>& entries, book::BookSide side) {
  for (const BookEntry& e : entries) {
    book::LevelChange change;
    Status st = book_.apply(side, e.price, e.volume, &change);
    if (!st.is_ok()) {
      synced_ = false;
      return fail("bad_level", st.message());
    }
    if (e.republished && change != book::LevelChange::kInserted) ++republish_conflicts_;
  }
  return Status::ok();
}

Status KrakenBook::apply(const ParsedMessage& m) {
  reason_ = {};
  if (m.kind == MessageKind::kBookSnapshot) {
    size_t depth = static_cast<size_t>(m.book_depth);
    if (max_depth_ != 0 && (depth == 0 || max_depth_ < depth)) depth = max_depth_;
    book_ = book::OrderBook(depth);
    pair_ = m.pair;
    synced_ = false;
    TICKFLOW_RETURN_IF_ERROR(apply_entries(m.asks, book::BookSide::kAsk));
    TICKFLOW_RETURN_IF_ERROR(apply_entries(m.bids, book::BookSide::kBid));
    ++snapshots_;
    if (m.has_checksum) {  // v2 checksums snapshots too (v1 does not)
      last_checksum_ = book::kraken_checksum(book_);
      if (last_checksum_ != m.checksum) {
        ++checksum_failures_;
        return fail("checksum_mismatch", "snapshot of " + pair_ + ": checksum " + std::to_string(last_checksum_) +
                                             " != exchange's " + std::to_string(m.checksum));
      }
    }
    synced_ = true;
    return Status::ok();
  }
  if (m.kind != MessageKind::kBookUpdate) return Status::invalid_argument("not a book message");
  if (pair_.empty())
    return fail("update_before_snapshot", "book update for " + m.pair + " before its snapshot");
  if (m.pair != pair_)
    return fail("wrong_pair", "book update for " + m.pair + " applied to the book of " + pair_);
  if (!synced_)
    return fail("out_of_sync", "book of " + pair_ + " is out of sync until the next snapshot");
  TICKFLOW_RETURN_IF_ERROR(apply_entries(m.asks, book::BookSide::kAsk));
  TICKFLOW_RETURN_IF_ERROR(apply_entries(m.bids, book::BookSide::kBid));
  ++updates_;
  last_checksum_ = book::kraken_checksum(book_);
  if (m.has_checksum && last_checksum_ != m.checksum) {
    synced_ = false;
    ++checksum_failures_;
    return fail("checksum_mismatch", "book of " + pair_ + ": checksum " +
                                         std::to_string(last_checksum_) + " != exchange's " +
                                         std::to_string(m.checksum));
  }
  return Status::ok();
}

}  // namespace tickflow::exchange::kraken
