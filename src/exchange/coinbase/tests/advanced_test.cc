// Coinbase Advanced Trade: the parser on the messages of Coinbase's "Advanced Trade WebSocket
// Channels" page (and the newest-first batches the shared data README describes), the ES256 JWT
// verified with the openssl CLI, and the collector's "advanced" mode against scripted fakes:
// one subscribe per channel, snapshot trades not double counted with live ones, a sequence_num
// gap repaired from REST.
#include <gtest/gtest.h>
#include <openssl/bn.h>
#include <openssl/ecdsa.h>

#include <charconv>
#include <cstdio>
#include <fstream>

#include "bus/testing/in_memory_bus.h"
#include "core/codec.h"
#include "core/topics.h"
#include "exchange/coinbase/advanced_auth.h"
#include "exchange/coinbase/advanced_parse.h"
#include "exchange/coinbase/auth.h"
#include "exchange/coinbase/collector.h"
#include "exchange/tests/fake_transport.h"

namespace tickflow::exchange::coinbase {
namespace {

using bus::testing::InMemoryBus;
using testing::FakeHttp;
using testing::HttpScript;
using testing::WsScript;
using transport::HttpResponse;

// Coinbase's own example (docs, "Market Trades Channel").
constexpr std::string_view kDocsTrades =
    R"({"channel":"market_trades","client_id":"","timestamp":"2023-02-09T20:19:35.39625135Z","sequence_num":0,"events":[{"type":"snapshot","trades":[{"trade_id":"000000000","product_id":"ETH-USD","price":"1260.01","size":"0.3","side":"BUY","time":"2019-08-14T20:42:27.265Z"}]}]})";
// Coinbase's own example (docs, "Level2 Channel").
constexpr std::string_view kDocsL2 =
    R"({"channel":"l2_data","client_id":"","timestamp":"2023-02-09T20:32:50.714964855Z","sequence_num":0,"events":[{"type":"snapshot","product_id":"BTC-USD","updates":[{"side":"bid","event_time":"1970-01-01T00:00:00Z","price_level":"21921.73","new_quantity":"0.06317902"},{"side":"bid","event_time":"1970-01-01T00:00:00Z","price_level":"21921.3","new_quantity":"0.02"}]}]})";
constexpr std::string_view kDocsHeartbeat =
    R"({"channel":"heartbeats","client_id":"","timestamp":"2023-06-23T20:31:26.122969572Z","sequence_num":0,"events":[{"current_time":"2023-06-23 20:31:56.121961769 +0000 UTC m=+91717.525857105","heartbeat_counter":"3049"}]})";

std::string trade_json(int64_t id, std::string_view side = "SELL", std::string_view product = "BTC-USD") {
  char t[64];
  std::snprintf(t, sizeof t, "2026-12-03T10:00:%02d.%03dZ", static_cast<int>(id / 1000 % 60), static_cast<int>(id % 1000));
  return R"({"trade_id":")" + std::to_string(id) + R"(","product_id":")" + std::string(product) +
         R"(","price":"100.5","size":"0.25","side":")" + std::string(side) + R"(","time":")" + t + R"("})";
}
// A market_trades message: the ids newest first, as Coinbase lists them.
std::string trades_msg(int64_t seq, std::string_view type, int64_t from, int64_t to) {
  std::string m = R"({"channel":"market_trades","client_id":"","timestamp":"2026-12-03T10:00:00.1Z","sequence_num":)" +
                  std::to_string(seq) + R"(,"events":[{"type":")" + std::string(type) + R"(","trades":[)";
  for (int64_t id = to; id >= from; --id) {
    if (id != to) m += ',';
    m += trade_json(id);
  }
  return m + "]}]}";
}
std::string subs_msg(int64_t seq) {
  return R"({"channel":"subscriptions","client_id":"","timestamp":"2026-12-03T10:00:00Z","sequence_num":)" +
         std::to_string(seq) +
         R"(,"events":[{"subscriptions":{"heartbeats":["BTC-USD"],"market_trades":["BTC-USD"]}}]})";
}

