// The tickflow binary as users run it: exit codes and messages for bad configuration and a
// busy port, `tickflow candles` on a real recording, `tickflow tail` on a running pipeline.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmath>
#include <fstream>
#include <gtest/gtest.h>

#include "tests/integration/pipeline_fixture.h"

namespace tickflow::testing {
namespace {

using namespace std::chrono_literals;

struct Ran {
  int code;
  std::string output;
};

Ran run_tickflow(const std::string& dir, std::vector<std::string> args, const std::string& name) {
  args.insert(args.begin(), tickflow_binary());
  Subprocess p(args, dir + "/" + name + ".log");
  int code = p.wait(60s);
  return {code, p.output()};
}

TEST(Cli, BadConfigurationNamesTheKeyAndExitsWith2) {
  std::string dir = make_temp_dir("tickflow_cli");
  std::ofstream(dir + "/bad.toml") << "[api]\nport = 70000\n";
  auto r = run_tickflow(dir, {"run", "--config", dir + "/bad.toml"}, "bad_port");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.output.find("api.port"), std::string::npos) << r.output;

  std::ofstream(dir + "/typo.toml") << "[candles]\ntimeframe = [\"1m\"]\n";
  r = run_tickflow(dir, {"run", "--config", dir + "/typo.toml"}, "typo");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.output.find("candles.timeframe"), std::string::npos) << r.output;

  r = run_tickflow(dir, {"run", "--timeframes", "7m"}, "bad_tf");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.output.find("--timeframes"), std::string::npos) << r.output;

  r = run_tickflow(dir, {"frobnicate"}, "unknown_command");
  EXPECT_NE(r.code, 0);

  // [kafka.properties] reach librdkafka (SASL/TLS settings go the same way): a property it does
  // not know stops the service with its name, and the SASL password never shows.
  std::ofstream(dir + "/kafka.toml") << "[bus]\nbackend = \"kafka\"\n[kafka]\nbootstrap_servers = \"127.0.0.1:9\"\n"
                                        "[kafka.properties]\n\"no.such.property\" = \"1\"\n"
                                        "\"sasl.password\" = \"hunter2-secret\"\n";
  r = run_tickflow(dir, {"processor", "--config", dir + "/kafka.toml", "--data-dir", dir + "/p"}, "kafka_props");
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.output.find("kafka.properties: no.such.property"), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find("hunter2-secret"), std::string::npos) << r.output;
}

TEST(Cli, BusyPortIsAClearError) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  ASSERT_EQ(listen(fd, 1), 0);
  socklen_t len = sizeof a;
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  int port = ntohs(a.sin_port);
  std::string dir = make_temp_dir("tickflow_cli");
  auto r = run_tickflow(dir,
                        {"run", "--port", std::to_string(port), "--data-dir", dir + "/data", "--ws-url",
                         "ws://127.0.0.1:1", "--rest-url", "http://127.0.0.1:1"},
                        "busy");
  close(fd);
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.output.find("already in use"), std::string::npos) << r.output;
}

TEST(Cli, CandlesOnARecordingEqualBinancesOwnKline) {
  std::string dir = make_temp_dir("tickflow_cli");
  auto r = run_tickflow(dir,
                        {"candles", "--exchange", "binance", "--timeframe", "1m", "--input",
                         std::string(TICKFLOW_SOURCE_DIR) + "/testdata/exchanges/binance/binance_2021-08-14.jsonl"},
                        "candles");
  ASSERT_EQ(r.code, 0) << r.output;
  EXPECT_EQ(r.output.rfind("exchange,symbol,exchange_symbol,timeframe,open_time,close_time,open,high,low,close,"
                           "volume,quote_volume,vwap,trades,taker_buy_volume,first_trade_id,last_trade_id\n",
                           0),
            0u);
  // Binance's own kline_1m for SXPBTC 14:47 in the same recording: o=h=l=c 0.00007489, v 10,
  // q 0.00074890, n 1, f = L = 17567415, V 10.
  EXPECT_NE(r.output.find("binance,SXP-BTC,SXPBTC,1m,2021-08-14T14:47:00.000Z,2021-08-14T14:47:59.999Z,"
                          "0.00007489,0.00007489,0.00007489,0.00007489,10.00000000,0.00074890,0.00007489,1,"
                          "10.00000000,17567415,17567415\n"),
            std::string::npos)
      << r.output;

  auto missing = run_tickflow(dir, {"candles", "--input", dir + "/nope.jsonl"}, "missing");
  EXPECT_EQ(missing.code, 2);
  EXPECT_NE(missing.output.find("--input"), std::string::npos);
}

