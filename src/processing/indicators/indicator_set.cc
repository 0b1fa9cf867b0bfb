#include "processing/indicators/indicator_set.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <map>

namespace tickflow::processing::indicators {
namespace {

constexpr uint32_t kMaxPeriod = 1'000'000;
constexpr std::string_view kMagic = "tfind";
constexpr uint64_t kVersion = 1;
// Inputs are bounded so that no internal sum, square or product can overflow.
constexpr double kMaxMagnitude = 1e100;

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::string format_double(double d) {
  char buf[32];
  auto res = std::to_chars(buf, buf + sizeof(buf), d);
  return std::string(buf, res.ptr);
}

Status entry_error(std::string_view entry, std::string_view reason) {
  std::string m = "indicator spec entry '";
  m.append(entry);
  m.append("': ");
  m.append(reason);
  return Status::invalid_argument(std::move(m));
}

bool parse_period(std::string_view s, uint32_t& out) {
  uint64_t v = 0;
  auto res = std::from_chars(s.data(), s.data() + s.size(), v);
  if (res.ec != std::errc() || res.ptr != s.data() + s.size() || v < 1 || v > kMaxPeriod) return false;
  out = static_cast<uint32_t>(v);
  return true;
}

Result<IndicatorSpec> parse_entry(std::string_view entry) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  while (true) {
    size_t colon = entry.find(':', start);
    parts.push_back(trim(entry.substr(start, colon == std::string_view::npos ? std::string_view::npos : colon - start)));
    if (colon == std::string_view::npos) break;
    start = colon + 1;
  }
  const std::string_view name = parts[0];
  const size_t nparams = parts.size() - 1;
  IndicatorSpec spec;
  auto period = [&](size_t i, uint32_t& out) -> Status {
    if (!parse_period(parts[i], out)) {
      return entry_error(entry, "period '" + std::string(parts[i]) + "' is not an integer in 1.." +
                                    std::to_string(kMaxPeriod));
    }
    return Status::ok();
  };
  using Kind = IndicatorSpec::Kind;
  if (name == "sma" || name == "ema" || name == "rsi" || name == "atr") {
    if (nparams != 1) return entry_error(entry, std::string(name) + " takes one period, e.g. " + std::string(name) + ":14");
    TICKFLOW_RETURN_IF_ERROR(period(1, spec.n));
    spec.kind = name == "sma" ? Kind::kSma : name == "ema" ? Kind::kEma : name == "rsi" ? Kind::kRsi : Kind::kAtr;
    spec.canonical = std::string(name) + ":" + std::to_string(spec.n);
    spec.output_names = {std::string(name) + std::to_string(spec.n)};
  } else if (name == "macd") {
    spec.kind = Kind::kMacd;
    if (nparams == 0) {
      spec.n = 12;
      spec.slow = 26;
      spec.signal = 9;
    } else if (nparams == 3) {
      TICKFLOW_RETURN_IF_ERROR(period(1, spec.n));
      TICKFLOW_RETURN_IF_ERROR(period(2, spec.slow));
      TICKFLOW_RETURN_IF_ERROR(period(3, spec.signal));
      if (spec.n >= spec.slow) return entry_error(entry, "macd fast period must be less than the slow period");
    } else {
      return entry_error(entry, "macd takes fast:slow:signal, e.g. macd:12:26:9");
    }
    spec.canonical = "macd:" + std::to_string(spec.n) + ":" + std::to_string(spec.slow) + ":" + std::to_string(spec.signal);
  } else if (name == "bb") {
    spec.kind = Kind::kBollinger;
    spec.n = 20;
    spec.k = 2;
    if (nparams > 2) return entry_error(entry, "bb takes period:multiplier, e.g. bb:20:2");
    if (nparams >= 1) TICKFLOW_RETURN_IF_ERROR(period(1, spec.n));
    if (nparams == 2) {
      std::string_view t = parts[2];
      double k = 0;
      auto res = std::from_chars(t.data(), t.data() + t.size(), k);
      if (res.ec != std::errc() || res.ptr != t.data() + t.size() || !std::isfinite(k) || k <= 0 || k > 1000) {
        return entry_error(entry, "bb multiplier '" + std::string(t) + "' is not a number in (0, 1000]");
      }
      spec.k = k;
    }
    spec.canonical = "bb:" + std::to_string(spec.n) + ":" + format_double(spec.k);
  } else if (name == "vwap") {
    if (nparams == 0) {
      spec.kind = Kind::kVwapSession;
      spec.canonical = "vwap";
      spec.output_names = {"vwap"};
    } else if (nparams == 1) {
      spec.kind = Kind::kVwapRolling;
      TICKFLOW_RETURN_IF_ERROR(period(1, spec.n));
      spec.canonical = "vwap:" + std::to_string(spec.n);
      spec.output_names = {"vwap" + std::to_string(spec.n)};
    } else {
      return entry_error(entry, "vwap takes no parameter (session) or one period (rolling), e.g. vwap:20");
    }
  } else if (name.empty()) {
    return entry_error(entry, "missing indicator name");
  } else {
    return entry_error(entry, "unknown indicator '" + std::string(name) +
                                  "' (known: sma, ema, rsi, macd, bb, atr, vwap)");
  }
  return spec;
}

}  // namespace

