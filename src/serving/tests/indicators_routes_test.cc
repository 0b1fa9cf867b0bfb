// GET /indicators/{exchange}/{symbol}/{timeframe}: names, ranges, errors, JSON numbers.
#include "serving/indicators_routes.h"

#include <gtest/gtest.h>
#include <simdjson.h>

#include <memory>

#include "serving/api.h"
#include "serving/tests/fakes.h"

namespace tickflow::serving {
namespace {

using testing::FakeCandleStore;
using testing::make_candle;

constexpr int64_t kT0 = 1628952360000;  // 2021-08-14T14:46:00.000Z
constexpr int64_t kMin = 60'000;

class IndicatorRoutesTest : public ::testing::Test {
 protected:
  IndicatorRoutesTest() : api_(store_, {}, options()) {
    EXPECT_TRUE(store_.write({make_candle(kT0)}, {}).is_ok());
    std::vector<IndicatorRecord> records;
    for (int i = 0; i < 5; ++i) {
      IndicatorRecord r;
      r.symbol = "BTC-USDT";
      r.timeframe = *Timeframe::parse("1m");
      r.open_time = (kT0 + i * kMin) * kNsPerMs;
      r.close_time = r.open_time + 60 * kNsPerSec - kNsPerMs;
      r.values = {{"sma20", 100.5 + i}, {"rsi14", 0.25 * i}};
      if (i >= 2) r.values.emplace_back("macd", -1.0 - i);
      records.push_back(r);
    }
    EXPECT_TRUE(store_.write_indicators(records, {}).is_ok());
  }
  ApiOptions options() {
    ApiOptions o;
    IndicatorRoutesOptions io;
    io.output_names = [](const Timeframe&) { return std::vector<std::string>{"sma20", "rsi14", "macd"}; };
    o.modules.push_back(std::make_shared<IndicatorRoutes>(store_, io));
    return o;
  }
  HttpResponse get(const std::string& target) { return api_.handle({"GET", target, ""}); }

  FakeCandleStore store_;
  ApiHandler api_;
};

TEST_F(IndicatorRoutesTest, ReturnsRecordsOldestFirstWithNumbers) {
  HttpResponse r = get("/indicators/binance/BTC-USDT/1m");
  ASSERT_EQ(r.status, 200) << r.body;
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  ASSERT_EQ(parser.parse(r.body).get(doc), simdjson::SUCCESS) << r.body;
  EXPECT_EQ(std::string_view(doc["timeframe"].get_string().value()), "1m");
  simdjson::dom::array items = doc["indicators"].get_array().value();
  ASSERT_EQ(items.size(), 5u);
  int i = 0;
  for (simdjson::dom::element item : items) {
    EXPECT_EQ(int64_t(item["open_time_ms"].get_int64().value()), kT0 + i * kMin);
    EXPECT_EQ(double(item["values"]["sma20"].get_double().value()), 100.5 + i);
    EXPECT_EQ(item["values"]["macd"].error() == simdjson::SUCCESS, i >= 2);
    ++i;
  }
  EXPECT_NE(r.body.find("\"open_time\":\"2021-08-14T14:46:00.000Z\""), std::string::npos) << r.body;
}

TEST_F(IndicatorRoutesTest, NameFiltersOutputsAndRangeIsInclusive) {
  HttpResponse r = get("/indicators/binance/BTCUSDT/1m?name=macd&start=" + std::to_string(kT0 + 3 * kMin) +
                       "&end=" + std::to_string(kT0 + 4 * kMin));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.body.find("sma20"), std::string::npos) << r.body;
  simdjson::dom::parser parser;
  simdjson::dom::array items = parser.parse(r.body)["indicators"].get_array().value();
  ASSERT_EQ(items.size(), 2u);
  EXPECT_EQ(double(items.at(0)["values"]["macd"].get_double().value()), -4.0);
  HttpResponse last = get("/indicators/binance/BTC-USDT/1m?name=sma20,rsi14&limit=1");
  ASSERT_EQ(last.status, 200);
  EXPECT_NE(last.body.find("\"values\":{\"sma20\":104.5,\"rsi14\":1.0}"), std::string::npos) << last.body;
}

TEST_F(IndicatorRoutesTest, UnknownNameIs400ListingTheConfiguredOnes) {
  HttpResponse r = get("/indicators/binance/BTC-USDT/1m?name=sma20,sma99");
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("\"parameter\":\"name\""), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("sma99"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("configured: sma20, rsi14, macd"), std::string::npos) << r.body;
  EXPECT_EQ(get("/indicators/binance/BTC-USDT/1m?name=").status, 400);
  EXPECT_EQ(get("/indicators/binance/BTC-USDT/1m?bogus=1").status, 400);
  EXPECT_EQ(get("/indicators/binance/BTC-USDT/7m").status, 400);
  EXPECT_EQ(get("/indicators/binance/ETH-USDT/1m").status, 404);
  EXPECT_EQ(api_.handle({"POST", "/indicators/binance/BTC-USDT/1m", ""}).status, 405);
  EXPECT_EQ(api_.route_of("/indicators/binance/BTC-USDT/1m?name=x"), IndicatorRoutes::kRoute);
}

TEST(IndicatorJson, NonFiniteValuesAreNeverWritten) {
  IndicatorRecord r;
  r.values = {{"a", 1.0}, {"b", std::numeric_limits<double>::quiet_NaN()},
              {"c", std::numeric_limits<double>::infinity()}};
  std::string out;
  append_indicator_json(out, r);
  EXPECT_NE(out.find("\"values\":{\"a\":1.0}}"), std::string::npos) << out;
}

}  // namespace
}  // namespace tickflow::serving
