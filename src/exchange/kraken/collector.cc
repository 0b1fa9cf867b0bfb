// Kraken v1 collector (collector.h): config, metrics probe, the worker's connect loop, frame
// handling, REST backfill of reconnect holes, batching and commit. Same shape as the Binance
// collector (binance/collector_*.cc), by composition: backoff.h, transport/, quality validator.
#include "exchange/kraken/collector.h"

#include <algorithm>
#include <array>
#include <atomic>
#include <charconv>
#include <chrono>
#include <condition_variable>
#include <limits>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>

#include <spdlog/spdlog.h>

#include "core/codec.h"
#include "core/symbol.h"
#include "core/topics.h"
#include "exchange/kraken/parse.h"
#include "exchange/kraken/rest.h"
#include "observability/metrics.h"

namespace tickflow::exchange::kraken {

namespace {

constexpr std::string_view kExchange = "kraken";
constexpr std::string_view kStateNs = "collector.kraken";
constexpr std::string_view kComponent = "collector.kraken";
constexpr int64_t kNoKey = -1;
constexpr size_t kMaxDeadLetterPayload = 64 * 1024;
constexpr DurationNs kRejectLogInterval = 10 * kNsPerSec;
constexpr size_t kRestPageSize = 1000;  // Kraken returns at most 1000 trades per call
using SteadyClock = std::chrono::steady_clock;

std::string trim_trailing_slash(std::string_view s) {
  while (!s.empty() && s.back() == '/') s.remove_suffix(1);
  return std::string(s);
}

std::string kraken_asset(std::string_view unified_asset) {
  if (unified_asset == "BTC") return "XBT";
  if (unified_asset == "DOGE") return "XDG";
  return std::string(unified_asset);
}

struct PairSpec {
  std::string unified;  // BTC-USD
  std::string pair;     // XBT/USD
};

Result<std::vector<PairSpec>> resolve(const CollectorConfig& config) {
  std::vector<PairSpec> out;
  for (size_t i = 0; i < config.symbols.size(); ++i) {
    auto unified = normalize_symbol(Exchange::kKraken, config.symbols[i]);
    if (!unified) {
      return Status::invalid_argument("collector.kraken.symbols[" + std::to_string(i) +
                                      "]: " + unified.status().message());
    }
    PairSpec spec{*unified, kraken_pair_from_unified(*unified)};
    if (std::none_of(out.begin(), out.end(), [&](const PairSpec& p) { return p.pair == spec.pair; })) {
      out.push_back(std::move(spec));
    }
  }
  if (out.empty()) return Status::invalid_argument("collector.kraken.symbols: at least one symbol is required");
  return out;
}

// Bounded label values of tickflow_collector_messages_total{exchange="kraken",kind}.
enum class Kind : uint8_t { kTrade, kHeartbeat, kSystemStatus, kSubscriptionStatus, kOther, kCount };
constexpr std::array<std::string_view, static_cast<size_t>(Kind::kCount)> kKindNames = {
    "trade", "heartbeat", "systemStatus", "subscriptionStatus", "other"};

Kind kind_of(MessageKind k) {
  switch (k) {
    case MessageKind::kTrade: return Kind::kTrade;
    case MessageKind::kHeartbeat: return Kind::kHeartbeat;
    case MessageKind::kSystemStatus: return Kind::kSystemStatus;
    case MessageKind::kSubscriptionStatus: return Kind::kSubscriptionStatus;
    default: return Kind::kOther;
  }
}

// Metrics of the collector: Binance's families with exchange="kraken" (the registry merges).
class Probe {
 public:
  Probe() {
    auto& reg = obs::registry();
    const prometheus::Labels ex{{"exchange", std::string(kExchange)}};
    auto& messages = prometheus::BuildCounter()
                         .Name("tickflow_collector_messages_total")
                         .Help("Frames received from the exchange, by kind")
                         .Register(reg);
    for (size_t i = 0; i < kinds_.size(); ++i) {
      kinds_[i] = &messages.Add({{"exchange", std::string(kExchange)}, {"kind", std::string(kKindNames[i])}});
    }
    invalid_ = &messages.Add({{"exchange", std::string(kExchange)}, {"kind", "invalid"}});
    rejected_family_ = &prometheus::BuildCounter()
                            .Name("tickflow_collector_messages_rejected_total")
                            .Help("Frames dead-lettered (malformed, unknown), by reason")
                            .Register(reg);
    connected_ = &prometheus::BuildGauge()
                      .Name("tickflow_collector_connected")
                      .Help("1 while the exchange WebSocket is connected")
                      .Register(reg)
                      .Add(ex);
    reconnects_ = &prometheus::BuildCounter()
                       .Name("tickflow_collector_reconnects_total")
                       .Help("Successful reconnects after the first connect")
                       .Register(reg)
                       .Add(ex);
    feed_lag_ = &prometheus::BuildHistogram()
                     .Name("tickflow_collector_feed_lag_seconds")
                     .Help("Receive time minus exchange trade time")
                     .Register(reg)
                     .Add(ex, obs::latency_buckets());
    backfilled_ = &prometheus::BuildCounter()
                       .Name("tickflow_collector_backfilled_trades_total")
                       .Help("Trades fetched from REST to fill holes")
                       .Register(reg)
                       .Add(ex);
    publish_errors_ = &prometheus::BuildCounter()
                           .Name("tickflow_collector_publish_errors_total")
                           .Help("Bus commits that failed")
                           .Register(reg)
                           .Add(ex);
  }
  void message(Kind k) { kinds_[static_cast<size_t>(k)]->Increment(); }
  void invalid() { invalid_->Increment(); }
  void rejected(std::string_view reason) {
    auto it = rejected_.find(std::string(reason));
    if (it == rejected_.end()) {
      auto* c = &rejected_family_->Add({{"exchange", std::string(kExchange)}, {"reason", std::string(reason)}});
      it = rejected_.emplace(std::string(reason), c).first;
    }
    it->second->Increment();
  }
  void connected(bool up) { connected_->Set(up ? 1 : 0); }
  void reconnect() { reconnects_->Increment(); }
  void feed_lag(DurationNs lag) { feed_lag_->Observe(static_cast<double>(lag) / 1e9); }
  void backfilled(size_t n) { backfilled_->Increment(static_cast<double>(n)); }
  void publish_error() { publish_errors_->Increment(); }

