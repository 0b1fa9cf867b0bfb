// The simulator's Binance REST API (/api/v3/depth, aggTrades, trades, historicalTrades, ping,
// time), its control endpoints (/_sim/fault, /_sim/stats), and the in-process equivalents
// (Simulator::history(), inject_*()). Reads the history under market_mu; plain C++ (no Boost).
#include <algorithm>
#include <cctype>
#include <deque>
#include <mutex>

#include "exchange/simulator/server_impl.h"

namespace tickflow::exchange::simulator {

using namespace internal;

int Simulator::Impl::stream_id(std::string_view name) const {
  for (size_t i = 0; i < stream_names.size(); ++i) {
    if (i % kStreamKinds < kKrakenTradeStream && stream_names[i] == name) return static_cast<int>(i);
  }
  return -1;
}

int Simulator::Impl::kraken_symbol(std::string_view pair) const {
  for (size_t i = 0; i < kraken_pairs.size(); ++i) {
    if (!kraken_pairs[i].empty() && kraken_pairs[i] == pair) return static_cast<int>(i);
  }
  return -1;
}

void Simulator::Impl::on_subscribed() {
  if (!cfg.start_on_connect) return;
  {
    std::lock_guard lk(ctl_mu);
    if (market_started) return;
    market_started = true;
  }
  ctl_cv.notify_all();
}

int Simulator::Impl::symbol_index(const std::string& symbol) const {
  for (size_t i = 0; i < specs.size(); ++i) {
    if (specs[i].symbol.size() != symbol.size()) continue;
    bool same = true;
    for (size_t k = 0; k < symbol.size() && same; ++k) {
      same = specs[i].symbol[k] == std::toupper(static_cast<unsigned char>(symbol[k]));
    }
    if (same) return static_cast<int>(i);
  }
  return -1;
}

// ---- REST ----

int Simulator::Impl::symbol_of(const Target& t, RestReply& err) const {
  auto it = t.query.find("symbol");
  if (it == t.query.end() || it->second.empty()) {
    err = binance_error(400, -1102,
                        "Mandatory parameter 'symbol' was not sent, was empty/null, or malformed.");
    return -1;
  }
  for (size_t i = 0; i < specs.size(); ++i) {
    if (specs[i].symbol == it->second) return static_cast<int>(i);
  }
  err = binance_error(400, -1121, "Invalid symbol.");
  return -1;
}

namespace {
// Decrements `left` if positive; true when it did (one fault taken).
bool take_one(std::atomic<uint64_t>& left) {
  uint64_t n = left.load();
  while (n > 0 && !left.compare_exchange_weak(n, n - 1)) {
  }
  return n > 0;
}
}  // namespace

RestReply Simulator::Impl::handle_rest(std::string_view method, std::string_view target) {
  const Target t = parse_target(target);
  const bool get = method == "GET";
  if (t.path == "/_sim/fault" && (method == "POST" || get)) return rest_fault(t);
  if (t.path == "/_sim/stats" && get) return rest_stats();
  // inject_rest_limit(429, n) also limits the Kraken and Coinbase REST endpoints, each the way
  // its exchange answers (418 is Binance's alone): Kraken HTTP 200 with "EAPI:Rate limit
  // exceeded" in its error array (Kraken's error format and text), Coinbase HTTP 429 (its
  // documented status; the body text is not documented: its usual {"message":...} shape).
  const bool kraken_path = t.path.rfind("/0/public/", 0) == 0;
  const bool coinbase_path = get && t.path.rfind("/products", 0) == 0;
  if ((kraken_path || coinbase_path) && take_one(rest_429_left)) {
    if (kraken_path) return {200, R"({"error":["EAPI:Rate limit exceeded"]})"};
    return {429, R"({"message":"Too Many Requests"})"};
  }
  if (t.path == "/0/public/Trades" && (get || method == "POST")) return rest_kraken_trades(t);
  if (t.path == "/0/public/AssetPairs" && get) return rest_kraken_asset_pairs();  // kraken.cc
  if (get && (t.path == "/products" || t.path == "/products/")) return rest_coinbase_products();
  if (get && t.path.rfind("/products/", 0) == 0) return rest_coinbase_trades(t);
  if (!get) return binance_error(405, -1000, "Method not allowed.");
  if (t.path.rfind("/api/v3/", 0) == 0) {
    // The REST limit faults (Binance's texts; Retry-After in seconds).
    const bool ban = take_one(rest_418_left);
    if (ban || take_one(rest_429_left)) {
      RestReply r = binance_error(ban ? 418 : 429, -1003,
                                  ban ? "Way too much request weight used; IP banned until 1700000000000. Please use "
                                        "WebSocket Streams for live updates to avoid bans."
                                      : "Too much request weight used; current limit is 1200 request weight per 1 "
                                        "MINUTE. Please use WebSocket Streams for live updates to avoid polling the "
                                        "API.");
      r.headers.emplace_back("Retry-After", std::to_string(rest_retry_after_s.load()));
      return r;
    }
  }
  if (t.path == "/api/v3/ping") return {200, "{}"};
  if (t.path == "/api/v3/time") {
    RestReply r;
    r.body = "{\"serverTime\":";
    append_int(r.body, wall_ms());
    r.body += "}";
    return r;
  }
  if (t.path == "/api/v3/depth") return rest_depth(t);
  if (t.path == "/api/v3/exchangeInfo") return rest_exchange_info(t);
  if (t.path == "/api/v3/aggTrades") return rest_agg_trades(t);
  if (t.path == "/api/v3/trades") return rest_trades(t, false);
  if (t.path == "/api/v3/historicalTrades") return rest_trades(t, true);
  return binance_error(404, -1000, "Unknown path " + t.path);
}

RestReply Simulator::Impl::rest_depth(const Target& t) {
  RestReply err;
  const int sym = symbol_of(t, err);
  if (sym < 0) return err;
  const IntParam limit = int_param(t, "limit");
  if (limit.bad) return illegal_param("limit");
  const int64_t n = limit.present ? std::clamp<int64_t>(limit.value, 1, 5000) : 100;
  DepthSnapshot snap;
  {
    std::lock_guard mk(market_mu);
    snap = model->snapshot(static_cast<size_t>(sym), static_cast<size_t>(n));
  }
  RestReply r;
  append_depth_snapshot(r.body, snap);
  return r;
}

RestReply Simulator::Impl::rest_agg_trades(const Target& t) {
  RestReply err;
  const int sym = symbol_of(t, err);
  if (sym < 0) return err;
  const IntParam limit = int_param(t, "limit");
  const IntParam from = int_param(t, "fromId");
  const IntParam start = int_param(t, "startTime");
  const IntParam end = int_param(t, "endTime");
  if (limit.bad) return illegal_param("limit");
  if (from.bad) return illegal_param("fromId");
  if (start.bad) return illegal_param("startTime");
  if (end.bad) return illegal_param("endTime");
  if (start.present && end.present && end.value - start.value > 3'600'000) {
    return binance_error(400, -1127, "More than 1 hours between startTime and endTime.");
  }
  const size_t n = static_cast<size_t>(limit.present ? std::clamp<int64_t>(limit.value, 1, 1000) : 500);
  RestReply r;
  r.body = "[";
  std::lock_guard mk(market_mu);
  const auto& aggs = hist[sym].aggs;
  size_t begin = 0;
  if (from.present) {
    if (!aggs.empty() && from.value > aggs.front().id) {
      begin = std::min<size_t>(aggs.size(), static_cast<size_t>(from.value - aggs.front().id));
    }
  } else if (start.present) {
    begin = static_cast<size_t>(
        std::lower_bound(aggs.begin(), aggs.end(), start.value,
                         [](const SimAggTrade& a, int64_t v) { return a.time_ms < v; }) -
        aggs.begin());
  } else if (end.present) {
    const size_t stop = static_cast<size_t>(
        std::upper_bound(aggs.begin(), aggs.end(), end.value,
                         [](int64_t v, const SimAggTrade& a) { return v < a.time_ms; }) -
        aggs.begin());
    begin = stop > n ? stop - n : 0;
  } else {
    begin = aggs.size() > n ? aggs.size() - n : 0;
  }
  bool first = true;
  for (size_t i = begin, k = 0; i < aggs.size() && k < n; ++i, ++k) {
    if (end.present && aggs[i].time_ms > end.value) break;
    if (start.present && !from.present && aggs[i].time_ms < start.value) continue;
    if (!first) r.body.push_back(',');
    first = false;
    append_agg_trade_rest(r.body, aggs[i]);
  }
  r.body.push_back(']');
  return r;
}

RestReply Simulator::Impl::rest_trades(const Target& t, bool historical) {
  RestReply err;
  const int sym = symbol_of(t, err);
  if (sym < 0) return err;
  const IntParam limit = int_param(t, "limit");
  const IntParam from = int_param(t, "fromId");
  if (limit.bad) return illegal_param("limit");
  if (from.bad) return illegal_param("fromId");
  const size_t n = static_cast<size_t>(limit.present ? std::clamp<int64_t>(limit.value, 1, 1000) : 500);
  RestReply r;
  r.body = "[";
  std::lock_guard mk(market_mu);
  const auto& trades = hist[sym].trades;
  size_t begin = trades.size() > n ? trades.size() - n : 0;
  if (historical && from.present) {
    begin = 0;
    if (!trades.empty() && from.value > trades.front().id) {
      begin = std::min<size_t>(trades.size(), static_cast<size_t>(from.value - trades.front().id));
    }
  }
  for (size_t i = begin, k = 0; i < trades.size() && k < n; ++i, ++k) {
    if (k) r.body.push_back(',');
    append_trade_rest(r.body, trades[i]);
  }
  r.body.push_back(']');
  return r;
}

// Kraken GET /0/public/Trades?pair=XBTUSD&since=NS&count=N (docs.kraken.com "Get Recent
// Trades"): {"error":[],"result":{"XXBTZUSD":[[price,volume,time,side,type,misc,trade_id],..],
// "last":"<ns>"}}. `since` is exclusive, in nanoseconds (the previous reply's "last"), or in
// seconds when below 1e12; without it, the newest `count`. count: default and max 1000.
// `pair` may be "XBTUSD", "XBT/USD" or the result key "XXBTZUSD". Errors are HTTP 200 with
// {"error":["EQuery:Unknown asset pair"]} / ["EGeneral:Invalid arguments"], as Kraken answers.
RestReply Simulator::Impl::rest_kraken_trades(const Target& t) {
  auto kerror = [](std::string_view msg) {
    RestReply r;
    r.body = "{\"error\":[";
    append_json_string(r.body, msg);
    r.body += "]}";
    return r;
  };
  auto it = t.query.find("pair");
  if (it == t.query.end() || it->second.empty()) return kerror("EGeneral:Invalid arguments");
  int sym = -1;
  for (size_t i = 0; i < kraken_pairs.size() && sym < 0; ++i) {
    const std::string& p = kraken_pairs[i];
    if (p.empty()) continue;
    std::string plain = p;
    plain.erase(plain.find('/'), 1);
    if (it->second == p || it->second == plain || it->second == kraken_rest_pair_key(p)) sym = static_cast<int>(i);
  }
  if (sym < 0) return kerror("EQuery:Unknown asset pair");
  const IntParam since = int_param(t, "since");
  const IntParam count = int_param(t, "count");
  if (since.bad || count.bad) return kerror("EGeneral:Invalid arguments");
  const size_t n = static_cast<size_t>(count.present ? std::clamp<int64_t>(count.value, 1, 1000) : 1000);
  int64_t since_ns = since.value;
  if (since.present && since_ns < 1'000'000'000'000) since_ns *= 1'000'000'000;
  const int decimals = kraken_price_decimals(specs[sym]);
  RestReply r;
  r.body = "{\"error\":[],\"result\":{";
  append_json_string(r.body, kraken_rest_pair_key(kraken_pairs[sym]));
  r.body += ":[";
  std::lock_guard mk(market_mu);
  const auto& trades = hist[sym].trades;
  const auto& us = hist[sym].kraken_us;
  size_t begin = trades.size() > n ? trades.size() - n : 0;
  if (since.present) {
    // First trade with time_ns > since (time_ns = µs * 1000).
    begin = static_cast<size_t>(std::upper_bound(us.begin(), us.end(), since_ns,
                                                 [](int64_t v, int64_t u) { return v < u * 1000; }) -
                                us.begin());
  }
  int64_t last_ns = since.present ? since_ns : 0;
  for (size_t i = begin, k = 0; i < trades.size() && k < n; ++i, ++k) {
    if (k) r.body.push_back(',');
    append_kraken_trade_rest(r.body, trades[i], us[i], decimals);
    last_ns = us[i] * 1000;
  }
  r.body += "],\"last\":\"";
  append_int(r.body, last_ns);
  r.body += "\"}}";
  return r;
}

RestReply Simulator::Impl::rest_fault(const Target& t) {
  int sym = -1;
  if (t.query.count("symbol")) {
    RestReply err;
    sym = symbol_of(t, err);
    if (sym < 0) return err;
  }
  bool any = false;
  int64_t pct = 10;
  if (t.query.count("pct")) {
    const IntParam p = int_param(t, "pct");
    if (p.bad || p.value < 1 || p.value > 1000) return illegal_param("pct");
    pct = p.value;
  }
  for (const char* name :
       {"drop", "drop_every", "stall_ms", "stall_pongs_ms", "kraken_bad_checksum", "kraken_drop_update", "malformed", "skip_ids", "late_ms", "duplicate", "outlier", "skip_depth",
        "rest_429", "rest_418"}) {
    const IntParam p = int_param(t, name);
    if (p.bad) return illegal_param(name);
    if (!p.present) continue;
    any = true;
    const std::string_view n = name;
    if (n == "drop") {
      if (p.value > 0) drop_all();
    } else if (n == "drop_every") {
      drop_every.store(static_cast<uint64_t>(p.value));
    } else if (n == "stall_pongs_ms") {
      stall_pongs(p.value);
    } else if (n == "kraken_bad_checksum") {
      kraken_bad_checksum_left.fetch_add(static_cast<uint64_t>(p.value), std::memory_order_relaxed);
    } else if (n == "kraken_drop_update") {
      kraken_drop_update_left.fetch_add(static_cast<uint64_t>(p.value), std::memory_order_relaxed);
    } else {
      std::lock_guard lk(ctl_mu);
      if (n == "stall_ms") ctl_stall_ms = std::max(ctl_stall_ms, p.value);
      if (n == "malformed") {
        auto k = t.query.find("kind");
        MalformedKind kind = MalformedKind::kTruncated;
        if (k != t.query.end() && k->second == "bad_price") kind = MalformedKind::kBadPrice;
        if (k != t.query.end() && k->second == "zero_price") kind = MalformedKind::kZeroPrice;
        ctl_malformed.insert(ctl_malformed.end(), static_cast<size_t>(std::min<int64_t>(p.value, 1'000'000)), kind);
      }
      if (n == "skip_ids") ctl_skip.emplace_back(sym, static_cast<uint64_t>(p.value));
      if (n == "late_ms") ctl_late.emplace_back(sym, p.value);
      if (n == "duplicate") ctl_duplicate.emplace_back(sym, static_cast<uint64_t>(p.value));
      if (n == "outlier") ctl_outlier.emplace_back(sym, static_cast<uint64_t>(p.value), pct);
      if (n == "skip_depth") ctl_skip_depth.emplace_back(sym, static_cast<uint64_t>(p.value));
      if (n == "rest_429" || n == "rest_418") {
        const IntParam ra = int_param(t, "retry_after");
        rest_retry_after_s.store(ra.present && !ra.bad && ra.value >= 0 ? ra.value : 1);
        (n == "rest_418" ? rest_418_left : rest_429_left).fetch_add(static_cast<uint64_t>(p.value));
      }
    }
  }
  if (!any) {
    return binance_error(400, -1102,
                         "one of drop, drop_every, stall_ms, stall_pongs_ms, kraken_bad_checksum, kraken_drop_update, malformed, skip_ids, late_ms, duplicate, outlier, skip_depth, rest_429, "
                         "rest_418 is "
                         "required");
  }
  signal_control();
  return {200, "{\"ok\":true}"};
}

RestReply Simulator::Impl::rest_stats() {
  RestReply r;
  auto add = [&](const char* k, uint64_t v, bool first = false) {
    if (!first) r.body += ',';
    r.body += '"';
    r.body += k;
    r.body += "\":";
    append_int(r.body, static_cast<int64_t>(v));
  };
  r.body = "{";
  add("messages_sent", messages_sent.load(), true);
  add("bytes_sent", bytes_sent.load());
  add("trades_generated", trades_generated.load());
  add("agg_trades_generated", aggs_generated.load());
  add("depth_updates_generated", depth_generated.load());
  add("clients", clients.load());
  add("connections_total", connections_total.load());
  add("connections_dropped", connections_dropped.load());
  add("rest_requests", rest_requests.load());
  add("pings_received", pings_received.load());
  add("pongs_withheld", pongs_withheld.load());
  add("sequence_gaps_made", sequence_gaps_made.load());
  r.body += ",\"market_ended\":";
  r.body += ended.load() ? "true" : "false";
  r.body += "}";
  return r;
}

template <typename T>
std::vector<T> copy_of(const std::deque<T>& d) {
  return std::vector<T>(d.begin(), d.end());
}

std::vector<SimTrade> Simulator::history(const std::string& symbol) const {
  std::lock_guard mk(impl_->market_mu);
  if (!impl_->model) return {};
  const int i = impl_->model->symbol_index(symbol);
  return i < 0 ? std::vector<SimTrade>{} : copy_of(impl_->hist[i].trades);
}

std::vector<SimAggTrade> Simulator::agg_history(const std::string& symbol) const {
  std::lock_guard mk(impl_->market_mu);
  if (!impl_->model) return {};
  const int i = impl_->model->symbol_index(symbol);
  return i < 0 ? std::vector<SimAggTrade>{} : copy_of(impl_->hist[i].aggs);
}

std::vector<int64_t> Simulator::skipped_trade_ids(const std::string& symbol) const {
  std::lock_guard mk(impl_->market_mu);
  if (!impl_->model) return {};
  const int i = impl_->model->symbol_index(symbol);
  return i < 0 ? std::vector<int64_t>{} : impl_->hist[i].skipped;
}

std::vector<SimKrakenTrade> Simulator::kraken_history(const std::string& symbol) const {
  std::lock_guard mk(impl_->market_mu);
  std::vector<SimKrakenTrade> out;
  if (!impl_->model) return out;
  const int i = impl_->model->symbol_index(symbol);
  if (i < 0) return out;
  const auto& h = impl_->hist[i];
  out.reserve(h.trades.size());
  for (size_t k = 0; k < h.trades.size(); ++k) out.push_back({h.trades[k], h.kraken_us[k]});
  return out;
}

void Simulator::inject_drop() { impl_->drop_all(); }
void Simulator::inject_drop_every(uint64_t n) { impl_->drop_every.store(n); }

void Simulator::Impl::stall_pongs(int64_t ms) {
  const int64_t until = std::chrono::duration_cast<std::chrono::nanoseconds>(
                            std::chrono::steady_clock::now().time_since_epoch() + std::chrono::milliseconds(ms))
                            .count();
  int64_t cur = pongs_stalled_until_ns.load();
  while (cur < until && !pongs_stalled_until_ns.compare_exchange_weak(cur, until)) {
  }
}

bool Simulator::Impl::pongs_stalled() const {
  const int64_t now =
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch()).count();
  return now < pongs_stalled_until_ns.load(std::memory_order_relaxed);
}

