// The simulator's GET /api/v3/exchangeInfo[?symbol=S]: its symbols in Binance's JSON shape (the
// key order and filter set of the recordings' exchangeInfo bodies, testdata/exchanges/binance),
// with each symbol's PRICE_FILTER tickSize and LOT_SIZE stepSize from the market model.
#include "core/symbol.h"
#include "exchange/simulator/server_impl.h"

namespace tickflow::exchange::simulator {

using namespace internal;

namespace {

void append_symbol_info(std::string& out, const SymbolSpec& spec) {
  const std::string unified = unify_binance_symbol(spec.symbol);  // "BTC-USDT"
  const size_t dash = unified.find('-');
  const std::string base = dash == std::string::npos ? spec.symbol : unified.substr(0, dash);
  const std::string quote = dash == std::string::npos ? "" : unified.substr(dash + 1);
  out += R"({"symbol":")" + spec.symbol + R"(","status":"TRADING","baseAsset":")" + base +
         R"(","baseAssetPrecision":8,"quoteAsset":")" + quote +
         R"(","quotePrecision":8,"quoteAssetPrecision":8,"baseCommissionPrecision":8,"quoteCommissionPrecision":8,)"
         R"("orderTypes":["LIMIT","LIMIT_MAKER","MARKET","STOP_LOSS_LIMIT","TAKE_PROFIT_LIMIT"],)"
         R"("icebergAllowed":true,"ocoAllowed":true,"quoteOrderQtyMarketAllowed":true,"isSpotTradingAllowed":true,)"
         R"("isMarginTradingAllowed":false,"filters":[{"filterType":"PRICE_FILTER","minPrice":")";
  append_units(out, spec.tick);
  out += R"(","maxPrice":"1000000.00000000","tickSize":")";
  append_units(out, spec.tick);
  out += R"("},{"filterType":"LOT_SIZE","minQty":")";
  append_units(out, spec.step);
  out += R"(","maxQty":"9000.00000000","stepSize":")";
  append_units(out, spec.step);
  out += R"("}],"permissions":["SPOT"]})";
}

}  // namespace

RestReply Simulator::Impl::rest_exchange_info(const Target& t) {
  int only = -1;
  if (t.query.count("symbol")) {
    RestReply err;
    only = symbol_of(t, err);
    if (only < 0) return err;
  }
  RestReply r;
  r.body = R"({"timezone":"UTC","serverTime":)";
  append_int(r.body, wall_ms());
  r.body +=
      R"(,"rateLimits":[{"rateLimitType":"REQUEST_WEIGHT","interval":"MINUTE","intervalNum":1,"limit":1200},)"
      R"({"rateLimitType":"ORDERS","interval":"SECOND","intervalNum":10,"limit":50},)"
      R"({"rateLimitType":"RAW_REQUESTS","interval":"MINUTE","intervalNum":5,"limit":6100}],"exchangeFilters":[],"symbols":[)";
  bool first = true;
  for (size_t i = 0; i < specs.size(); ++i) {
    if (only >= 0 && static_cast<int>(i) != only) continue;
    if (!first) r.body += ',';
    first = false;
    append_symbol_info(r.body, specs[i]);
  }
  r.body += "]}";
  return r;
}

}  // namespace tickflow::exchange::simulator
