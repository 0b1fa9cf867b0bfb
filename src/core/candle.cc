#include "core/candle.h"

#include <algorithm>

#include "core/trade.h"

namespace tickflow {

std::string_view side_name(Side s) {
  switch (s) {
    case Side::kBuy: return "buy";
    case Side::kSell: return "sell";
    case Side::kUnknown: return "unknown";
  }
  return "unknown";
}

std::string_view candle_status_name(CandleStatus s) {
  switch (s) {
    case CandleStatus::kProvisional: return "provisional";
    case CandleStatus::kFinal: return "final";
    case CandleStatus::kCorrected: return "corrected";
  }
  return "unknown";
}

Decimal Candle::vwap() const {
  int scale = std::max(8, open.scale());
  if (!volume.is_zero()) return quote_volume.divide(volume, scale);
  // An empty (flat) candle: its VWAP is its close, printed at the VWAP's scale when it fits.
  Decimal d;
  return close.rescale_up(scale, d) ? d : close;
}

std::string Candle::series_key() const {
  return tickflow::series_key(exchange, symbol, timeframe.label());
}

bool same_values(const Candle& a, const Candle& b) {
  return a.exchange == b.exchange && a.symbol == b.symbol && a.timeframe == b.timeframe &&
         a.open_time == b.open_time && a.open == b.open && a.high == b.high && a.low == b.low &&
         a.close == b.close && a.volume == b.volume && a.quote_volume == b.quote_volume &&
         a.taker_buy_volume == b.taker_buy_volume && a.trades == b.trades &&
         a.first_trade_id == b.first_trade_id && a.last_trade_id == b.last_trade_id;
}

}  // namespace tickflow
