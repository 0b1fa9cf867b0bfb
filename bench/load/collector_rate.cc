// collector_rate: the per-exchange message rate each collector connection sustains without loss
// (issue "Exchanges", item 5: the specification's Binance 1000, Coinbase 500 and Kraken 300
// messages/s are a floor each connection must sustain, measured here, not a throttle).
//
//   collector_rate [--exchange binance|coinbase|kraken|all] [--scale X] [--seconds S] [--symbols N]
//
// For each exchange: the in-process simulator speaks that exchange's wire protocol on loopback
// at 2 × `scale` × the exchange's floor (trades/s over `symbols` symbols of one connection; Binance
// sends its `aggTrade` stream (one message per taker order, so fewer messages than trades), Coinbase `matches` + `heartbeat`, Kraken v1 `trade`), a market of
// exactly rate × seconds trades; the real collector (Beast transport) publishes into an
// in-memory bus. Printed: offered and achieved trades/s (first connect → last trade
// published), frames/s, trades published, missing and duplicate trade ids (both must be 0),
// reconnects and backfilled trades (0 at a sustainable rate: nothing was repaired), and the
// receive lag p50/p99 (publish time − the simulator's trade time). Exit status 1 when any
// trade is missing or duplicated.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <set>
#include <string>
#include <vector>

#include "bus/testing/in_memory_bus.h"
#include "core/codec.h"
#include "core/topics.h"
#include "exchange/binance/collector.h"
#include "exchange/coinbase/collector.h"
#include "exchange/kraken/collector.h"
#include "exchange/simulator/simulator.h"

namespace tickflow {
namespace {

namespace sim = exchange::simulator;

struct Args {
  std::string exchange = "all";
  double scale = 1;
  double seconds = 10;
  int symbols = 2;
};

struct Venue {
  const char* name;
  double floor;  // the specification's messages/s per connection
};

constexpr Venue kVenues[] = {{"binance", 1000}, {"coinbase", 500}, {"kraken", 300}};

const char* kBinanceSymbols[] = {"BTCUSDT", "ETHUSDT", "SOLUSDT", "BNBUSDT", "XRPUSDT", "DOGEUSDT"};
const char* kUsdSymbols[] = {"BTCUSD", "ETHUSD", "SOLUSD", "LTCUSD", "XRPUSD", "DOGEUSD"};

std::string unified(const std::string& s) {
  const size_t q = s.size() >= 4 && s.substr(s.size() - 4) == "USDT" ? 4 : 3;
  return s.substr(0, s.size() - q) + "-" + s.substr(s.size() - q);
}

template <typename Config>
void fast_reconnects(Config& c) {
  c.backoff.base_delay = 5 * kNsPerMs;
  c.backoff.max_delay = 50 * kNsPerMs;
  c.connect_timeout = 5 * kNsPerSec;
}

double percentile(std::vector<double>& v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size())))];
}

