// The simulator's Kraken protocol that needs no Asio (kraken_feed.h): v1 events (subscribe /
// unsubscribe / ping) and v2 methods (subscribe / unsubscribe / ping), replies built here and
// applied by ws_session.cc with the market lock held (a book snapshot and the first update after
// it neither overlap nor leave a hole), and the in-process inspection / fault calls. The book
// channels and the v2 trade messages are in kraken_book.cc.
#include <algorithm>
#include <mutex>

#include "exchange/simulator/server_impl.h"

namespace tickflow::exchange::simulator {

using namespace internal;

namespace {

std::string kraken_error(std::string_view msg, std::string_view reqid) {
  std::string r = "{\"errorMessage\":";
  append_json_string(r, msg);
  r += ",\"event\":\"error\"";
  r += reqid;
  r += ",\"status\":\"error\"}";
  return r;
}

std::string v2_time() {
  std::string t;
  append_iso8601_us(t, wall_ms() * 1000);
  return t;
}

// {"error":"..","method":"subscribe","req_id":N,"success":false,"symbol":"..","time_in":..,"time_out":..}
std::string v2_error(std::string_view method, std::string_view error, std::string_view symbol, std::string_view req_id) {
  std::string r = "{\"error\":";
  append_json_string(r, error);
  r += ",\"method\":";
  append_json_string(r, method.empty() ? std::string_view("subscribe") : method);
  r += req_id;
  r += ",\"success\":false";
  if (!symbol.empty()) {
    r += ",\"symbol\":";
    append_json_string(r, symbol);
  }
  const std::string t = v2_time();
  r += ",\"time_in\":\"" + t + "\",\"time_out\":\"" + t + "\"}";
  return r;
}

}  // namespace

// Kraken v2 methods (docs: spot-websocket-v2 subscribe / unsubscribe / ping): one ack per
// symbol, then (book) the snapshot; errors carry Kraken's text.
void Simulator::Impl::kraken_v2_request(std::string_view text, const std::function<void(const KrakenRequest&)>& apply) {
  KrakenRequest req;
  simdjson::dom::element doc;
  std::string req_id;
  std::string_view method;
  auto done = [&] {
    std::lock_guard mk(market_mu);
    apply(req);
  };
  if (json.parse(text.data(), text.size()).get(doc) != simdjson::SUCCESS || !doc.is_object()) {
    req.replies.push_back(v2_error("", "Malformed request", "", ""));
    return done();
  }
  int64_t rid = 0;
  if (doc["req_id"].get_int64().get(rid) == simdjson::SUCCESS) {
    req_id = ",\"req_id\":";
    append_int(req_id, rid);
  }
  if (doc["method"].get_string().get(method) != simdjson::SUCCESS) {
    req.replies.push_back(v2_error("", "Malformed request", "", req_id));
    return done();
  }
  if (method == "ping") {
    const std::string t = v2_time();
    req.replies.push_back("{\"method\":\"pong\"" + req_id + ",\"time_in\":\"" + t + "\",\"time_out\":\"" + t + "\"}");
    return done();
  }
  if (method != "subscribe" && method != "unsubscribe") {
    req.replies.push_back(v2_error(method, "Method not found", "", req_id));
    return done();
  }
  const bool sub = method == "subscribe";
  std::string_view channel;
  if (doc["params"]["channel"].get_string().get(channel) != simdjson::SUCCESS) {
    req.replies.push_back(v2_error(method, "Missing channel", "", req_id));
    return done();
  }
  int64_t depth = 10;
  if (doc["params"]["depth"].get_int64().get(depth) != simdjson::SUCCESS) depth = 10;
  bool snapshot = channel == "book";
  bool snap_param = false;
  if (doc["params"]["snapshot"].get_bool().get(snap_param) == simdjson::SUCCESS) snapshot = snap_param;
  const int depth_index = kraken_depth_index(depth);
  simdjson::dom::array symbols;
  if (doc["params"]["symbol"].get_array().get(symbols) != simdjson::SUCCESS) {
    req.replies.push_back(v2_error(method, "Missing symbol", "", req_id));
    return done();
  }
  std::lock_guard mk(market_mu);
  for (auto el : symbols) {
    std::string_view pair;
    if (el.get_string().get(pair) != simdjson::SUCCESS) continue;
    int sym = -1;
    for (size_t i = 0; i < kraken_pairs.size() && sym < 0; ++i) {
      if (!kraken_pairs[i].empty() && kraken_v2_pair(kraken_pairs[i]) == pair) sym = static_cast<int>(i);
    }
    std::string error;
    if (sym < 0) error = "Currency pair not supported";
    if (error.empty() && channel != "trade" && channel != "book") error = "Channel not supported";
    if (error.empty() && channel == "book" && depth_index < 0) error = "Invalid depth";
    if (!error.empty()) {
      req.replies.push_back(v2_error(method, error, pair, req_id));
      continue;
    }
    const auto usym = static_cast<uint32_t>(sym);
    const size_t first = kraken_book_base + usym * kKrakenStreamsPerSymbol;
    const bool book = channel == "book";
    std::string r = "{\"method\":";
    append_json_string(r, method);
    r += ",\"result\":{\"channel\":";
    append_json_string(r, channel);
    if (book) r += ",\"depth\":" + std::to_string(depth);
    r += std::string(",\"snapshot\":") + (book && snapshot ? "true" : "false") + ",\"symbol\":";
    append_json_string(r, pair);
    const std::string t = v2_time();
    r += "}" + req_id + ",\"success\":true,\"time_in\":\"" + t + "\",\"time_out\":\"" + t + "\"}";
    req.replies.push_back(std::move(r));
    const int sid = static_cast<int>(book ? first + kKrakenV2BookOffset + static_cast<size_t>(depth_index)
                                          : first + kKrakenV2TradeOffset);
    (sub ? req.add : req.remove).push_back(sid);
    if (sub && book) {
      if (!kraken_views[usym].valid) kraken_view_from_model(usym, wall_ms() * 1000);
      req.replies.push_back(kraken_book_snapshot(usym, static_cast<size_t>(depth_index), true));
    }
  }
  apply(req);
}

void Simulator::Impl::kraken_request(std::string_view text, bool v2, const std::function<void(const KrakenRequest&)>& apply) {
  if (v2) return kraken_v2_request(text, apply);
  KrakenRequest req;
  auto done = [&] {
    std::lock_guard mk(market_mu);
    apply(req);
  };
  simdjson::dom::element doc;
  if (json.parse(text.data(), text.size()).get(doc) != simdjson::SUCCESS || !doc.is_object()) {
    req.replies.push_back(kraken_error("Malformed request", ""));
    return done();
  }
  std::string reqid;
  int64_t rid = 0;
  if (doc["reqid"].get_int64().get(rid) == simdjson::SUCCESS) {
    reqid = ",\"reqid\":";
    append_int(reqid, rid);
  }
  std::string_view event;
  if (doc["event"].get_string().get(event) != simdjson::SUCCESS) {
    req.replies.push_back(kraken_error("Malformed request", reqid));
    return done();
  }
  if (event == "ping") {
    req.replies.push_back("{\"event\":\"pong\"" + reqid + "}");
    return done();
  }
  if (event != "subscribe" && event != "unsubscribe") {
    req.replies.push_back(kraken_error("Unsupported event", reqid));
    return done();
  }
  const bool sub = event == "subscribe";
  std::string_view name;
  if (doc["subscription"]["name"].get_string().get(name) != simdjson::SUCCESS) {
    req.replies.push_back(kraken_error("Subscription name invalid", reqid));
    return done();
  }
  int64_t depth = 10;  // Kraken's default book depth
  const bool has_depth = doc["subscription"]["depth"].get_int64().get(depth) == simdjson::SUCCESS;
  if (!has_depth) depth = 10;
  const int depth_index = kraken_depth_index(depth);
  simdjson::dom::array pairs;
  if (doc["pair"].get_array().get(pairs) != simdjson::SUCCESS) {
    req.replies.push_back(kraken_error("Pair field must be an array", reqid));
    return done();
  }
  std::vector<std::pair<std::string, int>> list;
  for (auto el : pairs) {
    std::string_view pair;
    if (el.get_string().get(pair) != simdjson::SUCCESS) {
      req.replies.clear();
      req.replies.push_back(kraken_error("Pair field must be an array of strings", reqid));
      return done();
    }
    list.emplace_back(std::string(pair), kraken_symbol(pair));
  }
  const bool book = name == "book";
  const std::string channel = book ? "book-" + std::to_string(depth) : std::string(name);
  std::lock_guard mk(market_mu);
  for (const auto& [pair, sym] : list) {
    std::string r;
    std::string error;
    if (sym < 0) {
      error = "Currency pair not supported " + pair;
    } else if (name != "trade" && !book) {
      error = "Subscription name invalid";
    } else if (book && depth_index < 0) {
      error = "Subscription depth not supported";
    }
    if (!error.empty()) {
      r = "{\"errorMessage\":";
      append_json_string(r, error);
      r += ",\"event\":\"subscriptionStatus\",\"pair\":";
      append_json_string(r, pair);
      r += reqid + ",\"status\":\"error\",\"subscription\":{";
      if (book && has_depth) r += "\"depth\":" + std::to_string(depth) + ",";
      r += "\"name\":";
      append_json_string(r, name);
      r += "}}";
      req.replies.push_back(std::move(r));
      continue;
    }
    const auto usym = static_cast<uint32_t>(sym);
    const int64_t channel_id = book ? kKrakenBookChannelBase + sym * 8 + depth_index : kKrakenChannelBase + sym;
    r = "{\"channelID\":";
    append_int(r, channel_id);
    r += ",\"channelName\":";
    append_json_string(r, channel);
    r += ",\"event\":\"subscriptionStatus\",\"pair\":";
    append_json_string(r, pair);
    r += reqid + ",\"status\":\"" + std::string(sub ? "subscribed" : "unsubscribed") + "\",\"subscription\":{";
    r += book ? "\"depth\":" + std::to_string(depth) + ",\"name\":\"book\"}}" : "\"name\":\"trade\"}}";
    req.replies.push_back(std::move(r));
    const int sid = book ? static_cast<int>(kraken_book_base + usym * kKrakenStreamsPerSymbol + depth_index)
                         : sym * kStreamKinds + kKrakenTradeStream;
    (sub ? req.add : req.remove).push_back(sid);
    if (sub && book) {
      if (!kraken_views[usym].valid) kraken_view_from_model(usym, wall_ms() * 1000);
      req.replies.push_back(kraken_book_snapshot(usym, static_cast<size_t>(depth_index), false));
    }
  }
  apply(req);
}

// GET /0/public/AssetPairs: every model pair with a Kraken name, in Kraken's shape
// ({"error":[],"result":{"XXBTZUSD":{"altname":"XBTUSD","wsname":"XBT/USD",..}}}); pair_decimals
// = the decimals the simulator prints prices with, lot_decimals 8, tick_size from the model.
RestReply Simulator::Impl::rest_kraken_asset_pairs() const {
  RestReply r;
  r.body = R"({"error":[],"result":{)";
  bool first = true;
  for (size_t i = 0; i < specs.size(); ++i) {
    const std::string& pair = kraken_pairs[i];
    if (pair.empty()) continue;
    if (!first) r.body += ',';
    first = false;
    const std::string key = kraken_rest_pair_key(pair);
    std::string alt = pair;
    alt.erase(std::remove(alt.begin(), alt.end(), '/'), alt.end());
    const size_t slash = pair.find('/');
    append_json_string(r.body, key);
    r.body += R"(:{"altname":)";
    append_json_string(r.body, alt);
    r.body += R"(,"wsname":)";
    append_json_string(r.body, pair);
    r.body += R"(,"aclass_base":"currency","base":)";
    append_json_string(r.body, pair.substr(0, slash));
    r.body += R"(,"aclass_quote":"currency","quote":)";
    append_json_string(r.body, pair.substr(slash + 1));
    const int decimals = kraken_price_decimals(specs[i]);
    r.body += R"(,"lot":"unit","cost_decimals":5,"pair_decimals":)" + std::to_string(decimals);
    r.body += R"(,"lot_decimals":8,"lot_multiplier":1,"ordermin":"0.0001","costmin":"0.5","tick_size":")";
    append_kraken_decimal(r.body, specs[i].tick, decimals);
    r.body += R"(","status":"online"})";
  }
  r.body += "}}";
  return r;
}

