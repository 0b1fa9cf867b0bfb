#include "processing/candles/csv_run.h"

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "core/decimal.h"

namespace tickflow::processing {
namespace {

struct Row {
  std::string symbol, timeframe, open_time, close_time;
  Decimal open, high, low, close;
  WideDecimal volume, quote_volume, taker_buy_volume;
  int64_t trades = 0, first = -1, last = -1;
};

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::string cur;
  std::istringstream in(s);
  while (std::getline(in, cur, sep)) out.push_back(cur);
  return out;
}

std::vector<Row> parse_csv(const std::string& csv) {
  std::istringstream in(csv);
  std::string line;
  std::getline(in, line);
  EXPECT_EQ(line, kCandleCsvHeader);
  std::vector<Row> rows;
  while (std::getline(in, line)) {
    auto f = split(line, ',');
    EXPECT_EQ(f.size(), 17u) << line;
    if (f.size() != 17) continue;
    Row r;
    r.symbol = f[1];
    r.timeframe = f[3];
    r.open_time = f[4];
    r.close_time = f[5];
    r.open = *Decimal::parse(f[6]);
    r.high = *Decimal::parse(f[7]);
    r.low = *Decimal::parse(f[8]);
    r.close = *Decimal::parse(f[9]);
    r.volume = *WideDecimal::parse(f[10]);
    r.quote_volume = *WideDecimal::parse(f[11]);
    r.trades = std::stoll(f[13]);
    r.taker_buy_volume = *WideDecimal::parse(f[14]);
    r.first = std::stoll(f[15]);
    r.last = std::stoll(f[16]);
    rows.push_back(r);
  }
  return rows;
}

TEST(CsvRun, GeneratedFeedInvariants) {
  const std::string path = (std::filesystem::temp_directory_path() /
                            ("tickflow_csv_run_test_" + std::to_string(::getpid()) + ".jsonl"))
                               .string();
  // The workplace's generator (shared/tools/ beside the repository).
  const std::string tool = std::string(TICKFLOW_SOURCE_DIR) + "/tools/gen_binance_trades.py";
  if (!std::filesystem::exists(tool)) GTEST_SKIP() << tool << " not found";
  ASSERT_EQ(std::system(("python3 " + tool + " --count 20000 --seed 1 --out " + path + " 2>/dev/null").c_str()), 0);

  std::ifstream in(path);
  std::ostringstream out, diag;
  CsvRunOptions options;
  options.timeframes = *Timeframe::parse_list("5m,1m");
  options.diagnostics = &diag;
  auto stats = run_candles_csv(in, out, options);
  std::filesystem::remove(path);
  ASSERT_TRUE(stats.is_ok()) << stats.status().to_string();
  EXPECT_EQ(stats->lines, 20000u);
  EXPECT_EQ(stats->trades, 20000u);
  EXPECT_EQ(stats->rejected, 0u);
  EXPECT_EQ(stats->too_late, 0u);
  EXPECT_TRUE(diag.str().empty()) << diag.str();

  std::vector<Row> rows = parse_csv(out.str());
  EXPECT_EQ(rows.size(), stats->candles);
  std::map<std::string, std::vector<const Row*>> one_minute;  // symbol|5m open → 1m rows
  int64_t trades_1m = 0;
  for (size_t i = 0; i < rows.size(); ++i) {
    const Row& r = rows[i];
    EXPECT_GE(r.high, r.open);
    EXPECT_GE(r.high, r.close);
    EXPECT_LE(r.low, r.open);
    EXPECT_LE(r.low, r.close);
    if (i > 0) {  // sorted by symbol, timeframe duration, open time
      const Row& p = rows[i - 1];
      int dp = p.timeframe == "1m" ? 1 : 5, dr = r.timeframe == "1m" ? 1 : 5;
      EXPECT_TRUE(p.symbol < r.symbol || (p.symbol == r.symbol && (dp < dr || (dp == dr && p.open_time < r.open_time))))
          << p.symbol << p.open_time << " / " << r.symbol << r.open_time;
    }
    if (r.timeframe == "1m") {
      trades_1m += r.trades;
      auto t = *parse_time(r.open_time);
      one_minute[r.symbol + "|" + std::to_string(t - t % (5 * kNsPerMin))].push_back(&r);
      EXPECT_EQ(*parse_time(r.close_time), t + kNsPerMin - kNsPerMs);
    }
  }
  EXPECT_EQ(trades_1m, static_cast<int64_t>(stats->trades - stats->duplicates - stats->too_late));

  int merged = 0;
  for (const Row& r : rows) {
    if (r.timeframe != "5m") continue;
    auto t = *parse_time(r.open_time);
    const auto& parts = one_minute[r.symbol + "|" + std::to_string(t)];
    ASSERT_FALSE(parts.empty()) << r.symbol << " " << r.open_time;
    WideDecimal volume, quote, buy;
    int64_t trades = 0, first = -1, last = -1;
    const Row* open = nullptr;
    const Row* close = nullptr;
    Decimal high, low;
    for (const Row* m : parts) {
      volume.add(m->volume);
      quote.add(m->quote_volume);
      buy.add(m->taker_buy_volume);
      trades += m->trades;
      if (m->trades == 0) continue;
      if (open == nullptr) {
        open = m;
        high = m->high;
        low = m->low;
        first = m->first;
      }
      close = m;
      high = std::max(high, m->high);
      low = std::min(low, m->low);
      last = std::max(last, m->last);
    }
    EXPECT_EQ(r.trades, trades);
    EXPECT_EQ(r.volume, volume);
    EXPECT_EQ(r.quote_volume, quote);
    EXPECT_EQ(r.taker_buy_volume, buy);
    if (open != nullptr) {
      EXPECT_EQ(r.open, open->open) << r.symbol << " " << r.open_time;
      EXPECT_EQ(r.close, close->close) << r.symbol << " " << r.open_time;
      EXPECT_EQ(r.high, high);
      EXPECT_EQ(r.low, low);
      EXPECT_EQ(r.first, first);
      EXPECT_EQ(r.last, last);
    } else {
      EXPECT_EQ(r.trades, 0);  // flat: every minute inside is flat at the same price
      for (const Row* m : parts) EXPECT_EQ(m->close, r.close);
    }
    ++merged;
  }
  EXPECT_GT(merged, 100);
}

TEST(CsvRun, ExactRowsFromRawFrames) {
  std::istringstream in(
      R"({"stream":"btcusdt@trade","data":{"e":"trade","E":1705276807330,"s":"BTCUSDT","t":3370000000,"p":"43000.10000000","q":"0.00100000","T":1705276807329,"m":true,"M":true}})"
      "\n"
      R"({"stream":"btcusdt@trade","data":{"e":"trade","E":1705276808330,"s":"BTCUSDT","t":3370000001,"p":"43002.00000000","q":"0.50000000","T":1705276808329,"m":false,"M":true}})");
  std::ostringstream out, diag;
  CsvRunOptions options;
  options.diagnostics = &diag;
  auto stats = run_candles_csv(in, out, options);
  ASSERT_TRUE(stats.is_ok());
  EXPECT_EQ(out.str(),
            std::string(kCandleCsvHeader) +
                "\nbinance,BTC-USDT,BTCUSDT,1m,2024-01-15T00:00:00.000Z,2024-01-15T00:00:59.999Z,"
                "43000.10000000,43002.00000000,43000.10000000,43002.00000000,0.50100000,"
                "21544.00010000,43001.99620758,2,0.50000000,3370000000,3370000001\n");
  EXPECT_EQ(stats->lines, 2u);
  EXPECT_EQ(stats->candles, 1u);
}

TEST(CsvRun, RecordingFormatMixedStreamsAndMalformedLines) {
  const std::string agg =
      R"({"exchange":"binance","recv_ts_ns":1628952397705977000,"direction":"in","url":null,"raw":"{\"stream\":\"ftmusdt@aggTrade\",\"data\":{\"e\":\"aggTrade\",\"E\":1628952396573,\"s\":\"FTMUSDT\",\"a\":31718372,\"p\":\"0.33993000\",\"q\":\"99.90000000\",\"f\":38248910,\"l\":38248912,\"T\":1628952396572,\"m\":true,\"M\":true}}"})";
  const std::string trade_same_symbol =
      R"({"stream":"ftmusdt@trade","data":{"e":"trade","E":1628952396573,"s":"FTMUSDT","t":38248913,"p":"0.33993000","q":"1.00000000","T":1628952396600,"m":true,"M":true}})";
  const std::string http =
      R"({"exchange":"binance","recv_ts_ns":1,"direction":"http","url":"https://api.binance.com/api/v3/exchangeInfo","raw":"{}"})";
  const std::string depth =
      R"({"stream":"manausd@depth@100ms","data":{"e":"depthUpdate","E":1617643092236,"s":"MANAUSD","U":1,"u":2,"b":[],"a":[]}})";
  std::istringstream in(agg + "\n\n" + http + "\nthis is not json\n" + trade_same_symbol + "\r\n" + depth +
                        "\n{\"stream\":\"x@trade\",\"data\":{\"e\":\"trade\",\"p\":\"abc\"\n" + agg + "\n");
  std::ostringstream out, diag;
  CsvRunOptions options;
  options.diagnostics = &diag;
  auto stats = run_candles_csv(in, out, options);
  ASSERT_TRUE(stats.is_ok());
  EXPECT_EQ(stats->lines, 7u);
  EXPECT_EQ(stats->trades, 2u);
  EXPECT_EQ(stats->duplicates, 1u);
  EXPECT_EQ(stats->other_stream, 1u);
  EXPECT_EQ(stats->other_messages, 2u);  // http + depth
  EXPECT_EQ(stats->rejected, 2u);
  EXPECT_EQ(stats->candles, 1u);
  EXPECT_NE(diag.str().find("line 3 rejected (malformed_json)"), std::string::npos) << diag.str();
  EXPECT_NE(diag.str().find("this is not json"), std::string::npos);
  EXPECT_NE(out.str().find("binance,FTM-USDT,FTMUSDT,1m,2021-08-14T14:46:00.000Z,2021-08-14T14:46:59.999Z,"
                           "0.33993000,0.33993000,0.33993000,0.33993000,99.90000000,"),
            std::string::npos)
      << out.str();
  EXPECT_NE(out.str().find(",3,0,38248910,38248912\n"), std::string::npos) << out.str();
}

