// The simulator's network side: one Boost.Asio io_context thread (accept, HTTP, WebSocket reads
// and writes) and one pacer thread (market generation, encoding, fan-out to client buffers).
//
// WebSocket: Beast performs the opening handshake; after it the session writes RFC 6455 frames
// itself (server frames are unmasked), so that one ~1 ms burst of hundreds of frames is a single
// socket write, and it reads/unmasks client frames itself (text, ping → pong, close). This is
// the only translation unit that includes Boost.Beast.
#include <utility>  // before Boost (Boost 1.74 Asio on GCC 12)

#include <algorithm>
#include <cctype>
#include <charconv>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <iostream>
#include <map>
#include <mutex>
#include <optional>
#include <thread>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <simdjson.h>

#include "exchange/simulator/simulator.h"

namespace tickflow::exchange::simulator {
namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using tcp = net::ip::tcp;
using SteadyClock = std::chrono::steady_clock;

constexpr int kStreamKinds = 3;  // trade, aggTrade, depth@100ms
enum StreamKind : uint32_t { kTradeStream = 0, kAggStream = 1, kDepthStream = 2 };
constexpr size_t kMaxBatchFrames = 16384;
constexpr size_t kMaxPendingBytes = 256u << 20;  // a client this far behind is dropped
constexpr size_t kMaxClientMessage = 1u << 20;
constexpr size_t kMinHistoryPerSymbol = 10000;

int64_t wall_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

void append_int(std::string& out, int64_t v) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, r.ptr);
}

void append_ws_header(std::string& out, uint8_t opcode, size_t len) {
  out.push_back(static_cast<char>(0x80 | opcode));
  if (len < 126) {
    out.push_back(static_cast<char>(len));
  } else if (len <= 0xFFFF) {
    out.push_back(static_cast<char>(126));
    out.push_back(static_cast<char>((len >> 8) & 0xFF));
    out.push_back(static_cast<char>(len & 0xFF));
  } else {
    out.push_back(static_cast<char>(127));
    for (int i = 7; i >= 0; --i) out.push_back(static_cast<char>((len >> (8 * i)) & 0xFF));
  }
}

void append_ws_close(std::string& out, uint16_t code, std::string_view reason) {
  reason = reason.substr(0, 123);
  append_ws_header(out, 0x8, 2 + reason.size());
  out.push_back(static_cast<char>(code >> 8));
  out.push_back(static_cast<char>(code & 0xFF));
  out.append(reason);
}

void append_json_string(std::string& out, std::string_view s) {
  out.push_back('"');
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(c);
    } else if (static_cast<unsigned char>(c) < 0x20) {
      out.append("\\u00");
      const char* hex = "0123456789abcdef";
      out.push_back(hex[(c >> 4) & 0xF]);
      out.push_back(hex[c & 0xF]);
    } else {
      out.push_back(c);
    }
  }
  out.push_back('"');
}

std::string url_decode(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      int v = 0;
      auto r = std::from_chars(s.data() + i + 1, s.data() + i + 3, v, 16);
      if (r.ec == std::errc() && r.ptr == s.data() + i + 3) {
        out.push_back(static_cast<char>(v));
        i += 2;
        continue;
      }
    }
    out.push_back(s[i] == '+' ? ' ' : s[i]);
  }
  return out;
}

struct Target {
  std::string path;
  std::map<std::string, std::string, std::less<>> query;
};

Target parse_target(std::string_view target) {
  Target t;
  const size_t q = target.find('?');
  t.path = url_decode(target.substr(0, q));
  if (q == std::string_view::npos) return t;
  std::string_view rest = target.substr(q + 1);
  while (!rest.empty()) {
    const size_t amp = rest.find('&');
    std::string_view kv = rest.substr(0, amp);
    const size_t eq = kv.find('=');
    if (!kv.empty()) {
      t.query[url_decode(kv.substr(0, eq))] =
          eq == std::string_view::npos ? std::string() : url_decode(kv.substr(eq + 1));
    }
    if (amp == std::string_view::npos) break;
    rest = rest.substr(amp + 1);
  }
  return t;
}

std::vector<std::string> split(std::string_view s, char sep) {
  std::vector<std::string> out;
  while (!s.empty()) {
    const size_t p = s.find(sep);
    if (p != 0) out.emplace_back(s.substr(0, p));
    if (p == std::string_view::npos) break;
    s = s.substr(p + 1);
  }
  return out;
}

// A parsed query integer: missing → nullopt; present but bad → error set.
struct IntParam {
  bool present = false;
  bool bad = false;
  int64_t value = 0;
};

IntParam int_param(const Target& t, std::string_view name) {
  IntParam p;
  auto it = t.query.find(name);
  if (it == t.query.end() || it->second.empty()) return p;
  p.present = true;
  const std::string& s = it->second;
  auto r = std::from_chars(s.data(), s.data() + s.size(), p.value);
  p.bad = r.ec != std::errc() || r.ptr != s.data() + s.size() || p.value < 0;
  return p;
}

struct RestReply {
  http::status status = http::status::ok;
  std::string body;
};

RestReply binance_error(http::status st, int code, std::string_view msg) {
  RestReply r;
  r.status = st;
  r.body = "{\"code\":";
  append_int(r.body, code);
  r.body += ",\"msg\":";
  append_json_string(r.body, msg);
  r.body += "}";
  return r;
}

RestReply illegal_param(std::string_view name) {
  return binance_error(http::status::bad_request, -1100,
                       "Illegal characters found in parameter '" + std::string(name) +
                           "'; legal range is '^[0-9]{1,20}$'.");
}

// One frame of a pacer batch: payload bytes [off, off+len) of Batch::buf for stream `stream`.
struct Frame {
  uint32_t stream;
  uint32_t len;
  size_t off;
};

struct Batch {
  std::string buf;
  std::vector<Frame> frames;
  void add(uint32_t stream, size_t off) {
    frames.push_back({stream, static_cast<uint32_t>(buf.size() - off), off});
  }
};

struct LateFrame {
  SteadyClock::time_point due;
  uint32_t stream;
  std::string payload;
};

struct SymbolHistory {
  std::deque<SimTrade> trades;
  std::deque<SimAggTrade> aggs;
  std::vector<int64_t> skipped;
};

}  // namespace

