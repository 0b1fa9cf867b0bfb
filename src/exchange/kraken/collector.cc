// Kraken v1 collector (collector.h): config, the subscribe event, frame handling and the REST
// backfill of reconnect holes. The connect and read loops, bus output (batching, commit, DLQ),
// metrics probe and REST retries are the collectors' shared parts (exchange/collector/).
#include "exchange/kraken/collector.h"

#include <algorithm>
#include <atomic>
#include <limits>
#include <map>
#include <mutex>
#include <optional>
#include <thread>

#include <spdlog/spdlog.h>

#include "core/symbol.h"
#include "exchange/collector/output.h"
#include "exchange/collector/probe.h"
#include "exchange/collector/rest.h"
#include "exchange/collector/worker.h"
#include "exchange/collector/instruments.h"
#include "exchange/kraken/book.h"
#include "exchange/kraken/collector_config.h"
#include "exchange/kraken/instruments.h"
#include "exchange/kraken/parse.h"
#include "exchange/kraken/rest.h"
#include "exchange/kraken/v2_parse.h"

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

// Running collectors per WebSocket host (Kraken: at most 20 connections per IP).
std::mutex g_hosts_mu;
std::map<std::string, int>& g_hosts() {
  static std::map<std::string, int> hosts;
  return hosts;
}

// Bounded label values of tickflow_collector_messages_total{exchange="kraken",kind}.
enum class Kind : uint8_t { kTrade, kHeartbeat, kSystemStatus, kSubscriptionStatus, kOther, kBook };
const std::vector<std::string_view> kKindNames = {"trade",              "heartbeat", "systemStatus",
                                                  "subscriptionStatus", "other",     "book"};

Kind kind_of(MessageKind k) {
  switch (k) {
    case MessageKind::kTrade: return Kind::kTrade;
    case MessageKind::kHeartbeat: return Kind::kHeartbeat;
    case MessageKind::kSystemStatus: return Kind::kSystemStatus;
    case MessageKind::kSubscriptionStatus: return Kind::kSubscriptionStatus;
    case MessageKind::kBookSnapshot:
    case MessageKind::kBookUpdate: return Kind::kBook;
    default: return Kind::kOther;
  }
}

}  // namespace

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
        books_(kExchange, out_, clock, config_.book_output),
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
    s.book_snapshots = st_.book_snapshots.load();
    s.book_updates = st_.book_updates.load();
    s.checksum_mismatches = st_.checksum_mismatches.load();
    s.book_resyncs = st_.book_resyncs.load();
    s.book_stale = st_.book_stale.load();
    s.id_gaps = st_.id_gaps.load();
    s.rest_rate_limited = st_.rest_rate_limited.load();
    return s;
  }
  std::optional<BookState> book(std::string_view symbol) const {
    std::lock_guard lk(views_mu_);
    for (size_t i = 0; i < pairs_.size() && i < views_.size(); ++i) {
      if (pairs_[i].unified == symbol || pairs_[i].pair == symbol || pairs_[i].v1_pair == symbol) return views_[i];
    }
    return std::nullopt;
  }

 private:
  struct PairState {
    std::string unified, pair, rest_pair;  // BTC-USD, XBT/USD (v2: BTC/USD), XBTUSD
    std::string v1_pair;                   // XBT/USD (REST pair names, both APIs)
    TimestampNs last_ts = 0;               // v2: time of the last published trade (0: unknown)
    size_t series = 0;                     // in out_ (bus key kraken:BTC-USD, state key XBT/USD)
    bool needs_backfill = false;           // reconnected with a stored key: repair once subscribed
    size_t book_index = 0;                 // in books_
    KrakenBook book;
    bool resubscribing = false;            // book unsubscribe + subscribe sent, snapshot not yet seen
  };
  struct AtomicStats {
    std::atomic<uint64_t> frames{0}, backfilled{0}, duplicates_dropped{0}, ignored{0}, exchange_errors{0},
        unfilled_gaps{0}, book_snapshots{0}, book_updates{0}, checksum_mismatches{0}, book_resyncs{0},
        book_stale{0}, id_gaps{0}, rest_rate_limited{0};
  };

  void run();
  SessionEnd run_session();
  bool process(std::string_view frame);
  void on_trades(std::string_view frame);
  void on_book(std::string_view frame, TimestampNs recv);
  void resync_book(PairState& p, std::string_view reason);
  void publish_view(size_t i);
  std::string book_request(std::string_view event, std::string_view pair_list) const;
  Result<transport::HttpResponse> get_public(const std::string& url);
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
  collector::BookOutput books_;
  collector::HealthCell health_;
  collector::ConnectionCounters counters_;

  // Worker-thread state.
  FrameParser parser_;
  V2Parser v2_parser_;
  const bool v2_ = config_.api == "v2";
  ParsedMessage parsed_;
  transport::Url ws_target_;
  std::string rest_base_;
  std::string subscribe_;
  std::string book_subscribe_;  // empty without books
  std::vector<PairState> pairs_;  // fixed after start()
  std::optional<SessionEnd> end_;
  uint64_t frames_this_session_ = 0;

  AtomicStats st_;
  mutable std::mutex views_mu_;
  std::vector<BookState> views_;  // by pair, under views_mu_
  std::mutex lifecycle_mu_;
  bool started_ = false;
  bool counted_host_ = false;  // holds one of the host's kMaxConnectionsPerIp (under lifecycle_mu_)
  std::atomic<bool> halted_{false};
  std::thread thread_;
};

