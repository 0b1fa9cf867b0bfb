// Boost.Beast + OpenSSL implementations of WsConnection and HttpClient.
//
// Blocking calls with deadlines are built from Asio async operations driven by a private
// io_context on the caller's thread (run_one_until): a deadline that passes during connect or a
// write aborts the socket; a read_frame() timeout leaves the read pending, so no data is lost
// and the next call resumes it. close() from another thread posts the abort into the
// io_context, which is thread-safe.
#include <utility>  // Boost 1.74 Asio on GCC 12 needs this before its headers.

#include <atomic>
#include <chrono>
#include <string>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/version.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <openssl/ssl.h>

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
using SteadyClock = std::chrono::steady_clock;
using ErrorCode = beast::error_code;

SteadyClock::time_point deadline_after(DurationNs d) {
  if (d < 0) d = 0;
  return SteadyClock::now() + std::chrono::nanoseconds(d);
}

// TLS 1.2+ client context that verifies the peer against the system CA store.
std::unique_ptr<ssl::context> make_tls_context(const std::string& extra_ca_file) {
  auto ctx = std::make_unique<ssl::context>(ssl::context::tls_client);
  ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                   ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
  ctx->set_verify_mode(ssl::verify_peer);
  ErrorCode ec;
  ctx->set_default_verify_paths(ec);
  if (!extra_ca_file.empty()) ctx->load_verify_file(extra_ca_file, ec);
  return ctx;
}

// SNI + RFC 2818 host name verification on a fresh TLS stream.
template <class TlsStream>
ErrorCode prepare_tls(TlsStream& stream, const std::string& host) {
  if (!SSL_set_tlsext_host_name(stream.native_handle(), host.c_str())) {
    return ErrorCode(static_cast<int>(::ERR_get_error()), net::error::get_ssl_category());
  }
  stream.set_verify_callback(ssl::host_name_verification(host));
  return {};
}

// Drives a private io_context on the calling thread with deadlines.
class IoRunner {
 public:
  net::io_context& ioc() { return ioc_; }

  // Runs handlers until `done` or the deadline. Returns done.
  bool run_until(const bool& done, SteadyClock::time_point deadline) {
    ioc_.restart();
    while (!done) {
      if (ioc_.run_one_until(deadline) == 0) {
        if (done) break;
        if (SteadyClock::now() >= deadline || ioc_.stopped()) return false;
      }
    }
    return true;
  }

  // Runs handlers that are ready now, without blocking.
  void poll() {
    ioc_.restart();
    ioc_.poll();
  }

  // Starts an operation with start(handler), waits for it until the deadline; on expiry calls
  // abort() (closing the socket) and waits for the aborted handler. Returns its error.
  template <class Start, class Abort>
  ErrorCode run(Start&& start, Abort&& abort, SteadyClock::time_point deadline) {
    bool done = false;
    ErrorCode result;
    start([&done, &result](ErrorCode ec, auto&&...) {
      result = ec;
      done = true;
    });
    if (run_until(done, deadline)) return result;
    abort();
    run_until(done, SteadyClock::now() + std::chrono::seconds(30));
    return net::error::timed_out;
  }

 private:
  net::io_context ioc_{1};
};

Status unavailable(std::string_view what, const Url& url, const ErrorCode& ec) {
  return Status::unavailable(std::string(what) + " " + url.to_string() + ": " + ec.message());
}

// Resolves and TCP-connects `socket_owner`'s lowest layer.
template <class Stream>
ErrorCode resolve_and_connect(IoRunner& io, tcp::resolver& resolver, Stream& stream, const Url& url,
                              SteadyClock::time_point deadline, std::string& stage) {
  stage = "resolve";
  tcp::resolver::results_type endpoints;
  ErrorCode ec = io.run(
      [&](auto handler) {
        resolver.async_resolve(url.host, std::to_string(url.port),
                               [&endpoints, handler](ErrorCode e, tcp::resolver::results_type r) mutable {
                                 endpoints = std::move(r);
                                 handler(e);
                               });
      },
      [&] { resolver.cancel(); }, deadline);
  if (ec) return ec;
  stage = "connect";
  auto& lowest = beast::get_lowest_layer(stream);
  ec = io.run([&](auto handler) { lowest.async_connect(endpoints, std::move(handler)); },
              [&] { lowest.close(); }, deadline);
  if (ec) return ec;
  ErrorCode ignored;
  lowest.socket().set_option(tcp::no_delay(true), ignored);
  return {};
}

// ---------------------------------------------------------------------------------------------
// WebSocket

using PlainWs = websocket::stream<beast::tcp_stream>;
using TlsWs = websocket::stream<beast::ssl_stream<beast::tcp_stream>>;

class BeastWsConnection final : public WsConnection {
 public:
  explicit BeastWsConnection(const WsOptions& options)
      : options_(options), tls_ctx_(make_tls_context(options.extra_ca_file)), resolver_(io_.ioc()) {}

  ~BeastWsConnection() override { teardown(); }

