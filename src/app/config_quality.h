// The [quality] table of the TOML config: the validator window (collector) and the quality
// checker / monitor settings (reference: src/processing/quality/README.md). Used by config.cc only.
// Thread-safety: plain functions.
#pragma once

#include <optional>

#include <toml++/toml.h>

#include "app/config.h"

namespace tickflow::app {

// Parses and validates [quality] into `out`. The error names the key ("quality.outlier_mad_k").
std::optional<ConfigError> parse_quality_config(const toml::table& quality, QualitySettings& out);

}  // namespace tickflow::app
