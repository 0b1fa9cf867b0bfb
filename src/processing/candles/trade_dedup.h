// Exact, bounded-memory duplicate detection by trade id for one instrument.
//
// Exchange trade ids increase per symbol, so the set of seen ids is "everything up to the
// high-water id, except a few gaps". We keep the high-water id and the sorted, disjoint
// intervals of ids still missing below it; an id <= high water outside every gap was seen.
// Each gap remembers the event time of the trade that opened it: any trade that can fill it
// is at least that old, so once that time is beyond the correction horizon the caller would
// reject the trade as too late anyway and the gap is pruned. Before the first trade, every id
// below it counts as missing (one open gap), so a first minute delivered out of order works.
// Thread-safety: plain value.
#pragma once

#include <cstdint>
#include <vector>

#include "core/time.h"
#include "processing/candles/state_codec.h"

namespace tickflow::processing {

class TradeDedup {
 public:
  // Records id as seen. Returns false if it was seen before (a duplicate).
  bool insert(int64_t id, TimestampNs ts_event);
  // Forgets gaps opened by trades older than cutoff (they can only be filled by too-late trades).
  void prune(TimestampNs cutoff);
  bool contains(int64_t id) const;

  size_t gap_count() const { return gaps_.size(); }
  int64_t high_water() const { return high_; }

  void encode(state::Writer& w) const;
  bool decode(state::Reader& r);

  // Beyond this many gaps the oldest are dropped (a feed this broken needs a backfill).
  static constexpr size_t kMaxGaps = 4096;

 private:
  struct Gap {
    int64_t lo, hi;
    TimestampNs opened;
  };
  bool has_high_ = false;
  int64_t high_ = 0;
  std::vector<Gap> gaps_;  // sorted by lo, disjoint, all below high_
};

}  // namespace tickflow::processing
