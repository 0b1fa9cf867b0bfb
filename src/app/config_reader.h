// Typed reads from a TOML table for the config parsers (config.cc and the per-section parsers
// config_alerts.cc, config_quality.cc, config_delivery.cc). A bad value throws ConfigFailure
// with the full key ("alerts.rules[2].level") and a message; each parser turns it into its
// ConfigError return with guarded().
//
// `prefix` is the dotted path of the table: "" (root), "api" or "api." — a dot is added when
// it is missing, so "api" + "port" and "api." + "port" both name "api.port".
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <toml++/toml.h>

#include "app/config.h"
#include "core/time.h"

namespace tickflow::app::config_reader {

struct ConfigFailure {
  ConfigError error;
};

[[noreturn]] inline void fail(std::string key, std::string message) {
  throw ConfigFailure{{std::move(key), std::move(message)}};
}

inline std::string key_of(std::string_view prefix, std::string_view key) {
  std::string out(prefix);
  if (!out.empty() && out.back() != '.') out += '.';
  out += key;
  return out;
}

// Runs f; a ConfigFailure thrown inside becomes the returned error.
template <class F>
std::optional<ConfigError> guarded(F&& f) {
  try {
    f();
  } catch (const ConfigFailure& e) {
    return e.error;
  }
  return std::nullopt;
}

inline void check_keys(const toml::table& t, std::string_view prefix, const std::set<std::string>& known) {
  for (const auto& [k, v] : t) {
    if (!known.count(std::string(k.str())))
      fail(key_of(prefix, k.str()), "unknown setting (check the spelling against config/tickflow.example.toml)");
  }
}

inline std::string get_string(const toml::table& t, std::string_view prefix, const char* key,
                              const std::string& def) {
  const toml::node* n = t.get(key);
  if (!n) return def;
  if (auto s = n->value<std::string>()) return *s;
  fail(key_of(prefix, key), "must be a string");
}

inline bool get_bool(const toml::table& t, std::string_view prefix, const char* key, bool def) {
  const toml::node* n = t.get(key);
  if (!n) return def;
  if (n->is_boolean()) return *n->value<bool>();
  fail(key_of(prefix, key), "must be true or false");
}

inline int64_t get_int(const toml::table& t, std::string_view prefix, const char* key, int64_t def) {
  const toml::node* n = t.get(key);
  if (!n) return def;
  if (n->is_integer()) return *n->value<int64_t>();
  fail(key_of(prefix, key), "must be an integer");
}

// An integer in [lo, hi].
inline int64_t get_int(const toml::table& t, std::string_view prefix, const char* key, int64_t def, int64_t lo,
                       int64_t hi) {
  const int64_t v = get_int(t, prefix, key, def);
  if (v < lo || v > hi)
    fail(key_of(prefix, key), "must be in " + std::to_string(lo) + ".." + std::to_string(hi) + ", got " +
                                  std::to_string(v));
  return v;
}

inline std::optional<double> get_optional_number(const toml::table& t, std::string_view prefix, const char* key) {
  const toml::node* n = t.get(key);
  if (!n) return std::nullopt;
  if (n->is_integer()) return static_cast<double>(*n->value<int64_t>());
  if (n->is_floating_point()) return *n->value<double>();
  fail(key_of(prefix, key), "must be a number");
}

inline double get_number(const toml::table& t, std::string_view prefix, const char* key, double def) {
  return get_optional_number(t, prefix, key).value_or(def);
}

enum class Sign { kAny, kPositive };

// A duration string ("250ms", "30s", "5m", "24h"); kPositive rejects "0s".
inline DurationNs get_duration(const toml::table& t, std::string_view prefix, const char* key, DurationNs def,
                               Sign sign = Sign::kAny) {
  const toml::node* n = t.get(key);
  if (!n) return def;
  auto s = n->value<std::string>();
  if (!s) fail(key_of(prefix, key), "must be a duration string such as \"250ms\", \"30s\" or \"5m\"");
  auto d = parse_duration(*s);
  if (!d) fail(key_of(prefix, key), d.status().message());
  if (sign == Sign::kPositive && *d <= 0) fail(key_of(prefix, key), "must be positive");
  return *d;
}

inline std::vector<std::string> get_string_list(const toml::table& t, std::string_view prefix, const char* key,
                                                const std::vector<std::string>& def) {
  const toml::node* n = t.get(key);
  if (!n) return def;
  const toml::array* a = n->as_array();
  if (!a) fail(key_of(prefix, key), "must be an array of strings");
  std::vector<std::string> out;
  for (const auto& e : *a) {
    auto s = e.value<std::string>();
    if (!s) fail(key_of(prefix, key), "must be an array of strings");
    out.push_back(*s);
  }
  return out;
}

// A table of scalars as "key" -> "value" strings, nested tables flattened with dots, so both
// `"sasl.mechanism" = "SCRAM-SHA-512"` and a bare `sasl.mechanism = ...` give "sasl.mechanism".
// Integers and booleans become their TOML text ("100", "true"); arrays are an error.
inline void get_flat_map(const toml::table& t, const std::string& prefix, const std::string& key_prefix,
                         std::map<std::string, std::string>& out) {
  for (const auto& [k, v] : t) {
    const std::string key = key_prefix + std::string(k.str());
    if (const toml::table* nested = v.as_table()) {
      get_flat_map(*nested, prefix, key + ".", out);
    } else if (auto s = v.value_exact<std::string>()) {
      out[key] = *s;
    } else if (auto i = v.value_exact<int64_t>()) {
      out[key] = std::to_string(*i);
    } else if (auto b = v.value_exact<bool>()) {
      out[key] = *b ? "true" : "false";
    } else {
      fail(key_of(prefix, key), "must be a string, an integer or true/false");
    }
  }
}

// The sub-table `key`, or null when absent.
inline const toml::table* sub(const toml::table& t, std::string_view prefix, const char* key) {
  const toml::node* n = t.get(key);
  if (!n) return nullptr;
  if (!n->is_table()) fail(key_of(prefix, key), "must be a table");
  return n->as_table();
}

}  // namespace tickflow::app::config_reader
