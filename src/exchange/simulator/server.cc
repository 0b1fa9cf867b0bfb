// The simulator's network side: one Boost.Asio io_context thread (accept, HTTP, WebSocket reads
// and writes) and one pacer thread (pacer.cc: market generation, encoding, fan-out to client
// buffers). This file: accept, HTTP sessions (REST replies from rest.cc, or the WebSocket opening
// handshake, after which ws_session.cc takes the socket), lifecycle and stats. This is the only
// translation unit that includes Boost.Beast.
#include <utility>  // before Boost (Boost 1.74 Asio on GCC 12)

#include <algorithm>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>

#include "exchange/simulator/server_io.h"

namespace tickflow::exchange::simulator {

using namespace internal;
namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using tcp = net::ip::tcp;

namespace {

// ---------------------------------------------------------------------------------------------
// HTTP session: REST, or the WebSocket opening handshake.

class HttpSession : public std::enable_shared_from_this<HttpSession> {
 public:
  HttpSession(Simulator::Impl& sim, tcp::socket sock) : sim_(sim), sock_(std::move(sock)) {}

  void run() { do_read(); }

 private:
  void do_read() {
    req_ = {};
    http::async_read(sock_, buf_, req_, [self = shared_from_this()](beast::error_code ec, size_t) {
      if (ec) {
        beast::error_code ig;
        self->sock_.shutdown(tcp::socket::shutdown_both, ig);
        return;
      }
      self->on_request();
    });
  }

  void on_request() {
    if (websocket::is_upgrade(req_)) {
      upgrade();
      return;
    }
    sim_.rest_requests.fetch_add(1, std::memory_order_relaxed);
    RestReply r = sim_.handle_rest(std::string_view(req_.method_string().data(), req_.method_string().size()),
                                   std::string_view(req_.target().data(), req_.target().size()));
    auto res = std::make_shared<http::response<http::string_body>>(static_cast<http::status>(r.status),
                                                                   req_.version());
    res->set(http::field::server, "tickflow-simulator");
    res->set(http::field::content_type, "application/json;charset=UTF-8");
    res->keep_alive(req_.keep_alive());
    for (const auto& [name, value] : r.headers) res->set(name, value);
    res->body() = std::move(r.body);
    res->prepare_payload();
    http::async_write(sock_, *res, [self = shared_from_this(), res](beast::error_code ec, size_t) {
      if (ec || !res->keep_alive()) {
        beast::error_code ig;
        self->sock_.shutdown(tcp::socket::shutdown_both, ig);
        return;
      }
      self->do_read();
    });
  }

  void upgrade() {
    const Target t = parse_target(std::string_view(req_.target().data(), req_.target().size()));
    bool combined = false;
    std::vector<std::string> streams;
    if (t.path == "/v2" || t.path == "/kraken/v2") {  // Kraken WebSocket v2 (kraken.cc)
      kraken_ = true;
      kraken_v2_ = true;
    } else if (t.path == "/kraken" || t.path == "/kraken/") {
      kraken_ = true;
    } else if (t.path == "/coinbase" || t.path == "/coinbase/") {
      coinbase_ = true;
    } else if (t.path == "/coinbase-advanced" || t.path == "/coinbase-advanced/") {
      coinbase_ = true;
      coinbase_advanced_ = true;
    } else if (t.path == "/stream") {
      combined = true;
      if (auto it = t.query.find("streams"); it != t.query.end()) streams = split(it->second, '/');
    } else if (t.path == "/ws" || t.path == "/ws/") {
    } else if (t.path.rfind("/ws/", 0) == 0) {
      streams = split(std::string_view(t.path).substr(4), '/');
    } else {
      auto res = std::make_shared<http::response<http::string_body>>(http::status::not_found,
                                                                     req_.version());
      res->set(http::field::content_type, "application/json;charset=UTF-8");
      res->body() = R"({"code":-1,"msg":"Unknown WebSocket path."})";
      res->keep_alive(false);
      res->prepare_payload();
      http::async_write(sock_, *res, [self = shared_from_this(), res](beast::error_code, size_t) {
        beast::error_code ig;
        self->sock_.shutdown(tcp::socket::shutdown_both, ig);
      });
      return;
    }
    streams_ = std::move(streams);
    combined_ = combined;
    ws_ = std::make_unique<websocket::stream<tcp::socket&>>(sock_);
    ws_->async_accept(req_, [self = shared_from_this()](beast::error_code ec) {
      // Leave the Beast stream's completion before discarding it.
      net::post(self->sock_.get_executor(), [self, ec] { self->after_accept(ec); });
    });
  }

