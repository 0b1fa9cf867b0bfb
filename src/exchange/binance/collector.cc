// Binance collector: config validation, the combined stream URL, the metrics probe and the
// worker's lifecycle (start / stop / health / stats). The worker's connect loop and frame
// handling live in collector_session.cc, the REST backfill in backfill.cc (collector_worker.h).
#include "exchange/binance/collector.h"

#include <algorithm>
#include <charconv>
#include <mutex>
#include <thread>

#include "core/symbol.h"
#include "core/topics.h"
#include "exchange/binance/collector_worker.h"

namespace tickflow::exchange::binance {

using namespace internal;

namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
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

}  // namespace

namespace internal {

Probe::Probe() {
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

void Probe::rejected(std::string_view reason) {
  auto it = rejected_.find(std::string(reason));
  if (it == rejected_.end()) {
    auto* c = &rejected_family_->Add({{"exchange", std::string(kExchange)}, {"reason", std::string(reason)}});
    it = rejected_.emplace(std::string(reason), c).first;
  }
  it->second->Increment();
}

}  // namespace internal

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

Collector::Worker::Worker(CollectorConfig config, bus::EventBus& bus, const Clock& clock,
                          std::unique_ptr<transport::WsConnection> ws,
                          std::unique_ptr<transport::HttpClient> http)
    : config_(std::move(config)), bus_(bus), clock_(clock), ws_(std::move(ws)), http_(std::move(http)) {
  health_.name = std::string(kComponent);
  health_.state = HealthState::kDown;
  health_.detail = "not started";
}

Collector::Worker::~Worker() { stop(); }

Status Collector::Worker::start() {
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

void Collector::Worker::stop() {
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

ComponentHealth Collector::Worker::health() const {
  std::lock_guard<std::mutex> lock(health_mu_);
  return health_;
}

Collector::Stats Collector::Worker::stats() const {
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

bool Collector::Worker::wait_for(DurationNs d) {
  std::unique_lock<std::mutex> lock(wait_mu_);
  return !wait_cv_.wait_for(lock, std::chrono::nanoseconds(std::max<DurationNs>(d, 0)),
                            [this] { return stopping_.load(); });
}

void Collector::Worker::set_health(HealthState state, std::string detail) {
  std::lock_guard<std::mutex> lock(health_mu_);
  health_.state = state;
  health_.detail = std::move(detail);
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

}  // namespace tickflow::exchange::binance
