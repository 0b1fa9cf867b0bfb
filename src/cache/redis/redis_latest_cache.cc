#include "cache/redis/redis_latest_cache.h"

#include <openssl/evp.h>

#include <cmath>

#include "core/clock.h"
#include "serving/candle_json.h"
#include "serving/latest_json.h"

namespace tickflow::cache::redis {
namespace {

// KEYS[1] key; ARGV rank, json, ttl ms (0 = none). Keeps the higher rank (equal replaces).
constexpr std::string_view kPutScript =
    "local cur = redis.call('HGET', KEYS[1], 'r')\n"
    "if cur and cur > ARGV[1] then return 0 end\n"
    "redis.call('HSET', KEYS[1], 'r', ARGV[1], 'v', ARGV[2])\n"
    "if tonumber(ARGV[3]) > 0 then redis.call('PEXPIRE', KEYS[1], ARGV[3]) end\n"
    "return 1\n";

// EVALSHA names the script by the SHA-1 of its body (SCRIPT LOAD on connect registers it).
std::string sha1_hex(std::string_view data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), md, &len, EVP_sha1(), nullptr);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < len; ++i) {
    out += kHex[md[i] >> 4];
    out += kHex[md[i] & 15];
  }
  return out;
}

std::string ttl_ms(DurationNs d) { return std::to_string(std::max<DurationNs>(0, d / kNsPerMs)); }

}  // namespace

RedisLatestCache::RedisLatestCache(RedisCacheConfig config)
    : config_(std::move(config)),
      pool_(config_.client, config_.pool_size, {{"SCRIPT", "LOAD", std::string(kPutScript)}}) {}

std::string RedisLatestCache::key(std::string_view kind, std::string_view exchange, std::string_view symbol,
                                  std::string_view timeframe) const {
  std::string k = config_.key_prefix;
  k.append(kind).append(":").append(exchange).append(":").append(symbol).append(":").append(timeframe);
  return k;
}

DurationNs RedisLatestCache::ttl_for(const Timeframe& tf) const {
  return static_cast<DurationNs>(std::llround(config_.ttl_timeframes * static_cast<double>(tf.duration_ns()))) +
         config_.ttl_margin;
}

Status RedisLatestCache::run_writes(const std::vector<Command>& commands) {
  for (size_t from = 0; from < commands.size(); from += config_.max_pipeline) {
    const size_t to = std::min(commands.size(), from + config_.max_pipeline);
    std::vector<Command> chunk(commands.begin() + static_cast<std::ptrdiff_t>(from),
                               commands.begin() + static_cast<std::ptrdiff_t>(to));
    Status st = pool_.with_connection([&](RedisConnection& conn) -> Status {
      auto replies = conn.pipeline(chunk);
      if (!replies) return replies.status();
      for (const RedisReply& r : *replies) {
        if (!r.is_error()) continue;
        if (r.str.rfind("NOSCRIPT", 0) == 0) {
          // The server lost its scripts (SCRIPT FLUSH, restart behind a proxy): reconnecting
          // loads them again; the batch is retried by the caller (writes are idempotent).
          conn.disconnect();
          return Status::unavailable("redis: script not loaded (reloading)");
        }
        return Status::internal("redis: " + r.str);
      }
      return Status::ok();
    });
    TICKFLOW_RETURN_IF_ERROR(st);
  }
  return Status::ok();
}

Status RedisLatestCache::put(const LatestBatch& batch) {
  static const std::string sha = sha1_hex(kPutScript);
  std::vector<Command> cmds;
  cmds.reserve(batch.size());
  std::string json;
  for (const Candle& c : batch.candles) {
    json.clear();
    serving::append_candle_json(json, c);
    cmds.push_back({"EVALSHA", sha, "1", key("candle", exchange_name(c.exchange), c.symbol, c.timeframe.label()),
                    candle_rank(c), json, ttl_ms(ttl_for(c.timeframe))});
  }
  for (const IndicatorRecord& r : batch.indicators) {
    json.clear();
    serving::append_indicators_json(json, r);
    cmds.push_back({"EVALSHA", sha, "1",
                    key("indicators", exchange_name(r.exchange), r.symbol, r.timeframe.label()), indicators_rank(r),
                    json, ttl_ms(ttl_for(r.timeframe))});
  }
  for (const Alert& a : batch.alerts) {
    json.clear();
    serving::append_alert_json(json, a);
    cmds.push_back({"EVALSHA", sha, "1", key("alert", a.exchange, a.symbol, a.timeframe), alert_rank(a), json,
                    ttl_ms(config_.alert_ttl)});
  }
  if (cmds.empty()) return Status::ok();
  return run_writes(cmds);
}

Result<LatestSnapshot> RedisLatestCache::get(std::string_view exchange, std::string_view symbol,
                                             std::string_view timeframe) {
  std::vector<Command> cmds = {{"HGET", key("candle", exchange, symbol, timeframe), "v"},
                               {"HGET", key("indicators", exchange, symbol, timeframe), "v"},
                               {"HGET", key("alert", exchange, symbol, timeframe), "v"}};
  auto replies = pool_.with_connection([&](RedisConnection& conn) { return conn.pipeline(cmds); });
  if (!replies) return replies.status();
  LatestSnapshot out;
  std::optional<std::string>* slots[] = {&out.candle, &out.indicators, &out.alert};
  for (size_t i = 0; i < 3; ++i) {
    RedisReply& r = (*replies)[i];
    if (r.is_error()) return Status::internal("redis: " + r.str);
    if (r.type == RedisReply::Type::kString) *slots[i] = std::move(r.str);
  }
  return out;
}

Result<bool> RedisLatestCache::has_marker() {
  auto r = pool_.with_connection([&](RedisConnection& conn) { return conn.command({"EXISTS", config_.key_prefix + "built"}); });
  if (!r) return r.status();
  if (r->is_error()) return Status::internal("redis: " + r->str);
  return r->integer == 1;
}

Status RedisLatestCache::set_marker() {
  auto r = pool_.with_connection([&](RedisConnection& conn) {
    return conn.command({"SET", config_.key_prefix + "built", std::to_string(SystemClock::instance().now_ns() / kNsPerMs)});
  });
  if (!r) return r.status();
  if (r->is_error()) return Status::internal("redis: " + r->str);
  return Status::ok();
}

ComponentHealth RedisLatestCache::health() const {
  ComponentHealth h;
  h.name = "redis";
  const ReconnectGate& g = pool_.gate();
  if (g.healthy()) {
    h.state = HealthState::kUp;
    h.detail = config_.client.url.redacted();
  } else {
    // Degraded, not down: without the cache only "latest" reads slow down (they fall back to
    // the store), so a Redis outage must not turn the whole service's /health into a 503.
    h.state = HealthState::kDegraded;
    h.detail = "down: " + config_.client.url.redacted() + ": " + g.last_error();
    if (g.failures() > 0)
      h.detail += " (retry in ≤" + std::to_string(g.current_backoff() / kNsPerMs) + " ms)";
  }
  return h;
}

}  // namespace tickflow::cache::redis