Result<std::vector<IndicatorSpec>> parse_indicator_spec(std::string_view text) {
  if (trim(text).empty()) return Status::invalid_argument("indicator spec is empty");
  std::vector<IndicatorSpec> out;
  std::map<std::string, std::string> seen;  // canonical → entry as written
  size_t start = 0;
  size_t index = 0;
  while (true) {
    size_t comma = text.find(',', start);
    std::string_view entry =
        trim(text.substr(start, comma == std::string_view::npos ? std::string_view::npos : comma - start));
    ++index;
    if (entry.empty()) {
      return Status::invalid_argument("indicator spec entry #" + std::to_string(index) + " is empty");
    }
    auto parsed = parse_entry(entry);
    if (!parsed) return parsed.status();
    auto [it, inserted] = seen.emplace(parsed->canonical, std::string(entry));
    if (!inserted) {
      return entry_error(entry, "duplicates entry '" + it->second + "'");
    }
    out.push_back(std::move(parsed.value()));
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  // Output names of macd/bb: plain when the kind appears once, parameter-suffixed otherwise.
  using Kind = IndicatorSpec::Kind;
  int n_macd = 0, n_bb = 0;
  for (const auto& s : out) {
    n_macd += s.kind == Kind::kMacd;
    n_bb += s.kind == Kind::kBollinger;
  }
  for (auto& s : out) {
    if (s.kind == Kind::kMacd) {
      std::string suffix = n_macd == 1 ? "" : "_" + std::to_string(s.n) + "_" + std::to_string(s.slow) + "_" +
                                                  std::to_string(s.signal);
      s.output_names = {"macd" + suffix, "macd_signal" + suffix, "macd_hist" + suffix};
    } else if (s.kind == Kind::kBollinger) {
      std::string suffix = n_bb == 1 ? "" : "_" + std::to_string(s.n) + "_" + format_double(s.k);
      s.output_names = {"bb_upper" + suffix, "bb_middle" + suffix, "bb_lower" + suffix};
    }
  }
  return out;
}

Result<IndicatorSet> IndicatorSet::create(std::string_view spec) {
  auto parsed = parse_indicator_spec(spec);
  if (!parsed) return parsed.status();
  IndicatorSet set;
  set.entries_ = std::move(parsed.value());
  using Kind = IndicatorSpec::Kind;
  for (const auto& e : set.entries_) {
    if (!set.spec_.empty()) set.spec_.push_back(',');
    set.spec_ += e.canonical;
    for (const auto& n : e.output_names) set.names_.push_back(n);
    switch (e.kind) {
      case Kind::kSma: set.engines_.emplace_back(Sma(e.n)); break;
      case Kind::kEma: set.engines_.emplace_back(Ema(e.n)); break;
      case Kind::kRsi: set.engines_.emplace_back(Rsi(e.n)); break;
      case Kind::kMacd: set.engines_.emplace_back(Macd(e.n, e.slow, e.signal)); break;
      case Kind::kBollinger: set.engines_.emplace_back(Bollinger(e.n, e.k)); break;
      case Kind::kAtr:
        set.engines_.emplace_back(Atr(e.n));
        set.needs_high_low_ = true;
        break;
      case Kind::kVwapSession:
        set.engines_.emplace_back(SessionVwap());
        set.needs_volume_ = true;
        break;
      case Kind::kVwapRolling:
        set.engines_.emplace_back(RollingVwap(e.n));
        set.needs_volume_ = true;
        break;
    }
    set.warmup_ = std::max<uint64_t>(set.warmup_, std::visit([](const auto& x) -> uint64_t { return x.warmup(); },
                                                             set.engines_.back()));
  }
  set.values_.assign(set.names_.size(), std::nullopt);
  return set;
}

namespace {

template <typename T>
constexpr bool kNeedsBar = std::is_same_v<T, Atr> || std::is_same_v<T, SessionVwap> || std::is_same_v<T, RollingVwap>;

std::optional<double> finite_or_empty(double v) {
  return std::isfinite(v) ? std::optional<double>(v) : std::nullopt;
}

}  // namespace

Status IndicatorSet::update(const Bar& b) {
  if (!std::isfinite(b.close) || !std::isfinite(b.high) || !std::isfinite(b.low) || !std::isfinite(b.open) ||
      !std::isfinite(b.volume) || !std::isfinite(b.quote_volume)) {
    return Status::invalid_argument("bar has a non-finite price or volume");
  }
  if (b.volume < 0) return Status::invalid_argument("bar has a negative volume");
  for (double v : {b.close, b.high, b.low, b.open, b.volume, b.quote_volume}) {
    if (std::fabs(v) > kMaxMagnitude) return Status::invalid_argument("bar has a price or volume beyond 1e100");
  }
  for (auto& engine : engines_) {
    std::visit(
        [&b](auto& x) {
          using T = std::decay_t<decltype(x)>;
          if constexpr (std::is_same_v<T, Atr>) {
            x.update(b.high, b.low, b.close);
          } else if constexpr (kNeedsBar<T>) {
            x.update(b);
          } else {
            x.update(b.close);
          }
        },
        engine);
  }
  ++bars_;
  publish();
  return Status::ok();
}

void IndicatorSet::publish() {
  size_t i = 0;
  for (const auto& engine : engines_) {
    std::visit(
        [&](const auto& x) {
          using T = std::decay_t<decltype(x)>;
          auto v = x.value();
          if constexpr (std::is_same_v<T, Macd>) {
            values_[i++] = v ? finite_or_empty(v->macd) : std::nullopt;
            values_[i++] = v ? finite_or_empty(v->signal) : std::nullopt;
            values_[i++] = v ? finite_or_empty(v->hist) : std::nullopt;
          } else if constexpr (std::is_same_v<T, Bollinger>) {
            values_[i++] = v ? finite_or_empty(v->upper) : std::nullopt;
            values_[i++] = v ? finite_or_empty(v->middle) : std::nullopt;
            values_[i++] = v ? finite_or_empty(v->lower) : std::nullopt;
          } else {
            values_[i++] = v ? finite_or_empty(*v) : std::nullopt;
          }
        },
        engine);
  }
}

std::optional<double> IndicatorSet::value(std::string_view name) const {
  for (size_t i = 0; i < names_.size(); ++i) {
    if (names_[i] == name) return values_[i];
  }
  return std::nullopt;
}

std::string IndicatorSet::serialize() const {
  std::string out;
  StateWriter w(out);
  w.str(kMagic);
  w.u64(kVersion);
  w.str(spec_);
  w.u64(bars_);
  for (const auto& engine : engines_) {
    std::visit([&w](const auto& x) { x.save(w); }, engine);
  }
  return out;
}

Status IndicatorSet::restore(std::string_view blob) {
  StateReader r(blob);
  std::string magic, spec;
  uint64_t version = 0, bars = 0;
  if (!r.str(magic) || magic != kMagic || !r.u64(version)) {
    return Status::corruption("indicator state: not an indicator state blob");
  }
  if (version != kVersion) {
    return Status::corruption("indicator state: unsupported version " + std::to_string(version));
  }
  if (!r.str(spec) || !r.u64(bars)) return Status::corruption("indicator state: truncated header");
  if (spec != spec_) {
    return Status::invalid_argument("indicator state was saved for spec '" + spec + "', not '" + spec_ + "'");
  }
  std::vector<Engine> engines = engines_;
  for (auto& engine : engines) {
    bool ok = std::visit([&r](auto& x) { return x.load(r); }, engine);
    if (!ok) return Status::corruption("indicator state: malformed indicator state");
  }
  if (!r.at_end()) return Status::corruption("indicator state: trailing bytes");
  engines_ = std::move(engines);
  bars_ = bars;
  publish();
  return Status::ok();
}

}  // namespace tickflow::processing::indicators
