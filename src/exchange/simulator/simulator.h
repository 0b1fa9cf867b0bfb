// Simulator: an exchange on loopback that speaks Binance's real spot wire protocol, fed by
// the deterministic MarketModel (market.h).
//
//   WS   GET /stream?streams=btcusdt@trade/btcusdt@aggTrade/btcusdt@depth@100ms  (combined:
//        {"stream":..,"data":..}), GET /ws/<stream>[/<stream>..] and GET /ws (raw payloads);
//        {"method":"SUBSCRIBE"|"UNSUBSCRIBE","params":[..],"id":N} → {"result":null,"id":N};
//        {"method":"LIST_SUBSCRIPTIONS","id":N} → {"result":[..],"id":N}; pings answered.
//        An unknown stream in the URL → close frame 1008 "Invalid request: unknown stream ..".
//   REST GET /api/v3/depth?symbol=&limit=, /api/v3/aggTrades?symbol=&fromId=&startTime=&endTime=
//        &limit=, /api/v3/trades?symbol=&limit=, /api/v3/ping, /api/v3/time; Binance error
//        bodies ({"code":-1121,"msg":"Invalid symbol."}, HTTP 400).
//   Test control: POST /_sim/fault?drop=1 | stall_ms=N | malformed=N[&kind=truncated|bad_price|zero_price]
//        | skip_ids=N | late_ms=N | drop_every=N | duplicate=N | outlier=N[&pct=P]
//        | skip_depth=N | rest_429=N | rest_418=N [&retry_after=S]
//        [&symbol=BTCUSDT for skip_ids/late_ms/duplicate/outlier/skip_depth];
//   REST GET /api/v3/exchangeInfo[?symbol=] (the simulator's symbols, Binance's JSON shape).
//        GET /_sim/stats.
// Every client sees the same market (broadcast from one pacer thread). Event content depends
// only on (seed, symbols, start_ms, rate, max_trades); wall time only paces the sending: an event
// with trade time T is sent when the wall clock passes start + (T - start_ms), in ~1 ms bursts.
//
// Thread-safety: all public methods may be called from any thread. Lifecycle: construct,
// start() once, stop() (idempotent; also run by the destructor).
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/result.h"
#include "exchange/simulator/market.h"

