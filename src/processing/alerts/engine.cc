#include "processing/alerts/engine.h"

#include <cmath>
#include <cstdio>
#include <deque>
#include <limits>
#include <unordered_map>

#include "core/byte_codec.h"
#include "core/symbol.h"

namespace tickflow::processing::alerts {
namespace {

constexpr TimestampNs kNever = std::numeric_limits<TimestampNs>::min();
constexpr std::string_view kBlobMagic = "tfalert";
constexpr uint64_t kBlobVersion = 1;

enum Phase : uint8_t { kUnknown = 0, kArmed = 1, kActive = 2, kLatched = 3 };

struct Bar {
  TimestampNs open_time = 0;
  double close = 0;
  double volume = 0;
};

struct SeriesState {
  uint8_t phase = kArmed;
  TimestampNs last_closed = kNever;     // open time of the last closed bar evaluated
  TimestampNs last_fire_bar = kNever;   // bar (or episode start) of the latest firing
  TimestampNs last_fire_time = kNever;  // event time of the latest firing (cooldown)
  double fire_value = 0;                // value at the latest firing
  std::deque<Bar> history;              // closed bars, oldest first (volume_spike, pct_move)
  bool dirty = false;                   // changed since the last take_dirty (not persisted)
};

// What one evaluation observed: y > m fires, y <= m − h clears (every kind is mapped onto this).
struct Observation {
  double value;  // reported value (x)
  double y;
  double m;
};

bool cross_kind(RuleKind k) { return k == RuleKind::kCrossAbove || k == RuleKind::kCrossBelow; }

std::string fmt(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.10g", v);
  return buf;
}

std::optional<double> candle_field(const Candle& c, std::string_view f) {
  if (f == "close") return c.close.to_double();
  if (f == "open") return c.open.to_double();
  if (f == "high") return c.high.to_double();
  if (f == "low") return c.low.to_double();
  if (f == "volume") return c.volume.to_double();
  return std::nullopt;
}

std::optional<double> indicator_value(const IndicatorRecord& r, std::string_view name) {
  for (const auto& [n, v] : r.values)
    if (n == name) return v;
  return std::nullopt;
}

// Maps x onto (y, m) for the rule's direction.
Observation observe(const AlertRule& r, double x) {
  switch (r.kind) {
    case RuleKind::kCrossBelow:
    case RuleKind::kRsiOversold:
    case RuleKind::kQualityBelow:
      return {x, -x, -r.threshold};
    case RuleKind::kPctMove:
      if (r.direction == "up") return {x, x, r.threshold};
      if (r.direction == "down") return {x, -x, r.threshold};
      return {x, std::fabs(x), r.threshold};
    default:
      return {x, x, r.threshold};
  }
}

std::string describe(const AlertRule& r, double value) {
  switch (r.kind) {
    case RuleKind::kCrossAbove:
    case RuleKind::kCrossBelow: {
      std::string what = r.other.empty() ? r.series : r.series + " - " + r.other;
      return what + " crossed " + (r.kind == RuleKind::kCrossAbove ? "above " : "below ") + fmt(r.threshold) +
             " (" + fmt(value) + ")";
    }
    case RuleKind::kRsiOverbought: return r.series + " overbought: " + fmt(value) + " > " + fmt(r.threshold);
    case RuleKind::kRsiOversold: return r.series + " oversold: " + fmt(value) + " < " + fmt(r.threshold);
    case RuleKind::kVolumeSpike:
      return "volume spike: " + fmt(value) + "x the mean of the last " + std::to_string(r.lookback) + " bars (> " +
             fmt(r.factor) + "x)";
    case RuleKind::kPctMove:
      return "moved " + fmt(value) + "% in " + std::to_string(r.window_bars) + " bars (threshold " +
             fmt(r.threshold) + "%)";
    case RuleKind::kStaleFeed: return "no data for " + fmt(value) + " s";
    case RuleKind::kQualityBelow: return "quality score " + fmt(value) + " < " + fmt(r.threshold);
  }
  return {};
}

void write_state(std::string& out, const AlertRule& r, const SeriesState& s) {
  bytes::Writer w(out);
  w.str(kBlobMagic);
  w.u64(kBlobVersion);
  w.u8(static_cast<uint8_t>(r.kind));
  w.u8(s.phase);
  w.i64(s.last_closed);
  w.i64(s.last_fire_bar);
  w.i64(s.last_fire_time);
  w.f64(s.fire_value);
  w.u64(s.history.size());
  for (const Bar& b : s.history) {
    w.i64(b.open_time);
    w.f64(b.close);
    w.f64(b.volume);
  }
}

}  // namespace

struct AlertEngine::Impl {
  std::vector<AlertRule> rules;
  // Series keys ("binance:BTC-USDT:1m", "feed:binance") are interned once: the per-rule state
  // maps are keyed by the small id.
  std::unordered_map<std::string, uint32_t> series_ids;
  std::vector<std::string> series_names;
  std::vector<std::unordered_map<uint32_t, SeriesState>> states;  // per rule, by series id
  std::vector<std::pair<size_t, uint32_t>> dirty;                 // (rule, series) changed
  std::vector<size_t> candle_rules, indicator_rules, quality_rules;

