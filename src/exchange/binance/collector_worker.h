// Private to the Binance collector library: Collector::Worker (the thread that owns the
// exchange connection). Not installed, not included outside src/exchange/binance/. The worker's
// methods are spread over three files along its seams:
//   collector.cc          config validation, stream URL, lifecycle (start/stop/health/stats)
//   collector_session.cc  the session (initial backfill, read loop with age limit), frame
//                         processing, dedup and gap detection
//   backfill.cc           REST backfill of aggregate-id holes
//   book.cc               depth@100ms books: diffs, REST snapshots, resyncs (depth_sync.h)
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
#include "exchange/binance/depth_sync.h"
#include "exchange/binance/parse.h"
#include "exchange/collector/book_output.h"
#include "exchange/collector/output.h"
#include "exchange/collector/probe.h"
#include "exchange/collector/rate_limit.h"
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
// The combined-stream URL of these exchange symbols (config.ws_url + /stream?streams=...).
std::string stream_url(const CollectorConfig& config, const std::vector<std::string>& exchange_symbols);

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
  std::optional<BookView> book(std::string_view symbol, size_t depth) const;

 private:
  struct SymbolState {
    std::string unified;
    std::string exchange_symbol;
    size_t series = 0;  // in out_: bus key "binance:BTC-USDT", state key "BTCUSDT" or "BTCUSDT@trade"
    int book = -1;      // index into books_ (config.book), else -1
    bool subscribed = true;  // false: the instrument list does not trade it
  };

  // One depth book (worker thread; `sync` also read by book() under book_mu_).
  struct BookState {
    size_t symbol = 0;    // index into symbols_
    size_t output = 0;    // in book_out_
    DepthSync sync;
    internal::SteadyClock::time_point next_snapshot{};  // a failed snapshot is retried after book_retry_delay
    uint64_t crossed_count = 0;  // crossed_books after the last apply when it was crossed, else 0
  };

  struct AtomicStats {
    std::atomic<uint64_t> frames{0}, backfilled{0}, duplicates_dropped{0}, ignored{0}, gaps{0}, unfilled_gaps{0};
    std::atomic<uint64_t> depth_applied{0}, depth_buffered{0}, depth_stale{0}, book_snapshots{0},
        resyncs_sequence_gap{0}, resyncs_bridge_failed{0}, resyncs_reconnect{0}, crossed_books{0}, book_tickers{0},
        unknown_symbols{0}, subscribe_messages{0}, subscribe_errors{0};
  };

  // collector_session.cc
  void run();
  // config.instruments: resolves symbols_ through GET /api/v3/exchangeInfo and rebuilds
  // ws_target_ from the ones subscribed. False when none is left (health down).
  bool load_instruments();
  // streams_ and ws_target_ for these symbols (config.subscribe decides the URL).
  Status set_streams(const std::vector<std::string>& exchange_symbols);
  // subscribe = "message": SUBSCRIBE streams_ in order, batched and rate limited.
  Status subscribe();
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

  // book.cc
  void on_depth(TimestampNs recv);
  // After each batch: fetches the snapshots that are due (one per book at most).
  void sync_books();
  void fetch_snapshot(BookState& b);
  void resync(BookState& b, std::string_view reason);
  void count_crossed(BookState& b);  // with book_mu_ held
  void book_applied(BookState& b, TimestampNs ts_event, TimestampNs recv);
  // At the start of a session: every active book starts over (counted "reconnect").
  void reset_books_on_reconnect();

  const CollectorConfig config_;
  const Clock& clock_;
  std::unique_ptr<transport::WsConnection> ws_;
  std::unique_ptr<transport::HttpClient> http_;
  collector::WorkerControl control_;
  collector::CollectorProbe probe_;
  collector::CollectorOutput out_;
  collector::BookOutput book_out_;
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
  std::vector<BookState> books_;
  mutable std::mutex book_mu_;  // books_[i].sync while the worker changes it vs book()
  std::optional<internal::SessionEnd> end_;
  std::string symbol_error_;  // unknown / not-trading symbols (health detail while connected)
  std::vector<std::string> streams_;  // subscribed streams, in order
  collector::SlidingWindowLimiter limiter_{5, kNsPerSec};  // per connection (reset on connect)
  int64_t next_request_id_ = 1;
  uint64_t frames_this_session_ = 0;

  AtomicStats stats_;
  std::mutex lifecycle_mu_;
  bool started_ = false;
  std::atomic<bool> halted_{false};
  std::thread thread_;
};

}  // namespace tickflow::exchange::binance
