#include "exchange/kraken/instruments.h"

#include <simdjson.h>

#include <string>

namespace tickflow::exchange::kraken {

namespace {

std::string unified_asset(std::string_view a) {
  if (a == "XBT") return "BTC";
  if (a == "XDG") return "DOGE";
  return std::string(a);
}

Decimal power_of_ten(int64_t decimals) { return Decimal(1, static_cast<int>(decimals)); }

}  // namespace

Result<std::vector<collector::Instrument>> parse_asset_pairs(std::string_view body) {
  namespace dom = simdjson::dom;
  auto bad = [](std::string what) { return Status::corruption("kraken AssetPairs: " + what); };
  dom::parser parser;
  dom::element doc;
  if (parser.parse(body.data(), body.size()).get(doc) != simdjson::SUCCESS) return bad("malformed JSON");
  dom::array errors;
  if (doc["error"].get_array().get(errors) == simdjson::SUCCESS && errors.size() > 0) {
    std::string text;
    for (dom::element e : errors) {
      std::string_view s;
      if (e.get_string().get(s) == simdjson::SUCCESS) text += (text.empty() ? "" : "; ") + std::string(s);
    }
    const bool retry = text.rfind("EAPI:Rate limit", 0) == 0 || text.rfind("EService:", 0) == 0;
    return retry ? Status::unavailable("kraken: " + text) : Status::invalid_argument("kraken: " + text);
  }
  dom::object result;
  if (doc["result"].get_object().get(result) != simdjson::SUCCESS) return bad("no 'result' object");
  std::vector<collector::Instrument> out;
  for (auto field : result) {
    dom::object p;
    if (field.value.get_object().get(p) != simdjson::SUCCESS) return bad("pair is not an object");
    std::string_view wsname, status = "online", tick;
    if (p["wsname"].get_string().get(wsname) != simdjson::SUCCESS) continue;  // e.g. dark-pool pairs
    const size_t slash = wsname.find('/');
    if (slash == std::string_view::npos || slash == 0 || slash + 1 == wsname.size()) {
      return bad("wsname '" + std::string(wsname) + "' is not BASE/QUOTE");
    }
    int64_t pair_decimals = -1, lot_decimals = -1;
    if (p["lot_decimals"].get_int64().get(lot_decimals) != simdjson::SUCCESS || lot_decimals < 0 || lot_decimals > 18) {
      return bad(std::string(wsname) + ": bad lot_decimals");
    }
    collector::Instrument in;
    if (p["tick_size"].get_string().get(tick) == simdjson::SUCCESS) {
      if (!Decimal::parse(tick, in.price_increment) || !(in.price_increment > Decimal())) {
        return bad(std::string(wsname) + ": bad tick_size '" + std::string(tick) + "'");
      }
    } else if (p["pair_decimals"].get_int64().get(pair_decimals) == simdjson::SUCCESS && pair_decimals >= 0 &&
               pair_decimals <= 18) {
      in.price_increment = power_of_ten(pair_decimals);
    } else {
      return bad(std::string(wsname) + ": neither tick_size nor pair_decimals");
    }
    if (p["status"].get_string().get(status) != simdjson::SUCCESS) status = "online";
    in.exchange_symbol = std::string(wsname);
    in.base = unified_asset(wsname.substr(0, slash));
    in.quote = unified_asset(wsname.substr(slash + 1));
    in.symbol = in.base + "-" + in.quote;
    in.size_increment = power_of_ten(lot_decimals);
    in.trading = status == "online" || status == "cancel_only" || status == "post_only" || status == "limit_only" ||
                 status == "reduce_only";
    out.push_back(std::move(in));
  }
  return out;
}

}  // namespace tickflow::exchange::kraken
