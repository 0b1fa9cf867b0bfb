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
// are counted by reason, logged (rate-limited) and dead-lettered to topics::kDlqMarketData.
// With config.book, depthUpdate diffs keep one order book per symbol (see CollectorConfig::book);
// bookTicker, kline and subscription replies are counted only.
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
#include <optional>
#include <string_view>
#include <string>
#include <vector>

#include "bus/event_bus.h"
#include "core/clock.h"
#include "core/health.h"
#include "core/result.h"
#include "exchange/backoff.h"
#include "exchange/book/order_book.h"
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
  // No frame for this long → reconnect (and resubscribe). A dead link is found sooner by the
  // transport's keep-alive pings (WsOptions::ping_interval, 30 s: no pong within another 30 s
  // fails the read), so this only catches a live connection that stopped delivering: 5 min,
  // the quality monitor's stale threshold, so quiet symbols (aggTrade only) are not reconnected.
  DurationNs stale_timeout = 5 * kNsPerMin;
  // The real transport's keep-alive (WsOptions::ping_interval): a ping after this long without a
  // frame, the connection declared dead when another interval passes without anything.
  DurationNs ping_interval = 30 * kNsPerSec;
  // Proactive reconnect (SessionEnd::kAged: immediate, no backoff; the hole is backfilled)
  // before Binance's 24 h cut of every connection.
  DurationNs max_connection_age = 23 * kNsPerHour + 30 * kNsPerMin;
  DurationNs http_timeout = 10 * kNsPerSec;
  int backfill_limit = 1000;        // aggTrades page size (Binance max 1000)
  int max_backfill_pages = 200;     // per hole; what is left is counted as an unfilled gap
  int max_http_retries = 3;         // per page, on 429/418/5xx/network errors
  DurationNs ban_min_wait = 2 * kNsPerMin;        // HTTP 418 waits at least this long
  DurationNs rate_limit_default_wait = 60 * kNsPerSec;  // 429 without Retry-After
  // The bounded queue of a connection (§8: 1000 messages): at most this many frames are read
  // before they are published and committed; meanwhile nothing more is read, so TCP flow control
  // pushes back on the exchange (explicit backpressure, no unbounded buffer; see the README).
  size_t max_batch_frames = 1000;
  // Bus commits in flight while the next batch is read (CollectorOutput::set_max_commits_in_flight).
  // 0 (default): each batch is acknowledged first. Experimental: not for production yet (the
  // exchange README, "Pipelined collector commits").
  size_t commits_in_flight = 0;
  int commit_retries = 3;           // retryable commit failures before reconnecting
  // Every trade (live and backfilled) is validated before it is published; a rejected one goes
  // to dlq.market-data with the validator's reason, in the same transaction (nothing is lost).
  quality::ValidatorConfig validation;

  // GET /api/v3/exchangeInfo at start: each configured symbol is resolved through the
  // instrument list (collector::InstrumentMap); an unknown or not-trading one is not subscribed
  // and named in /health (degraded) and the log; none left → down, no connection. If the list
  // cannot be fetched, the configured symbols are subscribed as given (logged).
  bool instruments = true;

  // How the streams are subscribed: "url" (the combined-stream URL /stream?streams=a/b/..) or
  // "message" (connect to /stream, then {"method":"SUBSCRIBE","params":[..],"id":N} with at
  // most subscribe_batch streams each, at most max_messages_per_second per connection, the
  // same order after every reconnect). A rejected SUBSCRIBE ({"error":{"code","msg"},"id"})
  // puts Binance's text in /health (degraded) and the log.
  std::string subscribe = "url";
  size_t subscribe_batch = 200;
  size_t max_messages_per_second = 5;  // Binance: 5 incoming messages per second per connection

  // Order books (opt-in): subscribe <sym>@depth@100ms, synchronize each book with the REST
  // snapshot GET /api/v3/depth?symbol=&limit=book_snapshot_limit as Binance documents it
  // (binance/depth_sync.h) and publish top-book_depth snapshots every book_interval
  // (collector::BookOutput → raw.orderbook). Every resync is counted by reason.
  bool book = false;
  bool book_ticker = false;               // also subscribe <sym>@bookTicker (parsed, counted)
  int book_snapshot_limit = 1000;         // Binance: 1..5000 (weight 50 at 1000)
  size_t book_depth = 20;                 // levels per side in a published snapshot
  DurationNs book_interval = kNsPerSec;   // per book; 0 = after every applied diff
  DurationNs book_retry_delay = 500 * kNsPerMs;  // before re-fetching a snapshot that failed
};

// Binance: at most 1024 streams per connection. One connection per collector: more is an error.
constexpr size_t kMaxStreamsPerConnection = 1024;

// Validates the config (symbols, URLs, trade_stream). Error names the key.
Status validate(const CollectorConfig& config);

// The streams of a connection, per symbol in order: <sym>@<trade_stream>, then <sym>@depth@100ms
// (config.book), then <sym>@bookTicker (config.book_ticker); symbols lower-cased.
std::vector<std::string> stream_names(const CollectorConfig& config, const std::vector<std::string>& exchange_symbols);

// "/stream?streams=btcusdt@aggTrade/ethusdt@aggTrade" appended to the ws_url base.
Result<std::string> combined_stream_url(const CollectorConfig& config);

class Collector {
 public:
  struct Stats {
    uint64_t frames = 0;            // frames read and handled (counted after their in-memory effects)
    uint64_t trades_published = 0;  // live + backfilled
    uint64_t backfilled = 0;
    uint64_t duplicates_dropped = 0;
    uint64_t ignored = 0;           // depth (books off)/kline/subscription acks/other trade stream
    uint64_t rejected = 0;          // dead-lettered
    uint64_t connects = 0;          // successful connects
    uint64_t reconnects = 0;        // connects after the first
    uint64_t gaps = 0;              // live id jumps detected
    uint64_t unfilled_gaps = 0;     // gaps backfill could not close
    uint64_t http_rate_limited = 0; // 429 + 418
    uint64_t publish_errors = 0;
    uint64_t commits = 0;
    // Books (config.book).
    uint64_t depth_applied = 0;      // diffs applied to an in-sync book
    uint64_t depth_buffered = 0;     // diffs buffered while waiting for a snapshot
    uint64_t depth_stale = 0;        // diffs dropped as u <= lastUpdateId
    uint64_t book_snapshots = 0;     // REST snapshots fetched
    uint64_t resyncs_sequence_gap = 0;
    uint64_t resyncs_bridge_failed = 0;
    uint64_t resyncs_reconnect = 0;
    uint64_t crossed_books = 0;      // applied states with best bid >= best ask
    uint64_t book_tickers = 0;       // bookTicker frames parsed
    uint64_t unknown_symbols = 0;    // configured symbols the instrument list does not trade
    uint64_t subscribe_messages = 0; // SUBSCRIBE messages sent (subscribe = "message")
    uint64_t subscribe_errors = 0;   // SUBSCRIBE requests Binance rejected
  };

  // A copy of one symbol's book (exchange or unified name); nullopt when books are off or the
  // symbol is not collected. Thread-safe after start() (the worker holds a lock while it
  // changes a book).
  struct BookView {
    bool in_sync = false;
    int64_t update_id = 0;  // last applied u, or the snapshot's lastUpdateId
    book::BookTop top;      // best first
  };
  std::optional<BookView> book(std::string_view symbol, size_t depth = 0) const;

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
