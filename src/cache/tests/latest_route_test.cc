// GET /latest/... (serving::LatestRoute) on the real Redis cache: served from Redis without
// touching history; falls back to the store (and says so) when Redis is down or misses.
#include "serving/latest_route.h"

#include <gtest/gtest.h>

#include <atomic>

#include "cache/tests/cache_fixture.h"
#include "observability/metrics.h"
#include "serving/api.h"

namespace tickflow::cache {
namespace {

using testing::CacheFixture;
using testing::make_candle;
using testing::make_indicators;
using tickflow::testing::wait_until;

// Counts every read that reaches the store (history).
class CountingStore final : public storage::CandleStore {
 public:
  explicit CountingStore(storage::CandleStore& inner) : inner_(inner) {}
  Status write(const std::vector<Candle>& c, const std::vector<storage::ConsumerPosition>& p) override {
    return inner_.write(c, p);
  }
  Result<int64_t> position(const std::string& g, const std::string& t, int32_t p) const override {
    return inner_.position(g, t, p);
  }
  Result<std::vector<Candle>> query(const storage::CandleQuery& q) const override {
    ++reads;
    return inner_.query(q);
  }
  Status write_indicators(const std::vector<IndicatorRecord>& r,
                          const std::vector<storage::ConsumerPosition>& p) override {
    return inner_.write_indicators(r, p);
  }
  Result<std::vector<IndicatorRecord>> query_indicators(const storage::IndicatorQuery& q) const override {
    ++reads;
    return inner_.query_indicators(q);
  }
  Result<bool> has_series(Exchange e, const std::string& s, const Timeframe& tf) const override {
    ++reads;
    return inner_.has_series(e, s, tf);
  }
  Result<std::vector<storage::SeriesInfo>> list_series() const override { return inner_.list_series(); }
  Result<int64_t> enforce_retention(TimestampNs now) override { return inner_.enforce_retention(now); }

  mutable std::atomic<int> reads{0};

 private:
  storage::CandleStore& inner_;
};

class LatestRouteTest : public CacheFixture {
 protected:
  void SetUp() override {
    CacheFixture::SetUp();
    counting_ = std::make_unique<CountingStore>(*store_);
    serving::ApiOptions options;
    options.modules.push_back(std::make_shared<serving::LatestRoute>(cache_.get(), *counting_));
    api_ = std::make_unique<serving::ApiHandler>(*counting_, [this] {
      return std::vector<ComponentHealth>{cache_->health()};
    }, options);
  }
  serving::HttpResponse get(const std::string& target) { return api_->handle({"GET", target, ""}); }
  static std::string header(const serving::HttpResponse& r, const std::string& name) {
    for (const auto& [k, v] : r.headers)
      if (k == name) return v;
    return {};
  }
  // Store and stream agree: the loader wrote history, the writer filled the cache.
  void load(const Candle& c) {
    ASSERT_TRUE(store_->write({c}, {}).is_ok());
    publish(c);
  }

  std::unique_ptr<CountingStore> counting_;
  std::unique_ptr<serving::ApiHandler> api_;
};

TEST_F(LatestRouteTest, ReadsTheLatestValuesFromRedisWithoutTouchingHistory) {
  load(make_candle("BTC-USDT", 1, "100"));
  load(make_candle("BTC-USDT", 2, "101", CandleStatus::kProvisional));
  publish(make_indicators("BTC-USDT", 2, 52.5, true));
  ASSERT_TRUE(drain()) << last_error_;
  counting_->reads = 0;

  serving::HttpResponse r = get("/latest/binance/btcusdt/1m");  // exchange spelling accepted
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.content_type, "application/json");
  EXPECT_EQ(header(r, "X-Tickflow-Source"), "redis");
  EXPECT_EQ(r.body.rfind("{\"exchange\":\"binance\",\"symbol\":\"BTC-USDT\",\"timeframe\":\"1m\",\"source\":\"redis\","
                         "\"candle\":{",
                         0),
            0u)
      << r.body;
  EXPECT_NE(r.body.find("\"close\":\"101\""), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("\"indicators\":{\"open_time\":\"2021-08-14T14:48:00.000Z\""), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("\"rsi_14\":52.5"), std::string::npos);
  EXPECT_NE(r.body.find("\"alert\":null"), std::string::npos);
  EXPECT_EQ(counting_->reads.load(), 0);

