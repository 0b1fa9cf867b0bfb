// Private to the Coinbase collector: its worker (collector.cc: config, frames, trades, gap
// repair; collector_book.cc: the level2 books). Not a public header.
//
// Thread-safety: the worker thread owns everything but the atomics, the health cell and the
// books (books_mu_ guards them for book_top()).
#pragma once

#include <atomic>
#include <limits>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "exchange/book/order_book.h"
#include "exchange/coinbase/advanced_parse.h"
#include "exchange/coinbase/collector.h"
#include "exchange/coinbase/parse.h"
#include "exchange/coinbase/sequence.h"
#include "exchange/collector/book_output.h"
#include "exchange/collector/output.h"
#include "exchange/collector/probe.h"
#include "exchange/collector/rest.h"
#include "exchange/collector/worker.h"

namespace tickflow::exchange::coinbase {
namespace detail {

using collector::kNoId;
using collector::SessionEnd;

inline constexpr std::string_view kExchange = "coinbase";
inline constexpr std::string_view kComponent = "collector.coinbase";
inline constexpr int64_t kUnbounded = std::numeric_limits<int64_t>::max();

void append_json_string(std::string& out, std::string_view s);
bool has_credentials(const CollectorConfig& c);
bool has_advanced_credentials(const CollectorConfig& c);
// Bounded label values of tickflow_collector_messages_total{exchange="coinbase",kind}.
std::vector<std::string_view> kind_names();
// {"type":"<type>","product_ids":["<product>"],"channels":["<channel>"]} (+ the signature
// fields when credentials are configured): the per-product level2 resubscription.
Result<std::string> channel_message(const CollectorConfig& config, std::string_view type, std::string_view product,
                                    std::string_view channel, std::string_view timestamp);

}  // namespace detail

using namespace detail;

class Collector::Worker {
 public:
  Worker(CollectorConfig config, bus::EventBus& bus, const Clock& clock, std::unique_ptr<transport::WsConnection> ws,
         std::unique_ptr<transport::HttpClient> http)
      : config_(std::move(config)),
        clock_(clock),
        ws_(std::move(ws)),
        http_(std::move(http)),
        probe_(kExchange, kind_names()),
        out_(kExchange, bus, clock, probe_, config_.validation),
        rest_(*http_,
              {config_.max_http_retries, config_.http_timeout, config_.backoff.base_delay, 0, 2 * kNsPerMin}, control_,
              probe_, kComponent),
        health_(std::string(kComponent)) {}
  ~Worker() { stop(); }

  Status start();
  void stop();
  ComponentHealth health() const { return health_.get(); }
  Stats stats() const;
  Result<book::BookTop> book_top(std::string_view product, size_t depth) const;
  std::vector<collector::Instrument> instruments() const {
    std::lock_guard lk(lifecycle_mu_);
    return instruments_;
  }

 private:
  struct Product {
    std::string id;  // BTC-USD
    size_t series = 0;
    bool needs_backfill = false;  // reconnected with a stored id: repair once subscribed
    // level2 (config.book): the book from the last snapshot plus the l2updates since.
    size_t book_output = 0;       // BookOutput index
    book::OrderBook book;
    bool book_synced = false;     // a snapshot applied since the last (re)subscribe
    bool resync_pending = false;  // unsubscribe + subscribe sent, waiting for the snapshot
  };
  struct AtomicStats {
    std::atomic<uint64_t> frames{0}, backfilled{0}, duplicates_dropped{0}, tickers{0}, ignored{0},
        exchange_errors{0}, gaps{0}, unfilled_gaps{0}, sequence_regressions{0}, book_snapshots{0},
        book_updates{0}, book_updates_dropped{0}, book_resyncs{0}, crossed_books{0}, sequence_gaps{0};
  };

  void run();
  SessionEnd run_session();
  bool process(std::string_view frame);
  void on_trade(Product& p, std::string_view frame);
  void on_heartbeat(Product& p);
  // collector_advanced.cc: one Advanced Trade frame (config.feed == "advanced").
  bool process_advanced(std::string_view frame);
  bool advanced() const { return config_.feed == "advanced"; }
  // The level2 channel name on the wire.
  std::string_view l2_channel() const { return advanced() ? std::string_view("level2") : config_.level2_channel; }
  // collector_book.cc: a snapshot / l2update of a subscribed product (config.book).
  void on_level2(Product& p, std::string_view frame, TimestampNs recv);
  // The book is out of sync: counted (BookOutput), cleared, and the product's level2 channel
  // resubscribed (unsubscribe + subscribe → a new snapshot), once until that snapshot arrives.
  void resync_book(Product& p, std::string_view reason);
  // A new connection: every book waits for its new snapshot (a synced one counts a resync).
  void reset_books_for_session();
  // Fetches the trades with last_id < id < until from REST and publishes them in id order
  // (until = kUnbounded: everything newer than last_id). Commits.
  void backfill(Product& p, int64_t until);
  Product* find(std::string_view id) {
    for (auto& p : products_) {
      if (p.id == id) return &p;
    }
    return nullptr;
  }
  int64_t& last_id(const Product& p) { return out_.series(p.series).last_id; }
  // The tracker follows the published ids (a rejected or rolled-back id does not count).
  void sync_tracker(const Product& p) {
    const int64_t last = out_.series(p.series).last_id;
    if (trade_ids_.last(p.id) == last) return;
    trade_ids_.reset(p.id);
    if (last != kNoId) trade_ids_.observe(p.id, last);
  }
  void end_on(collector::CollectorOutput::Flush f) {
    if (f == collector::CollectorOutput::Flush::kFatal) {
      health_.set(HealthState::kDown, "ingestion stopped: bus commit failed: " + out_.last_error().to_string());
      end_ = SessionEnd::kFatal;
    } else if (f == collector::CollectorOutput::Flush::kReconnect) {
      end_ = SessionEnd::kReconnect;
    }
  }

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
  ParsedMessage parsed_;
  AdvancedParser adv_parser_;
  AdvancedMessage adv_;
  int64_t last_sequence_num_ = -1;  // Advanced Trade: this connection's last sequence_num
  SequenceTracker trade_ids_;  // per product: the last trade id published (gap detection)
  SequenceTracker sequences_;  // per product: the last match `sequence`
  std::vector<Trade> page_, hole_;
  transport::Url ws_target_;
  std::string rest_base_;
  std::vector<Product> products_;
  std::optional<SessionEnd> end_;
  std::unique_ptr<collector::BookOutput> books_;  // when config.book
  mutable std::mutex books_mu_;                   // the Product books (book_top from any thread)
  uint64_t frames_this_session_ = 0;

  AtomicStats st_;
  mutable std::mutex lifecycle_mu_;
  std::vector<collector::Instrument> instruments_;  // lifecycle_mu_
  bool started_ = false;
  std::atomic<bool> halted_{false};
  std::thread thread_;
};


}  // namespace tickflow::exchange::coinbase
