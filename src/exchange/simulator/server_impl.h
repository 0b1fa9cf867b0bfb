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

#include "exchange/simulator/kraken_feed.h"
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
// Coinbase streams kept after every other stream (Impl::coinbase_stream_base): the Exchange
// feed's level2 / level2_batch (same l2update messages, both served every depth event).
// and the Advanced Trade feed's market_trades / level2 / heartbeats (its own sessions).
enum CoinbaseExtraKind : int {
  kCoinbaseLevel2 = 0,
  kCoinbaseLevel2Batch = 1,
  kCoinbaseAdvTrades = 2,
  kCoinbaseAdvLevel2 = 3,
  kCoinbaseAdvHeartbeats = 4,
};
constexpr int kCoinbaseExtraKinds = 5;
// coinbase_kind() codes of the extra kinds: kCoinbaseExtraCode + CoinbaseExtraKind.
constexpr int kCoinbaseExtraCode = 100;
// Kraken's channelID of a symbol's trade channel (one per pair, like the recording's 321).
constexpr int64_t kKrakenChannelBase = 320;
constexpr int64_t kKrakenHeartbeatMs = 1000;  // Kraken: a heartbeat after ~1 s without data
constexpr size_t kMaxBatchFrames = 16384;
constexpr size_t kMaxPendingBytes = 256u << 20;  // a client this far behind is dropped
constexpr size_t kMaxClientMessage = 1u << 20;
constexpr size_t kMinHistoryPerSymbol = 10000;