 private:
  std::array<prometheus::Counter*, static_cast<size_t>(Kind::kCount)> kinds_{};
  prometheus::Counter* invalid_;
  prometheus::Family<prometheus::Counter>* rejected_family_;
  std::unordered_map<std::string, prometheus::Counter*> rejected_;  // worker thread only
  prometheus::Gauge* connected_;
  prometheus::Counter* reconnects_;
  prometheus::Histogram* feed_lag_;
  prometheus::Counter* backfilled_;
  prometheus::Counter* publish_errors_;
};

}  // namespace

std::string kraken_pair_from_unified(std::string_view unified) {
  const size_t dash = unified.find('-');
  if (dash == std::string_view::npos) return std::string(unified);
  return kraken_asset(unified.substr(0, dash)) + "/" + kraken_asset(unified.substr(dash + 1));
}

Status validate(const CollectorConfig& config) {
  auto pairs = resolve(config);
  if (!pairs) return pairs.status();
  auto ws = transport::parse_url(config.ws_url);
  if (!ws) return Status::invalid_argument("collector.kraken.ws_url: " + ws.status().message());
  if (!ws->websocket()) return Status::invalid_argument("collector.kraken.ws_url: must be ws:// or wss://");
  auto rest = transport::parse_url(config.rest_url);
  if (!rest) return Status::invalid_argument("collector.kraken.rest_url: " + rest.status().message());
  if (rest->websocket()) return Status::invalid_argument("collector.kraken.rest_url: must be http:// or https://");
  if (config.connect_timeout <= 0 || config.stale_timeout <= 0 || config.http_timeout <= 0) {
    return Status::invalid_argument("collector.kraken: connect_timeout, stale_timeout and http_timeout must be > 0");
  }
  if (config.max_batch_frames == 0) return Status::invalid_argument("collector.kraken.max_batch_frames must be > 0");
  return Status::ok();
}

class Collector::Worker {
 public:
  Worker(CollectorConfig config, bus::EventBus& bus, const Clock& clock, std::unique_ptr<transport::WsConnection> ws,
         std::unique_ptr<transport::HttpClient> http)
      : config_(std::move(config)), bus_(bus), clock_(clock), ws_(std::move(ws)), http_(std::move(http)) {
    health_ = {std::string(kComponent), HealthState::kDown, "not started"};
  }
  ~Worker() { stop(); }

