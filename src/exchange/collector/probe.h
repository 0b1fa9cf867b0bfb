// CollectorProbe: the metrics of one exchange collector (STYLE.md habit 9), shared by the
// Binance, Kraken and Coinbase collectors so their families and labels are the same:
//   tickflow_collector_messages_total{exchange,kind}            frames by the venue's kinds + "invalid"
//   tickflow_collector_messages_rejected_total{exchange,reason} dead-lettered, by reason
//   tickflow_collector_connected{exchange}                      1 while the WebSocket is up
//   tickflow_collector_reconnects_total{exchange}
//   tickflow_collector_feed_lag_seconds{exchange}               receive time - exchange trade time
//   tickflow_collector_backfilled_trades_total{exchange}        trades fetched from REST into holes
//   tickflow_collector_trade_id_gaps_total{exchange}            live trade-id jumps detected
//   tickflow_collector_publish_errors_total{exchange}           failed bus commits
//   tickflow_collector_http_rate_limited_total{exchange,code}   REST 429 / 418
// Families are process-wide (the registry merges same-named families); labels are bounded
// (exchange, the venue's fixed kind names, the parsers' and validator's fixed reasons).
//
// Thread-safety: counters are prometheus-cpp's (any thread); rejected() is called by the owning
// worker thread only (it caches one counter per reason).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/time.h"
#include "observability/metrics.h"

namespace tickflow::exchange::collector {

class CollectorProbe {
 public:
  // `kinds`: the venue's message kind names, indexed as message(i) is called.
  CollectorProbe(std::string_view exchange, const std::vector<std::string_view>& kinds);

  void message(size_t kind);
  void invalid();
  void rejected(std::string_view reason);
  void connected(bool up);
  void reconnect();
  void feed_lag(DurationNs lag);
  void backfilled(size_t n);
  void gap();
  void publish_error();
  void http_limited(int code);  // 429 or 418

 private:
  std::string exchange_;
  std::vector<prometheus::Counter*> kinds_;
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

}  // namespace tickflow::exchange::collector