void Simulator::inject_stall_pongs(int64_t ms) { impl_->stall_pongs(ms); }

void Simulator::inject_stall(int64_t ms) {
  {
    std::lock_guard lk(impl_->ctl_mu);
    impl_->ctl_stall_ms = std::max(impl_->ctl_stall_ms, ms);
  }
  impl_->signal_control();
}

void Simulator::inject_malformed(uint64_t n, MalformedKind kind) {
  {
    std::lock_guard lk(impl_->ctl_mu);
    impl_->ctl_malformed.insert(impl_->ctl_malformed.end(), static_cast<size_t>(std::min<uint64_t>(n, 1'000'000)), kind);
  }
  impl_->signal_control();
}

void Simulator::inject_skip(uint64_t n, const std::string& symbol) {
  const int sym = symbol.empty() ? -1 : impl_->symbol_index(symbol);
  {
    std::lock_guard lk(impl_->ctl_mu);
    impl_->ctl_skip.emplace_back(sym, n);
  }
  impl_->signal_control();
}

void Simulator::inject_duplicate(uint64_t n, const std::string& symbol) {
  const int sym = symbol.empty() ? -1 : impl_->symbol_index(symbol);
  {
    std::lock_guard lk(impl_->ctl_mu);
    impl_->ctl_duplicate.emplace_back(sym, n);
  }
  impl_->signal_control();
}