int64_t wall_ms();
// Advanced Trade frames are encoded with "sequence_num":0 and numbered per session when queued:
// appends the WS frame of `payload` with that 0 replaced by `seq`.
void append_ws_with_sequence(std::string& out, std::string_view payload, uint64_t seq);
// The Advanced Trade l2_data update of a depth diff (coinbase_advanced.cc).
void append_coinbase_adv_l2update(std::string& out, std::string_view product, const DepthDiff& d, int64_t time_us);
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
  uint64_t seq = 0;  // Impl::batches_built when it was built (market_mu held)
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
  std::vector<std::pair<int, uint64_t>> ctl_skip_depth;  // (symbol or -1, count): Binance depth diffs
  std::atomic<uint64_t> drop_every{0};
  // Pings are not answered until this steady-clock time (ns since epoch of steady_clock).
  std::atomic<int64_t> pongs_stalled_until_ns{0};
  void stall_pongs(int64_t ms);
  bool pongs_stalled() const;
  uint64_t advanced_gap_every = 0;  // Faults::advanced_sequence_gap_every (fixed after start)
  // Binance REST limit faults: the next N /api/v3/* requests answer 429 / 418 with Retry-After.
  std::atomic<uint64_t> rest_429_left{0}, rest_418_left{0};
  std::atomic<int64_t> rest_retry_after_s{1};

  // ---- sessions ----
  std::mutex sessions_mu;
  std::vector<std::shared_ptr<WsSession>> sessions;
  std::vector<std::atomic<int>> stream_subscribers;

  // ---- Kraken v1 books (kraken.cc; kraken_feed.h) ----
  // Streams after every other one: kraken_book_base + symbol * kKrakenStreamsPerSymbol + offset
  // (v1 book-N "kraken:book-N:XBT/USD", v2 "kraken2:trade:BTC/USD", "kraken2:book-N:BTC/USD";
  // kraken_feed.h). Fixed after start().
  size_t kraken_book_base = 0;
  std::vector<internal::KrakenBookView> kraken_views;  // by symbol, under market_mu
  uint64_t kraken_book_updates = 0;                     // update messages generated (market_mu)
  std::atomic<uint64_t> kraken_bad_checksum_left{0}, kraken_drop_update_left{0}, kraken_book_faults{0};
  // Io thread: a Kraken v1 client message; `apply` runs with the market lock held.
  void kraken_request(std::string_view text, bool v2, const std::function<void(const internal::KrakenRequest&)>& apply);
  void kraken_v2_request(std::string_view text, const std::function<void(const internal::KrakenRequest&)>& apply);
  // Pacer (market_mu held): the v2 trade message of one taker order's fills (skipped ones left out).
  void kraken_v2_trades(uint32_t symbol, const std::vector<SimTrade>& trades, const std::vector<uint8_t>& skip,
                        const std::vector<int64_t>& time_us, internal::Batch& batch);
  // Pacer (market_mu held): a depth event of `symbol` → update messages of its book channels.
  void kraken_book_event(uint32_t symbol, int64_t time_ms, internal::Batch& batch);
  void kraken_view_from_model(uint32_t symbol, int64_t now_us);            // market_mu held
  std::string kraken_book_snapshot(uint32_t symbol, size_t depth_index, bool v2) const;  // market_mu held

  // ---- Coinbase level2 and Advanced Trade streams (coinbase.cc, coinbase_l2.cc) ----
  // Stream id of (symbol, kind): coinbase_stream_base + symbol * kCoinbaseExtraKinds + kind
  // (after every other stream; names "coinbase:level2:BTC-USD", ...). Fixed after start().
  size_t coinbase_stream_base = 0;
  // Batches the pacer has built (market_mu): a book snapshot taken at N supersedes the frames
  // of batches <= N still on their way to the sessions (ws_session.cc skips them for it).
  uint64_t batches_built = 0;
  // Stream id of a Coinbase channel of a symbol (coinbase_kind() codes), or -1.
  int coinbase_stream_id(int kind_code, int symbol) const;
  // The extra kind (internal::CoinbaseExtraKind) of a stream id and its symbol; false when the
  // stream is not one of them.
  bool coinbase_extra_stream(int stream_id, int& kind, int& symbol) const;
  // Pacer (market_mu held): a depth event of `symbol` → l2update on its level2 streams.
  void coinbase_book_event(uint32_t symbol, const DepthDiff& diff, int64_t time_ms, internal::Batch& batch);
  // The level2 snapshot of a symbol (the model's book now), market_mu held.
  void coinbase_l2_snapshot(int symbol, std::string& out) const;
  // ---- Coinbase Advanced Trade (coinbase_advanced.cc) ----
  // Io thread: a client message of an Advanced Trade session; `apply` runs under market_mu.
  void coinbase_advanced_request(std::string_view text,
                                 const std::function<void(const internal::CoinbaseRequest&)>& apply);
  // The subscriptions message of a session's Advanced Trade streams (`subs` by stream id).
  std::string coinbase_advanced_subscriptions(const std::vector<uint8_t>& subs) const;
  // market_mu held: the market_trades snapshot (the newest kAdvSnapshotTrades, newest first) and
  // the l2_data snapshot of a symbol.
  void coinbase_advanced_snapshot(int kind, int symbol, std::string& out) const;
  // Pacer (market_mu held): one taker order's fills (withheld ones left out) → a market_trades
  // update, newest first.
  void coinbase_advanced_trades(uint32_t symbol, const std::vector<SimTrade>& trades,
                                const std::vector<uint8_t>& skip, const std::vector<int64_t>& time_us,
                                internal::Batch& batch);

  // ---- stats ----
  std::atomic<uint64_t> messages_sent{0}, bytes_sent{0}, trades_generated{0}, aggs_generated{0},
      depth_generated{0}, clients{0}, connections_total{0}, connections_dropped{0}, rest_requests{0},
      pings_received{0}, pongs_withheld{0}, sequence_gaps_made{0};
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
  internal::RestReply rest_kraken_asset_pairs() const;  // GET /0/public/AssetPairs (kraken.cc)
  int coinbase_symbol(std::string_view product) const;  // "BTC-USD" → symbol index, or -1
  internal::RestReply rest_coinbase_trades(const internal::Target& t);
  internal::RestReply rest_coinbase_products() const;  // GET /products (Coinbase Exchange)
  // Io thread: a Coinbase client message. `apply` runs with the market lock held (so the
  // last_match replies and the first live matches neither overlap nor leave a hole).
  void coinbase_request(std::string_view text, const std::function<void(const internal::CoinbaseRequest&)>& apply);
  // The last_match of a product (its newest trade), with market_mu held; false when none yet.
  bool coinbase_last_match(int symbol, std::string& out) const;
  // The subscriptions ack listing a session's Coinbase streams (`subs` by stream id).
  std::string coinbase_subscriptions(const std::vector<uint8_t>& subs) const;
  internal::RestReply handle_rest(std::string_view method, std::string_view target);
  internal::RestReply rest_depth(const internal::Target& t);
  internal::RestReply rest_exchange_info(const internal::Target& t);  // exchange_info.cc
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
