// End to end with a real Redis: `tickflow simulate` → `tickflow run` (REDIS_URL set) → GET /latest
// is served from Redis and equals the newest candle of GET /ohlcv; Redis killed → /latest from the
// store and /health says so; Redis back empty → the cache is rebuilt and serves again. The
// password never shows in the logs or /health.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>

#include "tests/integration/pipeline_fixture.h"
#include "tests/servers/redis_server.h"

namespace tickflow::testing {
namespace {

using namespace std::chrono_literals;

constexpr const char* kPassword = "e2e-Secret-pw-4711";

// The value of "candle":{...} in a /latest body, or the last candle object of an /ohlcv body.
std::string latest_candle(const std::string& body) {
  size_t at = body.find("\"candle\":{");
  if (at == std::string::npos) return {};
  size_t end = body.find('}', at);
  return end == std::string::npos ? std::string() : body.substr(at + 9, end - at - 8);
}
std::string last_ohlcv_candle(const std::string& body) {
  size_t end = body.rfind("}]");
  size_t start = body.rfind("{\"open_time\"", end);
  if (end == std::string::npos || start == std::string::npos) return {};
  return body.substr(start, end - start + 1);
}

struct Latest {
  std::string source, candle, ohlcv;
};
Latest read_latest(int port, const std::string& symbol) {
  Latest l;
  const std::string base = "http://127.0.0.1:" + std::to_string(port);
  HttpResult latest = http_get(base + "/latest/binance/" + symbol + "/1m");
  HttpResult ohlcv = http_get(base + "/ohlcv/binance/" + symbol + "/1m?limit=1");
  if (latest.status != 200 || ohlcv.status != 200) return l;
  if (latest.body.find("\"source\":\"redis\"") != std::string::npos) l.source = "redis";
  if (latest.body.find("\"source\":\"store\"") != std::string::npos) l.source = "store";
  l.candle = latest_candle(latest.body);
  l.ohlcv = last_ohlcv_candle(ohlcv.body);
  return l;
}

TEST(RedisEndToEnd, LatestIsServedFromRedisFallsBackToTheStoreAndIsRebuilt) {
  RedisServer redis(RedisServerOptions{kPassword});
  ASSERT_TRUE(redis.start()) << redis.error();
  ::setenv("REDIS_URL", redis.url().c_str(), 1);

  const std::string dir = make_temp_dir("tickflow_redis_e2e");
  const int64_t kTrades = 2000;
  // Trades stamped from now on (not the fixture's fixed 2023 start), so no freshness check rejects them.
  SimulatorProcess sim;
  const int64_t now_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  sim.proc = std::make_unique<Subprocess>(
      std::vector<std::string>{tickflow_binary(), "simulate", "--port", "0", "--seed", "11", "--symbols",
                               "BTC-USDT,ETH-USDT", "--rate", "1000", "--start-ms", std::to_string(now_ms),
                               "--max-trades", std::to_string(kTrades), "--start-on-connect", "--log-level", "warn"},
      dir + "/simulator.log");
  if (auto line = sim.proc->wait_for_line("simulator listening on", 30s)) sim.port = port_from_line(*line);
  ASSERT_GT(sim.port, 0) << sim.proc->output();
  auto run = start_run(dir, dir + "/data", sim.port, "BTC-USDT,ETH-USDT", "1m");
  ASSERT_GT(run.port, 0) << run.proc->output();
  ::unsetenv("REDIS_URL");

  ASSERT_TRUE(wait_until(
      [&] {
        int64_t b = total_trades(run.port, "BTC-USDT", "1m");
        int64_t e = total_trades(run.port, "ETH-USDT", "1m");
        return b >= 0 && e >= 0 && b + e == kTrades;
      },
      120s))
      << run.proc->output();

  // Served from Redis, byte-equal to the newest stored candle (once the cache caught up).
  for (const char* symbol : {"BTC-USDT", "ETH-USDT"}) {
    Latest l;
    ASSERT_TRUE(wait_until(
        [&] {
          l = read_latest(run.port, symbol);
          return l.source == "redis" && !l.candle.empty() && l.candle == l.ohlcv;
        },
        60s))
        << symbol << " source=" << l.source << "\nlatest " << l.candle << "\nohlcv  " << l.ohlcv;
  }
  const std::string base = "http://127.0.0.1:" + std::to_string(run.port);
  HttpResult health = http_get(base + "/health");
  EXPECT_NE(health.body.find("{\"name\":\"redis\",\"state\":\"up\""), std::string::npos) << health.body;

  // Redis dies: /latest answers from the store with the same candle; /health stays 200.
  redis.kill();
  Latest down;
  ASSERT_TRUE(wait_until(
      [&] {
        down = read_latest(run.port, "BTC-USDT");
        return down.source == "store" && !down.candle.empty() && down.candle == down.ohlcv;
      },
      30s))
      << "source=" << down.source;
  health = http_get(base + "/health");
  EXPECT_EQ(health.status, 200) << health.body;
  EXPECT_NE(health.body.find("{\"name\":\"redis\",\"state\":\"degraded\",\"detail\":\"down: "), std::string::npos)
      << health.body;
  EXPECT_EQ(health.body.find(kPassword), std::string::npos);

  // Redis comes back empty: the writer rebuilds from the store and /latest is served from Redis again.
  ASSERT_TRUE(redis.restart()) << redis.error();
  ASSERT_TRUE(wait_until(
      [&] {
        Latest l = read_latest(run.port, "BTC-USDT");
        return l.source == "redis" && l.candle == l.ohlcv;
      },
      60s))
      << run.proc->output();
  EXPECT_EQ(resp_integer(redis.command({"EXISTS", "tickflow:latest:built"})), 1);

  run.proc->kill(SIGTERM);
  EXPECT_EQ(run.proc->wait(60s), 0) << run.proc->output();
  EXPECT_EQ(run.proc->output().find(kPassword), std::string::npos) << "password in the log";
  EXPECT_NE(run.proc->output().find("redis://:***@127.0.0.1"), std::string::npos);
}

}  // namespace
}  // namespace tickflow::testing
