// Distributed rebalancing (issue 5: "partitions spread over several processor instances; adding or
// killing one rebalances without loss"; "a processor added mid-run takes over partitions"). Over
// librdkafka's mock cluster:
//
//   tickflow simulate → tickflow collector → raw.market-data → tickflow processor --group ×2
//     → normalized.ohlcv → tickflow historical (embedded store, REST)
//
// Processor A runs alone (the group's only member: every partition); B joins mid-feed and takes
// over partitions (cooperative-sticky: A gives some up, the rest stay), restoring their state from
// the changelog topic; A is killed with SIGKILL and its partitions move to B after the session
// timeout (4 s); A is restarted on its data dir and rejoins. Every traded window must then be
// final in the store and equal the aggTrades oracle in every field, once each, never corrected
// (a lost or stale state would correct or miss candles). Waits on conditions, never on time.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <fstream>

#include "core/symbol.h"
#include "tests/integration/distributed_fixture.h"
#include "tests/servers/kafka_mock_server.h"

namespace tickflow::testing {
namespace {

using namespace std::chrono_literals;

// Six instruments over raw.market-data partitions 21, 6, 24, 3, 29 and 15: both members get some.
constexpr const char* kSymbols = "BTC-USDT,ETH-USDT,SOL-USDT,XRP-USDT,DOGE-USDT,BNB-USDT";
constexpr const char* kTimeframes = "1s,5s";
const std::vector<std::pair<std::string, int64_t>> kFrames = {{"1s", 1000}, {"5s", 5000}};
const std::vector<std::string> kSymbolList = {"BTC-USDT", "ETH-USDT", "SOL-USDT", "XRP-USDT", "DOGE-USDT", "BNB-USDT"};

double owned(const Service& s) { return metric_sum(s.port, "tickflow_kafka_group_partitions"); }
double trades(const Service& s) { return metric_sum(s.port, "tickflow_processor_trades_total"); }

TEST(DistributedRebalance, AddedProcessorTakesOverAndAKilledOnesPartitionsMoveWithoutLossOrDuplicates) {
  const std::string dir = make_temp_dir("tickflow_dist_rebalance");
  const int64_t kTrades = 14000;
  const int kRate = 400;  // 35 s of market: the rebalances land mid-feed
  std::printf("logs in %s\n", dir.c_str());

  // The mock has no CreateTopics: the processors' changelog topic is created with the others.
  KafkaMockServer kafka(concat(default_topic_args(), {"processor-candles-changelog:30"}));
  ASSERT_TRUE(kafka.start()) << kafka.error();
  ASSERT_EQ(::setenv("KAFKA_BOOTSTRAP_SERVERS", kafka.bootstrap().c_str(), 1), 0);
  const std::string config = dir + "/kafka.toml";
  std::ofstream(config) << "[bus]\nbackend = \"kafka\"\n";

  auto common = [&](const std::string& name) {
    return std::vector<std::string>{"-c", config, "--data-dir", dir + "/" + name, "--port", "0", "--log-level", "info"};
  };
  auto processor_args = [&](const std::string& name) {
    return concat(concat({"processor"}, common(name)),
                  {"--timeframes", kTimeframes, "--group", "--session-timeout-ms", "4000", "--analytics", "off"});
  };
  Service hist = start_service(dir, "historical", concat({"historical"}, common("historical")));
  ASSERT_GT(hist.port, 0) << hist.proc->output();
  Service a = start_service(dir, "processorA", processor_args("processorA"));
  ASSERT_GT(a.port, 0) << a.proc->output();
  ASSERT_TRUE(wait_until([&] { return owned(a) == 30; }, 60s)) << "A never got the 30 partitions\n"
                                                                 << a.proc->output();

  auto sim = start_simulator(dir, 31, kSymbols, kRate, kTrades);
  ASSERT_GT(sim.port, 0) << sim.proc->output();
  const std::string sim_addr = "127.0.0.1:" + std::to_string(sim.port);
  Service coll = start_service(
      dir, "collector",
      concat(concat({"collector", "--exchange", "binance", "--symbols", "BTCUSDT,ETHUSDT,SOLUSDT,XRPUSDT,DOGEUSDT,BNBUSDT"},
                    common("collector")),
             {"--ws-url", "ws://" + sim_addr, "--rest-url", "http://" + sim_addr}));
  ASSERT_GT(coll.port, 0) << coll.proc->output();
  ASSERT_TRUE(wait_until([&] { return trades(a) >= 1500; }, 60s)) << "A made no progress\n" << a.proc->output();

  // B joins: it takes over partitions (state from the changelog), A keeps the rest.
  Service b = start_service(dir, "processorB", processor_args("processorB"));
  ASSERT_GT(b.port, 0) << b.proc->output();
  ASSERT_TRUE(wait_until([&] { return owned(b) > 0 && owned(a) > 0 && owned(a) + owned(b) == 30; }, 60s))
      << "no rebalance: A " << owned(a) << ", B " << owned(b) << "\n"
      << b.proc->output();
  std::printf("after B joined: A owns %.0f partitions, B %.0f (B replayed %.0f changelog records)\n", owned(a),
              owned(b), metric_sum(b.port, "tickflow_kafka_state_rebuild_records_total"));
  const double a_before = trades(a);
  ASSERT_TRUE(wait_until([&] { return trades(a) + trades(b) >= a_before + 1500; }, 60s))
      << "no progress after the rebalance: A " << trades(a) << ", B " << trades(b);

  // A dies: after the session timeout its partitions move to B.
  a.proc->kill(SIGKILL);
  ASSERT_EQ(a.proc->wait(10s), 128 + SIGKILL);
  ASSERT_TRUE(wait_until([&] { return owned(b) == 30; }, 60s)) << "B owns " << owned(b) << "\n" << b.proc->output();
  std::printf("A killed: B owns 30 partitions, %.0f trades (replayed %.0f changelog records in total)\n", trades(b),
              metric_sum(b.port, "tickflow_kafka_state_rebuild_records_total"));
  const double b_before = trades(b);
  ASSERT_TRUE(wait_until([&] { return trades(b) > b_before; }, 60s)) << "B made no progress alone";

  // A restarts on its data dir and rejoins: partitions are shared again.
  a = start_service(dir, "processorA", processor_args("processorA"), 1);
  ASSERT_GT(a.port, 0) << a.proc->output();
  ASSERT_TRUE(wait_until([&] { return owned(a) > 0 && owned(a) + owned(b) == 30; }, 60s))
      << "A did not rejoin: A " << owned(a) << ", B " << owned(b) << "\n"
      << a.proc->output();
  std::printf("A rejoined: A owns %.0f partitions, B %.0f\n", owned(a), owned(b));

  // Everything in the store, final, equal to the oracle, once each.
  ASSERT_TRUE(wait_until([&] { return total_trades_all(hist.port, kSymbolList, "1s") == kTrades; }, 150s))
      << "store has " << total_trades_all(hist.port, kSymbolList, "1s") << " of " << kTrades << " trades";
  std::map<std::string, std::vector<AggTrade>> agg;
  for (const auto& s : kSymbolList) agg[s] = fetch_all_agg_trades(sim.port, exchange_symbol(s));
  for (const auto& s : kSymbolList)
    for (const auto& [tf, ms] : kFrames) {
      auto oracle = oracle_candles(agg[s], ms);
      ASSERT_TRUE(wait_until([&] { return all_final(hist.port, s, tf, oracle); }, 60s)) << s << " " << tf;
      auto api = get_candles(hist.port, "binance", s, tf);
      ASSERT_TRUE(api);
      expect_matches_oracle(*api, oracle, s + " " + tf);
    }

  // Operations view: both members caught up (lag 0 on what they own), commits counted, a state size.
  for (Service* p : {&a, &b}) {
    EXPECT_TRUE(wait_until([&] { return metric_sum(p->port, "tickflow_kafka_consumer_lag") == 0; }, 30s));
    EXPECT_GT(metric_sum(p->port, "tickflow_kafka_commits_total"), 0);
    EXPECT_GT(metric_sum(p->port, "tickflow_kafka_state_store_bytes"), 0);
    EXPECT_TRUE(bus_up(p->port));
  }
  auto m = http_get("http://127.0.0.1:" + std::to_string(b.port) + "/metrics");
  EXPECT_NE(m.body.find(R"(tickflow_kafka_consumer_lag{group="processor",partition=")"), std::string::npos);

  for (Service* s : {&coll, &a, &b, &hist}) {
    s->proc->kill(SIGINT);
    EXPECT_EQ(s->proc->wait(30s), 0) << s->proc->output();
  }
  sim.proc->kill(SIGINT);
  sim.proc->wait(10s);
  ::unsetenv("KAFKA_BOOTSTRAP_SERVERS");
}

}  // namespace
}  // namespace tickflow::testing
