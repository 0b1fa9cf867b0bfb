#include "exchange/coinbase/sequence.h"

namespace tickflow::exchange::coinbase {

SeqCheck SequenceTracker::observe(std::string_view product, int64_t value) {
  auto it = last_.find(product);
  if (it == last_.end()) {
    last_.emplace(std::string(product), value);
    return {SeqVerdict::kFirst, 0, 0};
  }
  int64_t& last = it->second;
  if (value <= last) return {SeqVerdict::kStale, 0, 0};
  SeqCheck c{value == last + 1 ? SeqVerdict::kNext : SeqVerdict::kJump, 0, 0};
  if (c.verdict == SeqVerdict::kJump) {
    c.missing_from = last + 1;
    c.missing_to = value - 1;
  }
  last = value;
  return c;
}

SeqCheck SequenceTracker::expect_at_least(std::string_view product, int64_t value) {
  if (value <= 0) return {SeqVerdict::kStale, 0, 0};
  auto it = last_.find(product);
  if (it == last_.end()) {
    last_.emplace(std::string(product), value);
    return {SeqVerdict::kFirst, 0, 0};
  }
  int64_t& last = it->second;
  if (value < last) return {SeqVerdict::kStale, 0, 0};
  if (value == last) return {SeqVerdict::kNext, 0, 0};
  SeqCheck c{SeqVerdict::kJump, last + 1, value};
  last = value;
  return c;
}

int64_t SequenceTracker::last(std::string_view product) const {
  auto it = last_.find(product);
  return it == last_.end() ? -1 : it->second;
}

void SequenceTracker::reset(std::string_view product) {
  auto it = last_.find(product);
  if (it != last_.end()) last_.erase(it);
}

}  // namespace tickflow::exchange::coinbase