Status Collector::Worker::start() {
  std::lock_guard lk(lifecycle_mu_);
  if (started_) return Status(ErrorCode::kAlreadyExists, "collector.kraken already started");
  TICKFLOW_RETURN_IF_ERROR(validate(config_));
  ws_target_ = *transport::parse_url(config_.ws_url);
  rest_base_ = trim_trailing_slash(config_.rest_url);
  auto specs = internal::resolve(config_);
  if (config_.fetch_instruments) {
    // The instrument list: every configured pair must be a trading Kraken pair.
    auto res = get_public(rest_base_ + "/0/public/AssetPairs");
    if (!res) return Status(res.status().code(), "collector.kraken: GET /0/public/AssetPairs: " + res.status().message());
    auto list = parse_asset_pairs(res->body);
    if (!list) return Status(list.status().code(), "collector.kraken: " + list.status().message());
    auto resolved = collector::InstrumentMap(std::move(*list)).resolve(kExchange, config_.symbols);
    if (!resolved) return Status::invalid_argument("collector.kraken.symbols: " + resolved.status().message());
    specs->clear();
    for (const auto& in : *resolved) {
      if (std::none_of(specs->begin(), specs->end(), [&](const internal::PairSpec& p) { return p.pair == in.exchange_symbol; })) {
        specs->push_back({in.symbol, in.exchange_symbol});
        v2_parser_.set_precision(in.base + "/" + in.quote, in.price_increment.scale(), in.size_increment.scale());
      }
    }
  }
  {
    std::lock_guard hl(g_hosts_mu);
    int& n = g_hosts()[ws_target_.host];
    if (n >= kMaxConnectionsPerIp) {
      return Status::invalid_argument("collector.kraken: this configuration would open " + std::to_string(n + 1) +
                                      " WebSocket connections to " + ws_target_.host + "; Kraken allows at most " +
                                      std::to_string(kMaxConnectionsPerIp) + " per IP");
    }
    ++n;
    counted_host_ = true;
  }
  TICKFLOW_RETURN_IF_ERROR(out_.create_topics());
  subscribe_ = R"({"event":"subscribe","pair":[)";
  for (const auto& spec : *specs) {
    PairState p;
    p.unified = spec.unified;
    p.v1_pair = spec.pair;
    p.pair = v2_ ? spec.unified.substr(0, spec.unified.find('-')) + "/" + spec.unified.substr(spec.unified.find('-') + 1)
                 : spec.pair;
    p.rest_pair = spec.pair;
    p.rest_pair.erase(std::remove(p.rest_pair.begin(), p.rest_pair.end(), '/'), p.rest_pair.end());
    auto series = out_.add_series(instrument_key(Exchange::kKraken, spec.unified), v2_ ? "v2:" + p.pair : p.pair);
    if (!series) return series.status();
    p.series = *series;
    p.book_index = books_.add_book(p.unified, p.pair);
    p.book = KrakenBook(static_cast<size_t>(config_.book_depth));
    if (!pairs_.empty()) subscribe_ += ',';
    subscribe_ += '"' + p.pair + '"';
    pairs_.push_back(std::move(p));
  }
  const std::string pair_list = subscribe_.substr(subscribe_.find('[') + 1);
  subscribe_ += R"(],"subscription":{"name":"trade"}})";
  if (v2_) subscribe_ = R"({"method":"subscribe","params":{"channel":"trade","symbol":[)" + pair_list + R"(],"snapshot":false}})";
  if (config_.book_depth > 0) book_subscribe_ = book_request("subscribe", pair_list);
  views_.resize(pairs_.size());
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
  if (counted_host_) {
    std::lock_guard hl(g_hosts_mu);
    --g_hosts()[ws_target_.host];
    counted_host_ = false;
  }
  if (!halted_.load()) health_.set(HealthState::kDown, "stopped");
}