  void after_accept(beast::error_code ec) {
    ws_.reset();
    if (ec) return;
    std::string leftover(static_cast<const char*>(buf_.data().data()), buf_.size());
    accept_ws_session(sim_, std::move(sock_), combined_, std::move(leftover), streams_, kraken_, coinbase_,
                      kraken_v2_, coinbase_advanced_);
  }


  Simulator::Impl& sim_;
  tcp::socket sock_;
  beast::flat_buffer buf_;
  http::request<http::string_body> req_;
  std::unique_ptr<websocket::stream<tcp::socket&>> ws_;
  std::vector<std::string> streams_;
  bool combined_ = false;
  bool kraken_ = false;
  bool kraken_v2_ = false;
  bool coinbase_advanced_ = false;
  bool coinbase_ = false;
};

}  // namespace

// ---------------------------------------------------------------------------------------------
// Impl

Simulator::Impl::Impl(SimulatorConfig c) : cfg(std::move(c)), io(std::make_unique<Io>()) {}
Simulator::Impl::~Impl() = default;

Status Simulator::Impl::start() {
  if (cfg.symbols.empty()) return Status::invalid_argument("simulator: no symbols");
  if (cfg.rate <= 0) return Status::invalid_argument("simulator: rate must be > 0");
  for (const auto& s : cfg.symbols) {
    if (s.empty()) return Status::invalid_argument("simulator: empty symbol");
  }
  start_ms = cfg.start_ms != 0 ? cfg.start_ms : wall_ms();
  MarketOptions mo{cfg.seed, cfg.symbols, start_ms, cfg.rate, cfg.max_trades, cfg.book_levels, cfg.id_offset};
  model = std::make_unique<MarketModel>(mo);
  specs = model->symbols();
  for (const auto& s : specs) {
    stream_names.push_back(s.stream_prefix + "@trade");
    stream_names.push_back(s.stream_prefix + "@aggTrade");
    stream_names.push_back(s.stream_prefix + "@depth@100ms");
    kraken_pairs.push_back(kraken_pair_name(s.symbol));
    stream_names.push_back("kraken:" + kraken_pairs.back());
    coinbase_products.push_back(coinbase_product_name(s.symbol));
    for (const char* ch : {"matches", "ticker", "heartbeat"}) {
      stream_names.push_back(std::string("coinbase:") + ch + ":" + coinbase_products.back());
    }
  }
  kraken_book_base = stream_names.size();  // Kraken v1 book channels after every other stream
  for (size_t i = 0; i < specs.size(); ++i) {
    for (int depth : kKrakenDepths) stream_names.push_back("kraken:book-" + std::to_string(depth) + ":" + kraken_pairs[i]);
    stream_names.push_back("kraken2:trade:" + kraken_v2_pair(kraken_pairs[i]));
    for (int depth : kKrakenDepths) stream_names.push_back("kraken2:book-" + std::to_string(depth) + ":" + kraken_v2_pair(kraken_pairs[i]));
  }
  kraken_views.resize(specs.size());
  coinbase_stream_base = stream_names.size();  // Coinbase level2 channels after every other stream
  for (size_t i = 0; i < specs.size(); ++i) {
    for (const char* ch : {"level2", "level2_batch", "advanced:market_trades", "advanced:level2", "advanced:heartbeats"}) {
      stream_names.push_back(std::string("coinbase:") + ch + ":" + coinbase_products[i]);
    }
  }
  stream_subscribers = std::vector<std::atomic<int>>(stream_names.size());
  hist.resize(specs.size());
  history_cap = cfg.max_trades > 0 ? 0 : std::max(kMinHistoryPerSymbol, kHistoryTrades / specs.size());
  drop_every = cfg.faults.drop_every;
  advanced_gap_every = cfg.faults.advanced_sequence_gap_every;

  beast::error_code ec;
  const auto addr = net::ip::make_address(cfg.host, ec);
  if (ec) return Status::invalid_argument("simulator: bad host '" + cfg.host + "': " + ec.message());
  const tcp::endpoint ep(addr, cfg.port);
  io->acceptor.emplace(io->ioc);
  io->acceptor->open(ep.protocol(), ec);
  if (!ec) io->acceptor->set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) io->acceptor->bind(ep, ec);
  if (!ec) io->acceptor->listen(net::socket_base::max_listen_connections, ec);
  if (ec) {
    return Status::io_error("simulator: cannot listen on " + cfg.host + ":" + std::to_string(cfg.port) +
                            ": " + ec.message());
  }
  bound_port = io->acceptor->local_endpoint().port();
  if (!cfg.start_on_connect) {
    std::lock_guard lk(ctl_mu);
    market_started = true;
  }
  do_accept();
  io_thread = std::thread([this] { io->ioc.run(); });
  pacer_thread = std::thread([this] { pacer_loop(); });
  return Status::ok();
}

