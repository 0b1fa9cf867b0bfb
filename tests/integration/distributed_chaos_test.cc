// Distributed chaos (issue 5, Tests: "kill -9 each service at random moments, at least 20 times in
// total, restart it; final candles identical, no duplicates downstream"). The topology of
// distributed_e2e_test.cc over librdkafka's mock cluster:
//
//   tickflow simulate → tickflow collector → raw.market-data → tickflow processor ×2 (0/2, 1/2)
//     → normalized.ohlcv → tickflow historical (embedded store, REST) + tickflow realtime
//
// While the simulator feeds, a seeded std::mt19937 (TICKFLOW_CHAOS_SEED overrides the default)
// picks a service (collector, processor 0, processor 1, historical) and a moment — a number of
// units of progress on the victim's own counter since the round began (collector: messages +
// backfilled trades; processor: trades; historical: candles written), or 0: right after it came
// up (a kill during recovery) — kills it with SIGKILL and restarts it on the same data dir. After
// kKills kills, every traded window must be final in the store and equal the aggTrades oracle in
// every field, one row per (series, open time); raw.market-data must hold every aggregate trade
// of the simulator's REST history (duplicates are allowed there: the sinks dedupe), and
// `tickflow tail` on Kafka prints every one of its records.
// Waits on conditions (log lines, HTTP answers, metrics), never on time.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <cinttypes>
#include <fstream>
#include <functional>
#include <random>
#include <sstream>

#include "bus/factory.h"
#include "core/codec.h"
#include "tests/integration/distributed_fixture.h"
#include "tests/servers/kafka_mock_server.h"

namespace tickflow::testing {
namespace {

using namespace std::chrono_literals;

constexpr const char* kSymbols = "BTC-USDT,ETH-USDT,SOL-USDT";
constexpr const char* kTimeframes = "1s,5s";
const std::vector<std::pair<std::string, int64_t>> kFrames = {{"1s", 1000}, {"5s", 5000}};
const std::vector<std::string> kSymbolList = {"BTC-USDT", "ETH-USDT", "SOL-USDT"};

// One killable service: how to (re)start it and which counters show its progress.
struct Victim {
  std::string name;
  std::vector<std::string> args;
  std::vector<std::string> progress_metrics;
  Service svc;
  int starts = 0;
  int kills = 0;

