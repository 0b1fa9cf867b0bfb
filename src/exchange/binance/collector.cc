#include "exchange/binance/collector.h"

#include <algorithm>
#include <array>
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
#include "exchange/binance/parse.h"
#include "observability/metrics.h"

namespace tickflow::exchange::binance {
namespace {

constexpr std::string_view kExchange = "binance";
constexpr std::string_view kStateNs = "collector.binance";
constexpr std::string_view kComponent = "collector.binance";
constexpr size_t kMaxDeadLetterPayload = 64 * 1024;
constexpr DurationNs kRejectLogInterval = 10 * kNsPerSec;
constexpr int64_t kNoId = -1;

using SteadyClock = std::chrono::steady_clock;

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

std::string upper(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  }
  return out;
}

std::string trim_trailing_slash(std::string_view s) {
  while (!s.empty() && s.back() == '/') s.remove_suffix(1);
  return std::string(s);
}

bool parse_int64(std::string_view text, int64_t& out) {
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && ptr == text.data() + text.size();
}

struct SymbolSpec {
  std::string unified;          // BTC-USDT
  std::string exchange_symbol;  // BTCUSDT
};

Result<std::vector<SymbolSpec>> resolve_symbols(const CollectorConfig& config) {
  std::vector<SymbolSpec> out;
  for (size_t i = 0; i < config.symbols.size(); ++i) {
    auto unified = normalize_symbol(Exchange::kBinance, config.symbols[i]);
    if (!unified) {
      return Status::invalid_argument("collector.binance.symbols[" + std::to_string(i) +
                                      "]: " + unified.status().message());
    }
    SymbolSpec spec{*unified, binance_symbol_from_unified(*unified)};
    bool seen = std::any_of(out.begin(), out.end(),
                            [&](const SymbolSpec& s) { return s.exchange_symbol == spec.exchange_symbol; });
    if (!seen) out.push_back(std::move(spec));
  }
  if (out.empty()) return Status::invalid_argument("collector.binance.symbols: at least one symbol is required");
  return out;
}

std::string_view kind_name(MessageKind kind) {
  switch (kind) {
    case MessageKind::kTrade: return "trade";
    case MessageKind::kAggTrade: return "aggTrade";
    case MessageKind::kDepthUpdate: return "depthUpdate";
    case MessageKind::kBookTicker: return "bookTicker";
    case MessageKind::kKline: return "kline";
    case MessageKind::kSubscriptionResult: return "subscription";
    case MessageKind::kUnknown: return "unknown";
  }
  return "unknown";
}

constexpr size_t kKindCount = 7;

// Metrics of one collector (families are process-wide; the registry merges same-named ones).
class Probe {
 public:
  Probe() {
    auto& reg = obs::registry();
    const prometheus::Labels ex{{"exchange", std::string(kExchange)}};
    auto& messages = prometheus::BuildCounter()
                         .Name("tickflow_collector_messages_total")
                         .Help("Frames received from the exchange, by kind")
                         .Register(reg);
    for (size_t i = 0; i < kKindCount; ++i) {
      kinds_[i] = &messages.Add({{"exchange", std::string(kExchange)},
                                 {"kind", std::string(kind_name(static_cast<MessageKind>(i)))}});
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
    gaps_ = &prometheus::BuildCounter()
                 .Name("tickflow_collector_trade_id_gaps_total")
                 .Help("Live trade id jumps detected")
                 .Register(reg)
                 .Add(ex);
    publish_errors_ = &prometheus::BuildCounter()
                           .Name("tickflow_collector_publish_errors_total")
                           .Help("Bus commits that failed")
                           .Register(reg)
                           .Add(ex);
    auto& limited = prometheus::BuildCounter()
                        .Name("tickflow_collector_http_rate_limited_total")
                        .Help("REST responses 429 (rate limit) and 418 (IP ban)")
                        .Register(reg);
    http_429_ = &limited.Add({{"exchange", std::string(kExchange)}, {"code", "429"}});
    http_418_ = &limited.Add({{"exchange", std::string(kExchange)}, {"code", "418"}});
  }

  void message(MessageKind kind) { kinds_[static_cast<size_t>(kind)]->Increment(); }
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
  void gap() { gaps_->Increment(); }
  void publish_error() { publish_errors_->Increment(); }
  void http_limited(int code) { (code == 418 ? http_418_ : http_429_)->Increment(); }

 private:
  std::array<prometheus::Counter*, kKindCount> kinds_{};
  prometheus::Counter* invalid_;
  prometheus::Family<prometheus::Counter>* rejected_family_;
  std::unordered_map<std::string, prometheus::Counter*> rejected_;  // worker thread only
  prometheus::Gauge* connected_;
  prometheus::Counter* reconnects_;
  prometheus::Histogram* feed_lag_;
  prometheus::Counter* backfilled_;
  prometheus::Counter* gaps_;
  prometheus::Counter* publish_errors_;
  prometheus::Counter* http_429_;
  prometheus::Counter* http_418_;
};

}  // namespace

Status validate(const CollectorConfig& config) {
  auto symbols = resolve_symbols(config);
  if (!symbols) return symbols.status();
  auto ws = transport::parse_url(config.ws_url);
  if (!ws) return Status::invalid_argument("collector.binance.ws_url: " + ws.status().message());
  if (!ws->websocket()) return Status::invalid_argument("collector.binance.ws_url: must be ws:// or wss://");
  auto rest = transport::parse_url(config.rest_url);
  if (!rest) return Status::invalid_argument("collector.binance.rest_url: " + rest.status().message());
  if (rest->websocket()) return Status::invalid_argument("collector.binance.rest_url: must be http:// or https://");
  if (config.trade_stream != "aggTrade" && config.trade_stream != "trade") {
    return Status::invalid_argument("collector.binance.trade_stream: must be \"aggTrade\" or \"trade\", got \"" +
                                    config.trade_stream + "\"");
  }
  if (config.connect_timeout <= 0) return Status::invalid_argument("collector.binance.connect_timeout must be > 0");
  if (config.stale_timeout <= 0) return Status::invalid_argument("collector.binance.stale_timeout must be > 0");
  if (config.http_timeout <= 0) return Status::invalid_argument("collector.binance.http_timeout must be > 0");
  if (config.backfill_limit < 1 || config.backfill_limit > 1000) {
    return Status::invalid_argument("collector.binance.backfill_limit must be 1..1000");
  }
  if (config.max_batch_frames == 0) return Status::invalid_argument("collector.binance.max_batch_frames must be > 0");
  return Status::ok();
}

Result<std::string> combined_stream_url(const CollectorConfig& config) {
  TICKFLOW_RETURN_IF_ERROR(validate(config));
  auto symbols = resolve_symbols(config);
  std::string url = trim_trailing_slash(config.ws_url) + "/stream?streams=";
  bool first = true;
  for (const auto& s : *symbols) {
    if (!first) url += '/';
    first = false;
    url += lower(s.exchange_symbol);
    url += '@';
    url += config.trade_stream;
  }
  return url;
}

// ---------------------------------------------------------------------------------------------

class Collector::Worker {
 public:
  Worker(CollectorConfig config, bus::EventBus& bus, const Clock& clock,
         std::unique_ptr<transport::WsConnection> ws, std::unique_ptr<transport::HttpClient> http)
      : config_(std::move(config)), bus_(bus), clock_(clock), ws_(std::move(ws)), http_(std::move(http)) {
    health_.name = std::string(kComponent);
    health_.state = HealthState::kDown;
    health_.detail = "not started";
  }

