// RedisLatestCache: the LatestCache backend on Redis 7 (hiredis via cache/redis/redis_client.h).
//
// Key scheme (prefix configurable, default "tickflow:latest:"), one Redis hash per key with
// fields r (the rank, latest_cache.h) and v (the JSON the API serves):
//   {prefix}candle:{exchange}:{symbol}:{timeframe}       e.g. tickflow:latest:candle:binance:BTC-USDT:1m
//   {prefix}indicators:{exchange}:{symbol}:{timeframe}
//   {prefix}alert:{exchange}:{symbol}:{timeframe}        (empty parts stay empty: "alert:binance::")
//   {prefix}built                                         the rebuild marker (no TTL)
// Writes go through one Lua script (loaded on connect, run with EVALSHA, pipelined) that keeps
// the higher rank and sets the TTL in the same atomic step; reads are one pipelined
// HGET x3. TTLs: candles and indicators ttl_timeframes x timeframe + ttl_margin; alerts
// alert_ttl.
// health(): "redis" up, or degraded with detail "down: <url without password>: <reason>" — a
// Redis outage slows "latest" reads only, so it never makes the service's /health a 503.
// Thread-safety: all methods from any thread (a pool of `pool_size` connections).
#pragma once

#include <string>

#include "cache/latest_cache.h"
#include "cache/redis/redis_client.h"

namespace tickflow::cache::redis {

struct RedisCacheConfig {
  RedisClientConfig client;
  size_t pool_size = 4;
  std::string key_prefix = "tickflow:latest:";
  double ttl_timeframes = 2.0;
  DurationNs ttl_margin = 60 * kNsPerSec;
  DurationNs alert_ttl = 24 * kNsPerHour;
  size_t max_pipeline = 2000;  // commands per round trip
};

class RedisLatestCache final : public LatestCache {
 public:
  explicit RedisLatestCache(RedisCacheConfig config);

  Status put(const LatestBatch& batch) override;
  Result<LatestSnapshot> get(std::string_view exchange, std::string_view symbol,
                             std::string_view timeframe) override;
  Result<bool> has_marker() override;
  Status set_marker() override;
  ComponentHealth health() const override;

  // Key of a value (for tests and operators). kind: "candle", "indicators", "alert".
  std::string key(std::string_view kind, std::string_view exchange, std::string_view symbol,
                  std::string_view timeframe) const;
  DurationNs ttl_for(const Timeframe& tf) const;
  const RedisCacheConfig& config() const { return config_; }

 private:
  Status run_writes(const std::vector<Command>& commands);

  const RedisCacheConfig config_;
  RedisPool pool_;
};

}  // namespace tickflow::cache::redis
