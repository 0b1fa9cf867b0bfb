// End-to-end load run: simulator (Binance @trade over WebSocket) → collector → embedded bus →
// candle processor → realtime gateway → WebSocket clients, all in one process on loopback.
//
// Reports sustained throughput (trades collected and processed per second, candle updates
// pushed per second) and the latency from a trade's exchange time T to the arrival at a
// WebSocket client of the first candle update that includes it (its last_trade_id). The
// simulator sends a trade when the wall clock reaches its T (in ~1 ms bursts), so the figure
// is an upper bound of send → arrival with millisecond resolution.
//
// Usage: e2e_load [--rate 100000] [--symbols 20] [--seconds 20] [--warmup 3]
//                 [--provisional-ms 1] [--timeframes 1m] [--analytics]
//                 [--bus embedded|kafka|both] [--kafka-prop key=value ...] [--commits-in-flight 4]
// --bus kafka runs the same pipeline over the Kafka bus (src/bus/kafka) against librdkafka's mock
// cluster (3 brokers on loopback) started IN THIS PROCESS (its broker threads are named
// "kafka-mock" in the CPU report; the bus's librdkafka threads "kafka-client"); --kafka-prop adds
// librdkafka properties (after the bench's tuning, kBenchKafkaProps). --bus both runs embedded,
// then kafka, each in a child process (clean metrics, CPU accounting), and prints their figures
// side by side with the load average. Each mode ends with one machine-readable `RESULT` line.
// --analytics adds the full analytics stage of `tickflow run`: the indicator processor (default
// spec) and its loader into the store, the quality monitor, and an alert processor with one
// rule of each candle/indicator kind on every series — to compare the latency with and without.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <dirent.h>
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

#include "bus/factory.h"
#include "core/clock.h"
#include "core/codec.h"
#include "core/topics.h"
#include <unordered_map>
#include "core/symbol.h"
#include "exchange/binance/collector.h"
#include "exchange/simulator/simulator.h"
#include "exchange/transport/ws_connection.h"
#include "observability/metrics.h"
#include "processing/alerts/processor.h"
#include "processing/candles/processor.h"
#include "processing/indicators/processor.h"
#include "processing/quality/monitor.h"
#include "serving/api.h"
#include "serving/gateway.h"
#include "serving/server.h"
#include "storage/factory.h"
#include "storage/loader.h"
#include "tests/servers/kafka_mock_cluster.h"
#include "prom_text.h"

using namespace tickflow;
using bench::histogram_quantile;
using bench::metric_value;

