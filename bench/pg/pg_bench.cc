// pg_bench: the PostgreSQL store's write throughput and read latency against a real
// PostgreSQL 15 it starts (tests/servers/postgres_server.h, loopback, temp dir).
//
//   candles/loader   HistoricalLoader (its writer threads, --writers, default the store's 2) over
//                    an in-memory normalized.ohlcv (60 partitions): decode + PgCandleStore::write
//                    (probe of stored keys, binary COPY of the new ones straight into ohlcv, the
//                    others through the staging upsert keeping the highest precedence, positions,
//                    one txn per batch and writer)
//   candles/store    PgCandleStore::write alone, per batch size (fresh rows)
//   candles/replay   the same batches again: every row conflicts (ON CONFLICT DO UPDATE path)
//   trades/loader    TradeLoader (its writer threads) over an in-memory raw.market-data (30 partitions)
//   trades/store     PgCandleStore::write_trades alone
//   GET /ohlcv       ApiHandler (in-process, as bench/cache does for /latest) on the PG store:
//                    /ohlcv/binance/S{i}-USDT/1m?limit=1000, one client thread, p50/p99/max
//
// Write lines give wall-clock rows/s and the CPU time per row of this process and of the server
// processes (from /proc), which does not depend on what else the machine runs.
// The server runs with durable settings (fsync, synchronous_commit and full_page_writes on:
// the test defaults are overridden) unless --fast is given.
// Run: build-pg/bench/pg/pg_bench [--candles N] [--trades N] [--queries N] [--fast] [--writers N]
//      [--unix-socket] (the store connects through the server's Unix socket instead of TCP)
//      [--set name=value]... (extra server settings) [--pg-log FILE] (keep the server's log)
#include <dirent.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <sstream>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "bus/testing/in_memory_bus.h"
#include "core/codec.h"
#include "core/topics.h"
#include "serving/api.h"
#include "serving/candle_json.h"
#include "storage/loader.h"
#include "storage/postgres/pg_candle_store.h"
#include "storage/trade_loader.h"
#include "tests/servers/postgres_server.h"

