// `tickflow historical` into PostgreSQL, SIGKILLed mid-load several times and restarted: the
// database ends with exactly the candles (highest precedence each) and the trades of the log —
// nothing lost, nothing twice — because rows and consumer positions commit together.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <csignal>
#include <fstream>
#include <filesystem>
#include <random>

#include "bus/factory.h"
#include "core/clock.h"
#include "core/codec.h"
#include "core/topics.h"
#include "storage/postgres/tests/pg_test_util.h"
#include "tests/integration/harness.h"

namespace tickflow::storage::pg::testing {
namespace {

using tickflow::testing::Subprocess;
using tickflow::testing::wait_until;
using namespace std::chrono_literals;

int free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  int port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0)
    port = ntohs(addr.sin_port);
  ::close(fd);
  return port;
}

using PgHistoricalCrashTest = PgTest;

TEST_F(PgHistoricalCrashTest, KillNineMidLoadThenRestartLosesAndRepeatsNothing) {
  const std::string dir = tickflow::testing::make_temp_dir("tickflow_pg_hist");
  const int kSymbols = 6, kMinutes = 4000, kTrades = 60000;
  int64_t candle_records = 0;
  // Recent candles: `tickflow historical` enforces retention (1m: 30 days) while it loads.
  const TimestampNs t0 = (SystemClock::instance().now_ns() - 4 * kNsPerDay) / kNsPerMin * kNsPerMin;
  {
    bus::BusConfig bc;
    bc.data_dir = dir + "/data";
    auto bus = bus::make_event_bus(bc);  // the default topics, as `tickflow historical` opens them
    ASSERT_TRUE(bus) << bus.status().to_string();
    for (int s = 0; s < kSymbols; ++s) {
      const std::string sym = std::string(1, static_cast<char>('A' + s)) + "AA-USDT";
      auto txn = (*bus)->begin();
      for (int m = 0; m < kMinutes; ++m) {
        const std::string key = instrument_key(Exchange::kBinance, sym);
        // A provisional update, the final candle, and for every 7th a correction (revision 1).
        txn->append(topics::kNormalizedOhlcv, key, codec::encode_candle(make_candle(sym, m, "1.00", CandleStatus::kProvisional, 0, "1m", t0)));
        txn->append(topics::kNormalizedOhlcv, key, codec::encode_candle(make_candle(sym, m, "2.00", CandleStatus::kFinal, 0, "1m", t0)));
        candle_records += 2;
        if (m % 7 == 0) {
          txn->append(topics::kNormalizedOhlcv, key, codec::encode_candle(make_candle(sym, m, "3.00", CandleStatus::kCorrected, 1, "1m", t0)));
          ++candle_records;
        }
      }
      ASSERT_TRUE(txn->commit().is_ok());
    }
    auto txn = (*bus)->begin();
    for (int i = 0; i < kTrades; ++i) {
      Trade t = make_trade(i % 2 ? "BTC-USDT" : "ETH-USDT", i, "100.5", t0 + i * kNsPerMs);
      txn->append(topics::kRawMarketData, instrument_key(t.exchange, t.symbol), codec::encode_trade(t));
    }
    ASSERT_TRUE(txn->commit().is_ok());
  }
  {
    std::ofstream cfg(dir + "/pg.toml");
    cfg << "[storage]\nbackend = \"postgres\"\n[timescale]\nhost = \"127.0.0.1\"\nport = " << server().port()
        << "\ndb = \"" << db_ << "\"\nuser = \"postgres\"\n[api]\nmetrics_port = " << free_port() << "\n";
  }
  auto loaded = [&](const char* group) {
    const std::string v = sql(std::string("SELECT coalesce(sum(next_offset), 0) FROM consumer_positions WHERE group_id = '") + group + "'");
    return v.starts_with("ERROR") ? int64_t{0} : std::stoll(v);
  };
  auto run = [&](int n) {
    return std::make_unique<Subprocess>(
        std::vector<std::string>{tickflow::testing::tickflow_binary(), "historical", "-c", dir + "/pg.toml", "--data-dir",
                                 dir + "/data", "--log-level", "warn"},
        dir + "/historical" + std::to_string(n) + ".log");
  };

  std::mt19937 rng(42);
  int64_t last = 0;
  for (int kill = 0; kill < 3; ++kill) {
    auto p = run(kill);
    // Kill it as soon as it stored a random amount more: batches run back to back, so the
    // kill lands inside the next one (reading, COPY, upsert or commit).
    const int64_t target = last + 1 + static_cast<int64_t>(rng() % 8000);
    ASSERT_TRUE(wait_until([&] { return loaded("historical") >= target || !p->running(); }, 120s)) << p->output();
    ASSERT_TRUE(p->running()) << p->output();
    p->kill(SIGKILL);
    EXPECT_EQ(p->wait(30s), 128 + SIGKILL);
    last = loaded("historical");
    // Whatever the instant, rows and positions agree: never more candles than the positions cover.
    ASSERT_LE(last, candle_records);
  }
  auto final_run = run(9);
  ASSERT_TRUE(wait_until([&] { return loaded("historical") == candle_records && loaded("trades") == kTrades; }, 300s))
      << final_run->output() << " loaded " << loaded("historical") << "/" << candle_records;
  final_run->kill(SIGTERM);
  EXPECT_EQ(final_run->wait(60s), 0) << final_run->output();

  EXPECT_EQ(sql("SELECT count(*) FROM ohlcv"), std::to_string(kSymbols * kMinutes))
      << sql("SELECT string_agg(symbol || ':' || n || ':' || lo || ':' || hi, ' ') FROM (SELECT symbol, count(*) n, min(time) lo, max(time) hi FROM ohlcv GROUP BY 1) s");
  EXPECT_EQ(sql("SELECT count(*) FROM ohlcv WHERE revision = 1 AND close = 3 AND status = 'corrected'"),
            std::to_string(kSymbols * ((kMinutes + 6) / 7)));
  EXPECT_EQ(sql("SELECT count(*) FROM ohlcv WHERE revision = 0 AND close = 2 AND status = 'final'"),
            std::to_string(kSymbols * (kMinutes - (kMinutes + 6) / 7)));
  EXPECT_EQ(sql("SELECT count(*) FROM trades"), std::to_string(kTrades));
  EXPECT_EQ(sql("SELECT count(DISTINCT (symbol, trade_id)) FROM trades"), std::to_string(kTrades));
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
}

}  // namespace
}  // namespace tickflow::storage::pg::testing
