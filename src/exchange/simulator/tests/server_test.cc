// Simulator over real loopback sockets: WS combined/raw streams, SUBSCRIBE, REST paging,
// Binance errors and the fault knobs. Waits on conditions, never sleeps.
#include "exchange/simulator/simulator.h"

#include <map>
#include <set>

#include <gtest/gtest.h>
#include <simdjson.h>

#include "exchange/simulator/tests/test_client.h"

namespace tickflow::exchange::simulator {
namespace {

using testing::http_request;
using testing::WsTestClient;
namespace http = testing::http;
namespace websocket = testing::websocket;
using namespace std::chrono_literals;

struct Parsed {
  bool ok = false;
  std::string stream, e, p, q;
  int64_t t = -1, a = -1, f = -1, l = -1, T = -1, U = -1, u = -1;
  bool m = false;
};

Parsed parse(const std::string& frame) {
  static thread_local simdjson::dom::parser parser;
  Parsed r;
  simdjson::dom::element doc;
  if (parser.parse(frame).get(doc) != simdjson::SUCCESS || !doc.is_object()) return r;
  simdjson::dom::element data = doc;
  std::string_view sv;
  if (doc["stream"].get(sv) == simdjson::SUCCESS) {
    r.stream = sv;
    if (doc["data"].get(data) != simdjson::SUCCESS) return r;
  }
  if (data["e"].get(sv) == simdjson::SUCCESS) r.e = sv;
  if (data["p"].get(sv) == simdjson::SUCCESS) r.p = sv;
  if (data["q"].get(sv) == simdjson::SUCCESS) r.q = sv;
  if (data["t"].get(r.t) != simdjson::SUCCESS) r.t = -1;
  if (data["a"].get(r.a) != simdjson::SUCCESS) r.a = -1;
  if (data["f"].get(r.f) != simdjson::SUCCESS) r.f = -1;
  if (data["l"].get(r.l) != simdjson::SUCCESS) r.l = -1;
  if (data["T"].get(r.T) != simdjson::SUCCESS) r.T = -1;
  if (data["U"].get(r.U) != simdjson::SUCCESS) r.U = -1;
  if (data["u"].get(r.u) != simdjson::SUCCESS) r.u = -1;
  if (data["m"].get(r.m) != simdjson::SUCCESS) r.m = false;
  r.ok = true;
  return r;
}

std::string units(int64_t u) {
  std::string s;
  append_units(s, u);
  return s;
}

std::vector<Parsed> of_kind(const std::vector<std::string>& frames, std::string_view e) {
  std::vector<Parsed> out;
  for (const auto& f : frames) {
    Parsed p = parse(f);
    if (p.ok && p.e == e) out.push_back(p);
  }
  return out;
}

size_t count_kind(const std::vector<std::string>& frames, std::string_view needle) {
  size_t n = 0;
  for (const auto& f : frames) n += f.find(needle) != std::string::npos;
  return n;
}

SimulatorConfig small_config() {
  SimulatorConfig c;
  c.seed = 9;
  c.start_ms = 1705276800000;
  c.rate = 20000;
  c.book_levels = 200;
  return c;
}

bool wait_for(const std::function<bool()>& pred, std::chrono::milliseconds timeout = 20s) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!pred()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::yield();
  }
  return true;
}

