// Coinbase Exchange collector (collector.h): config, subscribe message, the worker's frame
// handling, gap detection and REST backfill (the level2 books: collector_book.cc). The connect
// loop, read loop, bus output, metrics and REST retries are the collectors' shared parts
// (exchange/collector/).
#include "exchange/coinbase/collector.h"

#include <algorithm>
#include <limits>
#include <mutex>
#include <thread>

#include <spdlog/spdlog.h>

#include "core/symbol.h"
#include "exchange/coinbase/advanced_auth.h"
#include "exchange/coinbase/auth.h"
#include "exchange/coinbase/collector_worker.h"
#include "exchange/coinbase/products.h"
#include "exchange/coinbase/rest.h"

namespace tickflow::exchange::coinbase {

namespace detail {

void append_json_string(std::string& out, std::string_view s) {
  out.push_back('"');
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(c);
    } else if (static_cast<unsigned char>(c) >= 0x20) {
      out.push_back(c);
    }
  }
  out.push_back('"');
}

// Bounded label values of tickflow_collector_messages_total{exchange="coinbase",kind}: the
// parser's MessageKind names, in enum order.
std::vector<std::string_view> kind_names() {
  std::vector<std::string_view> out;
  for (int k = 0; k <= static_cast<int>(MessageKind::kError); ++k) {
    out.push_back(message_kind_name(static_cast<MessageKind>(k)));
  }
  return out;
}

bool has_credentials(const CollectorConfig& c) {
  return !c.api_key.empty() && !c.api_secret.empty() && !c.api_passphrase.empty();
}

bool has_advanced_credentials(const CollectorConfig& c) {
  return !c.advanced_key_name.empty() && !c.advanced_private_key.empty();
}

}  // namespace detail

namespace {

std::string trim_trailing_slash(std::string_view s) {
  while (!s.empty() && s.back() == '/') s.remove_suffix(1);
  return std::string(s);
}

Result<std::vector<std::string>> resolve(const CollectorConfig& config) {
  std::vector<std::string> out;
  for (size_t i = 0; i < config.symbols.size(); ++i) {
    auto unified = normalize_symbol(Exchange::kCoinbase, config.symbols[i]);
    if (!unified) {
      return Status::invalid_argument("collector.coinbase.symbols[" + std::to_string(i) +
                                      "]: " + unified.status().message());
    }
    if (std::find(out.begin(), out.end(), *unified) == out.end()) out.push_back(*unified);
  }
  if (out.empty()) return Status::invalid_argument("collector.coinbase.symbols: at least one symbol is required");
  return out;
}

// The signature fields of a subscribe message (credentials configured).
Status append_signature(std::string& m, const CollectorConfig& config, std::string_view timestamp) {
  auto sig = subscription_signature(config.api_secret, timestamp);
  if (!sig) return sig.status();
  m += R"(,"signature":)";
  append_json_string(m, *sig);
  m += R"(,"key":)";
  append_json_string(m, config.api_key);
  m += R"(,"passphrase":)";
  append_json_string(m, config.api_passphrase);
  m += R"(,"timestamp":)";
  append_json_string(m, timestamp);
  return Status::ok();
}

}  // namespace

namespace {

// {"type":..,"product_ids":[..],"channel":..(,"jwt":..)}: Advanced Trade, one channel per message.
Result<std::string> advanced_message(const CollectorConfig& config, std::string_view type,
                                     const std::vector<std::string>& products, std::string_view channel,
                                     int64_t now_sec) {
  std::string m = R"({"type":)";
  append_json_string(m, type);
  m += R"(,"product_ids":[)";
  for (size_t i = 0; i < products.size(); ++i) {
    if (i > 0) m += ',';
    append_json_string(m, products[i]);
  }
  m += R"(],"channel":)";
  append_json_string(m, channel);
  if (has_advanced_credentials(config)) {
    // A fresh JWT per message (the docs: they expire after 2 minutes).
    auto jwt = advanced_jwt(config.advanced_key_name, config.advanced_private_key, now_sec, random_nonce());
    if (!jwt) return jwt.status();
    m += R"(,"jwt":)";
    append_json_string(m, *jwt);
  }
  m += '}';
  return m;
}

}  // namespace

