// Exactly-once of the historical loader across kill -9: a child process loads batches and is
// SIGKILLed at a random moment; after each kill the store must hold exactly the candles of the
// records before its stored positions (rows and positions are one atomic write).
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <random>

#include "bus/factory.h"
#include "bus/tests/child_process.h"
#include "bus/tests/test_dir.h"
#include "core/codec.h"
#include "storage/factory.h"
#include "storage/loader.h"

namespace tickflow::storage {
namespace {

using testing_util::PipedChild;
using testing_util::TempDir;

constexpr int32_t kPartitions = 4;
constexpr TimestampNs kT0 = 1628952360LL * kNsPerSec;

bus::BusConfig bus_config(const std::string& dir) {
  bus::BusConfig bc;
  bc.data_dir = dir;
  bc.topics = {{std::string(topics::kNormalizedOhlcv), kPartitions, 0},
               {std::string(topics::kDlqMarketData), 1, 0}};
  return bc;
}

StoreConfig store_config(const std::string& dir) {
  StoreConfig sc;
  sc.data_dir = dir;
  return sc;
}

[[noreturn]] void run_loader(const std::string& dir, int ack_fd) {
  auto bus = bus::make_event_bus(bus_config(dir));
  auto store = make_candle_store(store_config(dir));
  if (!bus || !store) _exit(3);
  LoaderConfig cfg;
  cfg.max_batch_records = 37;
  HistoricalLoader loader(**bus, **store, cfg);
  for (;;) {
    auto r = loader.run_once();
    if (!r) _exit(4);
    char b = 1;
    if (::write(ack_fd, &b, 1) != 1) _exit(5);
  }
}

TEST(HistoricalLoaderCrash, KillNineNeverLosesOrRepeatsABatch) {
  TempDir dir;
  const int kSymbols = 8;
  const int kMinutes = 300;  // 2,400 distinct candles
  {
    auto bus = bus::make_event_bus(bus_config(dir.path()));
    ASSERT_TRUE(bus) << bus.status().to_string();
    for (int m = 0; m < kMinutes; ++m) {
      auto txn = (*bus)->begin();
      for (int s = 0; s < kSymbols; ++s) {
        Candle c;
        c.symbol = "S" + std::to_string(s) + "-USDT";
        c.timeframe = *Timeframe::parse("1m");
        c.open_time = kT0 + m * kNsPerMin;
        c.close_time = c.open_time + kNsPerMin - kNsPerMs;
        c.open = c.high = c.low = c.close = *Decimal::parse("2");
        c.trades = 1;
        c.status = CandleStatus::kFinal;
        txn->append(topics::kNormalizedOhlcv, instrument_key(c.exchange, c.symbol),
                    codec::encode_candle(c));
      }
      ASSERT_TRUE(txn->commit().is_ok());
    }
  }
  std::mt19937 rng(7);
  bool finished = false;
  for (int round = 0; round < 20 && !finished; ++round) {
    PipedChild child([&](int ack_fd) { run_loader(dir.path(), ack_fd); });
    ASSERT_TRUE(child.started());
    const int target = std::uniform_int_distribution<int>(1, 4)(rng);
    const int acked = child.read_acks(target);
    ASSERT_EQ(acked, target) << "child died early in round " << round;
    int status = 0;
    ASSERT_TRUE(child.kill_and_wait(&status));

    auto bus = bus::make_event_bus(bus_config(dir.path()));
    auto store = make_candle_store(store_config(dir.path()));
    ASSERT_TRUE(bus && store);
    int64_t behind = 0;
    for (int32_t p = 0; p < kPartitions; ++p) {
      const int64_t pos =
          *(*store)->position("historical", std::string(topics::kNormalizedOhlcv), p);
      std::vector<bus::Record> recs;
      ASSERT_TRUE((*bus)->read(topics::kNormalizedOhlcv, p, 0, 1u << 20, recs).is_ok());
      behind += static_cast<int64_t>(recs.size()) - pos;
      for (const bus::Record& r : recs) {
        auto c = codec::decode_candle(r.value);
        ASSERT_TRUE(c);
        CandleQuery q;
        q.symbol = c->symbol;
        q.timeframe = c->timeframe;
        q.start = c->open_time;
        q.end = c->open_time + 1;
        auto found = (*store)->query(q);
        ASSERT_TRUE(found);
        ASSERT_EQ(found->size(), r.offset < pos ? 1u : 0u)
            << "round " << round << " partition " << p << " offset " << r.offset << " position "
            << pos;
      }
    }
    finished = behind == 0;
  }
}

}  // namespace
}  // namespace tickflow::storage
