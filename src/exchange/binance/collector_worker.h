// Private to the Binance collector library: Collector::Worker (the thread that owns the
// exchange connection) and its metrics probe. Not installed, not included outside
// src/exchange/binance/. The worker's methods are spread over three files along its seams:
//   collector.cc          config validation, stream URL, probe, lifecycle (start/stop/health/stats)
//   collector_session.cc  connect loop, frame processing, batching, publish, commit (flush)
//   backfill.cc           REST backfill of aggregate-id holes and the HTTP GET with retries
//
// Thread-safety: start/stop/health/stats from any thread (lifecycle_mu_, health_mu_, atomics);
// everything under "Worker-thread state" is touched by the worker thread only (and by start()
// before the thread is launched). Ownership: Collector owns its Worker; the Worker owns the
// transports and its thread, and borrows the bus and the clock.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
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
#include "observability/metrics.h"

namespace tickflow::exchange::binance {
namespace internal {

constexpr std::string_view kExchange = "binance";
constexpr std::string_view kStateNs = "collector.binance";
constexpr std::string_view kComponent = "collector.binance";
constexpr int64_t kNoId = -1;
constexpr size_t kKindCount = 7;  // MessageKind values

using SteadyClock = std::chrono::steady_clock;

// Metrics of one collector (families are process-wide; the registry merges same-named ones).
// Not thread-safe beyond what prometheus-cpp gives: rejected() is called by the worker only.
class Probe {
 public:
  Probe();

  void message(MessageKind kind) { kinds_[static_cast<size_t>(kind)]->Increment(); }
  void invalid() { invalid_->Increment(); }
  void rejected(std::string_view reason);
  void connected(bool up) { connected_->Set(up ? 1 : 0); }
  void reconnect() { reconnects_->Increment(); }
  void feed_lag(DurationNs lag) { feed_lag_->Observe(static_cast<double>(lag) / 1e9); }
  void backfilled(size_t n) { backfilled_->Increment(static_cast<double>(n)); }
  void gap() { gaps_->Increment(); }
  void publish_error() { publish_errors_->Increment(); }
  void http_limited(int code) { (code == 418 ? http_418_ : http_429_)->Increment(); }

 private:
  std::array<prometheus::Counter*, kKindCount> kinds_{};
  prometheus::Counter* invalid_;
  prometheus::Family<prometheus::Counter>* rejected_family_;
  std::unordered_map<std::string, prometheus::Counter*> rejected_;  // worker thread only
  prometheus::Gauge* connected_;
  prometheus::Counter* reconnects_;
  prometheus::Histogram* feed_lag_;
  prometheus::Counter* backfilled_;
  prometheus::Counter* gaps_;
  prometheus::Counter* publish_errors_;
  prometheus::Counter* http_429_;
  prometheus::Counter* http_418_;
};

}  // namespace internal

class Collector::Worker {
 public:
  Worker(CollectorConfig config, bus::EventBus& bus, const Clock& clock,
         std::unique_ptr<transport::WsConnection> ws, std::unique_ptr<transport::HttpClient> http);
  ~Worker();

  Status start();
  void stop();
  ComponentHealth health() const;
  Stats stats() const;

 private:
  struct SymbolState {
    std::string unified;
    std::string exchange_symbol;
    std::string key;        // bus key "binance:BTC-USDT"
    std::string state_key;  // "BTCUSDT" (aggTrade ids) or "BTCUSDT@trade"
    int64_t last_id = internal::kNoId;       // last id appended (committed or in the open batch)
    int64_t committed_id = internal::kNoId;  // last id durably committed
    bool dirty = false;
  };

  struct AtomicStats {
    std::atomic<uint64_t> frames{0}, trades_published{0}, backfilled{0}, duplicates_dropped{0},
        ignored{0}, rejected{0}, connects{0}, reconnects{0}, gaps{0}, unfilled_gaps{0},
        http_rate_limited{0}, publish_errors{0}, commits{0};
  };

  enum class SessionEnd { kStopped, kDropped, kStale, kAged, kReconnect, kFatal };

  bool stopping() const { return stopping_.load(std::memory_order_relaxed); }
  // Waits up to d; false when stop() interrupted the wait.
  bool wait_for(DurationNs d);
  void set_health(HealthState state, std::string detail);

  // collector_session.cc
  void run();
  SessionEnd run_session();
  SessionEnd take_end();
  void process(std::string_view frame);
  SymbolState* find_symbol(std::string_view exchange_symbol);
  void on_live_trade(Trade& trade, std::string_view frame, TimestampNs recv);
  void ensure_txn();
  void publish(SymbolState& s, const Trade& trade);
  // Runs the validator (processing/quality/validator.h); a rejected trade is dead-lettered with
  // its reason and false returned. `payload`: the frame, or empty for a backfilled trade (the
  // record's encoding is stored instead).
  bool accept(const Trade& trade, std::string_view payload);
  void reject(std::string_view reason, std::string detail, std::string_view payload, TimestampNs recv);
  // Commits the open batch with the last ids. On failure rolls the ids back and sets end_.
  void flush();

  // backfill.cc
  // GET with 429/418/5xx/network retries. Returns the body of a 200.
  Result<std::string> http_get(const std::string& url_text);
  // Fetches aggregate trades (last_id, until) from REST and publishes them in id order.
  void backfill(SymbolState& s, int64_t until);

  const CollectorConfig config_;
  bus::EventBus& bus_;
  const Clock& clock_;
  std::unique_ptr<transport::WsConnection> ws_;
  std::unique_ptr<transport::HttpClient> http_;

  // Worker-thread state.
  FrameParser parser_;
  ParsedFrame parsed_;
  std::vector<Trade> backfill_trades_;
  transport::Url ws_target_;
  std::string rest_base_;
  bool agg_ = true;
  std::vector<SymbolState> symbols_;
  std::unordered_map<std::string, size_t> index_;
  std::unique_ptr<bus::Transaction> txn_;
  std::optional<SessionEnd> end_;
  uint64_t frames_this_session_ = 0;
  TimestampNs last_reject_log_ = 0;
  uint64_t suppressed_rejects_ = 0;
  internal::Probe probe_;

  AtomicStats stats_;
  mutable std::mutex health_mu_;
  ComponentHealth health_;
  std::mutex lifecycle_mu_;
  bool started_ = false;
  std::atomic<bool> halted_{false};
  std::mutex wait_mu_;
  std::condition_variable wait_cv_;
  std::atomic<bool> stopping_{false};
  std::thread thread_;
};

}  // namespace tickflow::exchange::binance
