// Gap detection for the Coinbase Exchange feed, per product. Pure, no clock.
//
// Trade ids are contiguous per product on Coinbase (the recording shows last_match id, then
// id+1, id+2, ... across match messages), so a missing `match` shows as a trade-id jump. The
// `sequence` of match/ticker/heartbeat messages is the product's sequence over ALL its order
// events (the "full" channel): it increases but skips on the matches/ticker channels, so there a
// jump is normal and only a step back (replay, reorder) is news; on the full channel or when
// every message of the product is received, a jump is a gap. A heartbeat's last_trade_id ahead
// of the last trade id seen means trades were missed (0 means unknown: Coinbase has been seen
// sending 0 there).
//
// Thread-safety: plain value, one owner thread.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>

#include "core/symbol_hash.h"

namespace tickflow::exchange::coinbase {

enum class SeqVerdict : uint8_t {
  kFirst,  // first id of the product
  kNext,   // exactly last + 1
  kJump,   // > last + 1: ids last+1 .. value-1 were not seen
  kStale,  // <= last: duplicate or reordered
};

struct SeqCheck {
  SeqVerdict verdict = SeqVerdict::kFirst;
  int64_t missing_from = 0;  // kJump: first missing id
  int64_t missing_to = 0;    // kJump: last missing id
  int64_t missing() const {
    return verdict == SeqVerdict::kJump ? missing_to - missing_from + 1 : 0;
  }
};

// One increasing id per product (trade ids, or the sequence of one channel).
class SequenceTracker {
 public:
  // Records `value` for the product; a kStale value does not move the high-water mark.
  SeqCheck observe(std::string_view product, int64_t value);
  // A value the product should have reached (heartbeat last_trade_id): kJump when ahead of
  // the high-water mark (which then moves), kNext when equal, kStale when behind or 0/unknown.
  // Before any observe() of the product it only sets the mark (kFirst).
  SeqCheck expect_at_least(std::string_view product, int64_t value);
  // -1 when nothing was seen for the product.
  int64_t last(std::string_view product) const;
  void reset(std::string_view product);
  void clear() { last_.clear(); }

 private:
  std::unordered_map<std::string, int64_t, SymbolHash, std::equal_to<>> last_;
};

}  // namespace tickflow::exchange::coinbase
