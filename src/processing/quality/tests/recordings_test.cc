// The real Binance recordings (testdata/exchanges/binance, cryptofeed sample data) are clean:
// every aggTrade passes the validator, and the quality score of every feed and series stays
// high (>= 0.99) through the checker, with the recordings' bookTicker frames as book tops
// (crossed-book check on real data) and every frame as liveness evidence.
#include <fstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <simdjson.h>

#include "exchange/binance/parse.h"
#include "processing/quality/checker.h"
#include "processing/quality/validator.h"

namespace tickflow::quality {
namespace {

namespace bn = exchange::binance;

struct Replay {
  int trades = 0;
  int book_tops = 0;
  int crossed = 0;
  int rejected = 0;
  std::vector<ScopeReport> reports;
};

Replay replay(const std::string& name) {
  Replay out;
  std::ifstream in(std::string(TICKFLOW_SOURCE_DIR) + "/testdata/exchanges/binance/" + name);
  EXPECT_TRUE(in.good()) << name;
  bn::FrameParser parser;
  bn::ParsedFrame frame;
  simdjson::dom::parser dom, inner;
  std::unique_ptr<QualityChecker> q;
  TimestampNs last = 0;
  std::string line;
  while (std::getline(in, line)) {
    simdjson::dom::element rec = dom.parse(line);
    if (std::string_view(rec["direction"].get_string().value()) != "in") continue;
    const TimestampNs recv = rec["recv_ts_ns"].get_int64().value();
    const std::string raw(rec["raw"].get_string().value());
    if (!q) q = std::make_unique<QualityChecker>(QualityConfig{}, recv);
    last = recv;
    q->on_feed_alive(Exchange::kBinance, recv);
    if (!parser.parse(raw, recv, frame).is_ok()) continue;
    if (frame.kind == bn::MessageKind::kAggTrade) {
      ++out.trades;
      if (validate_trade(frame.trade, {}) != Rejection::kNone) {
        ++out.rejected;
        continue;
      }
      q->on_trade(frame.trade, recv);
    } else if (frame.kind == bn::MessageKind::kBookTicker) {
      simdjson::dom::element doc = inner.parse(raw);
      simdjson::dom::element data = doc["data"].error() ? doc : doc["data"].value();
      const std::string_view s = data["s"].get_string().value();
      Decimal bid, ask;
      if (!Decimal::parse(data["b"].get_string().value(), bid) || !Decimal::parse(data["a"].get_string().value(), ask))
        continue;
      const std::string unified = unify_binance_symbol(s);
      if (unified.empty()) continue;
      ++out.book_tops;
      if (q->on_book_top(Exchange::kBinance, unified, bid, ask, recv)) ++out.crossed;
    }
  }
  if (q) out.reports = q->report(last);
  return out;
}

class RecordingsQualityTest : public ::testing::TestWithParam<std::string> {};

TEST_P(RecordingsQualityTest, CleanRecordingScoresHigh) {
  Replay r = replay(GetParam());
  ASSERT_GT(r.trades, 0);
  EXPECT_EQ(r.rejected, 0);
  EXPECT_EQ(r.crossed, 0);
  ASSERT_FALSE(r.reports.empty());
  for (const ScopeReport& s : r.reports) {
    EXPECT_GE(s.reading.score, 0.99) << s.reading.scope << " " << s.reading.symbol << " duplicates "
                                     << s.total_counts[0] << " gaps " << s.total_counts[1] << " ooo "
                                     << s.total_counts[2] << " outliers " << s.total_counts[3];
    EXPECT_FALSE(s.reading.stale) << s.reading.symbol;
  }
  EXPECT_GT(r.book_tops, 0);
  // Over the whole file too (not only the last window): at most 1 % findings per trade.
  uint64_t findings = 0, trades = 0;
  for (const ScopeReport& s : r.reports) {
    if (s.reading.scope != "feed") continue;
    trades += s.total_trades;
    for (size_t c = 0; c < kCheckCount; ++c) findings += s.total_counts[c];
  }
  EXPECT_LE(static_cast<double>(findings), 0.01 * static_cast<double>(trades)) << findings << " / " << trades;
  RecordProperty("findings", static_cast<int>(findings));
}

INSTANTIATE_TEST_SUITE_P(Binance, RecordingsQualityTest,
                         ::testing::Values("binance_2021-04-05.jsonl", "binance_2021-08-14.jsonl",
                                           "binance_2021-10-12.jsonl", "binanceus_2021-04-05.jsonl",
                                           "binanceus_2021-04-17.jsonl", "binanceus_2021-10-12.jsonl"),
                         [](const auto& info) {
                           std::string n = info.param.substr(0, info.param.find('.'));
                           for (char& c : n)
                             if (c == '-') c = '_';
                           return n;
                         });

}  // namespace
}  // namespace tickflow::quality
