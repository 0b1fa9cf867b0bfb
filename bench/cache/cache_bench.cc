// cache_bench: latest-value reads and cache writes against a real redis-server it starts.
//   BM_LatestFromRedis     GET /latest/... through ApiHandler + LatestRoute, served by Redis
//   BM_LatestFromStore     the same route with no cache (embedded RocksDB store), for comparison
//   BM_WriterThroughput    CacheWriter::run_once draining candle updates from the in-memory bus;
//                          arg = distinct series (1 = everything coalesces, N = one key per record)
// Read benchmarks report p50_us / p99_us counters (per request, single client thread).
// Run: build/bench/cache/cache_bench  (Redis 7 from Debian must be installed).
#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>

#include "bus/testing/in_memory_bus.h"
#include "cache/cache_writer.h"
#include "cache/redis/redis_latest_cache.h"
#include "core/codec.h"
#include "serving/api.h"
#include "serving/latest_route.h"
#include "storage/factory.h"
#include "tests/servers/redis_server.h"

namespace tickflow {
namespace {

constexpr int kSeries = 200;

Candle make_candle(int series, int minute, int64_t trades, CandleStatus status = CandleStatus::kProvisional) {
  Candle c;
  c.symbol = "S" + std::to_string(series) + "-USDT";
  c.exchange_symbol = "S" + std::to_string(series) + "USDT";
  c.timeframe = *Timeframe::parse("1m");
  c.open_time = 1628952360LL * kNsPerSec + minute * kNsPerMin;
  c.close_time = c.open_time + kNsPerMin - kNsPerMs;
  c.open = *Decimal::parse("43000.64000000");
  c.high = *Decimal::parse("43010.00000000");
  c.low = *Decimal::parse("42990.01000000");
  c.close = *Decimal::parse("43005.12000000");
  c.volume.add(*Decimal::parse("12.34567800"));
  c.quote_volume.add(*Decimal::parse("530887.12345678"));
  c.trades = trades;
  c.first_trade_id = 1;
  c.last_trade_id = trades;
  c.status = status;
  return c;
}

// One redis-server, one store and one cache for the whole run.
struct Env {
  testing::RedisServer server;
  std::string dir = testing::make_temp_dir("tickflow_cache_bench");
  std::unique_ptr<storage::CandleStore> store;
  std::unique_ptr<cache::redis::RedisLatestCache> cache;

  Env() {
    if (!server.start()) {
      std::fprintf(stderr, "cache_bench: cannot start redis-server: %s\n", server.error().c_str());
      std::exit(1);
    }
    storage::StoreConfig sc;
    sc.data_dir = dir;
    store = std::move(storage::make_candle_store(sc)).value();
    cache::redis::RedisCacheConfig rc;
    rc.client.url = cache::redis::RedisUrl::parse(server.url()).value();
    cache = std::make_unique<cache::redis::RedisLatestCache>(rc);
    std::vector<Candle> history;
    cache::LatestBatch batch;
    for (int s = 0; s < kSeries; ++s) {
      for (int m = 0; m < 50; ++m) history.push_back(make_candle(s, m, 100 + m, CandleStatus::kFinal));
      batch.candles.push_back(make_candle(s, 50, 7));
    }
    if (!store->write(history, {}).is_ok() || !cache->put(batch).is_ok()) std::exit(1);
  }
  ~Env() {
    cache.reset();
    store.reset();
    std::system(("rm -rf '" + dir + "'").c_str());
  }
  static Env& get() {
    static Env env;
    return env;
  }
};

void read_bench(benchmark::State& state, cache::LatestCache* cache, const char* expect_source) {
  Env& env = Env::get();
  serving::ApiOptions options;
  options.modules.push_back(std::make_shared<serving::LatestRoute>(cache, *env.store));
  serving::ApiHandler api(*env.store, {}, options);
  std::vector<double> us;
  us.reserve(1 << 20);
  int i = 0;
  for (auto _ : state) {
    const std::string target = "/latest/binance/S" + std::to_string(i++ % kSeries) + "-USDT/1m";
    auto t0 = std::chrono::steady_clock::now();
    serving::HttpResponse r = api.handle({"GET", target, ""});
    us.push_back(std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count());
    if (r.status != 200 || r.body.find(expect_source) == std::string::npos) {
      state.SkipWithError(("unexpected answer: " + r.body.substr(0, 200)).c_str());
      break;
    }
    benchmark::DoNotOptimize(r.body.data());
  }
  if (us.empty()) return;
  std::sort(us.begin(), us.end());
  state.counters["p50_us"] = us[us.size() / 2];
  state.counters["p99_us"] = us[std::min(us.size() - 1, us.size() * 99 / 100)];
  state.counters["max_us"] = us.back();
}

void BM_LatestFromRedis(benchmark::State& state) { read_bench(state, Env::get().cache.get(), "\"source\":\"redis\""); }
BENCHMARK(BM_LatestFromRedis)->MinTime(2.0)->UseRealTime();

void BM_LatestFromStore(benchmark::State& state) { read_bench(state, nullptr, "\"source\":\"store\""); }
BENCHMARK(BM_LatestFromStore)->MinTime(2.0)->UseRealTime();

// Drains `records` candle updates spread over state.range(0) series; items = records.
void BM_WriterThroughput(benchmark::State& state) {
  Env& env = Env::get();
  const int series = static_cast<int>(state.range(0));
  const int records = 50'000;
  std::vector<std::string> encoded;
  for (int i = 0; i < records; ++i)
    encoded.push_back(codec::encode_candle(make_candle(i % series, 100 + i / series, 1 + i / series)));
  int64_t keys = 0;
  for (auto _ : state) {
    state.PauseTiming();
    bus::testing::InMemoryBus bus;
    (void)bus.create_topic({std::string(topics::kNormalizedOhlcv), 60, 0});
    auto tx = bus.begin();
    for (int i = 0; i < records; ++i)
      tx->append(topics::kNormalizedOhlcv, "binance:S" + std::to_string(i % series) + "-USDT", encoded[static_cast<size_t>(i)]);
    if (!tx->commit().is_ok()) state.SkipWithError("bus commit failed");
    cache::CacheWriterConfig wc;
    wc.topics = {std::string(topics::kNormalizedOhlcv)};
    cache::CacheWriter writer(bus, *env.cache, nullptr, wc);
    (void)writer.run_once();  // marker check outside the timing
    state.ResumeTiming();
    for (;;) {
      auto r = writer.run_once();
      if (!r) {
        state.SkipWithError(r.status().to_string().c_str());
        break;
      }
      if (*r == 0) break;
    }
    keys += static_cast<int64_t>(writer.keys_written());
  }
  state.SetItemsProcessed(state.iterations() * records);
  state.counters["keys_written_per_s"] = benchmark::Counter(static_cast<double>(keys), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_WriterThroughput)->Arg(1)->Arg(200)->Arg(50'000)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
}  // namespace tickflow

BENCHMARK_MAIN();
