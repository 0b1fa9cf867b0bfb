// The real Beast transports against a tiny TLS server in the test (127.0.0.1, port 0) with a
// throw-away certificate for "localhost": verification on, host name checked, WS over TLS,
// non-destructive read timeouts, close() from another thread.
#include <utility>  // Boost 1.74 Asio on GCC 12 needs this before its headers.

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <cstdlib>
#include <filesystem>
#include <thread>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <unistd.h>

#include "exchange/transport/http_client.h"
#include "exchange/transport/ws_connection.h"

namespace tickflow::exchange::transport {
namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
namespace ssl = net::ssl;
using tcp = net::ip::tcp;

// HTTPS + WSS server: HTTP GET → 200 "hello <target>" with Retry-After: 3; WS upgrade → sends
// "one", waits for the client's "go", sends "two", then closes.
class TlsServer {
 public:
  TlsServer(const std::string& cert, const std::string& key) : ctx_(ssl::context::tls_server) {
    ctx_.use_certificate_chain_file(cert);
    ctx_.use_private_key_file(key, ssl::context::pem);
    acceptor_.open(tcp::v4());
    acceptor_.set_option(net::socket_base::reuse_address(true));
    acceptor_.bind({net::ip::make_address("127.0.0.1"), 0});
    acceptor_.listen();
    port_ = acceptor_.local_endpoint().port();
    thread_ = std::thread([this] { serve(); });
  }
  ~TlsServer() {
    stop_.store(true);
    beast::error_code ec;
    // Wake the blocking accept with a connection of our own.
    tcp::socket s(ioc_);
    s.connect({net::ip::make_address("127.0.0.1"), port_}, ec);
    thread_.join();
  }
  uint16_t port() const { return port_; }

 private:
  void serve() {
    while (!stop_.load()) {
      tcp::socket sock(ioc_);
      beast::error_code ec;
      acceptor_.accept(sock, ec);
      if (ec || stop_.load()) return;
      handle(std::move(sock));
    }
  }
  void handle(tcp::socket sock) {
    beast::error_code ec;
    beast::ssl_stream<tcp::socket> stream(std::move(sock), ctx_);
    stream.handshake(ssl::stream_base::server, ec);
    if (ec) return;  // the client refused our certificate
    beast::flat_buffer buf;
    http::request<http::string_body> req;
    http::read(stream, buf, req, ec);
    if (ec) return;
    if (websocket::is_upgrade(req)) {
      websocket::stream<beast::ssl_stream<tcp::socket>&> ws(stream);
      ws.accept(req, ec);
      if (ec) return;
      ws.text(true);
      ws.write(net::buffer(std::string("one")), ec);
      beast::flat_buffer in;
      ws.read(in, ec);
      if (ec || beast::buffers_to_string(in.data()) != "go") return;
      ws.write(net::buffer(std::string("two")), ec);
      ws.close(websocket::close_code::normal, ec);
      return;
    }
    http::response<http::string_body> res{http::status::ok, req.version()};
    res.set(http::field::content_type, "text/plain");
    res.set(http::field::retry_after, "3");
    res.body() = "hello " + std::string(req.target());
    res.prepare_payload();
    http::write(stream, res, ec);
    stream.shutdown(ec);
  }

  net::io_context ioc_;
  ssl::context ctx_;
  tcp::acceptor acceptor_{ioc_};
  uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

class TransportTlsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new std::filesystem::path(std::filesystem::temp_directory_path() /
                                     ("tickflow_tls_" + std::to_string(::getpid())));
    std::filesystem::create_directories(*dir_);
    const std::string cmd = "openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=localhost "
                            "-addext subjectAltName=DNS:localhost -keyout " +
                            (*dir_ / "key.pem").string() + " -out " + (*dir_ / "cert.pem").string() +
                            " >/dev/null 2>&1";
    have_cert_ = std::system(cmd.c_str()) == 0;
  }
  static void TearDownTestSuite() {
    std::filesystem::remove_all(*dir_);
    delete dir_;
  }
  void SetUp() override {
    if (!have_cert_) GTEST_SKIP() << "openssl CLI not available to make a test certificate";
    server_ = std::make_unique<TlsServer>(cert(), (*dir_ / "key.pem").string());
  }
  static std::string cert() { return (*dir_ / "cert.pem").string(); }
  std::string base(std::string_view scheme, std::string_view host) const {
    return std::string(scheme) + "://" + std::string(host) + ":" + std::to_string(server_->port());
  }

  static inline std::filesystem::path* dir_ = nullptr;
  static inline bool have_cert_ = false;
  std::unique_ptr<TlsServer> server_;
};

