// simulator_rate_probe: measures the sustained frame rate of the simulator over loopback.
//   simulator_rate_probe [rate=300000] [symbols=20] [seconds=5] [clients=1]
// Starts a simulator at `rate` trades/s over the first `symbols` symbols of the table, connects
// `clients` combined-stream clients subscribed to every @trade stream, counts frames for
// `seconds` after a 1 s warm-up and prints frames/s per client and how far the newest trade
// time T lags the wall clock (pacing keeps up when the lag stays ~1 ms).
#include <utility>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>

#include "exchange/simulator/simulator.h"

namespace sim = tickflow::exchange::simulator;
namespace net = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using tcp = net::ip::tcp;

int main(int argc, char** argv) {
  const double rate = argc > 1 ? std::atof(argv[1]) : 300000;
  const int nsym = argc > 2 ? std::atoi(argv[2]) : 20;
  const double seconds = argc > 3 ? std::atof(argv[3]) : 5;
  const int nclients = argc > 4 ? std::atoi(argv[4]) : 1;
  const char* all[] = {"BTCUSDT", "ETHUSDT", "SOLUSDT", "BNBUSDT", "XRPUSDT", "DOGEUSDT", "ADAUSDT",
                       "AVAXUSDT", "LINKUSDT", "MATICUSDT", "DOTUSDT", "LTCUSDT", "ARBUSDT", "NEARUSDT",
                       "ATOMUSDT", "APTUSDT", "TRXUSDT", "UNIUSDT", "ETCUSDT", "XLMUSDT"};
  sim::SimulatorConfig cfg;
  cfg.rate = rate;
  cfg.symbols.assign(all, all + std::min(nsym, 20));
  cfg.start_on_connect = true;
  sim::Simulator s(cfg);
  if (auto st = s.start(); !st.is_ok()) {
    std::fprintf(stderr, "%s\n", st.to_string().c_str());
    return 1;
  }
  std::string target = "/stream?streams=";
  for (size_t i = 0; i < cfg.symbols.size(); ++i) {
    if (i) target += '/';
    for (char c : cfg.symbols[i]) target += static_cast<char>(std::tolower(c));
    target += "@trade";
  }
  std::atomic<bool> done{false};
  std::vector<std::thread> threads;
  std::vector<std::atomic<uint64_t>> counts(nclients);
  std::vector<std::atomic<int64_t>> last_t(nclients);
  for (int c = 0; c < nclients; ++c) {
    threads.emplace_back([&, c] {
      net::io_context ioc;
      websocket::stream<tcp::socket> ws(ioc);
      ws.next_layer().connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), s.port()));
      ws.handshake("127.0.0.1", target);
      beast::flat_buffer buf;
      while (!done.load(std::memory_order_relaxed)) {
        beast::error_code ec;
        ws.read(buf, ec);
        if (ec) return;
        const auto d = buf.data();
        std::string_view f(static_cast<const char*>(d.data()), d.size());
        const size_t p = f.find("\"T\":");
        if (p != std::string_view::npos) last_t[c].store(std::atoll(f.data() + p + 4), std::memory_order_relaxed);
        buf.consume(buf.size());
        counts[c].fetch_add(1, std::memory_order_relaxed);
      }
    });
  }
  std::this_thread::sleep_for(std::chrono::seconds(1));
  std::vector<uint64_t> start_counts;
  for (auto& c : counts) start_counts.push_back(c.load());
  const auto t0 = std::chrono::steady_clock::now();
  const auto gen0 = s.stats().trades_generated;
  int64_t max_lag = 0;
  while (std::chrono::steady_clock::now() - t0 < std::chrono::duration<double>(seconds)) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    const int64_t now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                               std::chrono::system_clock::now().time_since_epoch()).count();
    max_lag = std::max(max_lag, now_ms - last_t[0].load());
  }
  const double el = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const auto st = s.stats();
  for (int c = 0; c < nclients; ++c) {
    std::printf("client %d: %.0f frames/s\n", c, static_cast<double>(counts[c].load() - start_counts[c]) / el);
  }
  std::printf("generated %.0f trades/s (target %.0f), max lag of T behind wall clock %lld ms, dropped %llu\n",
              static_cast<double>(st.trades_generated - gen0) / el, rate, static_cast<long long>(max_lag),
              static_cast<unsigned long long>(st.connections_dropped));
  done = true;
  s.stop();
  for (auto& t : threads) t.join();
  return 0;
}