// ---- in-process control and inspection ----

void Simulator::inject_kraken_book_fault(uint64_t n, KrakenBookFault kind) {
  auto& left = kind == KrakenBookFault::kBadChecksum ? impl_->kraken_bad_checksum_left : impl_->kraken_drop_update_left;
  left.fetch_add(n, std::memory_order_relaxed);
}

uint64_t Simulator::kraken_book_faults() const { return impl_->kraken_book_faults.load(); }

SimKrakenBook Simulator::kraken_book(const std::string& symbol, int depth) const {
  SimKrakenBook out;
  std::lock_guard mk(impl_->market_mu);
  if (!impl_->model || impl_->kraken_views.empty()) return out;
  const int i = impl_->model->symbol_index(symbol);
  if (i < 0) return out;
  const KrakenBookView& v = impl_->kraken_views[static_cast<size_t>(i)];
  if (!v.valid) return out;
  out.valid = true;
  const int decimals = kraken_price_decimals(impl_->specs[static_cast<size_t>(i)]);
  const size_t n = static_cast<size_t>(std::max(depth, 0));
  auto level = [&](int64_t price, int64_t qty) {
    std::string p, q;
    append_kraken_decimal(p, price, decimals);
    append_kraken_decimal(q, qty, 8);
    return std::pair{p, q};
  };
  for (auto it = v.asks.begin(); it != v.asks.end() && out.asks.size() < n; ++it) {
    out.asks.push_back(level(it->first, it->second.qty));
  }
  for (auto it = v.bids.begin(); it != v.bids.end() && out.bids.size() < n; ++it) {
    out.bids.push_back(level(it->first, it->second.qty));
  }
  out.checksum = kraken_view_checksum(v, n, decimals);
  return out;
}

}  // namespace tickflow::exchange::simulator
