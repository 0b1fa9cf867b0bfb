// GET /quality: scores per feed and series, filters, 400 on bad or unknown parameters, 503
// without a monitor; through the ApiHandler and with a real QualityChecker behind it.
#include "serving/quality_routes.h"

#include <gtest/gtest.h>
#include <simdjson.h>

#include <memory>

#include "serving/api.h"
#include "serving/tests/fakes.h"

namespace tickflow::serving {
namespace {

using testing::FakeCandleStore;

constexpr TimestampNs kT0 = 1628952360000LL * kNsPerMs;

Trade trade(Exchange e, std::string_view symbol, int64_t id, int64_t price) {
  Trade t;
  t.exchange = e;
  t.symbol = std::string(symbol);
  t.exchange_symbol = binance_symbol_from_unified(symbol);
  t.trade_id = t.first_trade_id = t.last_trade_id = id;
  t.price = Decimal(price, 0);
  t.quantity = Decimal(1, 0);
  t.ts_event = kT0;
  t.ts_recv = kT0;
  return t;
}

class QualityRoutesTest : public ::testing::Test {
 protected:
  QualityRoutesTest() : checker_({}, kT0), api_(store_, {}, options()) {
    checker_.expect_series(Exchange::kBinance, "BTC-USDT");
    checker_.expect_series(Exchange::kBinance, "ETH-USDT");
    checker_.on_trade(trade(Exchange::kBinance, "BTC-USDT", 1, 40000), kT0);
    checker_.on_trade(trade(Exchange::kBinance, "BTC-USDT", 3, 40000), kT0);  // gap of 1
    checker_.on_trade(trade(Exchange::kCoinbase, "BTC-USD", 10, 40000), kT0);
  }
  ApiOptions options() {
    ApiOptions o;
    QualityRoutesOptions q;
    q.reports = [this] { return checker_.report(kT0 + 2 * kNsPerSec); };
    o.modules.push_back(std::make_shared<QualityRoutes>(q));
    return o;
  }
  HttpResponse get(const std::string& target) { return api_.handle({"GET", target, "", {}}); }

  quality::QualityChecker checker_;
  FakeCandleStore store_;
  ApiHandler api_;
  simdjson::dom::parser json_;
};

TEST_F(QualityRoutesTest, ScoresPerFeedAndSeries) {
  auto r = get("/quality");
  ASSERT_EQ(r.status, 200) << r.body;
  auto doc = json_.parse(r.body);
  ASSERT_EQ(doc.error(), simdjson::SUCCESS) << r.body;
  auto feeds = doc["feeds"].get_array().value();
  auto series = doc["series"].get_array().value();
  EXPECT_EQ(feeds.size(), 2u);
  EXPECT_EQ(series.size(), 3u);
  auto btc = series.at(0).value();
  EXPECT_EQ(std::string_view(btc["symbol"].get_string().value()), "BTC-USDT");
  EXPECT_DOUBLE_EQ(btc["score"].get_double().value(), 1.0 - 1.0 / 3.0);
  EXPECT_EQ(btc["window"]["gap"].get_uint64().value(), 1u);
  EXPECT_EQ(btc["window"]["events"].get_uint64().value(), 3u);
  EXPECT_EQ(btc["totals"]["gap"].get_uint64().value(), 1u);
  EXPECT_EQ(btc["trades"].get_uint64().value(), 2u);
  EXPECT_FALSE(btc["stale"].get_bool().value());
  EXPECT_DOUBLE_EQ(btc["last_data_age_seconds"].get_double().value(), 2.0);
  EXPECT_EQ(std::string_view(btc["last_data"].get_string().value()), "2021-08-14T14:46:00.000Z");
  auto eth = series.at(1).value();  // configured, no data yet
  EXPECT_TRUE(eth["last_data"].is_null());
  EXPECT_TRUE(eth["last_data_age_seconds"].is_null());
  EXPECT_DOUBLE_EQ(doc["overall_score"].get_double().value(), 1.0 - 1.0 / 3.0);
  EXPECT_DOUBLE_EQ(doc["stale_after_seconds"].get_double().value(), 300.0);
}

TEST_F(QualityRoutesTest, Filters) {
  auto doc = json_.parse(get("/quality?exchange=coinbase").body);
  EXPECT_EQ(doc["feeds"].get_array().value().size(), 1u);
  EXPECT_EQ(doc["series"].get_array().value().size(), 1u);
  EXPECT_DOUBLE_EQ(doc["overall_score"].get_double().value(), 1.0);
  auto r = get("/quality?exchange=binance&symbol=ethusdt");
  ASSERT_EQ(r.status, 200) << r.body;
  doc = json_.parse(r.body);
  auto series = doc["series"].get_array().value();
  ASSERT_EQ(series.size(), 1u);
  EXPECT_EQ(std::string_view(series.at(0)["symbol"].get_string().value()), "ETH-USDT");
}

TEST_F(QualityRoutesTest, BadParametersAre400NamingThem) {
  for (auto [target, param] : {std::pair<std::string, std::string>{"/quality?exchange=nasdaq", "exchange"},
                               {"/quality?symbol=BTC%20USDT", "symbol"},
                               {"/quality?symbol=", "symbol"},
                               {"/quality?exchange=binance&exchange=kraken", "exchange"},
                               {"/quality?limit=5", "limit"}}) {
    auto r = get(target);
    EXPECT_EQ(r.status, 400) << target;
    auto doc = json_.parse(r.body);
    ASSERT_EQ(doc.error(), simdjson::SUCCESS);
    EXPECT_EQ(std::string_view(doc["parameter"].get_string().value()), param) << target;
  }
  EXPECT_EQ(api_.handle({"POST", "/quality", "", {}}).status, 405);
}

TEST(QualityRoutesStandaloneTest, NoMonitorIs503) {
  QualityRoutes routes({});
  EXPECT_EQ(routes.match("/quality"), QualityRoutes::kRoute);
  EXPECT_EQ(routes.match("/quality/x"), "");
  EXPECT_EQ(routes.handle({"GET", "/quality", "", {}}, "/quality", "").status, 503);
}

}  // namespace
}  // namespace tickflow::serving
