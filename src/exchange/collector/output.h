// CollectorOutput: the bus side shared by the exchange collectors (Binance, Kraken, Coinbase).
//
// A collector registers one Series per instrument (bus key "coinbase:BTC-USD", state key
// "BTC-USD", last published id loaded from bus state ns "collector.<exchange>"). Everything a
// worker appends — trades (publish) and dead letters (reject) — goes into ONE open bus
// Transaction; flush() commits it together with the last id of every series that moved, so a
// restart resumes exactly where the durable log ends. On a failed commit the last ids roll back
// to the committed ones (the next connect's backfill repairs what was lost) and flush() says
// whether to reconnect (retryable) or to stop ingesting (kIo: disk full, or not retryable).
// accept() runs the quality validator (processing/quality/validator.h); a rejected trade is
// dead-lettered with the validator's reason. reject() counts by reason (probe), logs at most
// once per 10 s with a count of the suppressed ones, and appends a DeadLetter to
// dlq.market-data keyed by the exchange.
//
// flush_async() is flush() without waiting for the bus (Transaction::commit_async: on Kafka the
// records are handed to the producer and acknowledged meanwhile): up to
// set_max_commits_in_flight() batches (default 0: flush_async() waits like flush()) are in
// flight while the worker reads and builds the next. They finish strictly in
// order; a series' committed id moves only when its batch finished; the first failure cancels
// the later ones (their records may already be in the log: the sinks drop duplicates by trade
// key) and rolls every last id back to the committed one, exactly as a failed flush() — its
// verdict comes from the flush_async() (or flush()) that finds it. flush() and drop_batch()
// finish everything in flight first. On a bus without async commits (embedded) flush_async()
// is flush().
//
// publish_book() appends an order-book snapshot (exchange/collector/book_output.h) to
// raw.orderbook in the same open batch, so snapshots commit together with the trades.
//
// Thread-safety: one worker thread uses it (the counters may be read from any thread).
// Ownership: borrows the bus, clock and probe; they outlive it.
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "bus/event_bus.h"
#include "core/book_snapshot.h"
#include "core/clock.h"
#include "core/result.h"
#include "core/trade.h"
#include "exchange/collector/probe.h"
#include "processing/quality/validator.h"

namespace tickflow::exchange::collector {

inline constexpr int64_t kNoId = -1;

struct Series {
  std::string bus_key;    // "coinbase:BTC-USD"
  std::string state_key;  // "BTC-USD"
  int64_t last_id = kNoId;       // last id appended (committed or in the open batch)
  int64_t committed_id = kNoId;  // last id durably committed
  bool dirty = false;
};

class CollectorOutput {
 public:
  enum class Flush : uint8_t { kOk, kReconnect, kFatal };

  // `exchange`: "coinbase" (log prefix "collector.coinbase", DLQ key, state ns
  // "collector.coinbase" unless `state_ns` is given).
  CollectorOutput(std::string_view exchange, bus::EventBus& bus, const Clock& clock, CollectorProbe& probe,
                  quality::ValidatorConfig validation, std::string_view state_ns = {});

  // Creates raw.market-data, dlq.market-data and raw.orderbook if missing.
  Status create_topics();
  // Adds a series, its last id loaded from bus state (kCorruption when the stored value is not
  // an id). Returns its index.
  Result<size_t> add_series(std::string bus_key, std::string state_key);
  Series& series(size_t i) { return series_[i]; }
  size_t series_count() const { return series_.size(); }

  // Validates; a rejected trade is dead-lettered (payload: the frame, or the trade's encoding
  // when empty) and false returned.
  bool accept(const Trade& trade, std::string_view payload);
  // Appends the trade to raw.market-data under the series' key; last_id = trade.trade_id.
  void publish(size_t series, const Trade& trade);
  void reject(std::string_view reason, std::string detail, std::string_view payload, TimestampNs recv);
  // Appends a book snapshot to raw.orderbook under instrument_key(exchange, symbol), in the same
  // open batch as the trades (it commits or rolls back with them). No series state moves.
  void publish_book(const BookSnapshot& snapshot);
  // Commits the open batch (if any) with the moved last ids. The error of a failed commit is in
  // last_error().
  Flush flush();
  // Starts the commit of the open batch and returns (see the file comment).
  Flush flush_async();
  // 0 (default): every batch is acknowledged before the next is read. N > 0: experimental —
  // see src/exchange/README.md ("Pipelined collector commits") for the loss seen under broker
  // outages with 4 in flight that is not explained yet.
  void set_max_commits_in_flight(size_t n) { max_in_flight_ = n; }
  size_t commits_in_flight() const { return in_flight_.size(); }
  const Status& last_error() const { return last_error_; }

  uint64_t published() const { return published_.load(std::memory_order_relaxed); }
  uint64_t rejected() const { return rejected_.load(std::memory_order_relaxed); }
  uint64_t commits() const { return commits_.load(std::memory_order_relaxed); }
  uint64_t publish_errors() const { return publish_errors_.load(std::memory_order_relaxed); }
  uint64_t books_published() const { return books_published_.load(std::memory_order_relaxed); }
  // Drops the open batch; batches in flight are finished first.
  void drop_batch() {
    (void)finish_in_flight(0);
    txn_.reset();
  }
  ~CollectorOutput() { (void)finish_in_flight(0); }

 private:
  struct InFlight {
    std::unique_ptr<bus::PendingCommit> pending;
    std::vector<int64_t> ids;  // every series' last id when the batch was cut
  };
  void ensure_txn();
  // Starts the open batch's commit (false: nothing to commit).
  bool start_commit();
  // Finishes in-flight commits, oldest first, until at most `keep` remain (or only unfinished
  // ready()-false ones when `only_ready`). A failure cancels the rest and rolls back.
  Flush finish_in_flight(size_t keep, bool only_ready = false);
  Flush failed(const Status& st);
  std::deque<InFlight> in_flight_;
  size_t max_in_flight_ = 0;

  const std::string exchange_, component_, state_ns_;
  bus::EventBus& bus_;
  const Clock& clock_;
  CollectorProbe& probe_;
  const quality::ValidatorConfig validation_;
  std::vector<Series> series_;
  std::unique_ptr<bus::Transaction> txn_;
  Status last_error_;
  TimestampNs last_reject_log_ = 0;
  uint64_t suppressed_rejects_ = 0;
  std::atomic<uint64_t> published_{0}, rejected_{0}, commits_{0}, publish_errors_{0}, books_published_{0};
};

}  // namespace tickflow::exchange::collector
