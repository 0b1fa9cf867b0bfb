// Binance collector: exchange WebSocket (combined trade or aggTrade streams) → raw.market-data.
//
// One worker thread per collector owns the connection: it reads frames, parses them with
// binance::FrameParser (pure), and publishes each trade to topics::kRawMarketData keyed by
// instrument_key(binance, symbol). Everything read so far is published in ONE bus Transaction
// as soon as the socket has no more buffered data (latency first, batching for free under load),
// together with the last published trade id per symbol (state ns "collector.binance", key
// "BTCUSDT" for aggTrade ids, "BTCUSDT@trade" for trade ids), so a restart resumes exactly.
//
// Holes are backfilled from REST (GET /api/v3/aggTrades?fromId=) after every (re)connect and
// whenever a live aggregate id jumps; backfilled trades are published in id order before the
// live trade that revealed the gap; ids <= the last published one are dropped as duplicates.
// With trade_stream = "trade" gaps are counted and logged only (aggTrades cannot fill them).
// Malformed/unknown frames, and trades the validator (processing/quality/validator.h) rejects,
// are counted by reason, logged (rate-limited) and dead-lettered to topics::kDlqMarketData. Depth, bookTicker, kline and subscription replies are counted only.
// A bus commit failing with kIo (full disk) or another non-retryable error stops ingestion
// loudly (health down); a retryable failure reconnects (the backfill then repairs the hole).
//
// Lifecycle: construct → start() (launches the worker) → stop() (idempotent; closes the socket
// to unblock the read, joins). One start per object.
// Thread-safety: start/stop/health/stats may be called from any thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "bus/event_bus.h"
#include "core/clock.h"
#include "core/health.h"
#include "core/result.h"
#include "exchange/backoff.h"
#include "exchange/transport/http_client.h"
#include "exchange/transport/ws_connection.h"
#include "processing/quality/validator.h"

namespace tickflow::exchange::binance {

struct CollectorConfig {
  std::string ws_url = "wss://stream.binance.com:9443";  // base; /stream?streams=... is appended
  std::string rest_url = "https://api.binance.com";
  std::vector<std::string> symbols;        // unified "BTC-USDT" (or Binance "BTCUSDT")
  std::string trade_stream = "aggTrade";   // "aggTrade" or "trade": the stream that feeds candles
  BackoffConfig backoff;                   // reconnect policy (defaults: §8)
  DurationNs connect_timeout = 10 * kNsPerSec;
  DurationNs stale_timeout = 30 * kNsPerSec;     // no frame for this long → reconnect
  DurationNs max_connection_age = 23 * kNsPerHour;  // proactive reconnect before Binance's 24 h cut
  DurationNs http_timeout = 10 * kNsPerSec;
  int backfill_limit = 1000;        // aggTrades page size (Binance max 1000)
  int max_backfill_pages = 200;     // per hole; what is left is counted as an unfilled gap
  int max_http_retries = 3;         // per page, on 429/418/5xx/network errors
  DurationNs ban_min_wait = 2 * kNsPerMin;        // HTTP 418 waits at least this long
  DurationNs rate_limit_default_wait = 60 * kNsPerSec;  // 429 without Retry-After
  size_t max_batch_frames = 4096;   // frames per bus transaction at most
  int commit_retries = 3;           // retryable commit failures before reconnecting
  // Every trade (live and backfilled) is validated before it is published; a rejected one goes
  // to dlq.market-data with the validator's reason, in the same transaction (nothing is lost).
  quality::ValidatorConfig validation;
};

// Validates the config (symbols, URLs, trade_stream). Error names the key.
Status validate(const CollectorConfig& config);

// "/stream?streams=btcusdt@aggTrade/ethusdt@aggTrade" appended to the ws_url base.
Result<std::string> combined_stream_url(const CollectorConfig& config);

class Collector {
 public:
  struct Stats {
    uint64_t frames = 0;            // frames read
    uint64_t trades_published = 0;  // live + backfilled
    uint64_t backfilled = 0;
    uint64_t duplicates_dropped = 0;
    uint64_t ignored = 0;           // depth/bookTicker/kline/subscription/other trade stream
    uint64_t rejected = 0;          // dead-lettered
    uint64_t connects = 0;          // successful connects
    uint64_t reconnects = 0;        // connects after the first
    uint64_t gaps = 0;              // live id jumps detected
    uint64_t unfilled_gaps = 0;     // gaps backfill could not close
    uint64_t http_rate_limited = 0; // 429 + 418
    uint64_t publish_errors = 0;
    uint64_t commits = 0;
  };

  // Real transports (Beast): make_ws_connection(), make_http_client().
  Collector(CollectorConfig config, bus::EventBus& bus, const Clock& clock);
  // Injected transports (tests, or custom TLS options).
  Collector(CollectorConfig config, bus::EventBus& bus, const Clock& clock,
            std::unique_ptr<transport::WsConnection> ws, std::unique_ptr<transport::HttpClient> http);
  ~Collector();
  Collector(const Collector&) = delete;
  Collector& operator=(const Collector&) = delete;

  // Validates the config, creates the raw and DLQ topics if missing, loads the last published
  // ids from bus state and launches the worker. Errors: bad config, bus unavailable.
  Status start();
  // Idempotent; returns after the worker has exited.
  void stop();

  // "collector.binance": up (connected), degraded (connecting/reconnecting), down (stopped,
  // circuit open, or ingestion halted by a bus error).
  ComponentHealth health() const;
  Stats stats() const;

 private:
  class Worker;
  std::unique_ptr<Worker> worker_;
};

}  // namespace tickflow::exchange::binance
