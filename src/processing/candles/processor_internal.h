// Internals of CandleProcessor shared by processor.cc (reading, building batches) and
// processor_commit.cc (committing them): the metrics probe and the batch. Not a public header.
#pragma once

#include <array>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "bus/event_bus.h"
#include "observability/metrics.h"
#include "processing/candles/processor.h"

namespace tickflow::processing {

inline constexpr std::string_view kReasonUndecodable = "undecodable";
inline constexpr std::string_view kReasonTooLate = "too_late";
inline constexpr std::string_view kReasonFutureEventTime = "future_event_time";

// Metrics of every CandleProcessor in the process (one registry, families registered once).
struct CandleProcessor::Probe {
  std::array<prometheus::Counter*, kExchangeCount> trades{};
  prometheus::Counter* duplicates;
  prometheus::Counter* late_corrected;
  prometheus::Counter* late_too_late;
  prometheus::Counter* dlq_undecodable;
  prometheus::Counter* dlq_future;
  prometheus::Counter* dlq_too_late;
  prometheus::Family<prometheus::Counter>* updates_family;
  prometheus::Histogram* commit_seconds;
  prometheus::Gauge* lag;
  prometheus::Gauge* open_windows;
  prometheus::Histogram* e2e_latency;

  std::mutex mu;
  std::map<std::pair<std::string, int>, prometheus::Counter*> update_counters;

  static Probe& instance() {
    static Probe* p = new Probe();  // never destroyed, like the registry
    return *p;
  }

  Probe() {
    auto& reg = obs::registry();
    auto& trades_f = prometheus::BuildCounter()
                         .Name("tickflow_processor_trades_total")
                         .Help("Trades applied to candles, by exchange")
                         .Register(reg);
    for (int i = 0; i < kExchangeCount; ++i)
      trades[i] = &trades_f.Add({{"exchange", std::string(exchange_name(static_cast<Exchange>(i)))}});
    duplicates = &prometheus::BuildCounter()
                      .Name("tickflow_processor_duplicates_total")
                      .Help("Trades dropped as duplicates of an already applied trade key")
                      .Register(reg)
                      .Add({});
    auto& late_f = prometheus::BuildCounter()
                       .Name("tickflow_processor_late_trades_total")
                       .Help("Trades for an already final window: corrected or too late (DLQ)")
                       .Register(reg);
    late_corrected = &late_f.Add({{"outcome", "corrected"}});
    late_too_late = &late_f.Add({{"outcome", "too_late"}});
    auto& dlq_f = prometheus::BuildCounter()
                      .Name("tickflow_processor_dead_letters_total")
                      .Help("Records sent to dlq.market-data, by reason")
                      .Register(reg);
    dlq_undecodable = &dlq_f.Add({{"reason", std::string(kReasonUndecodable)}});
    dlq_future = &dlq_f.Add({{"reason", std::string(kReasonFutureEventTime)}});
    dlq_too_late = &dlq_f.Add({{"reason", std::string(kReasonTooLate)}});
    updates_family = &prometheus::BuildCounter()
                          .Name("tickflow_processor_candle_updates_total")
                          .Help("Candle updates published, by timeframe and status")
                          .Register(reg);
    commit_seconds = &prometheus::BuildHistogram()
                          .Name("tickflow_processor_commit_seconds")
                          .Help("Duration of one exactly-once commit (outputs, state, offsets)")
                          .Register(reg)
                          .Add({}, obs::latency_buckets());
    lag = &prometheus::BuildGauge()
               .Name("tickflow_processor_consumer_lag_records")
               .Help("Records of raw.market-data not yet committed by the processor")
               .Register(reg)
               .Add({});
    open_windows = &prometheus::BuildGauge()
                        .Name("tickflow_processor_open_windows")
                        .Help("Candle windows held open in the engine")
                        .Register(reg)
                        .Add({});
    e2e_latency = &prometheus::BuildHistogram()
                       .Name("tickflow_processor_e2e_latency_seconds")
                       .Help("Candle update publish time minus the receive time of its newest trade")
                       .Register(reg)
                       .Add({}, obs::latency_buckets());
  }

  prometheus::Counter& updates(const std::string& timeframe, CandleStatus status) {
    std::lock_guard lock(mu);
    auto key = std::make_pair(timeframe, static_cast<int>(status));
    auto it = update_counters.find(key);
    if (it == update_counters.end()) {
      auto* c = &updates_family->Add(
          {{"timeframe", timeframe}, {"status", std::string(candle_status_name(status))}});
      it = update_counters.emplace(std::move(key), c).first;
    }
    return *it->second;
  }
};

// Everything one iteration produced, kept until it is committed (a retryable failure commits
// the very same content again).
struct CandleProcessor::Batch {
  struct Out {
    std::string_view topic;
    std::string key;
    std::string value;
  };
  struct UpdateCount {
    std::string timeframe;
    CandleStatus status;
    uint64_t count;
  };
  std::vector<Out> records;
  StateDelta state;  // engine state changed by this batch (head and window keys)
  std::vector<std::pair<int32_t, int64_t>> offsets;  // partition → next offset
  TimestampNs publish_ts = 0;
  bool timer_fired = false;

  // Statistics applied once the batch is committed.
  size_t consumed = 0;
  std::array<uint64_t, kExchangeCount> trades{};
  uint64_t duplicates = 0, too_late = 0, undecodable = 0, future = 0, corrected = 0, updates = 0;
  std::vector<UpdateCount> update_counts;
  std::vector<TimestampNs> last_trade_recv;  // per update with a trade (latency)

  bool empty() const { return records.empty() && state.empty() && offsets.empty(); }

  void count_update(const Candle& c) {
    ++updates;
    for (auto& u : update_counts) {
      if (u.status == c.status && u.timeframe == c.timeframe.label()) {
        ++u.count;
        return;
      }
    }
    update_counts.push_back({c.timeframe.label(), c.status, 1});
  }
};

// A batch whose commit was started (Transaction::commit_async) and not yet finished.
struct CandleProcessor::InFlight {
  std::unique_ptr<Batch> batch;
  std::unique_ptr<bus::PendingCommit> commit;
  std::chrono::steady_clock::time_point started;
};

}  // namespace tickflow::processing
