// The pure bar builder: the running state of one candle window and "apply one trade to it".
//
// CandleState holds no strings and never allocates, so applying a trade to six timeframes is a
// handful of integer operations. Open and close follow the trades' (ts_event, trade_id) order,
// not their arrival order: a window's open is its earliest trade and its close its latest.
// to_candle() builds the user-facing Candle (with strings) only when an update is emitted.
// Thread-safety: plain values and pure functions.
#pragma once

#include <cstdint>

#include "core/candle.h"
#include "core/trade.h"

namespace tickflow::processing {

// Position of a trade in exchange order.
struct TradeOrder {
  TimestampNs ts = 0;
  int64_t id = 0;
  friend bool operator<(const TradeOrder& a, const TradeOrder& b) {
    return a.ts < b.ts || (a.ts == b.ts && a.id < b.id);
  }
  friend bool operator==(const TradeOrder& a, const TradeOrder& b) { return a.ts == b.ts && a.id == b.id; }
};

struct CandleState {
  TimestampNs open_time = 0;
  Decimal open, high, low, close;
  TradeOrder open_order, close_order;  // the trades that set open and close
  WideDecimal volume, quote_volume, taker_buy_volume, taker_buy_quote_volume;
  int64_t trades = 0;
  int64_t first_trade_id = -1;
  int64_t last_trade_id = -1;

  bool empty() const { return trades == 0; }
};

// A flat candle: O=H=L=C=price, nothing traded.
CandleState make_flat(TimestampNs open_time, Decimal price);

// What one trade adds to any window, computed once per trade (not once per timeframe).
struct TradeDelta {
  TradeOrder order;
  Decimal price, quantity;
  int128 notional = 0;  // price * quantity, scale price.scale + quantity.scale
  int notional_scale = 0;
  bool taker_buy = false;
  int64_t count = 1;
  int64_t first_trade_id = 0, last_trade_id = 0;
};
TradeDelta make_delta(const Trade& t);

// Adds one trade (counted trade.trade_count() times) to the window. Returns true when the
// close price changed (flat followers then need the new price).
bool apply_delta(CandleState& c, const TradeDelta& d);
bool apply_trade(CandleState& c, const Trade& t);

// ---- inline definitions (the per-trade path) ----

namespace detail {

// Exact comparison with the common same-scale case inline.
inline bool less(const Decimal& a, const Decimal& b) {
  return a.scale() == b.scale() ? a.units() < b.units() : a < b;
}

inline void add_units(WideDecimal& w, int128 units, int scale) {
  if (w.scale() == scale) {
    w = WideDecimal(w.units() + units, scale);
  } else {
    w.add(WideDecimal(units, scale));
  }
}

}  // namespace detail

inline TradeDelta make_delta(const Trade& t) {
  TradeDelta d;
  d.order = TradeOrder{t.ts_event, t.trade_id};
  d.price = t.price;
  d.quantity = t.quantity;
  d.notional = static_cast<int128>(t.price.units()) * t.quantity.units();
  d.notional_scale = t.price.scale() + t.quantity.scale();
  d.taker_buy = t.taker_side == Side::kBuy;
  d.count = t.trade_count();
  d.first_trade_id = t.first_trade_id;
  d.last_trade_id = t.last_trade_id;
  return d;
}

inline bool apply_delta(CandleState& c, const TradeDelta& d) {
  bool close_changed = false;
  if (c.trades == 0) {
    c.open = c.high = c.low = c.close = d.price;
    c.open_order = c.close_order = d.order;
    c.first_trade_id = d.first_trade_id;
    c.last_trade_id = d.last_trade_id;
    close_changed = true;
  } else {
    if (d.order < c.open_order) {
      c.open = d.price;
      c.open_order = d.order;
    }
    if (c.close_order < d.order) {
      c.close = d.price;
      c.close_order = d.order;
      close_changed = true;
    }
    if (detail::less(c.high, d.price)) c.high = d.price;
    if (detail::less(d.price, c.low)) c.low = d.price;
    if (d.first_trade_id < c.first_trade_id) c.first_trade_id = d.first_trade_id;
    if (d.last_trade_id > c.last_trade_id) c.last_trade_id = d.last_trade_id;
  }
  detail::add_units(c.volume, d.quantity.units(), d.quantity.scale());
  detail::add_units(c.quote_volume, d.notional, d.notional_scale);
  if (d.taker_buy) {
    detail::add_units(c.taker_buy_volume, d.quantity.units(), d.quantity.scale());
    detail::add_units(c.taker_buy_quote_volume, d.notional, d.notional_scale);
  }
  c.trades += d.count;
  return close_changed;
}

inline bool apply_trade(CandleState& c, const Trade& t) { return apply_delta(c, make_delta(t)); }

// Merges b into a (same open_time; used to check that coarse windows equal merged fine ones).
void merge_into(CandleState& a, const CandleState& b);

// The emitted value; status, revision and coverage are set by the caller.
void fill_candle(const CandleState& s, const Timeframe& tf, Candle& out);

}  // namespace tickflow::processing
