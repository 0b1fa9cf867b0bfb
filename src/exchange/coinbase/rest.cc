#include "exchange/coinbase/rest.h"

#include <simdjson.h>

namespace tickflow::exchange::coinbase {

Status parse_rest_trades(std::string_view body, std::string_view product_id, TimestampNs recv,
                         std::vector<Trade>& out) {
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (auto ec = parser.parse(body.data(), body.size(), true).get(doc)) {
    return Status::corruption(std::string("coinbase trades: malformed JSON: ") + simdjson::error_message(ec));
  }
  simdjson::dom::array list;
  if (doc.get_array().get(list)) return Status::corruption("coinbase trades: body is not an array");
  for (simdjson::dom::element e : list) {
    simdjson::dom::object o;
    if (e.get_object().get(o)) return Status::corruption("coinbase trades: entry is not an object");
    std::string_view time, price, size, side;
    int64_t id = -1;
    if (o["trade_id"].get_int64().get(id) || id < 0 || o["time"].get_string().get(time) ||
        o["price"].get_string().get(price) || o["size"].get_string().get(size) || o["side"].get_string().get(side)) {
      return Status::corruption("coinbase trades: entry without trade_id/time/price/size/side");
    }
    Trade t;
    t.exchange = Exchange::kCoinbase;
    t.symbol = std::string(product_id);
    t.exchange_symbol = t.symbol;
    t.trade_id = t.first_trade_id = t.last_trade_id = id;
    if (!Decimal::parse(price, t.price) || !Decimal::parse(size, t.quantity)) {
      return Status::corruption("coinbase trades: trade " + std::to_string(id) + ": bad price or size");
    }
    if (side == "sell") {
      t.taker_side = Side::kBuy;  // maker sold: the taker bought
    } else if (side == "buy") {
      t.taker_side = Side::kSell;
    } else {
      return Status::corruption("coinbase trades: trade " + std::to_string(id) + ": side is not buy/sell");
    }
    Result<TimestampNs> ts = parse_iso8601(time);
    if (!ts) return Status::corruption("coinbase trades: trade " + std::to_string(id) + ": bad time");
    t.ts_event = *ts;
    t.ts_recv = recv;
    t.aggregated = false;
    out.push_back(std::move(t));
  }
  return Status::ok();
}

}  // namespace tickflow::exchange::coinbase
