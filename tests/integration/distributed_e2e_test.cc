// Distributed end to end (issue 5): the services as separate OS processes over librdkafka's mock
// Kafka cluster (`tickflow_kafka_mock`, 3 brokers, the default topics of core/topics.h):
//
//   tickflow simulate → tickflow collector → raw.market-data → tickflow processor ×2 (0/2, 1/2)
//     → normalized.ohlcv → tickflow historical (embedded store, REST) + tickflow realtime (WS)
//
// The final candles must equal the aggTrades oracle (as in e2e_test.cc) and the candles of the
// embedded `tickflow run` on the same seeded feed; one processor is killed with SIGKILL mid-feed
// and restarted, and the store still holds exactly those candles, once each.
// Waits on conditions (HTTP answers, metrics), never on time.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <atomic>
#include <fstream>
#include <thread>

#include "core/symbol.h"
#include "core/topics.h"
#include "exchange/transport/ws_connection.h"
#include "tests/integration/distributed_fixture.h"
#include "tests/servers/kafka_mock_server.h"

namespace tickflow::testing {
namespace {

using namespace std::chrono_literals;

constexpr const char* kSymbols = "BTC-USDT,ETH-USDT,SOL-USDT";
constexpr const char* kTimeframes = "1s,5s";
const std::vector<std::pair<std::string, int64_t>> kFrames = {{"1s", 1000}, {"5s", 5000}};
const std::vector<std::string> kSymbolList = {"BTC-USDT", "ETH-USDT", "SOL-USDT"};

// The candles of the oracle's range, field by field, against the embedded run's.
void expect_same_candles(const std::vector<ApiCandle>& dist, const std::vector<ApiCandle>& embedded,
                         const std::map<int64_t, OracleCandle>& oracle, const std::string& what) {
  auto in_range = [&](const std::vector<ApiCandle>& v) {
    std::map<int64_t, ApiCandle> out;
    for (const auto& c : v)
      if (c.open_time_ms >= oracle.begin()->first && c.open_time_ms <= oracle.rbegin()->first) out[c.open_time_ms] = c;
    return out;
  };
  auto a = in_range(dist), b = in_range(embedded);
  ASSERT_EQ(a.size(), b.size()) << what;
  for (const auto& [open, x] : a) {
    auto it = b.find(open);
    ASSERT_NE(it, b.end()) << what << " @" << open;
    const ApiCandle& y = it->second;
    EXPECT_EQ(x.open, y.open) << what << " @" << x.open_time;
    EXPECT_EQ(x.high, y.high) << what << " @" << x.open_time;
    EXPECT_EQ(x.low, y.low) << what << " @" << x.open_time;
    EXPECT_EQ(x.close, y.close) << what << " @" << x.open_time;
    EXPECT_EQ(x.volume, y.volume) << what << " @" << x.open_time;
    EXPECT_EQ(x.quote_volume, y.quote_volume) << what << " @" << x.open_time;
    EXPECT_EQ(x.trades, y.trades) << what << " @" << x.open_time;
    EXPECT_EQ(x.first_trade_id, y.first_trade_id) << what << " @" << x.open_time;
    EXPECT_EQ(x.last_trade_id, y.last_trade_id) << what << " @" << x.open_time;
    EXPECT_EQ(x.status, y.status) << what << " @" << x.open_time;
    EXPECT_EQ(x.revision, y.revision) << what << " @" << x.open_time;
  }
}

TEST(DistributedEndToEnd, ServicesOverKafkaEqualTheEmbeddedRunAcrossAProcessorKill) {
  const std::string dir = make_temp_dir("tickflow_dist_e2e");
  const int64_t kTrades = 6000;
  const int kRate = 400;  // 15 s of market: the kill lands mid-feed

  KafkaMockServer kafka(default_topic_args());
  ASSERT_TRUE(kafka.start()) << kafka.error();
  ASSERT_EQ(::setenv("KAFKA_BOOTSTRAP_SERVERS", kafka.bootstrap().c_str(), 1), 0);
  const std::string config = dir + "/kafka.toml";
  std::ofstream(config) << "[bus]\nbackend = \"kafka\"\n";

  // Which processor owns which symbol (raw.market-data: 30 partitions, p % 2).
  for (const auto& s : kSymbolList) {
    int32_t p = topics::partition_for(instrument_key(Exchange::kBinance, s), 30);
    std::printf("%s → raw.market-data partition %d → processor %d\n", s.c_str(), p, p % 2);
  }

  auto common = [&](const std::string& name) {
    return std::vector<std::string>{"-c", config, "--data-dir", dir + "/" + name, "--port", "0", "--log-level", "info"};
  };
  auto with = [](std::vector<std::string> a, std::vector<std::string> b) {
    a.insert(a.end(), b.begin(), b.end());
    return a;
  };
  auto processor_args = [&](int i) {
    return with(with({"processor"}, common("processor" + std::to_string(i))),
                {"--timeframes", kTimeframes, "--instance", std::to_string(i), "--instances", "2"});
  };

  Service p0 = start_service(dir, "processor0", processor_args(0));
  ASSERT_GT(p0.port, 0) << p0.proc->output();
  Service p1 = start_service(dir, "processor1", processor_args(1));
  ASSERT_GT(p1.port, 0) << p1.proc->output();
  Service hist = start_service(dir, "historical", with({"historical"}, common("historical")));
  ASSERT_GT(hist.port, 0) << hist.proc->output();
  Service rt = start_service(dir, "realtime", with(with({"realtime"}, common("realtime")),
                                                   {"--symbols", kSymbols, "--timeframes", kTimeframes}));
  ASSERT_GT(rt.port, 0) << rt.proc->output();

  // A live WebSocket client on the realtime service.
  std::atomic<int> pushed{0};
  std::atomic<bool> stop{false};
  std::thread ws_thread([&] {
    auto ws = exchange::transport::make_ws_connection();
    auto url = exchange::transport::parse_url("ws://127.0.0.1:" + std::to_string(rt.port) +
                                              "/ws/ohlcv/binance/BTC-USDT/1s");
    ASSERT_TRUE(url);
    ASSERT_TRUE(ws->connect(*url, 10 * kNsPerSec).is_ok());
    while (!stop) {
      auto f = ws->read_frame(200 * kNsPerMs);
      if (f && std::string(*f).find("\"candle\"") != std::string::npos) ++pushed;
    }
    ws->close();
  });

  auto sim = start_simulator(dir, 11, kSymbols, kRate, kTrades);
  ASSERT_GT(sim.port, 0) << sim.proc->output();
  const std::string sim_addr = "127.0.0.1:" + std::to_string(sim.port);
  Service coll = start_service(dir, "collector",
                               with(with({"collector", "--exchange", "binance", "--symbols",
                                          "BTCUSDT,ETHUSDT,SOLUSDT"},
                                         common("collector")),
                                    {"--ws-url", "ws://" + sim_addr, "--rest-url", "http://" + sim_addr}));
  ASSERT_GT(coll.port, 0) << coll.proc->output();

  for (Service* s : {&p0, &p1, &hist, &rt, &coll})
    EXPECT_TRUE(wait_until([&] { return bus_up(s->port); }, 30s)) << "bus not up on port " << s->port;

  // kill -9 processor 1 once it has processed part of the feed, then restart it on its data dir.
  ASSERT_TRUE(wait_until([&] { return metric_sum(p1.port, "tickflow_processor_trades_total") > 200; }, 120s))
      << p1.proc->output();
  const double collected_at_kill = metric_sum(coll.port, "tickflow_collector_messages_total");
  p1.proc->kill(SIGKILL);
  p1.proc->wait(10s);
  p1 = start_service(dir, "processor1", processor_args(1), 1);
  ASSERT_GT(p1.port, 0) << p1.proc->output();
  std::printf("processor 1 killed (collector had received %.0f messages), restarted\n", collected_at_kill);

  // Every trade in the 1s candles of the store, then every traded window final.
  ASSERT_TRUE(wait_until([&] { return total_trades_all(hist.port, kSymbolList, "1s") == kTrades; }, 180s))
      << "store has " << total_trades_all(hist.port, kSymbolList, "1s") << " of " << kTrades << " trades\n"
      << p1.proc->output();
  std::map<std::string, std::vector<AggTrade>> agg;
  for (const auto& s : kSymbolList) agg[s] = fetch_all_agg_trades(sim.port, exchange_symbol(s));
  for (const auto& s : kSymbolList)
    for (const auto& [tf, ms] : kFrames) {
      auto oracle = oracle_candles(agg[s], ms);
      ASSERT_TRUE(wait_until([&] { return all_final(hist.port, s, tf, oracle); }, 60s)) << s << " " << tf;
    }
  std::map<std::string, std::vector<ApiCandle>> distributed;
  for (const auto& s : kSymbolList)
    for (const auto& [tf, ms] : kFrames) {
      auto api = get_candles(hist.port, "binance", s, tf);
      ASSERT_TRUE(api);
      expect_matches_oracle(*api, oracle_candles(agg[s], ms), s + " " + tf + " (distributed)");
      distributed[s + " " + tf] = *api;
    }
  EXPECT_TRUE(wait_until([&] { return pushed > 0; }, 30s)) << "no WebSocket push from the realtime service";
  stop = true;
  ws_thread.join();

  // Clean stops (drain, exit 0).
  for (Service* s : {&coll, &p0, &p1, &rt, &hist}) {
    s->proc->kill(SIGINT);
    EXPECT_EQ(s->proc->wait(30s), 0) << s->proc->output();
  }
  sim.proc->kill(SIGINT);
  sim.proc->wait(10s);

  // The embedded monolith on the same seeded feed gives the same candles.
  auto sim2 = start_simulator(dir, 11, kSymbols, kRate, kTrades, "simulator_embedded");
  ASSERT_GT(sim2.port, 0) << sim2.proc->output();
  auto run = start_run(dir, dir + "/embedded", sim2.port, kSymbols, kTimeframes);
  ASSERT_GT(run.port, 0) << run.proc->output();
  ASSERT_TRUE(wait_until([&] { return total_trades_all(run.port, kSymbolList, "1s") == kTrades; }, 180s)) << run.proc->output();
  for (const auto& s : kSymbolList)
    for (const auto& [tf, ms] : kFrames) {
      auto oracle = oracle_candles(agg[s], ms);
      ASSERT_TRUE(wait_until([&] { return all_final(run.port, s, tf, oracle); }, 60s)) << s << " " << tf;
      auto api = get_candles(run.port, "binance", s, tf);
      ASSERT_TRUE(api);
      expect_same_candles(distributed[s + " " + tf], *api, oracle, s + " " + tf + " (distributed vs embedded)");
    }
  run.proc->kill(SIGINT);
  EXPECT_EQ(run.proc->wait(30s), 0);
  ::unsetenv("KAFKA_BOOTSTRAP_SERVERS");
}

}  // namespace
}  // namespace tickflow::testing
