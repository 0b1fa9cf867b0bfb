#include "core/symbol.h"

#include <gtest/gtest.h>

#include "core/topics.h"

namespace tickflow {
namespace {

TEST(Symbol, UnifiesBinanceSymbols) {
  EXPECT_EQ(unify_binance_symbol("BTCUSDT"), "BTC-USDT");
  EXPECT_EQ(unify_binance_symbol("btcusdt"), "BTC-USDT");
  EXPECT_EQ(unify_binance_symbol("BTCSTUSDT"), "BTCST-USDT");
  EXPECT_EQ(unify_binance_symbol("RENBTCETH"), "RENBTC-ETH");
  EXPECT_EQ(unify_binance_symbol("BTCUSD"), "BTC-USD");
  EXPECT_EQ(unify_binance_symbol("AXSBNB"), "AXS-BNB");
  EXPECT_EQ(unify_kraken_symbol("XBT/USD"), "BTC-USD");
  EXPECT_EQ(binance_symbol_from_unified("BTC-USDT"), "BTCUSDT");
}

TEST(Symbol, NormalizesUserInput) {
  EXPECT_EQ(*normalize_symbol(Exchange::kBinance, "btc-usdt"), "BTC-USDT");
  EXPECT_EQ(*normalize_symbol(Exchange::kBinance, "ETHUSDT"), "ETH-USDT");
  EXPECT_FALSE(normalize_symbol(Exchange::kBinance, "BTC USDT"));
  EXPECT_EQ(series_key(Exchange::kBinance, "BTC-USDT", "1m"), "binance:BTC-USDT:1m");
}

TEST(Topics, PartitionerMatchesKafkaMurmur2) {
  // Reference values from Kafka's Utils.murmur2 (positive-masked).
  EXPECT_EQ(topics::murmur2("21") & 0x7fffffff, 0x7fffffffu & static_cast<uint32_t>(-973932308));
  EXPECT_EQ(topics::murmur2("foobar") & 0x7fffffff, 0x7fffffffu & static_cast<uint32_t>(-790332482));
  int32_t p = topics::partition_for("binance:BTC-USDT", 30);
  EXPECT_GE(p, 0);
  EXPECT_LT(p, 30);
  EXPECT_EQ(p, topics::partition_for("binance:BTC-USDT", 30));
}

}  // namespace
}  // namespace tickflow