TEST_F(TransportTlsTest, HttpsGetVerifiesTheCertificateAndReturnsHeaders) {
  HttpOptions opts;
  opts.extra_ca_file = cert();
  auto client = make_http_client(opts);
  auto res = client->get(*parse_url(base("https", "localhost") + "/api/v3/ping?x=1"), {}, 5 * kNsPerSec);
  ASSERT_TRUE(res.is_ok()) << res.status().to_string();
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->body, "hello /api/v3/ping?x=1");
  EXPECT_EQ(res->retry_after_seconds(), 3);
}

TEST_F(TransportTlsTest, HttpsRejectsAnUntrustedCertificate) {
  auto client = make_http_client();  // system CA store only
  auto res = client->get(*parse_url(base("https", "localhost") + "/"), {}, 5 * kNsPerSec);
  ASSERT_FALSE(res.is_ok());
  EXPECT_EQ(res.status().code(), ErrorCode::kUnavailable);
  EXPECT_NE(res.status().message().find("TLS handshake"), std::string::npos) << res.status().message();
}

TEST_F(TransportTlsTest, HttpsRejectsAHostNameMismatch) {
  HttpOptions opts;
  opts.extra_ca_file = cert();
  auto client = make_http_client(opts);
  // Trusted certificate, but it names "localhost", not 127.0.0.1.
  auto res = client->get(*parse_url(base("https", "127.0.0.1") + "/"), {}, 5 * kNsPerSec);
  ASSERT_FALSE(res.is_ok());
  EXPECT_NE(res.status().message().find("TLS handshake"), std::string::npos) << res.status().message();
}

TEST_F(TransportTlsTest, WssReadsFramesWithNonDestructiveTimeouts) {
  WsOptions opts;
  opts.extra_ca_file = cert();
  auto ws = make_ws_connection(opts);
  ASSERT_TRUE(ws->connect(*parse_url(base("wss", "localhost") + "/stream?streams=a"), 5 * kNsPerSec).is_ok());
  EXPECT_TRUE(ws->is_open());
  auto one = ws->read_frame(5 * kNsPerSec);
  ASSERT_TRUE(one.is_ok()) << one.status().to_string();
  EXPECT_EQ(*one, "one");
  // Nothing buffered: a poll and a short timeout both return without losing the connection.
  EXPECT_FALSE(ws->read_frame(0).is_ok());
  EXPECT_TRUE(ws->is_open());
  EXPECT_FALSE(ws->read_frame(10 * kNsPerMs).is_ok());
  EXPECT_TRUE(ws->is_open());
  ASSERT_TRUE(ws->send_text("go").is_ok());
  auto two = ws->read_frame(5 * kNsPerSec);
  ASSERT_TRUE(two.is_ok()) << two.status().to_string();
  EXPECT_EQ(*two, "two");
  auto end = ws->read_frame(5 * kNsPerSec);  // the server closes
  EXPECT_FALSE(end.is_ok());
  EXPECT_FALSE(ws->is_open());
}

TEST_F(TransportTlsTest, WssRefusesAnUntrustedServer) {
  auto ws = make_ws_connection();
  Status st = ws->connect(*parse_url(base("wss", "localhost") + "/"), 5 * kNsPerSec);
  EXPECT_EQ(st.code(), ErrorCode::kUnavailable);
  EXPECT_FALSE(ws->is_open());
}

TEST_F(TransportTlsTest, CloseFromAnotherThreadUnblocksARead) {
  WsOptions opts;
  opts.extra_ca_file = cert();
  auto ws = make_ws_connection(opts);
  ASSERT_TRUE(ws->connect(*parse_url(base("wss", "localhost") + "/"), 5 * kNsPerSec).is_ok());
  ASSERT_TRUE(ws->read_frame(5 * kNsPerSec).is_ok());  // "one"; then the server waits for "go"
  const auto started = std::chrono::steady_clock::now();
  std::thread closer([&] { ws->close(); });
  auto r = ws->read_frame(60 * kNsPerSec);
  closer.join();
  EXPECT_FALSE(r.is_ok());
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(30));
  EXPECT_EQ(ws->connect(*parse_url(base("wss", "localhost") + "/"), kNsPerSec).code(), ErrorCode::kCancelled);
}

