// Binance REST bodies other than aggTrades (parse.cc): the depth snapshot of
// GET /api/v3/depth. Pure (simdjson On-Demand, no I/O).
#include <simdjson.h>

#include "exchange/binance/parse.h"

namespace tickflow::exchange::binance {

namespace od = simdjson::ondemand;

namespace {

Status malformed(simdjson::error_code ec) {
  return Status::parse_error(std::string("depth: malformed JSON: ") + simdjson::error_message(ec));
}

Status parse_side(od::value v, std::vector<DepthLevel>& out, const char* name) {
  out.clear();
  od::array arr;
  if (auto ec = v.get_array().get(arr)) return malformed(ec);
  for (auto item : arr) {
    od::array level;
    if (auto ec = std::move(item).get_array().get(level)) return malformed(ec);
    DepthLevel& l = out.emplace_back();
    int k = 0;
    for (auto x : level) {
      if (k < 2) {
        std::string_view sv;
        if (auto ec = std::move(x).get_string().get(sv)) return malformed(ec);
        if (!Decimal::parse(sv, k == 0 ? l.price : l.quantity))
          return Status::parse_error(std::string("depth: '") + name + "' level is not a decimal: '" + std::string(sv) + "'");
      }
      ++k;
    }
    if (k < 2) return Status::parse_error(std::string("depth: '") + name + "' level needs a price and a quantity");
    if (l.price.is_negative() || l.price.is_zero() || l.quantity.is_negative())
      return Status::parse_error(std::string("depth: '") + name + "' level price must be > 0 and quantity >= 0");
  }
  return Status::ok();
}

}  // namespace

Status parse_depth_snapshot(std::string_view body, DepthSnapshot& out) {
  out = DepthSnapshot{};
  simdjson::padded_string padded(body);
  od::parser parser;
  od::document doc;
  if (auto ec = parser.iterate(padded).get(doc)) return malformed(ec);
  od::object obj;
  if (auto ec = doc.get_object().get(obj)) return malformed(ec);
  uint32_t have = 0;
  for (auto fr : obj) {
    od::field field;
    if (auto ec = std::move(fr).get(field)) return malformed(ec);
    std::string_view key;
    if (auto ec = field.unescaped_key().get(key)) return malformed(ec);
    if (key == "lastUpdateId") {
      if (field.value().get_int64().get(out.last_update_id) || out.last_update_id < 0)
        return Status::parse_error("depth: field 'lastUpdateId' has the wrong type");
      have |= 1;
    } else if (key == "bids") {
      TICKFLOW_RETURN_IF_ERROR(parse_side(field.value(), out.bids, "bids"));
      have |= 2;
    } else if (key == "asks") {
      TICKFLOW_RETURN_IF_ERROR(parse_side(field.value(), out.asks, "asks"));
      have |= 4;
    }
  }
  if (doc.current_location().error() != simdjson::OUT_OF_BOUNDS)
    return Status::parse_error("depth: trailing content after the object");
  static constexpr const char* kNames[] = {"lastUpdateId", "bids", "asks"};
  for (int i = 0; i < 3; ++i) {
    if (!(have & (1u << i))) return Status::parse_error(std::string("depth: missing field '") + kNames[i] + "'");
  }
  return Status::ok();
}

}  // namespace tickflow::exchange::binance