  explicit Impl(std::vector<AlertRule> rs) : rules(std::move(rs)), states(rules.size()) {
    for (size_t i = 0; i < rules.size(); ++i) {
      const AlertRule& r = rules[i];
      if (r.kind == RuleKind::kStaleFeed || r.kind == RuleKind::kQualityBelow) quality_rules.push_back(i);
      else if (r.source == Source::kIndicator) indicator_rules.push_back(i);
      else candle_rules.push_back(i);
    }
  }

  static bool symbol_matches(const AlertRule& r, std::string_view symbol) {
    if (r.symbols.empty()) return true;
    for (const auto& s : r.symbols)
      if (s == symbol) return true;
    return false;
  }

  uint32_t series_id(const std::string& key) {
    auto [it, inserted] = series_ids.try_emplace(key, static_cast<uint32_t>(series_names.size()));
    if (inserted) series_names.push_back(key);
    return it->second;
  }

  void mark(size_t i, uint32_t sid, SeriesState& s) {
    if (s.dirty) return;
    s.dirty = true;
    dirty.emplace_back(i, sid);
  }

  SeriesState& state(size_t i, uint32_t sid) {
    auto [it, inserted] = states[i].try_emplace(sid);
    if (inserted && cross_kind(rules[i].kind)) it->second.phase = kUnknown;
    return it->second;
  }

  // The state machine. `bar`: the triggering bar (or episode start); `t`: event time (cooldown).
  // `base()` builds the alert's common fields; called only on a transition (the hot path of a
  // quiet rule allocates nothing).
  template <typename Base>
  void evaluate(size_t i, uint32_t sid, SeriesState& s, const Observation& o, TimestampNs bar,
                TimestampNs t, const Base& base, std::vector<Alert>& out) {
    const AlertRule& r = rules[i];
    const bool cond = o.y > o.m;
    const bool clear = o.y <= o.m - r.hysteresis;
    const uint8_t before = s.phase;
    switch (s.phase) {
      case kUnknown:
        s.phase = cond ? kLatched : kArmed;
        break;
      case kArmed:
        if (!cond || bar == s.last_fire_bar) break;
        if (s.last_fire_time != kNever && t - s.last_fire_time < r.cooldown) break;
        s.phase = kActive;
        s.last_fire_bar = bar;
        s.last_fire_time = t;
        s.fire_value = o.value;
        out.push_back(make(base(), "firing", bar, o.value, describe(r, o.value)));
        break;
      case kActive:
        if (!clear) break;
        s.phase = kArmed;
        out.push_back(make(base(), "resolved", s.last_fire_bar, o.value,
                           "resolved: " + describe(r, o.value)));
        break;
      case kLatched:
        if (clear) s.phase = kArmed;
        break;
    }
    if (s.phase != before) mark(i, sid, s);
  }

  static Alert make(Alert a, const char* state, TimestampNs id_time, double value, std::string message) {
    a.state = state;
    a.value = value;
    a.message = std::move(message);
    a.alert_id += ":" + std::to_string(id_time / kNsPerMs) + ":" + state;
    return a;
  }

  Alert base_alert(const AlertRule& r, std::string_view exchange, std::string_view symbol, std::string_view tf,
                   TimestampNs ts) const {
    Alert a;
    a.rule = r.name;
    a.kind = std::string(rule_kind_name(r.kind));
    a.severity = r.severity;
    a.exchange = std::string(exchange);
    a.symbol = std::string(symbol);
    a.timeframe = std::string(tf);
    a.ts_event = ts;
    a.threshold = r.kind == RuleKind::kVolumeSpike ? r.factor : r.threshold;
    a.labels = r.labels;
    a.alert_id = r.name + ":" + a.exchange;
    if (!symbol.empty()) a.alert_id += ":" + a.symbol;
    if (!tf.empty()) a.alert_id += ":" + a.timeframe;
    return a;
  }

