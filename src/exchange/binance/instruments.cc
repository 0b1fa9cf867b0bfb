#include "exchange/binance/instruments.h"

#include <simdjson.h>

#include <string>

namespace tickflow::exchange::binance {

namespace od = simdjson::ondemand;

namespace {

Status malformed(simdjson::error_code ec) {
  return Status::parse_error(std::string("exchangeInfo: malformed JSON: ") + simdjson::error_message(ec));
}

Status decimal(od::value v, const char* name, Decimal& out) {
  std::string_view sv;
  if (auto ec = v.get_string().get(sv)) return malformed(ec);
  if (!Decimal::parse(sv, out))
    return Status::parse_error(std::string("exchangeInfo: ") + name + " is not a decimal: '" + std::string(sv) + "'");
  return Status::ok();
}

// One filters[] entry: PRICE_FILTER tickSize or LOT_SIZE stepSize (the filterType comes first
// in Binance's bodies, but the order is not relied on).
Status parse_filter(od::object f, collector::Instrument& in) {
  std::string_view type;
  Decimal tick, step;
  bool have_tick = false, have_step = false;
  for (auto fr : f) {
    od::field field;
    if (auto ec = std::move(fr).get(field)) return malformed(ec);
    std::string_view key;
    if (auto ec = field.unescaped_key().get(key)) return malformed(ec);
    if (key == "filterType") {
      if (auto ec = field.value().get_string().get(type)) return malformed(ec);
    } else if (key == "tickSize") {
      TICKFLOW_RETURN_IF_ERROR(decimal(field.value(), "tickSize", tick));
      have_tick = true;
    } else if (key == "stepSize") {
      TICKFLOW_RETURN_IF_ERROR(decimal(field.value(), "stepSize", step));
      have_step = true;
    }
  }
  if (type == "PRICE_FILTER" && have_tick) in.price_increment = tick;
  if (type == "LOT_SIZE" && have_step) in.size_increment = step;
  return Status::ok();
}

Status parse_symbol(od::object obj, collector::Instrument& in) {
  std::string_view status;
  uint32_t have = 0;
  for (auto fr : obj) {
    od::field field;
    if (auto ec = std::move(fr).get(field)) return malformed(ec);
    std::string_view key;
    if (auto ec = field.unescaped_key().get(key)) return malformed(ec);
    std::string_view sv;
    if (key == "symbol") {
      if (auto ec = field.value().get_string().get(sv)) return malformed(ec);
      in.exchange_symbol.assign(sv);
      have |= 1;
    } else if (key == "status") {
      if (auto ec = field.value().get_string().get(status)) return malformed(ec);
      have |= 2;
    } else if (key == "baseAsset") {
      if (auto ec = field.value().get_string().get(sv)) return malformed(ec);
      in.base.assign(sv);
      have |= 4;
    } else if (key == "quoteAsset") {
      if (auto ec = field.value().get_string().get(sv)) return malformed(ec);
      in.quote.assign(sv);
      have |= 8;
    } else if (key == "filters") {
      od::array filters;
      if (auto ec = field.value().get_array().get(filters)) return malformed(ec);
      for (auto item : filters) {
        od::object f;
        if (auto ec = std::move(item).get_object().get(f)) return malformed(ec);
        TICKFLOW_RETURN_IF_ERROR(parse_filter(f, in));
      }
    }
  }
  static constexpr const char* kNames[] = {"symbol", "status", "baseAsset", "quoteAsset"};
  for (int i = 0; i < 4; ++i) {
    if (!(have & (1u << i))) return Status::parse_error(std::string("exchangeInfo: a symbol without '") + kNames[i] + "'");
  }
  in.trading = status == "TRADING";
  in.symbol = in.base + "-" + in.quote;
  return Status::ok();
}

}  // namespace

Status parse_exchange_info(std::string_view body, std::vector<collector::Instrument>& out) {
  simdjson::padded_string padded(body);
  od::parser parser;
  od::document doc;
  if (auto ec = parser.iterate(padded).get(doc)) return malformed(ec);
  od::object top;
  if (auto ec = doc.get_object().get(top)) return malformed(ec);
  bool have_symbols = false;
  for (auto fr : top) {
    od::field field;
    if (auto ec = std::move(fr).get(field)) return malformed(ec);
    std::string_view key;
    if (auto ec = field.unescaped_key().get(key)) return malformed(ec);
    if (key != "symbols") continue;
    have_symbols = true;
    od::array arr;
    if (auto ec = field.value().get_array().get(arr)) return malformed(ec);
    for (auto item : arr) {
      od::object obj;
      if (auto ec = std::move(item).get_object().get(obj)) return malformed(ec);
      collector::Instrument in;
      TICKFLOW_RETURN_IF_ERROR(parse_symbol(obj, in));
      out.push_back(std::move(in));
    }
  }
  if (doc.current_location().error() != simdjson::OUT_OF_BOUNDS)
    return Status::parse_error("exchangeInfo: trailing content after the object");
  if (!have_symbols) return Status::parse_error("exchangeInfo: missing field 'symbols'");
  return Status::ok();
}

}  // namespace tickflow::exchange::binance
