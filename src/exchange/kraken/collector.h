// Kraken v1 collector: wss://ws.kraken.com trade channel → raw.market-data.
//
// One worker thread owns the connection: on connect it sends one
// {"event":"subscribe","pair":[..],"subscription":{"name":"trade"}} for all pairs (again after
// every reconnect), reads frames, parses them with kraken::FrameParser and publishes each trade
// to topics::kRawMarketData keyed instrument_key(kraken, "BTC-USD"). Kraken v1 trades carry no
// id: the key is parse.h's derived trade_id (time_µs * 1000 + ordinal), deterministic on
// replay, so a trade received twice (reconnect, REST overlap) has the same key and is dropped
// here (key <= last published) and again by the candle processor's dedup.
// Everything read in one socket drain goes in ONE bus Transaction together with the last
// published key per pair (state ns "collector.kraken", key "XBT/USD"), so a restart resumes.
//
// Reconnect hole: after a (re)connect with a stored key, the pair's subscriptionStatus
// "subscribed" (from then on trades stream live) triggers a REST backfill
// (GET /0/public/Trades?pair=XBTUSD&since=<µs of the last key>*1000-1, paged by "last") of every
// trade after the last published key; live trades it already covered are then dropped by key. Limit (documented in kraken/README.md): a microsecond whose trades are
// split by the reconnect gets live ordinals from 0 again, so its later trades can be taken for
// duplicates (Kraken prints distinct microseconds for the fills of one order, so this is rare).
// API v2 (api = "v2"): the same loop with kraken/v2_parse.h; subscribe / unsubscribe are v2
// methods ({"method":"subscribe","params":{"channel":"trade","symbol":["BTC/USD"],
// "snapshot":false}}, book with "depth" and "snapshot":true); the trade key is Kraken's
// trade_id (sequential per pair): an id jump inside a session is a gap, repaired from REST
// (/0/public/Trades since the last trade's time, Kraken's id being the 7th element) before the
// trade after it is published; a reconnect repairs the same way once the trade ack arrives.
// State keys are "v2:BTC/USD" (v1's derived keys are not comparable).
// Books (book_depth > 0): a second subscribe {"name":"book","depth":N} for all pairs; one
// KrakenBook per pair (kraken/book.h: snapshot, updates, truncation to N, the CRC32 checksum
// verified after every update); after every verified snapshot / update the book goes to
// collector::BookOutput::on_book (top-N snapshots on raw.orderbook). A checksum mismatch (or a
// bad level, or an update before the snapshot) → BookOutput::on_resync(book, reason), then an
// unsubscribe + subscribe of that pair's book (Kraken sends a new snapshot); updates still in
// flight for the old subscription are counted (book_stale) and skipped. A reconnect restarts
// every book from its new snapshot (on_resync "reconnect" for books that were in sync).
// Malformed / unknown frames and trades the validator rejects are counted by reason, logged
// (rate-limited) and dead-lettered to dlq.market-data; an exchange error
// (subscriptionStatus "error", systemStatus not "online") is logged and shown in health()
// with Kraken's own text. heartbeat / pong / ticker / book frames are counted only.
// A bus commit failing with kIo or another non-retryable error halts ingestion (health down);
// a retryable one reconnects (the backfill repairs the hole).
//
// Lifecycle: construct → start() → stop() (idempotent; closes the socket, joins). One start.
// Thread-safety: start/stop/health/stats from any thread.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "bus/event_bus.h"
#include "core/clock.h"
#include "core/health.h"
#include "core/result.h"
#include "exchange/backoff.h"
#include "exchange/book/order_book.h"
#include "exchange/collector/book_output.h"
#include "exchange/transport/http_client.h"
#include "exchange/transport/ws_connection.h"
#include "processing/quality/validator.h"

