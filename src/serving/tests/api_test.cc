#include "serving/api.h"

#include <gtest/gtest.h>
#include <simdjson.h>

#include "serving/indicators_routes.h"
#include "serving/latest_route.h"
#include "serving/quality_routes.h"
#include "serving/subscriptions_routes.h"
#include "bus/testing/in_memory_bus.h"
#include "serving/tests/fakes.h"
#include "serving/book_routes.h"
#include "serving/trades_routes.h"

namespace tickflow::serving {
namespace {

using testing::FakeCandleStore;
using testing::make_candle;

constexpr int64_t kT0 = 1628952360000;  // 2021-08-14T14:46:00.000Z
constexpr int64_t kMin = 60'000;

class ApiTest : public ::testing::Test {
 protected:
  ApiTest() : api_(store_, [this] { return health_; }) {
    std::vector<Candle> candles;
    for (int i = 0; i < 10; ++i) candles.push_back(make_candle(kT0 + i * kMin));
    EXPECT_TRUE(store_.write(candles, {}).is_ok());
  }
  HttpResponse get(const std::string& target) { return api_.handle({"GET", target, ""}); }
  // open_time_ms of every candle in a response body, in order.
  static std::vector<int64_t> open_times(const std::string& body) {
    std::vector<int64_t> out;
    for (size_t pos = 0; (pos = body.find("\"open_time_ms\":", pos)) != std::string::npos;) {
      pos += 15;
      out.push_back(std::stoll(body.substr(pos, 13)));
    }
    return out;
  }
  static std::vector<int64_t> minutes(int from, int to) {
    std::vector<int64_t> out;
    for (int i = from; i <= to; ++i) out.push_back(kT0 + i * kMin);
    return out;
  }
  void expect_bad(const std::string& target, const std::string& parameter) {
    HttpResponse r = get(target);
    EXPECT_EQ(r.status, 400) << target << " → " << r.body;
    EXPECT_EQ(r.content_type, "application/json");
    EXPECT_NE(r.body.find("\"parameter\":\"" + parameter + "\""), std::string::npos) << target << " → " << r.body;
    EXPECT_NE(r.body.find("\"error\":\""), std::string::npos) << r.body;
  }

