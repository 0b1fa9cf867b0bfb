// Component health as reported by GET /health.
#pragma once

#include <string>
#include <string_view>

namespace tickflow {

enum class HealthState { kUp, kDegraded, kDown };

inline std::string_view health_state_name(HealthState s) {
  switch (s) {
    case HealthState::kUp: return "up";
    case HealthState::kDegraded: return "degraded";
    case HealthState::kDown: return "down";
  }
  return "down";
}

struct ComponentHealth {
  std::string name;  // "collector.binance", "processor", "store", "bus", "api"
  HealthState state = HealthState::kUp;
  std::string detail;
};

}  // namespace tickflow
