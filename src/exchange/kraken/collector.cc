// Kraken v1 collector (collector.h): config, the subscribe event, frame handling and the REST
// backfill of reconnect holes. The connect and read loops, bus output (batching, commit, DLQ),
// metrics probe and REST retries are the collectors' shared parts (exchange/collector/).
#include "exchange/kraken/collector.h"

#include <algorithm>
#include <atomic>
#include <limits>
#include <mutex>
#include <optional>
#include <thread>

#include <spdlog/spdlog.h>

#include "core/symbol.h"
#include "exchange/collector/output.h"
#include "exchange/collector/probe.h"
#include "exchange/collector/rest.h"
#include "exchange/collector/worker.h"
#include "exchange/kraken/parse.h"
#include "exchange/kraken/rest.h"

namespace tickflow::exchange::kraken {

namespace {

constexpr std::string_view kExchange = "kraken";
constexpr std::string_view kComponent = "collector.kraken";
constexpr size_t kRestPageSize = 1000;  // Kraken returns at most 1000 trades per call
using collector::kNoId;
using collector::SessionEnd;

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
enum class Kind : uint8_t { kTrade, kHeartbeat, kSystemStatus, kSubscriptionStatus, kOther };
const std::vector<std::string_view> kKindNames = {"trade", "heartbeat", "systemStatus", "subscriptionStatus",
                                                  "other"};

Kind kind_of(MessageKind k) {
  switch (k) {
    case MessageKind::kTrade: return Kind::kTrade;
    case MessageKind::kHeartbeat: return Kind::kHeartbeat;
    case MessageKind::kSystemStatus: return Kind::kSystemStatus;
    case MessageKind::kSubscriptionStatus: return Kind::kSubscriptionStatus;
    default: return Kind::kOther;
  }
}

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
      : config_(std::move(config)),
        clock_(clock),
        ws_(std::move(ws)),
        http_(std::move(http)),
        probe_(kExchange, kKindNames),
        out_(kExchange, bus, clock, probe_, config_.validation),
        rest_(*http_, {config_.max_http_retries, config_.http_timeout, config_.backoff.base_delay, 0, 2 * kNsPerMin},
              control_, probe_, kComponent),
        health_(std::string(kComponent)) {}
  ~Worker() { stop(); }

  Status start();
  void stop();
  ComponentHealth health() const { return health_.get(); }
  Stats stats() const {
    Stats s;
    s.frames = st_.frames.load();
    s.trades_published = out_.published();
    s.backfilled = st_.backfilled.load();
    s.duplicates_dropped = st_.duplicates_dropped.load();
    s.ignored = st_.ignored.load();
    s.rejected = out_.rejected();
    s.exchange_errors = st_.exchange_errors.load();
    s.connects = counters_.connects.load();
    s.reconnects = counters_.reconnects.load();
    s.unfilled_gaps = st_.unfilled_gaps.load();
    s.publish_errors = out_.publish_errors();
    s.commits = out_.commits();
    return s;
  }

 private:
  struct PairState {
    std::string unified, pair, rest_pair;  // BTC-USD, XBT/USD, XBTUSD
    size_t series = 0;                     // in out_ (bus key kraken:BTC-USD, state key XBT/USD)
    bool needs_backfill = false;           // reconnected with a stored key: repair once subscribed
  };
  struct AtomicStats {
    std::atomic<uint64_t> frames{0}, backfilled{0}, duplicates_dropped{0}, ignored{0}, exchange_errors{0},
        unfilled_gaps{0};
  };

  void run();
  SessionEnd run_session();
  bool process(std::string_view frame);
  void on_trades(std::string_view frame);
  void backfill(PairState& p, int64_t until_key);
  int64_t& last_key(const PairState& p) { return out_.series(p.series).last_id; }
  void end_on(collector::CollectorOutput::Flush f) {
    if (f == collector::CollectorOutput::Flush::kFatal) {
      health_.set(HealthState::kDown, "ingestion stopped: bus commit failed: " + out_.last_error().to_string());
      end_ = SessionEnd::kFatal;
    } else if (f == collector::CollectorOutput::Flush::kReconnect) {
      end_ = SessionEnd::kReconnect;
    }
  }
  PairState* find(std::string_view pair) {
    for (auto& p : pairs_) {
      if (p.pair == pair) return &p;
    }
    return nullptr;
  }

  const CollectorConfig config_;
  const Clock& clock_;
  std::unique_ptr<transport::WsConnection> ws_;
  std::unique_ptr<transport::HttpClient> http_;
  collector::WorkerControl control_;
  collector::CollectorProbe probe_;
  collector::CollectorOutput out_;
  collector::RestFetcher rest_;
  collector::HealthCell health_;
  collector::ConnectionCounters counters_;

  // Worker-thread state.
  FrameParser parser_;
  ParsedMessage parsed_;
  transport::Url ws_target_;
  std::string rest_base_;
  std::string subscribe_;
  std::vector<PairState> pairs_;
  std::optional<SessionEnd> end_;
  uint64_t frames_this_session_ = 0;