// Everything the market generated reaches a combined-stream client, byte-for-byte equal to the
// history the REST API serves.
TEST(SimulatorServerTest, CombinedStreamDeliversTheWholeMarket) {
  SimulatorConfig c = small_config();
  c.max_trades = 4000;
  c.start_on_connect = true;
  Simulator sim(c);
  ASSERT_TRUE(sim.start().is_ok());
  EXPECT_EQ(sim.ws_url(), "ws://127.0.0.1:" + std::to_string(sim.port()));
  EXPECT_EQ(sim.rest_url(), "http://127.0.0.1:" + std::to_string(sim.port()));
  EXPECT_FALSE(sim.stats().market_started);

  WsTestClient client;
  client.connect(sim.port(), "/stream?streams=btcusdt@trade/btcusdt@aggTrade/btcusdt@depth@100ms");
  client.start_reader();
  ASSERT_TRUE(wait_for([&] { return sim.stats().market_ended; }));
  const auto hist = sim.history("BTCUSDT");
  const auto aggs = sim.agg_history("btcusdt");
  ASSERT_FALSE(hist.empty());
  ASSERT_TRUE(client.wait_until([&](const auto& frames, bool) {
    return count_kind(frames, "\"e\":\"trade\"") == hist.size() &&
           count_kind(frames, "\"e\":\"aggTrade\"") == aggs.size();
  }));
  const auto frames = client.frames();
  const auto trades = of_kind(frames, "trade");
  ASSERT_EQ(trades.size(), hist.size());
  for (size_t i = 0; i < hist.size(); ++i) {
    EXPECT_EQ(trades[i].stream, "btcusdt@trade");
    EXPECT_EQ(trades[i].t, hist[i].id);
    EXPECT_EQ(trades[i].p, units(hist[i].price));
    EXPECT_EQ(trades[i].q, units(hist[i].qty));
    EXPECT_EQ(trades[i].T, hist[i].time_ms);
    EXPECT_EQ(trades[i].m, hist[i].buyer_maker);
  }
  const auto agg_frames = of_kind(frames, "aggTrade");
  ASSERT_EQ(agg_frames.size(), aggs.size());
  for (size_t i = 0; i < aggs.size(); ++i) {
    EXPECT_EQ(agg_frames[i].a, aggs[i].id);
    EXPECT_EQ(agg_frames[i].f, aggs[i].first_trade_id);
    EXPECT_EQ(agg_frames[i].l, aggs[i].last_trade_id);
  }
  // Depth diffs: consecutive update ranges, ETH never sent (not subscribed).
  const auto depth = of_kind(frames, "depthUpdate");
  ASSERT_GT(depth.size(), 1u);
  for (size_t i = 1; i < depth.size(); ++i) EXPECT_EQ(depth[i].U, depth[i - 1].u + 1);
  EXPECT_EQ(count_kind(frames, "ethusdt"), 0u);
  EXPECT_EQ(sim.stats().clients, 1u);
  EXPECT_EQ(sim.stats().trades_generated, 4000u);
  sim.stop();
  sim.stop();  // idempotent
  EXPECT_TRUE(client.wait_until([](const auto&, bool ended) { return ended; }));
}

