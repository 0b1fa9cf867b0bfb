// MarketModel: the simulator's deterministic market (pure, no I/O, no clock).
//
// A seeded generator of Binance-shaped spot market events on a virtual clock:
//   * taker orders arrive as a Poisson process whose mean matches `rate` trades per second
//     (total across symbols; symbols share it by the activity weights of the symbol table);
//   * each taker order sweeps 1..5 price levels of the opposite side of a per-symbol L2 book
//     (sell taker → hits bids, m=true; buy taker → lifts asks, m=false); at each level it
//     fills 1..4 maker orders = 1..4 trades with consecutive trade ids, and the level is one
//     aggregate trade (aggregate ids consecutive per symbol, f..l = its trade ids);
//   * the book follows a tick-rounded log-price random walk (Binance tick sizes, lot steps,
//     annualised volatility from the symbol table), so trades show bid/ask bounce;
//   * every 100 ms of virtual time each symbol whose book changed yields one depth diff
//     (Binance depthUpdate: U = first update id, u = last update id, final quantities).
// Prices and quantities are exact integers in units of 1e-8, printed with 8 decimals.
// The event sequence depends only on (seed, symbols, start_ms, rate, max_trades); never on
// wall time. Events come out in non-decreasing time_ms order.
//
// Also here: the byte-exact Binance JSON encoders for these events (WS payloads and REST
// bodies), shared by the server and the tests.
//
// Thread-safety: a MarketModel is used by one thread at a time; the encoders are pure.
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace tickflow::exchange::simulator {

// Fixed-point unit of every price and quantity: 1e-8 (Binance prints 8 decimals).
inline constexpr int64_t kUnitsPerOne = 100'000'000;

// One tradable symbol and its market parameters (prices/quantities in 1e-8 units).
struct SymbolSpec {
  std::string symbol;          // exchange spelling, upper case: "BTCUSDT"
  std::string stream_prefix;   // lower case: "btcusdt"
  int64_t start_price = 0;
  int64_t tick = 0;            // PRICE_FILTER tickSize
  int64_t step = 0;            // LOT_SIZE stepSize
  double annual_vol = 0.8;
  double weight = 1.0;         // relative share of the trade rate
  int64_t first_trade_id = 0;
  int64_t first_agg_id = 0;
  int64_t first_update_id = 0;
};

// The symbol table (the 20 USDT pairs of shared/tools/gen_binance_trades.py); unknown symbols
// get generic parameters (price 100.00, tick 0.01, step 0.001). `symbol` is upper-cased.
SymbolSpec symbol_spec(std::string_view symbol, size_t index);

// A fill (Binance `trade`).
struct SimTrade {
  int64_t id = 0;
  int64_t price = 0;
  int64_t qty = 0;
  int64_t time_ms = 0;      // T
  bool buyer_maker = false;  // m
  friend bool operator==(const SimTrade&, const SimTrade&) = default;
};

// One taker order at one price level (Binance `aggTrade`).
struct SimAggTrade {
  int64_t id = 0;  // a
  int64_t price = 0;
  int64_t qty = 0;  // sum of the fills
  int64_t first_trade_id = 0;
  int64_t last_trade_id = 0;
  int64_t time_ms = 0;
  bool buyer_maker = false;
  friend bool operator==(const SimAggTrade&, const SimAggTrade&) = default;
};

struct PriceLevel {
  int64_t price = 0;
  int64_t qty = 0;  // 0 = level removed (in diffs)
  friend bool operator==(const PriceLevel&, const PriceLevel&) = default;
};

struct DepthDiff {
  int64_t first_update_id = 0;  // U
  int64_t last_update_id = 0;   // u
  std::vector<PriceLevel> bids;  // best (highest) first
  std::vector<PriceLevel> asks;  // best (lowest) first
};

struct DepthSnapshot {
  int64_t last_update_id = 0;
  std::vector<PriceLevel> bids;
  std::vector<PriceLevel> asks;
};

enum class EventKind : uint8_t { kTakerOrder, kDepthUpdate };

struct MarketEvent {
  EventKind kind = EventKind::kTakerOrder;
  uint32_t symbol = 0;         // index into MarketModel::symbols()
  int64_t time_ms = 0;         // T (trade time) or the depth diff's time
  int64_t event_time_ms = 0;   // E (>= time_ms)
  std::vector<SimTrade> trades;     // kTakerOrder
  std::vector<SimAggTrade> aggs;    // kTakerOrder: one per swept level
  DepthDiff depth;                  // kDepthUpdate
};

struct MarketOptions {
  uint64_t seed = 1;
  std::vector<std::string> symbols = {"BTCUSDT", "ETHUSDT"};
  int64_t start_ms = 0;      // virtual time 0 = this epoch millisecond
  double rate = 1000;        // mean trades per second of virtual time, all symbols together
  int64_t max_trades = 0;    // 0 = endless; else exactly this many trades, then the end
  int book_levels = 1000;    // levels per side kept in the book (REST limit up to this)
  // Added to every symbol's first trade id and first aggregate id. A simulator restarted with
  // an offset that grows with wall time keeps ids increasing across restarts (the demo does).
  int64_t id_offset = 0;
};

class MarketModel {
 public:
  static constexpr int64_t kDepthIntervalMs = 100;
  static constexpr int64_t kNever = std::numeric_limits<int64_t>::max();

  explicit MarketModel(MarketOptions options);
  MarketModel(uint64_t seed, std::vector<std::string> symbols, int64_t start_ms,
              double rate = 1000, int64_t max_trades = 0);
  ~MarketModel();
  MarketModel(const MarketModel&) = delete;
  MarketModel& operator=(const MarketModel&) = delete;

  // The next event. Returns false once the market has ended (max_trades reached and the
  // last depth diff delivered); never ends when max_trades == 0.
  bool next(MarketEvent& out);
  // time_ms of the event next() would return; kNever when the market has ended.
  int64_t peek_time_ms();

  const std::vector<SymbolSpec>& symbols() const;
  // Index of an exchange symbol (case-insensitive), or -1.
  int symbol_index(std::string_view symbol) const;
  // Current book (as of the last event returned), at most `limit` levels per side.
  DepthSnapshot snapshot(size_t symbol, size_t limit) const;
  int64_t trades_generated() const;
  const MarketOptions& options() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// ---- Binance encoders (compact JSON, Binance key order, 8-decimal numbers) ----

// Decimal integer, no padding.
void append_int(std::string& out, int64_t v);
// "43000.10000000" (negative values are not produced by the model).
void append_units(std::string& out, int64_t units);
// {"e":"trade","E":..,"s":"BTCUSDT","t":..,"p":"..","q":"..","T":..,"m":true,"M":true}
void append_trade_payload(std::string& out, std::string_view symbol, const SimTrade& t,
                          int64_t event_time_ms);
// {"e":"aggTrade","E":..,"s":"..","a":..,"p":"..","q":"..","f":..,"l":..,"T":..,"m":..,"M":true}
void append_agg_trade_payload(std::string& out, std::string_view symbol, const SimAggTrade& a,
                              int64_t event_time_ms);
// {"e":"depthUpdate","E":..,"s":"..","U":..,"u":..,"b":[["p","q"],..],"a":[..]}
void append_depth_payload(std::string& out, std::string_view symbol, const DepthDiff& d,
                          int64_t event_time_ms);
// REST /api/v3/aggTrades element: {"a":..,"p":"..","q":"..","f":..,"l":..,"T":..,"m":..,"M":true}
void append_agg_trade_rest(std::string& out, const SimAggTrade& a);
// REST /api/v3/trades element:
// {"id":..,"price":"..","qty":"..","quoteQty":"..","time":..,"isBuyerMaker":..,"isBestMatch":true}
void append_trade_rest(std::string& out, const SimTrade& t);
// REST /api/v3/depth body: {"lastUpdateId":..,"bids":[["p","q"],..],"asks":[..]}
void append_depth_snapshot(std::string& out, const DepthSnapshot& s);
// Combined-stream envelope: {"stream":"<name>","data":<payload>}
void append_combined(std::string& out, std::string_view stream, std::string_view payload);

// ---- Kraken v1 encoders (format of testdata/exchanges/kraken and Kraken's REST docs) ----

// Kraken's pair of a model symbol: "BTCUSD" → "XBT/USD" (BTC→XBT, DOGE→XDG; the quote is the
// first suffix of USDT, USDC, USD, EUR, GBP, XBT, BTC, ETH that leaves a base); "" if none.
std::string kraken_pair_name(std::string_view symbol);
// The REST result key of a pair: "XBT/USD" → "XXBTZUSD", "ETH/USD" → "XETHZUSD" (Kraken's
// legacy X/Z names for the old assets), else base + quote ("SOL/USD" → "SOLUSD").
std::string kraken_rest_pair_key(std::string_view pair);
// Decimals Kraken prints a price with: 5 (as for XBT/USD) when the tick allows, else 8.
int kraken_price_decimals(const SymbolSpec& spec);
// Kraken's time of a fill: trade time in microseconds, the fills of one millisecond spread
// over its microseconds in market order (Kraken's fills of one taker order carry distinct
// microseconds); `nth_in_ms` = how many earlier fills of the symbol had the same time_ms.
inline int64_t kraken_time_us(const SimTrade& t, int64_t nth_in_ms) {
  return t.time_ms * 1000 + (nth_in_ms < 999 ? nth_in_ms : 999);
}
// WS trade entry: ["58721.20000","0.02798644","1617666461.465618","s","m",""] (side = taker:
// "s" when the buyer was the maker).
void append_kraken_trade_ws(std::string& out, const SimTrade& t, int64_t time_us, int price_decimals);
// REST /0/public/Trades entry: ["58721.20000","0.02798644",1617666461.465618,"s","m","",ID].
void append_kraken_trade_rest(std::string& out, const SimTrade& t, int64_t time_us, int price_decimals);

// ---- Coinbase Exchange encoders (format of testdata/exchanges/coinbase and Coinbase's docs) ----

// Coinbase's product of a model symbol: "BTCUSD" → "BTC-USD", "BTCUSDT" → "BTC-USDT" (the quote
// is the first suffix of USDT, USDC, USD, EUR, GBP, BTC, ETH that leaves a base); "" if none.
std::string coinbase_product_name(std::string_view symbol);
// The product's `sequence` at a fill: 2 per fill from 100000000 (an order event before each
// match on the "full" channel, so the matches channel skips, as on Coinbase). The match and its
// ticker twin share it; a heartbeat carries that of the last fill.
inline int64_t coinbase_sequence(const SymbolSpec& spec, int64_t trade_id) {
  return 100'000'000 + 2 * (trade_id - spec.first_trade_id + 1);
}
// "2021-04-17T16:43:37.089723Z" (6 fractional digits, as Coinbase prints).
void append_iso8601_us(std::string& out, int64_t time_us);
// A price or size as Coinbase prints it: trailing zeros (and a bare point) dropped ("0.04", "985").
void append_coinbase_decimal(std::string& out, int64_t units);
// {"type":"match"|"last_match","trade_id":..,"maker_order_id":"..","taker_order_id":"..",
//  "side":"<maker side>","size":"..","price":"..","product_id":"..","sequence":..,"time":".."}
void append_coinbase_match(std::string& out, std::string_view type, std::string_view product, const SimTrade& t,
                           int64_t time_us, int64_t sequence);
// The ticker twin of a match (same sequence, trade_id and time; `side` = the taker's).
struct CoinbaseTickerStats {
  int64_t open = 0, high = 0, low = 0, volume = 0, best_bid = 0, best_ask = 0;
};
void append_coinbase_ticker(std::string& out, std::string_view product, const SimTrade& t, int64_t time_us,
                            int64_t sequence, const CoinbaseTickerStats& s);
// {"type":"heartbeat","sequence":..,"last_trade_id":..,"product_id":"..","time":".."} (docs' order)
void append_coinbase_heartbeat(std::string& out, std::string_view product, int64_t last_trade_id, int64_t sequence,
                               int64_t time_us);
// REST /products/{id}/trades element: {"time":"..","trade_id":..,"price":"..","size":"..","side":"<maker side>"}
void append_coinbase_trade_rest(std::string& out, const SimTrade& t, int64_t time_us);
// level2 / level2_batch (the recording's key order):
// {"type":"snapshot","product_id":"..","asks":[["p","s"],..],"bids":[["p","s"],..]} (best first)
void append_coinbase_l2_snapshot(std::string& out, std::string_view product, const DepthSnapshot& s);
// {"type":"l2update","product_id":"..","changes":[["buy"|"sell","p","s"],..],"time":".."}: the
// diff's bids ("buy") then asks ("sell"); size "0" removes the level.
void append_coinbase_l2update(std::string& out, std::string_view product, const DepthDiff& d, int64_t time_us);

}  // namespace tickflow::exchange::simulator
