// RollingMedian: the median and the median absolute deviation (MAD) of the last N values, for
// the quality checker's price-outlier test.
//
// The window is kept twice: in arrival order (a ring, to know what leaves) and sorted (a small
// vector, binary-search insert/erase), so add() is O(N) memmove of a few hundred bytes and
// median()/mad() are O(1)/O(N) with no allocation after the window is full. N is small
// (default 64), which keeps this faster than a two-heap structure in practice.
// Thread-safety: none (one owner). Ownership: plain value.
#pragma once

#include <cstddef>
#include <vector>

namespace tickflow::quality {

class RollingMedian {
 public:
  explicit RollingMedian(size_t capacity);

  void add(double v);
  size_t size() const { return sorted_.size(); }
  size_t capacity() const { return capacity_; }
  // Median of the window (mean of the two middle values for an even count); 0 when empty.
  double median() const;
  // Median of |x − median()| over the window; 0 when empty.
  double mad() const;

 private:
  size_t capacity_;
  std::vector<double> ring_;  // arrival order, ring_[head_] is the oldest once full
  size_t head_ = 0;
  std::vector<double> sorted_;
};

}  // namespace tickflow::quality