  ~Worker() { stop(); }

  Status start() {
    std::lock_guard<std::mutex> guard(lifecycle_mu_);
    if (started_) return Status(ErrorCode::kAlreadyExists, "collector.binance already started");
    TICKFLOW_RETURN_IF_ERROR(validate(config_));
    auto url = combined_stream_url(config_);
    auto parsed = transport::parse_url(*url);
    if (!parsed) return parsed.status();
    ws_target_ = *parsed;
    rest_base_ = trim_trailing_slash(config_.rest_url);
    agg_ = config_.trade_stream == "aggTrade";
    for (const auto& spec : topics::kDefaultTopics) {
      if (spec.name == topics::kRawMarketData || spec.name == topics::kDlqMarketData) {
        TICKFLOW_RETURN_IF_ERROR(bus_.create_topic({std::string(spec.name), spec.partitions, spec.retention}));
      }
    }
    auto symbols = resolve_symbols(config_);
    for (auto& spec : *symbols) {
      SymbolState s;
      s.unified = spec.unified;
      s.exchange_symbol = spec.exchange_symbol;
      s.key = instrument_key(Exchange::kBinance, spec.unified);
      s.state_key = agg_ ? spec.exchange_symbol : spec.exchange_symbol + "@trade";
      auto stored = bus_.get_state(kStateNs, s.state_key);
      if (!stored) return stored.status();
      if (stored->has_value()) {
        int64_t id = kNoId;
        if (!parse_int64(**stored, id) || id < 0) {
          return Status::corruption("collector.binance state for " + s.state_key + " is not an id: " + **stored);
        }
        s.last_id = s.committed_id = id;
      }
      index_.emplace(s.exchange_symbol, symbols_.size());
      symbols_.push_back(std::move(s));
    }
    started_ = true;
    set_health(HealthState::kDegraded, "connecting");
    thread_ = std::thread([this] { run(); });
    return Status::ok();
  }

