// BookSnapshot: one top-N order-book snapshot of one instrument, as published on raw.orderbook
// (BookSnapshotEvent, encoded by core/codec) and stored by the book sink (storage/book_store.h).
// Prices and quantities are the exact Decimals the exchange printed (scale included).
// Thread-safety: plain value.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/decimal.h"
#include "core/symbol.h"
#include "core/time.h"

namespace tickflow {

struct BookLevel {
  Decimal price;
  Decimal quantity;
  friend bool operator==(const BookLevel& a, const BookLevel& b) {
    return a.price == b.price && a.price.scale() == b.price.scale() && a.quantity == b.quantity &&
           a.quantity.scale() == b.quantity.scale();
  }
};

struct BookSnapshot {
  Exchange exchange = Exchange::kBinance;
  std::string symbol;           // unified BASE-QUOTE
  std::string exchange_symbol;  // the venue's spelling
  int64_t sequence = 0;         // the venue's (Binance u, Coinbase sequence; Kraken 0)
  std::vector<BookLevel> bids;  // best first (descending)
  std::vector<BookLevel> asks;  // best first (ascending)
  uint32_t depth = 0;           // levels per side requested
  bool crossed = false;         // best bid >= best ask
  TimestampNs ts_event = 0;     // exchange time (0 = none given)
  TimestampNs ts_recv = 0;      // our receive time

  // The snapshot's time: the exchange time, or the receive time when the venue gives none.
  // Storage identity is (exchange, symbol, time()); a second snapshot at the same time is a
  // replay and ignored.
  TimestampNs time() const { return ts_event != 0 ? ts_event : ts_recv; }
};

}  // namespace tickflow
