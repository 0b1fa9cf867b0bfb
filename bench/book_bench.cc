// Micro benchmarks: Kraken v1 book update + CRC32 checksum (replaying the real XBT/USD depth-1000
// updates of testdata/exchanges/kraken/), the checksum alone, and the Kraken / Coinbase parsers
// on recorded frames.
#include <benchmark/benchmark.h>
#include <simdjson.h>

#include <fstream>
#include <string>
#include <vector>

#include "exchange/coinbase/parse.h"
#include "exchange/kraken/book.h"
#include "exchange/kraken/parse.h"

namespace {

using namespace tickflow;
using namespace tickflow::exchange;

std::vector<std::string> frames(const std::string& file) {
  std::ifstream in(std::string(TICKFLOW_SOURCE_DIR) + "/testdata/exchanges/" + file);
  std::vector<std::string> out;
  simdjson::dom::parser parser;
  std::string line;
  while (std::getline(in, line)) {
    simdjson::dom::element rec = parser.parse(line);
    if (std::string_view(rec["direction"].get_string().value()) == "in")
      out.emplace_back(rec["raw"].get_string().value());
  }
  return out;
}

struct KrakenBookData {
  kraken::ParsedMessage snapshot;
  std::vector<kraken::ParsedMessage> updates;
  std::vector<std::string> update_frames;
};

const KrakenBookData& xbt_usd() {
  static const KrakenBookData data = [] {
    KrakenBookData d;
    kraken::FrameParser parser;
    for (const std::string& f : frames("kraken/kraken_2021-04-05.jsonl")) {
      kraken::ParsedMessage m;
      if (!parser.parse(f, 0, m).is_ok() || m.pair != "XBT/USD") continue;
      if (m.kind == kraken::MessageKind::kBookSnapshot) d.snapshot = m;
      if (m.kind == kraken::MessageKind::kBookUpdate) {
        d.updates.push_back(m);
        d.update_frames.push_back(f);
      }
    }
    return d;
  }();
  return data;
}

// Apply one parsed update (all its levels, truncation to depth 1000) and verify its checksum.
void BM_KrakenBookUpdateAndChecksum(benchmark::State& state) {
  const KrakenBookData& d = xbt_usd();
  kraken::KrakenBook book;
  if (!book.apply(d.snapshot).is_ok()) state.SkipWithError("snapshot");
  size_t i = 0;
  for (auto _ : state) {
    if (i == d.updates.size()) {
      state.PauseTiming();
      (void)book.apply(d.snapshot);
      i = 0;
      state.ResumeTiming();
    }
    Status st = book.apply(d.updates[i++]);
    if (!st.is_ok()) state.SkipWithError("checksum mismatch");
    benchmark::DoNotOptimize(st);
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["updates_in_recording"] = static_cast<double>(d.updates.size());
}

// Parse the frame, then apply and verify: the whole per-message cost.
void BM_KrakenParseUpdateAndChecksum(benchmark::State& state) {
  const KrakenBookData& d = xbt_usd();
  kraken::FrameParser parser;
  kraken::KrakenBook book;
  if (!book.apply(d.snapshot).is_ok()) state.SkipWithError("snapshot");
  kraken::ParsedMessage m;
  size_t i = 0;
  int64_t deltas = 0;
  for (auto _ : state) {
    if (i == d.update_frames.size()) {
      state.PauseTiming();
      (void)book.apply(d.snapshot);
      i = 0;
      state.ResumeTiming();
    }
    Status st = parser.parse(d.update_frames[i++], 0, m);
    deltas += static_cast<int64_t>(m.asks.size() + m.bids.size());
    if (st.is_ok()) st = book.apply(m);
    if (!st.is_ok()) state.SkipWithError("parse or checksum");
    benchmark::DoNotOptimize(st);
  }
  // Items = book deltas (levels); messages_per_s = updates.
  state.SetItemsProcessed(deltas);
  state.counters["messages_per_s"] = benchmark::Counter(static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
}

// Parse only (frame → ParsedMessage with its levels), the recorded XBT/USD updates. Items = book
// deltas (levels), the unit of the issue's ≥ 1 M/s target; Arg 1: the hand-written path, 0:
// simdjson only.
void BM_KrakenParseBookUpdate(benchmark::State& state) {
  const KrakenBookData& d = xbt_usd();
  kraken::FrameParser parser;
  parser.set_fast_path(state.range(0) != 0);
  kraken::ParsedMessage m;
  size_t i = 0;
  int64_t deltas = 0;
  for (auto _ : state) {
    if (i == d.update_frames.size()) i = 0;
    Status st = parser.parse(d.update_frames[i++], 0, m);
    if (!st.is_ok()) state.SkipWithError("parse");
    deltas += static_cast<int64_t>(m.asks.size() + m.bids.size());
    benchmark::DoNotOptimize(st);
  }
  state.SetItemsProcessed(deltas);
  state.counters["messages_per_s"] = benchmark::Counter(static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
}

// The CRC32 checksum alone over a full book (top 10 of each side).
void BM_KrakenChecksumDepth10(benchmark::State& state) {
  kraken::KrakenBook book;
  (void)book.apply(xbt_usd().snapshot);
  for (auto _ : state) benchmark::DoNotOptimize(book::kraken_checksum(book.book()));
  state.SetItemsProcessed(state.iterations());
}

// Arg 1: the hand-written path (default); 0: simdjson only. Items = trades (one per message).
// 4096 frames with successive microseconds (the same frame over and over would hit the
// 1000-trades-per-microsecond limit and measure the error path).
void BM_KrakenParseTrade(benchmark::State& state) {
  std::vector<std::string> frames;
  for (int i = 0; i < 4096; ++i) {
    frames.push_back(R"([321,[["58721.20000","0.02798644","1617666)" + std::to_string(461465618 + i).insert(3, ".") +
                     R"(","s","m",""]],"trade","XBT/USD"])");
  }
  kraken::FrameParser parser;
  parser.set_fast_path(state.range(0) != 0);
  kraken::ParsedMessage m;
  size_t i = 0;
  for (auto _ : state) {
    Status st = parser.parse(frames[i++ & 4095], 1, m);
    if (!st.is_ok()) state.SkipWithError("parse");
    benchmark::DoNotOptimize(st);
  }
  state.SetItemsProcessed(state.iterations());
}