  Status start();
  void stop();
  ComponentHealth health() const {
    std::lock_guard lk(health_mu_);
    return health_;
  }
  Stats stats() const {
    Stats s;
    s.frames = st_.frames.load();
    s.trades_published = st_.trades_published.load();
    s.backfilled = st_.backfilled.load();
    s.duplicates_dropped = st_.duplicates_dropped.load();
    s.ignored = st_.ignored.load();
    s.rejected = st_.rejected.load();
    s.exchange_errors = st_.exchange_errors.load();
    s.connects = st_.connects.load();
    s.reconnects = st_.reconnects.load();
    s.unfilled_gaps = st_.unfilled_gaps.load();
    s.publish_errors = st_.publish_errors.load();
    s.commits = st_.commits.load();
    return s;
  }

 private:
  struct PairState {
    std::string unified, pair, rest_pair, key;  // BTC-USD, XBT/USD, XBTUSD, kraken:BTC-USD
    int64_t last_key = kNoKey;       // last key appended (committed or in the open batch)
    int64_t committed_key = kNoKey;  // last key durably committed
    bool dirty = false;
    bool needs_backfill = false;     // reconnected with a stored key: repair once subscribed
  };
  struct AtomicStats {
    std::atomic<uint64_t> frames{0}, trades_published{0}, backfilled{0}, duplicates_dropped{0}, ignored{0},
        rejected{0}, exchange_errors{0}, connects{0}, reconnects{0}, unfilled_gaps{0}, publish_errors{0},
        commits{0};
  };
  enum class End { kStopped, kDropped, kStale, kReconnect, kFatal };

  bool stopping() const { return stopping_.load(std::memory_order_relaxed); }
  bool wait_for(DurationNs d) {
    std::unique_lock lk(wait_mu_);
    return !wait_cv_.wait_for(lk, std::chrono::nanoseconds(std::max<DurationNs>(d, 0)), [this] { return stopping_.load(); });
  }
  void set_health(HealthState s, std::string detail) {
    std::lock_guard lk(health_mu_);
    health_.state = s;
    health_.detail = std::move(detail);
  }

  void run();
  End run_session();
  void process(std::string_view frame);
  void on_trades(std::string_view frame);
  void backfill(PairState& p, int64_t until_key);
  Result<std::string> http_get(const std::string& url);
  bool accept(const Trade& t, std::string_view payload);
  void publish(PairState& p, const Trade& t);
  void reject(std::string_view reason, std::string detail, std::string_view payload, TimestampNs recv);
  void flush();
  PairState* find(std::string_view pair) {
    for (auto& p : pairs_) {
      if (p.pair == pair) return &p;
    }
    return nullptr;
  }

  const CollectorConfig config_;
  bus::EventBus& bus_;
  const Clock& clock_;
  std::unique_ptr<transport::WsConnection> ws_;
  std::unique_ptr<transport::HttpClient> http_;

  // Worker-thread state.
  FrameParser parser_;
  ParsedMessage parsed_;
  transport::Url ws_target_;
  std::string rest_base_;
  std::string subscribe_;
  std::vector<PairState> pairs_;
  std::unique_ptr<bus::Transaction> txn_;
  std::optional<End> end_;
  uint64_t frames_this_session_ = 0;
  TimestampNs last_reject_log_ = 0;
  uint64_t suppressed_rejects_ = 0;
  Probe probe_;

