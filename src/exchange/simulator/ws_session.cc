// WebSocket sessions after the opening handshake: raw RFC 6455 framing on the TCP socket (server
// frames unmasked, so one ~1 ms burst of hundreds of frames is a single socket write; client
// frames read and unmasked here: text, ping → pong, close), and the fan-out of pacer batches to
// the sessions' buffers. Asio only (the handshake is Beast's, in server.cc).
#include <utility>  // before Boost (Boost 1.74 Asio on GCC 12)

#include <algorithm>
#include <cstring>
#include <memory>
#include <mutex>

#include <boost/asio.hpp>

#include "exchange/simulator/server_io.h"

namespace tickflow::exchange::simulator {

using namespace internal;
namespace net = boost::asio;
using tcp = net::ip::tcp;

// ---------------------------------------------------------------------------------------------
// WebSocket session (after the handshake: raw RFC 6455 framing on the TCP socket).

class WsSession : public std::enable_shared_from_this<WsSession> {
 public:
  WsSession(Simulator::Impl& sim, tcp::socket sock, bool combined, bool kraken, bool coinbase, bool kraken_v2 = false)
      : sim_(sim), sock_(std::move(sock)), combined_(combined), kraken_(kraken), coinbase_(coinbase),
        kraken_v2_(kraken_v2),
        subs_(sim.stream_names.size(), 0) {}

  // ---- called from the pacer (and io thread) under mu_ ----
  std::mutex mu_;
  std::string pending_;
  bool closing_ = false;   // no more data frames; close once pending_ is written
  bool dropping_ = false;  // that close is a drop fault (counted)
  bool closed_ = false;
  uint64_t frames_ = 0;

  bool subscribed(uint32_t stream) const { return subs_[stream] != 0; }
  // A frame of a batch built before this session's book snapshot of the stream (Coinbase
  // level2): the snapshot already holds it.
  bool superseded(uint32_t stream, uint64_t batch_seq) const {
    if (snapshot_at_.empty()) return false;
    auto it = snapshot_at_.find(stream);
    return it != snapshot_at_.end() && batch_seq <= it->second;
  }
  bool combined() const { return combined_; }
  bool coinbase_advanced_ = false;  // set before begin(): a Coinbase Advanced Trade session
  uint64_t adv_seq_ = 0;            // under mu_: the last sequence_num sent (Advanced Trade)

