// Coinbase Exchange feed collector: wss://ws-feed.exchange.coinbase.com matches → raw.market-data.
//
// One worker thread owns the connection. On every (re)connect it sends ONE subscribe message
//   {"type":"subscribe","product_ids":["BTC-USD",..],"channels":["heartbeat","matches"]}
// (+ "ticker" when configured; + key, passphrase, timestamp, signature when credentials are
// configured: auth.h), then reads frames, parses them with coinbase::FrameParser and publishes
// every trade of a `match` / `last_match` (side = the maker's; Trade::taker_side the opposite)
// to topics::kRawMarketData keyed instrument_key(coinbase, "BTC-USD"). `ticker` frames are
// counted, never published: every match has a ticker twin with the same trade_id.
//
// Gaps (trade ids are contiguous per product, coinbase/sequence.h): a live trade id above
// last + 1, or a heartbeat whose last_trade_id is above the last id seen, names the missing
// ids; they are fetched from REST GET /products/{id}/trades (paged backwards with after=<id>,
// 1000 per page) and published in id order BEFORE the trade that revealed the hole, so the
// candle processor sees them before the candle is final. After a reconnect with a stored id,
// the first `subscriptions` ack triggers a backfill of everything newer than the stored id
// (the newest page first, then older ones). Ids <= the last published one are dropped as
// duplicates (a replayed last_match, a REST overlap). A match's `sequence` going backwards
// (replay, reorder) is counted.
// Everything read in one socket drain goes in ONE bus Transaction together with the last
// published id per product (state ns "collector.coinbase", key "BTC-USD"), so a restart
// resumes exactly (collector/output.h). Malformed, unknown-type and out-of-schema frames, and
// trades the validator rejects, are counted by reason, logged (rate-limited) and dead-lettered
// to dlq.market-data. An `error` message is logged and shown in health() with Coinbase's own
// text. A bus commit failing with kIo or another non-retryable error halts ingestion (health
// down); a retryable one reconnects (the backfill repairs the hole).
//
// Books (config.book): `level2_channel` ("level2_batch" by default) joins the subscription; each
// product's book is rebuilt from its `snapshot` and every `l2update` applied to it, then handed
// to collector::BookOutput (top-N snapshots on raw.orderbook in the same bus batch as the
// trades). Coinbase's level2 has no sequence numbers, so a lost update cannot be seen directly:
// a book found crossed after a message, or an update the book rejects, is a desync → counted
// (BookOutput::on_resync), the book cleared, and that product's level2 channel unsubscribed and
// subscribed again (Coinbase sends a fresh snapshot); updates before the snapshot are dropped
// (counted). A reconnect resyncs every book the same way (the new subscription's snapshots).
//
// Lifecycle: construct → start() → stop() (idempotent; closes the socket, joins). One start.
// Thread-safety: start/stop/health/stats from any thread.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "bus/event_bus.h"
#include "core/clock.h"
#include "core/health.h"
#include "core/result.h"
#include "exchange/backoff.h"
#include "exchange/book/order_book.h"
#include "exchange/collector/book_output.h"
#include "exchange/collector/instruments.h"
#include "exchange/transport/http_client.h"
#include "exchange/transport/ws_connection.h"
#include "processing/quality/validator.h"

