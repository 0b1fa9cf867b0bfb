// The simulator's Coinbase Exchange side that needs no Asio: products, the subscribe /
// unsubscribe protocol (replies built here, applied by ws_session.cc) and REST
// GET /products/{id}/trades with Coinbase's cursor pagination.
#include <algorithm>
#include <mutex>

#include "exchange/simulator/server_impl.h"

namespace tickflow::exchange::simulator {

using namespace internal;

namespace {

RestReply coinbase_error(int status, std::string_view message) {
  RestReply r;
  r.status = status;
  r.body = "{\"message\":";
  append_json_string(r.body, message);
  r.body += "}";
  return r;
}

std::string feed_error(std::string_view message, std::string_view reason) {
  std::string r = R"({"type":"error","message":)";
  append_json_string(r, message);
  r += R"(,"reason":)";
  append_json_string(r, reason);
  r += "}";
  return r;
}

// Channel name → stream kind; 0 when the simulator does not serve it.
uint32_t coinbase_kind(std::string_view channel) {
  if (channel == "matches") return kCoinbaseMatchStream;
  if (channel == "ticker") return kCoinbaseTickerStream;
  if (channel == "heartbeat") return kCoinbaseHeartbeatStream;
  if (channel == "level2") return kCoinbaseExtraCode + kCoinbaseLevel2;
  if (channel == "level2_batch") return kCoinbaseExtraCode + kCoinbaseLevel2Batch;
  return 0;
}

}  // namespace

int Simulator::Impl::coinbase_stream_id(int kind_code, int symbol) const {
  if (kind_code >= kCoinbaseExtraCode) {
    return static_cast<int>(coinbase_stream_base) + symbol * kCoinbaseExtraKinds + (kind_code - kCoinbaseExtraCode);
  }
  return symbol * kStreamKinds + kind_code;
}

bool Simulator::Impl::coinbase_extra_stream(int stream_id, int& kind, int& symbol) const {
  const int base = static_cast<int>(coinbase_stream_base);
  if (stream_id < base || stream_id >= base + static_cast<int>(specs.size()) * kCoinbaseExtraKinds) return false;
  kind = (stream_id - base) % kCoinbaseExtraKinds;
  symbol = (stream_id - base) / kCoinbaseExtraKinds;
  return true;
}

int Simulator::Impl::coinbase_symbol(std::string_view product) const {
  for (size_t i = 0; i < coinbase_products.size(); ++i) {
    if (!coinbase_products[i].empty() && coinbase_products[i] == product) return static_cast<int>(i);
  }
  return -1;
}

void Simulator::Impl::coinbase_request(std::string_view text,
                                       const std::function<void(const CoinbaseRequest&)>& apply) {
  CoinbaseRequest req;
  auto fail = [&](std::string_view message, std::string_view reason) {
    req.replies.push_back(feed_error(message, reason));
    std::lock_guard mk(market_mu);
    apply(req);
  };
  simdjson::dom::element doc;
  if (json.parse(text.data(), text.size()).get(doc) != simdjson::SUCCESS || !doc.is_object()) {
    return fail("Failed to subscribe", "malformed JSON");
  }
  std::string_view type;
  if (doc["type"].get_string().get(type) != simdjson::SUCCESS || (type != "subscribe" && type != "unsubscribe")) {
    return fail("Failed to subscribe", "type must be subscribe or unsubscribe");
  }
  const bool sub = type == "subscribe";
  std::vector<std::string_view> top_products;
  simdjson::dom::array list;
  if (doc["product_ids"].get_array().get(list) == simdjson::SUCCESS) {
    for (auto el : list) {
      std::string_view p;
      if (el.get_string().get(p) != simdjson::SUCCESS) return fail("Failed to subscribe", "product_ids must be strings");
      top_products.push_back(p);
    }
  }
  simdjson::dom::array channels;
  if (doc["channels"].get_array().get(channels) != simdjson::SUCCESS) {
    return fail("Failed to subscribe", "channels must be an array");
  }
  std::vector<std::pair<uint32_t, int>> streams;  // (kind, symbol)
  for (auto ch : channels) {
    std::string_view name;
    std::vector<std::string_view> products = top_products;
    simdjson::dom::object o;
    if (ch.get_string().get(name) != simdjson::SUCCESS) {
      if (ch.get_object().get(o) != simdjson::SUCCESS || o["name"].get_string().get(name) != simdjson::SUCCESS) {
        return fail("Failed to subscribe", "a channel has no name");
      }
      simdjson::dom::array ids;
      if (o["product_ids"].get_array().get(ids) == simdjson::SUCCESS) {
        products.clear();
        for (auto el : ids) {
          std::string_view p;
          if (el.get_string().get(p) != simdjson::SUCCESS) return fail("Failed to subscribe", "product_ids must be strings");
          products.push_back(p);
        }
      }
    }
    const uint32_t kind = coinbase_kind(name);
    if (kind == 0) return fail("Failed to subscribe", std::string(name) + " is not a valid channel");
    if (products.empty()) {
      return fail("Failed to subscribe", "You need to specify at least one product ID for channel " + std::string(name));
    }
    for (std::string_view p : products) {
      const int sym = coinbase_symbol(p);
      if (sym < 0) return fail("Failed to subscribe", std::string(p) + " is not a valid product");
      streams.emplace_back(kind, sym);
    }
  }
  std::lock_guard mk(market_mu);
  for (auto [kind, sym] : streams) {
    const int id = coinbase_stream_id(static_cast<int>(kind), sym);
    (sub ? req.add : req.remove).push_back(id);
  }
  apply(req);  // the session adds the subscriptions ack and the last_matches (ws_session.cc)
}

bool Simulator::Impl::coinbase_last_match(int sym, std::string& out) const {
  const auto& h = hist[static_cast<size_t>(sym)];
  if (h.trades.empty()) return false;
  const SimTrade& t = h.trades.back();
  append_coinbase_match(out, "last_match", coinbase_products[static_cast<size_t>(sym)], t, h.kraken_us.back(),
                        coinbase_sequence(specs[static_cast<size_t>(sym)], t.id));
  return true;
}

std::string Simulator::Impl::coinbase_subscriptions(const std::vector<uint8_t>& subs) const {
  std::string r = R"({"type":"subscriptions","channels":[)";
  bool first_channel = true;
  for (auto [name, kind] : {std::pair<std::string_view, int>{"heartbeat", kCoinbaseHeartbeatStream},
                            {"matches", kCoinbaseMatchStream},
                            {"ticker", kCoinbaseTickerStream},
                            {"level2", kCoinbaseExtraCode + kCoinbaseLevel2},
                            {"level2_batch", kCoinbaseExtraCode + kCoinbaseLevel2Batch}}) {
    std::string ids;
    for (size_t sym = 0; sym < coinbase_products.size(); ++sym) {
      const size_t id = static_cast<size_t>(coinbase_stream_id(kind, static_cast<int>(sym)));
      if (id >= subs.size() || !subs[id]) continue;
      if (!ids.empty()) ids.push_back(',');
      append_json_string(ids, coinbase_products[sym]);
    }
    if (ids.empty()) continue;
    if (!first_channel) r.push_back(',');
    first_channel = false;
    r += R"({"name":")";
    r += name;
    r += R"(","product_ids":[)";
    r += ids;
    r += "]}";
  }
  r += "]}";
  return r;
}

