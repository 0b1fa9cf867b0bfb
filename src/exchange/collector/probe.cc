#include "exchange/collector/probe.h"

#include "observability/metrics.h"

namespace tickflow::exchange::collector {

CollectorProbe::CollectorProbe(std::string_view exchange, const std::vector<std::string_view>& kinds)
    : exchange_(exchange) {
  auto& reg = obs::registry();
  const prometheus::Labels ex{{"exchange", exchange_}};
  auto& messages = prometheus::BuildCounter()
                       .Name("tickflow_collector_messages_total")
                       .Help("Frames received from the exchange, by kind")
                       .Register(reg);
  for (std::string_view k : kinds) kinds_.push_back(&messages.Add({{"exchange", exchange_}, {"kind", std::string(k)}}));
  invalid_ = &messages.Add({{"exchange", exchange_}, {"kind", "invalid"}});
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
  http_429_ = &limited.Add({{"exchange", exchange_}, {"code", "429"}});
  http_418_ = &limited.Add({{"exchange", exchange_}, {"code", "418"}});
}

void CollectorProbe::message(size_t kind) {
  if (kind < kinds_.size()) kinds_[kind]->Increment();
}
void CollectorProbe::invalid() { invalid_->Increment(); }

void CollectorProbe::rejected(std::string_view reason) {
  auto it = rejected_.find(std::string(reason));
  if (it == rejected_.end()) {
    auto* c = &rejected_family_->Add({{"exchange", exchange_}, {"reason", std::string(reason)}});
    it = rejected_.emplace(std::string(reason), c).first;
  }
  it->second->Increment();
}

void CollectorProbe::connected(bool up) { connected_->Set(up ? 1 : 0); }
void CollectorProbe::reconnect() { reconnects_->Increment(); }
void CollectorProbe::feed_lag(DurationNs lag) { feed_lag_->Observe(static_cast<double>(lag) / 1e9); }
void CollectorProbe::backfilled(size_t n) { backfilled_->Increment(static_cast<double>(n)); }
void CollectorProbe::gap() { gaps_->Increment(); }
void CollectorProbe::publish_error() { publish_errors_->Increment(); }
void CollectorProbe::http_limited(int code) { (code == 418 ? http_418_ : http_429_)->Increment(); }

}  // namespace tickflow::exchange::collector
