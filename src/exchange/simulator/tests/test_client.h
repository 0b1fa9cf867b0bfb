// Minimal Beast WebSocket and HTTP clients for the simulator tests (test-only; header-only so
// each test TU that needs it includes Beast itself).
// WsTestClient: connect, optional synchronous writes/reads, then a reader thread that collects
// every frame; wait_until() polls a predicate with a deadline (no sleeps).
#pragma once

#include <utility>  // before Boost (Boost 1.74 Asio on GCC 12)

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>

namespace tickflow::exchange::simulator::testing {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using tcp = net::ip::tcp;

struct HttpReply {
  int status = 0;
  std::string body;
};

inline HttpReply http_request(uint16_t port, const std::string& target, http::verb verb = http::verb::get) {
  net::io_context ioc;
  tcp::socket sock(ioc);
  sock.connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), port));
  http::request<http::string_body> req(verb, target, 11);
  req.set(http::field::host, "127.0.0.1");
  req.prepare_payload();
  http::write(sock, req);
  beast::flat_buffer buf;
  http::response<http::string_body> res;
  http::read(sock, buf, res);
  beast::error_code ec;
  sock.shutdown(tcp::socket::shutdown_both, ec);
  return {static_cast<int>(res.result_int()), res.body()};
}

class WsTestClient {
 public:
  WsTestClient() : ws_(ioc_) {}
  ~WsTestClient() {
    if (reader_.joinable()) {
      beast::error_code ec;
      beast::get_lowest_layer(ws_).socket().shutdown(tcp::socket::shutdown_both, ec);
      reader_.join();
    }
  }

  void connect(uint16_t port, const std::string& target) {
    beast::get_lowest_layer(ws_).connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), port));
    ws_.control_callback([this](websocket::frame_type kind, beast::string_view) {
      if (kind == websocket::frame_type::pong) pongs_++;
    });
    ws_.read_message_max(64 << 20);
    ws_.handshake("127.0.0.1:" + std::to_string(port), target);
  }

  // Synchronous use, before start_reader().
  void send(const std::string& text) { ws_.write(net::buffer(text)); }
  void ping() { ws_.ping({}); }
  std::string read_one() {
    beast::flat_buffer buf;
    ws_.read(buf);
    return beast::buffers_to_string(buf.data());
  }
  int pongs() const { return pongs_; }

  // Collects frames on a thread until the connection ends.
  void start_reader() {
    reader_ = std::thread([this] {
      beast::flat_buffer buf;
      for (;;) {
        beast::error_code ec;
        ws_.read(buf, ec);
        std::lock_guard lk(mu_);
        if (ec) {
          error_ = ec;
          close_code_ = ws_.reason().code;
          close_reason_ = std::string(ws_.reason().reason.data(), ws_.reason().reason.size());
          ended_ = true;
          cv_.notify_all();
          return;
        }
        frames_.push_back(beast::buffers_to_string(buf.data()));
        times_.push_back(std::chrono::steady_clock::now());
        buf.consume(buf.size());
        cv_.notify_all();
      }
    });
  }

  // Waits until pred(frames, ended) is true or the deadline passes; returns pred's last value.
  bool wait_until(const std::function<bool(const std::vector<std::string>&, bool)>& pred,
                  std::chrono::milliseconds timeout = std::chrono::seconds(20)) {
    std::unique_lock lk(mu_);
    return cv_.wait_for(lk, timeout, [&] { return pred(frames_, ended_); });
  }
  std::vector<std::string> frames() const {
    std::lock_guard lk(mu_);
    return frames_;
  }
  std::vector<std::chrono::steady_clock::time_point> times() const {
    std::lock_guard lk(mu_);
    return times_;
  }
  bool ended() const {
    std::lock_guard lk(mu_);
    return ended_;
  }
  beast::error_code error() const {
    std::lock_guard lk(mu_);
    return error_;
  }
  int close_code() const {
    std::lock_guard lk(mu_);
    return close_code_;
  }
  std::string close_reason() const {
    std::lock_guard lk(mu_);
    return close_reason_;
  }

 private:
  net::io_context ioc_;
  websocket::stream<beast::tcp_stream> ws_;
  std::thread reader_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::string> frames_;
  std::vector<std::chrono::steady_clock::time_point> times_;
  bool ended_ = false;
  beast::error_code error_;
  int close_code_ = 0;
  std::string close_reason_;
  std::atomic<int> pongs_{0};
};

}  // namespace tickflow::exchange::simulator::testing