// Plain WS server for the keep-alive tests: accepts one client, sends nothing; `answer` = it
// keeps reading (so Beast answers the client's pings with pongs), else it holds the socket open
// and never reads (a stalled peer: pings go unanswered). Counts the pings it received.
class QuietWsServer {
 public:
  explicit QuietWsServer(bool answer) : answer_(answer) {
    acceptor_.open(tcp::v4());
    acceptor_.set_option(net::socket_base::reuse_address(true));
    acceptor_.bind({net::ip::make_address("127.0.0.1"), 0});
    acceptor_.listen();
    port_ = acceptor_.local_endpoint().port();
    thread_ = std::thread([this] {
      beast::error_code ec;
      tcp::socket sock(ioc_);
      acceptor_.accept(sock, ec);
      if (ec) return;
      websocket::stream<tcp::socket> ws(std::move(sock));
      ws.control_callback([this](websocket::frame_type kind, beast::string_view) {
        if (kind == websocket::frame_type::ping) pings_.fetch_add(1);
      });
      ws.accept(ec);
      if (ec) return;
      accepted_.store(true);
      if (answer_) {
        beast::flat_buffer in;
        ws.read(in, ec);  // until the client goes away; pings are answered meanwhile
      } else {
        std::unique_lock<std::mutex> lock(mu_);  // never reads: no pong
        cv_.wait(lock, [this] { return stop_.load(); });
      }
    });
  }
  ~QuietWsServer() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_.store(true);
    }
    cv_.notify_all();
    beast::error_code ec;
    acceptor_.close(ec);
    thread_.join();
  }
  std::string url() const { return "ws://127.0.0.1:" + std::to_string(port_) + "/"; }
  int pings() const { return pings_.load(); }

 private:
  const bool answer_;
  net::io_context ioc_;
  tcp::acceptor acceptor_{ioc_};
  uint16_t port_ = 0;
  std::atomic<int> pings_{0};
  std::atomic<bool> accepted_{false}, stop_{false};
  std::mutex mu_;
  std::condition_variable cv_;
  std::thread thread_;
};

TEST(TransportTest, PingsKeepAQuietButHealthyConnectionOpen) {
  QuietWsServer server(/*answer=*/true);
  WsOptions opts;
  opts.ping_interval = 100 * kNsPerMs;
  auto ws = make_ws_connection(opts);
  ASSERT_TRUE(ws->connect(*parse_url(server.url()), 5 * kNsPerSec).is_ok());
  // No frame ever comes; the client pings every 100 ms of silence and the pongs keep it alive.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (server.pings() < 5 && std::chrono::steady_clock::now() < deadline) {
    auto r = ws->read_frame(50 * kNsPerMs);
    ASSERT_FALSE(r.is_ok());
    ASSERT_EQ(r.status().message(), "timeout") << "a healthy quiet connection was dropped";
    ASSERT_TRUE(ws->is_open());
  }
  EXPECT_GE(server.pings(), 5);
  ws->close();
}

TEST(TransportTest, AStalledPeerThatNeverAnswersPingsIsDetected) {
  QuietWsServer server(/*answer=*/false);
  WsOptions opts;
  opts.ping_interval = 100 * kNsPerMs;
  auto ws = make_ws_connection(opts);
  ASSERT_TRUE(ws->connect(*parse_url(server.url()), 5 * kNsPerSec).is_ok());
  const auto started = std::chrono::steady_clock::now();
  Result<std::string_view> r = Status::unavailable("timeout");
  while (!r.is_ok() && r.status().message() == "timeout" &&
         std::chrono::steady_clock::now() - started < std::chrono::seconds(30)) {
    r = ws->read_frame(50 * kNsPerMs);
  }
  ASSERT_FALSE(r.is_ok());
  EXPECT_NE(r.status().message(), "timeout") << "no pong for 2 ping intervals must fail the read";
  EXPECT_NE(r.status().message().find("websocket read"), std::string::npos) << r.status().message();
  EXPECT_FALSE(ws->is_open());
  // Detected after about two ping intervals (one to send the ping, one to wait for the pong).
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(10));
}

TEST(TransportTest, ConnectToAClosedPortFailsRetryably) {
  // Bind then close a socket to get a port nobody listens on.
  net::io_context ioc;
  tcp::acceptor a(ioc, {net::ip::make_address("127.0.0.1"), 0});
  const auto port = a.local_endpoint().port();
  a.close();
  auto ws = make_ws_connection();
  Status st = ws->connect(*parse_url("ws://127.0.0.1:" + std::to_string(port) + "/"), 2 * kNsPerSec);
  EXPECT_EQ(st.code(), ErrorCode::kUnavailable);
  EXPECT_TRUE(st.retryable());
  auto http = make_http_client();
  auto res = http->get(*parse_url("http://127.0.0.1:" + std::to_string(port) + "/"), {}, 2 * kNsPerSec);
  EXPECT_EQ(res.status().code(), ErrorCode::kUnavailable);
}

}  // namespace
}  // namespace tickflow::exchange::transport
