// End to end: `tickflow run --demo` feeds Kraken v1 (its own simulator on loopback) next to
// Binance; GET /ohlcv/kraken/BTC-USD/1m serves candles built from the Kraken trades.
#include <gtest/gtest.h>

#include "tests/integration/harness.h"

namespace tickflow::testing {
namespace {

using namespace std::chrono_literals;

TEST(KrakenEndToEnd, DemoServesKrakenCandles) {
  const std::string dir = make_temp_dir("tickflow_e2e_kraken");
  Subprocess run({tickflow_binary(), "run", "--demo", "--port", "0", "--data-dir", dir + "/data"}, dir + "/run.log");
  auto line = run.wait_for_line("api listening on", 30s);
  ASSERT_TRUE(line) << run.output();
  const int port = port_from_line(*line);
  ASSERT_GT(port, 0);
  ASSERT_TRUE(run.wait_for_line("Kraken v1 simulator on", 30s)) << run.output();
  std::vector<ApiCandle> candles;
  const bool got = wait_until(
      [&] {
        auto c = get_candles(port, "kraken", "BTC-USD", "1m");
        if (!c) return false;
        int64_t trades = 0;
        for (const auto& x : *c) trades += x.trades;
        candles = *c;
        return trades > 0;
      },
      60s);
  ASSERT_TRUE(got) << run.output();
  for (const auto& c : candles) {
    if (c.trades == 0) continue;
    EXPECT_FALSE(c.open.empty());
    EXPECT_GT(c.first_trade_id, 0);  // derived Kraken keys: time_µs * 1000 + ordinal
    EXPECT_GE(c.last_trade_id, c.first_trade_id);
  }
  // Binance is still served, and the Kraken collector reports health.
  auto binance = get_candles(port, "binance", "BTC-USDT", "1m");
  ASSERT_TRUE(binance.has_value());
  auto health = http_get("http://127.0.0.1:" + std::to_string(port) + "/health");
  EXPECT_NE(health.body.find("collector.kraken"), std::string::npos) << health.body;
  run.kill(SIGINT);
  EXPECT_EQ(run.wait(60s), 0) << run.output();
}

}  // namespace
}  // namespace tickflow::testing
