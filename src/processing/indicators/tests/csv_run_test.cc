// The offline CSV run: columns appended, warm-up empty, series kept apart, same numbers as the
// streaming IndicatorSet (bit for bit), errors naming the line.
#include "processing/indicators/csv_run.h"

#include <fstream>
#include <sstream>
#include <string>

#include <gtest/gtest.h>

#include "processing/indicators/indicator_set.h"
#include "processing/indicators/tests/test_util.h"

namespace tickflow::processing::indicators {
namespace {

Result<size_t> run(const std::string& csv, std::string_view spec, std::string& out) {
  std::istringstream in(csv);
  std::ostringstream os;
  auto r = run_indicators_csv(in, os, spec);
  out = os.str();
  return r;
}

TEST(CsvRunTest, AppendsColumnsEmptyDuringWarmup) {
  const std::string csv =
      "open_time,high,low,close,volume\n"
      "2021-08-14T23:58:00.000Z,10,8,9,2\n"
      "2021-08-14T23:59:00.000Z,11,9,10,0\n"
      "2021-08-15T00:00:00.000Z,12,10,11,3\r\n"
      "\n"
      "2021-08-15T00:01:00.000Z,15,10,14,1\n";
  std::string out;
  auto r = run(csv, "sma:3,atr:2,vwap", out);
  ASSERT_TRUE(r.is_ok()) << r.status().to_string();
  EXPECT_EQ(*r, 4u);
  // atr:2 — TR 2, 2, 5 → 2 at bar 2, (2 + 5)/2 = 3.5 at bar 3. vwap resets at 00:00 UTC: bar 2 alone
  // (typical 11), then (11·3 + 13·1)/4 = 11.5.
  EXPECT_EQ(out,
            "open_time,high,low,close,volume,sma3,atr2,vwap\n"
            "2021-08-14T23:58:00.000Z,10,8,9,2,,,9\n"
            "2021-08-14T23:59:00.000Z,11,9,10,0,,,9\n"
            "2021-08-15T00:00:00.000Z,12,10,11,3,10,2,11\n"
            "2021-08-15T00:01:00.000Z,15,10,14,1,11.666666666666666,3.5,11.5\n");
}

TEST(CsvRunTest, SeriesOfCandlesOutputAreKeptApart) {
  // The shape of `tickflow candles` output (two symbols, sorted by symbol then time), quoted cells.
  const std::string csv =
      "exchange,symbol,timeframe,open_time,close,volume,quote_volume\n"
      "binance,BTC-USDT,1m,1628952300000,1,1,1\n"
      "binance,BTC-USDT,1m,1628952360000,2,1,2\n"
      "binance,BTC-USDT,1m,1628952420000,3,1,3\n"
      "binance,\"ETH-USDT\",1m,1628952300000,10,2,21\n"
      "binance,ETH-USDT,1m,1628952360000,20,2,39\n";
  std::string out;
  auto r = run(csv, "sma:2,vwap:2", out);
  ASSERT_TRUE(r.is_ok()) << r.status().to_string();
  EXPECT_EQ(out,
            "exchange,symbol,timeframe,open_time,close,volume,quote_volume,sma2,vwap2\n"
            "binance,BTC-USDT,1m,1628952300000,1,1,1,,\n"
            "binance,BTC-USDT,1m,1628952360000,2,1,2,1.5,1.5\n"
            "binance,BTC-USDT,1m,1628952420000,3,1,3,2.5,2.5\n"
            "binance,\"ETH-USDT\",1m,1628952300000,10,2,21,,\n"
            "binance,ETH-USDT,1m,1628952360000,20,2,39,15,15\n");
}

TEST(CsvRunTest, BatchEqualsStreamingBitForBitOnTheReference) {
  const std::string spec = "sma:20,ema:20,rsi:14,macd:12:26:9,bb:20:2,vwap:5";
  std::ifstream in(std::string(TICKFLOW_SOURCE_DIR) + "/testdata/indicators/indicator_reference.csv");
  ASSERT_TRUE(in.good());
  std::stringstream file;
  file << in.rdbuf();
  // The reference has no volume column: add one so vwap runs too.
  std::string with_volume, line;
  std::istringstream lines(file.str());
  int n = 0;
  while (std::getline(lines, line)) {
    if (line.empty() || line[0] == '#') continue;
    with_volume += line + (n == 0 ? ",volume\n" : "," + std::to_string(n % 5) + "\n");
    ++n;
  }
  std::string out;
  auto r = run(with_volume, spec, out);
  ASSERT_TRUE(r.is_ok()) << r.status().to_string();
  EXPECT_EQ(*r, 1000u);

  std::istringstream os(out);
  testing::Table batch = testing::parse_table(os);
  ASSERT_EQ(batch.rows.size(), 1000u);
  testing::Table ref = testing::load_reference("indicator_reference.csv");
  auto set = IndicatorSet::create(spec);
  ASSERT_TRUE(set.is_ok());
  const size_t first_out = batch.columns.size() - set->names().size();
  for (size_t i = 0; i < ref.rows.size(); ++i) {
    Bar b;
    b.close = b.high = b.low = *ref.rows[i][ref.column("close")];
    b.volume = static_cast<double>((i + 1) % 5);
    ASSERT_TRUE(set->update(b).is_ok());
    for (size_t j = 0; j < set->names().size(); ++j) {
      const auto& have = batch.rows[i][first_out + j];
      const auto& want = set->values()[j];
      ASSERT_EQ(have.has_value(), want.has_value()) << set->names()[j] << " i=" << i;
      if (want) {
        ASSERT_EQ(*have, *want) << set->names()[j] << " i=" << i;  // shortest round trip: exact
      }
    }
  }
}

TEST(CsvRunTest, Errors) {
  std::string out;
  auto r = run("open,close\n1,2\n", "sma:0", out);
  EXPECT_EQ(r.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("'sma:0'"), std::string::npos);

  r = run("open,price\n1,2\n", "sma:2", out);
  EXPECT_EQ(r.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("'close'"), std::string::npos);

  r = run("close,low\n1,2\n", "atr:2", out);
  EXPECT_EQ(r.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("high"), std::string::npos);

  r = run("close\n1\n", "vwap:3", out);
  EXPECT_EQ(r.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("volume"), std::string::npos);

  r = run("close,volume\n1,1\n", "vwap", out);
  EXPECT_EQ(r.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("open_time"), std::string::npos);

  r = run("# comment\nclose,volume\n1,2\n3,abc\n", "sma:1", out);
  EXPECT_EQ(r.status().code(), ErrorCode::kParse);
  EXPECT_NE(r.status().message().find("line 4"), std::string::npos) << r.status().message();
  EXPECT_NE(r.status().message().find("'volume'"), std::string::npos) << r.status().message();

  r = run("close\nnan\n", "sma:1", out);
  EXPECT_EQ(r.status().code(), ErrorCode::kParse);

  r = run("close,volume\n1,-2\n", "sma:1", out);
  EXPECT_EQ(r.status().code(), ErrorCode::kParse);
  EXPECT_NE(r.status().message().find("negative volume"), std::string::npos) << r.status().message();

  r = run("close,volume\n1\n", "sma:1", out);
  EXPECT_EQ(r.status().code(), ErrorCode::kParse);
  EXPECT_NE(r.status().message().find("expected 2 fields, got 1"), std::string::npos);

  r = run("", "sma:1", out);
  EXPECT_EQ(r.status().code(), ErrorCode::kParse);
}

}  // namespace
}  // namespace tickflow::processing::indicators
