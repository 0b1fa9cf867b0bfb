// Binance collector worker, live path: the session (the initial backfill after a (re)connect,
// the read loop with the proactive reconnect before Binance's 24 h cut), frame processing
// (parse, dedup, gap detection) and the end of a session on a failed commit. Batching, commit
// and dead-lettering are collector::CollectorOutput's; the connect loop is
// collector::run_connection_loop.
#include <algorithm>
#include <limits>
#include <mutex>

#include <spdlog/spdlog.h>

#include "exchange/binance/collector_worker.h"
#include "exchange/binance/instruments.h"

namespace tickflow::exchange::binance {

using namespace internal;

namespace {

std::string upper(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  }
  return out;
}

}  // namespace

bool Collector::Worker::load_instruments() {
  auto res = rest_.get(rest_base_ + "/api/v3/exchangeInfo");
  std::vector<collector::Instrument> list;
  Status st = res ? parse_exchange_info(res->body, list) : res.status();
  if (!st) {
    spdlog::warn("collector.binance: instrument list (GET /api/v3/exchangeInfo) unavailable: {}; subscribing the "
                 "configured symbols as given",
                 st.message());
    return true;
  }
  const collector::InstrumentMap map(std::move(list));
  std::vector<std::string> bad, names;
  for (auto& s : symbols_) {
    if (map.resolve(kExchange, {s.unified}).is_ok()) {
      names.push_back(s.exchange_symbol);
    } else {
      s.subscribed = false;
      bad.push_back(s.unified);
    }
  }
  if (bad.empty()) return true;
  stats_.unknown_symbols.store(bad.size());
  symbol_error_ = map.resolve(kExchange, bad).status().message();
  if (names.empty()) {
    spdlog::error("collector.binance: {}; nothing to collect", symbol_error_);
    health_.set(HealthState::kDown, symbol_error_ + "; nothing to collect");
    halted_.store(true);
    return false;
  }
  spdlog::error("collector.binance: {}; not subscribed", symbol_error_);
  (void)set_streams(names);  // the same URL base as start() accepted
  return true;
}

Status Collector::Worker::subscribe() {
  limiter_ = collector::SlidingWindowLimiter(config_.max_messages_per_second, kNsPerSec);
  auto steady_ns = [] {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(SteadyClock::now().time_since_epoch()).count();
  };
  for (size_t i = 0; i < streams_.size(); i += config_.subscribe_batch) {
    for (DurationNs d = limiter_.delay(steady_ns()); d > 0; d = limiter_.delay(steady_ns())) {
      if (!control_.wait_for(d)) return Status(ErrorCode::kCancelled, "stopping");
    }
    std::string msg = R"({"method":"SUBSCRIBE","params":[)";
    for (size_t k = i; k < std::min(streams_.size(), i + config_.subscribe_batch); ++k) {
      if (k > i) msg += ',';
      msg += '"' + streams_[k] + '"';
    }
    msg += "],\"id\":" + std::to_string(next_request_id_++) + "}";
    TICKFLOW_RETURN_IF_ERROR(ws_->send_text(msg));
    limiter_.record(steady_ns());
    stats_.subscribe_messages.fetch_add(1, std::memory_order_relaxed);
  }
  return Status::ok();
}

void Collector::Worker::run() {
  if (config_.instruments && !load_instruments()) return;
  collector::ConnectionHooks hooks;
  hooks.connect = [this] {
    Status st = ws_->connect(ws_target_, config_.connect_timeout);
    if (!st || config_.subscribe != "message") return st;
    return subscribe();  // the same streams in the same order after every reconnect
  };
  hooks.session = [this] { return run_session(); };
  hooks.session_frames = [this] { return frames_this_session_; };
  if (collector::run_connection_loop(kComponent, ws_target_.to_string(), config_.backoff, control_, health_, probe_,
                                     counters_, hooks)) {
    halted_.store(true);
  }
  out_.drop_batch();
}

void Collector::Worker::end_on(collector::CollectorOutput::Flush f) {
  if (f == collector::CollectorOutput::Flush::kFatal) {
    health_.set(HealthState::kDown, "ingestion stopped: bus commit failed: " + out_.last_error().to_string());
    end_ = SessionEnd::kFatal;
  } else if (f == collector::CollectorOutput::Flush::kReconnect) {
    end_ = SessionEnd::kReconnect;
  }
}

