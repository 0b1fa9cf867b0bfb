#include "exchange/coinbase/products.h"

#include <simdjson.h>

namespace tickflow::exchange::coinbase {

Result<std::vector<collector::Instrument>> parse_products(std::string_view body) {
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (auto ec = parser.parse(body.data(), body.size()).get(doc); ec) {
    return Status::corruption(std::string("coinbase /products: malformed JSON: ") + simdjson::error_message(ec));
  }
  simdjson::dom::array list;
  if (doc.get_array().get(list)) return Status::corruption("coinbase /products: not a JSON array");
  std::vector<collector::Instrument> out;
  size_t i = 0;
  for (simdjson::dom::element el : list) {
    const std::string where = "coinbase /products[" + std::to_string(i++) + "]";
    simdjson::dom::object o;
    if (el.get_object().get(o)) return Status::corruption(where + ": not an object");
    auto text = [&](const char* key, std::string_view& v) -> Status {
      if (o[key].get_string().get(v)) return Status::corruption(where + ": '" + key + "' missing or not a string");
      return Status::ok();
    };
    std::string_view id, base, quote, qi, bi, status;
    TICKFLOW_RETURN_IF_ERROR(text("id", id));
    TICKFLOW_RETURN_IF_ERROR(text("base_currency", base));
    TICKFLOW_RETURN_IF_ERROR(text("quote_currency", quote));
    TICKFLOW_RETURN_IF_ERROR(text("quote_increment", qi));
    TICKFLOW_RETURN_IF_ERROR(text("base_increment", bi));
    TICKFLOW_RETURN_IF_ERROR(text("status", status));
    bool disabled = false;
    if (auto e = o["trading_disabled"]; e.error() != simdjson::NO_SUCH_FIELD && e.get_bool().get(disabled)) {
      return Status::corruption(where + ": 'trading_disabled' is not a boolean");
    }
    collector::Instrument in;
    in.exchange_symbol.assign(id);
    // Unified BASE-QUOTE from the currencies (equal to the id for every Coinbase product).
    in.symbol = std::string(base) + "-" + std::string(quote);
    in.base.assign(base);
    in.quote.assign(quote);
    if (!Decimal::parse(qi, in.price_increment) || !Decimal::parse(bi, in.size_increment)) {
      return Status::corruption(where + ": an increment is not a decimal");
    }
    if (in.price_increment.units() <= 0 || in.size_increment.units() <= 0) {
      return Status::corruption(where + ": an increment is not positive");
    }
    if (id.empty() || base.empty() || quote.empty()) {
      return Status::corruption(where + ": empty 'id', 'base_currency' or 'quote_currency'");
    }
    in.trading = status == "online" && !disabled;
    out.push_back(std::move(in));
  }
  return out;
}

}  // namespace tickflow::exchange::coinbase
