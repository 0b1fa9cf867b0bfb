// The one Boost.Beast translation unit of tickflow's serving layer.
#include <utility>  // before Boost (Boost 1.74 Asio on GCC 12)

#include "serving/server.h"

#include <atomic>
#include <chrono>
#include <mutex>
#include <optional>
#include <thread>

#include <pthread.h>
#include <unordered_map>
#include <vector>

#include <boost/asio/dispatch.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <spdlog/spdlog.h>

namespace tickflow::serving {

namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
namespace net = boost::asio;
using tcp = net::ip::tcp;
using SteadyClock = std::chrono::steady_clock;

namespace {

std::chrono::nanoseconds to_chrono(DurationNs d) { return std::chrono::nanoseconds(d); }

// Every live connection, so stop() can close them.
class Session : public std::enable_shared_from_this<Session> {
 public:
  virtual ~Session() = default;
  // Called by stop() while I/O threads still run: stop receiving gateway updates.
  virtual void detach() {}
  // Called by stop() after the I/O threads have been joined: close the socket.
  virtual void close_now() = 0;
};

}  // namespace

// The server's shared state (HttpServer::Impl), visible to the session classes below.
struct ServerCore {
  ServerCore(ServerConfig c, ApiHandler& a, RealtimeGateway& g) : config(std::move(c)), api(a), gateway(g) {}

  void add(Session* s, std::weak_ptr<Session> w) {
    std::lock_guard lock(sessions_mu);
    sessions.emplace(s, std::move(w));
  }
  void remove(Session* s) {
    std::lock_guard lock(sessions_mu);
    sessions.erase(s);
  }
  std::vector<std::shared_ptr<Session>> live_sessions() {
    std::vector<std::shared_ptr<Session>> out;
    std::lock_guard lock(sessions_mu);
    for (auto& [_, w] : sessions)
      if (auto s = w.lock()) out.push_back(std::move(s));
    return out;
  }
  void do_accept();

  const ServerConfig config;
  ApiHandler& api;
  RealtimeGateway& gateway;

  // Declared before the io_context: sessions destroyed with it still find the registry.
  mutable std::mutex sessions_mu;
  std::unordered_map<Session*, std::weak_ptr<Session>> sessions;

  net::io_context ioc;
  tcp::acceptor acceptor{ioc};
  std::vector<std::thread> threads;
  std::atomic<uint16_t> port{0};
  std::mutex lifecycle_mu;
  bool started = false;
  bool stopped = false;
};

namespace {

http::response<http::string_body> to_beast(HttpResponse&& r, unsigned version, bool keep_alive) {
  http::response<http::string_body> res{static_cast<http::status>(r.status), version};
  res.set(http::field::server, "tickflow");
  if (!r.content_type.empty()) res.set(http::field::content_type, r.content_type);
  for (auto& [name, value] : r.headers) res.set(name, value);
  res.keep_alive(keep_alive);
  res.body() = std::move(r.body);
  res.prepare_payload();
  return res;
}

// Receives gateway updates for one WebSocket connection and wakes the connection's strand.
// Series connections conflate candles (key = series) and indicators (key = series + "#ind");
// alert connections (max_alerts > 0) append every alert and flag an overflow past max_alerts.
// Outlives nothing: holds only a weak reference to the session.
class Mailbox final : public Subscriber {
 public:
  using Kick = std::function<void()>;
  Mailbox(std::string key, Kick kick, size_t max_alerts = 0)
      : key_(std::move(key)), indicators_key_(key_ + "#ind"), kick_(std::move(kick)), max_alerts_(max_alerts) {}

  void deliver(std::shared_ptr<const std::string> json) override {
    if (max_alerts_ > 0) {
      if (queue_.push_back(std::move(json)) > max_alerts_) overflow_.store(true);
    } else {
      queue_.push(key_, std::move(json));
    }
    kick();
  }
  void deliver_indicators(std::shared_ptr<const std::string> json) override {
    queue_.push(indicators_key_, std::move(json));
    kick();
  }
  bool overflowed() const { return overflow_.load(); }
  void kick() {
    if (kick_pending_.exchange(true)) return;
    std::lock_guard lock(mu_);
    if (attached_) kick_();
  }
  // After detach() no kick is posted any more (the I/O context may be going away).
  void detach() {
    std::lock_guard lock(mu_);
    attached_ = false;
  }
  void kicked() { kick_pending_.store(false); }
  ConflatingQueue& queue() { return queue_; }