TEST(AdvancedParse, DocsExamplesParse) {
  AdvancedParser p;
  AdvancedMessage m;
  ASSERT_TRUE(p.parse(kDocsTrades, 7, m).is_ok()) << p.error_reason();
  EXPECT_EQ(m.channel, AdvancedChannel::kMarketTrades);
  EXPECT_EQ(m.sequence_num, 0);
  ASSERT_EQ(m.events.size(), 1u);
  EXPECT_TRUE(m.events[0].snapshot);
  ASSERT_EQ(m.events[0].trades.size(), 1u);
  const Trade& t = m.events[0].trades[0];
  EXPECT_EQ(t.trade_id, 0);
  EXPECT_EQ(t.symbol, "ETH-USD");
  EXPECT_EQ(t.price.to_string(), "1260.01");
  EXPECT_EQ(t.quantity.to_string(), "0.3");
  EXPECT_EQ(t.taker_side, Side::kSell);  // the maker bought
  EXPECT_EQ(t.ts_event, *parse_iso8601("2019-08-14T20:42:27.265Z"));
  EXPECT_EQ(t.ts_recv, 7);
  EXPECT_EQ(m.timestamp, *parse_iso8601("2023-02-09T20:19:35.396251350Z"));

  ASSERT_TRUE(p.parse(kDocsL2, 0, m).is_ok()) << p.error_reason();
  EXPECT_EQ(m.channel, AdvancedChannel::kL2Data);
  ASSERT_EQ(m.events.size(), 1u);
  EXPECT_EQ(m.events[0].product_id, "BTC-USD");
  ASSERT_EQ(m.events[0].updates.size(), 2u);
  EXPECT_EQ(m.events[0].updates[1].price.to_string(), "21921.3");
  EXPECT_EQ(m.events[0].updates[1].size.to_string(), "0.02");
  ParsedMessage pm;
  to_level2_message(m.events[0], m.timestamp, pm);
  book::OrderBook book;
  ASSERT_TRUE(apply_to_book(pm, book).is_ok());
  EXPECT_EQ(book.bid_count(), 2u);
  EXPECT_EQ(book.best_bid()->price.to_string(), "21921.73");

  ASSERT_TRUE(p.parse(kDocsHeartbeat, 0, m).is_ok()) << p.error_reason();
  EXPECT_EQ(m.channel, AdvancedChannel::kHeartbeats);
  EXPECT_EQ(m.heartbeat_counter, 3049);
}

TEST(AdvancedParse, NewestFirstBatchesComeOutOldestFirstAndBadInputHasAReason) {
  AdvancedParser p;
  AdvancedMessage m;
  ASSERT_TRUE(p.parse(trades_msg(5, "update", 10, 13), 0, m).is_ok()) << p.error_reason();
  ASSERT_EQ(m.events.size(), 1u);
  ASSERT_EQ(m.events[0].trades.size(), 4u);
  for (int i = 0; i < 4; ++i) EXPECT_EQ(m.events[0].trades[i].trade_id, 10 + i);
  EXPECT_EQ(m.events[0].trades[0].taker_side, Side::kBuy);  // maker SELL
  ASSERT_TRUE(p.parse(subs_msg(1), 0, m).is_ok());
  ASSERT_EQ(m.subscriptions.size(), 2u);
  EXPECT_EQ(m.subscriptions[1].name, "market_trades");
  EXPECT_EQ(m.subscriptions[1].product_ids, std::vector<std::string>{"BTC-USD"});
  ASSERT_TRUE(p.parse(R"({"type":"error","message":"failure to subscribe"})", 0, m).is_ok());
  EXPECT_EQ(m.channel, AdvancedChannel::kError);
  EXPECT_EQ(m.error_message, "failure to subscribe");
  ASSERT_TRUE(p.parse(R"({"channel":"ticker","sequence_num":3,"events":[]})", 0, m).is_ok());
  EXPECT_EQ(m.channel, AdvancedChannel::kOther);

  const std::vector<std::pair<std::string, std::string_view>> bad = {
      {std::string(kDocsTrades.substr(0, 60)), "malformed_json"},
      {R"({"channel":"surprise","events":[]})", "unknown_type"},
      {R"({"sequence_num":1,"events":[]})", "missing_field"},
      {R"({"channel":"market_trades","events":[{"type":"update","trades":[{"trade_id":"x1","product_id":"BTC-USD","price":"1","size":"1","side":"BUY","time":"2026-12-03T10:00:00Z"}]}]})",
       "bad_field"},
      {R"({"channel":"market_trades","events":[{"type":"update","trades":[{"trade_id":"1","product_id":"BTC-USD","price":"abc","size":"1","side":"BUY","time":"2026-12-03T10:00:00Z"}]}]})",
       "bad_decimal"},
      {R"({"channel":"market_trades","events":[{"type":"update","trades":[{"trade_id":"1","product_id":"btcusd","price":"1","size":"1","side":"BUY","time":"2026-12-03T10:00:00Z"}]}]})",
       "bad_symbol"},
      {R"({"channel":"market_trades","events":[{"type":"update","trades":[{"trade_id":"1","product_id":"BTC-USD","price":"1","size":"1","side":"BUY","time":"yesterday"}]}]})",
       "bad_time"},
      {R"({"channel":"l2_data","events":[{"type":"update","product_id":"BTC-USD","updates":[{"side":"middle","price_level":"1","new_quantity":"1"}]}]})",
       "bad_field"},
  };
  for (const auto& [frame, reason] : bad) {
    EXPECT_FALSE(p.parse(frame, 0, m).is_ok()) << frame;
    EXPECT_EQ(p.error_reason(), reason) << frame;
  }
}

