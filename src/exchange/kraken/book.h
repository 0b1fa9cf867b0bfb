// One Kraken v1 book channel (one pair) kept in sync: snapshot, updates, depth truncation and
// the CRC32 checksum verified after every update.
//
// apply() takes parsed book messages of one pair in arrival order:
//   kBookSnapshot  replaces the book (depth = the channel's N of "book-N", or the depth given
//                  at construction when that is smaller); the book is then in sync — unless
//                  the snapshot carries a checksum (v2) that does not match ("checksum_mismatch").
//   kBookUpdate    applies the ask entries then the bid entries in message order (each entry
//                  sets or, with volume 0, deletes a level; republished "r" entries are
//                  ordinary sets), truncating to the depth after every insert, then compares
//                  kraken_checksum() with the message's "c".
// Errors (kCorruption; reason() names them, bounded): "update_before_snapshot",
// "checksum_mismatch" (the book is out of sync: the caller resubscribes; further updates fail
// with "out_of_sync" until the next snapshot), "bad_level", "wrong_pair".
// A crossed book is not an error for Kraken (it can appear between messages); crossed() tells.
//
// Thread-safety: plain value, one owner thread.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/result.h"
#include "exchange/book/order_book.h"
#include "exchange/kraken/parse.h"

namespace tickflow::exchange::kraken {

class KrakenBook {
 public:
  // max_depth 0: use the channel's depth.
  explicit KrakenBook(size_t max_depth = 0) : max_depth_(max_depth) {}

  Status apply(const ParsedMessage& m);

  bool synced() const { return synced_; }
  const book::OrderBook& book() const { return book_; }
  std::string_view reason() const { return reason_; }
  uint32_t last_checksum() const { return last_checksum_; }

  uint64_t updates() const { return updates_; }
  uint64_t checksum_failures() const { return checksum_failures_; }
  uint64_t snapshots() const { return snapshots_; }
  // Republished ("r") entries for a level that was still in our book. Kraken republishes only
  // levels that re-enter the subscribed depth, so this stays 0 when our truncation matches the
  // exchange's (the checksum alone cannot see it beyond the top 10).
  uint64_t republish_conflicts() const { return republish_conflicts_; }

 private:
  Status fail(std::string_view reason, std::string message);
  Status apply_entries(const std::vector<BookEntry>& entries, book::BookSide side);

  size_t max_depth_;
  book::OrderBook book_;
  std::string pair_;
  bool synced_ = false;
  std::string_view reason_;
  uint32_t last_checksum_ = 0;
  uint64_t updates_ = 0, checksum_failures_ = 0, snapshots_ = 0, republish_conflicts_ = 0;
};

}  // namespace tickflow::exchange::kraken
