// AlertStore: alert history (processed.alerts), the sink the alert loader writes
// (storage/loader.h, alert_loader_config()).
//
// An alert transition is identified by its stable alert_id (core/analytics.h: same rule, series,
// trigger and state → same id): a repeated one is ignored, so replays are idempotent. The batch
// and the loader's consumer positions are written in ONE atomic write.
// Backends: storage/postgres (PgCandleStore, table `alerts`). The embedded store keeps none.
// Thread-safety: all methods are safe to call concurrently.
#pragma once

#include <vector>

#include "core/analytics.h"
#include "core/result.h"
#include "storage/candle_store.h"

namespace tickflow::storage {

class AlertStore {
 public:
  virtual ~AlertStore() = default;
  // Inserts the alerts whose alert_id is not stored yet and sets the positions, atomically.
  virtual Status write_alerts(const std::vector<Alert>& alerts,
                              const std::vector<ConsumerPosition>& positions) = 0;
};

}  // namespace tickflow::storage
