// MarketModel: determinism, Binance-exact encoding, price/quantity grids, id sequences and
// depth-diff consistency with snapshots.
#include "exchange/simulator/market.h"

#include <fstream>
#include <map>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <simdjson.h>

namespace tickflow::exchange::simulator {
namespace {

// Encodes the first n events of a model as the frames a combined-stream client would see.
std::vector<std::string> frames_of(MarketModel& m, size_t n) {
  std::vector<std::string> out;
  MarketEvent ev;
  while (out.size() < n && m.next(ev)) {
    const SymbolSpec& s = m.symbols()[ev.symbol];
    std::string payload;
    if (ev.kind == EventKind::kDepthUpdate) {
      append_depth_payload(payload, s.symbol, ev.depth, ev.event_time_ms);
      std::string f;
      append_combined(f, s.stream_prefix + "@depth@100ms", payload);
      out.push_back(f);
      continue;
    }
    for (const auto& t : ev.trades) {
      payload.clear();
      append_trade_payload(payload, s.symbol, t, ev.event_time_ms);
      std::string f;
      append_combined(f, s.stream_prefix + "@trade", payload);
      out.push_back(f);
    }
    for (const auto& a : ev.aggs) {
      payload.clear();
      append_agg_trade_payload(payload, s.symbol, a, ev.event_time_ms);
      std::string f;
      append_combined(f, s.stream_prefix + "@aggTrade", payload);
      out.push_back(f);
    }
  }
  return out;
}

// The keys of a JSON object's "data" member (or of the object itself), in order.
std::vector<std::string> keys_of(std::string_view json) {
  simdjson::dom::parser parser;
  simdjson::dom::element doc = parser.parse(json.data(), json.size());
  simdjson::dom::element data = doc;
  if (doc.is_object() && doc["data"].error() == simdjson::SUCCESS) data = doc["data"];
  std::vector<std::string> keys;
  for (auto field : data.get_object()) keys.emplace_back(field.key);
  return keys;
}

TEST(MarketModelTest, SameSeedGivesIdenticalFramesDifferentSeedDiffers) {
  MarketModel a(7, {"BTCUSDT", "ETHUSDT", "SOLUSDT"}, 1705276800000, 5000);
  MarketModel b(7, {"BTCUSDT", "ETHUSDT", "SOLUSDT"}, 1705276800000, 5000);
  MarketModel c(8, {"BTCUSDT", "ETHUSDT", "SOLUSDT"}, 1705276800000, 5000);
  const auto fa = frames_of(a, 20000);
  const auto fb = frames_of(b, 20000);
  const auto fc = frames_of(c, 20000);
  ASSERT_GE(fa.size(), 20000u);
  EXPECT_EQ(fa, fb);
  EXPECT_NE(fa, fc);
  // Only the given inputs matter: the same seed at another rate is another market.
  MarketModel d(7, {"BTCUSDT", "ETHUSDT", "SOLUSDT"}, 1705276800000, 6000);
  EXPECT_NE(fa, frames_of(d, 20000));
}

TEST(MarketModelTest, TradeFrameIsByteExactBinanceFormat) {
  SimTrade t{3370000000, 4300010000000, 100000, 1705276807329, true};
  std::string p;
  append_trade_payload(p, "BTCUSDT", t, 1705276807330);
  std::string f;
  append_combined(f, "btcusdt@trade", p);
  // The exact line shared/tools/gen_binance_trades.py prints for this trade.
  EXPECT_EQ(f,
            R"({"stream":"btcusdt@trade","data":{"e":"trade","E":1705276807330,"s":"BTCUSDT",)"
            R"("t":3370000000,"p":"43000.10000000","q":"0.00100000","T":1705276807329,"m":true,"M":true}})");

  SimAggTrade a{31718372, 33993000, 9990000000, 38248910, 38248912, 1628952396572, true};
  std::string ap;
  append_agg_trade_payload(ap, "FTMUSDT", a, 1628952396573);
  EXPECT_EQ(ap,
            R"({"e":"aggTrade","E":1628952396573,"s":"FTMUSDT","a":31718372,"p":"0.33993000",)"
            R"("q":"99.90000000","f":38248910,"l":38248912,"T":1628952396572,"m":true,"M":true})");
  std::string rest;
  append_agg_trade_rest(rest, a);
  EXPECT_EQ(rest,
            R"({"a":31718372,"p":"0.33993000","q":"99.90000000","f":38248910,"l":38248912,)"
            R"("T":1628952396572,"m":true,"M":true})");
  std::string tr;
  append_trade_rest(tr, SimTrade{28457, 400000100, 1200000000, 1499865549590, true});
  EXPECT_EQ(tr,
            R"({"id":28457,"price":"4.00000100","qty":"12.00000000","quoteQty":"48.00001200",)"
            R"("time":1499865549590,"isBuyerMaker":true,"isBestMatch":true})");
  DepthSnapshot s{717720857, {{577300, 1619600000}}, {{578700, 3123100000}, {578800, 2604900000}}};
  std::string body;
  append_depth_snapshot(body, s);
  EXPECT_EQ(body,
            R"({"lastUpdateId":717720857,"bids":[["0.00577300","16.19600000"]],)"
            R"("asks":[["0.00578700","31.23100000"],["0.00578800","26.04900000"]]})");
}

// Our frames have the keys, in the order, of the real Binance frames in testdata/.
TEST(MarketModelTest, KeyOrderMatchesRealRecordings) {
  std::ifstream in(std::string(TICKFLOW_SOURCE_DIR) + "/testdata/exchanges/binance/binance_2021-08-14.jsonl");
  ASSERT_TRUE(in.good());
  std::map<std::string, std::vector<std::string>> real;  // "aggTrade", "depthUpdate", "depth-rest"
  simdjson::dom::parser parser;
  std::string line;
  while (std::getline(in, line) && real.size() < 3) {
    simdjson::dom::element rec = parser.parse(line);
    std::string_view raw, dir;
    if (rec["raw"].get(raw) != simdjson::SUCCESS || rec["direction"].get(dir) != simdjson::SUCCESS) continue;
    const std::string raw_s(raw);
    if (dir == "http" && raw_s.rfind("{\"lastUpdateId\"", 0) == 0) real.emplace("depth-rest", keys_of(raw_s));
    if (dir != "in") continue;
    if (raw_s.find("\"e\":\"aggTrade\"") != std::string::npos) real.emplace("aggTrade", keys_of(raw_s));
    if (raw_s.find("\"e\":\"depthUpdate\"") != std::string::npos) real.emplace("depthUpdate", keys_of(raw_s));
  }
  ASSERT_EQ(real.size(), 3u);

  MarketModel m(1, {"BTCUSDT"}, 1705276800000, 1000);
  bool saw_agg = false, saw_depth = false;
  for (const auto& f : frames_of(m, 5000)) {
    if (f.find("@aggTrade") != std::string::npos && !saw_agg) {
      EXPECT_EQ(keys_of(f), real["aggTrade"]) << f;
      saw_agg = true;
    }
    if (f.find("@depth@100ms") != std::string::npos && !saw_depth) {
      EXPECT_EQ(keys_of(f), real["depthUpdate"]) << f;
      saw_depth = true;
    }
    if (f.find("@trade") != std::string::npos) {
      EXPECT_EQ(keys_of(f), (std::vector<std::string>{"e", "E", "s", "t", "p", "q", "T", "m", "M"}));
    }
  }
  EXPECT_TRUE(saw_agg && saw_depth);
  std::string body;
  append_depth_snapshot(body, m.snapshot(0, 5));
  EXPECT_EQ(keys_of(body), real["depth-rest"]);
}

TEST(MarketModelTest, TradesAreOnGridsWithConsecutiveIdsAndConsistentAggregates) {
  const std::vector<std::string> syms = {"BTCUSDT", "ETHUSDT", "DOGEUSDT", "FOOBAR"};
  MarketModel m(42, syms, 1705276800000, 20000);
  std::vector<int64_t> next_trade(syms.size(), -1), next_agg(syms.size(), -1);
  int64_t last_time = 0;
  size_t multi_fill_aggs = 0, multi_level_orders = 0, trades = 0;
  size_t buys = 0, sells = 0;
  MarketEvent ev;
  while (trades < 200000 && m.next(ev)) {
    EXPECT_GE(ev.time_ms, last_time);
    last_time = ev.time_ms;
    EXPECT_GE(ev.event_time_ms, ev.time_ms);
    if (ev.kind != EventKind::kTakerOrder) continue;
    const SymbolSpec& s = m.symbols()[ev.symbol];
    ASSERT_FALSE(ev.trades.empty());
    ASSERT_FALSE(ev.aggs.empty());
    if (ev.aggs.size() > 1) ++multi_level_orders;
    size_t ti = 0;
    for (size_t k = 0; k < ev.aggs.size(); ++k) {
      const SimAggTrade& a = ev.aggs[k];
      if (next_agg[ev.symbol] >= 0) {
        EXPECT_EQ(a.id, next_agg[ev.symbol]);
      }
      next_agg[ev.symbol] = a.id + 1;
      EXPECT_EQ(a.price % s.tick, 0);
      if (k > 0) {  // a sell sweeps down the bids, a buy up the asks
        if (a.buyer_maker) {
          EXPECT_LT(a.price, ev.aggs[k - 1].price);
        } else {
          EXPECT_GT(a.price, ev.aggs[k - 1].price);
        }
      }
      int64_t qty = 0;
      if (a.last_trade_id > a.first_trade_id) ++multi_fill_aggs;
      for (int64_t id = a.first_trade_id; id <= a.last_trade_id; ++id, ++ti) {
        ASSERT_LT(ti, ev.trades.size());
        const SimTrade& t = ev.trades[ti];
        EXPECT_EQ(t.id, id);
        if (next_trade[ev.symbol] >= 0) {
          EXPECT_EQ(t.id, next_trade[ev.symbol]);
        }
        next_trade[ev.symbol] = t.id + 1;
        EXPECT_EQ(t.price, a.price);
        EXPECT_EQ(t.time_ms, ev.time_ms);
        EXPECT_EQ(t.buyer_maker, a.buyer_maker);
        EXPECT_GT(t.qty, 0);
        EXPECT_EQ(t.qty % s.step, 0);
        qty += t.qty;
        ++trades;
        (t.buyer_maker ? sells : buys)++;
      }
      EXPECT_EQ(qty, a.qty);
    }
    EXPECT_EQ(ti, ev.trades.size());
  }
  EXPECT_GT(multi_fill_aggs, 1000u);
  EXPECT_GT(multi_level_orders, 1000u);
  EXPECT_GT(buys, trades / 3);
  EXPECT_GT(sells, trades / 3);
  EXPECT_EQ(m.symbols()[0].first_trade_id, 3370000000);
  EXPECT_EQ(m.symbols()[3].symbol, "FOOBAR");
}

TEST(MarketModelTest, RateSetsVirtualTimeAndPricesStayRealistic) {
  const double rate = 1000;
  MarketModel m(3, {"BTCUSDT", "ETHUSDT"}, 1705276800000, rate);
  MarketEvent ev;
  int64_t trades = 0, first_ms = -1, last_ms = 0;
  int64_t lo = INT64_MAX, hi = 0;
  std::set<int64_t> btc_prices;
  while (trades < 60000 && m.next(ev)) {
    if (ev.kind != EventKind::kTakerOrder) continue;
    if (first_ms < 0) first_ms = ev.time_ms;
    last_ms = ev.time_ms;
    trades += static_cast<int64_t>(ev.trades.size());
    if (ev.symbol == 0) {
      for (const auto& t : ev.trades) {
        lo = std::min(lo, t.price);
        hi = std::max(hi, t.price);
        btc_prices.insert(t.price);
      }
    }
  }
  const double span_s = static_cast<double>(last_ms - first_ms) / 1000.0;
  EXPECT_NEAR(span_s, 60.0, 6.0);  // 60k trades at 1000/s
  // A minute of BTC at 50 % annual vol moves well under 2 %, but it does move.
  EXPECT_GT(lo, 4300000000000 * 98 / 100);
  EXPECT_LT(hi, 4300000000000 * 102 / 100);
  EXPECT_GT(btc_prices.size(), 20u);
}

TEST(MarketModelTest, MaxTradesEndsTheMarketExactly) {
  MarketModel m(5, {"BTCUSDT", "ETHUSDT"}, 1705276800000, 1000, 12345);
  MarketEvent ev;
  int64_t trades = 0;
  while (m.next(ev)) {
    if (ev.kind == EventKind::kTakerOrder) trades += static_cast<int64_t>(ev.trades.size());
  }
  EXPECT_EQ(trades, 12345);
  EXPECT_EQ(m.trades_generated(), 12345);
  EXPECT_EQ(m.peek_time_ms(), MarketModel::kNever);
}

TEST(MarketModelTest, IdOffsetShiftsIdsAndNothingElse) {
  MarketOptions base{5, {"BTCUSDT", "ETHUSDT"}, 1705276800000, 1000, 500};
  MarketOptions shifted = base;
  shifted.id_offset = 1'000'000'000;
  MarketModel a(base), b(shifted);
  MarketEvent ea, eb;
  int compared = 0;
  while (a.next(ea)) {
    ASSERT_TRUE(b.next(eb));
    ASSERT_EQ(ea.trades.size(), eb.trades.size());
    for (size_t i = 0; i < ea.trades.size(); ++i) {
      EXPECT_EQ(eb.trades[i].id, ea.trades[i].id + shifted.id_offset);
      EXPECT_EQ(eb.trades[i].price, ea.trades[i].price);
      EXPECT_EQ(eb.trades[i].time_ms, ea.trades[i].time_ms);
      ++compared;
    }
    for (size_t i = 0; i < ea.aggs.size(); ++i) EXPECT_EQ(eb.aggs[i].id, ea.aggs[i].id + shifted.id_offset);
  }
  EXPECT_EQ(compared, 500);
}

using Book = std::map<int64_t, int64_t>;
void apply(Book& b, const std::vector<PriceLevel>& levels) {
  for (const auto& l : levels) {
    if (l.qty == 0) {
      b.erase(l.price);
    } else {
      b[l.price] = l.qty;
    }
  }
}

// The Binance book-sync recipe works: snapshot, then diffs with u > lastUpdateId (the first one
// with U <= lastUpdateId + 1 <= u) give exactly the later book.
TEST(MarketModelTest, DepthDiffsApplyToSnapshots) {
  MarketModel m(11, {"BTCUSDT", "XRPUSDT"}, 1705276800000, 2000, 30000);
  MarketEvent ev;
  // Run a while, then snapshot mid-stream (pending changes not yet in a diff).
  int events = 0;
  while (events < 7777 && m.next(ev)) ++events;
  std::vector<DepthSnapshot> snaps = {m.snapshot(0, 100000), m.snapshot(1, 100000)};
  std::vector<Book> bids(2), asks(2);
  std::vector<bool> synced(2, false);
  std::vector<int64_t> last_u(2, 0);
  for (int s = 0; s < 2; ++s) {
    for (const auto& l : snaps[s].bids) bids[s][l.price] = l.qty;
    for (const auto& l : snaps[s].asks) asks[s][l.price] = l.qty;
    last_u[s] = snaps[s].last_update_id;
  }
  size_t diffs = 0;
  while (m.next(ev)) {
    if (ev.kind != EventKind::kDepthUpdate) continue;
    const int s = static_cast<int>(ev.symbol);
    const DepthDiff& d = ev.depth;
    EXPECT_LE(d.first_update_id, d.last_update_id);
    if (d.last_update_id <= snaps[s].last_update_id) continue;
    if (!synced[s]) {
      EXPECT_LE(d.first_update_id, snaps[s].last_update_id + 1);
      synced[s] = true;
    } else {
      EXPECT_EQ(d.first_update_id, last_u[s] + 1);
    }
    last_u[s] = d.last_update_id;
    for (size_t i = 1; i < d.bids.size(); ++i) EXPECT_GT(d.bids[i - 1].price, d.bids[i].price);
    for (size_t i = 1; i < d.asks.size(); ++i) EXPECT_LT(d.asks[i - 1].price, d.asks[i].price);
    apply(bids[s], d.bids);
    apply(asks[s], d.asks);
    ++diffs;
  }
  EXPECT_GT(diffs, 100u);
  for (int s = 0; s < 2; ++s) {
    const DepthSnapshot fin = m.snapshot(s, 100000);
    EXPECT_EQ(fin.last_update_id, last_u[s]);
    Book fb, fa;
    for (const auto& l : fin.bids) fb[l.price] = l.qty;
    for (const auto& l : fin.asks) fa[l.price] = l.qty;
    EXPECT_EQ(bids[s], fb);
    EXPECT_EQ(asks[s], fa);
    ASSERT_FALSE(fin.bids.empty());
    ASSERT_FALSE(fin.asks.empty());
    EXPECT_LT(fin.bids.front().price, fin.asks.front().price);  // never crossed
    EXPECT_GT(fin.bids.size(), 900u);  // a dense book of 1000 levels, a few swept
    EXPECT_LE(fin.asks.size(), 1000u);
  }
}

}  // namespace
}  // namespace tickflow::exchange::simulator
