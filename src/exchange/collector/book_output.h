// BookOutput: the order-book side shared by the exchange collectors (Binance depth, Coinbase
// level2 / Advanced Trade l2_data, Kraken book v1/v2).
//
// Each collector keeps its books itself (book/order_book.h, synchronized by the venue's own rules:
// Binance U/u against the REST lastUpdateId, Coinbase sequence numbers, Kraken CRC32) and tells
// BookOutput what happened:
//   on_book()   after every applied snapshot or update of a book that is in sync; at most one
//               top-`depth` snapshot per book per `interval` is appended (BookSnapshotEvent on
//               topic raw.orderbook, key "exchange:SYMBOL") into the CollectorOutput's open
//               batch, so it commits together with the trades; the first in-sync book after a
//               resync is always published. A crossed book (best bid >= best ask) is counted
//               and the snapshot says so.
//   on_resync() a desync was detected (sequence gap, checksum mismatch, failed bridge, …);
//               counted by reason; no snapshot of that book until on_book() is called again.
// Metrics: tickflow_collector_book_snapshots_total{exchange},
//          tickflow_collector_book_resyncs_total{exchange,reason},
//          tickflow_collector_crossed_books_total{exchange}.
//
// Thread-safety: the collector's worker thread only. Ownership: borrows out and clock.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/time.h"
#include "exchange/book/order_book.h"
#include "exchange/collector/output.h"

namespace tickflow::exchange::collector {

struct BookOutputConfig {
  DurationNs interval = kNsPerSec;  // per book; 0 = every on_book()
  size_t depth = 20;                // levels per side in a snapshot
};

class BookOutput {
 public:
  BookOutput(std::string_view exchange, CollectorOutput& out, const Clock& clock, BookOutputConfig config);
  ~BookOutput();

  // Registers one book: `symbol` unified ("BTC-USDT"), `exchange_symbol` the venue's ("BTCUSDT").
  size_t add_book(std::string symbol, std::string exchange_symbol);

  // `sequence`: the venue's (Binance final update id u, Coinbase sequence, Kraken: 0).
  void on_book(size_t book, const book::OrderBook& state, int64_t sequence, TimestampNs ts_event,
               TimestampNs ts_recv);
  // reason: a short fixed word ("sequence_gap", "checksum_mismatch", "bridge_failed", "reconnect", ...).
  void on_resync(size_t book, std::string_view reason);

  uint64_t snapshots() const;
  uint64_t resyncs() const;
  uint64_t crossed() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace tickflow::exchange::collector