  void stop() {
    std::lock_guard<std::mutex> guard(lifecycle_mu_);
    {
      std::lock_guard<std::mutex> lock(wait_mu_);
      stopping_.store(true);
    }
    wait_cv_.notify_all();
    if (ws_) ws_->close();
    if (thread_.joinable()) thread_.join();
    if (!halted_.load()) set_health(HealthState::kDown, "stopped");
  }

  ComponentHealth health() const {
    std::lock_guard<std::mutex> lock(health_mu_);
    return health_;
  }

  Stats stats() const {
    Stats s;
    s.frames = stats_.frames.load();
    s.trades_published = stats_.trades_published.load();
    s.backfilled = stats_.backfilled.load();
    s.duplicates_dropped = stats_.duplicates_dropped.load();
    s.ignored = stats_.ignored.load();
    s.rejected = stats_.rejected.load();
    s.connects = stats_.connects.load();
    s.reconnects = stats_.reconnects.load();
    s.gaps = stats_.gaps.load();
    s.unfilled_gaps = stats_.unfilled_gaps.load();
    s.http_rate_limited = stats_.http_rate_limited.load();
    s.publish_errors = stats_.publish_errors.load();
    s.commits = stats_.commits.load();
    return s;
  }

 private:
  struct SymbolState {
    std::string unified;
    std::string exchange_symbol;
    std::string key;        // bus key "binance:BTC-USDT"
    std::string state_key;  // "BTCUSDT" (aggTrade ids) or "BTCUSDT@trade"
    int64_t last_id = kNoId;       // last id appended (committed or in the open batch)
    int64_t committed_id = kNoId;  // last id durably committed
    bool dirty = false;
  };

  struct AtomicStats {
    std::atomic<uint64_t> frames{0}, trades_published{0}, backfilled{0}, duplicates_dropped{0},
        ignored{0}, rejected{0}, connects{0}, reconnects{0}, gaps{0}, unfilled_gaps{0},
        http_rate_limited{0}, publish_errors{0}, commits{0};
  };

  enum class SessionEnd { kStopped, kDropped, kStale, kAged, kReconnect, kFatal };

  bool stopping() const { return stopping_.load(std::memory_order_relaxed); }

  // Waits up to d; false when stop() interrupted the wait.
  bool wait_for(DurationNs d) {
    std::unique_lock<std::mutex> lock(wait_mu_);
    return !wait_cv_.wait_for(lock, std::chrono::nanoseconds(std::max<DurationNs>(d, 0)),
                              [this] { return stopping_.load(); });
  }

  void set_health(HealthState state, std::string detail) {
    std::lock_guard<std::mutex> lock(health_mu_);
    health_.state = state;
    health_.detail = std::move(detail);
  }

