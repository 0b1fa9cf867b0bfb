// Binance collector worker, REST side: backfills aggregate-id holes from
// GET /api/v3/aggTrades?fromId= (paged, in id order, up to the live trade that revealed the hole)
// and the HTTP GET behind it, which retries 429 / 418 (honouring Retry-After and the ban floor),
// 5xx and network errors.
#include <algorithm>
#include <limits>

#include <spdlog/spdlog.h>

#include "exchange/binance/collector_worker.h"

namespace tickflow::exchange::binance {

using namespace internal;

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

void Collector::Worker::backfill(SymbolState& s, int64_t until) {
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
      if (!accept(t, {})) {  // dead-lettered: the exchange's own record is wrong
        next = t.trade_id + 1;
        continue;
      }
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

}  // namespace tickflow::exchange::binance