namespace {

const char* kSymbols[] = {"BTCUSDT", "ETHUSDT", "SOLUSDT", "BNBUSDT",  "XRPUSDT",  "DOGEUSDT", "ADAUSDT",
                          "AVAXUSDT", "LINKUSDT", "DOTUSDT", "MATICUSDT", "LTCUSDT", "TRXUSDT", "ATOMUSDT",
                          "UNIUSDT", "NEARUSDT", "APTUSDT", "ARBUSDT", "OPUSDT", "FILUSDT"};

struct Arrival {
  TimestampNs at;
  int64_t last_trade_id;
};

int64_t find_int(const std::string& s, const char* key) {
  auto p = s.find(key);
  if (p == std::string::npos) return -1;
  return std::atoll(s.c_str() + p + std::strlen(key));
}

// CPU seconds (user + system) per thread name of this process. Threads inherit the name of
// the thread that created them, so naming the main thread before each component's start()
// attributes the component's threads to it.
std::map<std::string, double> cpu_by_thread_name() {
  std::map<std::string, double> out;
  DIR* d = opendir("/proc/self/task");
  if (d == nullptr) return out;
  const double tick = static_cast<double>(sysconf(_SC_CLK_TCK));
  while (dirent* e = readdir(d)) {
    if (e->d_name[0] == '.') continue;
    std::string path = std::string("/proc/self/task/") + e->d_name + "/stat";
    FILE* f = std::fopen(path.c_str(), "r");
    if (f == nullptr) continue;
    char buf[1024];
    size_t n = std::fread(buf, 1, sizeof(buf) - 1, f);
    std::fclose(f);
    buf[n] = '\0';
    std::string line(buf);
    auto open = line.find('('), close = line.rfind(')');
    if (open == std::string::npos || close == std::string::npos) continue;
    std::string name = line.substr(open + 1, close - open - 1);
    // Fields after ")": state(3) ... utime(14) stime(15).
    const char* p = line.c_str() + close + 2;
    unsigned long long utime = 0, stime = 0;
    int field = 3;
    while (*p && field < 14) {
      if (*p == ' ') ++field;
      ++p;
    }
    if (std::sscanf(p, "%llu %llu", &utime, &stime) == 2)
      out[name] += static_cast<double>(utime + stime) / tick;
  }
  closedir(d);
  return out;
}

void name_this_thread(const char* name) { pthread_setname_np(pthread_self(), name); }

double pct(std::vector<double>& v, double q) {
  if (v.empty()) return 0;
  size_t i = std::min(v.size() - 1, static_cast<size_t>(q * static_cast<double>(v.size())));
  std::nth_element(v.begin(), v.begin() + static_cast<long>(i), v.end());
  return v[i];
}

// librdkafka tuning of the Kafka mode (see docs/benchmarks.md "Through Kafka"). produce() waits
// for every acknowledgement of a commit, so linger.ms adds to every commit's latency one for
// one: 1 ms still batches the records a commit enqueues together; the consumers ask the broker
// to answer a fetch at once when anything is there (fetch.min.bytes 1) and wait at most
// fetch.wait.max.ms when nothing is.
const std::vector<std::pair<std::string, std::string>> kBenchKafkaProps = {
    {"linger.ms", "1"},          {"batch.num.messages", "10000"}, {"batch.size", "1000000"},
    {"compression.type", "lz4"}, {"fetch.wait.max.ms", "5"},     {"fetch.min.bytes", "1"},
    {"queue.buffering.max.kbytes", "262144"}};

std::string load_average() {
  double l[3] = {0, 0, 0};
  if (getloadavg(l, 3) != 3) return "?";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.2f/%.2f/%.2f", l[0], l[1], l[2]);
  return buf;
}

// --bus both: runs this program once per mode (same flags + --bus MODE), echoes its output and
// prints the RESULT lines side by side.
int run_both(int argc, char** argv) {
  std::vector<std::pair<std::string, std::string>> results;  // mode, RESULT line
  for (const char* mode : {"embedded", "kafka"}) {
    char self[4096];
    const ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);  // (in popen's shell it is sh)
    if (n <= 0) return 1;
    std::string cmd = "'" + std::string(self, static_cast<size_t>(n)) + "'";
    for (int i = 1; i < argc; ++i) cmd += std::string(" '") + argv[i] + "'";
    cmd += std::string(" --bus ") + mode + " 2>&1";
    std::printf("=== --bus %s (load average before: %s)\n", mode, load_average().c_str());
    std::fflush(stdout);
    FILE* f = popen(cmd.c_str(), "r");
    if (f == nullptr) return 1;
    char line[4096];
    std::string result;
    while (std::fgets(line, sizeof line, f) != nullptr) {
      std::fputs(line, stdout);
      if (std::strncmp(line, "RESULT ", 7) == 0) {
        result = line;
        while (!result.empty() && (result.back() == '\n' || result.back() == '\r')) result.pop_back();
        result += ' ';  // every field ends with a space
      }
    }
    if (pclose(f) != 0 || result.empty()) {
      std::fprintf(stderr, "e2e_load --bus %s failed\n", mode);
      return 1;
    }
    results.emplace_back(mode, result);
  }
  auto field = [](const std::string& r, const char* key) {
    auto p = r.find(std::string(" ") + key + "=");
    if (p == std::string::npos) return std::string("?");
    const size_t from = p + std::strlen(key) + 2;
    return r.substr(from, r.find(' ', from) - from);
  };
  std::printf("\n%-9s %12s %12s %9s %9s %9s %9s %8s  %s\n", "bus", "collected/s", "processed/s", "p50 ms", "p99 ms",
              "p99.9 ms", "samples", "cpu %", "load average (1/5/15 min) at the end");
  for (const auto& [mode, r] : results) {
    std::printf("%-9s %12s %12s %9s %9s %9s %9s %8s  %s\n", mode.c_str(), field(r, "collected").c_str(),
                field(r, "processed").c_str(), field(r, "p50").c_str(), field(r, "p99").c_str(),
                field(r, "p999").c_str(), field(r, "samples").c_str(), field(r, "cpu").c_str(),
                field(r, "load").c_str());
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  double rate = 100000;
  int nsym = 20;
  int seconds = 20, warmup = 3;
  int provisional_ms = 1;
  std::string timeframes = "1m";
  size_t commits_in_flight = processing::ProcessorConfig{}.max_commits_in_flight;
  size_t collector_in_flight = 0;  // binance::CollectorConfig::commits_in_flight (experimental)
  bool analytics = false;  // --analytics (no value): taken out before the key/value flags
  for (int i = 1; i < argc; ++i)
    if (std::strcmp(argv[i], "--analytics") == 0) {
      analytics = true;
      for (int j = i; j + 1 < argc; ++j) argv[j] = argv[j + 1];
      --argc;
      break;
    }
  std::string bus_mode = "embedded";
  std::vector<std::pair<std::string, std::string>> kafka_props = kBenchKafkaProps;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string k = argv[i];
    if (k == "--bus") {
      bus_mode = argv[i + 1];
      continue;
    }
    if (k == "--kafka-prop") {
      std::string kv = argv[i + 1];
      auto eq = kv.find('=');
      if (eq == std::string::npos) {
        std::fprintf(stderr, "--kafka-prop wants key=value, got %s\n", kv.c_str());
        return 2;
      }
      kafka_props.emplace_back(kv.substr(0, eq), kv.substr(eq + 1));
      continue;
    }
    if (k == "--rate") rate = std::atof(argv[i + 1]);
    else if (k == "--symbols") nsym = std::clamp(std::atoi(argv[i + 1]), 1, 20);
    else if (k == "--seconds") seconds = std::atoi(argv[i + 1]);
    else if (k == "--warmup") warmup = std::atoi(argv[i + 1]);
    else if (k == "--provisional-ms") provisional_ms = std::atoi(argv[i + 1]);
    else if (k == "--timeframes") timeframes = argv[i + 1];
    else if (k == "--commits-in-flight") commits_in_flight = static_cast<size_t>(std::max(1, std::atoi(argv[i + 1])));
    else if (k == "--collector-commits-in-flight") collector_in_flight = static_cast<size_t>(std::max(0, std::atoi(argv[i + 1])));

    else {
      std::fprintf(stderr, "unknown flag %s\n", k.c_str());
      return 2;
    }
  }
  char tmpl[] = "/tmp/tickflow_load_XXXXXX";
  std::string dir = mkdtemp(tmpl);
  const Clock& clock = SystemClock::instance();

