// Private to the simulator library: Simulator::Impl (state shared by the io thread, the pacer
// thread and REST) and the small text helpers of wire.cc. No Boost here: the Asio parts of Impl
// live behind Impl::Io (server_io.h), so only server.cc and ws_session.cc compile Asio.
//
// Thread-safety: as annotated per member group of Impl. Ownership: Simulator owns its Impl.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <tuple>
#include <utility>
#include <vector>

#include <simdjson.h>

#include "exchange/simulator/market.h"
#include "exchange/simulator/simulator.h"

namespace tickflow::exchange::simulator {
namespace internal {

using SteadyClock = std::chrono::steady_clock;

// Binance trade, aggTrade, depth@100ms; Kraken v1 trade and Coinbase matches / ticker /
// heartbeat (each on their own sessions). Binance's are the kinds below kKrakenTradeStream.
constexpr int kStreamKinds = 7;
enum StreamKind : uint32_t {
  kTradeStream = 0,
  kAggStream = 1,
  kDepthStream = 2,
  kKrakenTradeStream = 3,
  kCoinbaseMatchStream = 4,
  kCoinbaseTickerStream = 5,
  kCoinbaseHeartbeatStream = 6,
};
constexpr int64_t kCoinbaseHeartbeatMs = 1000;  // Coinbase: a heartbeat per product every second
// Kraken's channelID of a symbol's trade channel (one per pair, like the recording's 321).
constexpr int64_t kKrakenChannelBase = 320;
constexpr int64_t kKrakenHeartbeatMs = 1000;  // Kraken: a heartbeat after ~1 s without data
constexpr size_t kMaxBatchFrames = 16384;
constexpr size_t kMaxPendingBytes = 256u << 20;  // a client this far behind is dropped
constexpr size_t kMaxClientMessage = 1u << 20;
constexpr size_t kMinHistoryPerSymbol = 10000;

int64_t wall_ms();
// An unmasked RFC 6455 frame header (FIN set) for a payload of `len` bytes.
void append_ws_header(std::string& out, uint8_t opcode, size_t len);
void append_ws_close(std::string& out, uint16_t code, std::string_view reason);
void append_json_string(std::string& out, std::string_view s);
std::string url_decode(std::string_view s);

struct Target {
  std::string path;
  std::map<std::string, std::string, std::less<>> query;
};

Target parse_target(std::string_view target);
std::vector<std::string> split(std::string_view s, char sep);

// A parsed query integer: missing → nullopt; present but bad → error set.
struct IntParam {
  bool present = false;
  bool bad = false;
  int64_t value = 0;
};

IntParam int_param(const Target& t, std::string_view name);

struct RestReply {
  int status = 200;  // HTTP status code
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // extra (Coinbase's CB-BEFORE / CB-AFTER)
};

// What a Coinbase subscribe / unsubscribe request does to a session: reply texts in order
// (subscriptions ack or error, then one last_match per newly subscribed matches channel) and
// the stream ids to add / remove.
struct CoinbaseRequest {
  std::vector<std::string> replies;
  std::vector<int> add, remove;
};

RestReply binance_error(int http_status, int code, std::string_view msg);
RestReply illegal_param(std::string_view name);

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
  std::deque<int64_t> kraken_us;  // Kraken time (µs) of each entry of `trades`
};

}  // namespace internal

class WsSession;

struct Simulator::Impl {
  explicit Impl(SimulatorConfig c);
  ~Impl();

  // ---- fixed after start() ----
  SimulatorConfig cfg;
  int64_t start_ms = 0;
  std::vector<SymbolSpec> specs;
  std::vector<std::string> stream_names;  // by stream id = symbol * kStreamKinds + kind
  std::vector<std::string> kraken_pairs;  // by symbol: "XBT/USD" ("" if no Kraken name)
  std::vector<std::string> coinbase_products;  // by symbol: "BTC-USD" ("" if no Coinbase name)
  size_t history_cap = 0;  // per symbol; 0 = keep all

  struct Io;  // the io_context and acceptor (server_io.h; Asio stays out of this header)
  std::unique_ptr<Io> io;
  std::thread io_thread;
  std::thread pacer_thread;
  uint16_t bound_port = 0;
  bool started = false;
  bool stopped = false;
  std::mutex lifecycle_mu;

  // ---- market + history (pacer writes, REST reads) ----
  mutable std::mutex market_mu;
  std::unique_ptr<MarketModel> model;
  std::vector<internal::SymbolHistory> hist;

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
  std::vector<std::pair<int, uint64_t>> ctl_duplicate;  // (symbol or -1, count)
  std::vector<std::tuple<int, uint64_t, int64_t>> ctl_outlier;  // (symbol or -1, count, pct)
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
  void deliver(const internal::Batch& batch);
  void remove_session(const WsSession* s);
  void on_subscribed();
  int stream_id(std::string_view name) const;  // Binance streams only
  int kraken_symbol(std::string_view pair) const;  // "XBT/USD" → symbol index, or -1
  internal::RestReply rest_kraken_trades(const internal::Target& t);
  int coinbase_symbol(std::string_view product) const;  // "BTC-USD" → symbol index, or -1
  internal::RestReply rest_coinbase_trades(const internal::Target& t);
  // Io thread: a Coinbase client message. `apply` runs with the market lock held (so the
  // last_match replies and the first live matches neither overlap nor leave a hole).
  void coinbase_request(std::string_view text, const std::function<void(const internal::CoinbaseRequest&)>& apply);
  // The last_match of a product (its newest trade), with market_mu held; false when none yet.
  bool coinbase_last_match(int symbol, std::string& out) const;
  // The subscriptions ack listing a session's Coinbase streams (`subs` by stream id).
  std::string coinbase_subscriptions(const std::vector<uint8_t>& subs) const;
  internal::RestReply handle_rest(std::string_view method, std::string_view target);
  internal::RestReply rest_depth(const internal::Target& t);
  internal::RestReply rest_agg_trades(const internal::Target& t);
  internal::RestReply rest_trades(const internal::Target& t, bool historical);
  internal::RestReply rest_fault(const internal::Target& t);
  internal::RestReply rest_stats();
  int symbol_of(const internal::Target& t, internal::RestReply& err) const;
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

}  // namespace tickflow::exchange::simulator