TEST(Cli, TailPrintsTheCandleTopicOfARunningPipelineAsJsonLines) {
  std::string dir = make_temp_dir("tickflow_cli");
  auto sim = start_simulator(dir, 3, "BTC-USDT", 500, 2000);
  ASSERT_GT(sim.port, 0) << sim.proc->output();
  auto run = start_run(dir, dir + "/data", sim.port, "BTC-USDT", "1m");
  ASSERT_GT(run.port, 0) << run.proc->output();
  ASSERT_TRUE(wait_until([&] { return total_trades(run.port, "BTC-USDT", "1m") > 0; }, 60s));
  // Each `tail --no-follow` prints what the log holds now; wait until it holds 3 updates.
  Ran r{};
  int lines = 0, attempt = 0;
  ASSERT_TRUE(wait_until(
      [&] {
        r = run_tickflow(dir,
                         {"tail", "normalized.ohlcv", "--from-beginning", "--no-follow", "--max", "3",
                          "--data-dir", dir + "/data"},
                         "tail_" + std::to_string(attempt++));
        lines = 0;
        size_t pos = 0;
        while ((pos = r.output.find("{\"topic\":\"normalized.ohlcv\"", pos)) != std::string::npos) {
          ++lines;
          ++pos;
        }
        return r.code != 0 || lines >= 3;
      },
      60s));
  ASSERT_EQ(r.code, 0) << r.output;
  EXPECT_EQ(lines, 3) << r.output;
  EXPECT_NE(r.output.find("\"symbol\":\"BTC-USDT\""), std::string::npos) << r.output;
  auto bad = run_tickflow(dir, {"tail", "no.such-topic", "--no-follow", "--data-dir", dir + "/data"}, "tail_bad");
  EXPECT_EQ(bad.code, 2);
  EXPECT_NE(bad.output.find("unknown topic"), std::string::npos) << bad.output;
}

// `tickflow indicators` on the reference closes equals the exact recomputation with TA-Lib's
// conventions (1e-9 relative; TA-Lib's own bands drift on the flat window, the exact file does
// not); a bad spec names the entry and exits 2.
TEST(Cli, IndicatorsOnTheReferenceClosesEqualTheExactFile) {
  std::string dir = make_temp_dir("tickflow_cli");
  std::ifstream ref(std::string(TICKFLOW_SOURCE_DIR) + "/testdata/indicators/indicator_reference_exact.csv");
  ASSERT_TRUE(ref);
  std::vector<std::vector<std::string>> rows;  // reference rows (header first)
  for (std::string line; std::getline(ref, line);) {
    if (line.empty() || line[0] == '#') continue;
    std::vector<std::string> cols;
    size_t start = 0;
    for (size_t comma; (comma = line.find(',', start)) != std::string::npos; start = comma + 1)
      cols.push_back(line.substr(start, comma - start));
    cols.push_back(line.substr(start));
    rows.push_back(std::move(cols));
  }
  ASSERT_GT(rows.size(), 100u);
  {
    std::ofstream in(dir + "/closes.csv");
    for (const auto& r : rows) in << r[0] << ',' << r[1] << '\n';
  }
  auto r = run_tickflow(dir,
                        {"indicators", "--input", dir + "/closes.csv", "--indicators",
                         "sma:20,ema:20,rsi:14,macd:12:26:9,bb:20:2", "--output", dir + "/out.csv"},
                        "indicators");
  ASSERT_EQ(r.code, 0) << r.output;
  std::ifstream out(dir + "/out.csv");
  std::string line;
  ASSERT_TRUE(std::getline(out, line));
  EXPECT_EQ(line, "i,close,sma20,ema20,rsi14,macd,macd_signal,macd_hist,bb_upper,bb_middle,bb_lower");
  size_t row = 1, compared = 0;
  for (; std::getline(out, line); ++row) {
    ASSERT_LT(row, rows.size());
    std::vector<std::string> cols;
    size_t start = 0;
    for (size_t comma; (comma = line.find(',', start)) != std::string::npos; start = comma + 1)
      cols.push_back(line.substr(start, comma - start));
    cols.push_back(line.substr(start));
    ASSERT_EQ(cols.size(), rows[row].size()) << line;
    for (size_t c = 2; c < cols.size(); ++c) {
      ASSERT_EQ(cols[c].empty(), rows[row][c].empty()) << "row " << row << " column " << rows[0][c];
      if (cols[c].empty()) continue;
      double got = std::stod(cols[c]), want = std::stod(rows[row][c]);
      EXPECT_LE(std::fabs(got - want), 1e-9 * std::max(1.0, std::fabs(want))) << "row " << row << " " << rows[0][c];
      ++compared;
    }
  }
  EXPECT_EQ(row, rows.size());
  EXPECT_GT(compared, 5000u);

  auto bad = run_tickflow(dir, {"indicators", "--input", dir + "/closes.csv", "--indicators", "sma:20,foo:3"},
                          "indicators_bad");
  EXPECT_EQ(bad.code, 2);
  EXPECT_NE(bad.output.find("foo:3"), std::string::npos) << bad.output;
  auto missing = run_tickflow(dir, {"indicators", "--input", dir + "/nope.csv"}, "indicators_missing");
  EXPECT_EQ(missing.code, 2);
  EXPECT_NE(missing.output.find("--input"), std::string::npos) << missing.output;
}

}  // namespace
}  // namespace tickflow::testing
