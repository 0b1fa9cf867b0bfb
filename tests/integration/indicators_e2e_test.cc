// End to end: `tickflow simulate` → `tickflow run` (candles → indicator stage → store) →
// GET /indicators returns, for every closed candle GET /ohlcv returns, exactly the values an
// IndicatorSet computes over those candles.
#include <gtest/gtest.h>
#include <simdjson.h>

#include <cmath>
#include <fstream>
#include <map>

#include "core/candle.h"
#include "core/clock.h"
#include "processing/indicators/indicator_set.h"
#include "tests/integration/pipeline_fixture.h"

namespace tickflow::testing {
namespace {

using namespace std::chrono_literals;

constexpr const char* kSpec = "sma:3,ema:4,rsi:3,macd:2:4:2,bb:3:2,atr:3,vwap";

struct Served {
  size_t closed = 0;
  std::vector<ApiCandle> candles;                                 // closed ones, oldest first
  std::map<int64_t, std::map<std::string, double>> indicators;    // open_time_ms → values
};

Served fetch(int port) {
  Served s;
  auto candles = get_candles(port, "binance", "BTC-USDT", "1s");
  if (!candles) return s;
  for (const auto& c : *candles)
    if (c.status != "provisional") s.candles.push_back(c);
  s.closed = s.candles.size();
  auto r = http_get("http://127.0.0.1:" + std::to_string(port) + "/indicators/binance/BTC-USDT/1s?limit=5000");
  if (r.status != 200) return s;
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (parser.parse(r.body).get(doc) != simdjson::SUCCESS) return s;
  for (simdjson::dom::element item : doc["indicators"].get_array()) {
    auto& values = s.indicators[item["open_time_ms"].get_int64().value()];
    for (auto [name, value] : item["values"].get_object()) values[std::string(name)] = value.get_double().value();
  }
  return s;
}

TEST(EndToEnd, IndicatorsServedEqualAnIndicatorSetOverTheServedCandles) {
  const std::string dir = make_temp_dir("tickflow_e2e_ind");
  // 15 s of trades stamped from now (the validator rejects event times far from receive time).
  const int64_t now_ms = SystemClock::instance().now_ns() / kNsPerMs;
  SimulatorProcess sim;
  sim.proc = std::make_unique<Subprocess>(
      std::vector<std::string>{tickflow_binary(), "simulate", "--port", "0", "--seed", "11", "--symbols", "BTC-USDT",
                               "--rate", "400", "--start-ms", std::to_string(now_ms), "--max-trades", "6000",
                               "--start-on-connect", "--log-level", "warn"},
      dir + "/simulator.log");
  auto sim_line = sim.proc->wait_for_line("simulator listening on", 30s);
  ASSERT_TRUE(sim_line) << sim.proc->output();
  sim.port = port_from_line(*sim_line);
  std::ofstream(dir + "/ind.toml") << "[candles]\ngrace = \"100ms\"\n[indicators]\nspec = \"" << kSpec << "\"\n";
  const std::string host = "127.0.0.1:" + std::to_string(sim.port);
  Subprocess run({tickflow_binary(), "run", "--config", dir + "/ind.toml", "--port", "0", "--data-dir",
                  dir + "/data", "--ws-url", "ws://" + host, "--rest-url", "http://" + host, "--symbols",
                  "BTC-USDT", "--timeframes", "1s"},
                 dir + "/run.log");
  auto line = run.wait_for_line("api listening on", 30s);
  ASSERT_TRUE(line) << run.output();
  const int port = port_from_line(*line);

  // Wait (on conditions) until ≥ 10 closed candles are stored and each has its indicator record.
  Served s;
  ASSERT_TRUE(wait_until(
      [&] {
        s = fetch(port);
        if (s.closed < 10 || s.indicators.size() < s.closed) return false;
        for (const auto& c : s.candles)
          if (!s.indicators.count(c.open_time_ms)) return false;
        return true;
      },
      120s))
      << "closed " << s.closed << ", indicator records " << s.indicators.size() << "\n" << run.output();

  auto set = processing::indicators::IndicatorSet::create(kSpec).value();
  size_t complete = 0;
  for (const ApiCandle& a : s.candles) {
    Candle c;
    c.open_time = a.open_time_ms * kNsPerMs;
    c.open = Decimal::parse(a.open).value();
    c.high = Decimal::parse(a.high).value();
    c.low = Decimal::parse(a.low).value();
    c.close = Decimal::parse(a.close).value();
    c.volume = WideDecimal::parse(a.volume).value();
    c.quote_volume = WideDecimal::parse(a.quote_volume).value();
    ASSERT_TRUE(set.update(processing::indicators::bar_from_candle(c)).is_ok());
    const auto& served = s.indicators[a.open_time_ms];
    size_t present = 0;
    for (size_t i = 0; i < set.names().size(); ++i) {
      const auto& name = set.names()[i];
      auto it = served.find(name);
      ASSERT_EQ(it != served.end(), set.values()[i].has_value()) << name << " @" << a.open_time;
      if (it == served.end()) continue;
      ++present;
      const double want = *set.values()[i];
      EXPECT_LE(std::fabs(it->second - want), 1e-12 * std::max(1.0, std::fabs(want))) << name << " @" << a.open_time;
    }
    if (present == set.names().size()) ++complete;
  }
  EXPECT_GE(complete, 5u) << "indicators never warmed up";
  run.kill(SIGINT);
  EXPECT_EQ(run.wait(30s), 0) << run.output();
}

}  // namespace
}  // namespace tickflow::testing