  if (bus_mode == "both") {
    std::string rm = "rm -rf " + dir;
    if (std::system(rm.c_str()) != 0) return 1;
    // The children get the same flags; --bus both is replaced by each mode.
    std::vector<char*> rest;
    for (int i = 0; i < argc; ++i) {
      if (std::strcmp(argv[i], "--bus") == 0 && i + 1 < argc) {
        ++i;
        continue;
      }
      rest.push_back(argv[i]);
    }
    if (analytics) rest.push_back(const_cast<char*>("--analytics"));
    return run_both(static_cast<int>(rest.size()), rest.data());
  }
  if (bus_mode != "embedded" && bus_mode != "kafka") {
    std::fprintf(stderr, "--bus: embedded, kafka or both, got %s\n", bus_mode.c_str());
    return 2;
  }

  bus::BusConfig bc;
  bc.data_dir = dir;
  std::unique_ptr<testing::KafkaMockCluster> kafka_mock;  // declared first: outlives the bus
  if (bus_mode == "kafka") {
    name_this_thread("kafka-mock");
    std::string error;
    kafka_mock = testing::KafkaMockCluster::start(3, &error);
    if (!kafka_mock) {
      std::fprintf(stderr, "kafka mock cluster: %s\n", error.c_str());
      return 1;
    }
    for (const auto& spec : topics::kDefaultTopics) {
      if (!kafka_mock->create_topic(std::string(spec.name), spec.partitions, &error)) {
        std::fprintf(stderr, "kafka mock cluster: %s\n", error.c_str());
        return 1;
      }
    }
    bc.backend = "kafka";
    bc.kafka_bootstrap_servers = kafka_mock->bootstrap();
    for (const auto& [k, v] : kafka_props) bc.kafka_properties[k] = v;
    std::printf("kafka: mock cluster of 3 brokers at %s; properties:", bc.kafka_bootstrap_servers.c_str());
    for (const auto& [k, v] : bc.kafka_properties) std::printf(" %s=%s", k.c_str(), v.c_str());
    std::printf("\n");
    name_this_thread("kafka-client");
  }
  auto bus = bus::make_event_bus(bc);
  storage::StoreConfig sc;
  sc.data_dir = dir;
  auto store = storage::make_candle_store(sc);
  if (!bus || !store) {
    std::fprintf(stderr, "cannot open storage in %s\n", dir.c_str());
    return 1;
  }
  storage::HistoricalLoader loader(**bus, **store);
  processing::ProcessorConfig pc;
  pc.candles.timeframes = *Timeframe::parse_list(timeframes);
  pc.candles.provisional_interval = provisional_ms * kNsPerMs;
  pc.max_commits_in_flight = commits_in_flight;
  processing::CandleProcessor processor(**bus, pc, clock);
  // The analytics stage (--analytics), built like `tickflow run` builds it.
  std::unique_ptr<processing::indicators::IndicatorProcessor> indicators;
  std::unique_ptr<storage::HistoricalLoader> indicator_loader;
  std::unique_ptr<quality::QualityMonitor> quality_monitor;
  std::unique_ptr<processing::alerts::AlertProcessor> alerts;
  if (analytics) {
    processing::indicators::IndicatorProcessorConfig ic;  // default spec: sma, ema, rsi, macd, bb, atr, vwap
    indicators = std::make_unique<processing::indicators::IndicatorProcessor>(**bus, **store, ic, clock);
    indicator_loader = std::make_unique<storage::HistoricalLoader>(**bus, **store, storage::indicator_loader_config());
    quality::QualityMonitorConfig qc;
    for (int i = 0; i < nsym; ++i) qc.series.emplace_back(Exchange::kBinance, normalize_symbol(Exchange::kBinance, kSymbols[i]).value_or(kSymbols[i]));
    quality_monitor = std::make_unique<quality::QualityMonitor>(**bus, qc, clock);
    processing::alerts::AlertProcessorConfig ac;
    namespace al = processing::alerts;
    auto rule = [&](std::string name, al::RuleKind kind, std::string series, std::optional<double> level) {
      al::AlertRule r;
      r.name = std::move(name);
      r.kind = kind;
      r.timeframe = "1m";
      r.series = std::move(series);
      r.level = level;
      r.confirm = al::Confirm::kLive;
      ac.rules.push_back(std::move(r));
    };
    rule("close_above", al::RuleKind::kCrossAbove, "close", 1e9);
    rule("rsi_high", al::RuleKind::kRsiOverbought, "rsi14", 70);
    rule("sma_cross", al::RuleKind::kCrossAbove, "sma20", std::nullopt);
    ac.rules.back().other = "ema20";
    al::AlertRule spike;
    spike.name = "volume_spike";
    spike.kind = al::RuleKind::kVolumeSpike;
    spike.timeframe = "1m";
    spike.factor = 3;
    ac.rules.push_back(spike);
    if (auto err = al::validate_rules(ac.rules)) {
      std::fprintf(stderr, "bad bench rule: %s\n", err->to_string().c_str());
      return 1;
    }
    alerts = std::make_unique<al::AlertProcessor>(
        **bus, ac, clock, [&quality_monitor] { return quality_monitor->snapshot(); });
  }
  serving::RealtimeGateway gateway(**bus);
  serving::ApiOptions ao;
  ao.is_configured = [](Exchange, const std::string&, const Timeframe&) { return true; };
  serving::ApiHandler api(**store, [] { return std::vector<ComponentHealth>{}; }, ao);
  serving::ServerConfig srv;
  srv.port = 0;
  serving::HttpServer server(srv, api, gateway);