class WsSession;
class HttpSession;

struct Simulator::Impl {
  explicit Impl(SimulatorConfig c) : cfg(std::move(c)) {}

  // ---- fixed after start() ----
  SimulatorConfig cfg;
  int64_t start_ms = 0;
  std::vector<SymbolSpec> specs;
  std::vector<std::string> stream_names;  // by stream id = symbol * 3 + kind
  size_t history_cap = 0;  // per symbol; 0 = keep all

  net::io_context ioc{1};
  std::optional<tcp::acceptor> acceptor;
  std::thread io_thread;
  std::thread pacer_thread;
  uint16_t bound_port = 0;
  bool started = false;
  bool stopped = false;
  std::mutex lifecycle_mu;

  // ---- market + history (pacer writes, REST reads) ----
  mutable std::mutex market_mu;
  std::unique_ptr<MarketModel> model;
  std::vector<SymbolHistory> hist;

  // ---- control (pacer waits on ctl_cv) ----
  std::mutex ctl_mu;
  std::condition_variable ctl_cv;
  bool stopping = false;
  bool market_started = false;
  bool control_pending = false;
  int64_t ctl_stall_ms = 0;
  std::vector<MalformedKind> ctl_malformed;
  std::vector<std::pair<int, uint64_t>> ctl_skip;   // (symbol or -1, count)
  std::vector<std::pair<int, int64_t>> ctl_late;    // (symbol or -1, ms)
  std::atomic<uint64_t> drop_every{0};

  // ---- sessions ----
  std::mutex sessions_mu;
  std::vector<std::shared_ptr<WsSession>> sessions;
  std::vector<std::atomic<int>> stream_subscribers;

  // ---- stats ----
  std::atomic<uint64_t> messages_sent{0}, bytes_sent{0}, trades_generated{0}, aggs_generated{0},
      depth_generated{0}, clients{0}, connections_total{0}, connections_dropped{0}, rest_requests{0};
  std::atomic<bool> ended{false};

  // io-thread-only helpers
  simdjson::dom::parser json;

  Status start();
  void stop();
  void do_accept();
  void pacer_loop();
  void deliver(const Batch& batch);
  void remove_session(const WsSession* s);
  void on_subscribed();
  int stream_id(std::string_view name) const;
  RestReply handle_rest(const http::request<http::string_body>& req);
  RestReply rest_depth(const Target& t);
  RestReply rest_agg_trades(const Target& t);
  RestReply rest_trades(const Target& t, bool historical);
  RestReply rest_fault(const Target& t);
  RestReply rest_stats();
  int symbol_of(const Target& t, RestReply& err) const;
  void signal_control() {
    {
      std::lock_guard lk(ctl_mu);
      control_pending = true;
    }
    ctl_cv.notify_all();
  }
  void drop_all(bool count = true);
  int symbol_index(const std::string& symbol) const;
};

// ---------------------------------------------------------------------------------------------
// WebSocket session (after the handshake: raw RFC 6455 framing on the TCP socket).

class WsSession : public std::enable_shared_from_this<WsSession> {
 public:
  WsSession(Simulator::Impl& sim, tcp::socket sock, bool combined)
      : sim_(sim), sock_(std::move(sock)), combined_(combined),
        subs_(sim.stream_names.size(), 0) {}

  // ---- called from the pacer (and io thread) under mu_ ----
  std::mutex mu_;
  std::string pending_;
  bool closing_ = false;   // no more data frames; close once pending_ is written
  bool dropping_ = false;  // that close is a drop fault (counted)
  bool closed_ = false;
  uint64_t frames_ = 0;

  bool subscribed(uint32_t stream) const { return subs_[stream] != 0; }
  bool combined() const { return combined_; }

  // io thread
  void begin(std::string leftover, const std::vector<std::string>& url_streams) {
    rbuf_.resize(64 * 1024);
    if (leftover.size() > rbuf_.size()) rbuf_.resize(leftover.size());
    std::memcpy(rbuf_.data(), leftover.data(), leftover.size());
    rlen_ = leftover.size();
    std::string bad;
    std::vector<int> ids;
    for (const auto& s : url_streams) {
      const int id = sim_.stream_id(s);
      if (id < 0) {
        bad = s;
        break;
      }
      ids.push_back(id);
    }
    if (!bad.empty()) {
      std::string frame;
      append_ws_close(frame, 1008, "Invalid request: unknown stream '" + bad + "'");
      queue_and_close(std::move(frame), /*graceful=*/true);
    } else if (!ids.empty()) {
      std::lock_guard lk(mu_);
      for (int id : ids) add_sub(id);
    }
    if (!ids.empty() && bad.empty()) sim_.on_subscribed();
    do_read();
  }

  // io thread: write whatever is pending.
  void kick() {
    if (writing_ || io_closed_) return;
    bool close = false;
    bool dropped = false;
    {
      std::lock_guard lk(mu_);
      if (pending_.empty()) {
        close = closing_;
        dropped = dropping_;
        if (!close) return;
      } else {
        inflight_.swap(pending_);
        pending_.clear();
      }
    }
    if (close) {
      if (graceful_ && !dropped) {
        half_close();
      } else {
        close_now(dropped);
      }
      return;
    }
    writing_ = true;
    net::async_write(sock_, net::buffer(inflight_),
                     [self = shared_from_this()](beast::error_code ec, size_t n) {
                       self->writing_ = false;
                       self->sim_.bytes_sent.fetch_add(n, std::memory_order_relaxed);
                       if (ec) {
                         self->close_now(false);
                       } else {
                         self->kick();
                       }
                     });
  }

  // io thread: close the TCP connection now (no close frame).
  void close_now(bool dropped) {
    if (io_closed_) return;
    io_closed_ = true;
    {
      std::lock_guard lk(mu_);
      closed_ = true;
      pending_.clear();
      for (size_t i = 0; i < subs_.size(); ++i) {
        if (subs_[i]) sim_.stream_subscribers[i].fetch_sub(1);
        subs_[i] = 0;
      }
    }
    if (dropped) sim_.connections_dropped.fetch_add(1);
    beast::error_code ec;
    close_timer_.cancel();
    sock_.shutdown(tcp::socket::shutdown_both, ec);
    sock_.close(ec);
    sim_.remove_session(this);
  }