void Collector::Worker::run() {
  collector::ConnectionHooks hooks;
  hooks.connect = [this]() -> Status {
    TICKFLOW_RETURN_IF_ERROR(ws_->connect(ws_target_, config_.connect_timeout));
    TICKFLOW_RETURN_IF_ERROR(ws_->send_text(subscribe_));
    return book_subscribe_.empty() ? Status::ok() : ws_->send_text(book_subscribe_);
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
  for (size_t i = 0; i < pairs_.size(); ++i) {
    PairState& p = pairs_[i];
    p.needs_backfill = last_key(p) != kNoId;
    if (config_.book_depth == 0) continue;
    // A new connection: every book restarts from its new snapshot.
    if (p.book.synced()) books_.on_resync(p.book_index, "reconnect");
    p.book = KrakenBook(static_cast<size_t>(config_.book_depth));
    p.resubscribing = false;
    publish_view(i);
  }
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
  ++frames_this_session_;
  const TimestampNs recv = clock_.now_ns();
  Status st = v2_ ? v2_parser_.parse(frame, recv, parsed_) : parser_.parse(frame, recv, parsed_);
  if (!st) {
    probe_.invalid();
    const std::string_view reason = v2_ ? v2_parser_.error_reason() : parser_.error_reason();
    out_.reject(reason.empty() ? "malformed" : reason, st.message(), frame, recv);
    return !end_;
  }
  probe_.message(static_cast<size_t>(kind_of(parsed_.kind)));
  switch (parsed_.kind) {
    case MessageKind::kTrade:
      on_trades(frame);
      return !end_;
    case MessageKind::kBookSnapshot:
    case MessageKind::kBookUpdate:
      on_book(frame, recv);
      return !end_;
    case MessageKind::kSubscriptionStatus:
      if (parsed_.is_error()) {
        spdlog::error("collector.kraken: subscription to {} {} refused by Kraken: {}", parsed_.subscription_name,
                      parsed_.pair, parsed_.error_message);
        health_.set(HealthState::kDegraded, "kraken: " + parsed_.pair + ": " + parsed_.error_message);
        st_.exchange_errors.fetch_add(1);  // after the health: whoever sees the count sees the health
      } else if (parsed_.status == "subscribed" && parsed_.subscription_name != "book") {
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
    if (v2_ && last_key(*p) != kNoId && t.trade_id > last_key(*p) + 1 && !p->needs_backfill) {
      // v2 ids are sequential per pair: the trades in between were lost; repair before this one.
      st_.id_gaps.fetch_add(1, std::memory_order_relaxed);
      backfill(*p, t.trade_id);
      if (end_) return;
    }
    if (!out_.accept(t, frame)) continue;
    out_.publish(p->series, t);
    p->last_ts = t.ts_event;
  }
}

std::string Collector::Worker::book_request(std::string_view event, std::string_view pair_list) const {
  // pair_list: "\"XBT/USD\",\"ETH/USD\"" (without the brackets).
  if (v2_) {
    return R"({"method":")" + std::string(event) + R"(","params":{"channel":"book","symbol":[)" + std::string(pair_list) +
           R"(],"depth":)" + std::to_string(config_.book_depth) + (event == "subscribe" ? R"(,"snapshot":true}})" : "}}");
  }
  return R"({"event":")" + std::string(event) + R"(","pair":[)" + std::string(pair_list) +
         R"(],"subscription":{"name":"book","depth":)" + std::to_string(config_.book_depth) + "}}";
}

void Collector::Worker::on_book(std::string_view frame, TimestampNs recv) {
  PairState* p = find(parsed_.pair);
  if (p == nullptr || config_.book_depth == 0 || (!v2_ && parsed_.book_depth != config_.book_depth)) {
    out_.reject("unknown_symbol", "book message for an unsubscribed channel " + parsed_.channel_name + " " + parsed_.pair,
                frame, recv);
    return;
  }
  const Status st = p->book.apply(parsed_);
  if (st) {
    const bool snapshot = parsed_.kind == MessageKind::kBookSnapshot;
    if (snapshot) p->resubscribing = false;
    TimestampNs ts_event = 0;
    for (const auto* side : {&parsed_.asks, &parsed_.bids}) {
      for (const BookEntry& e : *side) ts_event = std::max(ts_event, e.ts);
    }
    books_.on_book(p->book_index, p->book.book(), 0, ts_event, recv);
    publish_view(static_cast<size_t>(p - pairs_.data()));
    // Counted after the view: whoever sees the count sees the book it made.
    (snapshot ? st_.book_snapshots : st_.book_updates).fetch_add(1, std::memory_order_release);
    return;
  }
  const std::string_view reason = p->book.reason();
  if (reason == "out_of_sync") {  // in flight for the old subscription; the new snapshot follows
    st_.book_stale.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  if (reason == "checksum_mismatch") {
    st_.checksum_mismatches.fetch_add(1, std::memory_order_relaxed);
    spdlog::warn("collector.kraken: {}", st.message());
  } else {
    out_.reject(reason.empty() ? "bad_book" : reason, st.message(), frame, recv);
  }
  resync_book(*p, reason.empty() ? "bad_book" : reason);
  publish_view(static_cast<size_t>(p - pairs_.data()));
}

void Collector::Worker::resync_book(PairState& p, std::string_view reason) {
  books_.on_resync(p.book_index, reason);
  if (p.resubscribing) return;  // one resubscribe at a time; its snapshot resyncs the book
  p.resubscribing = true;
  st_.book_resyncs.fetch_add(1, std::memory_order_relaxed);
  const std::string one = '"' + p.pair + '"';
  Status st = ws_->send_text(book_request("unsubscribe", one));
  if (st) st = ws_->send_text(book_request("subscribe", one));
  if (!st) {
    // The connection is going down: the reconnect resubscribes everything.
    spdlog::warn("collector.kraken: resubscribing the book of {} failed: {}", p.pair, st.message());
  }
}

void Collector::Worker::publish_view(size_t i) {
  const KrakenBook& b = pairs_[i].book;
  BookState v;
  v.synced = b.synced();
  if (v.synced) {
    b.book().top(10, v.top);
    v.checksum = book::kraken_checksum(b.book());
  }
  v.snapshots = b.snapshots();
  v.updates = b.updates();
  std::lock_guard lk(views_mu_);
  views_[i] = std::move(v);
}

Result<transport::HttpResponse> Collector::Worker::get_public(const std::string& url) {
  // Kraken answers its REST rate limit ("EAPI:Rate limit exceeded") and overload ("EService:
  // Unavailable" / "EService:Busy") with HTTP 200 and the error first in the body's error
  // array; the restriction lasts "a few seconds" (Kraken's REST rate-limit guide): retried like
  // a 429, backoff.base_delay × attempt apart, at most max_http_retries times.
  for (int attempt = 0;; ++attempt) {
    auto res = rest_.get(url);
    if (!res) return res;
    const std::string_view head = std::string_view(res->body).substr(0, 64);
    const bool limited = head.find("\"EAPI:Rate limit") != std::string_view::npos ||
                         head.find("\"EService:") != std::string_view::npos;
    if (!limited || attempt >= config_.max_http_retries) return res;
    st_.rest_rate_limited.fetch_add(1, std::memory_order_relaxed);
    probe_.http_limited(429);
    spdlog::warn("collector.kraken: REST {} (attempt {}); retrying", std::string(head), attempt + 1);
    if (!control_.wait_for(config_.backoff.base_delay * (attempt + 1))) return res;
  }
}

void Collector::Worker::backfill(PairState& p, int64_t until_key) {
  // since is exclusive, in ns: one below the last key's microsecond gives its whole group, so
  // the page's ordinals equal the live ones (rest.h).
  std::string since = std::to_string((last_key(p) / 1000) * 1000 - 1);
  if (v2_) {  // keys are Kraken's ids: start at the last trade's time (or the restart lookback)
    since = std::to_string(p.last_ts > 0 ? p.last_ts - 1 : clock_.now_ns() - config_.v2_restart_lookback);
  }
  bool first_page = true;
  size_t published = 0;
  bool complete = false;
  for (int page = 0; page < config_.max_backfill_pages && !control_.stopping(); ++page) {
    const std::string url = rest_base_ + "/0/public/Trades?pair=" + p.rest_pair + "&since=" + since;
    auto res = get_public(url);
    if (!res) {
      spdlog::error("collector.kraken: backfill of {} since {} failed: {}", p.pair, since, res.status().message());
      if (res.status().code() == ErrorCode::kInvalidArgument) {
        health_.set(HealthState::kDegraded, "kraken REST: " + res.status().message());
      }
      break;
    }
    RestTradesPage pg;
    const TimestampNs recv = clock_.now_ns();
    if (Status st = parse_rest_trades(res->body, p.v1_pair, recv, pg); !st) {
      if (st.code() == ErrorCode::kCorruption) {
        out_.reject("bad_rest_response", st.message(), res->body, recv);
      } else {
        spdlog::error("collector.kraken: backfill of {}: {}", p.pair, st.message());
        health_.set(HealthState::kDegraded, st.message());
      }
      break;
    }
    bool reached = false;
    for (size_t i = 0; i < pg.trades.size(); ++i) {
      Trade& t = pg.trades[i];
      if (v2_) {
        if (pg.ids[i] < 0) {
          out_.reject("bad_rest_response", "REST trade without Kraken's trade id", res->body, recv);
          break;
        }
        t.trade_id = t.first_trade_id = t.last_trade_id = pg.ids[i];
        t.exchange_symbol = p.pair;
        // The first page must reach back to the trade after the last one published.
        if (first_page && last_key(p) != kNoId && t.trade_id > last_key(p) + 1 && t.trade_id == pg.ids.front()) {
          spdlog::warn("collector.kraken: {} REST repair starts at id {} > {} + 1 (lookback too short)", p.pair,
                       t.trade_id, last_key(p));
          st_.unfilled_gaps.fetch_add(1);
        }
      }
      if (t.trade_id >= until_key) {
        reached = true;
        break;
      }
      if (t.trade_id <= last_key(p)) continue;
      if (!out_.accept(t, {})) continue;
      out_.publish(p.series, t);
      p.last_ts = t.ts_event;
      ++published;
    }
    first_page = false;
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
std::optional<Collector::BookState> Collector::book(std::string_view symbol) const { return worker_->book(symbol); }

}  // namespace tickflow::exchange::kraken