TEST(CsvRun, OnlyBinanceIsSupported) {
  std::istringstream in("");
  std::ostringstream out;
  CsvRunOptions options;
  options.exchange = Exchange::kKraken;
  auto stats = run_candles_csv(in, out, options);
  ASSERT_FALSE(stats.is_ok());
  EXPECT_EQ(stats.status().code(), ErrorCode::kInvalidArgument);
}

TEST(CsvRun, LinesLongerThanTheReadBlock) {
  std::string big = "{\"exchange\":\"binance\",\"recv_ts_ns\":1,\"direction\":\"http\",\"url\":null,\"raw\":\"" +
                    std::string(9 << 20, 'x') + "\"}";
  std::istringstream in(big + "\n" +
                        R"({"e":"trade","E":1,"s":"BTCUSDT","t":1,"p":"1.5","q":"2","T":60000,"m":false,"M":true})");
  std::ostringstream out, diag;
  CsvRunOptions options;
  options.diagnostics = &diag;
  auto stats = run_candles_csv(in, out, options);
  ASSERT_TRUE(stats.is_ok());
  EXPECT_EQ(stats->lines, 2u);
  EXPECT_EQ(stats->other_messages, 1u);
  EXPECT_EQ(stats->trades, 1u);
  EXPECT_EQ(stats->candles, 1u);
}

}  // namespace
}  // namespace tickflow::processing
