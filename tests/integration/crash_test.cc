// Crash safety: SIGKILL a running `tickflow run` at random moments (20 times), restart it each
// time, and check that the final candles equal those of an uninterrupted run on the same
// seeded feed — nothing lost, nothing counted twice.
#include <gtest/gtest.h>

#include <random>

#include "tests/integration/pipeline_fixture.h"

namespace tickflow::testing {
namespace {

using namespace std::chrono_literals;

constexpr int64_t kTrades = 12000;
const std::string kSymbols = "BTC-USDT,ETH-USDT,SOL-USDT";
const std::vector<std::string> kSymbolList = {"BTC-USDT", "ETH-USDT", "SOL-USDT"};

// Sum over the collector's received-messages counter in /metrics (0 if unavailable).
int64_t collector_messages(int port) {
  auto m = http_get("http://127.0.0.1:" + std::to_string(port) + "/metrics");
  int64_t total = 0;
  size_t pos = 0;
  while ((pos = m.body.find("tickflow_collector_messages_total{", pos)) != std::string::npos) {
    auto end = m.body.find('}', pos);
    auto nl = m.body.find('\n', end);
    total += std::atoll(m.body.substr(end + 1, nl - end - 1).c_str());
    pos = nl;
  }
  return total;
}

bool all_trades_in(int port) {
  int64_t n = 0;
  for (const auto& s : kSymbolList) {
    int64_t t = total_trades(port, s, "1m");
    if (t < 0) return false;
    n += t;
  }
  return n == kTrades;
}

using Snapshot = std::map<std::string, std::vector<ApiCandle>>;

Snapshot snapshot(int port) {
  Snapshot out;
  for (const auto& s : kSymbolList) {
    for (const char* tf : {"1m", "5m"}) {
      auto c = get_candles(port, "binance", s, tf);
      if (c) out[s + " " + tf] = *c;
    }
  }
  return out;
}

// Candles from the first to the last traded window (trailing flat candles depend on wall time).
std::vector<ApiCandle> traded_range(const std::vector<ApiCandle>& v) {
  int64_t first = INT64_MAX, last = INT64_MIN;
  for (const auto& c : v) {
    if (c.trades > 0) {
      first = std::min(first, c.open_time_ms);
      last = std::max(last, c.open_time_ms);
    }
  }
  std::vector<ApiCandle> out;
  for (const auto& c : v)
    if (c.open_time_ms >= first && c.open_time_ms <= last) out.push_back(c);
  return out;
}

TEST(CrashSafety, TwentyKillNinesGiveTheCandlesOfAnUninterruptedRun) {
  const std::string dir = make_temp_dir("tickflow_crash");

  // 1. Uninterrupted run.
  Snapshot reference;
  {
    auto sim = start_simulator(dir, 11, kSymbols, 1500, kTrades, "simulator_reference");
    ASSERT_GT(sim.port, 0) << sim.proc->output();
    auto run = start_run(dir, dir + "/ref", sim.port, kSymbols, "1m,5m", 100);
    ASSERT_GT(run.port, 0) << run.proc->output();
    ASSERT_TRUE(wait_until([&] { return all_trades_in(run.port); }, 180s)) << run.proc->output();
    reference = snapshot(run.port);
  }

  // 2. The same seeded feed, with kill -9 at random moments.
  auto sim = start_simulator(dir, 11, kSymbols, 1500, kTrades, "simulator_crashy");
  ASSERT_GT(sim.port, 0) << sim.proc->output();
  std::mt19937_64 rng(20261122);
  int kills = 0;
  for (int i = 0; i < 20; ++i) {
    auto run = start_run(dir, dir + "/crashy", sim.port, kSymbols, "1m,5m", i);
    ASSERT_GT(run.port, 0) << run.proc->output();
    // A random moment: after a random amount of progress (or at once once the feed ended).
    int64_t target = std::uniform_int_distribution<int64_t>(1, 400)(rng);
    int64_t base = collector_messages(run.port);
    wait_until([&] { return collector_messages(run.port) - base >= target || all_trades_in(run.port); }, 3s);
    run.proc->kill(SIGKILL);
    ASSERT_EQ(run.proc->wait(30s), 128 + SIGKILL);
    ++kills;
  }
  EXPECT_EQ(kills, 20);

  auto run = start_run(dir, dir + "/crashy", sim.port, kSymbols, "1m,5m", 99);
  ASSERT_GT(run.port, 0) << run.proc->output();
  ASSERT_TRUE(wait_until([&] { return all_trades_in(run.port); }, 180s)) << run.proc->output();
  Snapshot after = snapshot(run.port);

  ASSERT_EQ(after.size(), reference.size());
  for (const auto& [series, ref_all] : reference) {
    auto ref = traded_range(ref_all);
    auto got = traded_range(after[series]);
    ASSERT_EQ(got.size(), ref.size()) << series;
    ASSERT_FALSE(ref.empty()) << series;
    for (size_t i = 0; i < ref.size(); ++i) {
      const auto& a = got[i];
      const auto& b = ref[i];
      EXPECT_EQ(a.open_time_ms, b.open_time_ms) << series;
      EXPECT_EQ(a.open, b.open) << series << " @" << b.open_time;
      EXPECT_EQ(a.high, b.high) << series << " @" << b.open_time;
      EXPECT_EQ(a.low, b.low) << series << " @" << b.open_time;
      EXPECT_EQ(a.close, b.close) << series << " @" << b.open_time;
      EXPECT_EQ(a.volume, b.volume) << series << " @" << b.open_time;
      EXPECT_EQ(a.quote_volume, b.quote_volume) << series << " @" << b.open_time;
      EXPECT_EQ(a.trades, b.trades) << series << " @" << b.open_time;
      EXPECT_EQ(a.first_trade_id, b.first_trade_id) << series;
      EXPECT_EQ(a.last_trade_id, b.last_trade_id) << series;
    }
  }
}

}  // namespace
}  // namespace tickflow::testing