 private:
  const std::string key_;
  const std::string indicators_key_;
  const Kick kick_;
  const size_t max_alerts_;
  std::atomic<bool> overflow_{false};
  ConflatingQueue queue_;
  std::atomic<bool> kick_pending_{false};
  std::mutex mu_;
  bool attached_ = true;
};

class WsSession final : public Session {
 public:
  WsSession(ServerCore& server, beast::tcp_stream&& stream, WsResolution route)
      : server_(server),
        ws_(std::move(stream)),
        kind_(route.kind),
        series_(std::move(route.series)),
        alert_filter_(std::move(route.alerts)),
        label_(kind_ == WsKind::kAlerts ? std::string("alerts") : series_.key),
        ping_timer_(ws_.get_executor()) {}

  ~WsSession() override {
    unsubscribe();
    server_.remove(this);
  }

  void start(http::request<http::string_body> req) {
    server_.add(this, weak_from_this());
    std::weak_ptr<Session> weak = weak_from_this();
    auto executor = ws_.get_executor();
    const bool alerts = kind_ == WsKind::kAlerts;
    mailbox_ = std::make_shared<Mailbox>(
        label_,
        [weak, executor] {
          net::post(executor, [weak] {
            if (auto s = weak.lock()) static_cast<WsSession*>(s.get())->on_kick();
          });
        },
        alerts ? std::max<size_t>(1, server_.config.max_alert_queue) : 0);
    if (alerts) {
      server_.gateway.subscribe_alerts(alert_filter_, mailbox_);
    } else {
      // Subscribe before reading the snapshot so no update falls between the two; the snapshot
      // goes ahead of anything already queued.
      server_.gateway.subscribe(series_.key, mailbox_);
      mailbox_->queue().push_front(std::make_shared<const std::string>(server_.api.ws_snapshot(series_)));
    }

    websocket::stream_base::timeout timeouts{};
    timeouts.handshake_timeout = std::chrono::seconds(30);
    timeouts.idle_timeout = websocket::stream_base::none();  // our own ping/pong policy below
    timeouts.keep_alive_pings = false;
    ws_.set_option(timeouts);
    ws_.set_option(websocket::stream_base::decorator(
        [](websocket::response_type& res) { res.set(http::field::server, "tickflow"); }));
    ws_.control_callback([this](websocket::frame_type kind, beast::string_view) {
      if (kind == websocket::frame_type::pong) last_pong_ = SteadyClock::now();
    });
    ws_.async_accept(req, [self = shared(), this](beast::error_code ec) { on_accept(ec); });
  }

  void detach() override { unsubscribe(); }
  void close_now() override {
    closed_ = true;
    beast::error_code ec;
    ping_timer_.cancel();
    beast::get_lowest_layer(ws_).socket().close(ec);
  }

 private:
  std::shared_ptr<WsSession> shared() { return std::static_pointer_cast<WsSession>(shared_from_this()); }

  void unsubscribe() {
    if (!mailbox_) return;
    mailbox_->detach();
    if (kind_ == WsKind::kAlerts) {
      server_.gateway.unsubscribe_alerts(mailbox_.get());
    } else {
      server_.gateway.unsubscribe(series_.key, mailbox_.get());
    }
  }

  void on_accept(beast::error_code ec) {
    if (ec) {
      spdlog::debug("websocket accept failed: {}", ec.message());
      return finish();
    }
    accepted_ = true;
    last_pong_ = SteadyClock::now();
    do_read();
    arm_ping();
    maybe_write();
  }

  void do_read() {
    ws_.async_read(read_buf_, [self = shared(), this](beast::error_code ec, size_t n) {
      if (ec) return finish();
      read_buf_.consume(n);  // client messages are ignored on this per-series route
      do_read();
    });
  }

  void on_kick() {
    mailbox_->kicked();
    maybe_write();
  }

  void maybe_write() {
    if (!closed_ && accepted_ && mailbox_->overflowed()) return close_overflowed();
    if (writing_ || closed_ || !accepted_) return;
    if (ping_due_) {
      ping_due_ = false;
      writing_ = true;
      ws_.async_ping({}, [self = shared(), this](beast::error_code ec) { on_written(ec); });
      return;
    }
    current_ = mailbox_->queue().pop();
    if (!current_) return;
    writing_ = true;
    ws_.text(true);
    ws_.async_write(net::buffer(*current_),
                    [self = shared(), this](beast::error_code ec, size_t) { on_written(ec); });
  }