 private:
  void add_sub(int id) {  // under mu_
    if (subs_[id]) return;
    subs_[id] = 1;
    order_.push_back(id);
    sim_.stream_subscribers[id].fetch_add(1);
  }
  void remove_sub(int id) {  // under mu_
    if (!subs_[id]) return;
    subs_[id] = 0;
    order_.erase(std::remove(order_.begin(), order_.end(), id), order_.end());
    sim_.stream_subscribers[id].fetch_sub(1);
  }

  void queue(std::string bytes) {
    {
      std::lock_guard lk(mu_);
      if (closing_ || closed_) return;
      pending_ += bytes;
    }
    kick();
  }
  // graceful: a close frame we initiated; after it, wait (up to 2 s) for the client's close
  // frame before closing TCP, so the client sees a clean WebSocket close.
  void queue_and_close(std::string bytes, bool graceful = false) {
    {
      std::lock_guard lk(mu_);
      if (closing_ || closed_) return;
      pending_ += bytes;
      closing_ = true;
    }
    graceful_ = graceful;
    kick();
  }

  void half_close() {
    if (half_closed_ || io_closed_) return;
    half_closed_ = true;
    beast::error_code ec;
    sock_.shutdown(tcp::socket::shutdown_send, ec);
    close_timer_.expires_after(std::chrono::seconds(2));
    close_timer_.async_wait([self = shared_from_this()](beast::error_code) { self->close_now(false); });
  }
  void queue_text(std::string_view text) {
    std::string f;
    append_ws_header(f, 0x1, text.size());
    f += text;
    queue(std::move(f));
  }

  void do_read() {
    if (rlen_ == rbuf_.size()) rbuf_.resize(rbuf_.size() * 2);
    sock_.async_read_some(net::buffer(rbuf_.data() + rlen_, rbuf_.size() - rlen_),
                          [self = shared_from_this()](beast::error_code ec, size_t n) {
                            if (ec) {
                              self->close_now(false);
                              return;
                            }
                            self->rlen_ += n;
                            if (self->parse_frames()) self->do_read();
                          });
  }

  // Returns false when the connection is being closed.
  bool parse_frames() {
    size_t pos = 0;
    bool keep = true;
    while (keep) {
      const size_t avail = rlen_ - pos;
      if (avail < 2) break;
      const auto* p = reinterpret_cast<const uint8_t*>(rbuf_.data() + pos);
      const bool fin = (p[0] & 0x80) != 0;
      const uint8_t op = p[0] & 0x0F;
      const bool masked = (p[1] & 0x80) != 0;
      uint64_t len = p[1] & 0x7F;
      size_t hdr = 2;
      if (len == 126) {
        if (avail < 4) break;
        len = (uint64_t{p[2]} << 8) | p[3];
        hdr = 4;
      } else if (len == 127) {
        if (avail < 10) break;
        len = 0;
        for (int i = 0; i < 8; ++i) len = (len << 8) | p[2 + i];
        hdr = 10;
      }
      if (!masked) return fail(1002, "client frames must be masked");
      if (len > kMaxClientMessage) return fail(1009, "message too big");
      hdr += 4;
      if (avail < hdr + len) {
        if (hdr + len > rbuf_.size()) rbuf_.resize(hdr + len);
        break;
      }
      const uint8_t* mask = p + hdr - 4;
      std::string payload(reinterpret_cast<const char*>(p + hdr), len);
      for (size_t i = 0; i < len; ++i) payload[i] = static_cast<char>(payload[i] ^ mask[i & 3]);
      pos += hdr + len;
      keep = on_frame(fin, op, std::move(payload));
    }
    if (pos > 0) {
      std::memmove(rbuf_.data(), rbuf_.data() + pos, rlen_ - pos);
      rlen_ -= pos;
    }
    return keep && !io_closed_;
  }

  bool fail(uint16_t code, std::string_view reason) {
    std::string f;
    append_ws_close(f, code, reason);
    queue_and_close(std::move(f));
    return false;
  }

  bool on_frame(bool fin, uint8_t op, std::string payload) {
    switch (op) {
      case 0x9: {  // ping → pong
        std::string f;
        append_ws_header(f, 0xA, payload.size());
        f += payload;
        queue(std::move(f));
        return true;
      }
      case 0xA:
        return true;
      case 0x8: {  // close → echo the code, then close
        if (graceful_) {  // the reply to our close
          close_now(false);
          return false;
        }
        std::string f;
        if (payload.size() >= 2) {
          const uint16_t code = static_cast<uint16_t>((static_cast<uint8_t>(payload[0]) << 8) |
                                                      static_cast<uint8_t>(payload[1]));
          append_ws_close(f, code, "");
        } else {
          append_ws_header(f, 0x8, 0);
        }
        queue_and_close(std::move(f));
        return false;
      }
      case 0x1:
      case 0x2:
        message_ = std::move(payload);
        if (fin) on_message(message_);
        return true;
      case 0x0:
        if (message_.size() + payload.size() > kMaxClientMessage) return fail(1009, "message too big");
        message_ += payload;
        if (fin) on_message(message_);
        return true;
      default:
        return fail(1002, "unknown opcode");
    }
  }

  void reply_error(int code, std::string_view msg, std::string_view id) {
    std::string r = "{\"error\":{\"code\":";
    append_int(r, code);
    r += ",\"msg\":";
    append_json_string(r, msg);
    r += "},\"id\":";
    r += id;
    r += "}";
    queue_text(r);
  }