namespace tickflow::exchange::simulator {

// Faults applied from the start (the same knobs exist at run time: Simulator::inject_* and
// POST /_sim/fault). Every N-based knob counts in the market's own order, so the same config
// gives the same faults on the same trades.
struct Faults {
  // Close each WS connection (TCP close, no close frame) after it was sent this many frames.
  uint64_t drop_every = 0;
  // Every Nth trade of each symbol (by trade id) is not sent on @trade, nor is the aggTrade
  // that contains it on @aggTrade. They stay in the REST history (backfillable).
  uint64_t skip_every = 0;
  // Every Nth trade frame is preceded by a malformed copy of it (truncated JSON).
  uint64_t malformed_every = 0;
  // Every Nth trade (and its aggTrade) is held back late_ms and sent after newer ones.
  uint64_t late_every = 0;
  int64_t late_ms = 0;
  // Every Nth trade (and its aggTrade) is sent twice in a row (a repeated trade key).
  uint64_t duplicate_every = 0;
  // Every Nth trade (and its aggTrade) is sent with its price outlier_pct % too high (a bad
  // print for the quality checker's outlier test); the REST history keeps the true price.
  uint64_t outlier_every = 0;
  int64_t outlier_pct = 10;
  // Every Nth Binance depthUpdate of each symbol is not sent on @depth@100ms (a U/u gap the
  // client must resync from /api/v3/depth, which stays consistent with the model).
  uint64_t skip_depth_every = 0;
  // Every Nth Kraken v1 book update message (all pairs and depths, in market order) carries a
  // corrupted checksum "c" (the levels are right): the client must resync that book.
  uint64_t kraken_bad_checksum_every = 0;
  // Every Nth live message of each Coinbase Advanced Trade connection (market_trades, l2_data,
  // heartbeats; not the subscribe replies and snapshots) is numbered but not sent: a
  // sequence_num gap the client must repair (REST backfill, book resubscribe).
  uint64_t advanced_sequence_gap_every = 0;
};

// Kraken v1 book faults (Simulator::inject_kraken_book_fault).
enum class KrakenBookFault : uint8_t {
  kBadChecksum,  // the next update carries a wrong "c"
  kDropUpdate,   // the next update is silently not sent (a later "c" reveals the divergence)
};

// A Kraken book channel's state as the simulator serves it: top levels as Kraken prints them
// ("58729.40000", "0.45000000"), best first, and the checksum of the top 10.
struct SimKrakenBook {
  bool valid = false;  // false: no client subscribes a book of that pair
  std::vector<std::pair<std::string, std::string>> bids, asks;
  uint32_t checksum = 0;
};

// A trade as the Kraken protocol shows it.
struct SimKrakenTrade {
  SimTrade trade;
  int64_t time_us = 0;  // Kraken's time ("seconds.micro")
};

struct SimulatorConfig {
  std::string host = "127.0.0.1";
  uint16_t port = 0;  // 0 = any free port (see port())
  uint64_t seed = 1;
  std::vector<std::string> symbols = {"BTCUSDT", "ETHUSDT"};
  double rate = 1000;  // trades per second, total across symbols (virtual == wall time)
  int64_t start_ms = 0;  // T of virtual time 0; 0 = the wall clock at start()
  // 0 = endless; else the market stops after exactly this many trades (REST keeps serving them,
  // and keeps the whole history). Endless markets keep the last kHistoryTrades trades in REST.
  int64_t max_trades = 0;
  // Added to the first trade and aggregate ids of every symbol (see MarketOptions::id_offset).
  int64_t id_offset = 0;
  // The market clock starts when the first WS client subscribes to a stream.
  bool start_on_connect = false;
  int book_levels = 1000;  // per side; REST depth limit is capped by it
  Faults faults;
};

struct SimulatorStats {
  uint64_t messages_sent = 0;     // WS data frames queued to clients (all clients)
  uint64_t bytes_sent = 0;        // WS bytes written to sockets
  uint64_t trades_generated = 0;
  uint64_t agg_trades_generated = 0;
  uint64_t depth_updates_generated = 0;
  uint64_t clients = 0;           // WS connections open now
  uint64_t connections_total = 0;
  uint64_t connections_dropped = 0;  // by faults or slow-client overflow
  uint64_t rest_requests = 0;
  uint64_t pings_received = 0;      // WS pings from clients (all connections)
  uint64_t pongs_withheld = 0;      // of those, not answered (inject_stall_pongs)
  uint64_t sequence_gaps_made = 0;  // Advanced Trade messages numbered but not sent
  bool market_started = false;
  bool market_ended = false;      // max_trades reached and everything sent
};

// What the malformed fault sends.
enum class MalformedKind : uint8_t {
  kTruncated,  // the trade frame cut in half
  kBadPrice,   // the trade frame with "p":"abc"
  kZeroPrice,  // the trade frame with "p":"0.00000000" (parses; the validator rejects it)
};

class Simulator {
 public:
  // Bounded REST history per endless market (all symbols together).
  static constexpr size_t kHistoryTrades = 2'000'000;

  explicit Simulator(SimulatorConfig config);
  ~Simulator();
  Simulator(const Simulator&) = delete;
  Simulator& operator=(const Simulator&) = delete;

  // Binds, listens and starts the I/O and pacer threads. Fails (kIo/kInvalidArgument) on a
  // port in use, a bad host or an empty symbol list.
  Status start();
  void stop();

