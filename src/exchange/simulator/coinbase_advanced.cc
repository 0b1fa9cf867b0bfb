// The simulator's Coinbase Advanced Trade feed (WS /coinbase-advanced; no Asio): subscribe /
// unsubscribe with one `channel` per message (market_trades, level2, heartbeats; a `jwt` is
// accepted and not checked), the subscriptions message listing the session's channels, the
// market_trades snapshot (the newest 100 trades, newest first) and l2_data snapshot of a new
// subscription, then per taker order a market_trades update with its fills newest first and
// per depth event an l2_data update (coinbase_l2.cc). Every message goes out as
// {"channel","client_id":"","timestamp","sequence_num","events":[..]} with the session's own
// contiguous sequence_num (encoded as 0, numbered when queued: append_ws_with_sequence).
#include <algorithm>

#include "exchange/simulator/server_impl.h"

namespace tickflow::exchange::simulator {

using namespace internal;

namespace {

constexpr size_t kAdvSnapshotTrades = 100;  // the shared data README: "the 100 most recent trades"

void header(std::string& out, std::string_view channel, int64_t time_us) {
  out.append(R"({"channel":")");
  out.append(channel);
  out.append(R"(","client_id":"","timestamp":")");
  append_iso8601_us(out, time_us);
  out.append(R"(","sequence_num":0,"events":[)");
}

void quoted(std::string& out, int64_t units) {
  out.push_back('"');
  if (units == 0) {
    out.push_back('0');
  } else {
    append_coinbase_decimal(out, units);
  }
  out.push_back('"');
}

void trade(std::string& out, std::string_view product, const SimTrade& t, int64_t time_us) {
  out.append(R"({"trade_id":")");
  append_int(out, t.id);
  out.append(R"(","product_id":")");
  out.append(product);
  out.append(R"(","price":)");
  quoted(out, t.price);
  out.append(R"(,"size":)");
  quoted(out, t.qty);
  // The maker's side: a buyer-maker fill was a resting buy.
  out.append(t.buyer_maker ? R"(,"side":"BUY","time":")" : R"(,"side":"SELL","time":")");
  append_iso8601_us(out, time_us);
  out.append(R"("})");
}

std::string adv_error(std::string_view message) {
  std::string r = R"({"type":"error","message":)";
  append_json_string(r, message);
  return r + "}";
}

}  // namespace

void internal::append_ws_with_sequence(std::string& out, std::string_view payload, uint64_t seq) {
  constexpr std::string_view kKey = "\"sequence_num\":0";
  const size_t at = payload.find(kKey);
  if (at == std::string_view::npos) {
    append_ws_header(out, 0x1, payload.size());
    out.append(payload);
    return;
  }
  const std::string num = std::to_string(seq);
  append_ws_header(out, 0x1, payload.size() - 1 + num.size());
  out.append(payload.substr(0, at + kKey.size() - 1));
  out.append(num);
  out.append(payload.substr(at + kKey.size()));
}

void Simulator::Impl::coinbase_advanced_request(std::string_view text,
                                                const std::function<void(const CoinbaseRequest&)>& apply) {
  CoinbaseRequest req;
  auto fail = [&](std::string_view message) {
    req.replies.push_back(adv_error(message));
    std::lock_guard mk(market_mu);
    apply(req);
  };
  simdjson::dom::element doc;
  if (json.parse(text.data(), text.size()).get(doc) != simdjson::SUCCESS || !doc.is_object()) {
    return fail("failure to subscribe: malformed JSON");
  }
  std::string_view type, channel;
  if (doc["type"].get_string().get(type) != simdjson::SUCCESS || (type != "subscribe" && type != "unsubscribe")) {
    return fail("failure to subscribe: type must be subscribe or unsubscribe");
  }
  if (doc["channel"].get_string().get(channel) != simdjson::SUCCESS) return fail("failure to subscribe: no channel");
  int kind = -1;
  if (channel == "market_trades") kind = kCoinbaseAdvTrades;
  if (channel == "level2" || channel == "l2_data") kind = kCoinbaseAdvLevel2;
  if (channel == "heartbeats") kind = kCoinbaseAdvHeartbeats;
  if (kind < 0) return fail("failure to subscribe: " + std::string(channel) + " is not a served channel");
  std::vector<int> syms;
  simdjson::dom::array list;
  if (doc["product_ids"].get_array().get(list) == simdjson::SUCCESS) {
    for (auto el : list) {
      std::string_view p;
      if (el.get_string().get(p) != simdjson::SUCCESS) return fail("failure to subscribe: product_ids must be strings");
      const int sym = coinbase_symbol(p);
      if (sym < 0) return fail("failure to subscribe: " + std::string(p) + " is not a valid product");
      syms.push_back(sym);
    }
  }
  if (syms.empty()) {
    if (kind != kCoinbaseAdvHeartbeats) return fail("failure to subscribe: product_ids are required");
    for (size_t s = 0; s < coinbase_products.size(); ++s) {
      if (!coinbase_products[s].empty()) syms.push_back(static_cast<int>(s));
    }
  }
  std::lock_guard mk(market_mu);
  for (int sym : syms) {
    (type == "subscribe" ? req.add : req.remove).push_back(coinbase_stream_id(kCoinbaseExtraCode + kind, sym));
  }
  apply(req);
}

std::string Simulator::Impl::coinbase_advanced_subscriptions(const std::vector<uint8_t>& subs) const {
  std::string r;
  header(r, "subscriptions", wall_ms() * 1000);
  r += R"({"subscriptions":{)";
  bool first = true;
  for (auto [name, kind] : {std::pair<std::string_view, int>{"heartbeats", kCoinbaseAdvHeartbeats},
                            {"level2", kCoinbaseAdvLevel2},
                            {"market_trades", kCoinbaseAdvTrades}}) {
    std::string ids;
    for (size_t sym = 0; sym < coinbase_products.size(); ++sym) {
      const auto id = static_cast<size_t>(coinbase_stream_id(kCoinbaseExtraCode + kind, static_cast<int>(sym)));
      if (id >= subs.size() || !subs[id]) continue;
      if (!ids.empty()) ids.push_back(',');
      append_json_string(ids, coinbase_products[sym]);
    }
    if (ids.empty()) continue;
    if (!first) r.push_back(',');
    first = false;
    append_json_string(r, name);
    r += ":[" + ids + "]";
  }
  return r + "}}]}";
}

void Simulator::Impl::coinbase_advanced_snapshot(int kind, int symbol, std::string& out) const {
  const auto s = static_cast<size_t>(symbol);
  const std::string& product = coinbase_products[s];
  if (kind == kCoinbaseAdvTrades) {
    const auto& h = hist[s];
    header(out, "market_trades", wall_ms() * 1000);
    out.append(R"({"type":"snapshot","trades":[)");
    const size_t n = std::min(kAdvSnapshotTrades, h.trades.size());
    for (size_t k = 0; k < n; ++k) {
      const size_t i = h.trades.size() - 1 - k;  // newest first
      if (k > 0) out.push_back(',');
      trade(out, product, h.trades[i], h.kraken_us[i]);
    }
    out.append("]}]}");
    return;
  }
  const DepthSnapshot book = model->snapshot(s, static_cast<size_t>(cfg.book_levels));
  header(out, "l2_data", wall_ms() * 1000);
  out.append(R"({"type":"snapshot","product_id":")");
  out.append(product);
  out.append(R"(","updates":[)");
  bool first = true;
  for (const auto* side : {&book.bids, &book.asks}) {
    for (const PriceLevel& l : *side) {
      if (!first) out.push_back(',');
      first = false;
      out.append(side == &book.bids ? R"({"side":"bid","event_time":")" : R"({"side":"offer","event_time":")");
      append_iso8601_us(out, wall_ms() * 1000);
      out.append(R"(","price_level":)");
      quoted(out, l.price);
      out.append(R"(,"new_quantity":)");
      quoted(out, l.qty);
      out.push_back('}');
    }
  }
  out.append("]}]}");
}

void Simulator::Impl::coinbase_advanced_trades(uint32_t symbol, const std::vector<SimTrade>& trades,
                                               const std::vector<uint8_t>& skip, const std::vector<int64_t>& time_us,
                                               Batch& batch) {
  const std::string& product = coinbase_products[symbol];
  if (product.empty() || trades.empty()) return;
  const int sid = coinbase_stream_id(kCoinbaseExtraCode + kCoinbaseAdvTrades, static_cast<int>(symbol));
  if (stream_subscribers[sid].load(std::memory_order_relaxed) == 0) return;
  const size_t off = batch.buf.size();
  header(batch.buf, "market_trades", time_us.back());
  batch.buf.append(R"({"type":"update","trades":[)");
  bool any = false;
  for (size_t k = trades.size(); k-- > 0;) {  // newest first
    if (skip[k]) continue;
    if (any) batch.buf.push_back(',');
    any = true;
    trade(batch.buf, product, trades[k], time_us[k]);
  }
  if (!any) {
    batch.buf.resize(off);
    return;
  }
  batch.buf.append("]}]}");
  batch.add(static_cast<uint32_t>(sid), off);
}

// The l2_data update of a depth event (called from coinbase_book_event).
void internal::append_coinbase_adv_l2update(std::string& out, std::string_view product, const DepthDiff& d, int64_t time_us) {
  header(out, "l2_data", time_us);
  out.append(R"({"type":"update","product_id":")");
  out.append(product);
  out.append(R"(","updates":[)");
  bool first = true;
  for (const auto* side : {&d.bids, &d.asks}) {
    for (const PriceLevel& l : *side) {
      if (!first) out.push_back(',');
      first = false;
      out.append(side == &d.bids ? R"({"side":"bid","event_time":")" : R"({"side":"offer","event_time":")");
      append_iso8601_us(out, time_us);
      out.append(R"(","price_level":)");
      quoted(out, l.price);
      out.append(R"(,"new_quantity":)");
      quoted(out, l.qty);
      out.push_back('}');
    }
  }
  out.append("]}]}");
}

}  // namespace tickflow::exchange::simulator