  AtomicStats st_;
  mutable std::mutex health_mu_;
  ComponentHealth health_;
  std::mutex lifecycle_mu_;
  bool started_ = false;
  std::atomic<bool> halted_{false};
  std::mutex wait_mu_;
  std::condition_variable wait_cv_;
  std::atomic<bool> stopping_{false};
  std::thread thread_;
};

Status Collector::Worker::start() {
  std::lock_guard lk(lifecycle_mu_);
  if (started_) return Status(ErrorCode::kAlreadyExists, "collector.kraken already started");
  TICKFLOW_RETURN_IF_ERROR(validate(config_));
  auto url = transport::parse_url(config_.ws_url);
  ws_target_ = *url;
  rest_base_ = trim_trailing_slash(config_.rest_url);
  for (const auto& spec : topics::kDefaultTopics) {
    if (spec.name == topics::kRawMarketData || spec.name == topics::kDlqMarketData) {
      TICKFLOW_RETURN_IF_ERROR(bus_.create_topic({std::string(spec.name), spec.partitions, spec.retention}));
    }
  }
  subscribe_ = R"({"event":"subscribe","pair":[)";
  auto specs = resolve(config_);
  for (const auto& spec : *specs) {
    PairState p;
    p.unified = spec.unified;
    p.pair = spec.pair;
    p.rest_pair = spec.pair;
    p.rest_pair.erase(std::remove(p.rest_pair.begin(), p.rest_pair.end(), '/'), p.rest_pair.end());
    p.key = instrument_key(Exchange::kKraken, spec.unified);
    auto stored = bus_.get_state(kStateNs, p.pair);
    if (!stored) return stored.status();
    if (stored->has_value()) {
      const std::string& v = **stored;
      int64_t key = kNoKey;
      auto [ptr, ec] = std::from_chars(v.data(), v.data() + v.size(), key);
      if (ec != std::errc() || ptr != v.data() + v.size() || key < 0) {
        return Status::corruption("collector.kraken state for " + p.pair + " is not a key: " + v);
      }
      p.last_key = p.committed_key = key;
    }
    if (pairs_.size() > 0) subscribe_ += ',';
    subscribe_ += '"' + p.pair + '"';
    pairs_.push_back(std::move(p));
  }
  subscribe_ += R"(],"subscription":{"name":"trade"}})";
  started_ = true;
  set_health(HealthState::kDegraded, "connecting");
  thread_ = std::thread([this] { run(); });
  return Status::ok();
}

void Collector::Worker::stop() {
  std::lock_guard lk(lifecycle_mu_);
  {
    std::lock_guard w(wait_mu_);
    stopping_.store(true);
  }
  wait_cv_.notify_all();
  if (ws_) ws_->close();
  if (thread_.joinable()) thread_.join();
  if (!halted_.load()) set_health(HealthState::kDown, "stopped");
}

void Collector::Worker::run() {
  Backoff backoff(config_.backoff);
  bool first = true;
  while (!stopping()) {
    backoff.on_attempt();
    Status st = ws_->connect(ws_target_, config_.connect_timeout);
    if (st) st = ws_->send_text(subscribe_);
    if (!st) {
      if (stopping()) break;
      const DurationNs delay = backoff.on_failure();
      spdlog::warn("collector.kraken: connect to {} failed ({}); retry in {} ms", ws_target_.to_string(),
                   st.message(), delay / kNsPerMs);
      set_health(backoff.state() == Backoff::State::kOpen ? HealthState::kDown : HealthState::kDegraded,
                 (backoff.state() == Backoff::State::kOpen ? "circuit open: " : "reconnecting: ") + st.message());
      if (!wait_for(delay)) break;
      continue;
    }
    st_.connects.fetch_add(1);
    if (!first) {
      st_.reconnects.fetch_add(1);
      probe_.reconnect();
    }
    first = false;
    probe_.connected(true);
    set_health(HealthState::kUp, "connected to " + ws_target_.host_header());
    spdlog::info("collector.kraken: connected to {}, subscribed to trade of {} pairs", ws_target_.to_string(),
                 pairs_.size());
    const auto began = SteadyClock::now();
    frames_this_session_ = 0;
    parser_.reset_trade_keys();
    for (auto& p : pairs_) p.needs_backfill = p.last_key != kNoKey;
    const End end = run_session();
    probe_.connected(false);
    if (end == End::kFatal) {
      halted_.store(true);
      break;
    }
    if (end == End::kStopped || stopping()) break;
    set_health(HealthState::kDegraded, "reconnecting");
    const bool healthy = frames_this_session_ > 0 &&
                         SteadyClock::now() - began >= std::chrono::nanoseconds(config_.backoff.base_delay);
    if (healthy) {
      backoff.on_success();
      continue;  // at once: the hole stays small and is backfilled
    }
    if (!wait_for(backoff.on_failure())) break;
  }
  probe_.connected(false);
  txn_.reset();
}

Collector::Worker::End Collector::Worker::run_session() {
  while (!stopping()) {
    auto frame = ws_->read_frame(config_.stale_timeout);
    if (!frame) {
      if (stopping()) return End::kStopped;
      if (ws_->is_open()) {
        spdlog::warn("collector.kraken: no frame (not even a heartbeat) for {} ms; reconnecting",
                     config_.stale_timeout / kNsPerMs);
        return End::kStale;
      }
      spdlog::warn("collector.kraken: connection lost: {}", frame.status().message());
      return End::kDropped;
    }
    process(*frame);
    for (size_t n = 1; n < config_.max_batch_frames && !end_; ++n) {
      auto more = ws_->read_frame(0);
      if (!more) break;
      process(*more);
    }
    if (!end_) flush();
    if (end_) {
      const End e = *end_;
      end_.reset();
      return e;
    }
  }
  return End::kStopped;
}

void Collector::Worker::process(std::string_view frame) {
  st_.frames.fetch_add(1, std::memory_order_relaxed);
  ++frames_this_session_;
  const TimestampNs recv = clock_.now_ns();
  Status st = parser_.parse(frame, recv, parsed_);
  if (!st) {
    probe_.invalid();
    const std::string_view reason = parser_.error_reason();
    reject(reason.empty() ? "malformed" : reason, st.message(), frame, recv);
    return;
  }
  probe_.message(kind_of(parsed_.kind));
  switch (parsed_.kind) {
    case MessageKind::kTrade:
      on_trades(frame);
      return;
    case MessageKind::kSubscriptionStatus:
      if (parsed_.is_error()) {
        st_.exchange_errors.fetch_add(1);
        spdlog::error("collector.kraken: subscription to {} {} refused by Kraken: {}", parsed_.subscription_name,
                      parsed_.pair, parsed_.error_message);
        set_health(HealthState::kDegraded, "kraken: " + parsed_.pair + ": " + parsed_.error_message);
      } else if (parsed_.status == "subscribed") {
        // Everything from here on streams live: repair the hole before reading it.
        if (PairState* p = find(parsed_.pair); p != nullptr && p->needs_backfill) {
          p->needs_backfill = false;
          backfill(*p, std::numeric_limits<int64_t>::max());
        }
      }
      break;
    case MessageKind::kSystemStatus:
      if (parsed_.status != "online") {
        spdlog::warn("collector.kraken: Kraken system status '{}'", parsed_.status);
        set_health(HealthState::kDegraded, "kraken system status: " + parsed_.status);
      }
      break;
    default:
      break;
  }
  st_.ignored.fetch_add(1, std::memory_order_relaxed);
}

void Collector::Worker::on_trades(std::string_view frame) {
  PairState* p = find(parsed_.pair);
  if (p == nullptr) {
    reject("unknown_symbol", "trade for unsubscribed pair " + parsed_.pair, frame, clock_.now_ns());
    return;
  }
  for (Trade& t : parsed_.trades) {
    if (t.ts_event > 0) probe_.feed_lag(t.ts_recv - t.ts_event);
    if (p->last_key != kNoKey && t.trade_id <= p->last_key) {
      st_.duplicates_dropped.fetch_add(1, std::memory_order_relaxed);
      continue;
    }
    if (!accept(t, frame)) continue;
    publish(*p, t);
  }
}

Result<std::string> Collector::Worker::http_get(const std::string& url_text) {
  auto url = transport::parse_url(url_text);
  if (!url) return url.status();
  Status last = Status::unavailable("no attempt");
  for (int attempt = 0; attempt <= config_.max_http_retries && !stopping(); ++attempt) {
    auto res = http_->get(*url, {}, config_.http_timeout);
    DurationNs wait = config_.backoff.base_delay * (attempt + 1);
    if (!res) {
      last = res.status();
    } else if (res->status == 200) {
      return std::move(res->body);
    } else if (res->status == 429 || res->status >= 500) {
      const int64_t retry_after = res->retry_after_seconds();
      if (retry_after >= 0) wait = retry_after * kNsPerSec;
      last = Status::unavailable("HTTP " + std::to_string(res->status));
    } else {
      return Status::invalid_argument("HTTP " + std::to_string(res->status) + " from " + url_text);
    }
    if (attempt < config_.max_http_retries && !wait_for(wait)) break;
  }
  return last;
}

void Collector::Worker::backfill(PairState& p, int64_t until_key) {
  // since is exclusive, in ns: one below the last key's microsecond gives its whole group, so
  // the page's ordinals equal the live ones (rest.h).
  std::string since = std::to_string((p.last_key / 1000) * 1000 - 1);
  size_t published = 0;
  bool complete = false;
  for (int page = 0; page < config_.max_backfill_pages && !stopping(); ++page) {
    const std::string url = rest_base_ + "/0/public/Trades?pair=" + p.rest_pair + "&since=" + since;
    auto body = http_get(url);
    if (!body) {
      spdlog::error("collector.kraken: backfill of {} since {} failed: {}", p.pair, since, body.status().message());
      if (body.status().code() == ErrorCode::kInvalidArgument) {
        set_health(HealthState::kDegraded, "kraken REST: " + body.status().message());
      }
      break;
    }
    RestTradesPage pg;
    const TimestampNs recv = clock_.now_ns();
    if (Status st = parse_rest_trades(*body, p.pair, recv, pg); !st) {
      if (st.code() == ErrorCode::kCorruption) {
        reject("bad_rest_response", st.message(), *body, recv);
      } else {
        spdlog::error("collector.kraken: backfill of {}: {}", p.pair, st.message());
        set_health(HealthState::kDegraded, st.message());
      }
      break;
    }
    bool reached = false;
    for (Trade& t : pg.trades) {
      if (t.trade_id >= until_key) {
        reached = true;
        break;
      }
      if (t.trade_id <= p.last_key) continue;
      if (!accept(t, {})) continue;
      publish(p, t);
      ++published;
    }
    flush();
    if (end_) return;
    if (reached || pg.trades.size() < kRestPageSize || pg.last.empty() || pg.last == since) {
      complete = true;
      break;
    }
    since = pg.last;
  }
  st_.backfilled.fetch_add(published, std::memory_order_relaxed);
  probe_.backfilled(published);
  if (published > 0) spdlog::info("collector.kraken: {} backfilled {} trades from REST", p.pair, published);
  if (!complete) {
    st_.unfilled_gaps.fetch_add(1);
    spdlog::warn("collector.kraken: {} reconnect hole after key {} not fully backfilled", p.pair, p.last_key);
  }
}

bool Collector::Worker::accept(const Trade& t, std::string_view payload) {
  const quality::Rejection r = quality::validate_trade(t, config_.validation);
  if (r == quality::Rejection::kNone) return true;
  std::string detail = "trade " + std::to_string(t.trade_id) + " of " + t.exchange_symbol + " at " +
                       format_iso8601_ms(t.ts_event) + " price " + t.price.to_string() + " qty " +
                       t.quantity.to_string();
  if (payload.empty()) {
    reject(quality::rejection_reason(r), std::move(detail), codec::encode_trade(t), t.ts_recv);
  } else {
    reject(quality::rejection_reason(r), std::move(detail), payload, t.ts_recv);
  }
  return false;
}

void Collector::Worker::publish(PairState& p, const Trade& t) {
  if (!txn_) txn_ = bus_.begin();
  txn_->append(topics::kRawMarketData, p.key, codec::encode_trade(t, clock_.now_ns()));
  p.last_key = t.trade_id;
  p.dirty = true;
  st_.trades_published.fetch_add(1, std::memory_order_relaxed);
}

void Collector::Worker::reject(std::string_view reason, std::string detail, std::string_view payload,
                               TimestampNs recv) {
  st_.rejected.fetch_add(1, std::memory_order_relaxed);
  probe_.rejected(reason);
  const TimestampNs now = clock_.now_ns();
  if (last_reject_log_ == 0 || now - last_reject_log_ >= kRejectLogInterval) {
    spdlog::warn("collector.kraken: rejected frame ({}: {}); {} more since last report; sample: {}", reason, detail,
                 suppressed_rejects_, payload.substr(0, 300));
    last_reject_log_ = now;
    suppressed_rejects_ = 0;
  } else {
    ++suppressed_rejects_;
  }
  codec::DeadLetter dl;
  dl.source_topic = "collector";
  dl.exchange = std::string(kExchange);
  dl.reason = std::string(reason);
  dl.detail = std::move(detail);
  dl.payload = std::string(payload.substr(0, kMaxDeadLetterPayload));
  dl.ts_recv = recv;
  if (!txn_) txn_ = bus_.begin();
  txn_->append(topics::kDlqMarketData, kExchange, codec::encode_dead_letter(dl, now));
}

void Collector::Worker::flush() {
  if (!txn_) return;
  bool any_dirty = false;
  for (auto& p : pairs_) {
    if (p.dirty) {
      txn_->put_state(kStateNs, p.pair, std::to_string(p.last_key));
      any_dirty = true;
    }
  }
  if (txn_->appended() == 0 && !any_dirty) {
    txn_.reset();
    return;
  }
  Status st = txn_->commit();
  txn_.reset();
  if (st) {
    st_.commits.fetch_add(1, std::memory_order_relaxed);
    for (auto& p : pairs_) {
      p.committed_key = p.last_key;
      p.dirty = false;
    }
    return;
  }
  st_.publish_errors.fetch_add(1);
  probe_.publish_error();
  for (auto& p : pairs_) {
    p.last_key = p.committed_key;
    p.dirty = false;
  }
  if (st.code() == ErrorCode::kIo || !st.retryable()) {
    spdlog::critical("collector.kraken: bus commit failed ({}); INGESTION STOPPED", st.to_string());
    set_health(HealthState::kDown, "ingestion stopped: bus commit failed: " + st.to_string());
    end_ = End::kFatal;
  } else {
    spdlog::error("collector.kraken: bus commit failed ({}); reconnecting to backfill", st.to_string());
    end_ = End::kReconnect;
  }
}

Collector::Collector(CollectorConfig config, bus::EventBus& bus, const Clock& clock)
    : Collector(std::move(config), bus, clock, transport::make_ws_connection(), transport::make_http_client()) {}

Collector::Collector(CollectorConfig config, bus::EventBus& bus, const Clock& clock,
                     std::unique_ptr<transport::WsConnection> ws, std::unique_ptr<transport::HttpClient> http)
    : worker_(std::make_unique<Worker>(std::move(config), bus, clock, std::move(ws), std::move(http))) {}

Collector::~Collector() { stop(); }
Status Collector::start() { return worker_->start(); }
void Collector::stop() { worker_->stop(); }
ComponentHealth Collector::health() const { return worker_->health(); }
Collector::Stats Collector::stats() const { return worker_->stats(); }

}  // namespace tickflow::exchange::kraken
