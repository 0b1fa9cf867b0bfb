// Data quality end to end: `tickflow simulate` + `tickflow run` (trade stream, so gaps are not
// backfilled away), then the simulator's fault knobs trigger the checks on purpose:
//   outlier=1&pct=50     → quality outlier on the series, score below 1
//   skip_ids=3           → a trade-id gap
//   malformed=1&kind=zero_price → the validator rejects it: dlq.market-data, reason non_positive_price
//   stall_ms             → the feed turns stale (no trade, no frame) and recovers
// Everything observed through the API (GET /quality, /metrics) and the DLQ topic (`tickflow tail`).
#include <fstream>
#include <string>

#include <gtest/gtest.h>
#include <simdjson.h>

#include "tests/integration/pipeline_fixture.h"

namespace tickflow::testing {
namespace {

using namespace std::chrono_literals;

struct SeriesQuality {
  bool ok = false;
  double score = 0;
  bool stale = false;
  uint64_t trades = 0, gaps = 0, outliers = 0;
  double feed_score = 0;
  bool feed_stale = false;
  uint64_t feed_stale_transitions = 0;
};

SeriesQuality quality_of(int port, const std::string& symbol) {
  SeriesQuality q;
  auto r = http_get("http://127.0.0.1:" + std::to_string(port) + "/quality?exchange=binance&symbol=" + symbol);
  if (r.status != 200) return q;
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (parser.parse(r.body).get(doc) != simdjson::SUCCESS) return q;
  simdjson::dom::array series, feeds;
  if (doc["series"].get(series) != simdjson::SUCCESS || series.size() != 1) return q;
  if (doc["feeds"].get(feeds) != simdjson::SUCCESS || feeds.size() != 1) return q;
  auto s = series.at(0).value();
  q.score = s["score"].get_double().value();
  q.stale = s["stale"].get_bool().value();
  q.trades = s["trades"].get_uint64().value();
  q.gaps = s["totals"]["gap"].get_uint64().value();
  q.outliers = s["totals"]["outlier"].get_uint64().value();
  auto f = feeds.at(0).value();
  q.feed_score = f["score"].get_double().value();
  q.feed_stale = f["stale"].get_bool().value();
  q.feed_stale_transitions = f["totals"]["stale"].get_uint64().value();
  q.ok = true;
  return q;
}

TEST(QualityE2eTest, FaultKnobsTriggerTheChecksAndTheValidator) {
  const std::string dir = make_temp_dir("tickflow-quality-e2e");
  auto sim = start_simulator(dir, 21, "BTC-USDT,ETH-USDT", 300, 100'000'000);
  ASSERT_GT(sim.port, 0) << sim.proc->output();
  const std::string config = dir + "/quality.toml";
  std::ofstream(config) << "[exchanges.binance]\ntrade_stream = \"trade\"\n\n"
                           "[quality]\nstale_after = \"2s\"\nwindow = \"10m\"\n";
  const std::string sim_url = "127.0.0.1:" + std::to_string(sim.port);
  Subprocess run({tickflow_binary(), "run", "--config", config, "--port", "0", "--data-dir", dir + "/data",
                  "--ws-url", "ws://" + sim_url, "--rest-url", "http://" + sim_url, "--symbols",
                  "BTC-USDT,ETH-USDT", "--timeframes", "1m", "--log-level", "info"},
                 dir + "/run.log");
  auto line = run.wait_for_line("api listening on", 30s);
  ASSERT_TRUE(line) << run.output();
  const int port = port_from_line(*line);
  auto fault = [&](const std::string& q) {
    EXPECT_EQ(http_get("http://" + sim_url + "/_sim/fault?" + q).status, 200) << q;
  };

  // Clean: trades flow, the score is 1.
  SeriesQuality q;
  ASSERT_TRUE(wait_until([&] { return (q = quality_of(port, "BTC-USDT")).ok && q.trades >= 100; }, 60s))
      << run.output();
  EXPECT_DOUBLE_EQ(q.score, 1.0);
  EXPECT_EQ(q.gaps + q.outliers, 0u);
  EXPECT_FALSE(q.stale);

  // Outlier price.
  fault("outlier=1&pct=50&symbol=BTCUSDT");
  ASSERT_TRUE(wait_until([&] { return (q = quality_of(port, "BTC-USDT")).ok && q.outliers >= 1; }, 30s));
  EXPECT_LT(q.score, 1.0);

  // Trade-id gap (the trade stream cannot be backfilled).
  fault("skip_ids=3&symbol=BTCUSDT");
  ASSERT_TRUE(wait_until([&] { return (q = quality_of(port, "BTC-USDT")).ok && q.gaps >= 1; }, 30s));

  // Validator: a zero-price copy is dead-lettered with the reason; the real trade still flows.
  fault("malformed=1&kind=zero_price");
  ASSERT_TRUE(wait_until(
      [&] {
        auto m = http_get("http://127.0.0.1:" + std::to_string(port) + "/metrics");
        return m.body.find("reason=\"non_positive_price\"") != std::string::npos;
      },
      30s));
  {
    // The reason is counted when the trade is rejected; its dead letter commits with the batch.
    std::string last;
    EXPECT_TRUE(wait_until(
        [&] {
          Subprocess tail({tickflow_binary(), "tail", "dlq.market-data", "--from-beginning", "--no-follow",
                           "--data-dir", dir + "/data"},
                          dir + "/tail.log");
          if (tail.wait(30s) != 0) return false;
          last = tail.output();
          return last.find("non_positive_price") != std::string::npos;
        },
        30s))
        << last;
  }

  // Stall longer than stale_after: no trade and no frame → stale; then it recovers.
  fault("stall_ms=5000");
  ASSERT_TRUE(wait_until([&] { return (q = quality_of(port, "BTC-USDT")).ok && q.feed_stale; }, 30s));
  EXPECT_TRUE(q.stale);
  EXPECT_DOUBLE_EQ(q.feed_score, 0.0);
  ASSERT_TRUE(wait_until([&] { return (q = quality_of(port, "BTC-USDT")).ok && !q.feed_stale; }, 30s));
  EXPECT_GE(q.feed_stale_transitions, 1u);

  const auto metrics = http_get("http://127.0.0.1:" + std::to_string(port) + "/metrics").body;
  EXPECT_NE(metrics.find("tickflow_quality_score{exchange=\"binance\",scope=\"series\",symbol=\"BTC-USDT\"}"),
            std::string::npos);
  EXPECT_NE(metrics.find("tickflow_quality_last_data_age_seconds{exchange=\"binance\",scope=\"feed\""),
            std::string::npos);
  EXPECT_EQ(metrics.find("tickflow_quality_events_total{check=\"outlier\",exchange=\"binance\"} 0"), std::string::npos);
  auto health = http_get("http://127.0.0.1:" + std::to_string(port) + "/health");
  EXPECT_NE(health.body.find("\"quality\""), std::string::npos);

  run.kill(SIGTERM);
  EXPECT_EQ(run.wait(60s), 0) << run.output();
  EXPECT_NE(run.output().find(", quality "), std::string::npos);
}

}  // namespace
}  // namespace tickflow::testing