  void run() {
    Backoff backoff(config_.backoff);
    bool first = true;
    while (!stopping()) {
      backoff.on_attempt();
      Status st = ws_->connect(ws_target_, config_.connect_timeout);
      if (!st) {
        if (stopping()) break;
        const DurationNs delay = backoff.on_failure();
        spdlog::warn("collector.binance: connect to {} failed ({}); retry in {} ms", ws_target_.to_string(),
                     st.message(), delay / kNsPerMs);
        if (backoff.state() == Backoff::State::kOpen) {
          set_health(HealthState::kDown, "circuit open after " + std::to_string(backoff.consecutive_failures()) +
                                             " failed connects: " + st.message());
        } else {
          set_health(HealthState::kDegraded, "reconnecting: " + st.message());
        }
        if (!wait_for(delay)) break;
        continue;
      }
      stats_.connects.fetch_add(1);
      if (!first) {
        stats_.reconnects.fetch_add(1);
        probe_.reconnect();
      }
      first = false;
      probe_.connected(true);
      set_health(HealthState::kUp, "connected to " + ws_target_.host_header());
      spdlog::info("collector.binance: connected to {}", ws_target_.to_string());
      const auto began = SteadyClock::now();
      frames_this_session_ = 0;
      const SessionEnd end = run_session();
      probe_.connected(false);
      if (end == SessionEnd::kFatal) {
        halted_.store(true);
        break;
      }
      if (end == SessionEnd::kStopped || stopping()) break;
      set_health(HealthState::kDegraded, "reconnecting");
      const bool healthy = frames_this_session_ > 0 &&
                           SteadyClock::now() - began >= std::chrono::nanoseconds(config_.backoff.base_delay);
      if (end == SessionEnd::kAged || healthy) {
        backoff.on_success();
        continue;  // reconnect at once: the hole stays small and is backfilled
      }
      const DurationNs delay = backoff.on_failure();
      if (!wait_for(delay)) break;
    }
    probe_.connected(false);
    txn_.reset();
  }

  SessionEnd run_session() {
    const auto connected_at = SteadyClock::now();
    if (agg_) {
      for (auto& s : symbols_) {
        if (s.last_id != kNoId) backfill(s, std::numeric_limits<int64_t>::max());
        if (end_) return take_end();
      }
      flush();
      if (end_) return take_end();
    }
    while (!stopping()) {
      auto frame = ws_->read_frame(config_.stale_timeout);
      if (!frame) {
        if (stopping()) return SessionEnd::kStopped;
        if (ws_->is_open()) {
          spdlog::warn("collector.binance: no frame for {} ms; reconnecting", config_.stale_timeout / kNsPerMs);
          return SessionEnd::kStale;
        }
        spdlog::warn("collector.binance: connection lost: {}", frame.status().message());
        return SessionEnd::kDropped;
      }
      process(*frame);
      size_t n = 1;
      while (n < config_.max_batch_frames && !end_) {
        auto more = ws_->read_frame(0);  // only what is already buffered: latency first
        if (!more) break;
        process(*more);
        ++n;
      }
      if (!end_) flush();
      if (end_) return take_end();
      if (SteadyClock::now() - connected_at >= std::chrono::nanoseconds(config_.max_connection_age)) {
        spdlog::info("collector.binance: connection age limit reached; reconnecting");
        return SessionEnd::kAged;
      }
    }
    return SessionEnd::kStopped;
  }

  SessionEnd take_end() {
    SessionEnd e = *end_;
    end_.reset();
    return e;
  }

  void process(std::string_view frame) {
    stats_.frames.fetch_add(1, std::memory_order_relaxed);
    ++frames_this_session_;
    const TimestampNs recv = clock_.now_ns();
    Status st = parser_.parse(frame, recv, parsed_);
    if (!st) {
      probe_.invalid();
      std::string_view reason = parser_.error_reason();
      reject(reason.empty() ? "malformed" : reason, st.message(), frame, recv);
      return;
    }
    probe_.message(parsed_.kind);
    switch (parsed_.kind) {
      case MessageKind::kTrade:
      case MessageKind::kAggTrade:
        if ((parsed_.kind == MessageKind::kAggTrade) == agg_) {
          on_live_trade(parsed_.trade, frame, recv);
        } else {
          stats_.ignored.fetch_add(1, std::memory_order_relaxed);
        }
        return;
      case MessageKind::kDepthUpdate:
      case MessageKind::kBookTicker:
      case MessageKind::kKline:
      case MessageKind::kSubscriptionResult:
        stats_.ignored.fetch_add(1, std::memory_order_relaxed);
        return;
      case MessageKind::kUnknown:
        break;
    }
    reject("unknown_event", "frame of an unknown kind", frame, recv);
  }

