// Instruments: each exchange's instrument list (Binance GET /api/v3/exchangeInfo, Coinbase GET
// /products, Kraken GET /0/public/AssetPairs) mapped to unified BASE-QUOTE names with price and
// size increments. The venue parsers (binance/coinbase/kraken rest or instruments files) return
// std::vector<Instrument>; a collector fetches the list at start and resolves its configured
// symbols through InstrumentMap: an unknown symbol is a clear error naming it (and the
// collector does not start), never a silent empty feed.
//
// Thread-safety: plain values.
#pragma once

#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/decimal.h"
#include "core/result.h"

namespace tickflow::exchange::collector {

struct Instrument {
  std::string exchange_symbol;  // the venue's own name: "BTCUSDT", "BTC-USD", "XBT/USD" (Kraken wsname)
  std::string symbol;           // unified "BTC-USDT" (Kraken XBT -> BTC, XDG -> DOGE)
  std::string base, quote;      // unified asset names
  Decimal price_increment;      // tick size
  Decimal size_increment;       // lot/step size
  bool trading = true;          // false: listed but halted/disabled
};

class InstrumentMap {
 public:
  InstrumentMap() = default;
  explicit InstrumentMap(std::vector<Instrument> list);

  size_t size() const { return list_.size(); }
  const std::vector<Instrument>& all() const { return list_; }
  // By unified name ("BTC-USDT") or by the venue's name ("BTCUSDT", "XBT/USD"), case-insensitive
  // for the unified name. nullptr when unknown.
  const Instrument* find(std::string_view name) const;
  // Resolves configured names (unified or venue names); kInvalidArgument naming every unknown
  // one ("unknown binance symbol(s): FOO-BAR; known e.g. BTC-USDT, ETH-USDT") and every
  // listed-but-not-trading one.
  Result<std::vector<Instrument>> resolve(std::string_view exchange, const std::vector<std::string>& names) const;

 private:
  std::vector<Instrument> list_;
  std::unordered_map<std::string, size_t> by_name_;
};

}  // namespace tickflow::exchange::collector
