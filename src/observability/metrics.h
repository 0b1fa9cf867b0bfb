// Process-wide Prometheus registry and text exposition.
//
// Components keep their metrics in a small "probe" struct built on this registry, with bounded
// label sets (exchange, symbol, timeframe, reason — never connection ids or prices).
// Names follow Prometheus conventions: tickflow_<component>_<what>_<unit>[_total].
// Thread-safety: prometheus-cpp metrics are thread-safe; registry() is initialized once.
#pragma once

#include <memory>
#include <string>

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

namespace tickflow::obs {

prometheus::Registry& registry();
// The whole registry in the Prometheus text format (version 0.0.4).
std::string render_text();
// Latency buckets in seconds from 50 µs to 10 s.
const prometheus::Histogram::BucketBoundaries& latency_buckets();

}  // namespace tickflow::obs
