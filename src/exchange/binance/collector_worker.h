// Private to the Binance collector library: Collector::Worker (the thread that owns the
// exchange connection). Not installed, not included outside src/exchange/binance/. The worker's
// methods are spread over three files along its seams:
//   collector.cc          config validation, stream URL, lifecycle (start/stop/health/stats)
//   collector_session.cc  the session (initial backfill, read loop with age limit), frame
//                         processing, dedup and gap detection
//   backfill.cc           REST backfill of aggregate-id holes
// The connect and read loops, bus output (batching, commit, DLQ), metrics probe and REST retries
// are the collectors' shared parts (exchange/collector/).
//
// Thread-safety: start/stop/health/stats from any thread (lifecycle_mu_, HealthCell, atomics);
// everything under "Worker-thread state" is touched by the worker thread only (and by start()
// before the thread is launched). Ownership: Collector owns its Worker; the Worker owns the
// transports and its thread, and borrows the bus and the clock.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <vector>

#include "exchange/binance/collector.h"
#include "exchange/binance/parse.h"
#include "exchange/collector/output.h"
#include "exchange/collector/probe.h"
#include "exchange/collector/rest.h"
#include "exchange/collector/worker.h"

namespace tickflow::exchange::binance {
namespace internal {

constexpr std::string_view kExchange = "binance";
constexpr std::string_view kComponent = "collector.binance";
using collector::kNoId;
using collector::SessionEnd;
using SteadyClock = std::chrono::steady_clock;

// Bounded label values of tickflow_collector_messages_total{exchange="binance",kind}, by
// MessageKind.
std::vector<std::string_view> kind_names();

}  // namespace internal

class Collector::Worker {
 public:
  Worker(CollectorConfig config, bus::EventBus& bus, const Clock& clock,
         std::unique_ptr<transport::WsConnection> ws, std::unique_ptr<transport::HttpClient> http);
  ~Worker();

  Status start();
  void stop();
  ComponentHealth health() const { return health_.get(); }
  Stats stats() const;

 private:
  struct SymbolState {
    std::string unified;
    std::string exchange_symbol;
    size_t series = 0;  // in out_: bus key "binance:BTC-USDT", state key "BTCUSDT" or "BTCUSDT@trade"
  };

  struct AtomicStats {
    std::atomic<uint64_t> frames{0}, backfilled{0}, duplicates_dropped{0}, ignored{0}, gaps{0}, unfilled_gaps{0};
  };

  // collector_session.cc
  void run();
  internal::SessionEnd run_session();
  bool process(std::string_view frame);
  SymbolState* find_symbol(std::string_view exchange_symbol);
  void on_live_trade(Trade& trade, std::string_view frame, TimestampNs recv);
  int64_t& last_id(const SymbolState& s) { return out_.series(s.series).last_id; }
  // A failed commit ends the session (reconnect, or halt on kFatal).
  void end_on(collector::CollectorOutput::Flush f);

  // backfill.cc
  // Fetches aggregate trades (last_id, until) from REST and publishes them in id order.
  void backfill(SymbolState& s, int64_t until);

  const CollectorConfig config_;
  const Clock& clock_;
  std::unique_ptr<transport::WsConnection> ws_;
  std::unique_ptr<transport::HttpClient> http_;
  collector::WorkerControl control_;
  collector::CollectorProbe probe_;
  collector::CollectorOutput out_;
  collector::RestFetcher rest_;
  collector::HealthCell health_;
  collector::ConnectionCounters counters_;

  // Worker-thread state.
  FrameParser parser_;
  ParsedFrame parsed_;
  std::vector<Trade> backfill_trades_;
  transport::Url ws_target_;
  std::string rest_base_;
  bool agg_ = true;
  std::vector<SymbolState> symbols_;
  std::unordered_map<std::string, size_t> index_;
  std::optional<internal::SessionEnd> end_;
  uint64_t frames_this_session_ = 0;

  AtomicStats stats_;
  std::mutex lifecycle_mu_;
  bool started_ = false;
  std::atomic<bool> halted_{false};
  std::thread thread_;
};

}  // namespace tickflow::exchange::binance