  FakeCandleStore store_;
  std::vector<ComponentHealth> health_;
  ApiHandler api_;
};

TEST_F(ApiTest, GoodQueryReturnsTheSeriesWithExactCandlesOldestFirst) {
  HttpResponse r = get("/ohlcv/binance/BTC-USDT/1m");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.content_type, "application/json");
  EXPECT_EQ(r.body.rfind("{\"exchange\":\"binance\",\"symbol\":\"BTC-USDT\",\"timeframe\":\"1m\",\"candles\":[{", 0), 0u)
      << r.body;
  EXPECT_EQ(open_times(r.body), minutes(0, 9));
  EXPECT_NE(r.body.find("\"open_time\":\"2021-08-14T14:46:00.000Z\""), std::string::npos);
  EXPECT_NE(r.body.find("\"open\":\"46000.00000000\""), std::string::npos);
  EXPECT_EQ(r.body.substr(r.body.size() - 3), "}]}");
}

TEST_F(ApiTest, SymbolSpellingsAndExchangeCaseAreNormalized) {
  std::string reference = get("/ohlcv/binance/BTC-USDT/1m").body;
  for (const char* target : {"/ohlcv/binance/btc-usdt/1m", "/ohlcv/binance/BTCUSDT/1m",
                             "/ohlcv/Binance/btcusdt/1m", "/ohlcv/binance/BTC%2DUSDT/1m"}) {
    HttpResponse r = get(target);
    EXPECT_EQ(r.status, 200) << target;
    EXPECT_EQ(r.body, reference) << target;
  }
}

TEST_F(ApiTest, StartAndEndAreInclusiveOnOpenTime) {
  auto q = "/ohlcv/binance/BTC-USDT/1m?start=" + std::to_string(kT0 + 2 * kMin) +
           "&end=" + std::to_string(kT0 + 5 * kMin);
  EXPECT_EQ(open_times(get(q).body), minutes(2, 5));
  // start == end gives exactly that candle.
  auto one = "/ohlcv/binance/BTC-USDT/1m?start=" + std::to_string(kT0 + 7 * kMin) +
             "&end=" + std::to_string(kT0 + 7 * kMin);
  EXPECT_EQ(open_times(get(one).body), minutes(7, 7));
  // Only start: to the newest; only end: from the oldest.
  EXPECT_EQ(open_times(get("/ohlcv/binance/BTC-USDT/1m?start=" + std::to_string(kT0 + 8 * kMin)).body),
            minutes(8, 9));
  EXPECT_EQ(open_times(get("/ohlcv/binance/BTC-USDT/1m?end=" + std::to_string(kT0 + kMin)).body), minutes(0, 1));
}

TEST_F(ApiTest, IsoAndEpochMillisecondsAreEquivalent) {
  HttpResponse iso = get("/ohlcv/binance/BTC-USDT/1m?start=2021-08-14T14:48:00Z&end=2021-08-14T14:50:00.000Z");
  HttpResponse ms = get("/ohlcv/binance/BTC-USDT/1m?start=1628952480000&end=1628952600000");
  HttpResponse offset = get("/ohlcv/binance/BTC-USDT/1m?start=2021-08-14T16:48:00%2B02:00&end=2021-08-14T16:50:00+02:00");
  ASSERT_EQ(iso.status, 200) << iso.body;
  EXPECT_EQ(open_times(iso.body), minutes(2, 4));
  EXPECT_EQ(iso.body, ms.body);
  EXPECT_EQ(iso.body, offset.body) << offset.body;
}

TEST_F(ApiTest, LimitReturnsTheMostRecentCandlesOfTheRange) {
  EXPECT_EQ(open_times(get("/ohlcv/binance/BTC-USDT/1m?limit=3").body), minutes(7, 9));
  EXPECT_EQ(open_times(get("/ohlcv/binance/BTC-USDT/1m?limit=2&end=" + std::to_string(kT0 + 4 * kMin)).body),
            minutes(3, 4));
  EXPECT_EQ(open_times(get("/ohlcv/binance/BTC-USDT/1m?limit=5000").body), minutes(0, 9));
  get("/ohlcv/binance/BTC-USDT/1m");
  EXPECT_EQ(store_.last_query().limit, 500u);  // default
}

TEST_F(ApiTest, EachBadParameterIs400NamingIt) {
  expect_bad("/ohlcv/nasdaq/BTC-USDT/1m", "exchange");
  expect_bad("/ohlcv/binance/BTC$USDT/1m", "symbol");
  expect_bad("/ohlcv/binance/FOOBAR/1m", "symbol");
  expect_bad("/ohlcv/binance/BTC-USDT/7m", "timeframe");
  expect_bad("/ohlcv/binance/BTC-USDT/abc", "timeframe");
  expect_bad("/ohlcv/binance/BTC-USDT/1m?start=yesterday", "start");
  expect_bad("/ohlcv/binance/BTC-USDT/1m?start=", "start");
  expect_bad("/ohlcv/binance/BTC-USDT/1m?end=2021-13-01T00:00:00Z", "end");
  expect_bad("/ohlcv/binance/BTC-USDT/1m?start=1628952600000&end=1628952480000", "start");
  expect_bad("/ohlcv/binance/BTC-USDT/1m?limit=0", "limit");
  expect_bad("/ohlcv/binance/BTC-USDT/1m?limit=5001", "limit");
  expect_bad("/ohlcv/binance/BTC-USDT/1m?limit=-1", "limit");
  expect_bad("/ohlcv/binance/BTC-USDT/1m?limit=ten", "limit");
  expect_bad("/ohlcv/binance/BTC-USDT/1m?limit=1&limit=2", "limit");
  expect_bad("/ohlcv/binance/BTC-USDT/1m?from=1628952600000", "from");
  // Parameters are checked before the series exists.
  expect_bad("/ohlcv/binance/ETH-USDT/1m?limit=0", "limit");
}

TEST_F(ApiTest, UnknownSeriesIs404NamingTheSeries) {
  HttpResponse r = get("/ohlcv/binance/ETH-USDT/1m");
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.body,
            "{\"error\":\"unknown series\",\"exchange\":\"binance\",\"symbol\":\"ETH-USDT\",\"timeframe\":\"1m\"}");
  EXPECT_EQ(get("/ohlcv/binance/BTC-USDT/5m").status, 404);  // stored only 1m
  EXPECT_EQ(get("/ohlcv/coinbase/BTC-USDT/1m").status, 404);
}

