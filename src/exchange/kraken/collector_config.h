// Private to the Kraken collector: configured symbols → Kraken pairs (collector_config.cc, with
// validate() and kraken_pair_from_unified() of collector.h).
#pragma once

#include <string>
#include <vector>

#include "core/result.h"
#include "exchange/kraken/collector.h"

namespace tickflow::exchange::kraken::internal {

struct PairSpec {
  std::string unified;  // BTC-USD
  std::string pair;     // XBT/USD
};

// The configured symbols, unified and deduplicated by pair (errors name the key).
Result<std::vector<PairSpec>> resolve(const CollectorConfig& config);

}  // namespace tickflow::exchange::kraken::internal