  exchange::simulator::SimulatorConfig simc;
  simc.rate = rate;
  simc.seed = 1;
  simc.symbols.assign(kSymbols, kSymbols + nsym);
  exchange::simulator::Simulator sim(simc);

  // Threads inherit the creating thread's name: name the main thread after each component
  // while it starts, for the per-thread CPU report.
  std::vector<std::pair<const char*, std::function<Status()>>> starts = {
      {"loader", [&] { return loader.start(); }},     {"processor", [&] { return processor.start(); }},
      {"gateway", [&] { return gateway.start(); }},   {"http-server", [&] { return server.start(); }},
      {"simulator", [&] { return sim.start(); }}};
  if (analytics) {
    starts.insert(starts.begin() + 2, {"indicators", [&] { return indicators->start(); }});
    starts.insert(starts.begin() + 3, {"ind-loader", [&] { return indicator_loader->start(); }});
    starts.insert(starts.begin() + 4, {"quality", [&] { return quality_monitor->start(); }});
    starts.insert(starts.begin() + 5, {"alerts", [&] { return alerts->start(); }});
  }
  for (auto& [name, start] : starts) {
    name_this_thread(name);
    Status st = start();
    if (!st) {
      std::fprintf(stderr, "start failed (%s): %s\n", name, st.message().c_str());
      return 1;
    }
  }
  name_this_thread("ws-client");