  void on_written(beast::error_code ec) {
    writing_ = false;
    current_.reset();
    if (ec) return finish();
    maybe_write();
  }

  void arm_ping() {
    ping_timer_.expires_after(to_chrono(server_.config.ping_interval));
    ping_timer_.async_wait([self = shared(), this](beast::error_code ec) {
      if (ec || closed_) return;
      if (SteadyClock::now() - last_pong_ > to_chrono(server_.config.pong_timeout)) {
        spdlog::info("websocket {}: no pong for {} s, closing", label_,
                     server_.config.pong_timeout / kNsPerSec);
        return finish();
      }
      ping_due_ = true;
      maybe_write();
      arm_ping();
    });
  }

  // An alert client that cannot keep up is disconnected, never silently skipped: a close frame
  // with the reason when no write is stuck, else the socket is closed.
  void close_overflowed() {
    if (overflow_closing_) return;
    overflow_closing_ = true;
    RealtimeGateway::count_alert_disconnect();
    spdlog::warn("websocket {}: more than {} alerts pending, disconnecting the slow client", label_,
                 server_.config.max_alert_queue);
    unsubscribe();
    if (writing_) return finish();
    writing_ = true;
    ws_.async_close(websocket::close_reason(websocket::close_code::try_again_later, "alert queue overflow"),
                    [self = shared(), this](beast::error_code) {
                      writing_ = false;
                      finish();
                    });
  }

  // Ends the session: stop updates, close the socket (pending operations complete with errors
  // and release the last references).
  void finish() {
    if (closed_) return;
    unsubscribe();
    close_now();
  }

  ServerCore& server_;
  websocket::stream<beast::tcp_stream> ws_;
  const WsKind kind_;
  const SeriesRef series_;
  const AlertFilter alert_filter_;
  const std::string label_;  // logs: the series key or "alerts"
  std::shared_ptr<Mailbox> mailbox_;
  beast::flat_buffer read_buf_;
  net::steady_timer ping_timer_;
  std::shared_ptr<const std::string> current_;  // the message being written
  SteadyClock::time_point last_pong_ = SteadyClock::now();
  bool accepted_ = false;
  bool writing_ = false;
  bool ping_due_ = false;
  bool closed_ = false;
  bool overflow_closing_ = false;
};

class HttpSession final : public Session {
 public:
  HttpSession(ServerCore& server, tcp::socket&& socket) : server_(server), stream_(std::move(socket)) {}
  ~HttpSession() override { server_.remove(this); }

  void start() {
    server_.add(this, weak_from_this());
    net::dispatch(stream_.get_executor(), [self = shared(), this] { do_read(); });
  }
  void close_now() override {
    if (upgraded_) return;
    beast::error_code ec;
    stream_.socket().close(ec);
  }

 private:
  std::shared_ptr<HttpSession> shared() { return std::static_pointer_cast<HttpSession>(shared_from_this()); }

  void do_read() {
    parser_.emplace();
    parser_->body_limit(server_.config.max_request_body);
    stream_.expires_after(to_chrono(server_.config.http_idle_timeout));
    http::async_read(stream_, buffer_, *parser_,
                     [self = shared(), this](beast::error_code ec, size_t) { on_read(ec); });
  }

  void on_read(beast::error_code ec) {
    if (ec == http::error::end_of_stream) {
      stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
      return;
    }
    if (ec) {
      if (&ec.category() == &http::make_error_code(http::error::bad_target).category() &&
          ec != http::error::partial_message) {
        int status = ec == http::error::body_limit ? 413 : 400;
        return send(HttpResponse{status, "application/json",
                                 "{\"error\":\"bad request: " + ec.message() + "\"}", {}},
                    11, false);
      }
      return;  // timeout, reset: drop the connection
    }
    http::request<http::string_body> req = parser_->release();
    HttpRequest request{std::string(req.method_string()), std::string(req.target()), {}, {}};
    for (const auto& field : req) request.headers.emplace_back(lower(std::string_view(field.name_string().data(), field.name_string().size())), std::string(field.value().data(), field.value().size()));
    if (websocket::is_upgrade(req)) {
      WsResolution res = server_.api.resolve_ws(request);
      if (!res.ok()) return send(std::move(res.error), req.version(), false);
      upgraded_ = true;
      stream_.expires_never();
      auto ws = std::make_shared<WsSession>(server_, std::move(stream_), std::move(res));
      ws->start(std::move(req));
      return;
    }
    request.body = std::move(req.body());
    send(server_.api.handle(request), req.version(), req.keep_alive());
  }