Result<std::vector<std::string>> advanced_subscribe_messages(const CollectorConfig& config, int64_t now_sec) {
  auto products = resolve(config);
  if (!products) return products.status();
  std::vector<std::string> out;
  std::vector<std::string_view> channels = {"heartbeats", "market_trades"};
  if (config.book) channels.push_back("level2");
  for (std::string_view ch : channels) {
    auto m = advanced_message(config, "subscribe", *products, ch, now_sec);
    if (!m) return m.status();
    out.push_back(std::move(*m));
  }
  return out;
}

Result<std::string> detail::channel_message(const CollectorConfig& config, std::string_view type,
                                            std::string_view product, std::string_view channel,
                                            std::string_view timestamp) {
  if (config.feed == "advanced") {
    int64_t now = 0;
    for (char c : timestamp) now = now * 10 + (c - '0');
    return advanced_message(config, type, {std::string(product)}, channel, now);
  }
  std::string m = R"({"type":)";
  append_json_string(m, type);
  m += R"(,"product_ids":[)";
  append_json_string(m, product);
  m += R"(],"channels":[)";
  append_json_string(m, channel);
  m += ']';
  if (has_credentials(config)) TICKFLOW_RETURN_IF_ERROR(append_signature(m, config, timestamp));
  m += '}';
  return m;
}

Status validate(const CollectorConfig& config) {
  auto products = resolve(config);
  if (!products) return products.status();
  if (config.feed != "exchange" && config.feed != "advanced") {
    return Status::invalid_argument("collector.coinbase.feed: must be \"exchange\" or \"advanced\", got \"" +
                                    config.feed + "\"");
  }
  const bool adv = config.feed == "advanced";
  if (adv && config.advanced_key_name.empty() != config.advanced_private_key.empty()) {
    return Status::invalid_argument("collector.coinbase: advanced_key_name and advanced_private_key go together");
  }
  if (adv && has_advanced_credentials(config)) {
    if (auto jwt = advanced_jwt(config.advanced_key_name, config.advanced_private_key, 0, "0"); !jwt) {
      return Status::invalid_argument("collector.coinbase.advanced_private_key: " + jwt.status().message());
    }
  }
  auto ws = transport::parse_url(config.ws_url);
  if (!ws) return Status::invalid_argument("collector.coinbase.ws_url: " + ws.status().message());
  if (!ws->websocket()) return Status::invalid_argument("collector.coinbase.ws_url: must be ws:// or wss://");
  auto rest = transport::parse_url(config.rest_url);
  if (!rest) return Status::invalid_argument("collector.coinbase.rest_url: " + rest.status().message());
  if (rest->websocket()) return Status::invalid_argument("collector.coinbase.rest_url: must be http:// or https://");
  bool matches = false;
  for (size_t i = 0; i < config.channels.size(); ++i) {
    const std::string& ch = config.channels[i];
    if (ch != "matches" && ch != "heartbeat" && ch != "ticker") {
      return Status::invalid_argument("collector.coinbase.channels[" + std::to_string(i) +
                                      "]: must be \"matches\", \"heartbeat\" or \"ticker\", got \"" + ch + "\"");
    }
    matches = matches || ch == "matches";
  }
  if (!matches) return Status::invalid_argument("collector.coinbase.channels: \"matches\" is required (the trades)");
  const int creds = !config.api_key.empty() + !config.api_secret.empty() + !config.api_passphrase.empty();
  if (creds != 0 && creds != 3) {
    return Status::invalid_argument("collector.coinbase: api_key, api_secret and api_passphrase go together");
  }
  if (creds == 3) {
    if (auto key = base64_decode(config.api_secret); !key) {
      return Status::invalid_argument("collector.coinbase.api_secret: " + key.status().message());
    }
  }
  if (config.connect_timeout <= 0 || config.stale_timeout <= 0 || config.http_timeout <= 0) {
    return Status::invalid_argument("collector.coinbase: connect_timeout, stale_timeout and http_timeout must be > 0");
  }
  if (config.backfill_limit < 1 || config.backfill_limit > 1000) {
    return Status::invalid_argument("collector.coinbase.backfill_limit must be 1..1000");
  }
  if (config.max_batch_frames == 0) return Status::invalid_argument("collector.coinbase.max_batch_frames must be > 0");
  if (config.book) {
    if (config.level2_channel != "level2_batch" && config.level2_channel != "level2") {
      return Status::invalid_argument("collector.coinbase.level2_channel: must be \"level2_batch\" or \"level2\", got \"" +
                                      config.level2_channel + "\"");
    }
    if (!adv && config.level2_channel == "level2" && creds != 3) {
      return Status::invalid_argument(
          "collector.coinbase.level2_channel: Coinbase requires an authenticated subscription for \"level2\" "
          "(set api_key, api_secret and api_passphrase, or use \"level2_batch\")");
    }
  }
  return Status::ok();
}

