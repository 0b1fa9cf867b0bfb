// The order-book snapshot path end to end on the embedded bus and store:
// OrderBook → BookOutput → CollectorOutput (one commit with the trades) → raw.orderbook →
// BookLoader → RocksCandleStore → GET /orderbook (BookRoutes), exact decimals all the way.
#include <gtest/gtest.h>
#include <simdjson.h>

#include "bus/factory.h"
#include "bus/tests/test_dir.h"
#include "exchange/collector/book_output.h"
#include "serving/book_routes.h"
#include "storage/book_loader.h"
#include "storage/factory.h"

namespace tickflow {
namespace {

using testing_util::TempDir;

constexpr TimestampNs kT0 = 1628952395768LL * kNsPerMs;

Decimal d(const char* s) { return *Decimal::parse(s); }

TEST(BookPipeline, CollectorSnapshotsReachTheStoreAndTheApiExactly) {
  TempDir dir;
  bus::BusConfig bc;
  bc.data_dir = dir.path();
  auto bus = bus::make_event_bus(bc);  // the default topics, raw.orderbook included
  ASSERT_TRUE(bus) << bus.status().to_string();
  storage::StoreConfig sc;
  sc.data_dir = dir.path();
  auto store = storage::make_candle_store(sc);
  ASSERT_TRUE(store) << store.status().to_string();
  ASSERT_NE((*store)->books(), nullptr);

  ManualClock clock(kT0);
  exchange::collector::CollectorProbe probe("binance", {"depthUpdate"});
  exchange::collector::CollectorOutput out("binance", **bus, clock, probe, quality::ValidatorConfig{});
  ASSERT_TRUE(out.create_topics());
  exchange::collector::BookOutput books("binance", out, clock, {kNsPerSec, 20});
  const size_t ftm = books.add_book("FTM-USDT", "FTMUSDT");
  // FTMUSDT levels from the recorded Binance depth stream (testdata, 2021-08-14).
  exchange::book::OrderBook book;
  ASSERT_TRUE(book.apply(exchange::book::BookSide::kBid, d("0.33988000"), d("1500.00000000")));
  ASSERT_TRUE(book.apply(exchange::book::BookSide::kBid, d("0.33984000"), d("4625.80000000")));
  ASSERT_TRUE(book.apply(exchange::book::BookSide::kAsk, d("0.34034000"), d("2746.10000000")));
  for (int s = 0; s < 5; ++s) {
    for (int k = 0; k < 10; ++k) {  // 10 updates per second: one snapshot per second
      books.on_book(ftm, book, 800360968 + s * 10 + k, kT0 + s * kNsPerSec + k * 100 * kNsPerMs,
                    kT0 + s * kNsPerSec + k * 100 * kNsPerMs + 7);
      clock.advance(100 * kNsPerMs);
    }
    ASSERT_EQ(out.flush(), exchange::collector::CollectorOutput::Flush::kOk);
  }
  EXPECT_EQ(books.snapshots(), 5u);

  storage::BookLoader loader(**bus, *(*store)->books());
  for (;;) {
    auto r = loader.run_once();
    ASSERT_TRUE(r) << r.status().to_string();
    if (*r == 0) break;
  }
  EXPECT_TRUE(loader.caught_up());

  serving::BookRoutes routes((*store)->books());
  serving::HttpRequest req;
  req.method = "GET";
  req.target = "/orderbook/binance/FTMUSDT?limit=3";
  std::string_view path, query;
  serving::split_target(req.target, path, query);
  serving::HttpResponse res = routes.handle(req, path, query);
  ASSERT_EQ(res.status, 200) << res.body;
  simdjson::dom::parser parser;
  simdjson::dom::element doc = parser.parse(res.body);
  auto snaps = doc["snapshots"].get_array();
  ASSERT_EQ(snaps.size(), 3u);
  EXPECT_EQ(int64_t(snaps.at(0)["sequence"].get_int64()), 800360968 + 20);  // seconds 2, 3, 4
  EXPECT_EQ(int64_t(snaps.at(2)["sequence"].get_int64()), 800360968 + 40);  // newest last
  EXPECT_EQ(int64_t(snaps.at(2)["ts_event_ns"].get_int64()), kT0 + 4 * kNsPerSec);
  EXPECT_EQ(std::string_view(snaps.at(2)["bids"].at(1).at(1).get_string()), "4625.80000000");
  EXPECT_EQ(std::string_view(snaps.at(2)["asks"].at(0).at(0).get_string()), "0.34034000");
  EXPECT_FALSE(bool(snaps.at(2)["crossed"].get_bool()));
}

}  // namespace
}  // namespace tickflow