std::string run(const std::string& cmd) {
  FILE* f = popen(cmd.c_str(), "r");
  if (f == nullptr) return "popen failed";
  std::string out;
  char buf[512];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, f)) > 0) out.append(buf, n);
  if (pclose(f) != 0) out += " [exit != 0]";
  return out;
}

std::string base64url_decode(std::string_view s) {
  std::string b64(s);
  for (char& c : b64) c = c == '-' ? '+' : c == '_' ? '/' : c;
  while (b64.size() % 4 != 0) b64.push_back('=');
  auto bytes = base64_decode(b64);
  return bytes ? *bytes : std::string("<bad base64>");
}

// The JWT's header and claims are Coinbase's, and its ES256 signature verifies with the
// openssl CLI against the key's public half.
TEST(AdvancedJwt, Es256SignatureVerifiesWithOpensslCli) {
  const std::string dir = ::testing::TempDir();
  const std::string key = dir + "/cb_adv_key.pem", pub = dir + "/cb_adv_pub.pem";
  ASSERT_EQ(run("openssl ecparam -name prime256v1 -genkey -noout -out " + key + " 2>&1"), "");
  ASSERT_EQ(run("openssl ec -in " + key + " -pubout -out " + pub + " 2>/dev/null"), "");
  std::ifstream in(key);
  std::string pem((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  ASSERT_NE(pem.find("BEGIN EC PRIVATE KEY"), std::string::npos);
  const std::string name = "organizations/org-1/apiKeys/key-2";
  auto jwt = advanced_jwt(name, pem, 1764756000, "00112233445566778899aabbccddeeff");
  ASSERT_TRUE(jwt.is_ok()) << jwt.status().to_string();
  const size_t d1 = jwt->find('.'), d2 = jwt->find('.', d1 + 1);
  ASSERT_NE(d2, std::string::npos);
  EXPECT_EQ(base64url_decode(jwt->substr(0, d1)),
            R"({"alg":"ES256","kid":"organizations/org-1/apiKeys/key-2","nonce":"00112233445566778899aabbccddeeff","typ":"JWT"})");
  EXPECT_EQ(base64url_decode(jwt->substr(d1 + 1, d2 - d1 - 1)),
            R"({"iss":"cdp","nbf":1764756000,"exp":1764756120,"sub":"organizations/org-1/apiKeys/key-2"})");
  EXPECT_EQ(jwt->find_first_of("+/="), std::string::npos);  // base64url, unpadded
  const std::string raw = base64url_decode(jwt->substr(d2 + 1));
  ASSERT_EQ(raw.size(), 64u);  // r || s
  // raw → DER for the CLI.
  ECDSA_SIG* sig = ECDSA_SIG_new();
  ECDSA_SIG_set0(sig, BN_bin2bn(reinterpret_cast<const unsigned char*>(raw.data()), 32, nullptr),
                 BN_bin2bn(reinterpret_cast<const unsigned char*>(raw.data()) + 32, 32, nullptr));
  unsigned char* der = nullptr;
  const int der_len = i2d_ECDSA_SIG(sig, &der);
  ECDSA_SIG_free(sig);
  ASSERT_GT(der_len, 0);
  {
    std::ofstream(dir + "/cb_adv_sig.der", std::ios::binary).write(reinterpret_cast<const char*>(der), der_len);
    std::ofstream(dir + "/cb_adv_data.txt", std::ios::binary) << jwt->substr(0, d2);
  }
  OPENSSL_free(der);
  EXPECT_EQ(run("openssl dgst -sha256 -verify " + pub + " -signature " + dir + "/cb_adv_sig.der " + dir +
                "/cb_adv_data.txt"),
            "Verified OK\n");
  // A different signed text does not verify.
  { std::ofstream(dir + "/cb_adv_data.txt", std::ios::binary) << jwt->substr(0, d2) << "x"; }
  EXPECT_NE(run("openssl dgst -sha256 -verify " + pub + " -signature " + dir + "/cb_adv_sig.der " + dir +
                "/cb_adv_data.txt 2>&1"),
            "Verified OK\n");
  // Literal "\n" escapes (one-line environment variable) are accepted; junk is not.
  std::string escaped;
  for (char c : pem) escaped += c == '\n' ? std::string("\\n") : std::string(1, c);
  EXPECT_TRUE(advanced_jwt(name, escaped, 1, "n").is_ok());
  EXPECT_FALSE(advanced_jwt(name, "not a key", 1, "n").is_ok());

  CollectorConfig c;
  c.feed = "advanced";
  c.symbols = {"BTC-USD"};
  c.advanced_key_name = name;
  c.advanced_private_key = pem;
  auto subs = advanced_subscribe_messages(c, 1764756000);
  ASSERT_TRUE(subs.is_ok());
  ASSERT_EQ(subs->size(), 2u);
  EXPECT_EQ((*subs)[1].rfind(R"({"type":"subscribe","product_ids":["BTC-USD"],"channel":"market_trades","jwt":"ey)", 0),
            0u)
      << (*subs)[1];
  c.advanced_private_key = "junk";
  EXPECT_NE(validate(c).message().find("advanced_private_key"), std::string::npos);
}

int64_t query_int(std::string_view target, std::string_view name) {
  const std::string key = std::string(name) + "=";
  size_t pos = target.find(key);
  if (pos == std::string_view::npos) return -1;
  int64_t v = -1;
  std::from_chars(target.data() + pos + key.size(), target.data() + target.size(), v);
  return v;
}

// REST /products/BTC-USD/trades holding ids 1..last, newest first, paged by after=.
FakeHttp::Handler rest_history(std::shared_ptr<std::atomic<int64_t>> last) {
  return [last](const transport::Url& url) -> Result<HttpResponse> {
    HttpResponse r;
    r.status = 200;
    const int64_t after = query_int(url.target, "after"), limit = query_int(url.target, "limit");
    const int64_t top = after < 0 ? last->load() : std::min(last->load(), after - 1);
    std::string body = "[";
    for (int64_t id = top; id >= 1 && id > top - limit; --id) {
      if (body.size() > 1) body += ',';
      char t[64];
      std::snprintf(t, sizeof t, "2026-12-03T10:00:%02d.%03dZ", static_cast<int>(id / 1000 % 60),
                    static_cast<int>(id % 1000));
      body += R"({"time":")" + std::string(t) + R"(","trade_id":)" + std::to_string(id) +
              R"(,"price":"100.5","size":"0.25","side":"sell"})";
    }
    r.body = body + "]";
    return r;
  };
}

class AdvancedCollectorTest : public ::testing::Test {
 protected:
  CollectorConfig config() {
    CollectorConfig c;
    c.feed = "advanced";
    c.ws_url = "ws://127.0.0.1:9/coinbase-advanced";
    c.rest_url = "http://127.0.0.1:9";
    c.symbols = {"BTC-USD"};
    c.backoff.base_delay = 1 * kNsPerMs;
    c.backoff.max_delay = 5 * kNsPerMs;
    c.backoff.breaker_cooldown = 5 * kNsPerMs;
    c.backfill_limit = 5;
    c.resolve_products = false;
    return c;
  }
  std::vector<Trade> trades() const {
    std::vector<Trade> out;
    for (const auto& r : bus_.records(topics::kRawMarketData)) out.push_back(*codec::decode_trade(r.value));
    return out;
  }
  std::vector<int64_t> ids() const {
    std::vector<int64_t> v;
    for (const auto& t : trades()) v.push_back(t.trade_id);
    return v;
  }
  static std::vector<int64_t> iota(int64_t a, int64_t b) {
    std::vector<int64_t> v;
    for (int64_t i = a; i <= b; ++i) v.push_back(i);
    return v;
  }
  InMemoryBus bus_;
  ManualClock clock_{1796292060000000000};
  WsScript ws_;
  HttpScript http_;
  std::shared_ptr<std::atomic<int64_t>> rest_last_ = std::make_shared<std::atomic<int64_t>>(0);
};

TEST_F(AdvancedCollectorTest, SnapshotTradesAreNotDoubleCountedWithLiveOnes) {
  http_.set_handler(rest_history(rest_last_));
  auto cfg = config();
  cfg.book = true;
  Collector c(cfg, bus_, clock_, ws_.make(), http_.make());
  ASSERT_TRUE(c.start().is_ok());
  ws_.frame(subs_msg(1));
  ws_.frame(trades_msg(2, "snapshot", 91, 100));  // older than the subscription, newest first
  ws_.frame(trades_msg(3, "update", 99, 103));    // overlaps the snapshot
  ws_.frame(trades_msg(4, "update", 104, 104));
  ASSERT_TRUE(bus_.wait_until([&] { return c.stats().frames >= 4; }));
  ASSERT_TRUE(bus_.wait_until([&] { return bus_.count(topics::kRawMarketData) >= 14; }));
  c.stop();
  EXPECT_EQ(ids(), iota(91, 104));
  const auto t = trades();
  EXPECT_EQ(t.front().taker_side, Side::kBuy);  // maker SELL
  EXPECT_EQ(t.front().symbol, "BTC-USD");
  EXPECT_EQ(c.stats().duplicates_dropped, 2u);
  EXPECT_EQ(c.stats().sequence_gaps, 0u);
  EXPECT_TRUE(http_.requests().empty());
  auto sent = ws_.sent();
  ASSERT_EQ(sent.size(), 3u);
  EXPECT_EQ(sent[0], R"({"type":"subscribe","product_ids":["BTC-USD"],"channel":"heartbeats"})");
  EXPECT_EQ(sent[1], R"({"type":"subscribe","product_ids":["BTC-USD"],"channel":"market_trades"})");
  EXPECT_EQ(sent[2], R"({"type":"subscribe","product_ids":["BTC-USD"],"channel":"level2"})");
}

TEST_F(AdvancedCollectorTest, SequenceGapIsRepairedFromRestAndResyncsTheBook) {
  rest_last_->store(120);
  http_.set_handler(rest_history(rest_last_));
  auto cfg = config();
  cfg.book = true;
  Collector c(cfg, bus_, clock_, ws_.make(), http_.make());
  ASSERT_TRUE(c.start().is_ok());
  ws_.frame(subs_msg(1));
  ws_.frame(R"({"channel":"l2_data","client_id":"","timestamp":"2026-12-03T10:00:00Z","sequence_num":2,"events":[{"type":"snapshot","product_id":"BTC-USD","updates":[{"side":"bid","event_time":"2026-12-03T10:00:00Z","price_level":"100","new_quantity":"1"},{"side":"offer","event_time":"2026-12-03T10:00:00Z","price_level":"101","new_quantity":"2"}]}]})");
  ws_.frame(trades_msg(3, "update", 100, 100));
  // sequence_num 4..6 lost (trades 101..110 among them); 7 is a heartbeat: nothing else shows it.
  ws_.frame(R"({"channel":"heartbeats","client_id":"","timestamp":"2026-12-03T10:00:01Z","sequence_num":7,"events":[{"current_time":"x","heartbeat_counter":"9"}]})");
  ASSERT_TRUE(bus_.wait_until([&] { return bus_.count(topics::kRawMarketData) >= 21; }));
  c.stop();
  EXPECT_EQ(ids(), iota(100, 120));  // everything newer than 100 from REST, once
  const auto s = c.stats();
  EXPECT_EQ(s.sequence_gaps, 1u);
  EXPECT_EQ(s.backfilled, 20u);
  EXPECT_EQ(s.book_resyncs, 1u);
  auto sent = ws_.sent();
  ASSERT_EQ(sent.size(), 5u);
  EXPECT_EQ(sent[3], R"({"type":"unsubscribe","product_ids":["BTC-USD"],"channel":"level2"})");
  EXPECT_EQ(sent[4], R"({"type":"subscribe","product_ids":["BTC-USD"],"channel":"level2"})");
  ASSERT_FALSE(http_.requests().empty());
  EXPECT_EQ(http_.requests()[0], "/products/BTC-USD/trades?limit=5");
}

}  // namespace
}  // namespace tickflow::exchange::coinbase
