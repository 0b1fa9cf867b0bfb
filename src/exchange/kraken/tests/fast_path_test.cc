// The hand-written trade and book-update paths of FrameParser (set_fast_path) against the
// simdjson path: every frame of the recording, every truncation and single-byte mutation of its
// trade frames and of a sample of its book updates (one-sided, two-sided, republished levels),
// and synthetic frames give identical results (status, reason, every field, the keys, the levels).
#include <gtest/gtest.h>
#include <simdjson.h>

#include <fstream>
#include <string>
#include <vector>

#include "exchange/kraken/parse.h"

namespace tickflow::exchange::kraken {
namespace {

std::vector<std::string> recorded_in_frames() {
  std::ifstream in(std::string(TICKFLOW_SOURCE_DIR) + "/testdata/exchanges/kraken/kraken_2021-04-05.jsonl");
  EXPECT_TRUE(in.good());
  simdjson::dom::parser parser;
  std::vector<std::string> out;
  std::string line;
  while (std::getline(in, line)) {
    simdjson::dom::element rec = parser.parse(line);
    if (std::string_view(rec["direction"].get_string().value()) != "in") continue;
    out.emplace_back(rec["raw"].get_string().value());
  }
  return out;
}

void expect_same(FrameParser& fast, FrameParser& slow, const std::string& frame, size_t* fast_trades = nullptr) {
  ParsedMessage a, b;
  const Status sa = fast.parse(frame, 7, a);
  const Status sb = slow.parse(frame, 7, b);
  ASSERT_EQ(sa.is_ok(), sb.is_ok()) << frame;
  if (!sa.is_ok()) {
    EXPECT_EQ(fast.error_reason(), slow.error_reason()) << frame;
    EXPECT_EQ(sa.message(), sb.message()) << frame;
    return;
  }
  ASSERT_EQ(a.kind, b.kind) << frame;
  EXPECT_EQ(a.channel_id, b.channel_id);
  EXPECT_EQ(a.channel_name, b.channel_name);
  EXPECT_EQ(a.pair, b.pair);
  EXPECT_EQ(a.symbol, b.symbol);
  ASSERT_EQ(a.trades.size(), b.trades.size()) << frame;
  for (size_t i = 0; i < a.trades.size(); ++i) {
    const Trade& x = a.trades[i];
    const Trade& y = b.trades[i];
    EXPECT_EQ(x.trade_id, y.trade_id) << frame;
    EXPECT_EQ(x.first_trade_id, y.first_trade_id);
    EXPECT_EQ(x.last_trade_id, y.last_trade_id);
    EXPECT_EQ(x.price.to_string(), y.price.to_string());
    EXPECT_EQ(x.quantity.to_string(), y.quantity.to_string());
    EXPECT_EQ(x.taker_side, y.taker_side);
    EXPECT_EQ(x.ts_event, y.ts_event);
    EXPECT_EQ(x.ts_recv, y.ts_recv);
    EXPECT_EQ(x.exchange, y.exchange);
    EXPECT_EQ(x.symbol, y.symbol);
    EXPECT_EQ(x.exchange_symbol, y.exchange_symbol);
    EXPECT_EQ(x.aggregated, y.aggregated);
  }
  EXPECT_EQ(a.book_depth, b.book_depth) << frame;
  EXPECT_EQ(a.has_checksum, b.has_checksum) << frame;
  EXPECT_EQ(a.checksum, b.checksum) << frame;
  auto same_levels = [&](const std::vector<BookEntry>& x, const std::vector<BookEntry>& y) {
    ASSERT_EQ(x.size(), y.size()) << frame;
    for (size_t i = 0; i < x.size(); ++i) {
      EXPECT_EQ(x[i].price.to_string(), y[i].price.to_string()) << frame;
      EXPECT_EQ(x[i].volume.to_string(), y[i].volume.to_string()) << frame;
      EXPECT_EQ(x[i].ts, y[i].ts) << frame;
      EXPECT_EQ(x[i].republished, y[i].republished) << frame;
    }
  };
  same_levels(a.asks, b.asks);
  same_levels(a.bids, b.bids);
  if (fast_trades != nullptr) *fast_trades += a.trades.size();
}

// Every prefix of `f`, and `f` with each byte replaced by each of `bytes`.
void expect_same_on_truncations_and_mutations(FrameParser& fast, FrameParser& slow, const std::string& f,
                                              std::string_view bytes) {
  for (size_t len = 0; len < f.size(); ++len) expect_same(fast, slow, f.substr(0, len));
  for (size_t i = 0; i < f.size(); ++i) {
    for (char c : bytes) {
      std::string m = f;
      m[i] = c;
      expect_same(fast, slow, m);
    }
  }
}

TEST(KrakenFastPath, IdenticalToSimdjsonOnEveryRecordedFrame) {
  FrameParser fast, slow;
  slow.set_fast_path(false);
  size_t trades = 0;
  for (const auto& f : recorded_in_frames()) expect_same(fast, slow, f, &trades);
  EXPECT_GT(trades, 0u);
}

TEST(KrakenFastPath, IdenticalOnTruncationsAndMutationsOfTradeFrames) {
  FrameParser fast, slow;
  slow.set_fast_path(false);
  std::vector<std::string> trade_frames;
  for (const auto& f : recorded_in_frames()) {
    if (f.find(R"(,"trade",")") != std::string::npos && f[0] == '[') trade_frames.push_back(f);
  }
  trade_frames.push_back(
      R"([321,[["58721.20000","0.02798644","1617666461.465618","s","m",""],["58721.20000","0.1","1617666461.465618","b","l","x"],["5.1","2","1617666461.465619","s","m",""]],"trade","XBT/USD"])");
  ASSERT_GE(trade_frames.size(), 2u);
  for (const auto& f : trade_frames) expect_same_on_truncations_and_mutations(fast, slow, f, "0a\"[],.-\\/ 9eE\x80\x01");
}

TEST(KrakenFastPath, IdenticalOnTruncationsAndMutationsOfBookUpdates) {
  FrameParser fast, slow;
  slow.set_fast_path(false);
  std::vector<std::string> book_frames;
  size_t two_sided = 0, republished = 0, plain = 0;
  for (const auto& f : recorded_in_frames()) {
    if (f[0] != '[' || f.find(R"(,"book-)") == std::string::npos || f.find(R"("c":")") == std::string::npos) continue;
    const bool two = f.find("},{") != std::string::npos;
    const bool r = f.find(R"(","r"])") != std::string::npos;
    // A sample: the first 40 of each shape.
    if (two && two_sided < 40) {
      ++two_sided;
    } else if (r && !two && republished < 40) {
      ++republished;
    } else if (!two && !r && plain < 40) {
      ++plain;
    } else {
      continue;
    }
    book_frames.push_back(f);
  }
  EXPECT_GT(two_sided, 0u);
  EXPECT_GT(republished, 0u);
  book_frames.push_back(R"([7,{"a":[],"c":"0"},"book-10","XBT/USD"])");
  book_frames.push_back(R"([7,{"c":"4294967295","b":[["1.5","0","1617666461.465618"]]},"book-25","XBT/USD"])");
  book_frames.push_back(R"([7,{"a":[["1.5","2","1617666461.1"]],"c":"1"},{"b":[["1.4","3","1617666461.2","r"]]},"book-25","XBT/USD"])");
  size_t fast_ok = 0;
  for (const auto& f : book_frames) {
    ParsedMessage m;
    if (fast.parse(f, 7, m).is_ok() && m.kind == MessageKind::kBookUpdate) ++fast_ok;
    expect_same_on_truncations_and_mutations(fast, slow, f, "0a\"[]{},.-\\/ 9eErcb\x80\x01");
  }
  EXPECT_EQ(fast_ok, book_frames.size());
}

TEST(KrakenFastPath, SameMicrosecondOrdinalsContinueAcrossBothPaths) {
  // Keys are state: a frame taken by either path must leave the same per-pair ordinal.
  FrameParser mixed, slow;
  slow.set_fast_path(false);
  const std::string a = R"([321,[["1.0","1.0","1617666461.465618","s","m",""]],"trade","XBT/USD"])";
  const std::string b = R"([321, [["1.0","1.0","1617666461.465618","s","m",""]],"trade","XBT/USD"])";  // space: simdjson
  for (const auto& f : {a, b, a, b, a}) expect_same(mixed, slow, f);
}

}  // namespace
}  // namespace tickflow::exchange::kraken
