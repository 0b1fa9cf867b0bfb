#include "processing/quality/rolling_median.h"

#include <algorithm>
#include <cmath>

namespace tickflow::quality {

RollingMedian::RollingMedian(size_t capacity) : capacity_(std::max<size_t>(1, capacity)) {
  ring_.reserve(capacity_);
  sorted_.reserve(capacity_);
}

void RollingMedian::add(double v) {
  if (ring_.size() < capacity_) {
    ring_.push_back(v);
  } else {
    const double old = ring_[head_];
    ring_[head_] = v;
    head_ = (head_ + 1) % capacity_;
    auto it = std::lower_bound(sorted_.begin(), sorted_.end(), old);
    if (it != sorted_.end()) sorted_.erase(it);
  }
  sorted_.insert(std::upper_bound(sorted_.begin(), sorted_.end(), v), v);
}

double RollingMedian::median() const {
  const size_t n = sorted_.size();
  if (n == 0) return 0;
  if (n % 2 == 1) return sorted_[n / 2];
  return (sorted_[n / 2 - 1] + sorted_[n / 2]) / 2;
}

double RollingMedian::mad() const {
  const size_t n = sorted_.size();
  if (n == 0) return 0;
  const double m = median();
  // The deviations |x − m| in increasing order are produced by merging outward from the
  // median: the left side (m − x, increasing to the left) and the right side (x − m).
  // The median of the deviations is the ((n−1)/2)-th and (n/2)-th of that merged order.
  size_t right = static_cast<size_t>(std::lower_bound(sorted_.begin(), sorted_.end(), m) - sorted_.begin());
  ptrdiff_t left = static_cast<ptrdiff_t>(right) - 1;
  const size_t lo_rank = (n - 1) / 2, hi_rank = n / 2;
  double lo = 0, hi = 0;
  for (size_t k = 0; k <= hi_rank; ++k) {
    double d;
    if (left < 0) {
      d = sorted_[right++] - m;
    } else if (right >= n) {
      d = m - sorted_[static_cast<size_t>(left--)];
    } else {
      const double dl = m - sorted_[static_cast<size_t>(left)];
      const double dr = sorted_[right] - m;
      if (dl <= dr) {
        d = dl;
        --left;
      } else {
        d = dr;
        ++right;
      }
    }
    if (k == lo_rank) lo = d;
    if (k == hi_rank) hi = d;
  }
  return (lo + hi) / 2;
}

}  // namespace tickflow::quality
