// Binance exchangeInfo → instruments, on the recordings' own exchangeInfo bodies.
#include "exchange/binance/instruments.h"

#include <simdjson.h>

#include <fstream>
#include <string>

#include <gtest/gtest.h>

namespace tickflow::exchange::binance {
namespace {

// The body of the recording's GET /api/v3/exchangeInfo (an "http" record).
std::string exchange_info_body(const std::string& name) {
  std::ifstream in(std::string(TICKFLOW_SOURCE_DIR) + "/testdata/exchanges/binance/" + name);
  EXPECT_TRUE(in.good()) << name;
  simdjson::dom::parser parser;
  std::string line;
  while (std::getline(in, line)) {
    if (line.find("/api/v3/exchangeInfo") == std::string::npos) continue;
    simdjson::dom::element rec = parser.parse(line);
    return std::string(rec["raw"].get_string().value());
  }
  ADD_FAILURE() << "no exchangeInfo in " << name;
  return {};
}

TEST(BinanceInstruments, RecordedExchangeInfoBodies) {
  struct Case {
    const char* file;
    size_t symbols, trading;
    const char* halted;
  } cases[] = {
      {"binance_2021-08-14.jsonl", 1589, 1193, "BCCBTC"},
      {"binance_2021-10-12.jsonl", 1695, 1262, "BCCBTC"},
      {"binanceus_2021-04-17.jsonl", 109, 105, "XRPUSD"},
      {"binanceus_2021-10-12.jsonl", 121, 117, "XRPUSD"},
  };
  for (const auto& c : cases) {
    std::vector<collector::Instrument> list;
    ASSERT_TRUE(parse_exchange_info(exchange_info_body(c.file), list).is_ok()) << c.file;
    EXPECT_EQ(list.size(), c.symbols) << c.file;
    size_t trading = 0;
    for (const auto& in : list) {
      trading += in.trading ? 1 : 0;
      EXPECT_EQ(in.symbol, in.base + "-" + in.quote);
      EXPECT_FALSE(in.price_increment.is_zero()) << in.exchange_symbol;
    }
    EXPECT_EQ(trading, c.trading) << c.file;
    collector::InstrumentMap map(std::move(list));
    const collector::Instrument* btc = map.find("BTC-USDT");
    ASSERT_NE(btc, nullptr);
    EXPECT_EQ(btc->exchange_symbol, "BTCUSDT");
    EXPECT_EQ(btc->price_increment.to_string(), "0.01000000");
    auto halted = map.resolve("binance", {c.halted});
    ASSERT_FALSE(halted.is_ok());
    EXPECT_NE(halted.status().message().find("not trading"), std::string::npos) << halted.status().message();
  }
}

TEST(BinanceInstruments, IncrementsAndUnifiedNamesAndUnknownSymbols) {
  std::vector<collector::Instrument> list;
  ASSERT_TRUE(parse_exchange_info(exchange_info_body("binance_2021-10-12.jsonl"), list).is_ok());
  collector::InstrumentMap map(std::move(list));
  auto ok = map.resolve("binance", {"BTC-USDT", "nknusdt", "ETHBTC"});
  ASSERT_TRUE(ok.is_ok()) << ok.status().message();
  EXPECT_EQ((*ok)[0].size_increment.to_string(), "0.00001000");
  EXPECT_EQ((*ok)[1].symbol, "NKN-USDT");
  EXPECT_EQ((*ok)[1].price_increment.to_string(), "0.00010000");
  EXPECT_EQ((*ok)[1].size_increment.to_string(), "1.00000000");
  EXPECT_EQ((*ok)[2].symbol, "ETH-BTC");
  auto bad = map.resolve("binance", {"BTC-USDT", "FOO-BAR"});
  ASSERT_FALSE(bad.is_ok());
  EXPECT_NE(bad.status().message().find("unknown binance symbol(s): FOO-BAR"), std::string::npos)
      << bad.status().message();

  std::vector<collector::Instrument> us;
  ASSERT_TRUE(parse_exchange_info(exchange_info_body("binanceus_2021-10-12.jsonl"), us).is_ok());
  collector::InstrumentMap us_map(std::move(us));
  const auto* btcusd = us_map.find("BTC-USD");
  ASSERT_NE(btcusd, nullptr);
  EXPECT_EQ(btcusd->price_increment.to_string(), "0.0100");  // binance.us prints 4 decimals here
}

TEST(BinanceInstruments, MalformedBodiesAreErrors) {
  std::vector<collector::Instrument> list;
  for (const char* bad : {"", "[]", R"({"timezone":"UTC"})", R"({"symbols":[{"symbol":"BTCUSDT"}]})",
                          R"({"symbols":[{"symbol":"A","status":"TRADING","baseAsset":"A","quoteAsset":"B","filters":[{"filterType":"PRICE_FILTER","tickSize":"x"}]}]})",
                          R"({"symbols":[]} trailing)"}) {
    list.clear();
    EXPECT_FALSE(parse_exchange_info(bad, list).is_ok()) << bad;
  }
}

}  // namespace
}  // namespace tickflow::exchange::binance