SessionEnd Collector::Worker::run_session() {
  const auto connected_at = SteadyClock::now();
  frames_this_session_ = 0;
  if (!symbol_error_.empty()) {
    health_.set(HealthState::kDegraded, "connected to " + ws_target_.to_string() + "; " + symbol_error_ +
                                            " (not subscribed)");
  }
  reset_books_on_reconnect();
  auto take_end = [this]() -> std::optional<SessionEnd> {
    std::optional<SessionEnd> e = end_;
    end_.reset();
    return e;
  };
  if (agg_) {
    for (auto& s : symbols_) {
      if (last_id(s) != kNoId) backfill(s, std::numeric_limits<int64_t>::max());
      if (end_) return *take_end();
    }
    end_on(out_.flush());
    if (end_) return *take_end();
  }
  return collector::read_frames(
      kComponent, *ws_, control_, config_.stale_timeout, config_.max_batch_frames,
      [this](std::string_view frame) {
        const bool go_on = process(frame);
        stats_.frames.fetch_add(1, std::memory_order_release);  // after its effects:
        return go_on;  // whoever sees the count sees the book, stats and health it made (records: at commit)
      },
      [&]() -> std::optional<SessionEnd> {
        if (!end_) end_on(out_.flush_async());  // pipelined: up to 4 batches in flight
        if (!end_ && !books_.empty()) {
          sync_books();  // snapshots due (REST), then their in-sync states are committed
          if (!end_) end_on(out_.flush_async());
        }
        if (end_) return take_end();
        if (SteadyClock::now() - connected_at >= std::chrono::nanoseconds(config_.max_connection_age)) {
          spdlog::info("collector.binance: connection age limit reached; reconnecting");
          return SessionEnd::kAged;
        }
        return std::nullopt;
      });
}

bool Collector::Worker::process(std::string_view frame) {
  ++frames_this_session_;
  const TimestampNs recv = clock_.now_ns();
  Status st = parser_.parse(frame, recv, parsed_);
  if (!st) {
    probe_.invalid();
    std::string_view reason = parser_.error_reason();
    out_.reject(reason.empty() ? "malformed" : reason, st.message(), frame, recv);
    return !end_;
  }
  probe_.message(static_cast<size_t>(parsed_.kind));
  switch (parsed_.kind) {
    case MessageKind::kTrade:
    case MessageKind::kAggTrade:
      if ((parsed_.kind == MessageKind::kAggTrade) == agg_) {
        on_live_trade(parsed_.trade, frame, recv);
      } else {
        stats_.ignored.fetch_add(1, std::memory_order_relaxed);
      }
      return !end_;
    case MessageKind::kDepthUpdate:
      on_depth(recv);
      return !end_;
    case MessageKind::kBookTicker:
      // Best bid/ask of one symbol: never a trade; counted (the depth book is the book).
      stats_.book_tickers.fetch_add(1, std::memory_order_relaxed);
      return !end_;
    case MessageKind::kSubscriptionResult:
      if (!parsed_.subscription_error.empty()) {
        spdlog::error("collector.binance: SUBSCRIBE id {} rejected by Binance: {}", parsed_.request_id,
                      parsed_.subscription_error);
        health_.set(HealthState::kDegraded, "binance rejected SUBSCRIBE id " + std::to_string(parsed_.request_id) +
                                                ": " + parsed_.subscription_error);
        // After the health (release: pairs with the reader's load): whoever sees the count sees the health.
        stats_.subscribe_errors.fetch_add(1, std::memory_order_release);
      } else {
        stats_.ignored.fetch_add(1, std::memory_order_relaxed);
      }
      return !end_;
    case MessageKind::kKline:
      stats_.ignored.fetch_add(1, std::memory_order_relaxed);
      return !end_;
    case MessageKind::kUnknown:
      break;
  }
  out_.reject("unknown_event", "frame of an unknown kind", frame, recv);
  return !end_;
}

Collector::Worker::SymbolState* Collector::Worker::find_symbol(std::string_view exchange_symbol) {
  auto it = index_.find(std::string(exchange_symbol));
  if (it == index_.end()) it = index_.find(upper(exchange_symbol));
  return it == index_.end() ? nullptr : &symbols_[it->second];
}

void Collector::Worker::on_live_trade(Trade& trade, std::string_view frame, TimestampNs recv) {
  SymbolState* s = find_symbol(trade.exchange_symbol);
  if (s == nullptr) {
    out_.reject("unknown_symbol", "trade for unsubscribed symbol " + trade.exchange_symbol, frame, recv);
    return;
  }
  if (trade.ts_event > 0) probe_.feed_lag(trade.ts_recv - trade.ts_event);
  const int64_t last = last_id(*s);
  if (last != kNoId && trade.trade_id <= last) {
    stats_.duplicates_dropped.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  if (trade.symbol.empty()) trade.symbol = s->unified;
  // A rejected trade leaves last_id where it was: the next trade reveals the hole and the REST
  // backfill fetches the exchange's own record of it (a corrupt live frame is repaired).
  if (!out_.accept(trade, frame)) return;
  if (last != kNoId && trade.trade_id > last + 1) {
    stats_.gaps.fetch_add(1, std::memory_order_relaxed);
    probe_.gap();
    if (agg_) {
      spdlog::info("collector.binance: {} aggregate id gap {}..{}; backfilling", s->exchange_symbol, last + 1,
                   trade.trade_id - 1);
      backfill(*s, trade.trade_id);
      if (end_) return;
    } else {
      spdlog::warn("collector.binance: {} trade id gap {}..{} ({} trades) cannot be backfilled on the trade "
                   "stream",
                   s->exchange_symbol, last + 1, trade.trade_id - 1, trade.trade_id - last - 1);
    }
  }
  out_.publish(s->series, trade);
}

}  // namespace tickflow::exchange::binance
