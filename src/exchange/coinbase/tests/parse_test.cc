// Coinbase Exchange feed parser, level2 book and gap detection against the real recording
// testdata/exchanges/coinbase/ (legacy ws-feed.pro.coinbase.com, same message formats).
#include "exchange/coinbase/parse.h"

#include <gtest/gtest.h>
#include <simdjson.h>

#include <fstream>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "exchange/coinbase/sequence.h"

namespace tickflow::exchange::coinbase {
namespace {

struct Recorded {
  std::string raw;
  TimestampNs recv = 0;
};

const std::vector<Recorded>& recording() {
  static const std::vector<Recorded> frames = [] {
    std::ifstream in(std::string(TICKFLOW_SOURCE_DIR) +
                     "/testdata/exchanges/coinbase/coinbase_exchange_2021-04-17_part1.jsonl");
    EXPECT_TRUE(in.good());
    std::vector<Recorded> out;
    simdjson::dom::parser parser;
    std::string line;
    while (std::getline(in, line)) {
      simdjson::dom::element rec = parser.parse(line);
      if (std::string_view(rec["direction"].get_string().value()) != "in") continue;
      out.push_back(
          {std::string(rec["raw"].get_string().value()), rec["recv_ts_ns"].get_int64().value()});
    }
    return out;
  }();
  return frames;
}

TEST(CoinbaseParse, EveryRecordedFrameParsesAndCountsMatchTheReadme) {
  FrameParser parser;
  std::map<MessageKind, int> kinds;
  std::set<std::string> traded;
  std::set<int64_t> match_ids, ticker_ids;
  for (const Recorded& r : recording()) {
    ParsedMessage m;
    Status st = parser.parse(r.raw, r.recv, m);
    ASSERT_TRUE(st.is_ok()) << st.to_string() << " [" << parser.error_reason() << "] in "
                            << r.raw.substr(0, 300);
    ++kinds[m.kind];
    if (m.is_trade()) {
      traded.insert(m.product_id);
      EXPECT_TRUE(match_ids.insert(m.trade.trade_id).second);
      EXPECT_EQ(m.trade.ts_recv, r.recv);
      EXPECT_GT(m.sequence, 0);
    }
    if (m.kind == MessageKind::kTicker) {
      EXPECT_TRUE(ticker_ids.insert(m.ticker.trade_id).second);
      EXPECT_NE(m.ticker.taker_side, Side::kUnknown);
    }
  }
  // README table: trade 46 (= 10 last_match + 36 match), snapshot 10, update 6358, ticker 46,
  // sub_ack 3; traded symbols: all ten products.
  EXPECT_EQ(kinds[MessageKind::kMatch] + kinds[MessageKind::kLastMatch], 46);
  EXPECT_EQ(kinds[MessageKind::kLastMatch], 10);
  EXPECT_EQ(kinds[MessageKind::kSnapshot], 10);
  EXPECT_EQ(kinds[MessageKind::kL2Update], 6358);
  EXPECT_EQ(kinds[MessageKind::kTicker], 46);
  EXPECT_EQ(kinds[MessageKind::kSubscriptions], 3);
  EXPECT_EQ(kinds[MessageKind::kHeartbeat], 0);
  EXPECT_EQ(kinds[MessageKind::kError], 0);
  EXPECT_EQ(traded.size(), 10u);
  // Every match has a ticker twin: counting tickers as trades would double count.
  EXPECT_EQ(match_ids, ticker_ids);
}

// Maker-side semantics: the ticker (taker side) and its match twin (maker side) disagree on
// `side` for every trade, and the normalized taker side equals the ticker's.
TEST(CoinbaseParse, TakerSideIsOppositeOfMakerSide) {
  FrameParser parser;
  std::map<int64_t, Side> match_taker, ticker_taker;
  for (const Recorded& r : recording()) {
    ParsedMessage m;
    ASSERT_TRUE(parser.parse(r.raw, r.recv, m).is_ok());
    if (m.is_trade()) match_taker[m.trade.trade_id] = m.trade.taker_side;
    if (m.kind == MessageKind::kTicker) ticker_taker[m.ticker.trade_id] = m.ticker.taker_side;
  }
  ASSERT_EQ(match_taker.size(), 46u);
  EXPECT_EQ(match_taker, ticker_taker);
}

TEST(CoinbaseParse, KnownMatchFromRecording) {
  FrameParser parser;
  bool found = false;
  for (const Recorded& r : recording()) {
    if (r.raw.find("\"trade_id\":280232,") == std::string::npos ||
        r.raw.find("\"type\":\"match\"") == std::string::npos)
      continue;
    ParsedMessage m;
    ASSERT_TRUE(parser.parse(r.raw, r.recv, m).is_ok());
    ASSERT_EQ(m.kind, MessageKind::kMatch);
    const Trade& t = m.trade;
    EXPECT_EQ(t.exchange, Exchange::kCoinbase);
    EXPECT_EQ(t.symbol, "SKL-BTC");
    EXPECT_EQ(t.exchange_symbol, "SKL-BTC");
    EXPECT_EQ(t.trade_id, 280232);
    EXPECT_EQ(t.first_trade_id, 280232);
    EXPECT_EQ(t.last_trade_id, 280232);
    EXPECT_EQ(t.price.to_string(), "0.00001305");
    EXPECT_EQ(t.quantity.to_string(), "985");
    EXPECT_EQ(t.taker_side, Side::kBuy);  // "side":"sell" is the maker
    EXPECT_EQ(m.sequence, 177100030);
    EXPECT_EQ(t.ts_event, parse_iso8601("2021-04-17T16:43:37.089723Z").value());
    EXPECT_EQ(t.ts_event % kNsPerSec, 89723000);
    found = true;
  }
  EXPECT_TRUE(found);
}

TEST(CoinbaseParse, TradeIdsStrictlyIncreaseAndAreContiguousPerProduct) {
  FrameParser parser;
  SequenceTracker ids;
  int trades = 0;
  for (const Recorded& r : recording()) {
    ParsedMessage m;
    ASSERT_TRUE(parser.parse(r.raw, r.recv, m).is_ok());
    if (!m.is_trade()) continue;
    const int64_t before = ids.last(m.product_id);
    SeqCheck c = ids.observe(m.product_id, m.trade.trade_id);
    if (before < 0) {
      EXPECT_EQ(c.verdict, SeqVerdict::kFirst);
      EXPECT_EQ(m.kind, MessageKind::kLastMatch);  // last_match comes first
    } else {
      EXPECT_EQ(c.verdict, SeqVerdict::kNext) << m.product_id << " " << m.trade.trade_id;
      EXPECT_GT(m.trade.trade_id, before);
    }
    ++trades;
  }
  EXPECT_EQ(trades, 46);
}

// Removing one match message from the stream is detected as a trade-id gap of exactly that id.
TEST(CoinbaseParse, RemovedMatchIsDetectedAsAGap) {
  FrameParser parser;
  std::vector<ParsedMessage> trades;
  for (const Recorded& r : recording()) {
    ParsedMessage m;
    ASSERT_TRUE(parser.parse(r.raw, r.recv, m).is_ok());
    if (m.is_trade()) trades.push_back(m);
  }
  int checked = 0;
  for (size_t removed = 0; removed < trades.size(); ++removed) {
    if (trades[removed].kind != MessageKind::kMatch) continue;
    // Only a removed trade that is followed by another trade of its product can be seen by id.
    bool followed = false;
    for (size_t j = removed + 1; j < trades.size(); ++j)
      followed |= trades[j].product_id == trades[removed].product_id;
    SequenceTracker ids;
    std::vector<SeqCheck> jumps;
    for (size_t i = 0; i < trades.size(); ++i) {
      if (i == removed) continue;
      SeqCheck c = ids.observe(trades[i].product_id, trades[i].trade.trade_id);
      if (c.verdict == SeqVerdict::kJump) jumps.push_back(c);
      EXPECT_NE(c.verdict, SeqVerdict::kStale);
    }
    if (!followed) {
      EXPECT_TRUE(jumps.empty());
      continue;
    }
    ASSERT_EQ(jumps.size(), 1u);
    EXPECT_EQ(jumps[0].missing_from, trades[removed].trade.trade_id);
    EXPECT_EQ(jumps[0].missing_to, trades[removed].trade.trade_id);
    ++checked;
  }
  EXPECT_GE(checked, 20);
}

// The sequence of a product's match messages only increases; a replayed one is stale.
TEST(CoinbaseParse, MatchSequencesIncreasePerProductAndReplaysAreStale) {
  FrameParser parser;
  SequenceTracker seq;
  std::vector<std::pair<std::string, int64_t>> seen;
  for (const Recorded& r : recording()) {
    ParsedMessage m;
    ASSERT_TRUE(parser.parse(r.raw, r.recv, m).is_ok());
    if (!m.is_trade()) continue;
    EXPECT_NE(seq.observe(m.product_id, m.sequence).verdict, SeqVerdict::kStale);
    seen.emplace_back(m.product_id, m.sequence);
  }
  for (const auto& [product, s] : seen)
    EXPECT_EQ(seq.observe(product, s).verdict, SeqVerdict::kStale);
}

TEST(CoinbaseBook, Level2BookStaysUncrossed) {
  FrameParser parser;
  std::map<std::string, book::OrderBook> books;
  size_t updates = 0;
  for (const Recorded& r : recording()) {
    ParsedMessage m;
    ASSERT_TRUE(parser.parse(r.raw, r.recv, m).is_ok());
    if (m.kind != MessageKind::kSnapshot && m.kind != MessageKind::kL2Update) continue;
    book::OrderBook& b = books[m.product_id];
    if (m.kind == MessageKind::kL2Update) {
      ASSERT_FALSE(b.empty()) << "l2update before snapshot for " << m.product_id;
      ++updates;
    }
    ASSERT_TRUE(apply_to_book(m, b).is_ok());
    ASSERT_FALSE(b.crossed()) << m.product_id << " crossed after " << r.raw;
    ASSERT_TRUE(b.best_bid().has_value());
    ASSERT_TRUE(b.best_ask().has_value());
  }
  EXPECT_EQ(books.size(), 10u);
  EXPECT_EQ(updates, 6358u);
}

// A Coinbase match price lies at the maker side of the book just before it: a maker "sell"
// (taker buy) prints at or above the best bid; a maker "buy" at or below the best ask.
TEST(CoinbaseBook, MatchPricesSitWithinTheBook) {
  FrameParser parser;
  std::map<std::string, book::OrderBook> books;
  int checked = 0;
  for (const Recorded& r : recording()) {
    ParsedMessage m;
    ASSERT_TRUE(parser.parse(r.raw, r.recv, m).is_ok());
    if (m.kind == MessageKind::kSnapshot || m.kind == MessageKind::kL2Update) {
      ASSERT_TRUE(apply_to_book(m, books[m.product_id]).is_ok());
    } else if (m.kind == MessageKind::kMatch && books.count(m.product_id)) {
      const book::OrderBook& b = books[m.product_id];
      if (m.trade.taker_side == Side::kBuy) {
        EXPECT_GT(m.trade.price, b.best_bid()->price) << r.raw;
      } else {
        EXPECT_LT(m.trade.price, b.best_ask()->price) << r.raw;
      }
      ++checked;
    }
  }
  EXPECT_GE(checked, 30);
}

// Formats from Coinbase's Exchange WebSocket documentation.
TEST(CoinbaseParse, HeartbeatErrorAndSubscriptions) {
  FrameParser parser;
  ParsedMessage m;
  ASSERT_TRUE(
      parser
          .parse(
              R"({"type":"heartbeat","sequence":90,"last_trade_id":20,"product_id":"BTC-USD","time":"2014-11-07T08:19:28.464459Z"})",
              0, m)
          .is_ok());
  EXPECT_EQ(m.kind, MessageKind::kHeartbeat);
  EXPECT_EQ(m.sequence, 90);
  EXPECT_EQ(m.last_trade_id, 20);
  EXPECT_EQ(m.product_id, "BTC-USD");
  ASSERT_TRUE(
      parser
          .parse(
              R"({"type":"error","message":"Failed to subscribe","reason":"ETH-BTC is not a valid product"})",
              0, m)
          .is_ok());
  EXPECT_EQ(m.kind, MessageKind::kError);
  EXPECT_EQ(m.error_message, "Failed to subscribe");
  EXPECT_EQ(m.error_reason, "ETH-BTC is not a valid product");
  ASSERT_TRUE(
      parser
          .parse(
              R"({"type":"subscriptions","channels":[{"name":"level2","product_ids":["BAND-GBP","BAND-BTC"]},{"name":"heartbeat","product_ids":["BAND-GBP"]}]})",
              0, m)
          .is_ok());
  ASSERT_EQ(m.subscriptions.size(), 2u);
  EXPECT_EQ(m.subscriptions[0].name, "level2");
  EXPECT_EQ(m.subscriptions[0].product_ids, (std::vector<std::string>{"BAND-GBP", "BAND-BTC"}));
  EXPECT_EQ(m.subscriptions[1].name, "heartbeat");
}

TEST(CoinbaseSequence, HeartbeatLastTradeIdRevealsMissedTrades) {
  SequenceTracker ids;
  EXPECT_EQ(ids.observe("BTC-USD", 100).verdict, SeqVerdict::kFirst);
  EXPECT_EQ(ids.expect_at_least("BTC-USD", 100).verdict, SeqVerdict::kNext);
  EXPECT_EQ(ids.expect_at_least("BTC-USD", 0).verdict, SeqVerdict::kStale);  // 0 = unknown
  SeqCheck c = ids.expect_at_least("BTC-USD", 103);
  EXPECT_EQ(c.verdict, SeqVerdict::kJump);
  EXPECT_EQ(c.missing_from, 101);
  EXPECT_EQ(c.missing_to, 103);
  EXPECT_EQ(c.missing(), 3);
  EXPECT_EQ(ids.observe("BTC-USD", 101).verdict, SeqVerdict::kStale);  // the caller backfills
  EXPECT_EQ(ids.observe("BTC-USD", 104).verdict, SeqVerdict::kNext);
  EXPECT_EQ(ids.last("ETH-USD"), -1);
}

TEST(CoinbaseParse, MalformedFramesFailWithBoundedReasons) {
  const std::vector<std::pair<std::string, std::string_view>> cases = {
      {"", "malformed_json"},
      {R"({"type":"match")", "malformed_json"},
      {"[]", "bad_field"},
      {R"({"product_id":"BTC-USD"})", "missing_field"},
      {R"({"type":7})", "bad_field"},
      {R"({"type":"done"})", "unknown_type"},
      {R"({"type":"match","trade_id":1,"side":"sell","size":"1","price":"1","product_id":"BTC-USD","sequence":1})",
       "missing_field"},
      {R"({"type":"match","trade_id":1,"side":"sell","size":"1","price":"1","product_id":"BTC-USD","sequence":1,"time":"noon"})",
       "bad_time"},
      {R"({"type":"match","trade_id":1,"side":"up","size":"1","price":"1","product_id":"BTC-USD","sequence":1,"time":"2021-04-17T16:43:37.089723Z"})",
       "bad_field"},
      {R"({"type":"match","trade_id":-1,"side":"buy","size":"1","price":"1","product_id":"BTC-USD","sequence":1,"time":"2021-04-17T16:43:37.089723Z"})",
       "bad_field"},
      {R"({"type":"match","trade_id":1,"side":"buy","size":"1","price":"1.2.3","product_id":"BTC-USD","sequence":1,"time":"2021-04-17T16:43:37.089723Z"})",
       "bad_decimal"},
      {R"({"type":"match","trade_id":1,"side":"buy","size":"1","price":"1","product_id":"BTCUSD","sequence":1,"time":"2021-04-17T16:43:37.089723Z"})",
       "bad_symbol"},
      {R"({"type":"match","trade_id":1,"side":"buy","size":"0","price":"1","product_id":"BTC-USD","sequence":1,"time":"2021-04-17T16:43:37.089723Z"})",
       "bad_field"},
      {R"({"type":"l2update","product_id":"BTC-USD","changes":[["buy","1"]]})", "bad_field"},
      {R"({"type":"l2update","product_id":"BTC-USD","changes":[["bid","1","1"]]})", "bad_field"},
      {R"({"type":"l2update","product_id":"BTC-USD","changes":[["buy","1","-1"]]})", "bad_decimal"},
      {R"({"type":"l2update","product_id":"BTC-USD","changes":[]})", "bad_field"},
      {R"({"type":"l2update","product_id":"BTC-USD"})", "missing_field"},
      {R"({"type":"snapshot","product_id":"BTC-USD","bids":[]})", "missing_field"},
      {R"({"type":"snapshot","product_id":"BTC-USD","bids":[[1,2]],"asks":[]})", "bad_field"},
      {R"({"type":"heartbeat","sequence":90,"product_id":"BTC-USD","time":"2014-11-07T08:19:28.464459Z"})",
       "missing_field"},
      {R"({"type":"ticker","product_id":"BTC-USD","price":"1"})", "missing_field"},
      {R"({"type":"subscriptions","channels":[{"product_ids":[]}]})", "bad_field"},
      {R"({"type":"error"})", "missing_field"},
  };
  FrameParser parser;
  for (const auto& [frame, reason] : cases) {
    ParsedMessage m;
    Status st = parser.parse(frame, 0, m);
    EXPECT_FALSE(st.is_ok()) << frame;
    EXPECT_EQ(st.code(), ErrorCode::kParse) << frame;
    EXPECT_EQ(parser.error_reason(), reason) << frame << ": " << st.to_string();
  }
}

TEST(CoinbaseParse, EveryTruncationOfRecordedFramesIsAnErrorNeverACrash) {
  FrameParser parser;
  int frames = 0;
  for (const Recorded& r : recording()) {
    if (r.raw.size() > 600 || ++frames > 200) continue;
    for (size_t n = 0; n < r.raw.size(); ++n) {
      ParsedMessage m;
      EXPECT_FALSE(parser.parse(std::string_view(r.raw).substr(0, n), 0, m).is_ok())
          << r.raw.substr(0, n);
      EXPECT_FALSE(parser.error_reason().empty());
    }
  }
}

// The hand-written match fast path (parse_fast.cc) and the simdjson path agree on every recorded
// frame and on mutations of every recorded match (each truncation, each byte replaced by a
// character that matters to JSON or to the fast path), field by field or error reason.
std::string describe(const Status& st, std::string_view reason, const ParsedMessage& m) {
  if (!st.is_ok()) return "error " + std::string(reason);
  const Trade& t = m.trade;
  return std::string(message_kind_name(m.kind)) + " " + m.product_id + " seq=" + std::to_string(m.sequence) +
         " time=" + std::to_string(m.time) + " id=" + std::to_string(t.trade_id) + "/" +
         std::to_string(t.first_trade_id) + "/" + std::to_string(t.last_trade_id) + " p=" + t.price.to_string() +
         " q=" + t.quantity.to_string() + " side=" + std::string(side_name(t.taker_side)) + " ex=" +
         std::to_string(static_cast<int>(t.exchange)) + " sym=" + t.symbol + "/" + t.exchange_symbol +
         " ts=" + std::to_string(t.ts_event) + "/" + std::to_string(t.ts_recv) + " agg=" +
         std::to_string(t.aggregated) + " changes=" + std::to_string(m.changes.size());
}

TEST(CoinbaseParse, FastPathGivesTheSameResultsAsSimdjson) {
  FrameParser fast, slow;
  slow.set_fast_path(false);
  ParsedMessage a, b;
  size_t compared = 0, matches = 0;
  auto same = [&](const std::string& f) {
    const Status sa = fast.parse(f, 42, a);
    const Status sb = slow.parse(f, 42, b);
    ASSERT_EQ(describe(sa, fast.error_reason(), a), describe(sb, slow.error_reason(), b)) << f;
    ++compared;
  };
  std::vector<std::string> match_frames;
  for (const Recorded& r : recording()) {
    same(r.raw);
    if (r.raw.rfind(R"({"type":"match")", 0) == 0 || r.raw.rfind(R"({"type":"last_match")", 0) == 0) {
      match_frames.push_back(r.raw);
    }
  }
  ASSERT_EQ(match_frames.size(), 46u);
  for (const std::string& f : match_frames) {
    ++matches;
    for (size_t n = 0; n < f.size(); ++n) same(f.substr(0, n));
    for (size_t i = 0; i < f.size(); ++i) {
      for (char ch : {'"', '\\', ' ', '0', '9', '-', '.', 'x', '}', ',', '\x01', '\xc3'}) {
        std::string g = f;
        g[i] = ch;
        same(g);
      }
    }
  }
  // Edge cases around what the fast path accepts.
  const std::string base = match_frames.front();
  for (auto [from, to] : std::vector<std::pair<std::string, std::string>>{
           {R"("trade_id":)", R"("trade_id":0)"},           // leading zero
           {R"("size":")", R"("size":"-)"},                 // negative size
           {R"("price":")", R"("price":"0)"},               // leading zero price (valid decimal)
           {R"("side":")", R"("side":"B)"},                 // bad side
           {R"("time":")", R"("time":"x)"},                 // bad time
           {R"("product_id":")", R"("product_id":"a)"}}) {  // lower case product
    std::string g = base;
    g.replace(g.find(from), from.size(), to);
    same(g);
  }
  same(base + " ");
  same(" " + base);
  std::string big = base;
  big.replace(big.find(R"("trade_id":)") + 11, 0, "99999999999999999999");  // overflow
  same(big);
  EXPECT_GT(compared, 100000u);
  EXPECT_EQ(matches, 46u);
}

}  // namespace
}  // namespace tickflow::exchange::coinbase
