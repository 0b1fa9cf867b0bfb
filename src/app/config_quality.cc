#include "app/config_quality.h"

#include <set>
#include <string>
#include <utility>

#include "app/config_reader.h"

namespace tickflow::app {
namespace {

using namespace config_reader;  // fail, check_keys, get_*

constexpr const char* kPrefix = "quality.";

}  // namespace

std::optional<ConfigError> parse_quality_config(const toml::table& t, QualitySettings& out) {
  try {
    const std::string p = kPrefix;
    check_keys(t, p,
               {"enabled", "stale_after", "series_stale_after", "window", "window_buckets", "outlier_window",
                "outlier_min_samples", "outlier_mad_k", "outlier_min_rel", "divergence_rel", "divergence_max_age",
                "dedup_window", "max_series", "max_event_age", "max_event_ahead", "start", "weights"});
    out.enabled = get_bool(t, p, "enabled", out.enabled);
    auto& c = out.checker;
    c.stale_after = get_duration(t, p, "stale_after", c.stale_after);
    c.series_stale_after = get_duration(t, p, "series_stale_after", c.series_stale_after);
    c.window = get_duration(t, p, "window", c.window);
    c.window_buckets = static_cast<int>(get_int(t, p, "window_buckets", c.window_buckets, 1, 1000));
    c.outlier_window = static_cast<size_t>(get_int(t, p, "outlier_window", static_cast<int64_t>(c.outlier_window), 3, 100000));
    c.outlier_min_samples = static_cast<size_t>(
        get_int(t, p, "outlier_min_samples", static_cast<int64_t>(c.outlier_min_samples), 3, 100000));
    c.outlier_mad_k = get_number(t, p, "outlier_mad_k", c.outlier_mad_k);
    c.outlier_min_rel = get_number(t, p, "outlier_min_rel", c.outlier_min_rel);
    c.divergence_rel = get_number(t, p, "divergence_rel", c.divergence_rel);
    c.divergence_max_age = get_duration(t, p, "divergence_max_age", c.divergence_max_age);
    c.dedup_window = static_cast<size_t>(get_int(t, p, "dedup_window", static_cast<int64_t>(c.dedup_window), 1, 1 << 24));
    c.max_series = static_cast<size_t>(get_int(t, p, "max_series", static_cast<int64_t>(c.max_series), 1, 1000000));
    out.validation.max_event_age = get_duration(t, p, "max_event_age", out.validation.max_event_age);
    out.validation.max_event_ahead = get_duration(t, p, "max_event_ahead", out.validation.max_event_ahead);
    if (const toml::node* n = t.get("start")) {
      auto s = n->value<std::string>();
      if (!s || (*s != "end" && *s != "committed")) fail(p + "start", "must be \"end\" or \"committed\"");
      out.from_committed = *s == "committed";
    }
    if (const toml::node* n = t.get("weights")) {
      const toml::table* w = n->as_table();
      if (!w) fail(p + "weights", "must be a table of check = weight");
      std::set<std::string> names;
      for (size_t i = 0; i < quality::kCheckCount; ++i) {
        if (static_cast<quality::Check>(i) == quality::Check::kStale) continue;  // a factor, not a weight
        names.insert(std::string(quality::check_name(static_cast<quality::Check>(i))));
      }
      check_keys(*w, p + "weights.", names);
      for (size_t i = 0; i < quality::kCheckCount; ++i) {
        const std::string name(quality::check_name(static_cast<quality::Check>(i)));
        if (names.count(name)) c.weights[i] = get_number(*w, p + "weights.", name.c_str(), c.weights[i]);
      }
    }
    if (Status s = quality::validate(c); !s.is_ok()) {
      const std::string& m = s.message();
      const size_t colon = m.find(": ");
      fail(colon == std::string::npos ? "quality" : m.substr(0, colon),
           colon == std::string::npos ? m : m.substr(colon + 2));
    }
    if (Status s = quality::validate(out.validation); !s.is_ok()) {
      const std::string& m = s.message();
      const size_t colon = m.find(": ");
      fail(colon == std::string::npos ? "quality" : m.substr(0, colon),
           colon == std::string::npos ? m : m.substr(colon + 2));
    }
  } catch (const ConfigFailure& f) {
    return f.error;
  }
  return std::nullopt;
}

}  // namespace tickflow::app