  // One WebSocket client per symbol, subscribed to the first timeframe's series.
  std::atomic<bool> stop{false};
  std::atomic<bool> measuring{false};
  std::vector<std::vector<Arrival>> arrivals(static_cast<size_t>(nsym));
  std::vector<std::thread> clients;
  std::atomic<int> connected{0};
  const std::string tf_label = pc.candles.timeframes.front().label();
  for (int s = 0; s < nsym; ++s) {
    clients.emplace_back([&, s] {
      auto ws = exchange::transport::make_ws_connection();
      std::string unified = unify_binance_symbol(kSymbols[s]);
      auto url = exchange::transport::parse_url("ws://127.0.0.1:" + std::to_string(server.port()) +
                                                "/ws/ohlcv/binance/" + unified + "/" + tf_label);
      if (!url || !ws->connect(*url, 10 * kNsPerSec)) {
        std::fprintf(stderr, "ws connect failed for %s\n", unified.c_str());
        return;
      }
      ++connected;
      std::string frame;
      while (!stop) {
        auto f = ws->read_frame(200 * kNsPerMs);
        if (!f) continue;
        TimestampNs at = clock.now_ns();
        if (!measuring) continue;
        frame.assign(f->data(), f->size());
        if (frame.compare(0, 16, "{\"type\":\"candle\"") != 0) continue;
        int64_t id = find_int(frame, "\"last_trade_id\":");
        if (id >= 0) arrivals[static_cast<size_t>(s)].push_back({at, id});
      }
      ws->close();
    });
  }
  while (connected < nsym) std::this_thread::yield();

  exchange::binance::CollectorConfig cc;
  cc.ws_url = sim.ws_url();
  cc.rest_url = sim.rest_url();
  cc.trade_stream = "trade";
  for (int s = 0; s < nsym; ++s) cc.symbols.push_back(kSymbols[s]);
  cc.commits_in_flight = collector_in_flight;
  exchange::binance::Collector collector(cc, **bus, clock);
  name_this_thread("collector");
  if (Status st = collector.start(); !st) {
    std::fprintf(stderr, "collector: %s\n", st.message().c_str());
    return 1;
  }
  name_this_thread("e2e_load");