void Simulator::inject_outlier(uint64_t n, int64_t pct, const std::string& symbol) {
  const int sym = symbol.empty() ? -1 : impl_->symbol_index(symbol);
  {
    std::lock_guard lk(impl_->ctl_mu);
    impl_->ctl_outlier.emplace_back(sym, n, pct);
  }
  impl_->signal_control();
}

void Simulator::inject_rest_limit(int status, uint64_t n, int64_t retry_after_s) {
  impl_->rest_retry_after_s.store(retry_after_s);
  (status == 418 ? impl_->rest_418_left : impl_->rest_429_left).fetch_add(n);
}

void Simulator::inject_skip_depth(uint64_t n, const std::string& symbol) {
  const int sym = symbol.empty() ? -1 : impl_->symbol_index(symbol);
  {
    std::lock_guard lk(impl_->ctl_mu);
    impl_->ctl_skip_depth.emplace_back(sym, n);
  }
  impl_->signal_control();
}

void Simulator::inject_late(int64_t ms, const std::string& symbol) {
  const int sym = symbol.empty() ? -1 : impl_->symbol_index(symbol);
  {
    std::lock_guard lk(impl_->ctl_mu);
    impl_->ctl_late.emplace_back(sym, ms);
  }
  impl_->signal_control();
}

}  // namespace tickflow::exchange::simulator