void BM_CoinbaseParseMatch(benchmark::State& state) {
  const std::string f =
      R"({"type":"match","trade_id":280232,"maker_order_id":"2a0da34e-61f7-4c36-88e5-c9dd15927b16","taker_order_id":"3c82abaa-c01e-4608-be59-6a1e69742891","side":"sell","size":"985","price":"0.00001305","product_id":"SKL-BTC","sequence":177100030,"time":"2021-04-17T16:43:37.089723Z"})";
  coinbase::FrameParser parser;
  coinbase::ParsedMessage m;
  for (auto _ : state) {
    Status st = parser.parse(f, 1, m);
    benchmark::DoNotOptimize(st);
  }
  state.SetItemsProcessed(state.iterations());
}

// The same match with the fast path off (simdjson DOM only): the baseline of the figure above.
void BM_CoinbaseParseMatchSimdjson(benchmark::State& state) {
  const std::string f =
      R"({"type":"match","trade_id":280232,"maker_order_id":"2a0da34e-61f7-4c36-88e5-c9dd15927b16","taker_order_id":"3c82abaa-c01e-4608-be59-6a1e69742891","side":"sell","size":"985","price":"0.00001305","product_id":"SKL-BTC","sequence":177100030,"time":"2021-04-17T16:43:37.089723Z"})";
  coinbase::FrameParser parser;
  parser.set_fast_path(false);
  coinbase::ParsedMessage m;
  for (auto _ : state) {
    Status st = parser.parse(f, 1, m);
    benchmark::DoNotOptimize(st);
  }
  state.SetItemsProcessed(state.iterations());
}

void BM_CoinbaseParseL2UpdateAndApply(benchmark::State& state) {
  const std::string f =
      R"({"type":"l2update","product_id":"SKL-BTC","changes":[["sell","0.00001306","660.5"]],"time":"2021-04-17T16:43:37.075687Z"})";
  coinbase::FrameParser parser;
  coinbase::ParsedMessage m;
  book::OrderBook b;
  for (auto _ : state) {
    Status st = parser.parse(f, 1, m);
    if (st.is_ok()) st = coinbase::apply_to_book(m, b);
    benchmark::DoNotOptimize(st);
  }
  state.SetItemsProcessed(state.iterations());
}

BENCHMARK(BM_KrakenBookUpdateAndChecksum);
BENCHMARK(BM_KrakenParseUpdateAndChecksum);
BENCHMARK(BM_KrakenParseBookUpdate)->Arg(1)->Arg(0);
BENCHMARK(BM_KrakenChecksumDepth10);
BENCHMARK(BM_KrakenParseTrade)->Arg(1)->Arg(0);
BENCHMARK(BM_CoinbaseParseMatch);
BENCHMARK(BM_CoinbaseParseMatchSimdjson);
BENCHMARK(BM_CoinbaseParseL2UpdateAndApply);

}  // namespace