  void send(HttpResponse&& r, unsigned version, bool keep_alive) {
    res_ = to_beast(std::move(r), version, keep_alive);
    http::async_write(stream_, res_, [self = shared(), this, keep_alive](beast::error_code ec, size_t) {
      if (ec) return;
      if (!keep_alive) {
        stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
        return;
      }
      do_read();
    });
  }

  ServerCore& server_;
  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  http::response<http::string_body> res_;
  bool upgraded_ = false;
};

}  // namespace

void ServerCore::do_accept() {
  acceptor.async_accept(net::make_strand(ioc), [this](beast::error_code ec, tcp::socket socket) {
    if (ec == net::error::operation_aborted || !acceptor.is_open()) return;
    if (!ec) {
      beast::error_code nodelay_ec;
      socket.set_option(tcp::no_delay(true), nodelay_ec);
      std::make_shared<HttpSession>(*this, std::move(socket))->start();
    } else {
      spdlog::warn("api: accept failed: {}", ec.message());
    }
    do_accept();
  });
}

struct HttpServer::Impl : ServerCore {
  using ServerCore::ServerCore;
};

HttpServer::HttpServer(ServerConfig config, ApiHandler& api, RealtimeGateway& gateway)
    : impl_(std::make_unique<Impl>(std::move(config), api, gateway)) {}

HttpServer::~HttpServer() { stop(); }

Status HttpServer::start() {
  Impl& m = *impl_;
  std::lock_guard lock(m.lifecycle_mu);
  if (m.started) return Status::invalid_argument("http server already started");
  const std::string where = "port " + std::to_string(m.config.port) + " on " + m.config.host;

  beast::error_code ec;
  tcp::endpoint endpoint;
  auto address = net::ip::make_address(m.config.host, ec);
  if (!ec) {
    endpoint = tcp::endpoint(address, m.config.port);
  } else {
    tcp::resolver resolver(m.ioc);
    auto results = resolver.resolve(m.config.host, std::to_string(m.config.port), ec);
    if (ec || results.empty())
      return Status::invalid_argument("cannot resolve api host '" + m.config.host + "': " + ec.message());
    endpoint = results.begin()->endpoint();
  }
  m.acceptor.open(endpoint.protocol(), ec);
  if (!ec) m.acceptor.set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) m.acceptor.bind(endpoint, ec);
  if (ec == net::error::address_in_use) {
    m.acceptor.close(ec);
    return Status::unavailable(where + " is already in use (set api.port or --port)");
  }
  if (ec == net::error::access_denied) {
    m.acceptor.close(ec);
    return Status::invalid_argument("permission denied to listen on " + where + " (set api.port or --port)");
  }
  if (!ec) m.acceptor.listen(net::socket_base::max_listen_connections, ec);
  if (ec) {
    std::string msg = ec.message();
    m.acceptor.close(ec);
    return Status::io_error("cannot listen on " + where + ": " + msg);
  }
  m.port = m.acceptor.local_endpoint().port();
  m.started = true;
  m.do_accept();
  int n = std::max(1, m.config.threads);
  for (int i = 0; i < n; ++i) {
    m.threads.emplace_back([&m] {
      pthread_setname_np(pthread_self(), "tf-http");  // `top -H`, perf
      m.ioc.run();
    });
  }
  spdlog::info("api listening on http://{}:{}", m.config.host, m.port.load());
  return Status::ok();
}

uint16_t HttpServer::port() const { return impl_->port.load(); }

void HttpServer::stop() {
  Impl& m = *impl_;
  std::lock_guard lock(m.lifecycle_mu);
  if (!m.started || m.stopped) return;
  m.stopped = true;
  // 1. No more gateway wake-ups into this io_context.
  for (auto& s : m.live_sessions()) s->detach();
  // 2. Stop the I/O threads.
  m.ioc.stop();
  for (auto& t : m.threads) t.join();
  m.threads.clear();
  // 3. Single-threaded now: close the listener and every connection. Pending handlers (and
  //    with them the sessions) are released when the io_context is destroyed.
  beast::error_code ec;
  m.acceptor.close(ec);
  for (auto& s : m.live_sessions()) {
    s->detach();  // also catches a connection upgraded after step 1
    s->close_now();
  }
}

size_t HttpServer::session_count() const {
  std::lock_guard lock(impl_->sessions_mu);
  return impl_->sessions.size();
}

}  // namespace tickflow::serving
