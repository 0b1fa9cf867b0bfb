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

std::string stream_url(const CollectorConfig& config, const std::vector<std::string>& exchange_symbols) {
  std::string url = trim_trailing_slash(config.ws_url) + "/stream?streams=";
  bool first = true;
  for (const auto& stream : stream_names(config, exchange_symbols)) {
    if (!first) url += '/';
    first = false;
    url += stream;
  }
  return url;
}

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
  if (config.ping_interval <= 0) return Status::invalid_argument("collector.binance.ping_interval must be > 0");
  if (config.http_timeout <= 0) return Status::invalid_argument("collector.binance.http_timeout must be > 0");
  if (config.backfill_limit < 1 || config.backfill_limit > 1000) {
    return Status::invalid_argument("collector.binance.backfill_limit must be 1..1000");
  }
  if (config.max_batch_frames == 0) return Status::invalid_argument("collector.binance.max_batch_frames must be > 0");
  if (config.subscribe != "url" && config.subscribe != "message") {
    return Status::invalid_argument("collector.binance.subscribe: must be \"url\" or \"message\", got \"" +
                                    config.subscribe + "\"");
  }
  if (config.subscribe_batch == 0 || config.subscribe_batch > kMaxStreamsPerConnection) {
    return Status::invalid_argument("collector.binance.subscribe_batch must be 1..1024");
  }
  if (config.max_messages_per_second == 0) {
    return Status::invalid_argument("collector.binance.max_messages_per_second must be > 0");
  }
  if (config.book_snapshot_limit < 1 || config.book_snapshot_limit > 5000) {
    return Status::invalid_argument("collector.binance.book_snapshot_limit must be 1..5000");
  }
  if (config.book_depth == 0) return Status::invalid_argument("collector.binance.book_depth must be > 0");
  if (config.book_interval < 0) return Status::invalid_argument("collector.binance.book_interval must be >= 0");
  const size_t streams = symbols->size() * (1 + (config.book ? 1 : 0) + (config.book_ticker ? 1 : 0));
  if (streams > kMaxStreamsPerConnection) {
    return Status::invalid_argument("collector.binance.symbols: " + std::to_string(streams) +
                                    " streams exceed Binance's " + std::to_string(kMaxStreamsPerConnection) +
                                    " per connection (one connection per collector: split the symbols over "
                                    "several collectors)");
  }
  return Status::ok();
}

std::vector<std::string> stream_names(const CollectorConfig& config, const std::vector<std::string>& exchange_symbols) {
  std::vector<std::string> out;
  for (const auto& sym : exchange_symbols) {
    const std::string l = lower(sym);
    out.push_back(l + "@" + config.trade_stream);
    if (config.book) out.push_back(l + "@depth@100ms");
    if (config.book_ticker) out.push_back(l + "@bookTicker");
  }
  return out;
}

Result<std::string> combined_stream_url(const CollectorConfig& config) {
  TICKFLOW_RETURN_IF_ERROR(validate(config));
  auto symbols = resolve_symbols(config);
  std::vector<std::string> names;
  for (const auto& s : *symbols) names.push_back(s.exchange_symbol);
  return internal::stream_url(config, names);
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
      book_out_(kExchange, out_, clock, {config_.book_interval, config_.book_depth}),
      rest_(*http_,
            {config_.max_http_retries, config_.http_timeout, config_.backoff.base_delay,
             config_.rate_limit_default_wait, config_.ban_min_wait},
            control_, probe_, kComponent),
      health_(std::string(kComponent)) {
  out_.set_max_commits_in_flight(config_.commits_in_flight);
}

Collector::Worker::~Worker() { stop(); }

Status Collector::Worker::set_streams(const std::vector<std::string>& exchange_symbols) {
  streams_ = stream_names(config_, exchange_symbols);
  const std::string url = config_.subscribe == "message" ? trim_trailing_slash(config_.ws_url) + "/stream"
                                                         : stream_url(config_, exchange_symbols);
  auto parsed = transport::parse_url(url);
  if (!parsed) return parsed.status();
  ws_target_ = *parsed;
  return Status::ok();
}

Status Collector::Worker::start() {
  std::lock_guard<std::mutex> guard(lifecycle_mu_);
  if (started_) return Status(ErrorCode::kAlreadyExists, "collector.binance already started");
  TICKFLOW_RETURN_IF_ERROR(validate(config_));
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
    if (config_.book) {
      s.book = static_cast<int>(books_.size());
      BookState& b = books_.emplace_back();
      b.symbol = symbols_.size();
      b.output = book_out_.add_book(s.unified, s.exchange_symbol);
    }
    index_.emplace(s.exchange_symbol, symbols_.size());
    symbols_.push_back(std::move(s));
  }
  std::vector<std::string> names;
  for (const auto& s : symbols_) names.push_back(s.exchange_symbol);
  TICKFLOW_RETURN_IF_ERROR(set_streams(names));
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
  s.depth_applied = stats_.depth_applied.load();
  s.depth_buffered = stats_.depth_buffered.load();
  s.depth_stale = stats_.depth_stale.load();
  s.book_snapshots = stats_.book_snapshots.load();
  s.resyncs_sequence_gap = stats_.resyncs_sequence_gap.load();
  s.resyncs_bridge_failed = stats_.resyncs_bridge_failed.load();
  s.resyncs_reconnect = stats_.resyncs_reconnect.load();
  s.crossed_books = stats_.crossed_books.load();
  s.book_tickers = stats_.book_tickers.load();
  s.unknown_symbols = stats_.unknown_symbols.load();
  s.subscribe_messages = stats_.subscribe_messages.load();
  s.subscribe_errors = stats_.subscribe_errors.load();
  return s;
}

namespace {
transport::WsOptions ws_options(const CollectorConfig& config) {
  transport::WsOptions o;
  o.ping_interval = config.ping_interval;
  return o;
}
}  // namespace

Collector::Collector(CollectorConfig config, bus::EventBus& bus, const Clock& clock)
    : Collector(config, bus, clock, transport::make_ws_connection(ws_options(config)), transport::make_http_client()) {}

Collector::Collector(CollectorConfig config, bus::EventBus& bus, const Clock& clock,
                     std::unique_ptr<transport::WsConnection> ws, std::unique_ptr<transport::HttpClient> http)
    : worker_(std::make_unique<Worker>(std::move(config), bus, clock, std::move(ws), std::move(http))) {}

Collector::~Collector() { stop(); }

Status Collector::start() { return worker_->start(); }
void Collector::stop() { worker_->stop(); }
ComponentHealth Collector::health() const { return worker_->health(); }
Collector::Stats Collector::stats() const { return worker_->stats(); }
std::optional<Collector::BookView> Collector::book(std::string_view symbol, size_t depth) const {
  return worker_->book(symbol, depth);
}

}  // namespace tickflow::exchange::binance