namespace tickflow {
namespace {

constexpr int kSeries = 100;
constexpr TimestampNs kT0 = 1628899200LL * kNsPerSec;  // 2021-08-14T00:00:00Z

using Clock = std::chrono::steady_clock;
double seconds(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

std::string symbol(int s) { return "S" + std::to_string(s) + "-USDT"; }

// Candle i of a run: series i % kSeries, minute `minute_base + i / kSeries`; prices vary.
Candle make_candle(int64_t i, int64_t minute_base) {
  const int s = static_cast<int>(i % kSeries);
  const int64_t minute = minute_base + i / kSeries;
  Candle c;
  c.symbol = symbol(s);
  c.exchange_symbol = "S" + std::to_string(s) + "USDT";
  c.timeframe = *Timeframe::parse("1m");
  c.open_time = kT0 + minute * kNsPerMin;
  c.close_time = c.open_time + kNsPerMin - kNsPerMs;
  const int64_t p = 4'300'000'000'000 + (i * 7919) % 100'000'000;  // 8 decimals
  c.open = Decimal(p, 8);
  c.high = Decimal(p + 1'000'000, 8);
  c.low = Decimal(p - 1'000'000, 8);
  c.close = Decimal(p + 123'456, 8);
  c.volume = *WideDecimal::parse("12.34567800");
  c.quote_volume = *WideDecimal::parse("530887.1234567800000000");
  c.taker_buy_volume = *WideDecimal::parse("6.10000000");
  c.taker_buy_quote_volume = *WideDecimal::parse("262305.0000000000000000");
  c.trades = 100 + i % 50;
  c.first_trade_id = i * 200;
  c.last_trade_id = i * 200 + c.trades - 1;
  c.status = CandleStatus::kFinal;
  return c;
}

Trade make_trade(int64_t i) {
  const int s = static_cast<int>(i % kSeries);
  Trade t;
  t.symbol = symbol(s);
  t.exchange_symbol = "S" + std::to_string(s) + "USDT";
  t.trade_id = i / kSeries;
  t.first_trade_id = t.trade_id * 3;
  t.last_trade_id = t.trade_id * 3 + 2;
  t.price = Decimal(4'300'000'000'000 + (i * 7919) % 100'000'000, 8);
  t.quantity = Decimal(120'000 + i % 1000, 8);
  t.taker_side = i % 2 ? Side::kBuy : Side::kSell;
  t.ts_event = kT0 + (i / kSeries) * 10 * kNsPerMs;  // 100 trades/s per symbol
  t.ts_recv = t.ts_event + 5 * kNsPerMs;
  t.aggregated = true;
  return t;
}

void die(const char* what, const Status& st) {
  std::fprintf(stderr, "pg_bench: %s: %s\n", what, st.to_string().c_str());
  std::exit(1);
}

// CPU seconds (user + system) used so far by this process and by the PostgreSQL server (the
// postmaster and its children: the store's backends, WAL writer, checkpointer), so a figure can
// be given per row independent of what else the machine runs.
struct CpuTimes {
  double client = 0, server = 0;
};

double proc_cpu_seconds(const std::string& pid) {
  std::ifstream f("/proc/" + pid + "/stat");
  std::string line;
  if (!std::getline(f, line)) return 0;
  std::istringstream rest(line.substr(line.rfind(')') + 2));  // after "pid (comm) "
  std::string field;
  double ticks = 0;
  for (int i = 3; i <= 15 && rest >> field; ++i)
    if (i == 14 || i == 15) ticks += std::stod(field);  // utime, stime
  return ticks / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

std::string proc_ppid(const std::string& pid) {
  std::ifstream f("/proc/" + pid + "/stat");
  std::string line;
  if (!std::getline(f, line)) return "";
  std::istringstream rest(line.substr(line.rfind(')') + 2));
  std::string state, ppid;
  rest >> state >> ppid;
  return ppid;
}

CpuTimes cpu_times(const std::string& postmaster) {
  CpuTimes t;
  rusage ru{};
  ::getrusage(RUSAGE_SELF, &ru);
  t.client = static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
             static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
  t.server = proc_cpu_seconds(postmaster);
  if (DIR* d = ::opendir("/proc")) {
    while (dirent* e = ::readdir(d)) {
      const std::string pid = e->d_name;
      if (!pid.empty() && std::isdigit(static_cast<unsigned char>(pid[0])) && proc_ppid(pid) == postmaster)
        t.server += proc_cpu_seconds(pid);
    }
    ::closedir(d);
  }
  return t;
}

std::string g_postmaster;  // pid of the server, from postmaster.pid

struct Measure {
  Clock::time_point t0 = Clock::now();
  CpuTimes cpu0 = cpu_times(g_postmaster);
};

// Wall-clock rows/s, and CPU per row (client + server): what rows/s one idle core would give.
void report(const char* name, int64_t rows, const Measure& m) {
  const double secs = seconds(m.t0);
  const CpuTimes cpu1 = cpu_times(g_postmaster);
  const double client_us = (cpu1.client - m.cpu0.client) * 1e6 / static_cast<double>(rows);
  const double server_us = (cpu1.server - m.cpu0.server) * 1e6 / static_cast<double>(rows);
  std::printf("%-30s %8lld rows %6.2f s = %7.0f rows/s | cpu/row: client %5.2f us + server %5.2f us\n", name,
              static_cast<long long>(rows), secs, static_cast<double>(rows) / secs, client_us, server_us);
  std::fflush(stdout);
}

// Wall-clock percentiles; with `cpu_us` (CPU microseconds of this thread per request) and
// `server_us` (the server processes' CPU per request) also the load-independent cost.
void print_latency(const char* name, std::vector<double>& us, const std::vector<double>* cpu_us = nullptr,
                   double server_us = -1) {
  std::sort(us.begin(), us.end());
  std::printf("%-38s %6zu requests: p50 %.2f ms, p99 %.2f ms, max %.2f ms", name, us.size(),
              us[us.size() / 2] / 1000, us[std::min(us.size() - 1, us.size() * 99 / 100)] / 1000, us.back() / 1000);
  if (cpu_us && !cpu_us->empty()) {
    std::vector<double> c = *cpu_us;
    std::sort(c.begin(), c.end());
    double sum = 0;
    for (double v : c) sum += v;
    std::printf(" | cpu/request: client mean %.3f ms (p50 %.3f)", sum / static_cast<double>(c.size()) / 1000,
                c[c.size() / 2] / 1000);
    if (server_us >= 0) std::printf(" + server %.3f ms", server_us / 1000);
  }
  std::printf("\n");
  std::fflush(stdout);
}

// CPU time of the calling thread, microseconds (load-independent, unlike the wall clock).
double thread_cpu_us() {
  timespec ts{};
  ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) * 1e6 + static_cast<double>(ts.tv_nsec) / 1e3;
}

// Runs the loader's writers on their own threads (as in production) until every partition is
// stored.
template <typename Loader>
void drain(Loader& loader) {
  if (Status st = loader.start(); !st) die("loader start", st);
  while (!loader.caught_up()) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  loader.stop();
}

struct Args {
  int64_t candles = 500'000;
  int64_t trades = 1'000'000;
  int queries = 2000;
  bool fast = false;
  bool unix_socket = false;
  size_t writers = 0;                 // loader writers; 0 = the store's write_parallelism()
  std::vector<std::string> settings;  // --set name=value: extra server settings (experiments)
  std::string pg_log;                 // --pg-log FILE: copy the server's log there at the end
};

Args parse_args(int argc, char** argv) {
  Args a;
  for (int i = 1; i < argc; ++i) {
    const std::string k = argv[i];
    auto next = [&]() -> const char* {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "pg_bench: %s needs a value\n", k.c_str());
        std::exit(2);
      }
      return argv[++i];
    };
    if (k == "--candles") a.candles = std::atoll(next());
    else if (k == "--trades") a.trades = std::atoll(next());
    else if (k == "--queries") a.queries = std::atoi(next());
    else if (k == "--fast") a.fast = true;
    else if (k == "--unix-socket") a.unix_socket = true;
    else if (k == "--writers") a.writers = static_cast<size_t>(std::atoll(next()));
    else if (k == "--set") a.settings.push_back(next());
    else if (k == "--pg-log") a.pg_log = next();
    else {
      std::fprintf(stderr, "usage: pg_bench [--candles N] [--trades N] [--queries N] [--fast] [--writers N] [--set name=value]... [--pg-log FILE]\n");
      std::exit(2);
    }
  }
  return a;
}

int run_with(const Args& args, testing::PostgresServer& server);

int run(const Args& args) {
  testing::PostgresServer server;
  const int rc = run_with(args, server);
  if (!args.pg_log.empty())
    std::system(("cp '" + server.dir() + "/postgres.log' '" + args.pg_log + "'").c_str());
  return rc;
}

int run_with(const Args& args, testing::PostgresServer& server) {
  if (!testing::PostgresServer::available()) {
    std::fprintf(stderr, "pg_bench: postgresql-15 is not installed\n");
    return 1;
  }
  // Settings of a small production server: durable commits, room for a bulk load.
  server.add_setting("shared_buffers=1GB");
  server.add_setting("max_wal_size=4GB");
  if (!args.fast) {
    server.add_setting("fsync=on");
    server.add_setting("synchronous_commit=on");
    server.add_setting("full_page_writes=on");
  }
  for (const std::string& kv : args.settings) server.add_setting(kv);
  if (!server.start()) {
    std::fprintf(stderr, "pg_bench: cannot start postgres: %s\n", server.error().c_str());
    return 1;
  }
  {
    std::ifstream pidfile(server.dir() + "/data/postmaster.pid");
    std::getline(pidfile, g_postmaster);
  }
  std::printf("postgres %s on 127.0.0.1:%d (fsync=%s synchronous_commit=%s shared_buffers=%s), data in %s\n",
              server.query("SHOW server_version").c_str(), server.port(), server.query("SHOW fsync").c_str(),
              server.query("SHOW synchronous_commit").c_str(), server.query("SHOW shared_buffers").c_str(),
              server.dir().c_str());
  storage::pg::PgStoreOptions o;
  // A Unix-domain socket (libpq: a host that starts with '/' is the socket's directory).
  o.conn.host = args.unix_socket ? server.dir() : server.host();
  o.conn.port = std::to_string(server.port());
  o.conn.db = server.db();
  o.conn.user = server.user();
  o.timescale = "off";
  auto opened = storage::pg::PgCandleStore::open(o);
  if (!opened) die("open store", opened.status());
  storage::pg::PgCandleStore& store = **opened;
  std::printf("store: %s\n", store.flavour().c_str());

  // --- candles through the HistoricalLoader (decode + write), default batch (5000 records).
  {
    bus::testing::InMemoryBus bus;
    (void)bus.create_topic({std::string(topics::kNormalizedOhlcv), 60, 0});
    (void)bus.create_topic({std::string(topics::kDlqMarketData), 6, 0});
    for (int64_t i = 0; i < args.candles;) {
      auto tx = bus.begin();
      for (int64_t end = std::min(args.candles, i + 100'000); i < end; ++i) {
        const Candle c = make_candle(i, 0);
        tx->append(topics::kNormalizedOhlcv, instrument_key(c.exchange, c.symbol), codec::encode_candle(c));
      }
      if (Status st = tx->commit(); !st) die("bus commit", st);
    }
    storage::LoaderConfig lc;
    lc.writers = args.writers;
    storage::HistoricalLoader loader(bus, store, lc);
    const Measure m;
    drain(loader);
    const std::string name = "candles/loader (5000, " + std::to_string(loader.writers()) + " wr)";
    report(name.c_str(), args.candles, m);
    const std::string n = server.query("SELECT count(*) FROM ohlcv");
    if (n != std::to_string(args.candles)) {
      std::fprintf(stderr, "pg_bench: ohlcv has %s rows, expected %lld\n", n.c_str(),
                   static_cast<long long>(args.candles));
      return 1;
    }
  }

  // --- candles through PgCandleStore::write alone, per batch size, fresh rows; then replayed.
  int64_t minute_base = args.candles / kSeries + 1;
  for (size_t batch : {1000, 5000, 20000}) {
    const int64_t rows = std::min<int64_t>(args.candles, 200'000);
    std::vector<std::vector<Candle>> batches;
    for (int64_t i = 0; i < rows; ++i) {
      if (i % static_cast<int64_t>(batch) == 0) batches.emplace_back();
      batches.back().push_back(make_candle(i, minute_base));
    }
    minute_base += rows / kSeries + 1;
    for (const char* pass : {"store", "replay"}) {
      const Measure m;
      int64_t offset = 0;
      for (const auto& b : batches) {
        offset += static_cast<int64_t>(b.size());
        if (Status st = store.write(b, {{"bench", "normalized.ohlcv", 0, offset}}); !st) die("write", st);
      }
      const std::string name = std::string("candles/") + pass + " (batch " + std::to_string(batch) + ")";
      report(name.c_str(), rows, m);
    }
  }

  // --- trades through the TradeLoader (decode + write_trades), default batch (20000 records).
  {
    bus::testing::InMemoryBus bus;
    (void)bus.create_topic({std::string(topics::kRawMarketData), 30, 0});
    for (int64_t i = 0; i < args.trades;) {
      auto tx = bus.begin();
      for (int64_t end = std::min(args.trades, i + 100'000); i < end; ++i) {
        const Trade t = make_trade(i);
        tx->append(topics::kRawMarketData, instrument_key(t.exchange, t.symbol), codec::encode_trade(t));
      }
      if (Status st = tx->commit(); !st) die("bus commit", st);
    }
    storage::TradeLoaderConfig tc;
    tc.writers = args.writers;
    storage::TradeLoader loader(bus, store, tc);
    const Measure m;
    drain(loader);
    const std::string name = "trades/loader (20000, " + std::to_string(loader.writers()) + " wr)";
    report(name.c_str(), args.trades, m);
    const std::string n = server.query("SELECT count(*) FROM trades");
    if (n != std::to_string(args.trades)) {
      std::fprintf(stderr, "pg_bench: trades has %s rows, expected %lld\n", n.c_str(),
                   static_cast<long long>(args.trades));
      return 1;
    }
  }
  // --- trades through write_trades alone (fresh ids).
  {
    const int64_t rows = std::min<int64_t>(args.trades, 500'000);
    std::vector<std::vector<Trade>> batches;
    for (int64_t i = 0; i < rows; ++i) {
      if (i % 20000 == 0) batches.emplace_back();
      batches.back().push_back(make_trade(args.trades + i));
    }
    const Measure m;
    int64_t offset = 0;
    for (const auto& b : batches) {
      offset += static_cast<int64_t>(b.size());
      if (Status st = store.write_trades(b, {{"bench", "raw.market-data", 0, offset}}); !st) die("write_trades", st);
    }
    report("trades/store (batch 20000)", rows, m);
  }

  // --- GET /ohlcv/.../1m?limit=1000 through the ApiHandler.
  {
    (void)server.query("VACUUM ANALYZE");
    serving::ApiHandler api(store, {});
    std::vector<double> us, cpu;
    us.reserve(static_cast<size_t>(args.queries));
    cpu.reserve(static_cast<size_t>(args.queries));
    CpuTimes cpu0;
    for (int i = -100; i < args.queries; ++i) {  // 100 warm-up requests
      if (i == 0) cpu0 = cpu_times(g_postmaster);
      const std::string target = "/ohlcv/binance/" + symbol((i + 100) % kSeries) + "/1m?limit=1000";
      const double c0 = thread_cpu_us();
      const auto t0 = Clock::now();
      serving::HttpResponse r = api.handle({"GET", target, ""});
      const double t = std::chrono::duration<double, std::micro>(Clock::now() - t0).count();
      const double c = thread_cpu_us() - c0;
      if (r.status != 200 || r.body.size() < 100'000) {
        std::fprintf(stderr, "pg_bench: unexpected answer %d (%zu bytes): %s\n", r.status, r.body.size(),
                     r.body.substr(0, 200).c_str());
        return 1;
      }
      if (i >= 0) {
        us.push_back(t);
        cpu.push_back(c);
      }
    }
    const double server_us =
        (cpu_times(g_postmaster).server - cpu0.server) * 1e6 / static_cast<double>(args.queries);
    print_latency("GET /ohlcv/binance/S*/1m?limit=1000", us, &cpu, server_us);
    // The store's part of it: PgCandleStore::query alone (SQL + row decoding, no JSON), then the
    // JSON of its answer alone (the handler's serialization, no SQL).
    us.clear();
    cpu.clear();
    std::vector<double> json_us, json_cpu;
    cpu0 = cpu_times(g_postmaster);
    for (int i = 0; i < args.queries; ++i) {
      storage::CandleQuery q;
      q.symbol = symbol(i % kSeries);
      q.timeframe = *Timeframe::parse("1m");
      const double c0 = thread_cpu_us();
      const auto t0 = Clock::now();
      auto r = store.query(q);
      us.push_back(std::chrono::duration<double, std::micro>(Clock::now() - t0).count());
      cpu.push_back(thread_cpu_us() - c0);
      if (!r || r->size() != 1000) die("query", r ? Status::internal("short answer") : r.status());
      const double j0 = thread_cpu_us();
      const auto t1 = Clock::now();
      std::string body;
      body.reserve(128 + r->size() * 560);
      for (const Candle& c : *r) serving::append_candle_json(body, c);
      json_us.push_back(std::chrono::duration<double, std::micro>(Clock::now() - t1).count());
      json_cpu.push_back(thread_cpu_us() - j0);
    }
    print_latency("  of which PgCandleStore::query", us, &cpu,
                  (cpu_times(g_postmaster).server - cpu0.server) * 1e6 / static_cast<double>(args.queries));
    print_latency("  of which JSON of 1000 candles", json_us, &json_cpu);
  }
  return 0;
}

}  // namespace
}  // namespace tickflow

int main(int argc, char** argv) { return tickflow::run(tickflow::parse_args(argc, argv)); }
