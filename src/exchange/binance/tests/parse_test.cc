#include "exchange/binance/parse.h"

#include <simdjson.h>

#include <atomic>
#include <cstdlib>
#include <fstream>
#include <new>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace tickflow::exchange::binance {
namespace {

// Counts heap allocations while enabled (replaces the global operator new for this binary).
std::atomic<bool> g_count_allocs{false};
std::atomic<long> g_allocs{0};

}  // namespace
}  // namespace tickflow::exchange::binance

void* operator new(size_t n) {
  if (tickflow::exchange::binance::g_count_allocs.load(std::memory_order_relaxed)) tickflow::exchange::binance::g_allocs.fetch_add(1);
  if (void* p = std::malloc(n == 0 ? 1 : n)) return p;
  throw std::bad_alloc();
}

namespace tickflow::exchange::binance {
namespace {

struct Recorded {
  std::string raw;
  TimestampNs recv = 0;
};

// Every direction "in" frame of a recording in testdata/exchanges/binance/.
std::vector<Recorded> read_recording(const std::string& name) {
  std::ifstream in(std::string(TICKFLOW_SOURCE_DIR) + "/testdata/exchanges/binance/" + name);
  EXPECT_TRUE(in.good()) << name;
  std::vector<Recorded> out;
  simdjson::dom::parser parser;
  std::string line;
  while (std::getline(in, line)) {
    simdjson::dom::element rec = parser.parse(line);
    if (std::string_view(rec["direction"].get_string().value()) != "in") continue;
    out.push_back({std::string(rec["raw"].get_string().value()), rec["recv_ts_ns"].get_int64().value()});
  }
  return out;
}

const std::vector<std::string> kRecordings = {"binance_2021-04-05.jsonl", "binance_2021-08-14.jsonl",
                                              "binance_2021-10-12.jsonl", "binanceus_2021-04-05.jsonl",
                                              "binanceus_2021-04-17.jsonl", "binanceus_2021-10-12.jsonl"};

MessageKind kind_of_stream(std::string_view raw) {
  if (raw.find("@aggTrade\"") != std::string_view::npos) return MessageKind::kAggTrade;
  if (raw.find("@trade\"") != std::string_view::npos) return MessageKind::kTrade;
  if (raw.find("@depth") != std::string_view::npos) return MessageKind::kDepthUpdate;
  if (raw.find("@bookTicker\"") != std::string_view::npos) return MessageKind::kBookTicker;
  if (raw.find("@kline_") != std::string_view::npos) return MessageKind::kKline;
  return MessageKind::kUnknown;
}

TEST(BinanceParse, EveryRecordedFrameParsesToItsStreamKind) {
  FrameParser parser;
  size_t agg = 0, total = 0;
  for (const std::string& file : kRecordings) {
    for (const Recorded& r : read_recording(file)) {
      ParsedFrame out;
      Status st = parser.parse(r.raw, r.recv, out);
      ASSERT_TRUE(st.is_ok()) << file << ": " << st.to_string() << " in " << r.raw;
      EXPECT_EQ(out.kind, kind_of_stream(r.raw)) << r.raw;
      if (out.kind == MessageKind::kAggTrade) {
        ++agg;
        EXPECT_TRUE(out.trade.aggregated);
        EXPECT_EQ(out.trade.ts_recv, r.recv);
        EXPECT_FALSE(out.trade.symbol.empty());
        EXPECT_GE(out.trade.last_trade_id, out.trade.first_trade_id);
      }
      ++total;
    }
  }
  EXPECT_EQ(agg, 1240u + 28 + 2 + 188 + 18 + 11);
  EXPECT_GT(total, 20000u);
}

TEST(BinanceParse, KnownAggTradeFromRecording) {
  FrameParser parser;
  bool found = false;
  for (const Recorded& r : read_recording("binance_2021-08-14.jsonl")) {
    if (r.raw.find("\"a\":31718372,") == std::string::npos) continue;
    ParsedFrame out;
    ASSERT_TRUE(parser.parse(r.raw, r.recv, out).is_ok());
    ASSERT_EQ(out.kind, MessageKind::kAggTrade);
    const Trade& t = out.trade;
    EXPECT_EQ(t.exchange, Exchange::kBinance);
    EXPECT_EQ(t.exchange_symbol, "FTMUSDT");
    EXPECT_EQ(t.symbol, "FTM-USDT");
    EXPECT_EQ(t.trade_id, 31718372);
    EXPECT_EQ(t.first_trade_id, 38248910);
    EXPECT_EQ(t.last_trade_id, 38248910);
    EXPECT_EQ(t.trade_count(), 1);
    EXPECT_EQ(t.price.to_string(), "0.33993000");
    EXPECT_EQ(t.price, Decimal(33993000, 8));
    EXPECT_EQ(t.quantity.to_string(), "99.90000000");
    EXPECT_EQ(t.taker_side, Side::kSell);  // m=true: the buyer was the maker
    EXPECT_EQ(t.ts_event, 1628952396572LL * kNsPerMs);
    EXPECT_EQ(t.ts_recv, 1628952397705977000LL);
    EXPECT_TRUE(t.aggregated);
    found = true;
  }
  EXPECT_TRUE(found);
}

TEST(BinanceParse, KlineDepthAndBookTickerFromRecording) {
  FrameParser parser;
  int klines = 0, depth = 0, book = 0;
  for (const Recorded& r : read_recording("binance_2021-08-14.jsonl")) {
    ParsedFrame out;
    ASSERT_TRUE(parser.parse(r.raw, r.recv, out).is_ok());
    if (out.kind == MessageKind::kKline && r.raw.find("\"E\":1628952396573,\"s\":\"FTMUSDT\"") != std::string::npos) {
      const Kline& k = out.kline;
      EXPECT_EQ(k.exchange_symbol, "FTMUSDT");
      EXPECT_EQ(k.interval, "1m");
      EXPECT_EQ(k.open_time_ms, 1628952360000);
      EXPECT_EQ(k.close_time_ms, 1628952419999);
      EXPECT_EQ(k.first_trade_id, 38248833);
      EXPECT_EQ(k.last_trade_id, 38248910);
      EXPECT_EQ(k.open.to_string(), "0.34064000");
      EXPECT_EQ(k.close.to_string(), "0.33993000");
      EXPECT_EQ(k.high.to_string(), "0.34070000");
      EXPECT_EQ(k.low.to_string(), "0.33934000");
      EXPECT_EQ(k.volume, "208601.00000000");
      EXPECT_EQ(k.quote_volume, "70846.76968900");
      EXPECT_EQ(k.taker_buy_volume, "156046.30000000");
      EXPECT_EQ(k.taker_buy_quote_volume, "52984.16932200");
      EXPECT_EQ(k.trades, 78);
      EXPECT_FALSE(k.closed);
      ++klines;
    }
    if (out.kind == MessageKind::kDepthUpdate) {
      EXPECT_LE(out.first_update_id, out.last_update_id);
      ++depth;
    }
    if (out.kind == MessageKind::kBookTicker) ++book;
  }
  EXPECT_EQ(klines, 1);
  EXPECT_EQ(depth, 546);
  EXPECT_EQ(book, 412);
}

TEST(BinanceParse, DepthUpdateIds) {
  FrameParser parser;
  ParsedFrame out;
  ASSERT_TRUE(parser
                  .parse(R"({"stream":"manausd@depth@100ms","data":{"e":"depthUpdate","E":1617643092236,"s":"MANAUSD","U":19636338,"u":19636340,"b":[["0.9890","800.00000000"]],"a":[]}})",
                         0, out)
                  .is_ok());
  EXPECT_EQ(out.kind, MessageKind::kDepthUpdate);
  EXPECT_EQ(out.first_update_id, 19636338);
  EXPECT_EQ(out.last_update_id, 19636340);
}

// The exact line format of shared/tools/gen_binance_trades.py (@trade stream).
constexpr std::string_view kGeneratorFrame =
    R"({"stream":"btcusdt@trade","data":{"e":"trade","E":1705276807330,"s":"BTCUSDT","t":3370000000,"p":"43000.10000000","q":"0.00100000","T":1705276807329,"m":false,"M":true}})";

TEST(BinanceParse, GeneratorTradeFrame) {
  FrameParser parser;
  ParsedFrame out;
  ASSERT_TRUE(parser.parse(kGeneratorFrame, 77, out).is_ok());
  ASSERT_EQ(out.kind, MessageKind::kTrade);
  const Trade& t = out.trade;
  EXPECT_EQ(t.symbol, "BTC-USDT");
  EXPECT_EQ(t.exchange_symbol, "BTCUSDT");
  EXPECT_EQ(t.trade_id, 3370000000);
  EXPECT_EQ(t.first_trade_id, 3370000000);
  EXPECT_EQ(t.last_trade_id, 3370000000);
  EXPECT_EQ(t.trade_count(), 1);
  EXPECT_EQ(t.price.to_string(), "43000.10000000");
  EXPECT_EQ(t.quantity.to_string(), "0.00100000");
  EXPECT_EQ(t.taker_side, Side::kBuy);  // m=false: the buyer was the taker
  EXPECT_EQ(t.ts_event, 1705276807329LL * kNsPerMs);
  EXPECT_EQ(t.ts_recv, 77);
  EXPECT_FALSE(t.aggregated);
}

TEST(BinanceParse, FastPathDoesNotAllocate) {
  FrameParser parser;
  ParsedFrame out;
  const std::string agg =
      R"({"stream":"ftmusdt@aggTrade","data":{"e":"aggTrade","E":1628952396573,"s":"FTMUSDT","a":31718372,"p":"0.33993000","q":"99.90000000","f":38248910,"l":38248910,"T":1628952396572,"m":true,"M":true}})";
  ASSERT_TRUE(parser.parse(kGeneratorFrame, 0, out).is_ok());  // symbol caches filled
  ASSERT_TRUE(parser.parse(agg, 0, out).is_ok());
  g_allocs = 0;
  g_count_allocs = true;
  for (int i = 0; i < 1000; ++i) {
    Status a = parser.parse(kGeneratorFrame, i, out);
    Status b = parser.parse(agg, i, out);
    if (!a.is_ok() || !b.is_ok()) break;
  }
  g_count_allocs = false;
  EXPECT_EQ(g_allocs.load(), 0);
  EXPECT_EQ(out.trade.symbol, "FTM-USDT");
}

TEST(BinanceParse, BarePayloadAndSubscriptionResult) {
  FrameParser parser;
  ParsedFrame out;
  ASSERT_TRUE(parser.parse(R"({"e":"aggTrade","E":1,"s":"ETHBTC","a":5,"p":"0.1","q":"2","f":10,"l":12,"T":1000,"m":false,"M":true})", 0, out).is_ok());
  EXPECT_EQ(out.kind, MessageKind::kAggTrade);
  EXPECT_EQ(out.trade.trade_id, 5);
  EXPECT_EQ(out.trade.trade_count(), 3);
  EXPECT_EQ(out.trade.symbol, "ETH-BTC");
  ASSERT_TRUE(parser.parse(R"({"result":null,"id":1})", 0, out).is_ok());
  EXPECT_EQ(out.kind, MessageKind::kSubscriptionResult);
}

struct BadCase {
  std::string frame;
  std::string_view reason;
  std::string field;  // must appear in the message
};

TEST(BinanceParse, MalformedFramesFailWithReasonNeverCrash) {
  const std::string ok(kGeneratorFrame);
  auto replace = [&](std::string_view from, std::string_view to) {
    std::string s = ok;
    s.replace(s.find(from), from.size(), to);
    return s;
  };
  const std::vector<BadCase> cases = {
      {replace(R"("p":"43000.10000000")", R"("p":"abc")"), "bad_decimal", "'p'"},
      {replace(R"("q":"0.00100000")", R"("q":"1e5")"), "bad_decimal", "'q'"},
      {replace(R"("T":1705276807329,)", ""), "missing_field", "'T'"},
      {replace(R"("t":3370000000,)", ""), "missing_field", "'t'"},
      {replace(R"("t":3370000000)", R"("t":"3370000000")"), "bad_field", "'t'"},
      {replace(R"("p":"43000.10000000")", R"("p":43000.1)"), "bad_field", "'p'"},
      {replace(R"("m":false)", R"("m":"false")"), "bad_field", "'m'"},
      {replace(R"("T":1705276807329)", R"("T":-5)"), "bad_field", "'T'"},
      {replace(R"("s":"BTCUSDT")", R"("s":"BTCXYZ")"), "bad_symbol", "BTCXYZ"},
      {replace(R"("e":"trade")", R"("e":"outboundAccountPosition")"), "unknown_event", "outboundAccountPosition"},
      {ok + "x", "malformed_json", ""},
      {"", "malformed_json", ""},
      {"[1,2,3]", "malformed_json", ""},
      {"{\"e\":\"trade\",", "malformed_json", ""},
      {R"({"data":{"e":"aggTrade","s":"ETHBTC","a":5,"p":"0.1","q":"2","f":10,"l":9,"T":1,"m":false}})", "bad_field", "'l'"},
      {R"({"e":"depthUpdate","U":1})", "missing_field", "'u'"},
      {R"({"foo":1})", "unknown_event", ""},
  };
  for (bool fast : {true, false}) {
    FrameParser parser;
    parser.set_fast_path(fast);
    for (const BadCase& c : cases) {
      ParsedFrame out;
      Status st = parser.parse(c.frame, 0, out);
      EXPECT_FALSE(st.is_ok()) << c.frame;
      EXPECT_EQ(st.code(), ErrorCode::kParse);
      EXPECT_EQ(parser.error_reason(), c.reason) << c.frame << " → " << st.message();
      EXPECT_NE(st.message().find(c.field), std::string::npos) << st.message();
      EXPECT_EQ(out.kind, MessageKind::kUnknown);
    }
  }
}

TEST(BinanceParse, EveryTruncationOfATradeFrameIsAnError) {
  FrameParser parser;
  const std::string ok(kGeneratorFrame);
  for (size_t n = 0; n < ok.size(); ++n) {
    ParsedFrame out;
    Status st = parser.parse(std::string_view(ok).substr(0, n), 0, out);
    EXPECT_FALSE(st.is_ok()) << n;
    EXPECT_FALSE(parser.error_reason().empty());
  }
  ParsedFrame out;
  EXPECT_TRUE(parser.parse(ok, 0, out).is_ok());  // parser still usable after errors
}

void expect_same(const Status& a, std::string_view ra, const ParsedFrame& x, const Status& b, std::string_view rb,
                 const ParsedFrame& y, const std::string& frame) {
  ASSERT_EQ(a.is_ok(), b.is_ok()) << frame;
  EXPECT_EQ(ra, rb) << frame;
  EXPECT_EQ(a.message(), b.message()) << frame;
  ASSERT_EQ(x.kind, y.kind) << frame;
  if (x.kind != MessageKind::kTrade && x.kind != MessageKind::kAggTrade) return;
  const Trade& s = x.trade;
  const Trade& t = y.trade;
  EXPECT_EQ(s.symbol, t.symbol);
  EXPECT_EQ(s.exchange_symbol, t.exchange_symbol);
  EXPECT_EQ(s.trade_id, t.trade_id);
  EXPECT_EQ(s.first_trade_id, t.first_trade_id);
  EXPECT_EQ(s.last_trade_id, t.last_trade_id);
  EXPECT_EQ(s.price.units(), t.price.units());
  EXPECT_EQ(s.price.scale(), t.price.scale());
  EXPECT_EQ(s.quantity.units(), t.quantity.units());
  EXPECT_EQ(s.quantity.scale(), t.quantity.scale());
  EXPECT_EQ(s.taker_side, t.taker_side);
  EXPECT_EQ(s.ts_event, t.ts_event);
  EXPECT_EQ(s.ts_recv, t.ts_recv);
  EXPECT_EQ(s.aggregated, t.aggregated);
}

TEST(BinanceParse, FastPathGivesTheSameResultsAsSimdjson) {
  std::vector<std::string> frames;
  for (const std::string& file : kRecordings) {
    for (const Recorded& r : read_recording(file)) frames.push_back(r.raw);
  }
  const std::string g(kGeneratorFrame);
  // Variants near the fast path's edges: whitespace, escapes, key order, odd numbers.
  frames.push_back(g);
  frames.push_back(R"({"e":"trade","E":1,"s":"BTCUSDT","t":0,"p":"1","q":"2","T":0,"m":true,"M":true})");
  frames.push_back(R"({"stream":"x","data":{"e":"trade","E":1,"s":"BTCUSDT","t":01,"p":"1","q":"2","T":5,"m":true,"M":true}})");
  frames.push_back(R"({"stream":"x","data":{"e":"trade","E":1,"s":"BTCUSDT","t":1,"p":"1","q":"2","T":5,"m":true,"M":true}} )");
  frames.push_back(R"({"stream":"x","data": {"e":"trade","E":1,"s":"BTCUSDT","t":1,"p":"1","q":"2","T":5,"m":true,"M":true}})");
  frames.push_back(R"({"stream":"x","data":{"e":"trade","E":1,"s":"BTC\u0055SDT","t":1,"p":"1","q":"2","T":5,"m":true,"M":true}})");
  frames.push_back(R"({"stream":"x","data":{"e":"trade","E":1,"s":"BTCUSDT","t":1,"q":"2","p":"1","T":5,"m":true,"M":true}})");
  frames.push_back(R"({"stream":"x","data":{"e":"trade","E":1,"s":"BTCUSDT","t":1,"p":"1.","q":"-2","T":5,"m":false,"M":false}})");
  frames.push_back(R"({"stream":"x","data":{"e":"trade","E":1,"s":"BTCUSDT","t":1234567890123456789,"p":"1","q":"2","T":5,"m":true,"M":true}})");
  frames.push_back(R"({"stream":"x","data":{"e":"trade","E":1,"s":"BTCUSDT","t":1,"p":"1","q":"2","T":99999999999999999,"m":true,"M":true}})");
  frames.push_back(R"({"stream":"x","data":{"e":"trade","E":1,"s":"BTCUSDT","t":1,"p":"1","q":"2","T":5,"m":true,"M":true},"x":1})");
  frames.push_back(R"({"stream":"x","data":{"e":"aggTrade","E":1,"s":"BTCUSDT","a":1,"p":"1","q":"2","f":3,"l":2,"T":5,"m":true,"M":true}})");
  frames.push_back(R"({"stream":"x","data":{"e":"aggTrade","E":1,"s":"BTCUSDT","a":1,"p":"1","q":"2","f":3,"l":4,"T":5,"m":true,"M":true}})");
  frames.push_back(R"({"stream":"x","data":{"e":"aggTrade","E":1,"s":"BTCFOO","a":1,"p":"1","q":"2","f":3,"l":4,"T":5,"m":true,"M":true}})");
  frames.push_back("{\"stream\":\"x\",\"data\":{\"e\":\"trade\",\"E\":1,\"s\":\"BTC\xc3\xa9USDT\",\"t\":1,\"p\":\"1\",\"q\":\"2\",\"T\":5,\"m\":true,\"M\":true}}");
  frames.push_back("{\"stream\":\"x\",\"data\":{\"e\":\"trade\",\"E\":1,\"s\":\"BTC\xffUSDT\",\"t\":1,\"p\":\"1\",\"q\":\"2\",\"T\":5,\"m\":true,\"M\":true}}");
  for (size_t n = 0; n < g.size(); n += 7) frames.push_back(g.substr(0, n));

  FrameParser fast, slow;
  slow.set_fast_path(false);
  for (const std::string& f : frames) {
    ParsedFrame x, y;
    Status a = fast.parse(f, 42, x);
    Status b = slow.parse(f, 42, y);
    expect_same(a, fast.error_reason(), x, b, slow.error_reason(), y, f);
  }
}

TEST(BinanceParse, AggTradesRestResponse) {
  std::vector<Trade> out;
  ASSERT_TRUE(parse_agg_trades_response(
                  R"([{"a":26129,"p":"0.01633102","q":"4.70443515","f":27781,"l":27782,"T":1498793709153,"m":true,"M":true},
                      {"a":26130,"p":"0.01633200","q":"1.00000000","f":27783,"l":27783,"T":1498793709160,"m":false,"M":true}])",
                  "ETHBTC", 5, out)
                  .is_ok());
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].trade_id, 26129);
  EXPECT_EQ(out[0].trade_count(), 2);
  EXPECT_EQ(out[0].price.to_string(), "0.01633102");
  EXPECT_EQ(out[0].taker_side, Side::kSell);
  EXPECT_EQ(out[0].symbol, "ETH-BTC");
  EXPECT_EQ(out[0].ts_event, 1498793709153LL * kNsPerMs);
  EXPECT_TRUE(out[0].aggregated);
  EXPECT_EQ(out[1].taker_side, Side::kBuy);
  EXPECT_EQ(out[1].ts_recv, 5);

  std::vector<Trade> bad;
  EXPECT_FALSE(parse_agg_trades_response(R"([{"a":1,"p":"x","q":"1","f":1,"l":1,"T":1,"m":true}])", "ETHBTC", 0, bad).is_ok());
  EXPECT_FALSE(parse_agg_trades_response(R"([{"a":1,"p":"1","q":"1","f":1,"l":1,"m":true}])", "ETHBTC", 0, bad).is_ok());
  EXPECT_FALSE(parse_agg_trades_response(R"([{"a":1,)", "ETHBTC", 0, bad).is_ok());
  EXPECT_FALSE(parse_agg_trades_response(R"({"code":-1121,"msg":"Invalid symbol."})", "ETHBTC", 0, bad).is_ok());
  EXPECT_FALSE(parse_agg_trades_response("[]", "NOPE", 0, bad).is_ok());
}

}  // namespace
}  // namespace tickflow::exchange::binance