Result<std::string> subscribe_message(const CollectorConfig& config, std::string_view timestamp) {
  auto products = resolve(config);
  if (!products) return products.status();
  std::string m = R"({"type":"subscribe","product_ids":[)";
  for (size_t i = 0; i < products->size(); ++i) {
    if (i > 0) m += ',';
    append_json_string(m, (*products)[i]);
  }
  m += R"(],"channels":[)";
  for (size_t i = 0; i < config.channels.size(); ++i) {
    if (i > 0) m += ',';
    append_json_string(m, config.channels[i]);
  }
  if (config.book) {
    if (!config.channels.empty()) m += ',';
    append_json_string(m, config.level2_channel);
  }
  m += ']';
  if (has_credentials(config)) TICKFLOW_RETURN_IF_ERROR(append_signature(m, config, timestamp));
  m += '}';
  return m;
}

Status Collector::Worker::start() {
  std::lock_guard lk(lifecycle_mu_);
  if (started_) return Status(ErrorCode::kAlreadyExists, "collector.coinbase already started");
  TICKFLOW_RETURN_IF_ERROR(validate(config_));
  ws_target_ = *transport::parse_url(config_.ws_url);
  rest_base_ = trim_trailing_slash(config_.rest_url);
  auto ids = resolve(config_);
  if (config_.resolve_products) {
    // The instrument list: unknown / not-trading products are a clear error, never a silent feed.
    auto res = rest_.get(rest_base_ + "/products");
    Result<std::vector<collector::Instrument>> list =
        res ? parse_products(res->body) : Result<std::vector<collector::Instrument>>(res.status());
    if (!list) {
      spdlog::warn("collector.coinbase: instrument list unavailable ({}); subscribing the products as configured",
                   list.status().message());
    } else {
      auto resolved = collector::InstrumentMap(std::move(*list)).resolve(kExchange, *ids);
      if (!resolved) {
        health_.set(HealthState::kDown, resolved.status().message());
        return Status::invalid_argument("collector.coinbase.symbols: " + resolved.status().message());
      }
      ids->clear();
      for (const auto& in : *resolved) ids->push_back(in.exchange_symbol);
      instruments_ = std::move(*resolved);
    }
  }
  TICKFLOW_RETURN_IF_ERROR(out_.create_topics());
  for (const auto& id : *ids) {
    auto series = out_.add_series(instrument_key(Exchange::kCoinbase, id), id);
    if (!series) return series.status();
    Product p;
    p.id = id;
    p.series = *series;
    products_.push_back(std::move(p));
  }
  if (config_.book) {
    books_ = std::make_unique<collector::BookOutput>(kExchange, out_, clock_, config_.book_output);
    for (auto& p : products_) p.book_output = books_->add_book(p.id, p.id);
  }
  started_ = true;
  health_.set(HealthState::kDegraded, "connecting");
  thread_ = std::thread([this] { run(); });
  return Status::ok();
}

