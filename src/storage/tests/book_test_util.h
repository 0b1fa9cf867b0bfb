// Book snapshots for the store tests: levels from the recorded Binance FTMUSDT depth stream
// (testdata/exchanges/binance/binance_2021-08-14.jsonl), one snapshot per second.
#pragma once

#include <string>

#include "core/book_snapshot.h"

namespace tickflow::storage::testing_books {

inline constexpr TimestampNs kBookT0 = 1628952395768LL * kNsPerMs;

inline BookSnapshot make_snapshot(const std::string& symbol, int second, bool crossed = false,
                                  TimestampNs t0 = kBookT0) {
  BookSnapshot b;
  b.exchange = Exchange::kBinance;
  b.symbol = symbol;
  b.exchange_symbol = "FTMUSDT";
  b.sequence = 800360968 + second;
  b.bids = {{*Decimal::parse("0.33988000"), *Decimal::parse("1500.00000000")},
            {*Decimal::parse("0.33984000"), *Decimal::parse("4625.80000000")}};
  b.asks = {{*Decimal::parse("0.34034000"), *Decimal::parse("2746.10000000")}};
  if (crossed) b.asks[0].price = *Decimal::parse("0.33900000");
  b.depth = 20;
  b.crossed = crossed;
  b.ts_event = t0 + second * kNsPerSec;
  b.ts_recv = b.ts_event + 493 * kNsPerMs + 123;  // sub-microsecond part kept exactly
  return b;
}

}  // namespace tickflow::storage::testing_books
