// Shared pieces of the multi-process Kafka tests (distributed_e2e_test.cc,
// distributed_chaos_test.cc): `tickflow <service>` children, their /metrics and /health, the
// default topics for `tickflow_kafka_mock`, and the candle checks against the aggTrades oracle.
// Thread-safety: one test thread.
#pragma once

#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "core/topics.h"
#include "tests/integration/pipeline_fixture.h"

namespace tickflow::testing {

// "BTC-USDT" → "BTCUSDT".
inline std::string exchange_symbol(const std::string& s) {
  std::string out;
  for (char ch : s)
    if (ch != '-') out.push_back(ch);
  return out;
}

// "name:partitions" of every default topic (core/topics.h), for KafkaMockServer.
inline std::vector<std::string> default_topic_args() {
  std::vector<std::string> out;
  for (const auto& spec : topics::kDefaultTopics)
    out.push_back(std::string(spec.name) + ":" + std::to_string(spec.partitions));
  return out;
}

inline std::vector<std::string> concat(std::vector<std::string> a, const std::vector<std::string>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

// A `tickflow <service>` child; `port` is the one printed on its "listening on" line.
struct Service {
  std::unique_ptr<Subprocess> proc;
  int port = -1;
};

// Starts `tickflow args...`, logging to <dir>/<name>_<attempt>.log; port -1 if it never listened.
inline Service start_service(const std::string& dir, const std::string& name, const std::vector<std::string>& args,
                             int attempt = 0) {
  Service s;
  std::vector<std::string> argv = concat({tickflow_binary()}, args);
  s.proc = std::make_unique<Subprocess>(argv, dir + "/" + name + "_" + std::to_string(attempt) + ".log");
  auto line = s.proc->wait_for_line("listening on http://", std::chrono::seconds(60));
  if (line) s.port = port_from_line(*line);
  return s;
}

// The value of a metric line `name{...} value` summed over its label sets (-1: no answer).
inline double metric_sum(int port, const std::string& name) {
  auto r = http_get("http://127.0.0.1:" + std::to_string(port) + "/metrics");
  if (r.status != 200) return -1;
  double sum = 0;
  size_t pos = 0;
  while ((pos = r.body.find(name, pos)) != std::string::npos) {
    const bool line_start = pos == 0 || r.body[pos - 1] == '\n';
    size_t eol = r.body.find('\n', pos);
    std::string line = r.body.substr(pos, eol - pos);
    pos = eol;
    if (!line_start) continue;
    if (line.size() > name.size() && line[name.size()] != '{' && line[name.size()] != ' ') continue;
    sum += std::stod(line.substr(line.rfind(' ') + 1));
  }
  return sum;
}

// /health answers with the bus component up ("kafka: connected").
inline bool bus_up(int port) {
  auto r = http_get("http://127.0.0.1:" + std::to_string(port) + "/health");
  return r.status == 200 && r.body.find(R"({"name":"bus","state":"up")") != std::string::npos;
}

// Trades over every candle of the symbols' series (-1 if the API did not answer).
inline int64_t total_trades_all(int port, const std::vector<std::string>& symbols, const std::string& tf) {
  int64_t n = 0;
  for (const auto& s : symbols) {
    int64_t t = total_trades(port, s, tf);
    if (t < 0) return -1;
    n += t;
  }
  return n;
}

// Every candle from the first to the last traded window is final.
inline bool all_final(int port, const std::string& sym, const std::string& tf,
                      const std::map<int64_t, OracleCandle>& oracle) {
  auto c = get_candles(port, "binance", sym, tf);
  if (!c || oracle.empty()) return false;
  std::set<int64_t> finals;
  for (const auto& x : *c)
    if (x.status == "final") finals.insert(x.open_time_ms);
  for (const auto& [open, o] : oracle)
    if (!finals.count(open)) return false;
  return true;
}

// The API's candles hold one row per open time, exactly the oracle's windows (every oracle
// field, final, never corrected) and nothing outside them.
inline void expect_matches_oracle(const std::vector<ApiCandle>& api, const std::map<int64_t, OracleCandle>& oracle,
                                  const std::string& what) {
  std::map<int64_t, const ApiCandle*> by_open;
  for (const auto& c : api) {
    EXPECT_TRUE(by_open.emplace(c.open_time_ms, &c).second) << what << ": duplicate candle at " << c.open_time;
  }
  ASSERT_FALSE(oracle.empty());
  for (const auto& [open, c] : by_open)
    EXPECT_TRUE(oracle.count(open)) << what << ": candle at " << c->open_time << " has no trade in the oracle";
  for (const auto& [open, o] : oracle) {
    auto it = by_open.find(open);
    ASSERT_NE(it, by_open.end()) << what << ": no candle at " << open;
    const ApiCandle& a = *it->second;
    EXPECT_EQ(a.open, o.open) << what << " open @" << a.open_time;
    EXPECT_EQ(a.high, o.high) << what << " high @" << a.open_time;
    EXPECT_EQ(a.low, o.low) << what << " low @" << a.open_time;
    EXPECT_EQ(a.close, o.close) << what << " close @" << a.open_time;
    EXPECT_TRUE(decimal_equal(a.volume, o.volume)) << what << " volume " << a.volume << " vs " << o.volume;
    EXPECT_TRUE(decimal_equal(a.quote_volume, o.quote_volume))
        << what << " quote_volume " << a.quote_volume << " vs " << o.quote_volume << " @" << a.open_time;
    EXPECT_EQ(a.trades, o.trades) << what << " trades @" << a.open_time;
    EXPECT_EQ(a.first_trade_id, o.first_trade_id) << what << " @" << a.open_time;
    EXPECT_EQ(a.last_trade_id, o.last_trade_id) << what << " @" << a.open_time;
    EXPECT_EQ(a.status, "final") << what << " @" << a.open_time;
    // The feed is in trade-id order (backfills come before the live trade that revealed the
    // hole): no window is ever corrected, in an uninterrupted run or across restarts.
    EXPECT_EQ(a.revision, 0) << what << " @" << a.open_time;
  }
}

}  // namespace tickflow::testing