  SymbolState* find_symbol(std::string_view exchange_symbol) {
    auto it = index_.find(std::string(exchange_symbol));
    if (it == index_.end()) it = index_.find(upper(exchange_symbol));
    return it == index_.end() ? nullptr : &symbols_[it->second];
  }

  void on_live_trade(Trade& trade, std::string_view frame, TimestampNs recv) {
    SymbolState* s = find_symbol(trade.exchange_symbol);
    if (s == nullptr) {
      reject("unknown_symbol", "trade for unsubscribed symbol " + trade.exchange_symbol, frame, recv);
      return;
    }
    if (trade.ts_event > 0) probe_.feed_lag(trade.ts_recv - trade.ts_event);
    if (s->last_id != kNoId && trade.trade_id <= s->last_id) {
      stats_.duplicates_dropped.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    if (s->last_id != kNoId && trade.trade_id > s->last_id + 1) {
      stats_.gaps.fetch_add(1, std::memory_order_relaxed);
      probe_.gap();
      if (agg_) {
        spdlog::info("collector.binance: {} aggregate id gap {}..{}; backfilling", s->exchange_symbol,
                     s->last_id + 1, trade.trade_id - 1);
        backfill(*s, trade.trade_id);
        if (end_) return;
      } else {
        spdlog::warn("collector.binance: {} trade id gap {}..{} ({} trades) cannot be backfilled on the trade "
                     "stream",
                     s->exchange_symbol, s->last_id + 1, trade.trade_id - 1, trade.trade_id - s->last_id - 1);
      }
    }
    if (trade.symbol.empty()) trade.symbol = s->unified;
    publish(*s, trade);
  }

  void ensure_txn() {
    if (!txn_) txn_ = bus_.begin();
  }

  void publish(SymbolState& s, const Trade& trade) {
    ensure_txn();
    txn_->append(topics::kRawMarketData, s.key, codec::encode_trade(trade, clock_.now_ns()));
    s.last_id = trade.trade_id;
    s.dirty = true;
    stats_.trades_published.fetch_add(1, std::memory_order_relaxed);
  }

  void reject(std::string_view reason, std::string detail, std::string_view payload, TimestampNs recv) {
    stats_.rejected.fetch_add(1, std::memory_order_relaxed);
    probe_.rejected(reason);
    const TimestampNs now = clock_.now_ns();
    if (last_reject_log_ == 0 || now - last_reject_log_ >= kRejectLogInterval) {
      spdlog::warn("collector.binance: rejected frame ({}: {}); {} more since last report; sample: {}", reason,
                   detail, suppressed_rejects_, payload.substr(0, 300));
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
    ensure_txn();
    txn_->append(topics::kDlqMarketData, kExchange, codec::encode_dead_letter(dl, now));
  }

  // Commits the open batch with the last ids. On failure rolls the ids back and sets end_.
  void flush() {
    if (!txn_) return;
    bool any_dirty = false;
    for (auto& s : symbols_) {
      if (s.dirty) {
        txn_->put_state(kStateNs, s.state_key, std::to_string(s.last_id));
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
      stats_.commits.fetch_add(1, std::memory_order_relaxed);
      for (auto& s : symbols_) {
        s.committed_id = s.last_id;
        s.dirty = false;
      }
      return;
    }
    stats_.publish_errors.fetch_add(1);
    probe_.publish_error();
    for (auto& s : symbols_) {
      s.last_id = s.committed_id;
      s.dirty = false;
    }
    if (st.code() == ErrorCode::kIo || !st.retryable()) {
      spdlog::critical("collector.binance: bus commit failed ({}); INGESTION STOPPED", st.to_string());
      set_health(HealthState::kDown, "ingestion stopped: bus commit failed: " + st.to_string());
      end_ = SessionEnd::kFatal;
    } else {
      spdlog::error("collector.binance: bus commit failed ({}); reconnecting to backfill", st.to_string());
      end_ = SessionEnd::kReconnect;
    }
  }

  // GET with 429/418/5xx/network retries. Returns the body of a 200.
  Result<std::string> http_get(const std::string& url_text) {
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
      } else if (res->status == 429 || res->status == 418) {
        stats_.http_rate_limited.fetch_add(1);
        probe_.http_limited(res->status);
        const int64_t retry_after = res->retry_after_seconds();
        wait = retry_after >= 0 ? retry_after * kNsPerSec : config_.rate_limit_default_wait;
        if (res->status == 418) wait = std::max(wait, config_.ban_min_wait);
        spdlog::warn("collector.binance: REST {} from {}; waiting {} ms", res->status, url->host_header(),
                     wait / kNsPerMs);
        last = Status::resource_exhausted("HTTP " + std::to_string(res->status));
      } else if (res->status >= 500) {
        last = Status::unavailable("HTTP " + std::to_string(res->status));
      } else {
        return Status::invalid_argument("HTTP " + std::to_string(res->status) + " from " + url_text + ": " +
                                        res->body.substr(0, 200));
      }
      if (attempt < config_.max_http_retries && !wait_for(wait)) break;
    }
    return last;
  }

  // Fetches aggregate trades (last_id, until) from REST and publishes them in id order.
  void backfill(SymbolState& s, int64_t until) {
    int64_t next = s.last_id + 1;
    const int64_t first = next;
    bool complete = false;
    for (int page = 0; page < config_.max_backfill_pages && !stopping(); ++page) {
      const std::string url = rest_base_ + "/api/v3/aggTrades?symbol=" + s.exchange_symbol +
                              "&fromId=" + std::to_string(next) + "&limit=" + std::to_string(config_.backfill_limit);
      auto body = http_get(url);
      if (!body) {
        spdlog::error("collector.binance: backfill of {} from id {} failed: {}", s.exchange_symbol, next,
                      body.status().message());
        break;
      }
      backfill_trades_.clear();
      const TimestampNs recv = clock_.now_ns();
      Status st = parse_agg_trades_response(*body, s.exchange_symbol, recv, backfill_trades_);
      if (!st) {
        reject("bad_rest_response", st.message(), *body, recv);
        break;
      }
      std::sort(backfill_trades_.begin(), backfill_trades_.end(),
                [](const Trade& a, const Trade& b) { return a.trade_id < b.trade_id; });
      bool reached = false;
      size_t published = 0;
      for (auto& t : backfill_trades_) {
        if (t.trade_id < next) continue;
        if (t.trade_id >= until) {
          reached = true;
          break;
        }
        if (t.symbol.empty()) t.symbol = s.unified;
        t.exchange = Exchange::kBinance;
        t.aggregated = true;
        publish(s, t);
        next = t.trade_id + 1;
        ++published;
      }
      stats_.backfilled.fetch_add(published, std::memory_order_relaxed);
      probe_.backfilled(published);
      flush();
      if (end_) return;
      if (reached || next >= until ||
          backfill_trades_.size() < static_cast<size_t>(config_.backfill_limit)) {
        complete = true;
        break;
      }
    }
    if (next > first) {
      spdlog::info("collector.binance: {} backfilled aggregate ids {}..{} from REST", s.exchange_symbol, first,
                   next - 1);
    }
    if (until != std::numeric_limits<int64_t>::max() && (!complete || next < until)) {
      stats_.unfilled_gaps.fetch_add(1);
      spdlog::warn("collector.binance: {} ids {}..{} could not be backfilled", s.exchange_symbol, next, until - 1);
    }
  }

  const CollectorConfig config_;
  bus::EventBus& bus_;
  const Clock& clock_;
  std::unique_ptr<transport::WsConnection> ws_;
  std::unique_ptr<transport::HttpClient> http_;

  // Worker-thread state.
  FrameParser parser_;
  ParsedFrame parsed_;
  std::vector<Trade> backfill_trades_;
  transport::Url ws_target_;
  std::string rest_base_;
  bool agg_ = true;
  std::vector<SymbolState> symbols_;
  std::unordered_map<std::string, size_t> index_;
  std::unique_ptr<bus::Transaction> txn_;
  std::optional<SessionEnd> end_;
  uint64_t frames_this_session_ = 0;
  TimestampNs last_reject_log_ = 0;
  uint64_t suppressed_rejects_ = 0;
  Probe probe_;

  AtomicStats stats_;
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

}  // namespace tickflow::exchange::binance
