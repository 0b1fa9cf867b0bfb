#include "processing/candles/candle_builder.h"

namespace tickflow::processing {

CandleState make_flat(TimestampNs open_time, Decimal price) {
  CandleState c;
  c.open_time = open_time;
  c.open = c.high = c.low = c.close = price;
  return c;
}

void merge_into(CandleState& a, const CandleState& b) {
  if (b.trades == 0) return;
  if (a.trades == 0) {
    a = b;
    return;
  }
  if (b.open_order < a.open_order) {
    a.open = b.open;
    a.open_order = b.open_order;
  }
  if (a.close_order < b.close_order) {
    a.close = b.close;
    a.close_order = b.close_order;
  }
  if (b.high > a.high) a.high = b.high;
  if (b.low < a.low) a.low = b.low;
  if (b.first_trade_id < a.first_trade_id) a.first_trade_id = b.first_trade_id;
  if (b.last_trade_id > a.last_trade_id) a.last_trade_id = b.last_trade_id;
  a.volume.add(b.volume);
  a.quote_volume.add(b.quote_volume);
  a.taker_buy_volume.add(b.taker_buy_volume);
  a.taker_buy_quote_volume.add(b.taker_buy_quote_volume);
  a.trades += b.trades;
}

void fill_candle(const CandleState& s, const Timeframe& tf, Candle& out) {
  out.timeframe = tf;
  out.open_time = s.open_time;
  out.close_time = s.open_time + tf.duration_ns() - kNsPerMs;
  out.open = s.open;
  out.high = s.high;
  out.low = s.low;
  out.close = s.close;
  out.volume = s.volume;
  out.quote_volume = s.quote_volume;
  out.taker_buy_volume = s.taker_buy_volume;
  out.taker_buy_quote_volume = s.taker_buy_quote_volume;
  out.trades = s.trades;
  out.first_trade_id = s.first_trade_id;
  out.last_trade_id = s.last_trade_id;
  out.coverage = 1.0;
}

}  // namespace tickflow::processing