  void on_message(const std::string& text) {
    simdjson::dom::element doc;
    if (sim_.json.parse(text).get(doc) != simdjson::SUCCESS || !doc.is_object()) {
      reply_error(3, "Invalid JSON: expected value at line 1 column 1", "null");
      return;
    }
    std::string id = "null";
    simdjson::dom::element id_el;
    if (doc["id"].get(id_el) == simdjson::SUCCESS) {
      int64_t iv = 0;
      std::string_view sv;
      if (id_el.get_int64().get(iv) == simdjson::SUCCESS) {
        id.clear();
        append_int(id, iv);
      } else if (id_el.get_string().get(sv) == simdjson::SUCCESS) {
        id.clear();
        append_json_string(id, sv);
      }
    }
    std::string_view method;
    if (doc["method"].get_string().get(method) != simdjson::SUCCESS) {
      reply_error(3, "Invalid request: missing field `method`", id);
      return;
    }
    std::vector<std::string> params;
    simdjson::dom::array arr;
    if (doc["params"].get_array().get(arr) == simdjson::SUCCESS) {
      for (auto el : arr) {
        std::string_view s;
        if (el.get_string().get(s) != simdjson::SUCCESS) {
          reply_error(1, "Invalid value type: expected String", id);
          return;
        }
        params.emplace_back(s);
      }
    }
    if (method == "SUBSCRIBE" || method == "UNSUBSCRIBE") {
      std::vector<int> ids;
      for (const auto& s : params) {
        const int sid = sim_.stream_id(s);
        if (sid < 0) {
          reply_error(2, "Invalid request: unknown stream '" + s + "'", id);
          return;
        }
        ids.push_back(sid);
      }
      std::string reply = "{\"result\":null,\"id\":" + id + "}";
      std::string f;
      append_ws_header(f, 0x1, reply.size());
      f += reply;
      bool any = false;
      {
        // The reply goes out before the first frame of the new streams.
        std::lock_guard lk(mu_);
        if (closing_ || closed_) return;
        pending_ += f;
        for (int sid : ids) {
          if (method == "SUBSCRIBE") {
            add_sub(sid);
          } else {
            remove_sub(sid);
          }
        }
        any = !order_.empty();
      }
      kick();
      if (any) sim_.on_subscribed();
    } else if (method == "LIST_SUBSCRIPTIONS") {
      std::string r = "{\"result\":[";
      {
        std::lock_guard lk(mu_);
        for (size_t i = 0; i < order_.size(); ++i) {
          if (i) r += ',';
          append_json_string(r, sim_.stream_names[order_[i]]);
        }
      }
      r += "],\"id\":" + id + "}";
      queue_text(r);
    } else if (method == "SET_PROPERTY") {
      queue_text("{\"result\":null,\"id\":" + id + "}");
    } else if (method == "GET_PROPERTY") {
      queue_text(std::string("{\"result\":") + (combined_ ? "true" : "false") + ",\"id\":" + id + "}");
    } else {
      reply_error(2,
                  "Invalid request: unknown variant `" + std::string(method) +
                      "`, expected one of `SUBSCRIBE`, `UNSUBSCRIBE`, `LIST_SUBSCRIPTIONS`, "
                      "`SET_PROPERTY`, `GET_PROPERTY`",
                  id);
    }
  }

  Simulator::Impl& sim_;
  tcp::socket sock_;
  const bool combined_;
  std::vector<uint8_t> subs_;  // under mu_
  std::vector<int> order_;     // under mu_: subscription order for LIST_SUBSCRIPTIONS
  // io thread only
  std::string inflight_;
  bool writing_ = false;
  bool io_closed_ = false;
  bool graceful_ = false;
  bool half_closed_ = false;
  net::steady_timer close_timer_{sock_.get_executor()};
  std::string rbuf_;
  size_t rlen_ = 0;
  std::string message_;
};

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
    RestReply r = sim_.handle_rest(req_);
    auto res = std::make_shared<http::response<http::string_body>>(r.status, req_.version());
    res->set(http::field::server, "tickflow-simulator");
    res->set(http::field::content_type, "application/json;charset=UTF-8");
    res->keep_alive(req_.keep_alive());
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
    if (t.path == "/stream") {
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
    auto ws = std::make_shared<WsSession>(sim_, std::move(sock_), combined_);
    {
      std::lock_guard lk(sim_.sessions_mu);
      sim_.sessions.push_back(ws);
    }
    sim_.clients.fetch_add(1);
    sim_.connections_total.fetch_add(1);
    ws->begin(std::move(leftover), streams_);
  }

  Simulator::Impl& sim_;
  tcp::socket sock_;
  beast::flat_buffer buf_;
  http::request<http::string_body> req_;
  std::unique_ptr<websocket::stream<tcp::socket&>> ws_;
  std::vector<std::string> streams_;
  bool combined_ = false;
};

// ---------------------------------------------------------------------------------------------
// Impl

int Simulator::Impl::stream_id(std::string_view name) const {
  for (size_t i = 0; i < stream_names.size(); ++i) {
    if (stream_names[i] == name) return static_cast<int>(i);
  }
  return -1;
}

void Simulator::Impl::remove_session(const WsSession* s) {
  std::lock_guard lk(sessions_mu);
  auto it = std::find_if(sessions.begin(), sessions.end(), [s](const auto& p) { return p.get() == s; });
  if (it != sessions.end()) {
    sessions.erase(it);
    clients.fetch_sub(1);
  }
}

void Simulator::Impl::on_subscribed() {
  if (!cfg.start_on_connect) return;
  {
    std::lock_guard lk(ctl_mu);
    if (market_started) return;
    market_started = true;
  }
  ctl_cv.notify_all();
}

int Simulator::Impl::symbol_index(const std::string& symbol) const {
  for (size_t i = 0; i < specs.size(); ++i) {
    if (specs[i].symbol.size() != symbol.size()) continue;
    bool same = true;
    for (size_t k = 0; k < symbol.size() && same; ++k) {
      same = specs[i].symbol[k] == std::toupper(static_cast<unsigned char>(symbol[k]));
    }
    if (same) return static_cast<int>(i);
  }
  return -1;
}

void Simulator::Impl::drop_all(bool count) {
  std::vector<std::shared_ptr<WsSession>> list;
  {
    std::lock_guard lk(sessions_mu);
    list = sessions;
  }
  for (auto& s : list) net::post(ioc, [s, count] { s->close_now(count); });
}