  uint16_t port() const;
  std::string ws_url() const;    // "ws://127.0.0.1:PORT"
  std::string rest_url() const;  // "http://127.0.0.1:PORT" (Binance and Kraken REST)
  std::string kraken_ws_url() const;  // "ws://127.0.0.1:PORT/kraken" (Kraken v1)
  std::string kraken_v2_ws_url() const;  // "ws://127.0.0.1:PORT/v2" (Kraken WebSocket v2)
  std::string coinbase_ws_url() const;  // "ws://127.0.0.1:PORT/coinbase" (Coinbase Exchange feed)
  std::string coinbase_advanced_ws_url() const;  // "ws://127.0.0.1:PORT/coinbase-advanced" (Advanced Trade)
  SimulatorStats stats() const;
  const SimulatorConfig& config() const;

  // The kept history of one symbol (exchange spelling, any case), oldest first: everything
  // generated so far, including trades that faults withheld from the WS.
  std::vector<SimTrade> history(const std::string& symbol) const;
  std::vector<SimAggTrade> agg_history(const std::string& symbol) const;
  // Trade ids the skip faults kept off the WS @trade stream, in order.
  std::vector<int64_t> skipped_trade_ids(const std::string& symbol) const;
  // The kept history as Kraken serves it (same trades as history(), with Kraken's µs time;
  // Coinbase's match/REST times are the same microseconds).
  std::vector<SimKrakenTrade> kraken_history(const std::string& symbol) const;

  // Run-time faults (same as POST /_sim/fault), applied by the pacer in market order.
  void inject_drop();                       // close every WS connection now
  void inject_drop_every(uint64_t n);       // then after every n frames per connection (0 = off)
  void inject_stall(int64_t ms);            // send nothing for ms, then catch up in a burst
  // For the next ms of wall time no client ping is answered (a half-dead peer: TCP open, pongs
  // stalled); data frames keep flowing. With inject_stall the connection is silent too.
  void inject_stall_pongs(int64_t ms);
  void inject_malformed(uint64_t n, MalformedKind kind = MalformedKind::kTruncated);
  // The next n trades (of `symbol`, or of any symbol if empty) are not sent on the WS.
  void inject_skip(uint64_t n, const std::string& symbol = "");
  // The next trade (of `symbol`, or of any symbol) and its aggTrade are held back ms.
  void inject_late(int64_t ms, const std::string& symbol = "");
  // The next n trades (of `symbol`, or of any symbol) and their aggTrades are sent twice.
  void inject_duplicate(uint64_t n, const std::string& symbol = "");
  // The next n trades (of `symbol`, or of any) and their aggTrades are sent pct % too high.
  void inject_outlier(uint64_t n, int64_t pct = 10, const std::string& symbol = "");
  // The next n Binance depthUpdates (of `symbol`, or of any) are not sent (a U/u gap).
  void inject_skip_depth(uint64_t n, const std::string& symbol = "");
  // The next n Binance REST requests (/api/v3/*) answer `status` (429 rate limit or 418 IP ban)
  // with Retry-After: retry_after_s and Binance's -1003 body. A 429 fault is also taken by the
  // next Kraken (/0/public/*: HTTP 200, {"error":["EAPI:Rate limit exceeded"]}) or Coinbase
  // (/products*: HTTP 429) request, whichever comes first.
  void inject_rest_limit(int status, uint64_t n, int64_t retry_after_s = 1);
  // The next n Kraken v1 book update messages (any pair / depth) get the fault.
  void inject_kraken_book_fault(uint64_t n, KrakenBookFault kind = KrakenBookFault::kBadChecksum);
  // The top `depth` levels of the pair's book as served to Kraken book subscribers (model
  // symbol, "BTCUSD"), with the checksum of its top 10.
  SimKrakenBook kraken_book(const std::string& symbol, int depth = 10) const;
  uint64_t kraken_book_faults() const;  // book faults applied so far

  struct Impl;  // opaque (server.cc)

 private:
  std::unique_ptr<Impl> impl_;
};

// Runs a simulator until stop_flag becomes true (polled every 100 ms), printing the URLs at
// start and a stats line every 5 s to stderr. Returns 0, or 1 if start() failed (message
// printed). For the `tickflow simulate` command.
int run_simulator_cli(const SimulatorConfig& config, std::atomic<bool>& stop_flag);

}  // namespace tickflow::exchange::simulator
