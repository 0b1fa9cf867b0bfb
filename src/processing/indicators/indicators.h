// Streaming technical indicators with TA-Lib's conventions (see README.md in this folder and
// testdata/indicators/README.md): SMA, EMA, RSI (Wilder), MACD, Bollinger Bands, ATR (Wilder),
// session and rolling VWAP.
//
// Each indicator is a small value type: `update(...)` consumes one closed bar in O(1) (amortized:
// windowed sums are re-based from their ring buffer once per window length, so they never drift),
// `value()`/`ready()` read the current output, empty (std::nullopt) while warming up. No clock, no
// I/O, no allocation after construction. Math is in double; callers convert exact decimals at the
// boundary (bar_from_candle). Inputs must be finite (IndicatorSet checks); outputs are then finite
// except on overflow, which IndicatorSet maps to "empty".
// State round-trips bit-exactly through save()/load() (state_codec.h), so a restored indicator
// continues exactly like an uninterrupted one.
// Thread-safety: plain values; one writer at a time.
#pragma once

#include <cmath>
#include <cstdint>
#include <optional>
#include <vector>

#include "core/time.h"
#include "processing/indicators/state_codec.h"

namespace tickflow {
struct Candle;
}

namespace tickflow::processing::indicators {

// One closed bar as the indicators see it.
struct Bar {
  TimestampNs open_time = 0;
  double open = 0, high = 0, low = 0, close = 0;
  double volume = 0;  // base asset, >= 0
  // Σ price·quantity of the bar's trades (exact trade VWAP numerator); < 0 = unknown, then VWAP
  // uses the typical price (high + low + close) / 3 times volume.
  double quote_volume = -1;
};

// Decimal → double at the boundary; quote_volume from the candle's exact quote volume.
Bar bar_from_candle(const Candle& c);

// Neumaier-compensated accumulator: sum() is accurate to ~1 ulp of the true sum of everything
// added, independent of how many terms were added.
class CompensatedSum {
 public:
  void add(double x) {
    double t = sum_ + x;
    double big_sum = (sum_ - t) + x;  // both branches computed: the select is branch-free
    double big_x = (x - t) + sum_;
    comp_ += std::fabs(sum_) >= std::fabs(x) ? big_sum : big_x;
    sum_ = t;
  }
  double sum() const { return sum_ + comp_; }
  void reset() { sum_ = comp_ = 0; }
  void save(StateWriter& w) const { w.f64(sum_); w.f64(comp_); }
  bool load(StateReader& r) { return r.f64(sum_) && r.f64(comp_); }

 private:
  double sum_ = 0, comp_ = 0;
};

// The last n values in a ring buffer with their sum. The sum is updated by a compensated
// add of (new − evicted) and recomputed from the buffer every n pushes, so its error is bounded
// by the window's own values and never accumulates over the stream. Also tracks how many
// trailing values are identical, so a flat window is recognised exactly.
class Window {
 public:
  explicit Window(uint32_t n) : buf_(n, 0.0) {}

  // Adds x (evicting the oldest value once full). Returns true when the sum was re-based from
  // the buffer during this push (every n pushes, including the one that fills the window).
  bool push(double x) {
    const uint32_t n = size();
    if (count_ == n) {
      double old = buf_[pos_];
      sum_.add(x - old);
    } else {
      sum_.add(x);
      ++count_;
    }
    buf_[pos_] = x;
    run_ = (count_ > 1 && x == last_) ? (run_ < n ? run_ + 1 : n) : 1;
    last_ = x;
    if (++pos_ == n) {
      pos_ = 0;
      rebase();
      return true;
    }
    return false;
  }

  uint32_t size() const { return static_cast<uint32_t>(buf_.size()); }
  bool full() const { return count_ == size(); }
  // The value the next push() evicts (valid when full()).
  double oldest() const { return buf_[pos_]; }
  double sum() const { return sum_.sum(); }
  // True when the whole window holds one identical value (then mean == last() exactly).
  bool flat() const { return full() && run_ >= size(); }
  double last() const { return last_; }
  const std::vector<double>& buffer() const { return buf_; }

  void save(StateWriter& w) const;
  bool load(StateReader& r);

 private:
  void rebase();

