#include "core/timeframe.h"

#include <algorithm>
#include <charconv>

namespace tickflow {
namespace {

constexpr DurationNs kWeek = 7 * kNsPerDay;

std::string canonical_label(DurationNs d) {
  struct Unit {
    DurationNs ns;
    const char* suffix;
  };
  static constexpr Unit kUnits[] = {{kWeek, "w"}, {kNsPerDay, "d"}, {kNsPerHour, "h"},
                                    {kNsPerMin, "m"}, {kNsPerSec, "s"}, {kNsPerMs, "ms"}};
  for (const Unit& u : kUnits) {
    if (d % u.ns == 0) return std::to_string(d / u.ns) + u.suffix;
  }
  return std::to_string(d) + "ns";
}

}  // namespace

Timeframe Timeframe::from_duration(DurationNs d) {
  Timeframe tf;
  tf.duration_ = d;
  tf.offset_ = d == kWeek ? 4 * kNsPerDay : 0;
  tf.label_ = canonical_label(d);
  return tf;
}

Result<Timeframe> Timeframe::parse(std::string_view label) {
  auto bad = [&](const char* why) {
    return Status::invalid_argument("bad timeframe '" + std::string(label) + "': " + why);
  };
  size_t i = 0;
  while (i < label.size() && label[i] >= '0' && label[i] <= '9') ++i;
  if (i == 0) return bad("expected a number followed by ms, s, m, h, d or w");
  int64_t n = 0;
  auto [p, ec] = std::from_chars(label.data(), label.data() + i, n);
  if (ec != std::errc() || n <= 0) return bad("count must be a positive integer");
  std::string_view unit = label.substr(i);
  DurationNs u;
  if (unit == "ms") u = kNsPerMs;
  else if (unit == "s") u = kNsPerSec;
  else if (unit == "m") u = kNsPerMin;
  else if (unit == "h") u = kNsPerHour;
  else if (unit == "d") u = kNsPerDay;
  else if (unit == "w") u = kWeek;
  else return bad("unit must be one of ms, s, m, h, d, w");
  if (n > kWeek / u) return bad("longer than a week");
  DurationNs d = n * u;
  if (d != kWeek && kNsPerDay % d != 0) return bad("must divide a day (or be exactly 1w)");
  return from_duration(d);
}

Result<std::vector<Timeframe>> Timeframe::parse_list(std::string_view labels) {
  std::vector<Timeframe> out;
  size_t i = 0;
  while (i < labels.size()) {
    while (i < labels.size() && (labels[i] == ',' || labels[i] == ' ')) ++i;
    size_t j = i;
    while (j < labels.size() && labels[j] != ',' && labels[j] != ' ') ++j;
    if (j > i) {
      auto tf = parse(labels.substr(i, j - i));
      if (!tf) return tf.status();
      if (std::find(out.begin(), out.end(), *tf) == out.end()) out.push_back(*tf);
    }
    i = j;
  }
  if (out.empty()) return Status::invalid_argument("no timeframes given");
  std::sort(out.begin(), out.end());
  return out;
}

const std::vector<Timeframe>& default_timeframes() {
  static const std::vector<Timeframe> kDefault = *Timeframe::parse_list("1m,5m,15m,1h,4h,1d");
  return kDefault;
}

}  // namespace tickflow