void Simulator::Impl::do_accept() {
  io->acceptor->async_accept([this](beast::error_code ec, tcp::socket sock) {
    if (ec) {
      if (ec == net::error::operation_aborted || !io->acceptor->is_open()) return;
    } else {
      beast::error_code ig;
      sock.set_option(tcp::no_delay(true), ig);
      std::make_shared<HttpSession>(*this, std::move(sock))->run();
    }
    do_accept();
  });
}

void Simulator::Impl::stop() {
  {
    std::lock_guard lk(ctl_mu);
    stopping = true;
  }
  ctl_cv.notify_all();
  if (pacer_thread.joinable()) pacer_thread.join();
  net::post(io->ioc, [this] {
    beast::error_code ec;
    if (io->acceptor) io->acceptor->close(ec);
  });
  drop_all(false);
  // Let the closes run, then stop the loop.
  net::post(io->ioc, [this] { io->ioc.stop(); });
  if (io_thread.joinable()) io_thread.join();
  std::lock_guard lk(sessions_mu);
  sessions.clear();
}

// ---------------------------------------------------------------------------------------------
// Simulator

Simulator::Simulator(SimulatorConfig config) : impl_(std::make_unique<Impl>(std::move(config))) {}
Simulator::~Simulator() { stop(); }

Status Simulator::start() {
  std::lock_guard lk(impl_->lifecycle_mu);
  if (impl_->started) return Status::invalid_argument("simulator: already started");
  impl_->started = true;
  Status st = impl_->start();
  if (!st.is_ok()) impl_->stopped = true;
  return st;
}

void Simulator::stop() {
  std::lock_guard lk(impl_->lifecycle_mu);
  if (!impl_->started || impl_->stopped) return;
  impl_->stopped = true;
  impl_->stop();
}

uint16_t Simulator::port() const { return impl_->bound_port; }
std::string Simulator::ws_url() const { return "ws://" + impl_->cfg.host + ":" + std::to_string(port()); }
std::string Simulator::kraken_ws_url() const { return ws_url() + "/kraken"; }
std::string Simulator::kraken_v2_ws_url() const { return ws_url() + "/v2"; }
std::string Simulator::coinbase_ws_url() const { return ws_url() + "/coinbase"; }
std::string Simulator::coinbase_advanced_ws_url() const { return ws_url() + "/coinbase-advanced"; }
std::string Simulator::rest_url() const { return "http://" + impl_->cfg.host + ":" + std::to_string(port()); }
const SimulatorConfig& Simulator::config() const { return impl_->cfg; }

SimulatorStats Simulator::stats() const {
  SimulatorStats s;
  s.messages_sent = impl_->messages_sent.load();
  s.bytes_sent = impl_->bytes_sent.load();
  s.trades_generated = impl_->trades_generated.load();
  s.agg_trades_generated = impl_->aggs_generated.load();
  s.depth_updates_generated = impl_->depth_generated.load();
  s.clients = impl_->clients.load();
  s.connections_total = impl_->connections_total.load();
  s.connections_dropped = impl_->connections_dropped.load();
  s.rest_requests = impl_->rest_requests.load();
  s.pings_received = impl_->pings_received.load();
  s.pongs_withheld = impl_->pongs_withheld.load();
  s.sequence_gaps_made = impl_->sequence_gaps_made.load();
  {
    std::lock_guard lk(impl_->ctl_mu);
    s.market_started = impl_->market_started;
  }
  s.market_ended = impl_->ended.load();
  return s;
}

}  // namespace tickflow::exchange::simulator
