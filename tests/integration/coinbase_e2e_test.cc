// End to end through the binary: `tickflow simulate` (the Coinbase Exchange feed on loopback,
// ws://.../coinbase + REST /products/{id}/trades) → `tickflow run` with [exchanges.coinbase]
// (matches, heartbeat AND ticker subscribed) → GET /ohlcv/coinbase/... equals an oracle built
// from the simulator's own REST trade history, across a withheld run of trades (a trade-id gap)
// and a dropped connection, both repaired from REST; ticker twins never counted. And
// `tickflow run --demo` feeds Binance, Kraken and Coinbase together.
#include <gtest/gtest.h>
#include <simdjson.h>

#include <fstream>

#include "exchange/coinbase/rest.h"
#include "tests/integration/pipeline_fixture.h"

namespace tickflow::testing {
namespace {

using namespace std::chrono_literals;

// Every trade of a product from the simulator's REST, paged backwards with after=.
std::vector<Trade> fetch_all_coinbase_trades(int sim_port, const std::string& product) {
  std::vector<Trade> all;
  std::string cursor;
  for (int page = 0; page < 1000; ++page) {
    std::string url = "http://127.0.0.1:" + std::to_string(sim_port) + "/products/" + product + "/trades?limit=1000";
    if (!cursor.empty()) url += "&after=" + cursor;
    auto r = http_get(url);
    EXPECT_EQ(r.status, 200) << r.body;
    std::vector<Trade> got;
    EXPECT_TRUE(exchange::coinbase::parse_rest_trades(r.body, product, 0, got).is_ok());
    if (got.empty()) break;
    all.insert(all.end(), got.begin(), got.end());
    cursor = std::to_string(got.back().trade_id);
  }
  std::reverse(all.begin(), all.end());
  return all;
}

std::map<int64_t, OracleCandle> oracle_of(const std::vector<Trade>& trades, int64_t tf_ms) {
  std::vector<AggTrade> as;
  for (const Trade& t : trades) {
    AggTrade a;
    a.a = a.f = a.l = t.trade_id;
    a.t_ms = t.ts_event / kNsPerMs;
    a.p = t.price.to_string();
    a.q = t.quantity.to_string();
    a.m = t.taker_side == Side::kSell;
    as.push_back(std::move(a));
  }
  return oracle_candles(as, tf_ms);
}

int64_t coinbase_trades(int port, const std::string& product) {
  auto c = get_candles(port, "coinbase", product, "1m");
  if (!c) return -1;
  int64_t n = 0;
  for (const auto& x : *c) n += x.trades;
  return n;
}

// The value of the first /metrics line starting with `series` (-1 if none).
double metric(const std::string& body, const std::string& series) {
  size_t pos = 0;
  while ((pos = body.find(series, pos)) != std::string::npos) {
    if (pos == 0 || body[pos - 1] == '\n') return std::stod(body.substr(pos + series.size()));
    pos += series.size();
  }
  return -1;
}

TEST(CoinbaseEndToEnd, CandlesEqualTheOracleAcrossAGapAndAReconnect) {
  const std::string dir = make_temp_dir("tickflow_e2e_coinbase");
  const int64_t kTrades = 4000;
  auto sim = start_simulator(dir, 5, "BTC-USD,ETH-USD", 400, kTrades);
  ASSERT_GT(sim.port, 0) << sim.proc->output();
  const std::string sim_host = "127.0.0.1:" + std::to_string(sim.port);
  {
    std::ofstream cfg(dir + "/coinbase.toml");
    cfg << "[exchanges.binance]\nenabled = false\n\n[exchanges.coinbase]\nenabled = true\n"
        << "ws_url = \"ws://" << sim_host << "/coinbase\"\nrest_url = \"http://" << sim_host << "\"\n"
        << "symbols = [\"BTC-USD\", \"ETH-USD\"]\nchannels = [\"heartbeat\", \"matches\", \"ticker\"]\n";
  }
  Subprocess run({tickflow_binary(), "run", "--port", "0", "--data-dir", dir + "/data", "--config",
                  dir + "/coinbase.toml", "--timeframes", "1m,5m", "--log-level", "info"},
                 dir + "/run.log");
  auto line = run.wait_for_line("api listening on", 30s);
  ASSERT_TRUE(line) << run.output();
  const int port = port_from_line(*line);
  const std::string sim_url = "http://" + sim_host;

  // Faults while the market runs: 7 BTC-USD matches withheld (a trade-id gap that the next
  // match and the heartbeats reveal), then every connection dropped (a reconnect hole).
  ASSERT_TRUE(wait_until([&] { return coinbase_trades(port, "BTC-USD") > 300; }, 60s)) << run.output();
  EXPECT_EQ(http_post(sim_url + "/_sim/fault?skip_ids=7&symbol=BTCUSD", "").status, 200);
  ASSERT_TRUE(wait_until([&] { return coinbase_trades(port, "BTC-USD") > 1000; }, 60s)) << run.output();
  EXPECT_EQ(http_post(sim_url + "/_sim/fault?drop=1", "").status, 200);

  // Every trade the simulator made is in the candles, once (the ticker twins are not).
  ASSERT_TRUE(wait_until(
      [&] { return coinbase_trades(port, "BTC-USD") + coinbase_trades(port, "ETH-USD") == kTrades; }, 120s))
      << "BTC " << coinbase_trades(port, "BTC-USD") << " ETH " << coinbase_trades(port, "ETH-USD") << "\n"
      << run.output();
  for (const std::string product : {"BTC-USD", "ETH-USD"}) {
    const auto trades = fetch_all_coinbase_trades(sim.port, product);
    ASSERT_FALSE(trades.empty());
    for (auto [tf, ms] : {std::pair<const char*, int64_t>{"1m", 60000}, {"5m", 300000}}) {
      auto api = get_candles(port, "coinbase", product, tf);
      ASSERT_TRUE(api);
      std::map<int64_t, const ApiCandle*> by_open;
      for (const auto& c : *api) by_open[c.open_time_ms] = &c;
      for (const auto& [open, o] : oracle_of(trades, ms)) {
        auto it = by_open.find(open);
        ASSERT_NE(it, by_open.end()) << product << " " << tf << ": no candle at " << open;
        const ApiCandle& a = *it->second;
        const std::string what = product + " " + tf + " @" + a.open_time;
        EXPECT_TRUE(decimal_equal(a.open, o.open)) << what << " open " << a.open << " vs " << o.open;
        EXPECT_TRUE(decimal_equal(a.high, o.high)) << what << " high " << a.high << " vs " << o.high;
        EXPECT_TRUE(decimal_equal(a.low, o.low)) << what << " low " << a.low << " vs " << o.low;
        EXPECT_TRUE(decimal_equal(a.close, o.close)) << what << " close " << a.close << " vs " << o.close;
        EXPECT_TRUE(decimal_equal(a.volume, o.volume)) << what << " volume " << a.volume << " vs " << o.volume;
        EXPECT_EQ(a.trades, o.trades) << what;
        EXPECT_EQ(a.first_trade_id, o.first_trade_id) << what;
        EXPECT_EQ(a.last_trade_id, o.last_trade_id) << what;
      }
    }
  }
  // The repairs happened, through REST.
  const std::string m = http_get("http://127.0.0.1:" + std::to_string(port) + "/metrics").body;
  EXPECT_GT(metric(m, "tickflow_collector_trade_id_gaps_total{exchange=\"coinbase\"}"), 0) << m;
  EXPECT_GT(metric(m, "tickflow_collector_backfilled_trades_total{exchange=\"coinbase\"}"), 6) << m;
  EXPECT_GT(metric(m, "tickflow_collector_reconnects_total{exchange=\"coinbase\"}"), 0) << m;
  EXPECT_GT(metric(m, "tickflow_collector_messages_total{exchange=\"coinbase\",kind=\"ticker\"}"), 0) << m;
  auto health = http_get("http://127.0.0.1:" + std::to_string(port) + "/health");
  EXPECT_NE(health.body.find("collector.coinbase"), std::string::npos) << health.body;
  run.kill(SIGINT);
  EXPECT_EQ(run.wait(60s), 0) << run.output();
}

TEST(CoinbaseEndToEnd, DemoFeedsBinanceKrakenAndCoinbase) {
  const std::string dir = make_temp_dir("tickflow_e2e_demo3");
  Subprocess run({tickflow_binary(), "run", "--demo", "--port", "0", "--data-dir", dir + "/data"}, dir + "/run.log");
  auto line = run.wait_for_line("api listening on", 30s);
  ASSERT_TRUE(line) << run.output();
  const int port = port_from_line(*line);
  ASSERT_TRUE(run.wait_for_line("Coinbase simulator on", 30s)) << run.output();
  const bool all = wait_until(
      [&] {
        for (auto [ex, sym] : {std::pair<const char*, const char*>{"binance", "BTC-USDT"},
                               {"kraken", "BTC-USD"},
                               {"coinbase", "BTC-USD"}}) {
          auto c = get_candles(port, ex, sym, "1m");
          if (!c) return false;
          int64_t n = 0;
          for (const auto& x : *c) n += x.trades;
          if (n == 0) return false;
        }
        return true;
      },
      90s);
  EXPECT_TRUE(all) << run.output();
  auto health = http_get("http://127.0.0.1:" + std::to_string(port) + "/health");
  for (const char* name : {"collector.binance", "collector.kraken", "collector.coinbase"}) {
    EXPECT_NE(health.body.find(name), std::string::npos) << name << ": " << health.body;
  }
  // Data quality covers every exchange: each configured series is measured (trades counted) and
  // its feed is alive through the collector's liveness (not only while trades arrive).
  for (const char* ex : {"binance", "kraken", "coinbase"}) {
    const std::string sym = std::string(ex) == "binance" ? "BTC-USDT" : "BTC-USD";
    auto q = http_get("http://127.0.0.1:" + std::to_string(port) + "/quality?exchange=" + ex + "&symbol=" + sym);
    ASSERT_EQ(q.status, 200) << q.body;
    simdjson::dom::parser parser;
    simdjson::dom::element doc;
    ASSERT_EQ(parser.parse(q.body).get(doc), simdjson::SUCCESS) << q.body;
    simdjson::dom::array series, feeds;
    ASSERT_EQ(doc["series"].get(series), simdjson::SUCCESS) << q.body;
    ASSERT_EQ(doc["feeds"].get(feeds), simdjson::SUCCESS) << q.body;
    ASSERT_EQ(series.size(), 1u) << ex << ": " << q.body;
    ASSERT_EQ(feeds.size(), 1u) << ex << ": " << q.body;
    EXPECT_GT(series.at(0)["trades"].get_uint64().value(), 0u) << ex << ": " << q.body;
    EXPECT_FALSE(series.at(0)["stale"].get_bool().value()) << ex << ": " << q.body;
    EXPECT_FALSE(feeds.at(0)["stale"].get_bool().value()) << ex << ": " << q.body;
  }
  // Order books: the demo keeps a book per symbol on every exchange (Binance depth synced to the
  // REST snapshot, Kraken CRC32-checked, Coinbase level2_batch) and stores top-N snapshots.
  const bool books = wait_until(
      [&] {
        for (auto [ex, sym] : {std::pair<const char*, const char*>{"binance", "BTC-USDT"},
                               {"kraken", "BTC-USD"},
                               {"coinbase", "BTC-USD"}}) {
          auto r = http_get("http://127.0.0.1:" + std::to_string(port) + "/orderbook/" + ex + "/" + sym + "/latest");
          if (r.status != 200 || r.body.find("\"bids\"") == std::string::npos) return false;
        }
        return true;
      },
      90s);
  EXPECT_TRUE(books) << run.output();
  run.kill(SIGINT);
  EXPECT_EQ(run.wait(60s), 0) << run.output();
}

}  // namespace
}  // namespace tickflow::testing
