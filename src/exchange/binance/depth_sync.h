// DepthSync: one Binance diff-depth book kept in sync exactly as Binance documents it ("How to
// manage a local order book correctly", spot):
//   1. open <symbol>@depth@100ms and buffer the diffs;
//   2. GET /api/v3/depth?symbol=..&limit=1000 (the snapshot, lastUpdateId = L);
//   3. drop every buffered diff with u <= L;
//   4. the first diff applied must bridge the snapshot: U <= L+1 <= u;
//   5. every later diff must continue the previous one: U == previous u + 1;
//   anything else: discard the book and start again from a new snapshot (a resync).
// Quantities are absolute; quantity 0 removes the level (removing a level the book does not
// have is normal). Pure: no I/O, no clock; the collector fetches the snapshots and counts the
// resyncs (binance/book.cc).
//
// When the snapshot is older than the buffered diffs (L + 1 < U of the first diff to apply),
// the buffer is kept and another snapshot is needed (Binance: "if the lastUpdateId from the
// snapshot is strictly less than the U from step 2, go back to step 3"). When the snapshot is
// newer than every buffered diff, the book is the snapshot (in sync at L) and the next live
// diff must bridge it.
//
// Thread-safety: plain value, one owner thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <vector>

#include "exchange/binance/parse.h"
#include "exchange/book/order_book.h"

namespace tickflow::exchange::binance {

class DepthSync {
 public:
  enum class Step : uint8_t {
    kBuffered,      // not in sync: kept until the snapshot
    kStale,         // u <= the snapshot's lastUpdateId before the first bridged diff: dropped
    kApplied,       // applied (or, from on_snapshot, the book is in sync)
    kGap,           // U != previous u + 1: out of sync; a new snapshot is needed
    kBridgeFailed,  // the first diff after the snapshot does not bridge it (U > L + 1)
  };

  // At most max_buffer diffs are kept while waiting for a snapshot (the oldest go first; the
  // snapshot then fails to bridge and another one is fetched).
  explicit DepthSync(size_t max_buffer = 4096) : max_buffer_(max_buffer) {}

  // A live diff. In sync: applied or, on a gap / failed bridge, the book is discarded and this
  // diff is buffered for the next snapshot. Not in sync: buffered.
  Step on_diff(int64_t first_update_id, int64_t last_update_id, const std::vector<DepthLevel>& bids,
               const std::vector<DepthLevel>& asks);
  // Loads a snapshot and replays the buffered diffs: kApplied (in sync), kBridgeFailed (the
  // snapshot is older than the buffered diffs: buffer kept, fetch another) or kGap (the
  // buffered diffs themselves have a hole: the ones before it are dropped, fetch another).
  Step on_snapshot(const DepthSnapshot& snapshot);
  // Discards the book and the buffer (a reconnect: the stream starts over).
  void reset();

  bool in_sync() const { return in_sync_; }
  // Not in sync and at least one diff buffered (the snapshot must come after the stream's
  // first diff, else it cannot bridge).
  bool needs_snapshot() const { return !in_sync_ && !buffer_.empty(); }
  // Ever received a diff since construction / reset().
  bool active() const { return in_sync_ || !buffer_.empty(); }
  // The book's update id: the last applied u, or the snapshot's lastUpdateId.
  int64_t update_id() const { return last_; }
  size_t buffered() const { return buffer_.size(); }
  const book::OrderBook& book() const { return book_; }
  // Level changes applied since construction (snapshot levels included).
  uint64_t levels_applied() const { return levels_applied_; }

 private:
  struct Diff {
    int64_t first = 0, last = 0;
    std::vector<DepthLevel> bids, asks;
  };
  void buffer(int64_t first, int64_t last, const std::vector<DepthLevel>& bids, const std::vector<DepthLevel>& asks);
  // The continuity rule for one diff against the book (in sync or just loaded).
  Step step(int64_t first, int64_t last) const;
  void apply(const std::vector<DepthLevel>& bids, const std::vector<DepthLevel>& asks, int64_t last);

  size_t max_buffer_;
  std::deque<Diff> buffer_;
  book::OrderBook book_;
  bool in_sync_ = false;
  bool bridged_ = false;  // a diff was applied since the snapshot
  int64_t last_ = 0;
  uint64_t levels_applied_ = 0;
};

}  // namespace tickflow::exchange::binance
