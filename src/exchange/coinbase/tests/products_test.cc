// Coinbase GET /products → collector::Instrument on the recorded response (the first record of
// testdata/exchanges/coinbase), and the collector resolving its configured products through it
// at start: known ones (any case) subscribed with their increments, an unknown one a clear
// error naming it with nothing connected or subscribed.
#include <gtest/gtest.h>
#include <simdjson.h>

#include <fstream>

#include "bus/testing/in_memory_bus.h"
#include "exchange/coinbase/collector.h"
#include "exchange/coinbase/products.h"
#include "exchange/tests/fake_transport.h"

namespace tickflow::exchange::coinbase {
namespace {

std::string recorded_products() {
  std::ifstream in(std::string(TICKFLOW_SOURCE_DIR) +
                   "/testdata/exchanges/coinbase/coinbase_exchange_2021-04-17_part1.jsonl");
  std::string line;
  std::getline(in, line);
  simdjson::dom::parser p;
  std::string_view url, raw;
  auto doc = p.parse(line);
  if (doc["url"].get_string().get(url) || url != "https://api.pro.coinbase.com/products") return {};
  if (doc["raw"].get_string().get(raw)) return {};
  return std::string(raw);
}

TEST(CoinbaseProducts, RecordedProductListParses) {
  const std::string body = recorded_products();
  ASSERT_FALSE(body.empty());
  auto list = parse_products(body);
  ASSERT_TRUE(list.is_ok()) << list.status().to_string();
  EXPECT_GT(list->size(), 100u);
  collector::InstrumentMap map(*list);
  const collector::Instrument* skl = map.find("SKL-EUR");
  ASSERT_NE(skl, nullptr);
  EXPECT_EQ(skl->symbol, "SKL-EUR");
  EXPECT_EQ(skl->base, "SKL");
  EXPECT_EQ(skl->quote, "EUR");
  EXPECT_EQ(skl->price_increment.to_string(), "0.0001");
  EXPECT_EQ(skl->size_increment.to_string(), "0.1");
  EXPECT_TRUE(skl->trading);
  // Every product the recording subscribes is listed and trading.
  auto resolved = map.resolve("coinbase", {"SKL-USD", "SKL-BTC", "BAND-GBP", "NMR-EUR", "BAND-BTC", "YFI-BTC",
                                           "DASH-BTC", "NU-GBP", "CRV-EUR", "skl-gbp"});
  ASSERT_TRUE(resolved.is_ok()) << resolved.status().to_string();
  EXPECT_EQ(resolved->back().symbol, "SKL-GBP");

  EXPECT_EQ(parse_products("{}").status().code(), ErrorCode::kCorruption);
  EXPECT_EQ(parse_products(R"([{"id":"BTC-USD"}])").status().code(), ErrorCode::kCorruption);
  auto off = parse_products(
      R"([{"id":"X-USD","base_currency":"X","quote_currency":"USD","quote_increment":"0.01","base_increment":"1","status":"delisted","trading_disabled":false},)"
      R"({"id":"Y-USD","base_currency":"Y","quote_currency":"USD","quote_increment":"0.01","base_increment":"1","status":"online","trading_disabled":true}])");
  ASSERT_TRUE(off.is_ok());
  EXPECT_FALSE((*off)[0].trading);
  EXPECT_FALSE((*off)[1].trading);
  auto halted = collector::InstrumentMap(*off).resolve("coinbase", {"Y-USD"});
  ASSERT_FALSE(halted.is_ok());
  EXPECT_NE(halted.status().message().find("not trading: Y-USD"), std::string::npos);
}

class CoinbaseProductsCollectorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string body = recorded_products();
    http_.set_handler([body](const transport::Url& url) -> Result<transport::HttpResponse> {
      transport::HttpResponse r;
      r.status = url.target == "/products" ? 200 : 404;
      r.body = url.target == "/products" ? body : R"({"message":"NotFound"})";
      return r;
    });
  }
  CollectorConfig config(std::vector<std::string> symbols) {
    CollectorConfig c;
    c.ws_url = "ws://127.0.0.1:9";
    c.rest_url = "http://127.0.0.1:9";
    c.symbols = std::move(symbols);
    c.backoff.base_delay = 1 * kNsPerMs;
    return c;
  }
  bus::testing::InMemoryBus bus_;
  ManualClock clock_{1618677817000000000};
  testing::WsScript ws_;
  testing::HttpScript http_;
};

TEST_F(CoinbaseProductsCollectorTest, KnownProductsResolveWithTheirIncrements) {
  Collector c(config({"SKL-USD", "band-gbp"}), bus_, clock_, ws_.make(), http_.make());
  ASSERT_TRUE(c.start().is_ok());
  const auto ins = c.instruments();
  ASSERT_EQ(ins.size(), 2u);
  EXPECT_EQ(ins[0].symbol, "SKL-USD");
  EXPECT_EQ(ins[1].symbol, "BAND-GBP");
  EXPECT_FALSE(ins[1].price_increment.is_zero());
  ASSERT_TRUE(bus_.wait_until([&] { return !ws_.sent().empty(); }));
  c.stop();
  EXPECT_EQ(ws_.sent()[0], R"({"type":"subscribe","product_ids":["SKL-USD","BAND-GBP"],"channels":["heartbeat","matches"]})");
  EXPECT_EQ(http_.requests().front(), "/products");
}

TEST_F(CoinbaseProductsCollectorTest, UnknownProductIsAClearErrorAndNothingIsSubscribed) {
  Collector c(config({"SKL-USD", "FOO-USD"}), bus_, clock_, ws_.make(), http_.make());
  const Status st = c.start();
  ASSERT_FALSE(st.is_ok());
  EXPECT_EQ(st.code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(st.message().find("unknown coinbase symbol(s): FOO-USD"), std::string::npos) << st.message();
  EXPECT_EQ(c.health().state, HealthState::kDown);
  c.stop();
  EXPECT_TRUE(ws_.connect_urls().empty());
  EXPECT_TRUE(ws_.sent().empty());
}

}  // namespace
}  // namespace tickflow::exchange::coinbase
