// GET /trades/{exchange}/{symbol}: validation (400 naming the parameter), 501 without a trade
// store, range/limit semantics passed to the TradeStore, exact decimals in the JSON.
#include "serving/trades_routes.h"

#include <gtest/gtest.h>
#include <simdjson.h>

#include <mutex>

namespace tickflow::serving {
namespace {

constexpr TimestampNs kT0 = 1628952360LL * kNsPerSec;

// Trades of one instrument, one per second; query_trades honours the TradeQuery contract.
class FakeTradeStore final : public storage::TradeStore {
 public:
  FakeTradeStore() {
    for (int i = 0; i < 100; ++i) {
      Trade t;
      t.symbol = "BTC-USDT";
      t.trade_id = i;
      t.first_trade_id = t.last_trade_id = i;
      t.price = *Decimal::parse("43000.10000000");
      t.quantity = *Decimal::parse("0.00100000");
      t.taker_side = Side::kSell;
      t.ts_event = kT0 + i * kNsPerSec;
      t.aggregated = true;
      trades_.push_back(t);
    }
  }
  Status write_trades(const std::vector<Trade>&, const std::vector<storage::ConsumerPosition>&) override {
    return Status::ok();
  }
  Result<int64_t> position(const std::string&, const std::string&, int32_t) const override { return int64_t{0}; }
  Result<std::vector<Trade>> query_trades(const storage::TradeQuery& q) const override {
    std::lock_guard lk(mu_);
    last_ = q;
    std::vector<Trade> in;
    for (const Trade& t : trades_)
      if (t.exchange == q.exchange && t.symbol == q.symbol && t.ts_event >= q.start && t.ts_event < q.end) in.push_back(t);
    if (in.size() > q.limit) in.erase(in.begin(), in.end() - static_cast<long>(q.limit));
    return in;
  }
  storage::TradeQuery last() const {
    std::lock_guard lk(mu_);
    return last_;
  }

 private:
  std::vector<Trade> trades_;
  mutable std::mutex mu_;
  mutable storage::TradeQuery last_;
};

HttpResponse get(const TradesRoutes& r, const std::string& target) {
  HttpRequest req;
  req.method = "GET";
  req.target = target;
  std::string_view path, query;
  split_target(req.target, path, query);
  EXPECT_FALSE(r.match(path).empty()) << target;
  return r.handle(req, path, query);
}

TEST(TradesRoutesTest, RangeQueryReturnsTheMostRecentTradesOldestFirst) {
  FakeTradeStore store;
  TradesRoutes routes(&store);
  auto res = get(routes, "/trades/binance/btcusdt?start=" + std::to_string(kT0 / kNsPerMs + 10000) +
                             "&end=" + std::to_string(kT0 / kNsPerMs + 20000) + "&limit=3");
  ASSERT_EQ(res.status, 200) << res.body;
  EXPECT_EQ(store.last().end, kT0 + 20 * kNsPerSec + 1);  // end is inclusive
  simdjson::dom::parser parser;
  simdjson::dom::element doc = parser.parse(res.body);
  EXPECT_EQ(std::string_view(doc["symbol"].get_string()), "BTC-USDT");
  auto trades = doc["trades"].get_array();
  ASSERT_EQ(trades.size(), 3u);
  EXPECT_EQ(int64_t(trades.at(0)["trade_id"].get_int64()), 18);
  EXPECT_EQ(int64_t(trades.at(2)["trade_id"].get_int64()), 20);
  EXPECT_EQ(std::string_view(trades.at(0)["price"].get_string()), "43000.10000000");
  EXPECT_EQ(std::string_view(trades.at(0)["side"].get_string()), "sell");
  EXPECT_EQ(int64_t(trades.at(0)["time_ms"].get_int64()), kT0 / kNsPerMs + 18000);
}

TEST(TradesRoutesTest, BadInputIs400NamingTheParameter) {
  FakeTradeStore store;
  TradesRoutes routes(&store);
  struct Case {
    std::string target, parameter;
  } cases[] = {{"/trades/nasdaq/BTC-USDT", "exchange"},
               {"/trades/binance/BTC%ZZ", "symbol"},
               {"/trades/binance/BTC-USDT?start=2021-08-15&end=2021-08-14", "start"},
               {"/trades/binance/BTC-USDT?start=yesterday", "start"},
               {"/trades/binance/BTC-USDT?limit=0", "limit"},
               {"/trades/binance/BTC-USDT?foo=1", "foo"}};
  for (const auto& c : cases) {
    auto res = get(routes, c.target);
    EXPECT_EQ(res.status, 400) << c.target << " " << res.body;
    EXPECT_NE(res.body.find("\"parameter\":\"" + c.parameter + "\""), std::string::npos) << c.target << " " << res.body;
  }
  HttpRequest post{"POST", "/trades/binance/BTC-USDT", "", {}};
  EXPECT_EQ(routes.handle(post, "/trades/binance/BTC-USDT", "").status, 405);
  EXPECT_TRUE(routes.match("/trades/binance").empty());
  EXPECT_TRUE(routes.match("/trades/binance/BTC-USDT/1m").empty());
}

TEST(TradesRoutesTest, WithoutATradeStoreAnswers501) {
  TradesRoutes routes(nullptr);
  auto res = get(routes, "/trades/binance/BTC-USDT?limit=5");
  EXPECT_EQ(res.status, 501);
  EXPECT_NE(res.body.find("postgres"), std::string::npos) << res.body;
  EXPECT_EQ(get(routes, "/trades/binance/BTC-USDT?limit=x").status, 400);  // validation first
}

}  // namespace
}  // namespace tickflow::serving