  std::printf("e2e_load: %.0f trades/s over %d symbols, timeframes %s, provisional every %d ms; warmup %d s, measure %d s; "
              "processor commits in flight %zu\n",
              rate, nsym, timeframes.c_str(), provisional_ms, warmup, seconds, commits_in_flight);
  std::this_thread::sleep_for(std::chrono::seconds(warmup));
  measuring = true;
  auto c0 = collector.stats();
  auto p0 = processor.stats();
  auto cpu0 = cpu_by_thread_name();
  TimestampNs t0 = clock.now_ns();
  std::this_thread::sleep_for(std::chrono::seconds(seconds));
  TimestampNs t1 = clock.now_ns();
  auto cpu1 = cpu_by_thread_name();
  measuring = false;
  auto c1 = collector.stats();
  auto p1 = processor.stats();
  double secs = static_cast<double>(t1 - t0) / kNsPerSec;

  collector.stop();
  stop = true;
  for (auto& t : clients) t.join();
  server.stop();
  gateway.stop();
  if (alerts) alerts->stop();
  if (quality_monitor) quality_monitor->stop();
  if (indicator_loader) indicator_loader->stop();
  if (indicators) indicators->stop();
  processor.stop();
  loader.stop();

  // Receive time of every trade the collector published (the log holds ts_recv).
  std::unordered_map<std::string, std::unordered_map<int64_t, TimestampNs>> recv_of;
  // Append (commit) time of every trade in raw.market-data, and of the first candle update
  // carrying each last_trade_id in normalized.ohlcv: the stage boundaries.
  std::unordered_map<std::string, std::unordered_map<int64_t, TimestampNs>> raw_commit_of, candle_commit_of;
  {
    auto topic = (*bus)->topic(topics::kNormalizedOhlcv);
    std::vector<bus::Record> recs;
    for (int32_t p = 0; topic && p < topic->partitions; ++p) {
      int64_t from = 0;
      while (true) {
        recs.clear();
        if (!(*bus)->read(topics::kNormalizedOhlcv, p, from, 10000, recs) || recs.empty()) break;
        for (const auto& r : recs) {
          auto c = codec::decode_candle(r.value);
          if (!c || c->last_trade_id < 0) continue;
          auto& m = candle_commit_of[c->exchange_symbol];
          auto [it, fresh] = m.emplace(c->last_trade_id, r.timestamp);
          if (!fresh) it->second = std::min(it->second, r.timestamp);
        }
        from = recs.back().offset + 1;
      }
    }
  }
  {
    auto topic = (*bus)->topic(topics::kRawMarketData);
    std::vector<bus::Record> recs;
    for (int32_t p = 0; topic && p < topic->partitions; ++p) {
      int64_t from = 0;
      while (true) {
        recs.clear();
        if (!(*bus)->read(topics::kRawMarketData, p, from, 10000, recs) || recs.empty()) break;
        for (const auto& r : recs) {
          auto t = codec::decode_trade(r.value);
          if (t) {
            recv_of[t->exchange_symbol][t->trade_id] = t->ts_recv;
            raw_commit_of[t->exchange_symbol][t->trade_id] = r.timestamp;
          }
        }
        from = recs.back().offset + 1;
      }
    }
  }
  std::vector<double> recv_lat_ms, stage_collect_ms, stage_process_ms, stage_serve_ms;
  // Latency: arrival − T of the update's newest trade.
  std::vector<double> lat_ms;
  size_t updates = 0;
  for (int s = 0; s < nsym; ++s) {
    std::map<int64_t, int64_t> t_of;
    for (const auto& tr : sim.history(kSymbols[s])) t_of[tr.id] = tr.time_ms;
    const auto& recv = recv_of[kSymbols[s]];
    const auto& raw_commit = raw_commit_of[kSymbols[s]];
    const auto& candle_commit = candle_commit_of[kSymbols[s]];
    for (const auto& a : arrivals[static_cast<size_t>(s)]) {
      ++updates;
      if (auto r = recv.find(a.last_trade_id); r != recv.end()) {
        recv_lat_ms.push_back(static_cast<double>(a.at - r->second) / kNsPerMs);
        auto rc = raw_commit.find(a.last_trade_id);
        auto cc = candle_commit.find(a.last_trade_id);
        if (rc != raw_commit.end() && cc != candle_commit.end()) {
          stage_collect_ms.push_back(static_cast<double>(rc->second - r->second) / kNsPerMs);
          stage_process_ms.push_back(static_cast<double>(cc->second - rc->second) / kNsPerMs);
          stage_serve_ms.push_back(static_cast<double>(a.at - cc->second) / kNsPerMs);
        }
      }
      auto it = t_of.find(a.last_trade_id);
      if (it == t_of.end()) continue;
      lat_ms.push_back(static_cast<double>(a.at - it->second * kNsPerMs) / kNsPerMs);
    }
  }
  sim.stop();
  std::printf("collected:  %.0f trades/s (%" PRIu64 " in %.1f s)\n",
              static_cast<double>(c1.trades_published - c0.trades_published) / secs,
              c1.trades_published - c0.trades_published, secs);
  std::printf("processed:  %.0f trades/s\n", static_cast<double>(p1.trades - p0.trades) / secs);
  std::printf("pushed:     %.0f candle updates/s to %d WebSocket clients\n", static_cast<double>(updates) / secs, nsym);
  std::printf("latency exchange time T → WS arrival (ms, %zu samples): p50 %.2f  p99 %.2f  p99.9 %.2f  max %.2f\n",
              lat_ms.size(), pct(lat_ms, 0.50), pct(lat_ms, 0.99), pct(lat_ms, 0.999), pct(lat_ms, 1.0));
  std::printf("latency collector receive → WS arrival (ms, %zu samples): p50 %.2f  p99 %.2f  p99.9 %.2f  max %.2f\n",
              recv_lat_ms.size(), pct(recv_lat_ms, 0.50), pct(recv_lat_ms, 0.99), pct(recv_lat_ms, 0.999),
              pct(recv_lat_ms, 1.0));
  std::printf("stages of the same samples (ms; p50 / p99 / p99.9):\n");
  for (auto& [label, v] : std::vector<std::pair<const char*, std::vector<double>*>>{
           {"receive → raw commit (collector)", &stage_collect_ms},
           {"raw commit → candle commit (processor)", &stage_process_ms},
           {"candle commit → WS arrival (gateway, server)", &stage_serve_ms}}) {
    std::printf("  %-46s %6.2f / %6.2f / %6.2f\n", label, pct(*v, 0.5), pct(*v, 0.99), pct(*v, 0.999));
  }
  std::printf("CPU during the measurement, by thread (%% of one core):");
  double total_cpu = 0;
  for (const auto& [name, sec] : cpu1) {
    double d = sec - (cpu0.count(name) ? cpu0[name] : 0.0);
    total_cpu += d;
    if (d / secs >= 0.005) std::printf(" %s %.0f%%,", name.c_str(), 100.0 * d / secs);
  }
  std::printf(" total %.0f%%\n", 100.0 * total_cpu / secs);
  const std::string metrics = obs::render_text();
  std::printf("stage latencies from the Prometheus histograms (upper bucket bounds, ms; p50 / p99):\n");
  for (const char* name : {"tickflow_collector_feed_lag_seconds", "tickflow_processor_e2e_latency_seconds",
                           "tickflow_realtime_push_latency_seconds", "tickflow_processor_commit_seconds",
                           "tickflow_kafka_commit_produce_seconds"}) {
    const double count = metric_value(metrics, std::string(name) + "_count");
    if (count <= 0) continue;
    std::printf("  %-42s %6.2f / %6.2f   (%.0f observations over the run, mean %.2f ms)\n", name,
                histogram_quantile(metrics, name, 0.5), histogram_quantile(metrics, name, 0.99), count,
                1000.0 * metric_value(metrics, std::string(name) + "_sum") / count);
  }
  std::printf("RESULT bus=%s collected=%.0f processed=%.0f p50=%.2f p99=%.2f p999=%.2f samples=%zu cpu=%.0f load=%s\n",
              bus_mode.c_str(), static_cast<double>(c1.trades_published - c0.trades_published) / secs,
              static_cast<double>(p1.trades - p0.trades) / secs, pct(recv_lat_ms, 0.50), pct(recv_lat_ms, 0.99),
              pct(recv_lat_ms, 0.999), recv_lat_ms.size(), 100.0 * total_cpu / secs, load_average().c_str());
  std::fflush(stdout);
  std::string rm = "rm -rf " + dir;
  return std::system(rm.c_str()) == 0 ? 0 : 1;
}