  double progress() const {
    double sum = 0;
    for (const auto& m : progress_metrics) {
      double v = metric_sum(svc.port, m);
      if (v < 0) return -1;
      sum += v;
    }
    return sum;
  }
};

bool start_victim(const std::string& dir, Victim& v) {
  v.svc = start_service(dir, v.name, v.args, v.starts++);
  return v.svc.port > 0;
}

// Every record of `topic` on the Kafka cluster, read through a bus of our own (its own sidecar).
std::vector<bus::Record> read_all(bus::EventBus& b, const std::string& topic) {
  std::vector<bus::Record> out;
  auto t = b.topic(topic);
  if (!t) return out;
  for (int32_t p = 0; p < t->partitions; ++p) {
    auto end = b.end_offset(topic, p);
    auto begin = b.begin_offset(topic, p);
    if (!end || !begin) {
      ADD_FAILURE() << "offsets of " << topic << "/" << p;
      continue;
    }
    int64_t pos = *begin;
    while (pos < *end) {
      std::vector<bus::Record> recs;
      Status st = b.read(topic, p, pos, 1000, recs);
      if (!st || recs.empty()) {
        ADD_FAILURE() << "read " << topic << "/" << p << " @" << pos << ": " << st.message();
        break;
      }
      pos = recs.back().offset + 1;
      for (auto& r : recs) out.push_back(std::move(r));
    }
  }
  return out;
}

uint32_t chaos_seed() {
  const char* env = std::getenv("TICKFLOW_CHAOS_SEED");
  return env != nullptr ? static_cast<uint32_t>(std::strtoul(env, nullptr, 10)) : 20240605u;
}

TEST(DistributedChaos, RandomKillsOfEveryServiceLeaveTheOracleCandlesOnceEach) {
  const std::string dir = make_temp_dir("tickflow_dist_chaos");
  const int64_t kTrades = 16000;
  const int kRate = 400;  // 40 s of market: the kills all land while it feeds
  const int kKills = 24;
  const uint32_t seed = chaos_seed();
  std::printf("chaos seed %u (TICKFLOW_CHAOS_SEED), logs in %s\n", seed, dir.c_str());
  std::mt19937 rng(seed);

  KafkaMockServer kafka(default_topic_args());
  ASSERT_TRUE(kafka.start()) << kafka.error();
  ASSERT_EQ(::setenv("KAFKA_BOOTSTRAP_SERVERS", kafka.bootstrap().c_str(), 1), 0);
  const std::string config = dir + "/kafka.toml";
  std::ofstream(config) << "[bus]\nbackend = \"kafka\"\n";

  auto common = [&](const std::string& name) {
    return std::vector<std::string>{"-c", config, "--data-dir", dir + "/" + name, "--port", "0", "--log-level", "info"};
  };
  auto processor = [&](int i) {
    return Victim{"processor" + std::to_string(i),
                  concat(concat({"processor"}, common("processor" + std::to_string(i))),
                         {"--timeframes", kTimeframes, "--instance", std::to_string(i), "--instances", "2"}),
                  {"tickflow_processor_trades_total"}};
  };
  std::vector<Victim> victims;
  victims.reserve(4);  // references below stay valid
  victims.push_back(processor(0));
  victims.push_back(processor(1));
  victims.push_back(Victim{"historical", concat({"historical"}, common("historical")),
                           {"tickflow_historical_candles_written_total"}});
  for (auto& v : victims) ASSERT_TRUE(start_victim(dir, v)) << v.svc.proc->output();
  Victim& hist = victims[2];
  Service rt = start_service(dir, "realtime", concat(concat({"realtime"}, common("realtime")),
                                                     {"--symbols", kSymbols, "--timeframes", kTimeframes}));
  ASSERT_GT(rt.port, 0) << rt.proc->output();

  auto sim = start_simulator(dir, 23, kSymbols, kRate, kTrades);
  ASSERT_GT(sim.port, 0) << sim.proc->output();
  const std::string sim_addr = "127.0.0.1:" + std::to_string(sim.port);
  victims.push_back(Victim{"collector",
                           concat(concat({"collector", "--exchange", "binance", "--symbols", "BTCUSDT,ETHUSDT,SOLUSDT"},
                                         common("collector")),
                                  {"--ws-url", "ws://" + sim_addr, "--rest-url", "http://" + sim_addr}),
                           {"tickflow_collector_messages_total", "tickflow_collector_backfilled_trades_total"}});
  ASSERT_TRUE(start_victim(dir, victims.back())) << victims.back().svc.proc->output();
  Victim& coll = victims.back();
  for (const auto& v : victims)
    ASSERT_TRUE(wait_until([&] { return bus_up(v.svc.port); }, 30s)) << v.name << " bus not up";
  ASSERT_TRUE(wait_until([&] { return bus_up(rt.port); }, 30s)) << "realtime bus not up";

  // The kills, each at a random amount of progress of the victim (0 = as soon as it is up).
  std::uniform_int_distribution<size_t> pick(0, victims.size() - 1);
  std::uniform_int_distribution<int> amount(0, 120);
  for (int k = 0; k < kKills; ++k) {
    Victim& v = victims[pick(rng)];
    const int n = amount(rng) < 15 ? 0 : amount(rng) + 1;
    ASSERT_TRUE(wait_until([&] { return bus_up(v.svc.port); }, 60s)) << v.name << " never came up\n"
                                                                      << v.svc.proc->output();
    const double base = v.progress();
    ASSERT_GE(base, 0) << v.name;
    ASSERT_TRUE(wait_until([&] { return v.progress() >= base + n; }, 60s))
        << "kill " << k << ": " << v.name << " made no progress (" << v.progress() << " of " << base + n
        << "); did the feed end before the kills? collector: " << coll.progress() << "\n"
        << v.svc.proc->output();
    const double collected = coll.progress();
    v.svc.proc->kill(SIGKILL);
    ASSERT_EQ(v.svc.proc->wait(10s), 128 + SIGKILL) << v.name;
    ++v.kills;
    std::printf("kill %2d: %-10s after %3d units of progress (collector instance at %.0f)\n", k + 1, v.name.c_str(),
                n, collected);
    std::fflush(stdout);
    ASSERT_TRUE(start_victim(dir, v)) << v.name << " did not restart\n" << v.svc.proc->output();
  }
  for (const auto& v : victims) std::printf("%s: %d kills\n", v.name.c_str(), v.kills);
  for (const auto& v : victims)
    ASSERT_TRUE(wait_until([&] { return bus_up(v.svc.port); }, 60s)) << v.name << " not up after the kills";

  // Every trade in the store's 1s candles, then every traded window final and equal to the oracle.
  ASSERT_TRUE(wait_until([&] { return total_trades_all(hist.svc.port, kSymbolList, "1s") == kTrades; }, 150s))
      << "store has " << total_trades_all(hist.svc.port, kSymbolList, "1s") << " of " << kTrades << " trades";
  std::map<std::string, std::vector<AggTrade>> agg;
  int64_t agg_trades = 0;
  for (const auto& s : kSymbolList) {
    agg[s] = fetch_all_agg_trades(sim.port, exchange_symbol(s));
    for (const auto& t : agg[s]) agg_trades += t.l - t.f + 1;
  }
  ASSERT_EQ(agg_trades, kTrades);
  for (const auto& s : kSymbolList)
    for (const auto& [tf, ms] : kFrames) {
      auto oracle = oracle_candles(agg[s], ms);
      ASSERT_TRUE(wait_until([&] { return all_final(hist.svc.port, s, tf, oracle); }, 60s)) << s << " " << tf;
      auto api = get_candles(hist.svc.port, "binance", s, tf);
      ASSERT_TRUE(api);
      expect_matches_oracle(*api, oracle, s + " " + tf);
    }

  // raw.market-data: every aggregate trade of the simulator, as the simulator has it.
  bus::BusConfig bc;
  bc.backend = "kafka";
  bc.data_dir = dir + "/checker";
  bc.kafka_bootstrap_servers = kafka.bootstrap();
  auto checker = bus::make_event_bus(bc);
  ASSERT_TRUE(checker) << checker.status().message();
  std::map<std::string, std::map<int64_t, Trade>> raw;
  size_t raw_records = 0;
  for (const auto& r : read_all(**checker, std::string(topics::kRawMarketData))) {
    auto t = codec::decode_trade(r.value);
    ASSERT_TRUE(t) << "undecodable raw record at " << r.partition << "/" << r.offset;
    ++raw_records;
    raw[t->symbol].emplace(t->trade_id, *t);
  }
  size_t unique = 0;
  for (const auto& s : kSymbolList) {
    unique += raw[s].size();
    EXPECT_EQ(raw[s].size(), agg[s].size()) << s << ": raw trades vs aggTrades";
    for (const auto& a : agg[s]) {
      auto it = raw[s].find(a.a);
      if (it == raw[s].end()) {
        ADD_FAILURE() << s << ": aggregate trade " << a.a << " lost";
        continue;
      }
      EXPECT_EQ(it->second.first_trade_id, a.f) << s << " " << a.a;
      EXPECT_EQ(it->second.last_trade_id, a.l) << s << " " << a.a;
      EXPECT_EQ(it->second.price.to_string(), Decimal::parse(a.p)->to_string()) << s << " " << a.a;
      EXPECT_EQ(it->second.quantity.to_string(), Decimal::parse(a.q)->to_string()) << s << " " << a.a;
    }
  }
  std::printf("raw.market-data: %zu records, %zu distinct trades (%zu re-published after kills)\n", raw_records,
              unique, raw_records - unique);
  checker->reset();

  // `tickflow tail` on Kafka prints the same records (read-only: nothing kept locally).
  Subprocess tail({tickflow_binary(), "tail", std::string(topics::kRawMarketData), "-c", config, "--from-beginning",
                   "--no-follow"},
                  dir + "/tail.log");
  ASSERT_EQ(tail.wait(60s), 0) << tail.output().substr(0, 4000);
  size_t tailed = 0;
  {
    std::istringstream lines(tail.output());
    for (std::string line; std::getline(lines, line);)
      if (line.rfind(R"({"topic":"raw.market-data","partition":)", 0) == 0) ++tailed;
  }
  EXPECT_EQ(tailed, raw_records) << "tickflow tail raw.market-data on Kafka";

  // Clean stops (drain, exit 0).
  for (Victim* v : {&coll, &victims[0], &victims[1], &hist}) {
    v->svc.proc->kill(SIGINT);
    EXPECT_EQ(v->svc.proc->wait(30s), 0) << v->svc.proc->output();
  }
  rt.proc->kill(SIGINT);
  EXPECT_EQ(rt.proc->wait(30s), 0) << rt.proc->output();
  sim.proc->kill(SIGINT);
  sim.proc->wait(10s);
  ::unsetenv("KAFKA_BOOTSTRAP_SERVERS");
}

}  // namespace
}  // namespace tickflow::testing