TEST_F(ApiTest, KnownSeriesWithAnEmptyRangeIs200WithNoCandles) {
  HttpResponse r = get("/ohlcv/binance/BTC-USDT/1m?start=2030-01-01");
  EXPECT_EQ(r.status, 200);
  EXPECT_NE(r.body.find("\"candles\":[]"), std::string::npos) << r.body;
}

TEST_F(ApiTest, UnknownPathIs404AndWrongMethodIs405) {
  EXPECT_EQ(get("/nope").status, 404);
  EXPECT_EQ(get("/ohlcv/binance/BTC-USDT").status, 404);
  EXPECT_EQ(get("/ohlcv/binance/BTC-USDT/1m/extra").status, 404);
  HttpResponse r = api_.handle({"POST", "/ohlcv/binance/BTC-USDT/1m", "{}"});
  EXPECT_EQ(r.status, 405);
  ASSERT_EQ(r.headers.size(), 1u);
  EXPECT_EQ(r.headers[0], (std::pair<std::string, std::string>{"Allow", "GET"}));
  EXPECT_EQ(api_.handle({"DELETE", "/health", ""}).status, 405);
}

TEST_F(ApiTest, HealthAggregatesComponents) {
  HttpResponse up = get("/health");
  EXPECT_EQ(up.status, 200);
  EXPECT_EQ(up.body, "{\"status\":\"up\",\"components\":[]}");

  health_ = {{"store", HealthState::kUp, "ok"}, {"collector.binance", HealthState::kDegraded, "reconnecting"}};
  HttpResponse degraded = get("/health");
  EXPECT_EQ(degraded.status, 200);
  EXPECT_EQ(degraded.body,
            "{\"status\":\"degraded\",\"components\":[{\"name\":\"store\",\"state\":\"up\",\"detail\":\"ok\"},"
            "{\"name\":\"collector.binance\",\"state\":\"degraded\",\"detail\":\"reconnecting\"}]}");

  health_.push_back({"bus", HealthState::kDown, "disk \"full\""});
  HttpResponse down = get("/health");
  EXPECT_EQ(down.status, 503);
  EXPECT_EQ(down.body.rfind("{\"status\":\"down\"", 0), 0u);
  EXPECT_NE(down.body.find("\"detail\":\"disk \\\"full\\\"\""), std::string::npos) << down.body;
}

TEST_F(ApiTest, MetricsAreThePrometheusTextWithRoutePatternLabels) {
  get("/ohlcv/binance/BTC-USDT/1m");
  get("/ohlcv/binance/ETH-USDT/1m");
  HttpResponse r = get("/metrics");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.content_type, "text/plain; version=0.0.4");
  EXPECT_NE(r.body.find("tickflow_api_requests_total{code=\"200\",route=\"/ohlcv/{exchange}/{symbol}/{timeframe}\"}"),
            std::string::npos);
  EXPECT_NE(r.body.find("tickflow_api_requests_total{code=\"404\",route=\"/ohlcv/{exchange}/{symbol}/{timeframe}\"}"),
            std::string::npos);
  EXPECT_NE(r.body.find("tickflow_api_request_seconds_bucket{route=\"/ohlcv/{exchange}/{symbol}/{timeframe}\""),
            std::string::npos);
  EXPECT_EQ(r.body.find("ETH-USDT"), std::string::npos);  // never the raw path
}

TEST_F(ApiTest, IndexPageListsTheEndpoints) {
  HttpResponse r = get("/");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.content_type, "text/html; charset=utf-8");
  for (const char* s : {"/ohlcv/", "/ws/ohlcv/", "/health", "/metrics"})
    EXPECT_NE(r.body.find(s), std::string::npos) << s;
}

