#include "processing/candles/trade_dedup.h"

#include <algorithm>
#include <limits>

namespace tickflow::processing {

bool TradeDedup::insert(int64_t id, TimestampNs ts_event) {
  if (!has_high_) {
    has_high_ = true;
    high_ = id;
    if (id > std::numeric_limits<int64_t>::min()) gaps_.push_back({std::numeric_limits<int64_t>::min(), id - 1, ts_event});
    return true;
  }
  if (id > high_) {
    if (id > high_ + 1) {
      if (gaps_.size() >= kMaxGaps) gaps_.erase(gaps_.begin());
      gaps_.push_back({high_ + 1, id - 1, ts_event});
    }
    high_ = id;
    return true;
  }
  // Last gap whose lo <= id.
  auto it = std::upper_bound(gaps_.begin(), gaps_.end(), id, [](int64_t v, const Gap& g) { return v < g.lo; });
  if (it == gaps_.begin()) return false;
  --it;
  if (id > it->hi) return false;
  if (it->lo == it->hi) {
    gaps_.erase(it);
  } else if (id == it->lo) {
    ++it->lo;
  } else if (id == it->hi) {
    --it->hi;
  } else {
    Gap upper{id + 1, it->hi, it->opened};
    it->hi = id - 1;
    gaps_.insert(it + 1, upper);
  }
  return true;
}

bool TradeDedup::contains(int64_t id) const {
  if (!has_high_ || id > high_) return false;
  auto it = std::upper_bound(gaps_.begin(), gaps_.end(), id, [](int64_t v, const Gap& g) { return v < g.lo; });
  if (it == gaps_.begin()) return true;
  --it;
  return id > it->hi;
}

void TradeDedup::prune(TimestampNs cutoff) {
  size_t n = 0;
  while (n < gaps_.size() && gaps_[n].opened < cutoff) ++n;
  if (n > 0) gaps_.erase(gaps_.begin(), gaps_.begin() + static_cast<std::ptrdiff_t>(n));
}

void TradeDedup::encode(state::Writer& w) const {
  w.u8(has_high_ ? 1 : 0);
  w.i64(high_);
  w.u64(gaps_.size());
  uint64_t prev = 0;
  for (const Gap& g : gaps_) {
    // Gaps are close to each other and short: delta-encode (modular arithmetic).
    w.u64(static_cast<uint64_t>(g.lo) - prev);
    w.u64(static_cast<uint64_t>(g.hi) - static_cast<uint64_t>(g.lo));
    w.i64(g.opened);
    prev = static_cast<uint64_t>(g.lo);
  }
}

bool TradeDedup::decode(state::Reader& r) {
  uint64_t n;
  if (!r.boolean(has_high_) || !r.i64(high_) || !r.u64(n) || n > kMaxGaps + 1) return false;
  gaps_.clear();
  uint64_t prev = 0;
  for (uint64_t i = 0; i < n; ++i) {
    uint64_t dlo, len;
    int64_t opened;
    if (!r.u64(dlo) || !r.u64(len) || !r.i64(opened)) return false;
    uint64_t lo = prev + dlo;
    Gap g{static_cast<int64_t>(lo), static_cast<int64_t>(lo + len), opened};
    if (g.hi < g.lo || (!gaps_.empty() && g.lo <= gaps_.back().hi)) return false;
    prev = lo;
    gaps_.push_back(g);
  }
  return true;
}

}  // namespace tickflow::processing
