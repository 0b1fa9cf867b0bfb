#include "app/config.h"

#include <cstdio>
#include <fstream>

#include <gtest/gtest.h>

namespace tickflow::app {
namespace {

std::string write_temp(const std::string& text) {
  char path[] = "/tmp/tickflow_config_XXXXXX";
  int fd = mkstemp(path);
  EXPECT_GE(fd, 0);
  close(fd);
  std::ofstream(path) << text;
  return path;
}

ConfigError expect_error(const std::string& toml, const std::map<std::string, std::string>& env = {}) {
  auto r = load_config(toml.empty() ? "" : write_temp(toml), env, {});
  EXPECT_TRUE(std::holds_alternative<ConfigError>(r));
  return std::holds_alternative<ConfigError>(r) ? std::get<ConfigError>(r) : ConfigError{};
}

TEST(Config, ExampleFileLoadsWithDefaults) {
  auto r = load_config(std::string(TICKFLOW_SOURCE_DIR) + "/config/tickflow.example.toml", {}, {});
  ASSERT_TRUE(std::holds_alternative<AppConfig>(r)) << std::get<ConfigError>(r).to_string();
  const AppConfig& c = std::get<AppConfig>(r);
  EXPECT_EQ(c.api.port, 8080);
  EXPECT_EQ(c.candles.timeframes.size(), 6u);
  EXPECT_EQ(c.binance.symbols[0], "BTC-USDT");
}

// The shipped live config: all three exchanges, trades and books, each collector's config valid.
TEST(Config, LiveFileEnablesAllThreeExchangesWithBooks) {
  auto r = load_config(std::string(TICKFLOW_SOURCE_DIR) + "/config/live.toml", {}, {});
  ASSERT_TRUE(std::holds_alternative<AppConfig>(r)) << std::get<ConfigError>(r).to_string();
  const AppConfig& c = std::get<AppConfig>(r);
  EXPECT_TRUE(c.binance.enabled);
  EXPECT_TRUE(c.binance.book);
  EXPECT_EQ(c.binance.ws_url, "wss://stream.binance.com:9443");
  EXPECT_TRUE(c.kraken.enabled);
  EXPECT_EQ(c.kraken.book_depth, 10);
  EXPECT_EQ(c.kraken.ws_url, "wss://ws.kraken.com");
  EXPECT_TRUE(c.coinbase.enabled);
  EXPECT_TRUE(c.coinbase.book);
  EXPECT_EQ(c.coinbase.ws_url, "wss://ws-feed.exchange.coinbase.com");
  EXPECT_EQ(c.coinbase.symbols, (std::vector<std::string>{"BTC-USD", "ETH-USD"}));
}

TEST(Config, EnvironmentOverridesFileAndFlagsOverrideEnvironment) {
  std::string path = write_temp("[api]\nport = 9000\n");
  auto r = load_config(path, {{"TICKFLOW_API_PORT", "9100"}}, {});
  EXPECT_EQ(std::get<AppConfig>(r).api.port, 9100);
  ConfigOverrides o;
  o.port = 9200;
  r = load_config(path, {{"TICKFLOW_API_PORT", "9100"}}, o);
  EXPECT_EQ(std::get<AppConfig>(r).api.port, 9200);
}

TEST(Config, ErrorsNameTheKey) {
  EXPECT_EQ(expect_error("[api]\nport = 70000\n").key, "api.port");
  EXPECT_EQ(expect_error("[api]\nprot = 1\n").key, "api.prot");
  EXPECT_EQ(expect_error("[candles]\ntimeframes = [\"7m\"]\n").key, "candles.timeframes");
  EXPECT_EQ(expect_error("[candles]\ngrace = \"soon\"\n").key, "candles.grace");
  EXPECT_EQ(expect_error("[bus]\nbackend = \"zookeeper\"\n").key, "bus.backend");
  EXPECT_EQ(expect_error("[exchanges.binance]\nws_url = \"http://x\"\n").key, "exchanges.binance.ws_url");
  EXPECT_EQ(expect_error("", {{"TICKFLOW_API_PORT", "abc"}}).key, "TICKFLOW_API_PORT");
  EXPECT_NE(expect_error("data_dir = \n").message.find(":1:"), std::string::npos);
}

TEST(Config, KafkaProcessingGuaranteeIsAtLeastOnceByDefaultOrExactlyOnceV2) {
  auto d = load_config(write_temp("[bus]\nbackend = \"embedded\"\n"), {}, {});
  ASSERT_TRUE(std::holds_alternative<AppConfig>(d));
  EXPECT_EQ(std::get<AppConfig>(d).kafka_processing_guarantee, "at_least_once");
  auto e = load_config(write_temp("[kafka]\nbootstrap_servers = \"b:9092\"\nprocessing.guarantee = \"exactly_once_v2\"\n"),
                       {}, {});
  ASSERT_TRUE(std::holds_alternative<AppConfig>(e)) << std::get<ConfigError>(e).to_string();
  EXPECT_EQ(std::get<AppConfig>(e).kafka_processing_guarantee, "exactly_once_v2");
  EXPECT_EQ(expect_error("[kafka]\nprocessing.guarantee = \"exactly_once\"\n").key, "kafka.processing.guarantee");
  EXPECT_EQ(expect_error("[kafka]\nprocessing.guarentee = \"exactly_once_v2\"\n").key, "kafka.processing.guarentee");
}

// SASL/SCRAM and TLS reach librdkafka through [kafka.properties]: quoted or bare dotted keys,
// scalars as text; the SASL secrets may come from the environment instead of the file.
TEST(Config, KafkaPropertiesAndReplicationFactorPassThrough) {
  auto r = load_config(write_temp("[kafka]\nbootstrap_servers = \"b:9092\"\nreplication_factor = 3\n"
                                  "[kafka.properties]\n\"security.protocol\" = \"SASL_SSL\"\n"
                                  "sasl.mechanism = \"SCRAM-SHA-512\"\n\"linger.ms\" = 2\n"
                                  "\"enable.ssl.certificate.verification\" = true\n"
                                  "\"sasl.password\" = \"from-file\"\n"),
                       {{"KAFKA_SASL_USERNAME", "svc"}, {"KAFKA_SASL_PASSWORD", "from-env"}}, {});
  ASSERT_TRUE(std::holds_alternative<AppConfig>(r)) << std::get<ConfigError>(r).to_string();
  const AppConfig& c = std::get<AppConfig>(r);
  EXPECT_EQ(c.kafka_replication_factor, 3);
  EXPECT_EQ(c.kafka_properties, (std::map<std::string, std::string>{{"security.protocol", "SASL_SSL"},
                                                                     {"sasl.mechanism", "SCRAM-SHA-512"},
                                                                     {"linger.ms", "2"},
                                                                     {"enable.ssl.certificate.verification", "true"},
                                                                     {"sasl.username", "svc"},
                                                                     {"sasl.password", "from-env"}}));
  auto d = load_config(write_temp("[bus]\nbackend = \"embedded\"\n"), {}, {});
  EXPECT_EQ(std::get<AppConfig>(d).kafka_replication_factor, -1);
  EXPECT_TRUE(std::get<AppConfig>(d).kafka_properties.empty());
  EXPECT_EQ(expect_error("[kafka]\nreplication_factor = 0\n").key, "kafka.replication_factor");
  EXPECT_EQ(expect_error("[kafka.properties]\n\"bootstrap.servers\" = [\"a\"]\n").key,
            "kafka.properties.bootstrap.servers");
}

TEST(Config, IndicatorSpecsAreValidatedAtStartNamingTheKeyAndEntry) {
  auto ok = load_config(write_temp("[indicators]\nspec = \"sma:5,rsi:3\"\n[indicators.timeframes]\n\"60m\" = \"ema:50\"\n"),
                        {}, {});
  ASSERT_TRUE(std::holds_alternative<AppConfig>(ok)) << std::get<ConfigError>(ok).to_string();
  const AppConfig& c = std::get<AppConfig>(ok);
  EXPECT_TRUE(c.indicators.enabled);
  EXPECT_EQ(c.indicators.spec, "sma:5,rsi:3");
  EXPECT_EQ(c.indicators.timeframes.at("1h"), "ema:50");  // canonical timeframe label
  auto e = expect_error("[indicators]\nspec = \"sma:20,bogus:4\"\n");
  EXPECT_EQ(e.key, "indicators.spec");
  EXPECT_NE(e.message.find("bogus:4"), std::string::npos) << e.message;
  e = expect_error("[indicators.timeframes]\n\"1h\" = \"rsi:0\"\n");
  EXPECT_EQ(e.key, "indicators.timeframes.1h");
  e = expect_error("[indicators.timeframes]\n\"7m\" = \"rsi:14\"\n");
  EXPECT_EQ(e.key, "indicators.timeframes.7m");
  e = expect_error("[indicators]\nspecs = \"sma:3\"\n");
  EXPECT_EQ(e.key, "indicators.specs");
}

TEST(Config, OrderbookRetentionIsSevenDaysByDefaultAndMustBePositive) {
  auto d = load_config(write_temp("[storage]\nbackend = \"embedded\"\n"), {}, {});
  ASSERT_TRUE(std::holds_alternative<AppConfig>(d));
  EXPECT_EQ(std::get<AppConfig>(d).store_orderbook_retention, 7 * kNsPerDay);
  auto e = load_config(write_temp("[storage]\norderbook_retention = \"36h\"\n"), {}, {});
  ASSERT_TRUE(std::holds_alternative<AppConfig>(e)) << std::get<ConfigError>(e).to_string();
  EXPECT_EQ(std::get<AppConfig>(e).store_orderbook_retention, 36 * kNsPerHour);
  EXPECT_EQ(expect_error("[storage]\norderbook_retention = \"0s\"\n").key, "storage.orderbook_retention");
  EXPECT_EQ(expect_error("[storage]\norderbook_retention = \"forever\"\n").key, "storage.orderbook_retention");
}

TEST(Config, KrakenApiAndBookDepthAreKrakensOwnValues) {
  auto r = load_config(write_temp("[exchanges.kraken]\nenabled = true\napi = \"v2\"\nbook_depth = 25\n"), {}, {});
  ASSERT_TRUE(std::holds_alternative<AppConfig>(r)) << std::get<ConfigError>(r).to_string();
  EXPECT_EQ(std::get<AppConfig>(r).kraken.api, "v2");
  EXPECT_EQ(std::get<AppConfig>(r).kraken.book_depth, 25);
  EXPECT_EQ(expect_error("[exchanges.kraken]\napi = \"v3\"\n").key, "exchanges.kraken.api");
  EXPECT_EQ(expect_error("[exchanges.kraken]\nbook_depth = 20\n").key, "exchanges.kraken.book_depth");
}

TEST(Config, MissingFileIsAnError) {
  auto r = load_config("/nonexistent/tickflow.toml", {}, {});
  ASSERT_TRUE(std::holds_alternative<ConfigError>(r));
  EXPECT_EQ(std::get<ConfigError>(r).key, "--config");
}

}  // namespace
}  // namespace tickflow::app
