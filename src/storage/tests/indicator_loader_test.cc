// HistoricalLoader with indicator_loader_config(): processed.indicators → write_indicators with
// positions, on the embedded bus and store; replays and restarts store each record once with
// the highest revision; undecodable records are dead-lettered.
#include <gtest/gtest.h>

#include "bus/factory.h"
#include "bus/tests/test_dir.h"
#include "core/codec.h"
#include "storage/factory.h"
#include "storage/loader.h"

namespace tickflow::storage {
namespace {

using testing_util::TempDir;

constexpr TimestampNs kT0 = 1628952360LL * kNsPerSec;

IndicatorRecord record(int minute, double sma, uint32_t revision = 0) {
  IndicatorRecord r;
  r.symbol = "BTC-USDT";
  r.timeframe = *Timeframe::parse("1m");
  r.open_time = kT0 + minute * kNsPerMin;
  r.close_time = r.open_time + kNsPerMin - kNsPerMs;
  r.candle_revision = revision;
  r.values = {{"sma20", sma}, {"rsi14", 50.0 + minute}};
  return r;
}

TEST(IndicatorLoader, StoresRecordsWithPositionsAndKeepsTheHighestRevision) {
  TempDir dir;
  bus::BusConfig bc;
  bc.data_dir = dir.path();
  bc.topics = {{std::string(topics::kProcessedIndicators), 3, 0}, {std::string(topics::kDlqMarketData), 1, 0}};
  auto bus = bus::make_event_bus(bc).value();
  StoreConfig sc;
  sc.data_dir = dir.path();
  auto store = make_candle_store(sc).value();
  auto publish = [&](const IndicatorRecord& r) {
    ASSERT_TRUE(bus->publish(topics::kProcessedIndicators, "binance:BTC-USDT", codec::encode_indicators(r)).is_ok());
  };
  for (int m = 0; m < 10; ++m) publish(record(m, 100.0 + m));
  ASSERT_TRUE(bus->publish(topics::kProcessedIndicators, "binance:BTC-USDT", "not a record").is_ok());
  {
    HistoricalLoader loader(*bus, *store, indicator_loader_config());
    while (*loader.run_once() > 0) {
    }
    EXPECT_TRUE(loader.caught_up());
    EXPECT_EQ(loader.candles_written(), 10u);
    EXPECT_EQ(loader.undecodable(), 1u);
    EXPECT_EQ(loader.health().name, "historical.indicators");
  }
  // A correction republished at revision 1 replaces; a stale revision-0 replay does not.
  publish(record(7, 777.0, 1));
  publish(record(7, 700.0, 0));
  {
    HistoricalLoader loader(*bus, *store, indicator_loader_config());  // resumes from stored positions
    while (*loader.run_once() > 0) {
    }
    EXPECT_EQ(loader.candles_written(), 2u);
  }
  IndicatorQuery q;
  q.symbol = "BTC-USDT";
  q.timeframe = *Timeframe::parse("1m");
  auto got = store->query_indicators(q).value();
  ASSERT_EQ(got.size(), 10u);
  EXPECT_EQ(got[7].candle_revision, 1u);
  EXPECT_EQ(got[7].values.front(), (std::pair<std::string, double>{"sma20", 777.0}));
  EXPECT_EQ(got[3].values, record(3, 103.0).values);
  q.names = {"rsi14"};
  got = store->query_indicators(q).value();
  ASSERT_EQ(got.size(), 10u);
  EXPECT_EQ(got[0].values.size(), 1u);
  EXPECT_EQ(bus->end_offset(topics::kDlqMarketData, 0).value(), 1);
}

}  // namespace
}  // namespace tickflow::storage