  // x for a candle rule on candle c (nullopt: not computable yet, e.g. warming up).
  std::optional<double> candle_x(const AlertRule& r, const SeriesState& s, const Candle& c) const {
    switch (r.kind) {
      case RuleKind::kVolumeSpike: {
        if (s.history.size() < static_cast<size_t>(r.lookback)) return std::nullopt;
        double sum = 0;
        for (size_t k = s.history.size() - static_cast<size_t>(r.lookback); k < s.history.size(); ++k)
          sum += s.history[k].volume;
        double mean = sum / r.lookback;
        double v = c.volume.to_double();
        if (mean <= 0) return std::nullopt;  // no baseline
        return v / mean;
      }
      case RuleKind::kPctMove: {
        const TimestampNs ref_open = c.open_time - r.window;
        for (auto it = s.history.rbegin(); it != s.history.rend(); ++it) {
          if (it->open_time == ref_open) {
            if (it->close == 0) return std::nullopt;
            return 100.0 * (c.close.to_double() - it->close) / it->close;
          }
          if (it->open_time < ref_open) break;
        }
        return std::nullopt;
      }
      default: {
        auto a = candle_field(c, r.series);
        if (!a) return std::nullopt;
        if (r.other.empty()) return a;
        auto b = candle_field(c, r.other);
        if (!b) return std::nullopt;
        return *a - *b;
      }
    }
  }

  static size_t history_len(const AlertRule& r) {
    if (r.kind == RuleKind::kVolumeSpike) return static_cast<size_t>(r.lookback);
    if (r.kind == RuleKind::kPctMove) return static_cast<size_t>(r.window_bars);
    return 0;
  }

  void on_candle(const Candle& c, std::vector<Alert>& out) {
    if (candle_rules.empty()) return;
    const std::string_view ex = exchange_name(c.exchange);
    const bool closed = c.status != CandleStatus::kProvisional;
    uint32_t sid = UINT32_MAX;
    for (size_t i : candle_rules) {
      const AlertRule& r = rules[i];
      if (r.tf != c.timeframe || r.exchange != ex || !symbol_matches(r, c.symbol)) continue;
      if (!closed && r.confirm == Confirm::kClose) continue;
      if (sid == UINT32_MAX) sid = series_id(c.series_key());
      SeriesState& s = state(i, sid);
      if (c.open_time <= s.last_closed) {
        // Already evaluated (a correction or a stale provisional): keep the history exact, never repaint.
        if (closed) {
          for (Bar& b : s.history) {
            if (b.open_time == c.open_time) {
              b.close = c.close.to_double();
              b.volume = c.volume.to_double();
              mark(i, sid, s);
            }
          }
        }
        continue;
      }
      if (auto x = candle_x(r, s, c)) {
        auto base = [&] { return base_alert(r, ex, c.symbol, c.timeframe.label(), c.open_time); };
        evaluate(i, sid, s, observe(r, *x), c.open_time, c.open_time, base, out);
      }
      if (closed) {
        s.last_closed = c.open_time;
        if (size_t n = history_len(r)) {
          s.history.push_back({c.open_time, c.close.to_double(), c.volume.to_double()});
          while (s.history.size() > n) s.history.pop_front();
        }
        mark(i, sid, s);
      }
    }
  }

  void on_indicators(const IndicatorRecord& rec, std::vector<Alert>& out) {
    if (indicator_rules.empty()) return;
    const std::string_view ex = exchange_name(rec.exchange);
    uint32_t sid = UINT32_MAX;
    for (size_t i : indicator_rules) {
      const AlertRule& r = rules[i];
      if (r.tf != rec.timeframe || r.exchange != ex || !symbol_matches(r, rec.symbol)) continue;
      if (rec.provisional && r.confirm == Confirm::kClose) continue;
      if (sid == UINT32_MAX) sid = series_id(rec.series_key());
      SeriesState& s = state(i, sid);
      if (rec.open_time <= s.last_closed) continue;  // a revision of an evaluated bar: no repaint
      std::optional<double> x = indicator_value(rec, r.series);
      if (x && !r.other.empty()) {
        auto b = indicator_value(rec, r.other);
        x = b ? std::optional<double>(*x - *b) : std::nullopt;
      }
      if (x && std::isfinite(*x)) {
        auto base = [&] { return base_alert(r, ex, rec.symbol, rec.timeframe.label(), rec.open_time); };
        evaluate(i, sid, s, observe(r, *x), rec.open_time, rec.open_time, base, out);
      }
      if (!rec.provisional) {
        s.last_closed = rec.open_time;
        mark(i, sid, s);
      }
    }
  }