  const std::string metrics = obs::render_text();
  EXPECT_NE(metrics.find("tickflow_latest_reads_total{result=\"hit\"}"), std::string::npos);
  EXPECT_NE(metrics.find("tickflow_latest_read_seconds_bucket{source=\"redis\""), std::string::npos);
}

TEST_F(LatestRouteTest, RedisDownFallsBackToTheStoreAndHealthShowsIt) {
  load(make_candle("BTC-USDT", 1, "100"));
  load(make_candle("BTC-USDT", 2, "101"));
  ASSERT_TRUE(store_->write_indicators({make_indicators("BTC-USDT", 2, 48.0)}, {}).is_ok());
  ASSERT_TRUE(drain()) << last_error_;
  ASSERT_EQ(header(get("/latest/binance/BTC-USDT/1m"), "X-Tickflow-Source"), "redis");

  server_.kill();
  for (int i = 0; i < 3; ++i) {  // the first read finds the dead connection, the next ones the backoff
    serving::HttpResponse r = get("/latest/binance/BTC-USDT/1m");
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(header(r, "X-Tickflow-Source"), "store");
    EXPECT_NE(r.body.find("\"source\":\"store\""), std::string::npos) << r.body;
    EXPECT_NE(r.body.find("\"close\":\"101\""), std::string::npos) << r.body;
    EXPECT_NE(r.body.find("\"rsi_14\":48.0"), std::string::npos) << r.body;
  }
  EXPECT_GT(counting_->reads.load(), 0);
  serving::HttpResponse health = get("/health");
  EXPECT_NE(health.body.find("\"name\":\"redis\",\"state\":\"degraded\",\"detail\":\"down: "), std::string::npos)
      << health.body;
  EXPECT_EQ(health.status, 200);  // a cache outage only slows /latest: the service stays up
  EXPECT_EQ(health.body.find("password"), std::string::npos);
  EXPECT_NE(obs::render_text().find("tickflow_latest_reads_total{result=\"error\"}"), std::string::npos);

  // Back up: reads return to Redis once the writer has refilled it.
  ASSERT_TRUE(server_.restart()) << server_.error();
  ASSERT_TRUE(wait_until([&] { return drain(); }, std::chrono::seconds(30))) << last_error_;
  ASSERT_TRUE(wait_until([&] { return header(get("/latest/binance/BTC-USDT/1m"), "X-Tickflow-Source") == "redis"; },
                         std::chrono::seconds(20)));
  EXPECT_NE(get("/health").body.find("\"name\":\"redis\",\"state\":\"up\""), std::string::npos);
}

TEST_F(LatestRouteTest, MissAnswersFromTheStore) {
  ASSERT_TRUE(drain()) << last_error_;  // marker set, cache empty
  ASSERT_TRUE(store_->write({make_candle("ETH-USDT", 3, "3000")}, {}).is_ok());
  serving::HttpResponse r = get("/latest/binance/ETH-USDT/1m");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(header(r, "X-Tickflow-Source"), "store");
  EXPECT_NE(r.body.find("\"close\":\"3000\""), std::string::npos);
  EXPECT_NE(r.body.find("\"indicators\":null"), std::string::npos);
}

TEST_F(LatestRouteTest, BadRequestsAreRejectedLikeEveryRoute) {
  EXPECT_EQ(get("/latest/nope/BTC-USDT/1m").status, 400);
  EXPECT_EQ(get("/latest/binance/BTC-USDT/7m").status, 400);
  serving::HttpResponse limit = get("/latest/binance/BTC-USDT/1m?limit=5");
  EXPECT_EQ(limit.status, 400);
  EXPECT_NE(limit.body.find("\"parameter\":\"limit\""), std::string::npos) << limit.body;
  EXPECT_EQ(get("/latest/binance/BTC-USDT/1m?x=1").status, 400);
  EXPECT_EQ(get("/latest/binance/DOGE-USDT/1m").status, 404);
  EXPECT_EQ(api_->handle({"POST", "/latest/binance/BTC-USDT/1m", ""}).status, 405);
  EXPECT_EQ(api_->route_of("/latest/binance/BTC-USDT/1m"), serving::LatestRoute::kRoute);
}

}  // namespace
}  // namespace tickflow::cache