  std::vector<double> buf_;
  uint32_t pos_ = 0;    // next slot to write
  uint32_t count_ = 0;  // values held (saturates at n)
  uint32_t run_ = 0;    // trailing identical values (saturates at n)
  double last_ = 0;
  CompensatedSum sum_;
};

// SMA(n): mean of the last n closes; first value after n closes (TA-Lib: i = n − 1).
class Sma {
 public:
  explicit Sma(uint32_t n) : w_(n) {}
  void update(double x) { w_.push(x); }
  bool ready() const { return w_.full(); }
  std::optional<double> value() const {
    if (!ready()) return std::nullopt;
    return w_.flat() ? w_.last() : w_.sum() / w_.size();
  }
  uint32_t warmup() const { return w_.size(); }
  void save(StateWriter& w) const { w_.save(w); }
  bool load(StateReader& r) { return w_.load(r); }

 private:
  Window w_;
};

// EMA(n), alpha = 2/(n+1), seeded with the SMA of the first n closes (first value at i = n − 1).
class Ema {
 public:
  explicit Ema(uint32_t n) : n_(n), k_(2.0 / (n + 1.0)) {}
  void update(double x) {
    if (count_ < n_) {
      seed_ += x;
      if (++count_ == n_) ema_ = seed_ / n_;
    } else {
      ema_ = (x - ema_) * k_ + ema_;  // TA-Lib's form
    }
  }
  bool ready() const { return count_ == n_; }
  std::optional<double> value() const { return ready() ? std::optional<double>(ema_) : std::nullopt; }
  uint32_t warmup() const { return n_; }
  void save(StateWriter& w) const;
  bool load(StateReader& r);

 private:
  uint32_t n_;
  double k_;
  uint32_t count_ = 0;
  double seed_ = 0, ema_ = 0;
};

// RSI(n), Wilder: average gain G and loss L seeded with the plain means of the first n changes,
// then G = (G·(n−1) + gain)/n. RSI = 100·G/(G+L), 0 when G+L == 0. First value after n + 1
// closes (i = n).
class Rsi {
 public:
  explicit Rsi(uint32_t n) : n_(n) {}
  void update(double x) {
    if (!has_prev_) {
      prev_ = x;
      has_prev_ = true;
      return;
    }
    double diff = x - prev_;
    prev_ = x;
    if (changes_ < n_) {
      if (diff < 0) loss_ -= diff; else gain_ += diff;
      if (++changes_ == n_) {
        loss_ /= n_;
        gain_ /= n_;
      }
      return;
    }
    loss_ *= n_ - 1;
    gain_ *= n_ - 1;
    if (diff < 0) loss_ -= diff; else gain_ += diff;
    loss_ /= n_;
    gain_ /= n_;
  }
  bool ready() const { return changes_ == n_; }
  std::optional<double> value() const {
    if (!ready()) return std::nullopt;
    double s = gain_ + loss_;
    return s == 0 ? 0.0 : 100.0 * (gain_ / s);
  }
  uint32_t warmup() const { return n_ + 1; }
  void save(StateWriter& w) const;
  bool load(StateReader& r);

 private:
  uint32_t n_;
  bool has_prev_ = false;
  uint32_t changes_ = 0;
  double prev_ = 0, gain_ = 0, loss_ = 0;
};

// MACD(fast, slow, signal), fast < slow, TA-Lib alignment: slow EMA seeded with the SMA of closes
// [0, slow), fast EMA with the SMA of closes [slow − fast, slow), both first at i = slow − 1;
// macd = fast − slow; signal = EMA(signal) of macd seeded with the SMA of its first `signal`
// values; hist = macd − signal. All three appear together at i = slow + signal − 2.
class Macd {
 public:
  struct Value {
    double macd, signal, hist;
  };
  Macd(uint32_t fast, uint32_t slow, uint32_t signal);
  void update(double x);
  bool ready() const { return sig_count_ == signal_; }
  std::optional<Value> value() const {
    if (!ready()) return std::nullopt;
    return Value{macd_, sig_, macd_ - sig_};
  }
  uint32_t warmup() const { return slow_ + signal_ - 1; }
  void save(StateWriter& w) const;
  bool load(StateReader& r);