  void on_quality(std::span<const QualityReading> readings, TimestampNs now, std::vector<Alert>& out) {
    for (size_t i : quality_rules) {
      const AlertRule& r = rules[i];
      for (const QualityReading& q : readings) {
        if (q.scope != r.scope || q.exchange != r.exchange) continue;
        if (r.scope == "series" && !symbol_matches(r, q.symbol)) continue;
        std::string key = q.scope + ":" + q.exchange + (r.scope == "series" ? ":" + q.symbol : std::string());
        const uint32_t sid = series_id(key);
        SeriesState& s = state(i, sid);
        const bool firing_stale = r.kind == RuleKind::kStaleFeed && s.phase == kArmed && q.stale;
        // The stale episode starts when the data stopped: a restart that sees the same silence
        // derives the same id.
        const TimestampNs episode = q.last_data > 0 ? q.last_data : now;
        auto base = [&] {
          return base_alert(r, q.exchange, r.scope == "series" ? q.symbol : std::string(), "",
                            firing_stale ? episode : now);
        };
        if (r.kind == RuleKind::kStaleFeed) {
          double age = q.last_data > 0 ? static_cast<double>(now - q.last_data) / kNsPerSec : 0;
          Observation o{age, q.stale ? 1.0 : 0.0, 0.5};
          evaluate(i, sid, s, o, episode, now, base, out);
        } else {
          if (!std::isfinite(q.score)) continue;
          evaluate(i, sid, s, observe(r, q.score), now, now, base, out);
        }
      }
    }
  }

  Status restore(std::string_view key, std::string_view blob) {
    auto bar = key.find('|');
    if (bar == std::string_view::npos) return Status::corruption("alert state key without '|': " + std::string(key));
    std::string_view name = key.substr(0, bar);
    std::string series(key.substr(bar + 1));
    size_t idx = rules.size();
    for (size_t i = 0; i < rules.size(); ++i)
      if (rules[i].name == name) idx = i;
    bytes::Reader rd(blob);
    std::string magic;
    uint64_t version = 0, n = 0;
    uint8_t kind = 0;
    SeriesState s;
    rd.str(magic);
    rd.u64(version);
    rd.u8(kind);
    rd.u8(s.phase);
    rd.i64(s.last_closed);
    rd.i64(s.last_fire_bar);
    rd.i64(s.last_fire_time);
    rd.f64(s.fire_value);
    rd.u64(n);
    if (!rd.ok() || magic != kBlobMagic || version != kBlobVersion || s.phase > kLatched || n > 100000)
      return Status::corruption("alert state '" + std::string(key) + "' is malformed");
    for (uint64_t k = 0; k < n; ++k) {
      Bar b;
      rd.i64(b.open_time);
      rd.f64(b.close);
      rd.f64(b.volume);
      s.history.push_back(b);
    }
    if (!rd.ok() || !rd.at_end()) return Status::corruption("alert state '" + std::string(key) + "' is malformed");
    if (idx == rules.size() || static_cast<uint8_t>(rules[idx].kind) != kind) return Status::ok();  // rule gone
    size_t keep = history_len(rules[idx]);
    while (s.history.size() > keep) s.history.pop_front();
    states[idx][series_id(series)] = std::move(s);
    return Status::ok();
  }
};

AlertEngine::AlertEngine(std::vector<AlertRule> rules) : impl_(std::make_unique<Impl>(std::move(rules))) {}
AlertEngine::~AlertEngine() = default;
AlertEngine::AlertEngine(AlertEngine&&) noexcept = default;
AlertEngine& AlertEngine::operator=(AlertEngine&&) noexcept = default;

void AlertEngine::on_candle(const Candle& c, std::vector<Alert>& out) { impl_->on_candle(c, out); }
void AlertEngine::on_indicators(const IndicatorRecord& r, std::vector<Alert>& out) { impl_->on_indicators(r, out); }
void AlertEngine::on_quality(std::span<const QualityReading> readings, TimestampNs now, std::vector<Alert>& out) {
  impl_->on_quality(readings, now, out);
}
bool AlertEngine::wants_candles() const { return !impl_->candle_rules.empty(); }
bool AlertEngine::wants_provisional_candles() const {
  for (size_t i : impl_->candle_rules)
    if (impl_->rules[i].confirm == Confirm::kLive) return true;
  return false;
}
bool AlertEngine::wants_indicators() const { return !impl_->indicator_rules.empty(); }
bool AlertEngine::wants_quality() const { return !impl_->quality_rules.empty(); }

std::vector<std::pair<std::string, std::string>> AlertEngine::take_dirty() {
  std::vector<std::pair<std::string, std::string>> out;
  out.reserve(impl_->dirty.size());
  for (const auto& [i, sid] : impl_->dirty) {
    const AlertRule& r = impl_->rules[i];
    SeriesState& s = impl_->states[i].at(sid);
    s.dirty = false;
    std::string blob;
    write_state(blob, r, s);
    out.emplace_back(r.name + "|" + impl_->series_names[sid], std::move(blob));
  }
  impl_->dirty.clear();
  return out;
}

Status AlertEngine::restore(std::string_view key, std::string_view blob) { return impl_->restore(key, blob); }
const std::vector<AlertRule>& AlertEngine::rules() const { return impl_->rules; }
size_t AlertEngine::state_count() const {
  size_t n = 0;
  for (const auto& m : impl_->states) n += m.size();
  return n;
}

}  // namespace tickflow::processing::alerts