TEST(SimulatorServerTest, RawStreamSubscribeListPingAndErrors) {
  SimulatorConfig c = small_config();
  c.rate = 2000;
  Simulator sim(c);
  ASSERT_TRUE(sim.start().is_ok());

  WsTestClient client;
  client.connect(sim.port(), "/ws");
  client.ping();
  client.send(R"({"method":"LIST_SUBSCRIPTIONS","id":3})");
  EXPECT_EQ(client.read_one(), R"({"result":[],"id":3})");
  EXPECT_EQ(client.pongs(), 1);
  client.send(R"({"method":"SUBSCRIBE","params":["nosuch@trade"],"id":4})");
  EXPECT_EQ(client.read_one(), R"({"error":{"code":2,"msg":"Invalid request: unknown stream 'nosuch@trade'"},"id":4})");
  client.send(R"({"method":"SUBSCRIBE","params":["ethusdt@aggTrade","btcusdt@trade"],"id":1})");
  EXPECT_EQ(client.read_one(), R"({"result":null,"id":1})");
  client.send(R"({"method":"LIST_SUBSCRIPTIONS","id":"x"})");
  // Frames of the new streams may come first; the reply is among the next frames.
  bool listed = false;
  for (int i = 0; i < 100000 && !listed; ++i) {
    const std::string f = client.read_one();
    listed = f == R"({"result":["ethusdt@aggTrade","btcusdt@trade"],"id":"x"})";
    if (!listed) {
      const Parsed p = parse(f);
      ASSERT_TRUE(p.ok) << f;
      EXPECT_TRUE(p.stream.empty()) << "raw /ws payloads have no envelope: " << f;
      EXPECT_TRUE(p.e == "trade" || p.e == "aggTrade") << f;
    }
  }
  EXPECT_TRUE(listed);
  client.send(R"({"method":"UNSUBSCRIBE","params":["btcusdt@trade"],"id":2})");
  client.send(R"({"method":"NOPE","id":5})");
  client.send("not json");
  client.start_reader();
  ASSERT_TRUE(client.wait_until([](const auto& frames, bool) {
    return count_kind(frames, "\"id\":null") > 0;
  }));
  const auto frames = client.frames();
  size_t unsub = frames.size();
  for (size_t i = 0; i < frames.size(); ++i) {
    if (frames[i] == R"({"result":null,"id":2})") unsub = i;
  }
  ASSERT_LT(unsub, frames.size());
  for (size_t i = unsub + 1; i < frames.size(); ++i) {
    EXPECT_EQ(frames[i].find("\"e\":\"trade\""), std::string::npos) << "trade after UNSUBSCRIBE";
  }
  EXPECT_EQ(count_kind(frames, R"("error":{"code":2,"msg":"Invalid request: unknown variant `NOPE`)"), 1u);
  EXPECT_EQ(count_kind(frames, R"({"error":{"code":3,)"), 1u);

  // An unknown stream in the URL: the connection is closed with an error.
  WsTestClient bad;
  bad.connect(sim.port(), "/stream?streams=btcusdt@trade/dogeusdt@trade");
  bad.start_reader();
  ASSERT_TRUE(bad.wait_until([](const auto&, bool ended) { return ended; }));
  EXPECT_EQ(bad.error(), websocket::error::closed);
  EXPECT_EQ(bad.close_code(), 1008);
  EXPECT_EQ(bad.close_reason(), "Invalid request: unknown stream 'dogeusdt@trade'");
}

TEST(SimulatorServerTest, TwoClientsSeeTheSameBroadcast) {
  SimulatorConfig c = small_config();
  c.rate = 5000;
  Simulator sim(c);
  ASSERT_TRUE(sim.start().is_ok());
  WsTestClient a, b;
  a.connect(sim.port(), "/ws/btcusdt@trade");
  a.start_reader();
  ASSERT_TRUE(a.wait_until([](const auto& f, bool) { return f.size() >= 20; }));
  b.connect(sim.port(), "/ws/btcusdt@trade");
  b.start_reader();
  ASSERT_TRUE(b.wait_until([](const auto& f, bool) { return f.size() >= 200; }));
  const auto fb = b.frames();
  ASSERT_TRUE(a.wait_until([&](const auto& f, bool) { return std::find(f.begin(), f.end(), fb.back()) != f.end(); }));
  const auto fa = a.frames();
  auto it = std::find(fa.begin(), fa.end(), fb.front());
  ASSERT_NE(it, fa.end()) << "a late client gets the live stream from then on";
  for (size_t i = 0; i < fb.size(); ++i, ++it) {
    ASSERT_NE(it, fa.end());
    EXPECT_EQ(*it, fb[i]);
  }
  EXPECT_EQ(sim.stats().clients, 2u);
}

TEST(SimulatorServerTest, RestServesHistoryDepthAndBinanceErrors) {
  SimulatorConfig c = small_config();
  c.max_trades = 6000;
  c.rate = 100000;
  Simulator sim(c);
  ASSERT_TRUE(sim.start().is_ok());
  ASSERT_TRUE(wait_for([&] { return sim.stats().market_ended; }));
  const auto aggs = sim.agg_history("BTCUSDT");
  ASSERT_GT(aggs.size(), 1000u);

  // fromId paging returns exactly the history.
  std::vector<SimAggTrade> paged;
  int64_t from = aggs.front().id;
  for (;;) {
    auto r = http_request(sim.port(), "/api/v3/aggTrades?symbol=BTCUSDT&fromId=" + std::to_string(from) + "&limit=1000");
    ASSERT_EQ(r.status, 200) << r.body;
    simdjson::dom::parser parser;
    simdjson::dom::array arr = parser.parse(r.body).get_array();
    if (arr.size() == 0) break;
    EXPECT_LE(arr.size(), 1000u);
    for (auto el : arr) {
      SimAggTrade a;
      a.id = el["a"].get_int64();
      a.first_trade_id = el["f"].get_int64();
      a.last_trade_id = el["l"].get_int64();
      a.time_ms = el["T"].get_int64();
      a.buyer_maker = el["m"].get_bool();
      std::string p(el["p"].get_string().value()), q(el["q"].get_string().value());
      const auto& h = aggs.at(paged.size());
      EXPECT_EQ(p, units(h.price));
      EXPECT_EQ(q, units(h.qty));
      a.price = h.price;
      a.qty = h.qty;
      paged.push_back(a);
    }
    from = paged.back().id + 1;
  }
  EXPECT_EQ(paged, aggs);

  // The exact body of one element, default limit 500 = the most recent.
  auto last = http_request(sim.port(), "/api/v3/aggTrades?symbol=BTCUSDT");
  std::string expect_tail;
  append_agg_trade_rest(expect_tail, aggs.back());
  EXPECT_EQ(last.body.substr(last.body.size() - expect_tail.size() - 1), expect_tail + "]");
  EXPECT_EQ(std::count(last.body.begin(), last.body.end(), '{'), 500);
  // startTime/endTime.
  const int64_t t0 = aggs[100].time_ms;
  auto window = http_request(sim.port(), "/api/v3/aggTrades?symbol=BTCUSDT&limit=1000&startTime=" +
                                             std::to_string(t0) + "&endTime=" + std::to_string(t0 + 5));
  size_t expected = 0;
  for (const auto& a : aggs) expected += a.time_ms >= t0 && a.time_ms <= t0 + 5;
  ASSERT_LT(expected, 1000u);
  ASSERT_GT(expected, 10u);
  EXPECT_EQ(static_cast<size_t>(std::count(window.body.begin(), window.body.end(), '{')), expected);

  auto trades = http_request(sim.port(), "/api/v3/trades?symbol=ETHUSDT&limit=3");
  const auto eth = sim.history("ETHUSDT");
  std::string expect;
  expect += "[";
  for (size_t i = eth.size() - 3; i < eth.size(); ++i) {
    if (i != eth.size() - 3) expect += ",";
    append_trade_rest(expect, eth[i]);
  }
  expect += "]";
  EXPECT_EQ(trades.body, expect);

  auto depth = http_request(sim.port(), "/api/v3/depth?symbol=BTCUSDT&limit=5");
  ASSERT_EQ(depth.status, 200);
  simdjson::dom::parser parser;
  simdjson::dom::element d = parser.parse(depth.body);
  EXPECT_GT(d["lastUpdateId"].get_int64().value(), 0);
  EXPECT_EQ(d["bids"].get_array().size(), 5u);
  EXPECT_EQ(d["asks"].get_array().size(), 5u);

  auto bad_symbol = http_request(sim.port(), "/api/v3/aggTrades?symbol=NOPEUSDT");
  EXPECT_EQ(bad_symbol.status, 400);
  EXPECT_EQ(bad_symbol.body, R"({"code":-1121,"msg":"Invalid symbol."})");
  auto no_symbol = http_request(sim.port(), "/api/v3/depth");
  EXPECT_EQ(no_symbol.status, 400);
  EXPECT_EQ(no_symbol.body,
            R"({"code":-1102,"msg":"Mandatory parameter 'symbol' was not sent, was empty/null, or malformed."})");
  auto bad_limit = http_request(sim.port(), "/api/v3/trades?symbol=BTCUSDT&limit=x1");
  EXPECT_EQ(bad_limit.status, 400);
  EXPECT_NE(bad_limit.body.find("\"code\":-1100"), std::string::npos);
  EXPECT_EQ(http_request(sim.port(), "/api/v3/nope").status, 404);
}

TEST(SimulatorServerTest, SameSeedSameStartGivesTheSameHistory) {
  SimulatorConfig c = small_config();
  c.max_trades = 3000;
  c.rate = 100000;
  Simulator a(c), b(c);
  ASSERT_TRUE(a.start().is_ok());
  ASSERT_TRUE(b.start().is_ok());
  ASSERT_TRUE(wait_for([&] { return a.stats().market_ended && b.stats().market_ended; }));
  EXPECT_EQ(a.history("BTCUSDT"), b.history("BTCUSDT"));
  EXPECT_EQ(a.agg_history("ETHUSDT"), b.agg_history("ETHUSDT"));
  EXPECT_EQ(http_request(a.port(), "/api/v3/aggTrades?symbol=BTCUSDT&limit=1000").body,
            http_request(b.port(), "/api/v3/aggTrades?symbol=BTCUSDT&limit=1000").body);

  // The port is taken now.
  SimulatorConfig same = c;
  same.port = a.port();
  Simulator clash(same);
  Status st = clash.start();
  EXPECT_EQ(st.code(), ErrorCode::kIo) << st.to_string();
}

TEST(SimulatorFaultTest, DropClosesEveryConnection) {
  SimulatorConfig c = small_config();
  c.rate = 5000;
  Simulator sim(c);
  ASSERT_TRUE(sim.start().is_ok());
  WsTestClient a, b;
  a.connect(sim.port(), "/stream?streams=btcusdt@trade");
  b.connect(sim.port(), "/ws/ethusdt@aggTrade");
  a.start_reader();
  b.start_reader();
  ASSERT_TRUE(a.wait_until([](const auto& f, bool) { return f.size() >= 10; }));
  ASSERT_TRUE(b.wait_until([](const auto& f, bool) { return f.size() >= 10; }));
  EXPECT_EQ(http_request(sim.port(), "/_sim/fault?drop=1", http::verb::post).body, R"({"ok":true})");
  ASSERT_TRUE(a.wait_until([](const auto&, bool ended) { return ended; }));
  ASSERT_TRUE(b.wait_until([](const auto&, bool ended) { return ended; }));
  EXPECT_NE(a.error(), websocket::error::closed) << "a drop is a TCP close, not a close frame";
  ASSERT_TRUE(wait_for([&] { return sim.stats().clients == 0; }));
  EXPECT_EQ(sim.stats().connections_dropped, 2u);
}

// POST /_sim/fault?stall_pongs_ms=N: pings go unanswered (counted) for N ms, then are answered
// again; the Kraken book fault knobs are accepted over HTTP too.
TEST(SimulatorFaultTest, StalledPongsOverHttpAreWithheldThenAnsweredAgain) {
  SimulatorConfig c = small_config();
  Simulator sim(c);
  ASSERT_TRUE(sim.start().is_ok());
  WsTestClient client;
  client.connect(sim.port(), "/ws");
  EXPECT_EQ(http_request(sim.port(), "/_sim/fault?stall_pongs_ms=300", http::verb::post).status, 200);
  // Frames are handled in order: the reply to the request comes after the (missing) pong.
  client.ping();
  client.send(R"({"method":"LIST_SUBSCRIPTIONS","id":1})");
  EXPECT_EQ(client.read_one(), R"({"result":[],"id":1})");
  EXPECT_EQ(client.pongs(), 0);
  EXPECT_EQ(sim.stats().pings_received, 1u);
  EXPECT_EQ(sim.stats().pongs_withheld, 1u);
  // Once the 300 ms are over, pings are answered again.
  ASSERT_TRUE(wait_for([&] {
    client.ping();
    client.send(R"({"method":"LIST_SUBSCRIPTIONS","id":2})");
    return client.read_one() == R"({"result":[],"id":2})" && client.pongs() > 0;
  }));
  EXPECT_EQ(sim.stats().pongs_withheld + static_cast<uint64_t>(client.pongs()), sim.stats().pings_received);
  EXPECT_EQ(http_request(sim.port(), "/_sim/fault?kraken_bad_checksum=2", http::verb::post).status, 200);
  EXPECT_EQ(http_request(sim.port(), "/_sim/fault?kraken_drop_update=1", http::verb::post).status, 200);
  EXPECT_EQ(http_request(sim.port(), "/_sim/fault?stall_pongs_ms=soon", http::verb::post).status, 400);
  EXPECT_NE(http_request(sim.port(), "/_sim/stats").body.find(R"("pongs_withheld":)"), std::string::npos);
}

TEST(SimulatorFaultTest, DropEveryNMessagesFromConfig) {
  SimulatorConfig c = small_config();
  c.rate = 5000;
  c.faults.drop_every = 50;
  Simulator sim(c);
  ASSERT_TRUE(sim.start().is_ok());
  WsTestClient a;
  a.connect(sim.port(), "/stream?streams=btcusdt@trade/btcusdt@aggTrade");
  a.start_reader();
  ASSERT_TRUE(a.wait_until([](const auto&, bool ended) { return ended; }));
  EXPECT_EQ(a.frames().size(), 50u);
}

// skip_ids: a hole on the WS, the trades are in REST.
TEST(SimulatorFaultTest, SkipLeavesAHoleThatRestFills) {
  SimulatorConfig c = small_config();
  c.rate = 5000;
  Simulator sim(c);
  ASSERT_TRUE(sim.start().is_ok());
  WsTestClient a;
  a.connect(sim.port(), "/stream?streams=btcusdt@trade/btcusdt@aggTrade");
  a.start_reader();
  ASSERT_TRUE(a.wait_until([](const auto& f, bool) { return f.size() >= 20; }));
  EXPECT_EQ(http_request(sim.port(), "/_sim/fault?skip_ids=3&symbol=BTCUSDT", http::verb::post).status, 200);
  ASSERT_TRUE(wait_for([&] { return sim.skipped_trade_ids("BTCUSDT").size() == 3; }));
  const auto skipped = sim.skipped_trade_ids("BTCUSDT");
  EXPECT_EQ(skipped[1], skipped[0] + 1);
  EXPECT_EQ(skipped[2], skipped[0] + 2);
  ASSERT_TRUE(a.wait_until([&](const auto& frames, bool) {
    for (const auto& f : frames) {
      if (parse(f).t > skipped[2] + 20) return true;
    }
    return false;
  }));
  const auto frames = a.frames();
  const auto trades = of_kind(frames, "trade");
  std::vector<int64_t> missing;
  for (size_t i = 1; i < trades.size(); ++i) {
    for (int64_t id = trades[i - 1].t + 1; id < trades[i].t; ++id) missing.push_back(id);
  }
  EXPECT_EQ(missing, skipped);
  for (const auto& ag : of_kind(frames, "aggTrade")) {
    EXPECT_TRUE(ag.l < skipped[0] || ag.f > skipped[2]) << "aggTrade " << ag.a << " holds a skipped trade";
  }
  // REST has them.
  const auto hist = sim.history("BTCUSDT");
  std::set<int64_t> ids;
  for (const auto& t : hist) ids.insert(t.id);
  for (int64_t id : skipped) EXPECT_TRUE(ids.count(id));
  auto r = http_request(sim.port(), "/api/v3/historicalTrades?symbol=BTCUSDT&fromId=" + std::to_string(skipped[0]) + "&limit=3");
  EXPECT_NE(r.body.find("\"id\":" + std::to_string(skipped[2])), std::string::npos) << r.body;
  auto agg_hist = sim.agg_history("BTCUSDT");
  int64_t covering = -1;
  for (const auto& ag : agg_hist) {
    if (ag.first_trade_id <= skipped[0] && skipped[0] <= ag.last_trade_id) covering = ag.id;
  }
  ASSERT_GE(covering, 0);
  auto ra = http_request(sim.port(), "/api/v3/aggTrades?symbol=BTCUSDT&fromId=" + std::to_string(covering) + "&limit=1");
  EXPECT_NE(ra.body.find("\"a\":" + std::to_string(covering)), std::string::npos) << ra.body;
}

// skip_every from the config is deterministic: the same trades are missing every run.
TEST(SimulatorFaultTest, SkipEveryIsDeterministic) {
  SimulatorConfig c = small_config();
  c.symbols = {"BTCUSDT"};
  c.max_trades = 2000;
  c.start_on_connect = true;
  c.faults.skip_every = 100;
  Simulator sim(c);
  ASSERT_TRUE(sim.start().is_ok());
  WsTestClient a;
  a.connect(sim.port(), "/ws/btcusdt@trade");
  a.start_reader();
  ASSERT_TRUE(wait_for([&] { return sim.stats().market_ended; }));
  ASSERT_TRUE(a.wait_until([](const auto& f, bool) { return f.size() == 1980; }));
  const auto hist = sim.history("BTCUSDT");
  ASSERT_EQ(hist.size(), 2000u);
  std::vector<int64_t> want;
  for (const auto& t : hist) {
    if ((t.id - hist.front().id + 1) % 100 != 0) want.push_back(t.id);
  }
  std::vector<int64_t> got;
  for (const auto& p : of_kind(a.frames(), "trade")) got.push_back(p.t);
  EXPECT_EQ(got, want);
}

TEST(SimulatorFaultTest, MalformedFramesAreSentBeforeTheRealOnes) {
  SimulatorConfig c = small_config();
  c.rate = 5000;
  Simulator sim(c);
  ASSERT_TRUE(sim.start().is_ok());
  WsTestClient a;
  a.connect(sim.port(), "/stream?streams=btcusdt@trade/ethusdt@trade");
  a.start_reader();
  ASSERT_TRUE(a.wait_until([](const auto& f, bool) { return f.size() >= 10; }));
  sim.inject_malformed(1);
  EXPECT_EQ(http_request(sim.port(), "/_sim/fault?malformed=1&kind=bad_price", http::verb::post).status, 200);
  ASSERT_TRUE(a.wait_until([](const auto& frames, bool) {
    size_t bad = 0;
    for (size_t i = 0; i + 1 < frames.size(); ++i) bad += !parse(frames[i]).ok || parse(frames[i]).p == "abc";
    return bad >= 2;
  }));
  const auto frames = a.frames();
  size_t truncated = 0, bad_price = 0;
  for (size_t i = 0; i + 1 < frames.size(); ++i) {
    const Parsed p = parse(frames[i]);
    if (p.ok && p.p != "abc") continue;
    const Parsed next = parse(frames[i + 1]);
    ASSERT_TRUE(next.ok);
    EXPECT_EQ(next.e, "trade");
    if (!p.ok) {
      ++truncated;
      // {"stream":..,"data": + the first half of the real payload + }
      const std::string head = frames[i].substr(0, frames[i].size() - 1);
      EXPECT_EQ(frames[i + 1].substr(0, head.size()), head);
      EXPECT_LT(frames[i].size(), frames[i + 1].size());
    } else {
      ++bad_price;
      EXPECT_EQ(p.t, next.t);
    }
  }
  EXPECT_EQ(truncated, 1u);
  EXPECT_EQ(bad_price, 1u);
}

TEST(SimulatorFaultTest, LateTradeArrivesAfterNewerOnes) {
  SimulatorConfig c = small_config();
  c.rate = 5000;
  Simulator sim(c);
  ASSERT_TRUE(sim.start().is_ok());
  WsTestClient a;
  a.connect(sim.port(), "/ws/btcusdt@trade");
  a.start_reader();
  ASSERT_TRUE(a.wait_until([](const auto& f, bool) { return f.size() >= 10; }));
  sim.inject_late(200, "BTCUSDT");
  auto late_index = [](const std::vector<std::string>& frames) -> int64_t {
    int64_t max_id = -1;
    for (size_t i = 0; i < frames.size(); ++i) {
      const int64_t t = parse(frames[i]).t;
      if (t < max_id) return static_cast<int64_t>(i);
      max_id = std::max(max_id, t);
    }
    return -1;
  };
  ASSERT_TRUE(a.wait_until([&](const auto& frames, bool) { return late_index(frames) >= 0; }));
  const auto frames = a.frames();
  const auto times = a.times();
  const int64_t li = late_index(frames);
  const int64_t late_id = parse(frames[li]).t;
  // It was held ~200 ms: newer trades arrived meanwhile, and no id is lost or repeated.
  size_t newer = 0;
  for (int64_t i = 0; i < li; ++i) newer += parse(frames[i]).t > late_id;
  EXPECT_GT(newer, 50u);
  size_t prev = 0;
  for (int64_t i = 0; i < li; ++i) {
    if (parse(frames[i]).t == late_id - 1) prev = static_cast<size_t>(i);
  }
  EXPECT_GE(times[li] - times[prev], 150ms);
  std::set<int64_t> ids;
  for (const auto& f : frames) EXPECT_TRUE(ids.insert(parse(f).t).second);
  EXPECT_EQ(*ids.rbegin() - *ids.begin() + 1, static_cast<int64_t>(ids.size()));
}

TEST(SimulatorFaultTest, DuplicateAndOutlierFaultsForTheQualityChecks) {
  SimulatorConfig c = small_config();
  c.rate = 5000;
  Simulator sim(c);
  ASSERT_TRUE(sim.start().is_ok());
  WsTestClient a;
  a.connect(sim.port(), "/stream?streams=btcusdt@trade/btcusdt@aggTrade");
  a.start_reader();
  ASSERT_TRUE(a.wait_until([](const auto& f, bool) { return f.size() >= 10; }));
  EXPECT_EQ(http_request(sim.port(), "/_sim/fault?duplicate=1&symbol=BTCUSDT", http::verb::post).status, 200);
  EXPECT_EQ(http_request(sim.port(), "/_sim/fault?outlier=1&pct=50&symbol=BTCUSDT", http::verb::post).status, 200);
  EXPECT_EQ(http_request(sim.port(), "/_sim/fault?outlier=1&pct=0", http::verb::post).status, 400);
  // The true prices (REST history) of every trade id, to spot the outlier.
  auto check = [&](const std::vector<std::string>& frames, size_t& repeated_trades, size_t& repeated_aggs,
                   size_t& outliers) {
    repeated_trades = repeated_aggs = outliers = 0;
    std::map<int64_t, std::string> truth;
    for (const auto& t : sim.history("BTCUSDT")) {
      std::string p;
      append_units(p, t.price);
      truth[t.id] = p;
    }
    std::set<int64_t> seen_t, seen_a, outlier_ids;
    for (const auto& f : frames) {
      const Parsed p = parse(f);
      if (!p.ok) continue;
      if (p.e == "trade") {
        repeated_trades += !seen_t.insert(p.t).second;
        auto it = truth.find(p.t);
        if (it != truth.end() && it->second != p.p) {
          outliers += outlier_ids.insert(p.t).second;  // the duplicated trade may be the outlier too
          EXPECT_NEAR(std::stod(p.p) / std::stod(it->second), 1.5, 1e-6);
        }
      } else if (p.e == "aggTrade") {
        repeated_aggs += !seen_a.insert(p.a).second;
      }
    }
  };
  size_t dup_t = 0, dup_a = 0, out = 0;
  ASSERT_TRUE(a.wait_until([&](const auto& frames, bool) {
    check(frames, dup_t, dup_a, out);
    return dup_t >= 1 && dup_a >= 1 && out >= 1;
  }));
  check(a.frames(), dup_t, dup_a, out);
  EXPECT_EQ(dup_t, 1u);
  EXPECT_EQ(dup_a, 1u);
  EXPECT_EQ(out, 1u);
}

TEST(SimulatorFaultTest, StallPausesThenCatchesUp) {
  SimulatorConfig c = small_config();
  c.rate = 5000;
  Simulator sim(c);
  ASSERT_TRUE(sim.start().is_ok());
  WsTestClient a;
  a.connect(sim.port(), "/ws/btcusdt@trade");
  a.start_reader();
  ASSERT_TRUE(a.wait_until([](const auto& f, bool) { return f.size() >= 10; }));
  const size_t before = a.frames().size();
  EXPECT_EQ(http_request(sim.port(), "/_sim/fault?stall_ms=400", http::verb::post).status, 200);
  ASSERT_TRUE(a.wait_until([&](const auto& f, bool) { return f.size() >= before + 2000; }));
  const auto times = a.times();
  auto max_gap = std::chrono::steady_clock::duration::zero();
  for (size_t i = before; i < times.size(); ++i) max_gap = std::max(max_gap, times[i] - times[i - 1]);
  EXPECT_GE(max_gap, 300ms);
  // Nothing lost: ids stay consecutive across the stall.
  const auto trades = of_kind(a.frames(), "trade");
  for (size_t i = 1; i < trades.size(); ++i) EXPECT_EQ(trades[i].t, trades[i - 1].t + 1);
}

}  // namespace
}  // namespace tickflow::exchange::simulator