 private:
  uint32_t fast_, slow_, signal_;
  double kf_, ks_, kg_;
  uint64_t count_ = 0;  // closes seen, saturating at slow
  double fast_seed_ = 0, slow_seed_ = 0, fast_ema_ = 0, slow_ema_ = 0;
  uint32_t sig_count_ = 0;
  double sig_seed_ = 0, sig_ = 0, macd_ = 0;
};

// Bollinger(n, k): middle = SMA(n), upper/lower = middle ± k·σ with the population standard
// deviation (÷ n). σ comes from a sliding Welford update of M2 = Σ(x − mean)², recomputed two-pass
// (corrected) from the ring buffer every n values; on a flat window it is exactly 0 and the
// three bands equal the close. First value at i = n − 1.
class Bollinger {
 public:
  struct Value {
    double upper, middle, lower;
  };
  Bollinger(uint32_t n, double k) : w_(n), k_(k) {}
  void update(double x) {
    if (!w_.full()) {
      if (w_.push(x)) recompute_m2();
      return;
    }
    double old_mean = w_.sum() / w_.size();
    double out = w_.oldest();
    if (w_.push(x)) {
      recompute_m2();
    } else {
      double new_mean = w_.sum() / w_.size();
      m2_ += (x - out) * ((x - new_mean) + (out - old_mean));
    }
  }
  bool ready() const { return w_.full(); }
  std::optional<Value> value() const;
  // Population standard deviation of the window (0 exactly when flat); valid when ready().
  double stdev() const;
  uint32_t warmup() const { return w_.size(); }
  void save(StateWriter& w) const;
  bool load(StateReader& r);

 private:
  void recompute_m2();
  Window w_;
  double k_;
  double m2_ = 0;
};

// ATR(n), Wilder, TA-Lib convention: TR_i = max(high − low, |high − close_{i−1}|,
// |low − close_{i−1}|) for i >= 1 (bar 0 has no true range); the first ATR, at i = n, is the plain
// mean of TR_1..TR_n; then ATR = (ATR·(n−1) + TR)/n.
class Atr {
 public:
  explicit Atr(uint32_t n) : n_(n) {}
  void update(double high, double low, double close) {
    if (!has_prev_) {
      prev_close_ = close;
      has_prev_ = true;
      return;
    }
    double tr = high - low;
    double a = std::fabs(prev_close_ - high);
    double b = std::fabs(prev_close_ - low);
    if (a > tr) tr = a;
    if (b > tr) tr = b;
    prev_close_ = close;
    if (count_ < n_) {
      atr_ += tr;
      if (++count_ == n_) atr_ /= n_;
      return;
    }
    atr_ *= n_ - 1;
    atr_ += tr;
    atr_ /= n_;
  }
  bool ready() const { return count_ == n_; }
  std::optional<double> value() const { return ready() ? std::optional<double>(atr_) : std::nullopt; }
  uint32_t warmup() const { return n_ + 1; }
  void save(StateWriter& w) const;
  bool load(StateReader& r);

 private:
  uint32_t n_;
  bool has_prev_ = false;
  uint32_t count_ = 0;
  double prev_close_ = 0, atr_ = 0;
};

// Numerator of VWAP for one bar: the exact quote volume when known, else typical price · volume.
inline double vwap_numerator(const Bar& b) {
  return b.quote_volume >= 0 ? b.quote_volume : (b.high + b.low + b.close) / 3.0 * b.volume;
}

// Session VWAP: Σ numerator / Σ volume over the bars of the current UTC day (bars are assigned by
// open_time; a bar opening on a new day resets the session). Empty while the session's volume
// is 0. Compensated sums.
class SessionVwap {
 public:
  void update(const Bar& b);
  bool ready() const { return nonzero_ > 0; }
  std::optional<double> value() const {
    if (!ready()) return std::nullopt;
    return pv_.sum() / v_.sum();
  }
  uint32_t warmup() const { return 1; }
  void save(StateWriter& w) const;
  bool load(StateReader& r);

 private:
  bool started_ = false;
  int64_t day_ = 0;
  uint64_t nonzero_ = 0;  // bars with volume > 0 in the session
  CompensatedSum pv_, v_;
};

// Rolling VWAP(n): Σ numerator / Σ volume over the last n bars; empty until n bars were seen or
// while the window's volume is 0.
class RollingVwap {
 public:
  explicit RollingVwap(uint32_t n) : pv_(n), v_(n) {}
  void update(const Bar& b) {
    double v = b.volume;
    if (v_.full() && v_.oldest() > 0) --nonzero_;
    if (v > 0) ++nonzero_;
    pv_.push(vwap_numerator(b));
    v_.push(v);
  }
  bool ready() const { return v_.full() && nonzero_ > 0; }
  std::optional<double> value() const {
    if (!ready()) return std::nullopt;
    double den = v_.sum();
    if (!(den > 0)) return std::nullopt;
    return pv_.sum() / den;
  }
  uint32_t warmup() const { return v_.size(); }
  void save(StateWriter& w) const;
  bool load(StateReader& r);

 private:
  Window pv_, v_;
  uint32_t nonzero_ = 0;  // bars with volume > 0 in the window
};

}  // namespace tickflow::processing::indicators