namespace tickflow::exchange::coinbase {

struct CollectorConfig {
  // "exchange": the Exchange feed (ws_url default wss://ws-feed.exchange.coinbase.com);
  // "advanced": the Advanced Trade feed (ws_url default wss://advanced-trade-ws.coinbase.com):
  // market_trades + heartbeats (+ level2 when `book`), one subscribe message per channel.
  std::string feed = "exchange";
  std::string ws_url = "wss://ws-feed.exchange.coinbase.com";
  std::string rest_url = "https://api.exchange.coinbase.com";
  std::vector<std::string> symbols;  // Coinbase product ids = unified "BTC-USD"
  // At start(), GET {rest_url}/products and resolve `symbols` through collector::InstrumentMap:
  // an unknown or not-trading product fails start() with a message naming it (nothing is
  // subscribed); an unreachable instrument list is logged and the products are used as given.
  bool resolve_products = true;
  // "matches" (required: the trades), "heartbeat" (gap detection on quiet products, keeps the
  // link alive), "ticker" (never a trade; counted only).
  std::vector<std::string> channels = {"heartbeat", "matches"};
  // Order books (level2): subscribe `level2_channel` for every product, keep a book per product
  // from its `snapshot` + `l2update`s and hand it to collector::BookOutput (raw.orderbook).
  // "level2_batch" (default: the same messages batched every 50 ms, public) or "level2" (every
  // change; Coinbase requires an authenticated subscription for it: needs the credentials).
  bool book = false;
  std::string level2_channel = "level2_batch";
  collector::BookOutputConfig book_output;
  // Signed subscription when all three are set (api_secret is Coinbase's base64 secret).
  std::string api_key, api_secret, api_passphrase;
  // Advanced Trade: a JWT on every subscribe message when both are set (CDP key name
  // "organizations/../apiKeys/.." and its PEM EC private key; advanced_auth.h).
  std::string advanced_key_name, advanced_private_key;
  BackoffConfig backoff;
  DurationNs connect_timeout = 10 * kNsPerSec;
  // Coinbase sends a heartbeat per product every second: this long a silence is a dead link.
  DurationNs stale_timeout = 30 * kNsPerSec;
  DurationNs http_timeout = 10 * kNsPerSec;
  int backfill_limit = 1000;     // trades per REST page (Coinbase: max 1000)
  int max_backfill_pages = 50;   // per hole; what is left is counted as an unfilled gap
  int max_http_retries = 3;
  size_t max_batch_frames = 1000;  // the connection's bounded queue (see binance/collector.h)
  quality::ValidatorConfig validation;
};

// Error names the key ("collector.coinbase.symbols[0]: ...").
Status validate(const CollectorConfig& config);
// The subscribe message (signed with `timestamp` when credentials are configured).
Result<std::string> subscribe_message(const CollectorConfig& config, std::string_view timestamp);
// Advanced Trade: the subscribe messages of one connection, in order: heartbeats,
// market_trades (, level2): {"type":"subscribe","product_ids":[..],"channel":"..."(,"jwt":"..")}.
Result<std::vector<std::string>> advanced_subscribe_messages(const CollectorConfig& config, int64_t now_sec);
inline constexpr std::string_view kAdvancedWsUrl = "wss://advanced-trade-ws.coinbase.com";

class Collector {
 public:
  struct Stats {
    uint64_t frames = 0;  // frames read and handled (counted after their in-memory effects)
    uint64_t trades_published = 0;  // live + backfilled
    uint64_t backfilled = 0;
    uint64_t duplicates_dropped = 0;
    uint64_t tickers = 0;           // ticker frames (never trades)
    uint64_t ignored = 0;           // heartbeat, subscriptions, ticker, level2
    uint64_t rejected = 0;          // dead-lettered
    uint64_t exchange_errors = 0;   // `error` messages
    uint64_t connects = 0;
    uint64_t reconnects = 0;
    uint64_t gaps = 0;              // trade-id holes detected (live jump or heartbeat)
    uint64_t unfilled_gaps = 0;     // holes the backfill could not close
    uint64_t sequence_regressions = 0;  // a match's sequence at or below the product's last
    uint64_t sequence_gaps = 0;         // Advanced Trade: sequence_num jumps (each repaired)
    uint64_t http_rate_limited = 0;
    uint64_t publish_errors = 0;
    uint64_t commits = 0;
    // level2 (config.book)
    uint64_t book_snapshots = 0;        // Coinbase `snapshot` messages applied
    uint64_t book_updates = 0;          // `l2update` messages applied to an in-sync book
    uint64_t book_updates_dropped = 0;  // `l2update`s of a book waiting for its snapshot
    uint64_t book_resyncs = 0;          // crossed / invalid book, or a reconnect of a synced book
    uint64_t crossed_books = 0;         // books found crossed (best bid >= best ask) after a message
    uint64_t book_published = 0;        // BookOutput snapshots
  };

  Collector(CollectorConfig config, bus::EventBus& bus, const Clock& clock);
  Collector(CollectorConfig config, bus::EventBus& bus, const Clock& clock,
            std::unique_ptr<transport::WsConnection> ws, std::unique_ptr<transport::HttpClient> http);
  ~Collector();
  Collector(const Collector&) = delete;
  Collector& operator=(const Collector&) = delete;

  // Validates the config, creates raw/DLQ topics, loads the last ids, launches the worker.
  Status start();
  void stop();
  // "collector.coinbase": up (connected), degraded (connecting, or a Coinbase error), down.
  ComponentHealth health() const;
  Stats stats() const;
  // The product's current level2 book (top `depth` per side; 0 = all), for tests and /debug:
  // kNotFound when books are off or the product is not in sync (waiting for its snapshot).
  Result<book::BookTop> book_top(std::string_view product, size_t depth) const;
  // The instruments resolved at start() (empty when resolve_products is off or the list was
  // unavailable).
  std::vector<collector::Instrument> instruments() const;

 private:
  class Worker;
  std::unique_ptr<Worker> worker_;
};

}  // namespace tickflow::exchange::coinbase