  Status connect(const Url& url, DurationNs timeout) override {
    teardown();
    if (shutdown_.load()) return Status(tickflow::ErrorCode::kCancelled, "connection closed");
    if (!url.websocket()) return Status::invalid_argument("not a ws:// or wss:// URL: " + url.to_string());
    const auto deadline = deadline_after(timeout);
    std::string stage;
    ErrorCode ec;
    if (url.tls()) {
      tls_ = std::make_unique<TlsWs>(io_.ioc(), *tls_ctx_);
      ec = resolve_and_connect(io_, resolver_, *tls_, url, deadline, stage);
      if (!ec) ec = prepare_tls(tls_->next_layer(), url.host);
      if (!ec) {
        stage = "TLS handshake";
        ec = io_.run(
            [&](auto h) { tls_->next_layer().async_handshake(ssl::stream_base::client, std::move(h)); },
            [&] { abort_socket(); }, deadline);
      }
      if (!ec) ec = ws_handshake(*tls_, url, deadline, stage);
    } else {
      plain_ = std::make_unique<PlainWs>(io_.ioc());
      ec = resolve_and_connect(io_, resolver_, *plain_, url, deadline, stage);
      if (!ec) ec = ws_handshake(*plain_, url, deadline, stage);
    }
    if (ec) {
      teardown();
      return unavailable(stage + " failed for", url, ec);
    }
    open_.store(true);
    return Status::ok();
  }

  Result<std::string_view> read_frame(DurationNs timeout) override {
    if (has_frame_) {
      buffer_.consume(buffer_.size());
      has_frame_ = false;
    }
    if (shutdown_.load()) return Status::unavailable("connection closed");
    if (!open_.load()) return Status::unavailable("not connected");
    if (!read_pending_) {
      read_pending_ = true;
      read_done_ = false;
      with_ws([this](auto& ws) {
        ws.async_read(buffer_, [this](ErrorCode ec, size_t) {
          read_ec_ = ec;
          read_done_ = true;
        });
      });
    }
    if (!read_done_) {
      if (timeout <= 0) {
        io_.poll();
      } else {
        io_.run_until(read_done_, deadline_after(timeout));
      }
    }
    if (!read_done_) return Status::unavailable("timeout");
    read_pending_ = false;
    if (read_ec_) {
      open_.store(false);
      return Status::unavailable("websocket read: " + read_ec_.message());
    }
    has_frame_ = true;
    const auto data = buffer_.data();
    return std::string_view(static_cast<const char*>(data.data()), data.size());
  }

  Status send_text(std::string_view text) override {
    if (shutdown_.load() || !open_.load()) return Status::unavailable("not connected");
    ErrorCode ec = io_.run(
        [&](auto h) {
          with_ws([&](auto& ws) {
            ws.text(true);
            ws.async_write(net::buffer(text.data(), text.size()), std::move(h));
          });
        },
        [&] { abort_socket(); }, deadline_after(options_.write_timeout));
    if (ec) {
      open_.store(false);
      return Status::unavailable("websocket write: " + ec.message());
    }
    return Status::ok();
  }

  void close() override {
    shutdown_.store(true);
    net::post(io_.ioc(), [this] { abort_socket(); });
  }

  bool is_open() const override { return open_.load() && !shutdown_.load(); }

 private:
  template <class F>
  void with_ws(F&& f) {
    if (tls_) {
      f(*tls_);
    } else if (plain_) {
      f(*plain_);
    }
  }

  template <class Ws>
  ErrorCode ws_handshake(Ws& ws, const Url& url, SteadyClock::time_point deadline, std::string& stage) {
    stage = "websocket handshake";
    websocket::permessage_deflate pmd;
    pmd.client_enable = false;
    pmd.server_enable = false;
    ws.set_option(pmd);
    ws.read_message_max(options_.max_message_bytes);
    ws.auto_fragment(false);
    ws.set_option(websocket::stream_base::decorator([](websocket::request_type& req) {
      req.set(http::field::user_agent, "tickflow/0.1");
    }));
    const std::string host = url.host_header();
    ErrorCode ec = io_.run([&](auto h) { ws.async_handshake(host, url.target, std::move(h)); },
                           [&] { abort_socket(); }, deadline);
    if (!ec && options_.ping_interval > 0) {
      // Beast's keep-alive: a ping after half the idle timeout without data, the read fails
      // with a timeout when the other half passes without anything (pong included).
      websocket::stream_base::timeout t;
      t.handshake_timeout = websocket::stream_base::none();
      t.idle_timeout = std::chrono::nanoseconds(2 * options_.ping_interval);
      t.keep_alive_pings = true;
      ws.set_option(t);
    }
    return ec;
  }

  // Closes the TCP socket under whatever stream is active; pending operations complete with
  // operation_aborted. Runs on the thread driving the io_context.
  void abort_socket() {
    ErrorCode ignored;
    resolver_.cancel();
    if (tls_) beast::get_lowest_layer(*tls_).socket().close(ignored);
    if (plain_) beast::get_lowest_layer(*plain_).socket().close(ignored);
    open_.store(false);
  }