void Collector::Worker::stop() {
  std::lock_guard lk(lifecycle_mu_);
  control_.request_stop();
  if (ws_) ws_->close();
  if (thread_.joinable()) thread_.join();
  if (!halted_.load()) health_.set(HealthState::kDown, "stopped");
}

Collector::Stats Collector::Worker::stats() const {
  Stats s;
  s.frames = st_.frames.load();
  s.trades_published = out_.published();
  s.backfilled = st_.backfilled.load();
  s.duplicates_dropped = st_.duplicates_dropped.load();
  s.tickers = st_.tickers.load();
  s.ignored = st_.ignored.load();
  s.rejected = out_.rejected();
  s.exchange_errors = st_.exchange_errors.load();
  s.connects = counters_.connects.load();
  s.reconnects = counters_.reconnects.load();
  s.gaps = st_.gaps.load();
  s.unfilled_gaps = st_.unfilled_gaps.load();
  s.sequence_regressions = st_.sequence_regressions.load();
  s.sequence_gaps = st_.sequence_gaps.load();
  s.http_rate_limited = rest_.rate_limited();
  s.publish_errors = out_.publish_errors();
  s.commits = out_.commits();
  s.book_snapshots = st_.book_snapshots.load();
  s.book_updates = st_.book_updates.load();
  s.book_updates_dropped = st_.book_updates_dropped.load();
  s.book_resyncs = st_.book_resyncs.load();
  s.crossed_books = st_.crossed_books.load();
  if (books_) {
    std::lock_guard lk(books_mu_);
    s.book_published = books_->snapshots();
  }
  return s;
}

void Collector::Worker::run() {
  collector::ConnectionHooks hooks;
  hooks.connect = [this]() -> Status {
    TICKFLOW_RETURN_IF_ERROR(ws_->connect(ws_target_, config_.connect_timeout));
    if (advanced()) {
      auto subs = advanced_subscribe_messages(config_, clock_.now_ns() / kNsPerSec);
      if (!subs) return subs.status();
      for (const auto& m : *subs) TICKFLOW_RETURN_IF_ERROR(ws_->send_text(m));
      return Status::ok();
    }
    auto sub = subscribe_message(config_, std::to_string(clock_.now_ns() / kNsPerSec));
    if (!sub) return sub.status();
    return ws_->send_text(*sub);
  };
  hooks.session = [this] { return run_session(); };
  hooks.session_frames = [this] { return frames_this_session_; };
  const bool halted = collector::run_connection_loop(kComponent, ws_target_.to_string(), config_.backoff, control_,
                                                     health_, probe_, counters_, hooks);
  if (halted) halted_.store(true);
  out_.drop_batch();
}

SessionEnd Collector::Worker::run_session() {
  frames_this_session_ = 0;
  sequences_.clear();  // a new connection may start its sequences anywhere
  last_sequence_num_ = -1;
  for (auto& p : products_) {
    p.needs_backfill = last_id(p) != kNoId;
    sync_tracker(p);
  }
  reset_books_for_session();
  return collector::read_frames(
      kComponent, *ws_, control_, config_.stale_timeout, config_.max_batch_frames,
      [this](std::string_view frame) {
        const bool go_on = process(frame);
        st_.frames.fetch_add(1, std::memory_order_release);  // after its effects:
        return go_on;  // whoever sees the count sees the book, stats and health it made (records: at commit)
      },
      [this]() -> std::optional<SessionEnd> {
        if (!end_) end_on(out_.flush_async());  // pipelined: up to 4 batches in flight
        std::optional<SessionEnd> e = end_;
        end_.reset();
        return e;
      });
}

