#include "processing/indicators/indicators.h"

#include "core/candle.h"

namespace tickflow::processing::indicators {

Bar bar_from_candle(const Candle& c) {
  Bar b;
  b.open_time = c.open_time;
  b.open = c.open.to_double();
  b.high = c.high.to_double();
  b.low = c.low.to_double();
  b.close = c.close.to_double();
  b.volume = c.volume.to_double();
  b.quote_volume = c.quote_volume.to_double();
  if (b.quote_volume < 0) b.quote_volume = 0;  // never: quote volume is a sum of p·q >= 0
  return b;
}

namespace {

bool finite_all(const std::vector<double>& v) {
  for (double x : v) {
    if (!std::isfinite(x)) return false;
  }
  return true;
}

}  // namespace

// ---- Window ----

void Window::rebase() {
  CompensatedSum s;
  for (uint32_t i = 0; i < count_; ++i) s.add(buf_[i]);
  sum_ = s;
}

void Window::save(StateWriter& w) const {
  w.u64(size());
  w.u64(pos_);
  w.u64(count_);
  w.u64(run_);
  w.f64(last_);
  sum_.save(w);
  for (uint32_t i = 0; i < count_; ++i) w.f64(buf_[i]);
}

bool Window::load(StateReader& r) {
  uint32_t n, pos, count, run;
  double last;
  CompensatedSum sum;
  if (!r.u32(n) || !r.u32(pos) || !r.u32(count) || !r.u32(run) || !r.f64(last) || !sum.load(r)) return false;
  if (n != size() || count > n || pos >= n || run > n || (count < n && pos != count)) return r.fail();
  std::vector<double> buf(n, 0.0);
  for (uint32_t i = 0; i < count; ++i) {
    if (!r.f64(buf[i])) return false;
  }
  if (!finite_all(buf) || !std::isfinite(last)) return r.fail();
  buf_ = std::move(buf);
  pos_ = pos;
  count_ = count;
  run_ = run;
  last_ = last;
  sum_ = sum;
  return true;
}

// ---- Ema ----

void Ema::save(StateWriter& w) const {
  w.u64(n_);
  w.u64(count_);
  w.f64(seed_);
  w.f64(ema_);
}

bool Ema::load(StateReader& r) {
  uint32_t n, count;
  double seed, ema;
  if (!r.u32(n) || !r.u32(count) || !r.f64(seed) || !r.f64(ema)) return false;
  if (n != n_ || count > n || !std::isfinite(seed) || !std::isfinite(ema)) return r.fail();
  count_ = count;
  seed_ = seed;
  ema_ = ema;
  return true;
}

// ---- Rsi ----

void Rsi::save(StateWriter& w) const {
  w.u64(n_);
  w.boolean(has_prev_);
  w.u64(changes_);
  w.f64(prev_);
  w.f64(gain_);
  w.f64(loss_);
}

bool Rsi::load(StateReader& r) {
  uint32_t n, changes;
  bool has_prev;
  double prev, gain, loss;
  if (!r.u32(n) || !r.boolean(has_prev) || !r.u32(changes) || !r.f64(prev) || !r.f64(gain) || !r.f64(loss)) {
    return false;
  }
  if (n != n_ || changes > n || (!has_prev && changes > 0) || !std::isfinite(prev) || !std::isfinite(gain) ||
      !std::isfinite(loss)) {
    return r.fail();
  }
  has_prev_ = has_prev;
  changes_ = changes;
  prev_ = prev;
  gain_ = gain;
  loss_ = loss;
  return true;
}

// ---- Macd ----

Macd::Macd(uint32_t fast, uint32_t slow, uint32_t signal)
    : fast_(fast),
      slow_(slow),
      signal_(signal),
      kf_(2.0 / (fast + 1.0)),
      ks_(2.0 / (slow + 1.0)),
      kg_(2.0 / (signal + 1.0)) {}

void Macd::update(double x) {
  if (count_ < slow_) {
    slow_seed_ += x;
    if (count_ >= slow_ - fast_) fast_seed_ += x;
    if (++count_ < slow_) return;
    slow_ema_ = slow_seed_ / slow_;
    fast_ema_ = fast_seed_ / fast_;
  } else {
    slow_ema_ = (x - slow_ema_) * ks_ + slow_ema_;
    fast_ema_ = (x - fast_ema_) * kf_ + fast_ema_;
  }
  macd_ = fast_ema_ - slow_ema_;
  if (sig_count_ < signal_) {
    sig_seed_ += macd_;
    if (++sig_count_ == signal_) sig_ = sig_seed_ / signal_;
  } else {
    sig_ = (macd_ - sig_) * kg_ + sig_;
  }
}

void Macd::save(StateWriter& w) const {
  w.u64(fast_);
  w.u64(slow_);
  w.u64(signal_);
  w.u64(count_);
  w.u64(sig_count_);
  for (double d : {fast_seed_, slow_seed_, fast_ema_, slow_ema_, sig_seed_, sig_, macd_}) w.f64(d);
}

bool Macd::load(StateReader& r) {
  uint32_t fast, slow, signal, sig_count;
  uint64_t count;
  double d[7];
  if (!r.u32(fast) || !r.u32(slow) || !r.u32(signal) || !r.u64(count) || !r.u32(sig_count)) return false;
  for (double& x : d) {
    if (!r.f64(x)) return false;
    if (!std::isfinite(x)) return r.fail();
  }
  if (fast != fast_ || slow != slow_ || signal != signal_ || count > slow || sig_count > signal ||
      (count < slow && sig_count > 0)) {
    return r.fail();
  }
  count_ = count;
  sig_count_ = sig_count;
  fast_seed_ = d[0];
  slow_seed_ = d[1];
  fast_ema_ = d[2];
  slow_ema_ = d[3];
  sig_seed_ = d[4];
  sig_ = d[5];
  macd_ = d[6];
  return true;
}

// ---- Bollinger ----

void Bollinger::recompute_m2() {
  // Corrected two-pass: M2 = Σd² − (Σd)²/n with d = x − mean; the second term removes most of
  // the rounding error of the mean.
  const auto& buf = w_.buffer();
  const double n = w_.size();
  const double mean = w_.sum() / n;
  double s = 0, s2 = 0;
  for (double x : buf) {
    double d = x - mean;
    s += d;
    s2 += d * d;
  }
  m2_ = s2 - s * s / n;
  if (m2_ < 0) m2_ = 0;
}

double Bollinger::stdev() const {
  if (w_.flat()) return 0;
  double var = m2_ / w_.size();
  return var > 0 ? std::sqrt(var) : 0.0;
}

std::optional<Bollinger::Value> Bollinger::value() const {
  if (!ready()) return std::nullopt;
  if (w_.flat()) {
    double x = w_.last();
    return Value{x, x, x};
  }
  double mean = w_.sum() / w_.size();
  double band = k_ * stdev();
  return Value{mean + band, mean, mean - band};
}

void Bollinger::save(StateWriter& w) const {
  w_.save(w);
  w.f64(k_);
  w.f64(m2_);
}

bool Bollinger::load(StateReader& r) {
  Window win(w_.size());
  double k, m2;
  if (!win.load(r) || !r.f64(k) || !r.f64(m2)) return false;
  if (k != k_ || !std::isfinite(m2)) return r.fail();
  w_ = std::move(win);
  m2_ = m2;
  return true;
}

// ---- Atr ----

void Atr::save(StateWriter& w) const {
  w.u64(n_);
  w.boolean(has_prev_);
  w.u64(count_);
  w.f64(prev_close_);
  w.f64(atr_);
}

bool Atr::load(StateReader& r) {
  uint32_t n, count;
  bool has_prev;
  double prev_close, atr;
  if (!r.u32(n) || !r.boolean(has_prev) || !r.u32(count) || !r.f64(prev_close) || !r.f64(atr)) return false;
  if (n != n_ || count > n || (!has_prev && count > 0) || !std::isfinite(prev_close) || !std::isfinite(atr)) {
    return r.fail();
  }
  has_prev_ = has_prev;
  count_ = count;
  prev_close_ = prev_close;
  atr_ = atr;
  return true;
}

// ---- SessionVwap ----

void SessionVwap::update(const Bar& b) {
  int64_t day = b.open_time / kNsPerDay;
  if (b.open_time % kNsPerDay < 0) --day;  // floor for times before 1970
  if (!started_ || day != day_) {
    started_ = true;
    day_ = day;
    nonzero_ = 0;
    pv_.reset();
    v_.reset();
  }
  if (b.volume > 0) ++nonzero_;
  pv_.add(vwap_numerator(b));
  v_.add(b.volume);
}

void SessionVwap::save(StateWriter& w) const {
  w.boolean(started_);
  w.i64(day_);
  w.u64(nonzero_);
  pv_.save(w);
  v_.save(w);
}

bool SessionVwap::load(StateReader& r) {
  bool started;
  int64_t day;
  uint64_t nonzero;
  CompensatedSum pv, v;
  if (!r.boolean(started) || !r.i64(day) || !r.u64(nonzero) || !pv.load(r) || !v.load(r)) return false;
  if (!std::isfinite(pv.sum()) || !std::isfinite(v.sum()) || (nonzero > 0 && !(v.sum() > 0))) return r.fail();
  started_ = started;
  day_ = day;
  nonzero_ = nonzero;
  pv_ = pv;
  v_ = v;
  return true;
}

// ---- RollingVwap ----

void RollingVwap::save(StateWriter& w) const {
  pv_.save(w);
  v_.save(w);
  w.u64(nonzero_);
}

bool RollingVwap::load(StateReader& r) {
  Window pv(pv_.size()), v(v_.size());
  uint32_t nonzero;
  if (!pv.load(r) || !v.load(r) || !r.u32(nonzero)) return false;
  uint32_t counted = 0;
  for (double x : v.buffer()) counted += x > 0 ? 1 : 0;
  if (nonzero != counted) return r.fail();
  pv_ = std::move(pv);
  v_ = std::move(v);
  nonzero_ = nonzero;
  return true;
}

}  // namespace tickflow::processing::indicators