  // io thread
  void begin(std::string leftover, const std::vector<std::string>& url_streams) {
    rbuf_.resize(64 * 1024);
    if (leftover.size() > rbuf_.size()) rbuf_.resize(leftover.size());
    std::memcpy(rbuf_.data(), leftover.data(), leftover.size());
    rlen_ = leftover.size();
    if (kraken_ && kraken_v2_) {  // v2: the status channel's update on connect (docs' shape)
      const uint64_t conn_id = 12393906104898154338ull ^ (sim_.connections_total.load() * 0x9E3779B97F4A7C15ull);
      queue_text(R"({"channel":"status","type":"update","data":[{"version":"2.0.0","system":"online","api_version":"v2","connection_id":)" +
                 std::to_string(conn_id) + "}]}");
      arm_heartbeat();
      do_read();
      return;
    }
    if (kraken_) {
      // As the recording: {"connectionID":..,"event":"systemStatus","status":"online","version":"1.8.3"}
      const uint64_t conn_id = 13935949241502919679ull ^ (sim_.connections_total.load() * 0x9E3779B97F4A7C15ull);
      queue_text("{\"connectionID\":" + std::to_string(conn_id) +
                 ",\"event\":\"systemStatus\",\"status\":\"online\",\"version\":\"1.8.3\"}");
      arm_heartbeat();
      do_read();
      return;
    }
    if (coinbase_) {  // Coinbase sends nothing before the client's subscribe
      if (coinbase_advanced_) arm_advanced_heartbeat();
      do_read();
      return;
    }
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
                     [self = shared_from_this()](boost::system::error_code ec, size_t n) {
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
    boost::system::error_code ec;
    close_timer_.cancel();
    heartbeat_timer_.cancel();
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
    boost::system::error_code ec;
    sock_.shutdown(tcp::socket::shutdown_send, ec);
    close_timer_.expires_after(std::chrono::seconds(2));
    close_timer_.async_wait([self = shared_from_this()](boost::system::error_code) { self->close_now(false); });
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
                          [self = shared_from_this()](boost::system::error_code ec, size_t n) {
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
      case 0x9: {  // ping → pong (unless inject_stall_pongs holds them back)
        sim_.pings_received.fetch_add(1, std::memory_order_relaxed);
        if (sim_.pongs_stalled()) {
          sim_.pongs_withheld.fetch_add(1, std::memory_order_relaxed);
          return true;
        }
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

  // Kraken: {"event":"heartbeat"} after ~1 s without a data frame, while subscribed.
  void arm_heartbeat() {
    heartbeat_timer_.expires_after(std::chrono::milliseconds(kKrakenHeartbeatMs));
    heartbeat_timer_.async_wait([self = shared_from_this()](boost::system::error_code ec) {
      if (ec || self->io_closed_) return;
      bool idle = false;
      {
        std::lock_guard lk(self->mu_);
        idle = !self->order_.empty() && self->frames_ == self->heartbeat_frames_;
        self->heartbeat_frames_ = self->frames_;
      }
      if (idle) self->queue_text(self->kraken_v2_ ? R"({"channel":"heartbeat"})" : R"({"event":"heartbeat"})");
      self->arm_heartbeat();
    });
  }

  // Kraken v1 events (kraken.cc builds the replies: subscriptionStatus acks / errors, book
  // snapshots, pong); they go out before the first frame of the new channels (market lock held).
  void on_kraken_message(const std::string& text) {
    bool any = false;
    sim_.kraken_request(text, kraken_v2_, [&](const KrakenRequest& req) {
      std::string out;
      for (const auto& r : req.replies) {
        append_ws_header(out, 0x1, r.size());
        out += r;
      }
      std::lock_guard lk(mu_);
      if (closing_ || closed_) return;
      pending_ += out;
      for (int sid : req.add) add_sub(sid);
      for (int sid : req.remove) remove_sub(sid);
      any = !order_.empty();
    });
    kick();
    if (any) sim_.on_subscribed();
  }

  // Coinbase: subscribe / unsubscribe → the error, or the subscriptions ack then one
  // last_match per newly subscribed matches channel, all before the first live frame of the new
  // channels (the market lock is held while they are queued: coinbase.cc).
  void on_coinbase_message(const std::string& text) {
    bool any = false;
    sim_.coinbase_request(text, [&](const CoinbaseRequest& req) {
      std::string out;
      for (const auto& r : req.replies) {
        append_ws_header(out, 0x1, r.size());
        out += r;
      }
      std::lock_guard lk(mu_);
      if (closing_ || closed_) return;
      if (req.replies.empty()) {
        std::vector<int> new_matches, new_books;
        for (int sid : req.add) {
          int extra_kind = 0, extra_sym = 0;
          if (sim_.coinbase_extra_stream(sid, extra_kind, extra_sym)) {
            if (!subs_[sid]) {  // level2 / level2_batch: a snapshot of the book now (market_mu held)
              new_books.push_back(extra_sym);
              snapshot_at_[static_cast<uint32_t>(sid)] = sim_.batches_built;
            }
          } else if (!subs_[sid] && sid % kStreamKinds == kCoinbaseMatchStream) {
            new_matches.push_back(sid / kStreamKinds);
          }
          add_sub(sid);
        }
        for (int sid : req.remove) remove_sub(sid);
        const std::string ack = sim_.coinbase_subscriptions(subs_);
        append_ws_header(out, 0x1, ack.size());
        out += ack;
        for (int sym : new_matches) {
          std::string m;
          if (!sim_.coinbase_last_match(sym, m)) continue;
          append_ws_header(out, 0x1, m.size());
          out += m;
        }
        for (int sym : new_books) {
          std::string m;
          sim_.coinbase_l2_snapshot(sym, m);
          append_ws_header(out, 0x1, m.size());
          out += m;
        }
      }
      pending_ += out;
      any = !order_.empty();
    });
    kick();
    if (any) sim_.on_subscribed();
  }

  // Coinbase Advanced Trade: subscribe / unsubscribe (one channel per message) → an error, or the
  // subscriptions message then a snapshot per newly subscribed market_trades / level2 stream,
  // numbered with this session's sequence_num (coinbase_advanced.cc builds them).
  void on_coinbase_advanced_message(const std::string& text) {
    bool any = false;
    sim_.coinbase_advanced_request(text, [&](const CoinbaseRequest& req) {
      std::lock_guard lk(mu_);
      if (closing_ || closed_) return;
      std::string out;
      for (const auto& r : req.replies) {  // errors: no sequence_num
        append_ws_header(out, 0x1, r.size());
        out += r;
      }
      if (req.replies.empty()) {
        std::vector<std::pair<int, int>> snapshots;  // (kind, symbol)
        for (int sid : req.add) {
          int kind = 0, sym = 0;
          if (!subs_[sid] && sim_.coinbase_extra_stream(sid, kind, sym) && kind != kCoinbaseAdvHeartbeats) {
            snapshots.emplace_back(kind, sym);
            if (kind == kCoinbaseAdvLevel2) snapshot_at_[static_cast<uint32_t>(sid)] = sim_.batches_built;
          }
          add_sub(sid);
        }
        for (int sid : req.remove) remove_sub(sid);
        append_ws_with_sequence(out, sim_.coinbase_advanced_subscriptions(subs_), ++adv_seq_);
        for (auto [kind, sym] : snapshots) {
          std::string m;
          sim_.coinbase_advanced_snapshot(kind, sym, m);
          append_ws_with_sequence(out, m, ++adv_seq_);
        }
      }
      pending_ += out;
      any = !order_.empty();
    });
    kick();
    if (any) sim_.on_subscribed();
  }

  // Advanced Trade heartbeats: one a second while any heartbeats stream is subscribed.
  void arm_advanced_heartbeat() {
    heartbeat_timer_.expires_after(std::chrono::milliseconds(kCoinbaseHeartbeatMs));
    heartbeat_timer_.async_wait([self = shared_from_this()](boost::system::error_code ec) {
      if (ec || self->io_closed_) return;
      {
        std::lock_guard lk(self->mu_);
        bool want = false;
        for (int sid : self->order_) {
          int kind = 0, sym = 0;
          want = want || (self->sim_.coinbase_extra_stream(sid, kind, sym) && kind == kCoinbaseAdvHeartbeats);
        }
        if (want && !self->closing_ && !self->closed_) {
          std::string m = R"({"channel":"heartbeats","client_id":"","timestamp":")";
          append_iso8601_us(m, wall_ms() * 1000);
          m += R"(","sequence_num":0,"events":[{"current_time":")";
          append_iso8601_us(m, wall_ms() * 1000);
          m += R"(","heartbeat_counter":")" + std::to_string(++self->adv_heartbeats_) + R"("}]})";
          append_ws_with_sequence(self->pending_, m, ++self->adv_seq_);
        }
      }
      self->kick();
      self->arm_advanced_heartbeat();
    });
  }

  void on_message(const std::string& text) {
    if (kraken_) {
      on_kraken_message(text);
      return;
    }
    if (coinbase_advanced_) {
      on_coinbase_advanced_message(text);
      return;
    }
    if (coinbase_) {
      on_coinbase_message(text);
      return;
    }
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
  const bool kraken_;
  const bool coinbase_;
  const bool kraken_v2_;
  std::vector<uint8_t> subs_;  // under mu_
  uint64_t adv_heartbeats_ = 0;  // under mu_: Advanced Trade heartbeat_counter
  std::map<uint32_t, uint64_t> snapshot_at_;  // under mu_: stream → Impl::batches_built at its snapshot
  uint64_t heartbeat_frames_ = 0;  // under mu_: frames_ at the last heartbeat tick
  std::vector<int> order_;     // under mu_: subscription order for LIST_SUBSCRIPTIONS
  // io thread only
  std::string inflight_;
  bool writing_ = false;
  bool io_closed_ = false;
  bool graceful_ = false;
  bool half_closed_ = false;
  net::steady_timer close_timer_{sock_.get_executor()};
  net::steady_timer heartbeat_timer_{sock_.get_executor()};
  std::string rbuf_;
  size_t rlen_ = 0;
  std::string message_;
};

void accept_ws_session(Simulator::Impl& sim, tcp::socket sock, bool combined, std::string leftover,
                       const std::vector<std::string>& url_streams, bool kraken, bool coinbase, bool kraken_v2,
                       bool coinbase_advanced) {
  auto ws = std::make_shared<WsSession>(sim, std::move(sock), combined, kraken, coinbase, kraken_v2);
  ws->coinbase_advanced_ = coinbase_advanced;
  {
    std::lock_guard lk(sim.sessions_mu);
    sim.sessions.push_back(ws);
  }
  sim.clients.fetch_add(1);
  sim.connections_total.fetch_add(1);
  ws->begin(std::move(leftover), url_streams);
}

void Simulator::Impl::remove_session(const WsSession* s) {
  std::lock_guard lk(sessions_mu);
  auto it = std::find_if(sessions.begin(), sessions.end(), [s](const auto& p) { return p.get() == s; });
  if (it != sessions.end()) {
    sessions.erase(it);
    clients.fetch_sub(1);
  }
}

void Simulator::Impl::drop_all(bool count) {
  std::vector<std::shared_ptr<WsSession>> list;
  {
    std::lock_guard lk(sessions_mu);
    list = sessions;
  }
  for (auto& s : list) net::post(io->ioc, [s, count] { s->close_now(count); });
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
        if (!s->subscribed(f.stream) || s->superseded(f.stream, batch.seq)) continue;
        const std::string_view payload(batch.buf.data() + f.off, f.len);
        if (s->combined()) {
          const std::string& name = stream_names[f.stream];
          append_ws_header(out, 0x1, 21 + name.size() + payload.size());
          append_combined(out, name, payload);
        } else if (s->coinbase_advanced_) {
          // Faults::advanced_sequence_gap_every: numbered, not sent (a sequence_num gap).
          if (advanced_gap_every > 0 && (s->adv_seq_ + 1) % advanced_gap_every == 0) {
            ++s->adv_seq_;
            sequence_gaps_made.fetch_add(1, std::memory_order_relaxed);
            continue;
          }
          append_ws_with_sequence(out, payload, ++s->adv_seq_);
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
      net::post(io->ioc, [s] { s->close_now(true); });
    } else if (kick) {
      net::post(io->ioc, [s] { s->kick(); });
    }
  }
}

}  // namespace tickflow::exchange::simulator
