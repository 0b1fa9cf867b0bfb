#include "processing/indicators/series_state.h"

#include <algorithm>
#include <cmath>

#include "processing/indicators/state_codec.h"

namespace tickflow::processing::indicators {
namespace {

constexpr std::string_view kMagic = "tfis";
constexpr uint64_t kVersion = 1;
constexpr uint64_t kMaxCapacity = 1 << 16;

}  // namespace

std::string_view apply_outcome_name(ApplyOutcome o) {
  switch (o) {
    case ApplyOutcome::kApplied: return "applied";
    case ApplyOutcome::kGapApplied: return "gap";
    case ApplyOutcome::kCorrected: return "corrected";
    case ApplyOutcome::kDuplicate: return "duplicate";
    case ApplyOutcome::kTooOld: return "too_old";
    case ApplyOutcome::kRejected: return "rejected";
  }
  return "unknown";
}

uint32_t checkpoint_capacity(DurationNs correction_horizon, const Timeframe& tf, uint32_t cap) {
  if (cap == 0) cap = 1;
  if (!tf.valid() || correction_horizon <= 0) return 1;
  const DurationNs d = tf.duration_ns();
  const DurationNs bars = correction_horizon / d + (correction_horizon % d != 0 ? 1 : 0) + 1;
  return static_cast<uint32_t>(std::clamp<DurationNs>(bars, 1, cap));
}

Result<SeriesIndicators> SeriesIndicators::create(Exchange exchange, std::string symbol, Timeframe timeframe,
                                                  std::string_view spec, uint32_t capacity) {
  auto set = IndicatorSet::create(spec);
  if (!set) return set.status();
  SeriesIndicators s(std::move(set).value());
  s.exchange_ = exchange;
  s.symbol_ = std::move(symbol);
  s.timeframe_ = timeframe;
  s.capacity_ = std::max<uint32_t>(1, capacity);
  return s;
}

IndicatorRecord SeriesIndicators::record_of(const Slot& s) const {
  IndicatorRecord r;
  r.exchange = exchange_;
  r.symbol = symbol_;
  r.timeframe = timeframe_;
  r.open_time = s.open_time;
  r.close_time = s.close_time;
  r.candle_revision = s.published_revision;
  const auto& names = current_.names();
  const auto values = current_.values();
  r.values.reserve(names.size());
  for (size_t i = 0; i < names.size(); ++i)
    if (values[i]) r.values.emplace_back(names[i], *values[i]);
  return r;
}

bool SeriesIndicators::append(const Candle& c, bool publish, std::vector<IndicatorRecord>& out) {
  Slot slot;
  slot.open_time = c.open_time;
  slot.close_time = c.close_time;
  slot.candle_revision = c.revision;
  slot.published_revision = c.revision;
  slot.bar = bar_from_candle(c);
  if (!current_.update(slot.bar).is_ok()) return false;
  if (bars_.size() >= capacity_) {
    // The oldest checkpoint leaves the window: fold it into base_. The bar was accepted once by
    // current_, so base_ accepts it too (same checks, same state sequence).
    (void)base_.update(bars_.front().bar);
    bars_.pop_front();
  }
  bars_.push_back(slot);
  if (publish) out.push_back(record_of(bars_.back()));
  return true;
}

ApplyOutcome SeriesIndicators::apply(const Candle& c, std::vector<IndicatorRecord>& out) {
  if (bars_.empty() || c.open_time > bars_.back().open_time) {
    const bool gap = !bars_.empty() && c.open_time > bars_.back().open_time + timeframe_.duration_ns();
    if (!append(c, true, out)) return ApplyOutcome::kRejected;
    return gap ? ApplyOutcome::kGapApplied : ApplyOutcome::kApplied;
  }
  auto it = std::lower_bound(bars_.begin(), bars_.end(), c.open_time,
                             [](const Slot& s, TimestampNs t) { return s.open_time < t; });
  if (it == bars_.end() || it->open_time != c.open_time) return ApplyOutcome::kTooOld;
  if (c.revision <= it->candle_revision) return ApplyOutcome::kDuplicate;

  // Correction: rebuild current_ from base_ with the new bar, republishing from it on.
  const Bar bar = bar_from_candle(c);
  IndicatorSet replay = base_;
  const size_t first = static_cast<size_t>(it - bars_.begin());
  for (size_t i = 0; i < bars_.size(); ++i) {
    const Bar& b = i == first ? bar : bars_[i].bar;
    if (!replay.update(b).is_ok()) return ApplyOutcome::kRejected;  // nothing changed yet
  }
  // Accepted: apply for real, publishing each affected bar's record as the replay passes it.
  current_ = base_;
  it->bar = bar;
  it->candle_revision = c.revision;
  it->close_time = c.close_time;
  for (size_t i = 0; i < bars_.size(); ++i) {
    (void)current_.update(bars_[i].bar);
    if (i < first) continue;
    Slot& s = bars_[i];
    s.published_revision = std::max(s.candle_revision, s.published_revision + 1);
    out.push_back(record_of(s));
  }
  return ApplyOutcome::kCorrected;
}

void SeriesIndicators::warm(const Candle& c) {
  if (!bars_.empty() && c.open_time <= bars_.back().open_time) return;
  std::vector<IndicatorRecord> none;
  (void)append(c, false, none);
}

std::string SeriesIndicators::serialize() const {
  std::string out;
  StateWriter w(out);
  w.str(kMagic);
  w.u64(kVersion);
  w.u8(static_cast<uint8_t>(exchange_));
  w.str(symbol_);
  w.str(timeframe_.label());
  w.u64(capacity_);
  w.str(base_.serialize());
  w.u64(bars_.size());
  for (const Slot& s : bars_) {
    w.i64(s.open_time);
    w.i64(s.close_time);
    w.u64(s.candle_revision);
    w.u64(s.published_revision);
    w.i64(s.bar.open_time);
    w.f64(s.bar.open);
    w.f64(s.bar.high);
    w.f64(s.bar.low);
    w.f64(s.bar.close);
    w.f64(s.bar.volume);
    w.f64(s.bar.quote_volume);
  }
  return out;
}

Result<SeriesIndicators> SeriesIndicators::restore(std::string_view blob, std::string_view spec) {
  StateReader r(blob);
  std::string magic, symbol, tf_label, base_blob;
  uint64_t version = 0, capacity = 0, count = 0;
  uint8_t exchange = 0;
  if (!r.str(magic) || magic != kMagic || !r.u64(version))
    return Status::corruption("indicator series state: bad header");
  if (version != kVersion)
    return Status::corruption("indicator series state: unknown version " + std::to_string(version));
  if (!r.u8(exchange) || exchange >= kExchangeCount || !r.str(symbol) || !r.str(tf_label) || !r.u64(capacity) ||
      capacity == 0 || capacity > kMaxCapacity || !r.str(base_blob) || !r.u64(count) || count > capacity)
    return Status::corruption("indicator series state: malformed");
  auto tf = Timeframe::parse(tf_label);
  if (!tf) return Status::corruption("indicator series state: bad timeframe '" + tf_label + "'");
  auto made = create(static_cast<Exchange>(exchange), symbol, *tf, spec, static_cast<uint32_t>(capacity));
  if (!made) return made.status();
  SeriesIndicators s = std::move(made).value();
  TICKFLOW_RETURN_IF_ERROR(s.base_.restore(base_blob));  // kInvalidArgument when the spec changed
  s.current_ = s.base_;
  for (uint64_t i = 0; i < count; ++i) {
    Slot slot;
    uint64_t rev = 0, pub = 0;
    if (!r.i64(slot.open_time) || !r.i64(slot.close_time) || !r.u64(rev) || !r.u64(pub) || rev > UINT32_MAX ||
        pub > UINT32_MAX || !r.i64(slot.bar.open_time) || !r.f64(slot.bar.open) || !r.f64(slot.bar.high) ||
        !r.f64(slot.bar.low) || !r.f64(slot.bar.close) || !r.f64(slot.bar.volume) || !r.f64(slot.bar.quote_volume))
      return Status::corruption("indicator series state: truncated bar " + std::to_string(i));
    if (!s.bars_.empty() && slot.open_time <= s.bars_.back().open_time)
      return Status::corruption("indicator series state: bars out of order");
    slot.candle_revision = static_cast<uint32_t>(rev);
    slot.published_revision = static_cast<uint32_t>(pub);
    if (!s.current_.update(slot.bar).is_ok())
      return Status::corruption("indicator series state: invalid bar " + std::to_string(i));
    s.bars_.push_back(slot);
  }
  if (!r.at_end()) return Status::corruption("indicator series state: trailing bytes");
  return s;
}

}  // namespace tickflow::processing::indicators