  AtomicStats st_;
  std::mutex lifecycle_mu_;
  bool started_ = false;
  std::atomic<bool> halted_{false};
  std::thread thread_;
};

Status Collector::Worker::start() {
  std::lock_guard lk(lifecycle_mu_);
  if (started_) return Status(ErrorCode::kAlreadyExists, "collector.kraken already started");
  TICKFLOW_RETURN_IF_ERROR(validate(config_));
  ws_target_ = *transport::parse_url(config_.ws_url);
  rest_base_ = trim_trailing_slash(config_.rest_url);
  TICKFLOW_RETURN_IF_ERROR(out_.create_topics());
  subscribe_ = R"({"event":"subscribe","pair":[)";
  const auto specs = resolve(config_);
  for (const auto& spec : *specs) {
    PairState p;
    p.unified = spec.unified;
    p.pair = spec.pair;
    p.rest_pair = spec.pair;
    p.rest_pair.erase(std::remove(p.rest_pair.begin(), p.rest_pair.end(), '/'), p.rest_pair.end());
    auto series = out_.add_series(instrument_key(Exchange::kKraken, spec.unified), p.pair);
    if (!series) return series.status();
    p.series = *series;
    if (!pairs_.empty()) subscribe_ += ',';
    subscribe_ += '"' + p.pair + '"';
    pairs_.push_back(std::move(p));
  }
  subscribe_ += R"(],"subscription":{"name":"trade"}})";
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

void Collector::Worker::run() {
  collector::ConnectionHooks hooks;
  hooks.connect = [this]() -> Status {
    TICKFLOW_RETURN_IF_ERROR(ws_->connect(ws_target_, config_.connect_timeout));
    return ws_->send_text(subscribe_);
  };
  hooks.session = [this] { return run_session(); };
  hooks.session_frames = [this] { return frames_this_session_; };
  if (collector::run_connection_loop(kComponent, ws_target_.to_string(), config_.backoff, control_, health_, probe_,
                                     counters_, hooks)) {
    halted_.store(true);
  }
  out_.drop_batch();
}

SessionEnd Collector::Worker::run_session() {
  frames_this_session_ = 0;
  parser_.reset_trade_keys();
  for (auto& p : pairs_) p.needs_backfill = last_key(p) != kNoId;
  return collector::read_frames(
      kComponent, *ws_, control_, config_.stale_timeout, config_.max_batch_frames,
      [this](std::string_view frame) { return process(frame); },
      [this]() -> std::optional<SessionEnd> {
        if (!end_) end_on(out_.flush());
        std::optional<SessionEnd> e = end_;
        end_.reset();
        return e;
      });
}

bool Collector::Worker::process(std::string_view frame) {
  st_.frames.fetch_add(1, std::memory_order_relaxed);
  ++frames_this_session_;
  const TimestampNs recv = clock_.now_ns();
  Status st = parser_.parse(frame, recv, parsed_);
  if (!st) {
    probe_.invalid();
    const std::string_view reason = parser_.error_reason();
    out_.reject(reason.empty() ? "malformed" : reason, st.message(), frame, recv);
    return !end_;
  }
  probe_.message(static_cast<size_t>(kind_of(parsed_.kind)));
  switch (parsed_.kind) {
    case MessageKind::kTrade:
      on_trades(frame);
      return !end_;
    case MessageKind::kSubscriptionStatus:
      if (parsed_.is_error()) {
        st_.exchange_errors.fetch_add(1);
        spdlog::error("collector.kraken: subscription to {} {} refused by Kraken: {}", parsed_.subscription_name,
                      parsed_.pair, parsed_.error_message);
        health_.set(HealthState::kDegraded, "kraken: " + parsed_.pair + ": " + parsed_.error_message);
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
        health_.set(HealthState::kDegraded, "kraken system status: " + parsed_.status);
      }
      break;
    default:
      break;
  }
  st_.ignored.fetch_add(1, std::memory_order_relaxed);
  return !end_;
}

void Collector::Worker::on_trades(std::string_view frame) {
  PairState* p = find(parsed_.pair);
  if (p == nullptr) {
    out_.reject("unknown_symbol", "trade for unsubscribed pair " + parsed_.pair, frame, clock_.now_ns());
    return;
  }
  for (Trade& t : parsed_.trades) {
    if (t.ts_event > 0) probe_.feed_lag(t.ts_recv - t.ts_event);
    if (last_key(*p) != kNoId && t.trade_id <= last_key(*p)) {
      st_.duplicates_dropped.fetch_add(1, std::memory_order_relaxed);
      continue;
    }
    if (!out_.accept(t, frame)) continue;
    out_.publish(p->series, t);
  }
}

void Collector::Worker::backfill(PairState& p, int64_t until_key) {
  // since is exclusive, in ns: one below the last key's microsecond gives its whole group, so
  // the page's ordinals equal the live ones (rest.h).
  std::string since = std::to_string((last_key(p) / 1000) * 1000 - 1);
  size_t published = 0;
  bool complete = false;
  for (int page = 0; page < config_.max_backfill_pages && !control_.stopping(); ++page) {
    const std::string url = rest_base_ + "/0/public/Trades?pair=" + p.rest_pair + "&since=" + since;
    auto res = rest_.get(url);
    if (!res) {
      spdlog::error("collector.kraken: backfill of {} since {} failed: {}", p.pair, since, res.status().message());
      if (res.status().code() == ErrorCode::kInvalidArgument) {
        health_.set(HealthState::kDegraded, "kraken REST: " + res.status().message());
      }
      break;
    }
    RestTradesPage pg;
    const TimestampNs recv = clock_.now_ns();
    if (Status st = parse_rest_trades(res->body, p.pair, recv, pg); !st) {
      if (st.code() == ErrorCode::kCorruption) {
        out_.reject("bad_rest_response", st.message(), res->body, recv);
      } else {
        spdlog::error("collector.kraken: backfill of {}: {}", p.pair, st.message());
        health_.set(HealthState::kDegraded, st.message());
      }
      break;
    }
    bool reached = false;
    for (Trade& t : pg.trades) {
      if (t.trade_id >= until_key) {
        reached = true;
        break;
      }
      if (t.trade_id <= last_key(p)) continue;
      if (!out_.accept(t, {})) continue;
      out_.publish(p.series, t);
      ++published;
    }
    end_on(out_.flush());
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
    spdlog::warn("collector.kraken: {} reconnect hole after key {} not fully backfilled", p.pair, last_key(p));
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
