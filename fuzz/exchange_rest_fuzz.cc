// libFuzzer target: the REST bodies the collectors read at start or on a resync, all on the same
// input: Binance GET /api/v3/exchangeInfo (parse_exchange_info) and GET /api/v3/depth
// (parse_depth_snapshot), Kraken GET /0/public/AssetPairs (parse_asset_pairs). Checks: success
// gives instruments with a unified BASE-QUOTE name and non-negative increments (Binance prints a
// disabled filter as 0), an InstrumentMap built from them finds every one by both names; depth
// levels have a positive price and a non-negative quantity.
#include <string>

#include "exchange/binance/instruments.h"
#include "exchange/binance/parse.h"
#include "exchange/collector/instruments.h"
#include "exchange/kraken/instruments.h"
#include "fuzz/fuzz_util.h"

namespace {

using namespace tickflow;
using namespace tickflow::exchange;

void check_instruments(const std::vector<collector::Instrument>& list) {
  for (const auto& in : list) {
    TF_FUZZ_CHECK(in.symbol.find('-') != std::string::npos, "unified name without '-': " + in.symbol);
    TF_FUZZ_CHECK(in.price_increment >= Decimal() && in.size_increment >= Decimal(), "negative increment");
  }
  collector::InstrumentMap map(list);
  for (const auto& in : list) {
    TF_FUZZ_CHECK(map.find(in.symbol) != nullptr && map.find(in.exchange_symbol) != nullptr,
                  "instrument not found by its own names: " + in.symbol);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view body = fuzz::as_view(data, size);
  std::vector<collector::Instrument> list;
  if (binance::parse_exchange_info(body, list).is_ok()) check_instruments(list);
  if (auto pairs = kraken::parse_asset_pairs(body); pairs.is_ok()) check_instruments(*pairs);
  binance::DepthSnapshot snap;
  if (binance::parse_depth_snapshot(body, snap).is_ok()) {
    for (const auto* side : {&snap.bids, &snap.asks}) {
      for (const auto& l : *side) {
        TF_FUZZ_CHECK(l.price > Decimal() && l.quantity >= Decimal(), "depth level values");
      }
    }
  }
  return 0;
}
