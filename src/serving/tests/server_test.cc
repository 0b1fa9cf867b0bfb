// The real HttpServer on 127.0.0.1:0 with a tiny blocking Beast client.
#include <utility>  // before Boost (Boost 1.74 Asio on GCC 12)

#include "serving/server.h"

#include <gtest/gtest.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>

#include "core/codec.h"
#include "delivery/alert_json.h"
#include "observability/metrics.h"
#include "serving/candle_json.h"
#include "serving/tests/fakes.h"
#include "serving/tests/test_util.h"

namespace tickflow::serving {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
namespace net = boost::asio;
using tcp = net::ip::tcp;

using testing::eventually;
using testing::FakeCandleStore;
using testing::FakeEventBus;
using testing::make_candle;

constexpr int64_t kT0 = 1628952360000;

struct HttpClient {
  explicit HttpClient(uint16_t port) : socket(ioc) { socket.connect({net::ip::make_address("127.0.0.1"), port}); }
  http::response<http::string_body> get(const std::string& target, bool keep_alive = true) {
    http::request<http::empty_body> req{http::verb::get, target, 11};
    req.set(http::field::host, "127.0.0.1");
    req.keep_alive(keep_alive);
    http::write(socket, req);
    http::response<http::string_body> res;
    http::read(socket, buffer, res);
    return res;
  }
  net::io_context ioc;
  tcp::socket socket;
  beast::flat_buffer buffer;
};

// Status of a WebSocket upgrade request sent as plain HTTP (Beast's client hides the response
// of a declined handshake).
unsigned upgrade_status(uint16_t port, const std::string& target) {
  HttpClient client(port);
  http::request<http::empty_body> req{http::verb::get, target, 11};
  req.set(http::field::host, "127.0.0.1");
  req.set(http::field::upgrade, "websocket");
  req.set(http::field::connection, "Upgrade");
  req.set(http::field::sec_websocket_key, "dGhlIHNhbXBsZSBub25jZQ==");
  req.set(http::field::sec_websocket_version, "13");
  http::write(client.socket, req);
  http::response<http::string_body> res;
  http::read(client.socket, client.buffer, res);
  return res.result_int();
}

struct WsClient {
  explicit WsClient(uint16_t port) : ws(ioc) {
    ws.next_layer().connect({net::ip::make_address("127.0.0.1"), port});
  }
  // Returns the HTTP status of the handshake response (101 on success).
  unsigned handshake(const std::string& target) {
    websocket::response_type res;
    beast::error_code ec;
    ws.handshake(res, "127.0.0.1", target, ec);
    return res.result_int();
  }
  std::string read() {
    beast::flat_buffer b;
    ws.read(b);
    return beast::buffers_to_string(b.data());
  }
  net::io_context ioc;
  websocket::stream<tcp::socket> ws;
};

class ServerTest : public ::testing::Test {
 protected:
  ServerTest() {
    EXPECT_TRUE(bus_.create_topic({std::string(topics::kNormalizedOhlcv), 4, 0}).is_ok());
    std::vector<Candle> candles;
    for (int i = 0; i < 5; ++i) candles.push_back(make_candle(kT0 + i * 60'000));
    EXPECT_TRUE(store_.write(candles, {}).is_ok());
  }
  ~ServerTest() override {
    if (server_) server_->stop();
    gateway_.stop();
  }
  void start(ServerConfig config = {}) {
    config.port = 0;
    ASSERT_TRUE(gateway_.start().is_ok());
    server_ = std::make_unique<HttpServer>(config, api_, gateway_);
    Status s = server_->start();
    ASSERT_TRUE(s.is_ok()) << s.to_string();
    ASSERT_NE(server_->port(), 0);
  }
  void publish(const Candle& c) {
    ASSERT_TRUE(bus_.publish(topics::kNormalizedOhlcv, instrument_key(c.exchange, c.symbol),
                             codec::encode_candle(c, 0, 0))
                    .is_ok());
  }

  FakeCandleStore store_;
  FakeEventBus bus_;
  ApiHandler api_{store_, [] { return std::vector<ComponentHealth>{{"store", HealthState::kUp, ""}}; }};
  RealtimeGateway gateway_{bus_};
  std::unique_ptr<HttpServer> server_;
};

TEST_F(ServerTest, RestRequestsShareOneKeepAliveConnection) {
  start();
  HttpClient client(server_->port());
  auto r1 = client.get("/ohlcv/binance/btcusdt/1m?limit=2");
  EXPECT_EQ(r1.result_int(), 200u);
  EXPECT_EQ(r1[http::field::content_type], "application/json");
  EXPECT_TRUE(r1.keep_alive());
  EXPECT_NE(r1.body().find("\"open_time_ms\":1628952540000"), std::string::npos) << r1.body();
  auto r2 = client.get("/ohlcv/binance/BTC-USDT/1m?limit=0");
  EXPECT_EQ(r2.result_int(), 400u);
  EXPECT_NE(r2.body().find("\"parameter\":\"limit\""), std::string::npos);
  auto r3 = client.get("/health");
  EXPECT_EQ(r3.result_int(), 200u);
  auto r4 = client.get("/metrics", false);
  EXPECT_EQ(r4[http::field::content_type], "text/plain; version=0.0.4");
  EXPECT_NE(r4.body().find("tickflow_api_requests_total"), std::string::npos);
  EXPECT_FALSE(r4.keep_alive());
}

TEST_F(ServerTest, PortInUseIsAClearError) {
  start();
  ServerConfig config;
  config.port = server_->port();
  HttpServer second(config, api_, gateway_);
  Status s = second.start();
  EXPECT_FALSE(s.is_ok());
  EXPECT_EQ(s.message(), "port " + std::to_string(config.port) +
                             " on 127.0.0.1 is already in use (set api.port or --port)");
  second.stop();
}

TEST_F(ServerTest, WebSocketSendsSnapshotThenPushesEveryUpdate) {
  ServerConfig config;
  config.threads = 2;  // sessions run on strands
  start(config);
  WsClient client(server_->port());
  ASSERT_EQ(client.handshake("/ws/ohlcv/binance/BTC-USDT/1m"), 101u);
  std::string snapshot = client.read();
  EXPECT_EQ(snapshot.rfind("{\"type\":\"snapshot\",\"exchange\":\"binance\",\"symbol\":\"BTC-USDT\"", 0), 0u)
      << snapshot;
  EXPECT_NE(snapshot.find("\"open_time_ms\":1628952600000"), std::string::npos) << snapshot;  // the latest
  ASSERT_TRUE(eventually([&] { return gateway_.subscriber_count() == 1; }));

  Candle provisional = make_candle(kT0 + 5 * 60'000, "46100.00000000", CandleStatus::kProvisional);
  Candle final_candle = make_candle(kT0 + 5 * 60'000, "46100.50000000", CandleStatus::kFinal);
  Candle corrected = final_candle;
  corrected.status = CandleStatus::kCorrected;
  corrected.revision = 1;
  publish(make_candle(kT0, "1.00000000", CandleStatus::kFinal, "ETH-USDT"));  // another series
  publish(provisional);
  // Wait for each update to be written so conflation cannot merge them.
  EXPECT_EQ(client.read(), candle_update_message(provisional));
  publish(final_candle);
  EXPECT_EQ(client.read(), candle_update_message(final_candle));
  publish(corrected);
  std::string msg = client.read();
  EXPECT_EQ(msg, candle_update_message(corrected));
  EXPECT_NE(msg.find("\"status\":\"corrected\",\"revision\":1"), std::string::npos);
}

TEST_F(ServerTest, WebSocketPathIsValidatedBeforeUpgrading) {
  start();
  EXPECT_EQ(upgrade_status(server_->port(), "/ws/ohlcv/binance/BTC-USDT/7m"), 400u);
  EXPECT_EQ(upgrade_status(server_->port(), "/ws/ohlcv/binance/ETH-USDT/1m"), 404u);
  EXPECT_EQ(upgrade_status(server_->port(), "/ws/other"), 404u);
  EXPECT_EQ(gateway_.subscriber_count(), 0u);
  EXPECT_EQ(upgrade_status(server_->port(), "/ws/ohlcv/binance/BTC-USDT/1m"), 101u);  // the same request, valid
  // The client hung up: its subscription goes away with the connection.
  EXPECT_TRUE(eventually([&] { return gateway_.subscriber_count() == 0 && server_->session_count() == 0; }));
}

TEST_F(ServerTest, PingsAndKeepsAClientThatAnswers) {
  ServerConfig config;
  config.ping_interval = 20 * kNsPerMs;
  config.pong_timeout = 150 * kNsPerMs;
  start(config);
  // Beast answers pings with pongs while a read is pending.
  WsClient live(server_->port());
  ASSERT_EQ(live.handshake("/ws/ohlcv/binance/BTC-USDT/1m"), 101u);
  std::atomic<int> pings{0};
  live.ws.control_callback([&](websocket::frame_type kind, beast::string_view) {
    if (kind == websocket::frame_type::ping) ++pings;
  });
  live.read();  // snapshot
  beast::flat_buffer buf;
  bool read_done = false;
  live.ws.async_read(buf, [&](beast::error_code, size_t) { read_done = true; });
  auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (pings < 10 && !read_done && std::chrono::steady_clock::now() < until)
    live.ioc.run_one_for(std::chrono::milliseconds(100));
  EXPECT_GE(pings.load(), 10);  // 10 pings ≈ 200 ms > pong_timeout, and still open
  EXPECT_FALSE(read_done);
  EXPECT_EQ(gateway_.subscriber_count(), 1u);
}

TEST_F(ServerTest, ClosesAClientThatNeverAnswersPings) {
  ServerConfig config;
  config.ping_interval = 20 * kNsPerMs;
  config.pong_timeout = 150 * kNsPerMs;
  start(config);
  WsClient silent(server_->port());  // never reads, so never pongs
  ASSERT_EQ(silent.handshake("/ws/ohlcv/binance/BTC-USDT/1m"), 101u);
  ASSERT_TRUE(eventually([&] { return gateway_.subscriber_count() == 1; }));
  ASSERT_TRUE(eventually([&] { return gateway_.subscriber_count() == 0 && server_->session_count() == 0; }));
  beast::error_code ec;
  beast::flat_buffer b;
  while (!ec) silent.ws.read(b, ec);  // the snapshot may still be buffered, then the close
  EXPECT_TRUE(ec);
}

TEST_F(ServerTest, StopClosesSessionsAndIsIdempotent) {
  start();
  HttpClient http_client(server_->port());
  EXPECT_EQ(http_client.get("/health").result_int(), 200u);
  WsClient ws_client(server_->port());
  ASSERT_EQ(ws_client.handshake("/ws/ohlcv/binance/BTC-USDT/1m"), 101u);
  ws_client.read();
  ASSERT_TRUE(eventually([&] { return server_->session_count() == 2; }));
  server_->stop();
  server_->stop();
  beast::flat_buffer b;
  beast::error_code ec;
  ws_client.ws.read(b, ec);
  EXPECT_TRUE(ec);
  http::response<http::string_body> res;
  http::request<http::empty_body> req{http::verb::get, "/health", 11};
  http::write(http_client.socket, req, ec);
  if (!ec) http::read(http_client.socket, http_client.buffer, res, ec);
  EXPECT_TRUE(ec);
  EXPECT_EQ(gateway_.subscriber_count(), 0u);
}


Alert server_alert(const std::string& rule, const std::string& symbol, size_t message_bytes = 0) {
  Alert a;
  a.alert_id = rule + ":binance:" + symbol + ":1m:1:firing";
  a.rule = rule;
  a.kind = "price_cross";
  a.exchange = "binance";
  a.symbol = symbol;
  a.timeframe = "1m";
  a.ts_event = kT0 * kNsPerMs;
  a.message = std::string(message_bytes, 'x');
  return a;
}

TEST_F(ServerTest, AlertsWebSocketPushesEveryMatchingAlertInOrder) {
  ASSERT_TRUE(bus_.create_topic({std::string(topics::kProcessedAlerts), 2, 0}).is_ok());
  start();
  EXPECT_EQ(upgrade_status(server_->port(), "/ws/alerts?colour=red"), 400u);
  EXPECT_EQ(upgrade_status(server_->port(), "/ws/alerts?rule=a&rule=b"), 400u);
  EXPECT_EQ(upgrade_status(server_->port(), "/ws/alerts?rule="), 400u);
  ASSERT_TRUE(eventually([&] { return server_->session_count() == 0; }));
  {
    HttpClient plain(server_->port());
    EXPECT_EQ(plain.get("/ws/alerts").result_int(), 426u);
  }
  WsClient all(server_->port()), filtered(server_->port());
  ASSERT_EQ(all.handshake("/ws/alerts"), 101u);
  ASSERT_EQ(filtered.handshake("/ws/alerts?rule=rsi_high,btc_above&symbol=ETH-USDT"), 101u);
  ASSERT_TRUE(eventually([&] { return gateway_.subscriber_count() == 2; }));
  std::vector<Alert> alerts = {server_alert("btc_above", "BTC-USDT"), server_alert("rsi_high", "ETH-USDT"),
                               server_alert("rsi_high", "ETH-USDT"), server_alert("other", "ETH-USDT")};
  alerts[2].state = "resolved";
  for (const Alert& a : alerts)
    ASSERT_TRUE(bus_.publish(topics::kProcessedAlerts, "one-partition", codec::encode_alert(a)).is_ok());
  // Never conflated: the firing and the resolution of the same rule both arrive, in order.
  for (const Alert& a : alerts) EXPECT_EQ(all.read(), delivery::alert_ws_message(a));
  EXPECT_EQ(filtered.read(), delivery::alert_ws_message(alerts[1]));
  EXPECT_EQ(filtered.read(), delivery::alert_ws_message(alerts[2]));
}

TEST_F(ServerTest, SeriesWebSocketAlsoPushesIndicators) {
  ASSERT_TRUE(bus_.create_topic({std::string(topics::kProcessedIndicators), 2, 0}).is_ok());
  start();
  WsClient client(server_->port());
  ASSERT_EQ(client.handshake("/ws/ohlcv/binance/BTC-USDT/1m"), 101u);
  client.read();  // snapshot
  ASSERT_TRUE(eventually([&] { return gateway_.subscriber_count() == 1; }));
  IndicatorRecord r;
  r.symbol = "BTC-USDT";
  r.timeframe = *Timeframe::parse("1m");
  r.open_time = kT0 * kNsPerMs;
  r.close_time = (kT0 + 59'999) * kNsPerMs;
  r.values = {{"ema20", 46001.5}};
  ASSERT_TRUE(bus_.publish(topics::kProcessedIndicators, "k", codec::encode_indicators(r)).is_ok());
  EXPECT_EQ(client.read(), indicators_update_message(r));
}

TEST_F(ServerTest, ASlowAlertClientIsDisconnectedNotSilentlySkipped) {
  ASSERT_TRUE(bus_.create_topic({std::string(topics::kProcessedAlerts), 1, 0}).is_ok());
  ServerConfig config;
  config.max_alert_queue = 4;
  start(config);
  WsClient stalled(server_->port());
  // A tiny receive buffer so the server's writes get stuck quickly.
  stalled.ws.next_layer().set_option(net::socket_base::receive_buffer_size(4096));
  ASSERT_EQ(stalled.handshake("/ws/alerts"), 101u);
  ASSERT_TRUE(eventually([&] { return gateway_.subscriber_count() == 1; }));
  // The client never reads: published alerts pile up until the bound is passed.
  for (int i = 0; i < 400 && gateway_.subscriber_count() == 1; ++i) {
    Alert a = server_alert("r" + std::to_string(i), "BTC-USDT", 64 * 1024);
    ASSERT_TRUE(bus_.publish(topics::kProcessedAlerts, "k", codec::encode_alert(a)).is_ok());
    eventually([&] { return gateway_.alerts() == static_cast<uint64_t>(i + 1); });
  }
  EXPECT_TRUE(eventually([&] { return gateway_.subscriber_count() == 0; }));
  EXPECT_NE(obs::render_text().find("tickflow_realtime_alert_disconnects_total"), std::string::npos);
  // The client sees the connection end (after whatever had been written), not a silent gap.
  beast::error_code ec;
  stalled.ws.next_layer().non_blocking(false);
  // Drain with a normal buffer: through the 4 KB window the server's unsent data crawled at the
  // pace of TCP's zero-window probes (this test took 10-110 s).
  stalled.ws.next_layer().set_option(net::socket_base::receive_buffer_size(1 << 20));
  for (int i = 0; i < 1000 && !ec; ++i) {
    beast::flat_buffer b;
    stalled.ws.read(b, ec);
  }
  EXPECT_TRUE(ec) << "the connection should have been closed";
}

}  // namespace
}  // namespace tickflow::serving