namespace tickflow::exchange::kraken {

struct CollectorConfig {
  // "v1" (wss://ws.kraken.com, derived trade keys) or "v2" (wss://ws.kraken.com/v2, Kraken's
  // trade_id as the key; pairs spelled "BTC/USD").
  std::string api = "v1";
  std::string ws_url = "wss://ws.kraken.com";
  std::string rest_url = "https://api.kraken.com";
  std::vector<std::string> symbols;  // unified "BTC-USD" or Kraken "XBT/USD"
  BackoffConfig backoff;
  DurationNs connect_timeout = 10 * kNsPerSec;
  // Kraken sends a heartbeat after ~1 s without data, so this long a silence is a dead link.
  DurationNs stale_timeout = 30 * kNsPerSec;
  DurationNs http_timeout = 10 * kNsPerSec;
  int max_backfill_pages = 50;  // of up to 1000 trades, per hole
  int max_http_retries = 3;
  size_t max_batch_frames = 1000;  // the connection's bounded queue (see binance/collector.h)
  int commit_retries = 3;
  quality::ValidatorConfig validation;
  // Book channel depth: 0 = no books, else one of Kraken's 10, 25, 100, 500, 1000.
  int book_depth = 0;
  collector::BookOutputConfig book_output;
  // v2 only: how far back the REST repair of a restart starts (the time of the last stored
  // trade id is not kept; a longer outage leaves a hole that is counted in unfilled_gaps).
  DurationNs v2_restart_lookback = 10 * kNsPerMin;
  // start() fetches GET /0/public/AssetPairs and resolves `symbols` through it (unified or
  // Kraken names; an unknown or non-trading pair fails start() naming it; v2 gets each pair's
  // price / qty precision for the book checksum). false: names are mapped without the list.
  bool fetch_instruments = true;
};

// Kraken allows at most this many WebSocket connections per IP; each running Collector holds one
// (per ws host): the 21st start() against one host fails with a clear error.
inline constexpr int kMaxConnectionsPerIp = 20;

// Error names the key ("collector.kraken.symbols[0]: ...").
Status validate(const CollectorConfig& config);
// "BTC-USD" → "XBT/USD" (BTC→XBT, DOGE→XDG), the pair name of subscriptions and frames.
std::string kraken_pair_from_unified(std::string_view unified);

class Collector {
 public:
  struct Stats {
    uint64_t frames = 0;  // frames read and handled (counted after their in-memory effects)
    uint64_t trades_published = 0;  // live + backfilled
    uint64_t backfilled = 0;
    uint64_t duplicates_dropped = 0;
    uint64_t ignored = 0;       // heartbeat, status, pong, ticker, book
    uint64_t rejected = 0;      // dead-lettered
    uint64_t exchange_errors = 0;  // subscriptionStatus "error"
    uint64_t connects = 0;
    uint64_t reconnects = 0;
    uint64_t unfilled_gaps = 0;  // holes the backfill could not close
    uint64_t publish_errors = 0;
    uint64_t commits = 0;
    // Books.
    uint64_t book_snapshots = 0;       // snapshots applied
    uint64_t book_updates = 0;         // updates applied with a matching checksum
    uint64_t checksum_mismatches = 0;
    uint64_t book_resyncs = 0;         // resubscribes of one pair's book (any reason)
    uint64_t book_stale = 0;           // updates of an out-of-sync book skipped until its snapshot
    uint64_t id_gaps = 0;              // v2: trade id jumps inside a session (repaired from REST)
    uint64_t rest_rate_limited = 0;    // REST answers "EAPI:Rate limit" / "EService:" (retried)
  };

  // One pair's book as the worker last verified it (for tests and inspection).
  struct BookState {
    bool synced = false;
    book::BookTop top;      // top 10 per side
    uint32_t checksum = 0;  // kraken_checksum of the book
    uint64_t snapshots = 0, updates = 0;
  };

  Collector(CollectorConfig config, bus::EventBus& bus, const Clock& clock);
  Collector(CollectorConfig config, bus::EventBus& bus, const Clock& clock,
            std::unique_ptr<transport::WsConnection> ws, std::unique_ptr<transport::HttpClient> http);
  ~Collector();
  Collector(const Collector&) = delete;
  Collector& operator=(const Collector&) = delete;

  // Validates the config, creates raw/DLQ topics, loads the last keys, launches the worker.
  Status start();
  void stop();
  // "collector.kraken": up (connected), degraded (connecting, or an exchange error), down.
  ComponentHealth health() const;
  Stats stats() const;
  // By unified ("BTC-USD") or Kraken ("XBT/USD") name; nullopt when not configured or no books.
  std::optional<BookState> book(std::string_view symbol) const;

 private:
  class Worker;
  std::unique_ptr<Worker> worker_;
};

}  // namespace tickflow::exchange::kraken