Status Simulator::Impl::start() {
  if (cfg.symbols.empty()) return Status::invalid_argument("simulator: no symbols");
  if (cfg.rate <= 0) return Status::invalid_argument("simulator: rate must be > 0");
  for (const auto& s : cfg.symbols) {
    if (s.empty()) return Status::invalid_argument("simulator: empty symbol");
  }
  start_ms = cfg.start_ms != 0 ? cfg.start_ms : wall_ms();
  MarketOptions mo{cfg.seed, cfg.symbols, start_ms, cfg.rate, cfg.max_trades, cfg.book_levels};
  model = std::make_unique<MarketModel>(mo);
  specs = model->symbols();
  for (const auto& s : specs) {
    stream_names.push_back(s.stream_prefix + "@trade");
    stream_names.push_back(s.stream_prefix + "@aggTrade");
    stream_names.push_back(s.stream_prefix + "@depth@100ms");
  }
  stream_subscribers = std::vector<std::atomic<int>>(stream_names.size());
  hist.resize(specs.size());
  history_cap = cfg.max_trades > 0 ? 0 : std::max(kMinHistoryPerSymbol, kHistoryTrades / specs.size());
  drop_every = cfg.faults.drop_every;

  beast::error_code ec;
  const auto addr = net::ip::make_address(cfg.host, ec);
  if (ec) return Status::invalid_argument("simulator: bad host '" + cfg.host + "': " + ec.message());
  const tcp::endpoint ep(addr, cfg.port);
  acceptor.emplace(ioc);
  acceptor->open(ep.protocol(), ec);
  if (!ec) acceptor->set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) acceptor->bind(ep, ec);
  if (!ec) acceptor->listen(net::socket_base::max_listen_connections, ec);
  if (ec) {
    return Status::io_error("simulator: cannot listen on " + cfg.host + ":" + std::to_string(cfg.port) +
                            ": " + ec.message());
  }
  bound_port = acceptor->local_endpoint().port();
  if (!cfg.start_on_connect) {
    std::lock_guard lk(ctl_mu);
    market_started = true;
  }
  do_accept();
  io_thread = std::thread([this] { ioc.run(); });
  pacer_thread = std::thread([this] { pacer_loop(); });
  return Status::ok();
}