// GET /products: every Coinbase product of the model, in the key order of the recording's
// response (testdata/exchanges/coinbase, first record); increments = the symbol's tick / step.
RestReply Simulator::Impl::rest_coinbase_products() const {
  RestReply r;
  r.body = "[";
  for (size_t i = 0; i < specs.size(); ++i) {
    const std::string& id = coinbase_products[i];
    if (id.empty()) continue;
    const size_t dash = id.find('-');
    if (r.body.size() > 1) r.body.push_back(',');
    r.body += R"({"id":)";
    append_json_string(r.body, id);
    r.body += R"(,"base_currency":)";
    append_json_string(r.body, id.substr(0, dash));
    r.body += R"(,"quote_currency":)";
    append_json_string(r.body, id.substr(dash + 1));
    r.body += R"(,"base_min_size":")";
    append_coinbase_decimal(r.body, specs[i].step);
    r.body += R"(","base_max_size":"1000000","quote_increment":")";
    append_coinbase_decimal(r.body, specs[i].tick);
    r.body += R"(","base_increment":")";
    append_coinbase_decimal(r.body, specs[i].step);
    r.body += R"(","display_name":)";
    append_json_string(r.body, id.substr(0, dash) + "/" + id.substr(dash + 1));
    r.body += R"(,"min_market_funds":"1","max_market_funds":"1000000","margin_enabled":false,"post_only":false,)"
              R"("limit_only":false,"cancel_only":false,"trading_disabled":false,"status":"online","status_message":""})";
  }
  r.body.push_back(']');
  return r;
}

RestReply Simulator::Impl::rest_coinbase_trades(const Target& t) {
  // /products/{id}/trades
  constexpr std::string_view kPrefix = "/products/", kSuffix = "/trades";
  const std::string_view path = t.path;
  if (path.size() <= kPrefix.size() + kSuffix.size() || !path.ends_with(kSuffix)) return coinbase_error(404, "NotFound");
  const std::string_view product = path.substr(kPrefix.size(), path.size() - kPrefix.size() - kSuffix.size());
  const int sym = coinbase_symbol(product);
  if (sym < 0) return coinbase_error(404, "NotFound");
  const IntParam limit = int_param(t, "limit"), before = int_param(t, "before"), after = int_param(t, "after");
  if (limit.bad) return coinbase_error(400, "Invalid limit");
  if (before.bad) return coinbase_error(400, "Invalid before");
  if (after.bad) return coinbase_error(400, "Invalid after");
  const int64_t n = limit.present ? std::clamp<int64_t>(limit.value, 1, 1000) : 1000;
  RestReply r;
  r.body = "[";
  std::lock_guard mk(market_mu);
  const auto& trades = hist[sym].trades;
  const auto& us = hist[sym].kraken_us;  // the fills' µs times (Coinbase prints µs too)
  if (!trades.empty()) {
    const int64_t lo_id = trades.front().id, hi_id = trades.back().id;
    int64_t top = hi_id, bottom = lo_id;
    if (after.present) {
      top = std::min(hi_id, after.value - 1);
      bottom = std::max(lo_id, top - n + 1);
    } else if (before.present) {
      bottom = std::max(lo_id, before.value + 1);
      top = std::min(hi_id, bottom + n - 1);
    } else {
      bottom = std::max(lo_id, top - n + 1);
    }
    for (int64_t id = top; id >= bottom; --id) {
      const size_t i = static_cast<size_t>(id - lo_id);
      if (id != top) r.body.push_back(',');
      append_coinbase_trade_rest(r.body, trades[i], us[i]);
    }
    if (top >= bottom) {
      r.headers.emplace_back("CB-BEFORE", std::to_string(top));
      r.headers.emplace_back("CB-AFTER", std::to_string(bottom));
    }
  }
  r.body.push_back(']');
  return r;
}

}  // namespace tickflow::exchange::simulator
