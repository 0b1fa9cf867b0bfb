// Binance collector: config validation, the combined stream URL and the worker's lifecycle
// (start / stop / health / stats). The worker's session and frame handling live in
// collector_session.cc, the REST backfill in backfill.cc (collector_worker.h).
#include "exchange/binance/collector.h"

#include <algorithm>
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

std::vector<std::string_view> kind_names() {
  std::vector<std::string_view> out;
  for (int k = 0; k <= static_cast<int>(MessageKind::kUnknown); ++k) out.push_back(kind_name(static_cast<MessageKind>(k)));
  return out;
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
    : config_(std::move(config)),
      clock_(clock),
      ws_(std::move(ws)),
      http_(std::move(http)),
      probe_(kExchange, kind_names()),
      out_(kExchange, bus, clock, probe_, config_.validation),
      rest_(*http_,
            {config_.max_http_retries, config_.http_timeout, config_.backoff.base_delay,
             config_.rate_limit_default_wait, config_.ban_min_wait},
            control_, probe_, kComponent),
      health_(std::string(kComponent)) {}

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
  TICKFLOW_RETURN_IF_ERROR(out_.create_topics());
  auto symbols = resolve_symbols(config_);
  for (auto& spec : *symbols) {
    SymbolState s;
    s.unified = spec.unified;
    s.exchange_symbol = spec.exchange_symbol;
    auto series = out_.add_series(instrument_key(Exchange::kBinance, spec.unified),
                                  agg_ ? spec.exchange_symbol : spec.exchange_symbol + "@trade");
    if (!series) return series.status();
    s.series = *series;
    index_.emplace(s.exchange_symbol, symbols_.size());
    symbols_.push_back(std::move(s));
  }
  started_ = true;
  health_.set(HealthState::kDegraded, "connecting");
  thread_ = std::thread([this] { run(); });
  return Status::ok();
}

void Collector::Worker::stop() {
  std::lock_guard<std::mutex> guard(lifecycle_mu_);
  control_.request_stop();
  if (ws_) ws_->close();
  if (thread_.joinable()) thread_.join();
  if (!halted_.load()) health_.set(HealthState::kDown, "stopped");
}

Collector::Stats Collector::Worker::stats() const {
  Stats s;
  s.frames = stats_.frames.load();
  s.trades_published = out_.published();
  s.backfilled = stats_.backfilled.load();
  s.duplicates_dropped = stats_.duplicates_dropped.load();
  s.ignored = stats_.ignored.load();
  s.rejected = out_.rejected();
  s.connects = counters_.connects.load();
  s.reconnects = counters_.reconnects.load();
  s.gaps = stats_.gaps.load();
  s.unfilled_gaps = stats_.unfilled_gaps.load();
  s.http_rate_limited = rest_.rate_limited();
  s.publish_errors = out_.publish_errors();
  s.commits = out_.commits();
  return s;
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
