// BookOutput::on_book cost on a 100-level book (depth 20): throttled (inside the interval: the
// crossed check and a clock read) and publishing every call (top 20 + BookSnapshotEvent encode +
// append to the open batch; flushed to an InMemoryBus every 256 snapshots).
#include <benchmark/benchmark.h>

#include "bus/testing/in_memory_bus.h"
#include "exchange/collector/book_output.h"

namespace {

using namespace tickflow;
using namespace tickflow::exchange;

book::OrderBook make_book() {
  book::OrderBook b;
  for (int i = 0; i < 100; ++i) {
    (void)b.apply(book::BookSide::kBid, Decimal(3398800 - i * 10, 8), Decimal(150000000000 + i, 8));
    (void)b.apply(book::BookSide::kAsk, Decimal(3403400 + i * 10, 8), Decimal(274610000000 + i, 8));
  }
  return b;
}

void run(benchmark::State& state, DurationNs interval) {
  bus::testing::InMemoryBus bus(bus::testing::InMemoryBus::InitialTopics::kDefault);
  ManualClock clock(1628952395768LL * kNsPerMs);
  collector::CollectorProbe probe("binance", {"depthUpdate"});
  collector::CollectorOutput out("binance", bus, clock, probe, quality::ValidatorConfig{});
  collector::BookOutput books("binance", out, clock, {interval, 20});
  const size_t i = books.add_book("FTM-USDT", "FTMUSDT");
  const book::OrderBook b = make_book();
  int64_t seq = 0;
  books.on_book(i, b, seq, clock.now_ns(), clock.now_ns());  // the first one always publishes
  for (auto _ : state) {
    books.on_book(i, b, ++seq, clock.now_ns(), clock.now_ns());
    if ((seq & 255) == 0) {
      state.PauseTiming();
      (void)out.flush();
      state.ResumeTiming();
    }
  }
  state.counters["snapshots"] = static_cast<double>(books.snapshots());
}

void BM_OnBookThrottled(benchmark::State& state) { run(state, kNsPerSec); }
void BM_OnBookPublishing(benchmark::State& state) { run(state, 0); }

BENCHMARK(BM_OnBookThrottled);
BENCHMARK(BM_OnBookPublishing);

}  // namespace