void Simulator::Impl::do_accept() {
  acceptor->async_accept([this](beast::error_code ec, tcp::socket sock) {
    if (ec) {
      if (ec == net::error::operation_aborted || !acceptor->is_open()) return;
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
  net::post(ioc, [this] {
    beast::error_code ec;
    if (acceptor) acceptor->close(ec);
  });
  drop_all(false);
  // Let the closes run, then stop the loop.
  net::post(ioc, [this] { ioc.stop(); });
  if (io_thread.joinable()) io_thread.join();
  std::lock_guard lk(sessions_mu);
  sessions.clear();
}

void Simulator::Impl::deliver(const Batch& batch) {
  if (batch.frames.empty()) return;
  std::vector<std::shared_ptr<WsSession>> list;
  {
    std::lock_guard lk(sessions_mu);
    list = sessions;
  }
  const uint64_t every = drop_every.load(std::memory_order_relaxed);
  for (auto& s : list) {
    bool kick = false;
    bool drop = false;
    uint64_t sent = 0;
    {
      std::lock_guard lk(s->mu_);
      if (s->closing_ || s->closed_) continue;
      const bool was_empty = s->pending_.empty();
      std::string& out = s->pending_;
      for (const Frame& f : batch.frames) {
        if (!s->subscribed(f.stream)) continue;
        const std::string_view payload(batch.buf.data() + f.off, f.len);
        if (s->combined()) {
          const std::string& name = stream_names[f.stream];
          append_ws_header(out, 0x1, 21 + name.size() + payload.size());
          append_combined(out, name, payload);
        } else {
          append_ws_header(out, 0x1, payload.size());
          out.append(payload);
        }
        ++sent;
        ++s->frames_;
        if (every > 0 && s->frames_ % every == 0) {
          s->closing_ = true;  // abrupt close once these frames are written
          s->dropping_ = true;
          break;
        }
      }
      if (out.size() > kMaxPendingBytes) {
        drop = true;
      } else {
        kick = (was_empty && !out.empty()) || s->closing_;
      }
    }
    messages_sent.fetch_add(sent, std::memory_order_relaxed);
    if (drop) {
      net::post(ioc, [s] { s->close_now(true); });
    } else if (kick) {
      net::post(ioc, [s] { s->kick(); });
    }
  }
}

void Simulator::Impl::pacer_loop() {
  std::unique_lock lk(ctl_mu);
  ctl_cv.wait(lk, [&] { return stopping || market_started; });
  if (stopping) return;
  lk.unlock();
  if (cfg.start_on_connect && cfg.start_ms == 0) {
    // The market's clock starts now: rebuild the (identical) model at the current wall time.
    std::lock_guard mk(market_mu);
    start_ms = wall_ms();
    model = std::make_unique<MarketModel>(
        MarketOptions{cfg.seed, cfg.symbols, start_ms, cfg.rate, cfg.max_trades, cfg.book_levels});
  }
  const auto wall_start = SteadyClock::now();
  const Faults& cf = cfg.faults;

  // Fault state, owned by this thread.
  std::deque<MalformedKind> malformed_q;
  std::vector<uint64_t> skip_left(specs.size(), 0);
  uint64_t skip_any_left = 0;
  std::vector<std::deque<int64_t>> late_next(specs.size());
  std::deque<int64_t> late_any;
  std::vector<LateFrame> late_q;
  uint64_t trade_frames = 0;
  SteadyClock::time_point stall_until{};

  MarketEvent ev;
  Batch batch;
  std::vector<uint8_t> trade_skip, trade_late;
  std::vector<int64_t> trade_late_ms;
  std::string tmp;

  for (;;) {
    lk.lock();
    if (stopping) return;
    if (control_pending) {
      control_pending = false;
      if (ctl_stall_ms > 0) {
        stall_until = std::max(stall_until, SteadyClock::now() + std::chrono::milliseconds(ctl_stall_ms));
        ctl_stall_ms = 0;
      }
      for (MalformedKind k : ctl_malformed) malformed_q.push_back(k);
      ctl_malformed.clear();
      for (auto [sym, n] : ctl_skip) (sym < 0 ? skip_any_left : skip_left[sym]) += n;
      ctl_skip.clear();
      for (auto [sym, ms] : ctl_late) (sym < 0 ? late_any : late_next[sym]).push_back(ms);
      ctl_late.clear();
    }
    lk.unlock();

    auto now = SteadyClock::now();
    if (now < stall_until) {
      lk.lock();
      ctl_cv.wait_until(lk, stall_until, [&] { return stopping; });
      lk.unlock();
      continue;
    }
    const int64_t due_ms =
        start_ms + std::chrono::duration_cast<std::chrono::milliseconds>(now - wall_start).count();
    batch.buf.clear();
    batch.frames.clear();
    int64_t next_due = MarketModel::kNever;
    {
      std::lock_guard mk(market_mu);
      while (batch.frames.size() < kMaxBatchFrames && model->peek_time_ms() <= due_ms) {
        model->next(ev);
        const uint32_t sym = ev.symbol;
        const SymbolSpec& spec = specs[sym];
        SymbolHistory& h = hist[sym];
        if (ev.kind == EventKind::kDepthUpdate) {
          depth_generated.fetch_add(1, std::memory_order_relaxed);
          const uint32_t sid = sym * kStreamKinds + kDepthStream;
          if (stream_subscribers[sid].load(std::memory_order_relaxed) > 0) {
            const size_t off = batch.buf.size();
            append_depth_payload(batch.buf, spec.symbol, ev.depth, ev.event_time_ms);
            batch.add(sid, off);
          }
          continue;
        }
        trades_generated.fetch_add(ev.trades.size(), std::memory_order_relaxed);
        aggs_generated.fetch_add(ev.aggs.size(), std::memory_order_relaxed);
        const size_t n = ev.trades.size();
        trade_skip.assign(n, 0);
        trade_late.assign(n, 0);
        trade_late_ms.assign(n, 0);
        for (size_t i = 0; i < n; ++i) {
          const SimTrade& t = ev.trades[i];
          const uint64_t ordinal = static_cast<uint64_t>(t.id - spec.first_trade_id) + 1;
          h.trades.push_back(t);
          bool skip = cf.skip_every > 0 && ordinal % cf.skip_every == 0;
          if (!skip && skip_left[sym] > 0) {
            --skip_left[sym];
            skip = true;
          } else if (!skip && skip_any_left > 0) {
            --skip_any_left;
            skip = true;
          }
          if (skip) {
            trade_skip[i] = 1;
            if (h.skipped.size() < 1'000'000) h.skipped.push_back(t.id);
            continue;
          }
          if (cf.late_every > 0 && cf.late_ms > 0 && ordinal % cf.late_every == 0) {
            trade_late[i] = 1;
            trade_late_ms[i] = cf.late_ms;
          } else if (!late_next[sym].empty()) {
            trade_late[i] = 1;
            trade_late_ms[i] = late_next[sym].front();
            late_next[sym].pop_front();
          } else if (!late_any.empty()) {
            trade_late[i] = 1;
            trade_late_ms[i] = late_any.front();
            late_any.pop_front();
          }
        }
        for (const auto& a : ev.aggs) h.aggs.push_back(a);
        if (history_cap > 0) {
          while (h.trades.size() > history_cap) h.trades.pop_front();
          while (h.aggs.size() > history_cap) h.aggs.pop_front();
        }
        // @trade frames
        const uint32_t tsid = sym * kStreamKinds + kTradeStream;
        const bool want_trade = stream_subscribers[tsid].load(std::memory_order_relaxed) > 0;
        for (size_t i = 0; i < n; ++i) {
          if (trade_skip[i]) continue;
          ++trade_frames;
          bool malformed = cf.malformed_every > 0 && trade_frames % cf.malformed_every == 0;
          MalformedKind kind = MalformedKind::kTruncated;
          if (!malformed && !malformed_q.empty()) {
            malformed = true;
            kind = malformed_q.front();
            malformed_q.pop_front();
          }
          if (!want_trade) continue;
          tmp.clear();
          append_trade_payload(tmp, spec.symbol, ev.trades[i], ev.event_time_ms);
          if (malformed) {
            const size_t off = batch.buf.size();
            if (kind == MalformedKind::kTruncated) {
              batch.buf.append(tmp, 0, tmp.size() / 2);
            } else {
              const size_t p = tmp.find("\"p\":\"");
              const size_t e = tmp.find('"', p + 5);
              batch.buf.append(tmp, 0, p + 5);
              batch.buf.append("abc");
              batch.buf.append(tmp, e, std::string::npos);
            }
            batch.add(tsid, off);
          }
          if (trade_late[i]) {
            late_q.push_back({now + std::chrono::milliseconds(trade_late_ms[i]), tsid, tmp});
          } else {
            const size_t off = batch.buf.size();
            batch.buf.append(tmp);
            batch.add(tsid, off);
          }
        }
        // @aggTrade frames: withheld with any of their trades, late with their first late one.
        const uint32_t asid = sym * kStreamKinds + kAggStream;
        if (stream_subscribers[asid].load(std::memory_order_relaxed) > 0) {
          const int64_t first = ev.trades.empty() ? 0 : ev.trades.front().id;
          for (const auto& a : ev.aggs) {
            bool skip = false;
            int64_t late_ms = 0;
            for (int64_t id = a.first_trade_id; id <= a.last_trade_id; ++id) {
              const size_t i = static_cast<size_t>(id - first);
              if (trade_skip[i]) skip = true;
              if (trade_late[i] && late_ms == 0) late_ms = trade_late_ms[i];
            }
            if (skip) continue;
            tmp.clear();
            append_agg_trade_payload(tmp, spec.symbol, a, ev.event_time_ms);
            if (late_ms > 0) {
              late_q.push_back({now + std::chrono::milliseconds(late_ms), asid, tmp});
            } else {
              const size_t off = batch.buf.size();
              batch.buf.append(tmp);
              batch.add(asid, off);
            }
          }
        }
      }
      next_due = model->peek_time_ms();
    }
    // Late frames whose time has come go after this burst's newer frames.
    SteadyClock::time_point late_wake = SteadyClock::time_point::max();
    if (!late_q.empty()) {
      std::stable_sort(late_q.begin(), late_q.end(),
                       [](const LateFrame& a, const LateFrame& b) { return a.due < b.due; });
      size_t k = 0;
      while (k < late_q.size() && late_q[k].due <= now) {
        const size_t off = batch.buf.size();
        batch.buf.append(late_q[k].payload);
        batch.add(late_q[k].stream, off);
        ++k;
      }
      late_q.erase(late_q.begin(), late_q.begin() + static_cast<std::ptrdiff_t>(k));
      if (!late_q.empty()) late_wake = late_q.front().due;
    }
    const bool full = batch.frames.size() >= kMaxBatchFrames;
    deliver(batch);
    if (next_due == MarketModel::kNever && late_q.empty()) ended.store(true);
    if (full) continue;

    auto wake = late_wake;
    if (next_due != MarketModel::kNever) {
      wake = std::min(wake, wall_start + std::chrono::milliseconds(next_due - start_ms));
    }
    lk.lock();
    if (wake == SteadyClock::time_point::max()) {
      ctl_cv.wait(lk, [&] { return stopping || control_pending; });
    } else {
      ctl_cv.wait_until(lk, wake, [&] { return stopping || control_pending; });
    }
    lk.unlock();
  }
}

// ---- REST ----

int Simulator::Impl::symbol_of(const Target& t, RestReply& err) const {
  auto it = t.query.find("symbol");
  if (it == t.query.end() || it->second.empty()) {
    err = binance_error(http::status::bad_request, -1102,
                        "Mandatory parameter 'symbol' was not sent, was empty/null, or malformed.");
    return -1;
  }
  for (size_t i = 0; i < specs.size(); ++i) {
    if (specs[i].symbol == it->second) return static_cast<int>(i);
  }
  err = binance_error(http::status::bad_request, -1121, "Invalid symbol.");
  return -1;
}

RestReply Simulator::Impl::handle_rest(const http::request<http::string_body>& req) {
  const Target t = parse_target(std::string_view(req.target().data(), req.target().size()));
  const bool get = req.method() == http::verb::get;
  if (t.path == "/_sim/fault" && (req.method() == http::verb::post || get)) return rest_fault(t);
  if (t.path == "/_sim/stats" && get) return rest_stats();
  if (!get) return binance_error(http::status::method_not_allowed, -1000, "Method not allowed.");
  if (t.path == "/api/v3/ping") return {http::status::ok, "{}"};
  if (t.path == "/api/v3/time") {
    RestReply r;
    r.body = "{\"serverTime\":";
    append_int(r.body, wall_ms());
    r.body += "}";
    return r;
  }
  if (t.path == "/api/v3/depth") return rest_depth(t);
  if (t.path == "/api/v3/aggTrades") return rest_agg_trades(t);
  if (t.path == "/api/v3/trades") return rest_trades(t, false);
  if (t.path == "/api/v3/historicalTrades") return rest_trades(t, true);
  return binance_error(http::status::not_found, -1000, "Unknown path " + t.path);
}

RestReply Simulator::Impl::rest_depth(const Target& t) {
  RestReply err;
  const int sym = symbol_of(t, err);
  if (sym < 0) return err;
  const IntParam limit = int_param(t, "limit");
  if (limit.bad) return illegal_param("limit");
  const int64_t n = limit.present ? std::clamp<int64_t>(limit.value, 1, 5000) : 100;
  DepthSnapshot snap;
  {
    std::lock_guard mk(market_mu);
    snap = model->snapshot(static_cast<size_t>(sym), static_cast<size_t>(n));
  }
  RestReply r;
  append_depth_snapshot(r.body, snap);
  return r;
}

RestReply Simulator::Impl::rest_agg_trades(const Target& t) {
  RestReply err;
  const int sym = symbol_of(t, err);
  if (sym < 0) return err;
  const IntParam limit = int_param(t, "limit");
  const IntParam from = int_param(t, "fromId");
  const IntParam start = int_param(t, "startTime");
  const IntParam end = int_param(t, "endTime");
  if (limit.bad) return illegal_param("limit");
  if (from.bad) return illegal_param("fromId");
  if (start.bad) return illegal_param("startTime");
  if (end.bad) return illegal_param("endTime");
  if (start.present && end.present && end.value - start.value > 3'600'000) {
    return binance_error(http::status::bad_request, -1127, "More than 1 hours between startTime and endTime.");
  }
  const size_t n = static_cast<size_t>(limit.present ? std::clamp<int64_t>(limit.value, 1, 1000) : 500);
  RestReply r;
  r.body = "[";
  std::lock_guard mk(market_mu);
  const auto& aggs = hist[sym].aggs;
  size_t begin = 0;
  if (from.present) {
    if (!aggs.empty() && from.value > aggs.front().id) {
      begin = std::min<size_t>(aggs.size(), static_cast<size_t>(from.value - aggs.front().id));
    }
  } else if (start.present) {
    begin = static_cast<size_t>(
        std::lower_bound(aggs.begin(), aggs.end(), start.value,
                         [](const SimAggTrade& a, int64_t v) { return a.time_ms < v; }) -
        aggs.begin());
  } else if (end.present) {
    const size_t stop = static_cast<size_t>(
        std::upper_bound(aggs.begin(), aggs.end(), end.value,
                         [](int64_t v, const SimAggTrade& a) { return v < a.time_ms; }) -
        aggs.begin());
    begin = stop > n ? stop - n : 0;
  } else {
    begin = aggs.size() > n ? aggs.size() - n : 0;
  }
  bool first = true;
  for (size_t i = begin, k = 0; i < aggs.size() && k < n; ++i, ++k) {
    if (end.present && aggs[i].time_ms > end.value) break;
    if (start.present && !from.present && aggs[i].time_ms < start.value) continue;
    if (!first) r.body.push_back(',');
    first = false;
    append_agg_trade_rest(r.body, aggs[i]);
  }
  r.body.push_back(']');
  return r;
}

RestReply Simulator::Impl::rest_trades(const Target& t, bool historical) {
  RestReply err;
  const int sym = symbol_of(t, err);
  if (sym < 0) return err;
  const IntParam limit = int_param(t, "limit");
  const IntParam from = int_param(t, "fromId");
  if (limit.bad) return illegal_param("limit");
  if (from.bad) return illegal_param("fromId");
  const size_t n = static_cast<size_t>(limit.present ? std::clamp<int64_t>(limit.value, 1, 1000) : 500);
  RestReply r;
  r.body = "[";
  std::lock_guard mk(market_mu);
  const auto& trades = hist[sym].trades;
  size_t begin = trades.size() > n ? trades.size() - n : 0;
  if (historical && from.present) {
    begin = 0;
    if (!trades.empty() && from.value > trades.front().id) {
      begin = std::min<size_t>(trades.size(), static_cast<size_t>(from.value - trades.front().id));
    }
  }
  for (size_t i = begin, k = 0; i < trades.size() && k < n; ++i, ++k) {
    if (k) r.body.push_back(',');
    append_trade_rest(r.body, trades[i]);
  }
  r.body.push_back(']');
  return r;
}

RestReply Simulator::Impl::rest_fault(const Target& t) {
  int sym = -1;
  if (t.query.count("symbol")) {
    RestReply err;
    sym = symbol_of(t, err);
    if (sym < 0) return err;
  }
  bool any = false;
  for (const char* name : {"drop", "drop_every", "stall_ms", "malformed", "skip_ids", "late_ms"}) {
    const IntParam p = int_param(t, name);
    if (p.bad) return illegal_param(name);
    if (!p.present) continue;
    any = true;
    const std::string_view n = name;
    if (n == "drop") {
      if (p.value > 0) drop_all();
    } else if (n == "drop_every") {
      drop_every.store(static_cast<uint64_t>(p.value));
    } else {
      std::lock_guard lk(ctl_mu);
      if (n == "stall_ms") ctl_stall_ms = std::max(ctl_stall_ms, p.value);
      if (n == "malformed") {
        auto k = t.query.find("kind");
        const MalformedKind kind = (k != t.query.end() && k->second == "bad_price") ? MalformedKind::kBadPrice
                                                                                      : MalformedKind::kTruncated;
        ctl_malformed.insert(ctl_malformed.end(), static_cast<size_t>(std::min<int64_t>(p.value, 1'000'000)), kind);
      }
      if (n == "skip_ids") ctl_skip.emplace_back(sym, static_cast<uint64_t>(p.value));
      if (n == "late_ms") ctl_late.emplace_back(sym, p.value);
    }
  }
  if (!any) {
    return binance_error(http::status::bad_request, -1102,
                         "one of drop, drop_every, stall_ms, malformed, skip_ids, late_ms is required");
  }
  signal_control();
  return {http::status::ok, "{\"ok\":true}"};
}

RestReply Simulator::Impl::rest_stats() {
  RestReply r;
  auto add = [&](const char* k, uint64_t v, bool first = false) {
    if (!first) r.body += ',';
    r.body += '"';
    r.body += k;
    r.body += "\":";
    append_int(r.body, static_cast<int64_t>(v));
  };
  r.body = "{";
  add("messages_sent", messages_sent.load(), true);
  add("bytes_sent", bytes_sent.load());
  add("trades_generated", trades_generated.load());
  add("agg_trades_generated", aggs_generated.load());
  add("depth_updates_generated", depth_generated.load());
  add("clients", clients.load());
  add("connections_total", connections_total.load());
  add("connections_dropped", connections_dropped.load());
  add("rest_requests", rest_requests.load());
  r.body += ",\"market_ended\":";
  r.body += ended.load() ? "true" : "false";
  r.body += "}";
  return r;
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
  {
    std::lock_guard lk(impl_->ctl_mu);
    s.market_started = impl_->market_started;
  }
  s.market_ended = impl_->ended.load();
  return s;
}

namespace {
template <typename T>
std::vector<T> copy_of(const std::deque<T>& d) {
  return std::vector<T>(d.begin(), d.end());
}
}  // namespace

std::vector<SimTrade> Simulator::history(const std::string& symbol) const {
  std::lock_guard mk(impl_->market_mu);
  if (!impl_->model) return {};
  const int i = impl_->model->symbol_index(symbol);
  return i < 0 ? std::vector<SimTrade>{} : copy_of(impl_->hist[i].trades);
}

std::vector<SimAggTrade> Simulator::agg_history(const std::string& symbol) const {
  std::lock_guard mk(impl_->market_mu);
  if (!impl_->model) return {};
  const int i = impl_->model->symbol_index(symbol);
  return i < 0 ? std::vector<SimAggTrade>{} : copy_of(impl_->hist[i].aggs);
}

std::vector<int64_t> Simulator::skipped_trade_ids(const std::string& symbol) const {
  std::lock_guard mk(impl_->market_mu);
  if (!impl_->model) return {};
  const int i = impl_->model->symbol_index(symbol);
  return i < 0 ? std::vector<int64_t>{} : impl_->hist[i].skipped;
}

void Simulator::inject_drop() { impl_->drop_all(); }
void Simulator::inject_drop_every(uint64_t n) { impl_->drop_every.store(n); }

void Simulator::inject_stall(int64_t ms) {
  {
    std::lock_guard lk(impl_->ctl_mu);
    impl_->ctl_stall_ms = std::max(impl_->ctl_stall_ms, ms);
  }
  impl_->signal_control();
}

void Simulator::inject_malformed(uint64_t n, MalformedKind kind) {
  {
    std::lock_guard lk(impl_->ctl_mu);
    impl_->ctl_malformed.insert(impl_->ctl_malformed.end(), static_cast<size_t>(std::min<uint64_t>(n, 1'000'000)), kind);
  }
  impl_->signal_control();
}

void Simulator::inject_skip(uint64_t n, const std::string& symbol) {
  const int sym = symbol.empty() ? -1 : impl_->symbol_index(symbol);
  {
    std::lock_guard lk(impl_->ctl_mu);
    impl_->ctl_skip.emplace_back(sym, n);
  }
  impl_->signal_control();
}

void Simulator::inject_late(int64_t ms, const std::string& symbol) {
  const int sym = symbol.empty() ? -1 : impl_->symbol_index(symbol);
  {
    std::lock_guard lk(impl_->ctl_mu);
    impl_->ctl_late.emplace_back(sym, ms);
  }
  impl_->signal_control();
}

}  // namespace tickflow::exchange::simulator
