// GET /orderbook/{exchange}/{symbol} and /latest: validation (400 naming the parameter, bad
// ranges), 404 / 501, range semantics passed to the BookStore, newest last, exact decimals.
#include "serving/book_routes.h"

#include <gtest/gtest.h>
#include <simdjson.h>

#include <mutex>

namespace tickflow::serving {
namespace {

constexpr TimestampNs kT0 = 1628952395768LL * kNsPerMs;

// One FTMUSDT snapshot per second (levels from the recorded Binance depth stream); query_books
// honours the BookQuery contract.
class FakeBookStore final : public storage::BookStore {
 public:
  FakeBookStore() {
    for (int i = 0; i < 50; ++i) {
      BookSnapshot b;
      b.symbol = "FTM-USDT";
      b.exchange_symbol = "FTMUSDT";
      b.sequence = 800360968 + i;
      b.bids = {{*Decimal::parse("0.33988000"), *Decimal::parse("1500.00000000")}};
      b.asks = {{*Decimal::parse("0.34034000"), *Decimal::parse("2746.10000000")}};
      b.depth = 20;
      b.crossed = i == 7;
      b.ts_event = kT0 + i * kNsPerSec;
      b.ts_recv = b.ts_event + 123;
      books_.push_back(b);
    }
  }
  Status write_books(const std::vector<BookSnapshot>&, const std::vector<storage::ConsumerPosition>&) override {
    return Status::ok();
  }
  Result<int64_t> position(const std::string&, const std::string&, int32_t) const override { return int64_t{0}; }
  Result<std::vector<BookSnapshot>> query_books(const storage::BookQuery& q) const override {
    std::lock_guard lk(mu_);
    last_ = q;
    std::vector<BookSnapshot> in;
    for (const BookSnapshot& b : books_)
      if (b.exchange == q.exchange && b.symbol == q.symbol && b.time() >= q.start && b.time() < q.end) in.push_back(b);
    if (in.size() > q.limit) in.erase(in.begin(), in.end() - static_cast<long>(q.limit));
    return in;
  }
  storage::BookQuery last() const {
    std::lock_guard lk(mu_);
    return last_;
  }

 private:
  std::vector<BookSnapshot> books_;
  mutable std::mutex mu_;
  mutable storage::BookQuery last_;
};

HttpResponse get(const BookRoutes& r, const std::string& target) {
  HttpRequest req;
  req.method = "GET";
  req.target = target;
  std::string_view path, query;
  split_target(req.target, path, query);
  EXPECT_FALSE(r.match(path).empty()) << target;
  return r.handle(req, path, query);
}

TEST(BookRoutesTest, RangeReturnsTheMostRecentSnapshotsNewestLast) {
  FakeBookStore store;
  BookRoutes routes(&store);
  auto res = get(routes, "/orderbook/binance/ftmusdt?start=" + std::to_string(kT0 / kNsPerMs + 5000) +
                             "&end=" + std::to_string(kT0 / kNsPerMs + 10000) + "&limit=4");
  ASSERT_EQ(res.status, 200) << res.body;
  EXPECT_EQ(store.last().end, kT0 + 10 * kNsPerSec + 1);  // end is inclusive
  simdjson::dom::parser parser;
  simdjson::dom::element doc = parser.parse(res.body);
  EXPECT_EQ(std::string_view(doc["symbol"].get_string()), "FTM-USDT");
  auto snaps = doc["snapshots"].get_array();
  ASSERT_EQ(snaps.size(), 4u);
  EXPECT_EQ(int64_t(snaps.at(0)["sequence"].get_int64()), 800360968 + 7);
  EXPECT_EQ(int64_t(snaps.at(3)["sequence"].get_int64()), 800360968 + 10);  // newest last
  EXPECT_TRUE(bool(snaps.at(0)["crossed"].get_bool()));
  EXPECT_EQ(int64_t(snaps.at(3)["ts_recv_ns"].get_int64()), kT0 + 10 * kNsPerSec + 123);
  EXPECT_EQ(std::string_view(snaps.at(0)["bids"].at(0).at(0).get_string()), "0.33988000");
  EXPECT_EQ(std::string_view(snaps.at(0)["asks"].at(0).at(1).get_string()), "2746.10000000");
  EXPECT_EQ(int64_t(snaps.at(0)["time_ms"].get_int64()), kT0 / kNsPerMs + 7000);
}

TEST(BookRoutesTest, LatestIsTheNewestSnapshotOr404) {
  FakeBookStore store;
  BookRoutes routes(&store);
  auto res = get(routes, "/orderbook/binance/FTM-USDT/latest");
  ASSERT_EQ(res.status, 200) << res.body;
  simdjson::dom::parser parser;
  simdjson::dom::element doc = parser.parse(res.body);
  EXPECT_EQ(int64_t(doc["snapshot"]["sequence"].get_int64()), 800360968 + 49);
  EXPECT_EQ(store.last().limit, 1u);
  EXPECT_EQ(get(routes, "/orderbook/binance/ETH-USDT/latest").status, 404);
}

TEST(BookRoutesTest, BadInputIs400NamingTheParameter) {
  FakeBookStore store;
  BookRoutes routes(&store);
  struct Case {
    std::string target, parameter;
  } cases[] = {{"/orderbook/nasdaq/BTC-USDT", "exchange"},
               {"/orderbook/binance/BTC%ZZ", "symbol"},
               {"/orderbook/binance/BTC-USDT?start=2021-08-15&end=2021-08-14", "start"},
               {"/orderbook/binance/BTC-USDT?end=never", "end"},
               {"/orderbook/binance/BTC-USDT?limit=0", "limit"},
               {"/orderbook/binance/BTC-USDT?limit=1001", "limit"},
               {"/orderbook/binance/BTC-USDT?foo=1", "foo"}};
  for (const auto& c : cases) {
    auto res = get(routes, c.target);
    EXPECT_EQ(res.status, 400) << c.target << " " << res.body;
    EXPECT_NE(res.body.find("\"parameter\":\"" + c.parameter + "\""), std::string::npos) << c.target << " " << res.body;
  }
  HttpRequest post{"POST", "/orderbook/binance/BTC-USDT", "", {}};
  EXPECT_EQ(routes.handle(post, "/orderbook/binance/BTC-USDT", "").status, 405);
  EXPECT_TRUE(routes.match("/orderbook/binance").empty());
  EXPECT_TRUE(routes.match("/orderbook/binance/BTC-USDT/oldest").empty());
}

TEST(BookRoutesTest, WithoutABookStoreAnswers501) {
  BookRoutes routes(nullptr);
  EXPECT_EQ(get(routes, "/orderbook/binance/BTC-USDT?limit=5").status, 501);
  EXPECT_EQ(get(routes, "/orderbook/binance/BTC-USDT?limit=x").status, 400);  // validation first
}

}  // namespace
}  // namespace tickflow::serving
