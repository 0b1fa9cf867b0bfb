// Kraken AssetPairs (kraken/instruments.h) → Instruments, resolved through InstrumentMap.
#include "exchange/kraken/instruments.h"

#include <gtest/gtest.h>

namespace tickflow::exchange::kraken {
namespace {

// The documented shape (docs.kraken.com "Get Tradable Asset Pairs"), trimmed to the fields used
// plus a few others; a dark-pool pair without wsname; a delisted pair; one without tick_size.
constexpr std::string_view kBody = R"({"error":[],"result":{
 "XXBTZUSD":{"altname":"XBTUSD","wsname":"XBT/USD","aclass_base":"currency","base":"XXBT","aclass_quote":"currency","quote":"ZUSD","lot":"unit","cost_decimals":5,"pair_decimals":1,"lot_decimals":8,"lot_multiplier":1,"leverage_buy":[2,3,4,5],"fees":[[0,0.26],[50000,0.24]],"ordermin":"0.0001","costmin":"0.5","tick_size":"0.1","status":"online"},
 "XXBTZUSD.d":{"altname":"XBTUSD.d","aclass_base":"currency","base":"XXBT","quote":"ZUSD","pair_decimals":1,"lot_decimals":8},
 "XDGUSD":{"altname":"XDGUSD","wsname":"XDG/USD","base":"XXDG","quote":"ZUSD","pair_decimals":7,"lot_decimals":8,"status":"post_only"},
 "LUNAUSD":{"altname":"LUNAUSD","wsname":"LUNA/USD","base":"LUNA","quote":"ZUSD","pair_decimals":8,"lot_decimals":5,"tick_size":"0.00000001","status":"delisted"}
}})";

TEST(KrakenAssetPairs, MapsWsnamesToUnifiedInstrumentsWithIncrements) {
  auto list = parse_asset_pairs(kBody);
  ASSERT_TRUE(list.is_ok()) << list.status().to_string();
  ASSERT_EQ(list->size(), 3u);  // the dark-pool pair (no wsname) is skipped
  const auto& btc = (*list)[0];
  EXPECT_EQ(btc.exchange_symbol, "XBT/USD");
  EXPECT_EQ(btc.symbol, "BTC-USD");
  EXPECT_EQ(btc.base, "BTC");
  EXPECT_EQ(btc.quote, "USD");
  EXPECT_EQ(btc.price_increment.to_string(), "0.1");
  EXPECT_EQ(btc.size_increment.to_string(), "0.00000001");
  EXPECT_TRUE(btc.trading);
  const auto& doge = (*list)[1];
  EXPECT_EQ(doge.symbol, "DOGE-USD");
  EXPECT_EQ(doge.price_increment.to_string(), "0.0000001");  // no tick_size: 10^-pair_decimals
  EXPECT_TRUE(doge.trading);                                  // post_only: market data flows
  EXPECT_FALSE((*list)[2].trading);                           // delisted

  collector::InstrumentMap map(std::move(*list));
  auto ok = map.resolve("kraken", {"BTC-USD", "XBT/USD", "doge-usd"});
  ASSERT_TRUE(ok.is_ok()) << ok.status().to_string();
  EXPECT_EQ((*ok)[1].symbol, "BTC-USD");
  EXPECT_EQ((*ok)[2].exchange_symbol, "XDG/USD");
  auto unknown = map.resolve("kraken", {"BTC-USD", "FOO-USD", "LUNA-USD"});
  ASSERT_FALSE(unknown.is_ok());
  EXPECT_NE(unknown.status().message().find("unknown kraken symbol(s): FOO-USD"), std::string::npos);
  EXPECT_NE(unknown.status().message().find("not trading: LUNA-USD"), std::string::npos);
}

TEST(KrakenAssetPairs, ErrorsAndMalformedBodies) {
  auto rate = parse_asset_pairs(R"({"error":["EAPI:Rate limit exceeded"]})");
  ASSERT_FALSE(rate.is_ok());
  EXPECT_EQ(rate.status().code(), ErrorCode::kUnavailable);
  EXPECT_NE(rate.status().message().find("EAPI:Rate limit exceeded"), std::string::npos);
  auto query = parse_asset_pairs(R"({"error":["EQuery:Unknown asset pair"]})");
  EXPECT_EQ(query.status().code(), ErrorCode::kInvalidArgument);
  for (std::string_view body : {R"({"error":[],"result":{"X":{"wsname":"XBTUSD","lot_decimals":8,"pair_decimals":1}}})",
                                R"({"error":[],"result":{"X":{"wsname":"XBT/USD","pair_decimals":1}}})",
                                R"({"error":[],"result":{"X":{"wsname":"XBT/USD","lot_decimals":8,"tick_size":"x"}}})",
                                R"({"error":[],"result":[)", R"({"error":[]})"}) {
    auto r = parse_asset_pairs(body);
    ASSERT_FALSE(r.is_ok()) << body;
    EXPECT_EQ(r.status().code(), ErrorCode::kCorruption) << body;
  }
}

}  // namespace
}  // namespace tickflow::exchange::kraken
