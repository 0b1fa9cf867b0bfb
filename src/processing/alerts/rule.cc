#include "processing/alerts/rule.h"

#include <cmath>
#include <set>

#include "core/symbol.h"

namespace tickflow::processing::alerts {
namespace {

constexpr std::pair<RuleKind, std::string_view> kKinds[] = {
    {RuleKind::kCrossAbove, "cross_above"},     {RuleKind::kCrossBelow, "cross_below"},
    {RuleKind::kRsiOverbought, "rsi_overbought"}, {RuleKind::kRsiOversold, "rsi_oversold"},
    {RuleKind::kVolumeSpike, "volume_spike"},   {RuleKind::kPctMove, "pct_move"},
    {RuleKind::kStaleFeed, "stale_feed"},       {RuleKind::kQualityBelow, "quality_below"},
};

constexpr int kMaxBars = 10000;

bool valid_name(std::string_view s) {
  if (s.empty() || s.size() > 128) return false;
  for (char ch : s) {
    bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '_' ||
              ch == '-' || ch == '.';
    if (!ok) return false;
  }
  return true;
}

bool valid_label_name(std::string_view s) {
  if (s.empty() || (s[0] >= '0' && s[0] <= '9')) return false;
  for (char ch : s) {
    bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '_';
    if (!ok) return false;
  }
  return s.rfind("__", 0) != 0;
}

bool quality_kind(RuleKind k) { return k == RuleKind::kStaleFeed || k == RuleKind::kQualityBelow; }

std::optional<RuleError> validate_one(AlertRule& r, const std::string& p) {
  auto err = [&](const char* field, std::string msg) { return RuleError{p + field, std::move(msg)}; };
  if (!valid_name(r.name)) return err("name", "must be 1..128 characters of A-Z a-z 0-9 _ - . (got '" + r.name + "')");
  auto ex = parse_exchange(r.exchange);
  if (!ex) return err("exchange", "unknown exchange '" + r.exchange + "' (binance, coinbase, kraken)");
  for (auto& s : r.symbols) {
    auto n = normalize_symbol(*ex, s);
    if (!n) return err("symbols", n.status().message());
    s = *n;
  }
  if (!std::isfinite(r.hysteresis) || r.hysteresis < 0) return err("hysteresis", "must be a finite number >= 0");
  if (r.cooldown < 0) return err("cooldown", "must not be negative");
  if (r.severity != "info" && r.severity != "warning" && r.severity != "critical")
    return err("severity", "must be \"info\", \"warning\" or \"critical\" (got '" + r.severity + "')");
  for (const auto& [k, v] : r.labels) {
    if (!valid_label_name(k)) return err("labels", "'" + k + "' is not a valid label name ([A-Za-z_][A-Za-z0-9_]*)");
    if (k == "alertname" || k == "severity" || k == "rule")
      return err("labels", "'" + k + "' is set by tickflow and cannot be overridden");
  }
  if (r.level && !std::isfinite(*r.level)) return err("level", "must be a finite number");

  if (quality_kind(r.kind)) {
    if (!r.timeframe.empty()) return err("timeframe", "not used by " + std::string(rule_kind_name(r.kind)));
    if (r.scope != "feed" && r.scope != "series")
      return err("scope", "must be \"feed\" or \"series\" (got '" + r.scope + "')");
    if (r.kind == RuleKind::kQualityBelow) {
      r.threshold = r.level.value_or(0.8);
      if (!(r.threshold > 0 && r.threshold <= 1)) return err("level", "quality score threshold must be in (0, 1]");
    }
    return std::nullopt;
  }

  auto tf = Timeframe::parse(r.timeframe);
  if (r.timeframe.empty()) return err("timeframe", "required for " + std::string(rule_kind_name(r.kind)) + " (e.g. \"1m\")");
  if (!tf) return err("timeframe", tf.status().message());
  r.tf = *tf;

  switch (r.kind) {
    case RuleKind::kCrossAbove:
    case RuleKind::kCrossBelow: {
      if (r.series.empty()) r.series = "close";
      if (!valid_name(r.series)) return err("series", "not a series name: '" + r.series + "'");
      r.source = is_candle_field(r.series) ? Source::kCandle : Source::kIndicator;
      if (!r.other.empty()) {
        if (!valid_name(r.other)) return err("other", "not a series name: '" + r.other + "'");
        Source os = is_candle_field(r.other) ? Source::kCandle : Source::kIndicator;
        if (os != r.source)
          return err("other", "must come from the same source as series (both candle fields or both indicator outputs)");
        if (r.other == r.series) return err("other", "must differ from series");
        r.threshold = r.level.value_or(0);
      } else {
        if (!r.level) return err("level", "required for " + std::string(rule_kind_name(r.kind)) + " (or set other)");
        r.threshold = *r.level;
      }
      break;
    }
    case RuleKind::kRsiOverbought:
    case RuleKind::kRsiOversold: {
      if (r.series.empty()) r.series = "rsi14";
      if (!valid_name(r.series) || is_candle_field(r.series))
        return err("series", "must be an RSI indicator output such as \"rsi14\"");
      r.source = Source::kIndicator;
      r.threshold = r.level.value_or(r.kind == RuleKind::kRsiOverbought ? 70 : 30);
      if (!(r.threshold > 0 && r.threshold < 100)) return err("level", "RSI level must be in (0, 100)");
      break;
    }
    case RuleKind::kVolumeSpike: {
      r.source = Source::kCandle;
      r.series = "volume";
      if (r.factor == 0) r.factor = r.level.value_or(3);
      if (!std::isfinite(r.factor) || r.factor <= 0) return err("factor", "must be a number > 0");
      if (r.lookback < 1 || r.lookback > kMaxBars) return err("lookback", "must be 1.." + std::to_string(kMaxBars) + " bars");
      r.threshold = r.factor;
      break;
    }
    case RuleKind::kPctMove: {
      r.source = Source::kCandle;
      r.series = "close";
      if (!r.level) return err("level", "required for pct_move (percent, e.g. 0.5)");
      if (*r.level <= 0) return err("level", "must be > 0 (a percentage)");
      r.threshold = *r.level;
      if (r.window <= 0) return err("window", "required for pct_move (a multiple of the timeframe, e.g. \"5m\")");
      if (r.window % r.tf.duration_ns() != 0)
        return err("window", "must be a multiple of the timeframe " + r.timeframe);
      if (r.window / r.tf.duration_ns() > kMaxBars) return err("window", "at most " + std::to_string(kMaxBars) + " bars");
      r.window_bars = static_cast<int>(r.window / r.tf.duration_ns());
      if (r.direction != "up" && r.direction != "down" && r.direction != "both")
        return err("direction", "must be \"up\", \"down\" or \"both\"");
      break;
    }
    default:
      break;
  }
  return std::nullopt;
}

}  // namespace

std::string_view rule_kind_name(RuleKind k) {
  for (const auto& [kind, name] : kKinds)
    if (kind == k) return name;
  return "unknown";
}

std::optional<RuleKind> parse_rule_kind(std::string_view name) {
  for (const auto& [kind, n] : kKinds)
    if (n == name) return kind;
  return std::nullopt;
}

bool is_candle_field(std::string_view name) {
  return name == "open" || name == "high" || name == "low" || name == "close" || name == "volume";
}

std::optional<RuleError> validate_rules(std::vector<AlertRule>& rules, std::string_view prefix) {
  std::set<std::string> names;
  for (size_t i = 0; i < rules.size(); ++i) {
    const std::string p = std::string(prefix) + "[" + std::to_string(i) + "].";
    if (auto e = validate_one(rules[i], p)) return e;
    if (!names.insert(rules[i].name).second)
      return RuleError{p + "name", "duplicate rule name '" + rules[i].name + "'"};
  }
  return std::nullopt;
}

}  // namespace tickflow::processing::alerts
