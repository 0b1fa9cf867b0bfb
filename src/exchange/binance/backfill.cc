// Binance collector worker, REST side: backfills aggregate-id holes from
// GET /api/v3/aggTrades?fromId= (paged, in id order, up to the live trade that revealed the hole).
// The GET's retries (429 / 418 honouring Retry-After and the ban floor, 5xx, network errors)
// are collector::RestFetcher's.
#include <algorithm>
#include <limits>

#include <spdlog/spdlog.h>

#include "exchange/binance/collector_worker.h"

namespace tickflow::exchange::binance {

using namespace internal;

void Collector::Worker::backfill(SymbolState& s, int64_t until) {
  int64_t next = last_id(s) + 1;
  const int64_t first = next;
  bool complete = false;
  for (int page = 0; page < config_.max_backfill_pages && !control_.stopping(); ++page) {
    const std::string url = rest_base_ + "/api/v3/aggTrades?symbol=" + s.exchange_symbol +
                            "&fromId=" + std::to_string(next) + "&limit=" + std::to_string(config_.backfill_limit);
    auto res = rest_.get(url);
    if (!res) {
      spdlog::error("collector.binance: backfill of {} from id {} failed: {}", s.exchange_symbol, next,
                    res.status().message());
      break;
    }
    backfill_trades_.clear();
    const TimestampNs recv = clock_.now_ns();
    Status st = parse_agg_trades_response(res->body, s.exchange_symbol, recv, backfill_trades_);
    if (!st) {
      out_.reject("bad_rest_response", st.message(), res->body, recv);
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
      if (!out_.accept(t, {})) {  // dead-lettered: the exchange's own record is wrong
        next = t.trade_id + 1;
        continue;
      }
      out_.publish(s.series, t);
      next = t.trade_id + 1;
      ++published;
    }
    stats_.backfilled.fetch_add(published, std::memory_order_relaxed);
    probe_.backfilled(published);
    end_on(out_.flush());
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
