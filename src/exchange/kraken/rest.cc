// Kraken REST /0/public/Trades response → trades with the derived key (rest.h).
#include "exchange/kraken/rest.h"

#include <cmath>

#include <simdjson.h>

#include "core/symbol.h"
#include "exchange/kraken/parse.h"

namespace tickflow::exchange::kraken {

namespace dom = simdjson::dom;

namespace {

Status bad(std::string msg) { return Status::corruption("kraken REST Trades: " + std::move(msg)); }

// Epoch seconds (number or string) → µs, rounded.
bool time_us(dom::element el, int64_t& us) {
  std::string_view text;
  if (el.get_string().get(text) == simdjson::SUCCESS) {
    TimestampNs ns = 0;
    if (!parse_kraken_time(text, ns)) return false;
    us = (ns + 500) / 1000;
    return true;
  }
  double d = 0;
  if (el.get_double().get(d) != simdjson::SUCCESS || !(d > 0) || d > 9.2e9) return false;
  const double whole = std::floor(d);
  us = static_cast<int64_t>(whole) * 1'000'000 + std::llround((d - whole) * 1e6);
  return true;
}

}  // namespace

Status parse_rest_trades(std::string_view body, std::string_view pair, TimestampNs recv, RestTradesPage& out) {
  out.trades.clear();
  out.ids.clear();
  out.last.clear();
  dom::parser parser;
  dom::element doc;
  if (parser.parse(body.data(), body.size()).get(doc) != simdjson::SUCCESS) return bad("malformed JSON");
  dom::array errors;
  if (doc["error"].get_array().get(errors) == simdjson::SUCCESS && errors.size() > 0) {
    std::string text;
    for (dom::element e : errors) {
      std::string_view s;
      if (e.get_string().get(s) != simdjson::SUCCESS) continue;
      if (!text.empty()) text += "; ";
      text += s;
    }
    const bool retry = text.rfind("EAPI:Rate limit", 0) == 0 || text.rfind("EService:", 0) == 0 ||
                       text.rfind("EGeneral:Temporary", 0) == 0;
    return retry ? Status::unavailable("kraken: " + text) : Status::invalid_argument("kraken: " + text);
  }
  dom::object result;
  if (doc["result"].get_object().get(result) != simdjson::SUCCESS) return bad("no 'result' object");
  const std::string symbol = unify_kraken_symbol(pair);
  bool found = false;
  int64_t last_us = -1, ordinal = 0;
  for (auto field : result) {
    if (field.key == "last") {
      std::string_view s;
      int64_t n = 0;
      if (field.value.get_string().get(s) == simdjson::SUCCESS) {
        out.last = std::string(s);
      } else if (field.value.get_int64().get(n) == simdjson::SUCCESS) {
        out.last = std::to_string(n);
      }
      continue;
    }
    dom::array list;
    if (found || field.value.get_array().get(list) != simdjson::SUCCESS) return bad("unexpected result field");
    found = true;
    for (dom::element entry : list) {
      dom::array f;
      if (entry.get_array().get(f) != simdjson::SUCCESS || f.size() < 6) return bad("entry is not a trade array");
      Trade& t = out.trades.emplace_back();
      std::string_view price, volume, side;
      if (f.at(0).get_string().get(price) != simdjson::SUCCESS || !Decimal::parse(price, t.price) ||
          f.at(1).get_string().get(volume) != simdjson::SUCCESS || !Decimal::parse(volume, t.quantity)) {
        return bad("bad price or volume");
      }
      // As the WebSocket parser: a trade has a positive price and volume (a zero or negative
      // one would enter candles through backfill only; found by fuzz/kraken_rest_fuzz.cc).
      if (!(t.price > Decimal()) || !(t.quantity > Decimal()))
        return bad("price or volume is not positive");
      int64_t us = 0;
      if (!time_us(f.at(2), us)) return bad("bad time");
      if (f.at(3).get_string().get(side) != simdjson::SUCCESS || (side != "b" && side != "s")) {
        return bad("bad side");
      }
      if (us == last_us) {
        if (++ordinal >= 1000) return bad("more than 1000 trades in one microsecond");
      } else {
        last_us = us;
        ordinal = 0;
      }
      t.exchange = Exchange::kKraken;
      t.exchange_symbol = std::string(pair);
      t.symbol = symbol;
      t.taker_side = side == "b" ? Side::kBuy : Side::kSell;
      t.ts_event = us * 1000;
      t.ts_recv = recv;
      t.trade_id = us * 1000 + ordinal;
      t.first_trade_id = t.last_trade_id = t.trade_id;
      t.aggregated = false;
      int64_t kraken_id = -1;  // the 7th element: Kraken's trade id (the v2 WebSocket's trade_id)
      if (f.size() >= 7 && f.at(6).get_int64().get(kraken_id) != simdjson::SUCCESS) kraken_id = -1;
      out.ids.push_back(kraken_id);
    }
  }
  if (!found) return bad("no trade list in 'result'");
  return Status::ok();
}

}  // namespace tickflow::exchange::kraken