  // Drops the current connection and every pending handler (on the owner thread).
  void teardown() {
    abort_socket();
    io_.poll();
    tls_.reset();
    plain_.reset();
    buffer_.clear();
    has_frame_ = false;
    read_pending_ = false;
    read_done_ = false;
  }

  WsOptions options_;
  IoRunner io_;
  std::unique_ptr<ssl::context> tls_ctx_;
  tcp::resolver resolver_;
  std::unique_ptr<PlainWs> plain_;
  std::unique_ptr<TlsWs> tls_;
  beast::flat_buffer buffer_;
  bool has_frame_ = false;
  bool read_pending_ = false;
  bool read_done_ = false;
  ErrorCode read_ec_;
  std::atomic<bool> open_{false};
  std::atomic<bool> shutdown_{false};
};

// ---------------------------------------------------------------------------------------------
// HTTP

class BeastHttpClient final : public HttpClient {
 public:
  explicit BeastHttpClient(const HttpOptions& options)
      : options_(options), tls_ctx_(make_tls_context(options.extra_ca_file)) {}

  Result<HttpResponse> get(const Url& url, const Headers& headers, DurationNs timeout) override {
    http::request<http::string_body> req{http::verb::get, url.target, 11};
    req.set(http::field::accept, "application/json");
    return perform(url, headers, std::move(req), timeout);
  }

  Result<HttpResponse> post(const Url& url, const Headers& headers, std::string body, DurationNs timeout) override {
    http::request<http::string_body> req{http::verb::post, url.target, 11};
    req.set(http::field::content_type, "application/json");
    req.body() = std::move(body);
    req.prepare_payload();
    return perform(url, headers, std::move(req), timeout);
  }

 private:
  Result<HttpResponse> perform(const Url& url, const Headers& headers, http::request<http::string_body> req,
                               DurationNs timeout) {
    if (url.websocket()) return Status::invalid_argument("not an http(s) URL: " + url.to_string());
    const auto deadline = deadline_after(timeout);
    req.set(http::field::host, url.host_header());
    req.set(http::field::user_agent, options_.user_agent);
    req.set(http::field::connection, "close");
    for (const auto& [name, value] : headers) req.set(name, value);
    tcp::resolver resolver(io_.ioc());
    std::string stage;
    Result<HttpResponse> out = Status::internal("unset");
    if (url.tls()) {
      beast::ssl_stream<beast::tcp_stream> stream(io_.ioc(), *tls_ctx_);
      ErrorCode ec = resolve_and_connect(io_, resolver, stream, url, deadline, stage);
      if (!ec) ec = prepare_tls(stream, url.host);
      if (!ec) {
        stage = "TLS handshake";
        ec = io_.run([&](auto h) { stream.async_handshake(ssl::stream_base::client, std::move(h)); },
                     [&] { beast::get_lowest_layer(stream).close(); }, deadline);
      }
      out = ec ? Result<HttpResponse>(unavailable(stage + " failed for", url, ec))
               : round_trip(stream, req, url, deadline);
      beast::get_lowest_layer(stream).close();
    } else {
      beast::tcp_stream stream(io_.ioc());
      ErrorCode ec = resolve_and_connect(io_, resolver, stream, url, deadline, stage);
      out = ec ? Result<HttpResponse>(unavailable(stage + " failed for", url, ec))
               : round_trip(stream, req, url, deadline);
      stream.close();
    }
    io_.poll();
    return out;
  }

  template <class Stream>
  Result<HttpResponse> round_trip(Stream& stream, http::request<http::string_body>& req, const Url& url,
                                SteadyClock::time_point deadline) {
    auto abort = [&] { beast::get_lowest_layer(stream).close(); };
    ErrorCode ec = io_.run([&](auto h) { http::async_write(stream, req, std::move(h)); }, abort, deadline);
    if (ec) return unavailable("HTTP write to", url, ec);
    beast::flat_buffer buffer;
    http::response_parser<http::string_body> parser;
    parser.body_limit(options_.max_body_bytes);
    ec = io_.run([&](auto h) { http::async_read(stream, buffer, parser, std::move(h)); }, abort, deadline);
    if (ec) return unavailable("HTTP read from", url, ec);
    auto res = parser.release();
    HttpResponse response;
    response.status = static_cast<int>(res.result_int());
    for (const auto& field : res) {
      response.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
    }
    response.body = std::move(res.body());
    return response;
  }

  HttpOptions options_;
  std::unique_ptr<ssl::context> tls_ctx_;
  IoRunner io_;
};

}  // namespace

std::unique_ptr<WsConnection> make_ws_connection(const WsOptions& options) {
  return std::make_unique<BeastWsConnection>(options);
}

std::unique_ptr<HttpClient> make_http_client(const HttpOptions& options) {
  return std::make_unique<BeastHttpClient>(options);
}

}  // namespace tickflow::exchange::transport
