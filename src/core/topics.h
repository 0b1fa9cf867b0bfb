// Bus topic names, default partition counts and retention, and the key → partition rule.
// The one place topic names and keys are spelled (architecture brief §5).
#pragma once

#include <cstdint>
#include <string_view>

#include "core/time.h"

namespace tickflow::topics {

inline constexpr std::string_view kRawMarketData = "raw.market-data";
inline constexpr std::string_view kNormalizedOhlcv = "normalized.ohlcv";
inline constexpr std::string_view kProcessedIndicators = "processed.indicators";
inline constexpr std::string_view kProcessedAlerts = "processed.alerts";
inline constexpr std::string_view kDlqMarketData = "dlq.market-data";
// Order-book snapshots (BookSnapshotEvent), key "exchange:SYMBOL" like raw.market-data; on their
// own topic so the candle processor's input stays trades only.
inline constexpr std::string_view kRawOrderbook = "raw.orderbook";

struct TopicSpec {
  std::string_view name;
  int32_t partitions;
  DurationNs retention;
};

inline constexpr TopicSpec kDefaultTopics[] = {
    {kRawMarketData, 30, 7 * kNsPerDay},
    {kNormalizedOhlcv, 60, 30 * kNsPerDay},
    {kProcessedIndicators, 30, 1 * kNsPerDay},
    {kProcessedAlerts, 6, 30 * kNsPerDay},
    {kDlqMarketData, 6, 30 * kNsPerDay},
    {kRawOrderbook, 30, 1 * kNsPerDay},
};

// Kafka's default partitioner (murmur2 of the key, positive, mod n), so a key lands in the
// same partition on the embedded bus and on Kafka.
int32_t partition_for(std::string_view key, int32_t partitions);
uint32_t murmur2(std::string_view data);

}  // namespace tickflow::topics