bool Collector::Worker::process(std::string_view frame) {
  if (advanced()) return process_advanced(frame);
  ++frames_this_session_;
  const TimestampNs recv = clock_.now_ns();
  Status st = parser_.parse(frame, recv, parsed_);
  if (!st) {
    probe_.invalid();
    const std::string_view reason = parser_.error_reason();
    out_.reject(reason.empty() ? "malformed" : reason, st.message(), frame, recv);
    return !end_;
  }
  probe_.message(static_cast<size_t>(parsed_.kind));
  Product* p = parsed_.product_id.empty() ? nullptr : find(parsed_.product_id);
  switch (parsed_.kind) {
    case MessageKind::kMatch:
    case MessageKind::kLastMatch:
      if (p == nullptr) {
        out_.reject("unknown_symbol", "trade for unsubscribed product " + parsed_.product_id, frame, recv);
      } else {
        on_trade(*p, frame);
      }
      return !end_;
    case MessageKind::kHeartbeat:
      if (p != nullptr) on_heartbeat(*p);
      break;
    case MessageKind::kTicker:
      st_.tickers.fetch_add(1, std::memory_order_relaxed);  // never a trade: the match is
      break;
    case MessageKind::kSubscriptions:
      // From here on every product streams live: repair the reconnect holes before reading on.
      for (auto& q : products_) {
        if (!q.needs_backfill || end_) continue;
        q.needs_backfill = false;
        backfill(q, kUnbounded);
      }
      break;
    case MessageKind::kError:
      spdlog::error("collector.coinbase: Coinbase error: {} ({})", parsed_.error_message, parsed_.error_reason);
      health_.set(HealthState::kDegraded, "coinbase: " + parsed_.error_message +
                                              (parsed_.error_reason.empty() ? "" : ": " + parsed_.error_reason));
      st_.exchange_errors.fetch_add(1);  // after the health: whoever sees the count sees the health
      break;
    case MessageKind::kSnapshot:
    case MessageKind::kL2Update:
      if (p != nullptr && books_) {
        on_level2(*p, frame, recv);
        return !end_;
      }
      break;
  }
  st_.ignored.fetch_add(1, std::memory_order_relaxed);
  return !end_;
}

