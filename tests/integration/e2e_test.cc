// End to end: `tickflow simulate` → `tickflow run` → REST and WebSocket return the candles an
// independent oracle computes from the simulator's own trade history.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "exchange/transport/ws_connection.h"
#include "tests/integration/pipeline_fixture.h"

namespace tickflow::testing {
namespace {

using namespace std::chrono_literals;

void expect_matches_oracle(const std::vector<ApiCandle>& api, const std::map<int64_t, OracleCandle>& oracle,
                           const std::string& what) {
  std::map<int64_t, const ApiCandle*> by_open;
  for (const auto& c : api) by_open[c.open_time_ms] = &c;
  ASSERT_FALSE(oracle.empty());
  for (const auto& [open, o] : oracle) {
    auto it = by_open.find(open);
    ASSERT_NE(it, by_open.end()) << what << ": no candle at " << open;
    const ApiCandle& a = *it->second;
    EXPECT_EQ(a.open, o.open) << what << " open @" << a.open_time;
    EXPECT_EQ(a.high, o.high) << what << " high @" << a.open_time;
    EXPECT_EQ(a.low, o.low) << what << " low @" << a.open_time;
    EXPECT_EQ(a.close, o.close) << what << " close @" << a.open_time;
    EXPECT_TRUE(decimal_equal(a.volume, o.volume)) << what << " volume " << a.volume << " vs " << o.volume;
    EXPECT_EQ(a.trades, o.trades) << what << " trades @" << a.open_time;
    EXPECT_EQ(a.first_trade_id, o.first_trade_id) << what;
    EXPECT_EQ(a.last_trade_id, o.last_trade_id) << what;
  }
  // Candles between traded windows are flat with zero volume.
  for (const auto& c : api) {
    if (oracle.count(c.open_time_ms)) continue;
    if (c.open_time_ms < oracle.begin()->first || c.open_time_ms > oracle.rbegin()->first) continue;
    EXPECT_EQ(c.trades, 0) << what << " unexpected trades @" << c.open_time;
    EXPECT_TRUE(decimal_equal(c.volume, "0")) << what;
    EXPECT_EQ(c.open, c.close) << what;
  }
}

TEST(EndToEnd, RestAndWebSocketServeTheOracleCandles) {
  const std::string dir = make_temp_dir("tickflow_e2e");
  const int64_t kTrades = 4000;
  auto sim = start_simulator(dir, 7, "BTC-USDT,ETH-USDT", 1000, kTrades);
  ASSERT_GT(sim.port, 0) << sim.proc->output();
  auto run = start_run(dir, dir + "/data", sim.port, "BTC-USDT,ETH-USDT", "1m,5m");
  ASSERT_GT(run.port, 0) << run.proc->output();

  // A live WebSocket client on BTC-USDT 1m, collecting every pushed update.
  std::atomic<int> pushed{0}, finals{0};
  std::atomic<bool> stop{false};
  std::thread ws_thread([&] {
    auto ws = exchange::transport::make_ws_connection();
    auto url = exchange::transport::parse_url("ws://127.0.0.1:" + std::to_string(run.port) +
                                              "/ws/ohlcv/binance/BTC-USDT/1m");
    ASSERT_TRUE(url);
    ASSERT_TRUE(ws->connect(*url, 10 * kNsPerSec).is_ok());
    while (!stop) {
      auto f = ws->read_frame(200 * kNsPerMs);
      if (!f) continue;
      std::string frame(*f);
      if (frame.find("\"candle\"") != std::string::npos) ++pushed;
      if (frame.find("\"status\":\"final\"") != std::string::npos) ++finals;
    }
    ws->close();
  });

  // Wait until every trade the simulator made is in the candles (condition, not time).
  ASSERT_TRUE(wait_until(
      [&] {
        int64_t b = total_trades(run.port, "BTC-USDT", "1m");
        int64_t e = total_trades(run.port, "ETH-USDT", "1m");
        return b >= 0 && e >= 0 && b + e == kTrades;
      },
      120s))
      << run.proc->output();

  for (std::string sym : {"BTC-USDT", "ETH-USDT"}) {
    std::string ex = sym == "BTC-USDT" ? "BTCUSDT" : "ETHUSDT";
    auto trades = fetch_all_agg_trades(sim.port, ex);
    ASSERT_FALSE(trades.empty());
    for (auto [tf, ms] : {std::pair<const char*, int64_t>{"1m", 60000}, {"5m", 300000}}) {
      auto api = get_candles(run.port, "binance", sym, tf);
      ASSERT_TRUE(api);
      expect_matches_oracle(*api, oracle_candles(trades, ms), sym + " " + tf);
    }
  }
  EXPECT_TRUE(wait_until([&] { return pushed > 0; }, 30s)) << "no WebSocket push received";
  stop = true;
  ws_thread.join();

  // Bad requests are answered with a JSON error naming the parameter.
  auto bad = http_get("http://127.0.0.1:" + std::to_string(run.port) + "/ohlcv/binance/BTC-USDT/7m");
  EXPECT_EQ(bad.status, 400);
  EXPECT_NE(bad.body.find("timeframe"), std::string::npos) << bad.body;
  auto unknown = http_get("http://127.0.0.1:" + std::to_string(run.port) + "/ohlcv/binance/DOGE-USDT/1m");
  EXPECT_EQ(unknown.status, 404);
  auto health = http_get("http://127.0.0.1:" + std::to_string(run.port) + "/health");
  EXPECT_EQ(health.status, 200) << health.body;
  auto metrics = http_get("http://127.0.0.1:" + std::to_string(run.port) + "/metrics");
  EXPECT_NE(metrics.body.find("tickflow_processor_trades_total"), std::string::npos);

  // Ctrl-C drains and stops cleanly.
  run.proc->kill(SIGINT);
  EXPECT_EQ(run.proc->wait(30s), 0) << run.proc->output();
}

}  // namespace
}  // namespace tickflow::testing