TEST_F(ApiTest, OpenApiDocumentIsValidJsonDescribingEveryRoute) {
  HttpResponse r = get("/openapi.json");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.content_type, "application/json");
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  ASSERT_EQ(parser.parse(r.body).get(doc), simdjson::SUCCESS) << "not JSON";
  std::string_view version;
  ASSERT_EQ(doc["openapi"].get(version), simdjson::SUCCESS);
  EXPECT_EQ(version.substr(0, 2), "3.");
  simdjson::dom::object paths;
  ASSERT_EQ(doc["paths"].get(paths), simdjson::SUCCESS);
  for (const char* route : {"/ohlcv/{exchange}/{symbol}/{timeframe}", "/ws/ohlcv/{exchange}/{symbol}/{timeframe}",
                            "/health", "/metrics", "/openapi.json", "/orderbook/{exchange}/{symbol}",
                            "/orderbook/{exchange}/{symbol}/latest"}) {
    simdjson::dom::element e;
    EXPECT_EQ(paths[route].get(e), simdjson::SUCCESS) << route;
  }
  // Every documented path is actually routed by the handler (with every feature module).
  ApiOptions with_modules;
  with_modules.modules.push_back(std::make_shared<IndicatorRoutes>(store_, IndicatorRoutesOptions{}));
  with_modules.modules.push_back(std::make_shared<LatestRoute>(nullptr, store_));
  with_modules.modules.push_back(std::make_shared<QualityRoutes>(QualityRoutesOptions{}));
  with_modules.modules.push_back(std::make_shared<TradesRoutes>(nullptr));
  with_modules.modules.push_back(std::make_shared<BookRoutes>(nullptr));
  bus::testing::InMemoryBus subscriptions_bus(bus::testing::InMemoryBus::InitialTopics::kDefault);
  delivery::SubscriptionStore subscriptions(subscriptions_bus, std::string(topics::kProcessedAlerts));
  with_modules.modules.push_back(std::make_shared<SubscriptionRoutes>(subscriptions));
  ApiHandler routed(store_, {}, with_modules);
  for (auto [path, item] : paths) {
    std::string concrete(path);
    for (auto [from, to] : {std::pair<std::string, std::string>{"{exchange}", "binance"},
                            {"{symbol}", "BTC-USDT"}, {"{timeframe}", "1m"}}) {
      if (auto at = concrete.find(from); at != std::string::npos) concrete.replace(at, from.size(), to);
    }
    EXPECT_NE(routed.route_of(concrete), "other") << path;
  }
}

TEST_F(ApiTest, WebSocketPathIsValidatedLikeRest) {
  WsResolution ok = api_.resolve_ws({"GET", "/ws/ohlcv/binance/btcusdt/1m", ""});
  ASSERT_TRUE(ok.ok()) << ok.error.body;
  EXPECT_EQ(ok.series.key, "binance:BTC-USDT:1m");
  EXPECT_EQ(api_.resolve_ws({"GET", "/ws/ohlcv/binance/BTC-USDT/7m", ""}).error.status, 400);
  EXPECT_EQ(api_.resolve_ws({"GET", "/ws/ohlcv/binance/ETH-USDT/1m", ""}).error.status, 404);
  EXPECT_EQ(api_.resolve_ws({"GET", "/ws/nope", ""}).error.status, 404);
  // Plain HTTP on the WebSocket route asks for an upgrade.
  EXPECT_EQ(get("/ws/ohlcv/binance/BTC-USDT/1m").status, 426);
}

TEST_F(ApiTest, WebSocketSnapshotHoldsTheLatestStoredCandle) {
  WsResolution ok = api_.resolve_ws({"GET", "/ws/ohlcv/binance/BTC-USDT/1m", ""});
  std::string snap = api_.ws_snapshot(ok.series);
  EXPECT_EQ(snap.rfind("{\"type\":\"snapshot\",\"exchange\":\"binance\",\"symbol\":\"BTC-USDT\",\"timeframe\":\"1m\","
                       "\"candles\":[{",
                       0),
            0u)
      << snap;
  EXPECT_EQ(open_times(snap), minutes(9, 9));
}

}  // namespace
}  // namespace tickflow::serving