int run_one(const Venue& venue, const Args& a) {
  const std::string ex = venue.name;
  // Trades/s: twice the floor, since Binance aggregates and Kraken frames hold several trades
  // (about 0.7 and 0.5 messages per trade here); the floor is judged on messages/s.
  const double rate = 2 * venue.floor * a.scale;
  const int n = std::clamp(a.symbols, 1, 6);
  sim::SimulatorConfig sc;
  sc.seed = 11;
  sc.rate = rate;
  sc.max_trades = static_cast<int64_t>(rate * a.seconds);
  sc.start_on_connect = true;
  sc.symbols.clear();
  for (int i = 0; i < n; ++i) sc.symbols.push_back(ex == "binance" ? kBinanceSymbols[i] : kUsdSymbols[i]);
  sim::Simulator simulator(sc);
  if (Status st = simulator.start(); !st) {
    std::fprintf(stderr, "%s: simulator: %s\n", ex.c_str(), st.to_string().c_str());
    return 1;
  }
  std::vector<std::string> symbols;
  for (const auto& s : sc.symbols) symbols.push_back(unified(s));
  bus::testing::InMemoryBus bus;
  auto expected = [&] {
    size_t total = 0;
    for (const auto& s : sc.symbols)
      total += ex == "kraken"    ? simulator.kraken_history(s).size()
               : ex == "binance" ? simulator.agg_history(s).size()
                                 : simulator.history(s).size();
    return total;
  };

  const auto t0 = std::chrono::steady_clock::now();
  auto run = [&](auto& collector) -> uint64_t {
    if (Status st = collector.start(); !st) {
      std::fprintf(stderr, "%s: collector: %s\n", ex.c_str(), st.to_string().c_str());
      return UINT64_MAX;
    }
    const bool done = bus.wait_until(
        [&] { return simulator.stats().market_ended && bus.count(topics::kRawMarketData) >= expected(); },
        std::chrono::seconds(static_cast<int64_t>(a.seconds * 3 + 60)));
    const auto s = collector.stats();
    collector.stop();
    if (!done) std::fprintf(stderr, "%s: timed out waiting for every trade\n", ex.c_str());
    std::printf("%-8s reconnects %llu, backfilled %llu, frames %llu\n", ex.c_str(),
                static_cast<unsigned long long>(s.reconnects), static_cast<unsigned long long>(s.backfilled),
                static_cast<unsigned long long>(s.frames));
    return s.frames;
  };
  uint64_t frames = 0;
  if (ex == "binance") {
    exchange::binance::CollectorConfig c;
    c.ws_url = simulator.ws_url();
    c.rest_url = simulator.rest_url();
    c.symbols = symbols;
    fast_reconnects(c);
    exchange::binance::Collector collector(c, bus, SystemClock::instance());
    frames = run(collector);
  } else if (ex == "coinbase") {
    exchange::coinbase::CollectorConfig c;
    c.ws_url = simulator.coinbase_ws_url();
    c.rest_url = simulator.rest_url();
    c.symbols = symbols;
    fast_reconnects(c);
    exchange::coinbase::Collector collector(c, bus, SystemClock::instance());
    frames = run(collector);
  } else {
    exchange::kraken::CollectorConfig c;
    c.ws_url = simulator.kraken_ws_url();
    c.rest_url = simulator.rest_url();
    c.symbols = symbols;
    fast_reconnects(c);
    exchange::kraken::Collector collector(c, bus, SystemClock::instance());
    frames = run(collector);
  }
  const auto ss = simulator.stats();
  simulator.stop();
  std::printf("%-8s simulator: sent %llu messages, %llu trades, %llu aggregates generated, %llu dropped connections\n",
              ex.c_str(), static_cast<unsigned long long>(ss.messages_sent),
              static_cast<unsigned long long>(ss.trades_generated), static_cast<unsigned long long>(ss.agg_trades_generated),
              static_cast<unsigned long long>(ss.connections_dropped));
  if (frames == UINT64_MAX) return 1;

  // Exactly once: every trade id of the market, once.
  std::set<std::pair<std::string, int64_t>> seen;
  uint64_t dups = 0;
  std::vector<double> lag_ms;
  TimestampNs first_recv = INT64_MAX, last_recv = 0;
  for (const auto& r : bus.records(topics::kRawMarketData)) {
    auto t = codec::decode_trade(r.value);
    if (!t) continue;
    if (!seen.emplace(t->symbol, t->trade_id).second) ++dups;
    lag_ms.push_back(static_cast<double>(t->ts_recv - t->ts_event) / 1e6);
    first_recv = std::min(first_recv, t->ts_recv);
    last_recv = std::max(last_recv, t->ts_recv);
  }
  const size_t want = expected();
  const size_t missing = seen.size() >= want ? 0 : want - seen.size();
  const double span_s = last_recv > first_recv ? static_cast<double>(last_recv - first_recv) / 1e9 : 0;
  const double wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf(
      "%-8s floor %5.0f msg/s x %.0f: offered %8.0f trades/s over %d symbols, achieved %8.0f trades/s "
      "(%zu trades in %.2f s, %.0f frames/s) | missing %zu, duplicates %llu | lag p50 %.2f ms, p99 %.2f ms "
      "| wall %.1f s\n",
      ex.c_str(), venue.floor, a.scale, rate, n, span_s > 0 ? static_cast<double>(seen.size()) / span_s : 0,
      seen.size(), span_s, span_s > 0 ? static_cast<double>(frames) / span_s : 0, missing,
      static_cast<unsigned long long>(dups), percentile(lag_ms, 0.5), percentile(lag_ms, 0.99), wall_s);
  const double msgs = span_s > 0 ? static_cast<double>(frames) / span_s : 0;
  std::printf("%-8s floor %s: %.0f messages/s sustained vs %.0f required, exactly once: %s\n", ex.c_str(),
              msgs >= venue.floor * a.scale && missing == 0 && dups == 0 ? "MET" : "NOT MET", msgs,
              venue.floor * a.scale, missing == 0 && dups == 0 ? "yes" : "NO");
  return missing == 0 && dups == 0 ? 0 : 1;
}

}  // namespace
}  // namespace tickflow

int main(int argc, char** argv) {
  tickflow::Args a;
  for (int i = 1; i < argc; ++i) {
    std::string k = argv[i];
    auto next = [&]() -> const char* { return i + 1 < argc ? argv[++i] : ""; };
    if (k == "--exchange") a.exchange = next();
    else if (k == "--scale") a.scale = std::atof(next());
    else if (k == "--seconds") a.seconds = std::atof(next());
    else if (k == "--symbols") a.symbols = std::atoi(next());
    else {
      std::fprintf(stderr,
                   "usage: collector_rate [--exchange binance|coinbase|kraken|all] [--scale X] [--seconds S] "
                   "[--symbols N]\n");
      return 2;
    }
  }
  int rc = 0;
  for (const auto& v : tickflow::kVenues) {
    if (a.exchange != "all" && a.exchange != v.name) continue;
    rc |= tickflow::run_one(v, a);
  }
  return rc;
}
