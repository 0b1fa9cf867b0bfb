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

namespace tickflow::exchange::kraken {

struct CollectorConfig {
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
  size_t max_batch_frames = 4096;
  int commit_retries = 3;
  quality::ValidatorConfig validation;
};

// Error names the key ("collector.kraken.symbols[0]: ...").
Status validate(const CollectorConfig& config);
// "BTC-USD" → "XBT/USD" (BTC→XBT, DOGE→XDG), the pair name of subscriptions and frames.
std::string kraken_pair_from_unified(std::string_view unified);

class Collector {
 public:
  struct Stats {
    uint64_t frames = 0;
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

 private:
  class Worker;
  std::unique_ptr<Worker> worker_;
};

}  // namespace tickflow::exchange::kraken