void Collector::Worker::on_trade(Product& p, std::string_view frame) {
  Trade& t = parsed_.trade;
  if (t.ts_event > 0) probe_.feed_lag(t.ts_recv - t.ts_event);
  if (parsed_.sequence >= 0 && sequences_.observe(p.id, parsed_.sequence).verdict == SeqVerdict::kStale) {
    st_.sequence_regressions.fetch_add(1, std::memory_order_relaxed);
  }
  const int64_t last = last_id(p);
  if (last != kNoId && t.trade_id <= last) {
    st_.duplicates_dropped.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  // A rejected trade leaves the last id where it was: the next trade reveals the hole and the
  // REST backfill fetches Coinbase's own record of it.
  if (!out_.accept(t, frame)) return;
  sync_tracker(p);
  const SeqCheck c = trade_ids_.observe(p.id, t.trade_id);
  if (c.verdict == SeqVerdict::kJump) {
    st_.gaps.fetch_add(1, std::memory_order_relaxed);
    probe_.gap();
    spdlog::info("collector.coinbase: {} trade id gap {}..{}; backfilling", p.id, c.missing_from, c.missing_to);
    backfill(p, t.trade_id);
    if (end_) return;
  }
  out_.publish(p.series, t);
}

void Collector::Worker::on_heartbeat(Product& p) {
  // last_trade_id ahead of the last id seen: trades were missed (0: unknown, ignored). Before
  // any trade of the product there is nothing to compare with.
  if (last_id(p) == kNoId || parsed_.last_trade_id <= last_id(p)) return;
  sync_tracker(p);
  const SeqCheck c = trade_ids_.expect_at_least(p.id, parsed_.last_trade_id);
  if (c.verdict != SeqVerdict::kJump) return;
  st_.gaps.fetch_add(1, std::memory_order_relaxed);
  probe_.gap();
  spdlog::info("collector.coinbase: {} heartbeat last_trade_id {} ahead of {}; backfilling", p.id,
               parsed_.last_trade_id, c.missing_from - 1);
  backfill(p, parsed_.last_trade_id + 1);
}

void Collector::Worker::backfill(Product& p, int64_t until) {
  const int64_t from = last_id(p) + 1;  // first id wanted
  hole_.clear();
  bool complete = false;
  std::string cursor = until == kUnbounded ? std::string() : std::to_string(until);
  for (int page = 0; page < config_.max_backfill_pages && !control_.stopping(); ++page) {
    std::string url = rest_base_ + "/products/" + p.id + "/trades?limit=" + std::to_string(config_.backfill_limit);
    if (!cursor.empty()) url += "&after=" + cursor;
    auto res = rest_.get(url);
    if (!res) {
      spdlog::error("collector.coinbase: backfill of {} ids {}.. failed: {}", p.id, from, res.status().message());
      if (res.status().code() == ErrorCode::kInvalidArgument) {
        health_.set(HealthState::kDegraded, "coinbase REST: " + res.status().message());
      }
      break;
    }
    page_.clear();
    const TimestampNs recv = clock_.now_ns();
    if (Status st = parse_rest_trades(res->body, p.id, recv, page_); !st) {
      out_.reject("bad_rest_response", st.message(), res->body, recv);
      break;
    }
    if (page_.empty()) {
      complete = true;  // nothing older exists
      break;
    }
    int64_t oldest = kUnbounded;
    for (const Trade& t : page_) {
      oldest = std::min(oldest, t.trade_id);
      if (t.trade_id >= from && t.trade_id < until) hole_.push_back(t);
    }
    if (oldest <= from || page_.size() < static_cast<size_t>(config_.backfill_limit)) {
      complete = true;  // reached the hole's start, or nothing older exists
      break;
    }
    // The next (older) page: Coinbase's CB-AFTER cursor, which for trades is the oldest id.
    const std::string_view after = res->header("CB-AFTER");
    cursor = after.empty() ? std::to_string(oldest) : std::string(after);
  }
  std::sort(hole_.begin(), hole_.end(), [](const Trade& a, const Trade& b) { return a.trade_id < b.trade_id; });
  size_t published = 0;
  for (const Trade& t : hole_) {
    if (t.trade_id <= last_id(p)) continue;  // overlapping pages
    if (!out_.accept(t, {})) continue;        // dead-lettered: Coinbase's own record is wrong
    out_.publish(p.series, t);
    ++published;
  }
  st_.backfilled.fetch_add(published, std::memory_order_relaxed);
  probe_.backfilled(published);
  if (published > 0) {
    spdlog::info("collector.coinbase: {} backfilled {} trades from REST (ids {}..{})", p.id, published, from,
                 last_id(p));
  }
  // A bounded hole is closed when every id below `until` is published; REST may not (yet) have
  // them all.
  if (until != kUnbounded) complete = complete && last_id(p) >= until - 1;
  if (!complete) {
    st_.unfilled_gaps.fetch_add(1);
    spdlog::warn("collector.coinbase: {} hole after id {} not fully backfilled", p.id, from - 1);
  }
  sync_tracker(p);
  end_on(out_.flush());
}

Collector::Collector(CollectorConfig config, bus::EventBus& bus, const Clock& clock)
    : Collector(std::move(config), bus, clock, transport::make_ws_connection(), transport::make_http_client()) {}

namespace {
CollectorConfig with_defaults(CollectorConfig c) {
  if (c.feed == "advanced" && c.ws_url == CollectorConfig{}.ws_url) c.ws_url = std::string(kAdvancedWsUrl);
  return c;
}
}  // namespace

Collector::Collector(CollectorConfig config, bus::EventBus& bus, const Clock& clock,
                     std::unique_ptr<transport::WsConnection> ws, std::unique_ptr<transport::HttpClient> http)
    : worker_(std::make_unique<Worker>(with_defaults(std::move(config)), bus, clock, std::move(ws), std::move(http))) {}

Collector::~Collector() { stop(); }
Status Collector::start() { return worker_->start(); }
void Collector::stop() { worker_->stop(); }
ComponentHealth Collector::health() const { return worker_->health(); }
Collector::Stats Collector::stats() const { return worker_->stats(); }
std::vector<collector::Instrument> Collector::instruments() const { return worker_->instruments(); }
Result<book::BookTop> Collector::book_top(std::string_view product, size_t depth) const {
  return worker_->book_top(product, depth);
}

}  // namespace tickflow::exchange::coinbase
