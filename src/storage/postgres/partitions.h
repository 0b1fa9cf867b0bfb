// Native declarative partitioning helpers of the PostgreSQL store (no TimescaleDB):
// `ohlcv` → LIST partition per timeframe ("ohlcv_1m") → RANGE partitions by time
// ("ohlcv_1m_p20261122", start date UTC; width from PgCandleStore::partition_width);
// `trades` → RANGE partitions per day ("trades_p20261122").
// Thread-safety: pure functions / calls on a connection the caller owns.
#pragma once

#include <set>
#include <string>
#include <vector>

#include "core/result.h"
#include "core/time.h"
#include "storage/postgres/pg.h"

namespace tickflow::storage::pg {

// Start of the width-aligned range (from the epoch) holding t.
TimestampNs floor_to(TimestampNs t, DurationNs width);
std::string ohlcv_parent_name(const std::string& timeframe_label);
std::string range_partition_name(const std::string& parent, TimestampNs start);
// Start time encoded in a range partition's name; false when the name is not one.
bool parse_range_partition(const std::string& name, std::string& parent, TimestampNs& start);

// Every partition (at any level) of `ohlcv` and `trades`.
Result<std::set<std::string>> list_partitions(PgConnection& conn);
// Timeframe labels of the LIST partitions among `names` ("ohlcv_1m" → "1m").
std::set<std::string> timeframe_labels(const std::set<std::string>& names);

struct DroppedPartitions {
  std::vector<std::string> names;
  int64_t rows = 0;  // rows they held
};
// Drops the range partitions of `parent` whose whole range [start, start + width) ends at or
// before `cutoff`, each in its own statement.
Result<DroppedPartitions> drop_partitions_before(PgConnection& conn, const std::string& parent,
                                                 DurationNs width, TimestampNs cutoff);

}  // namespace tickflow::storage::pg
