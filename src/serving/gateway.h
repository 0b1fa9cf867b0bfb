// RealtimeGateway: live updates from the bus fanned out to WebSocket subscribers.
//
// Consumes, each on its own thread, from the END offsets read at start() (live updates only:
// history comes from the store; no offsets are committed, the group is stateless):
//   normalized.ohlcv      candle updates → subscribers of the series key
//                         (series_key(exchange, symbol, timeframe), e.g. "binance:BTC-USDT:1m"),
//                         rendered once (candle_update_message), handed over with deliver();
//   processed.indicators  indicator records → the same series subscribers, as
//                         {"type":"indicators","exchange","symbol","timeframe","provisional":b,
//                         "data":{open_time,..,"values":{..}}} through deliver_indicators();
//   processed.alerts      alerts → alert subscribers whose AlertFilter matches, as
//                         {"type":"alert","data":{Alert}} (delivery/alert_json.h).
// The indicator and alert topics are optional: when absent at start() (or configured ""), that
// feed is off.
//
// Slow clients never slow others: deliver*() must only enqueue. Candle and indicator messages
// go through a ConflatingQueue that keeps at most one pending message per key (candles and
// indicators of a series use different keys; a newer one replaces the unwritten older one,
// counted in tickflow_realtime_dropped_total). Alerts are NEVER conflated: they are appended
// (ConflatingQueue::push_back) and a connection whose queue exceeds its bound is closed with a
// reason (server.h), counted in tickflow_realtime_alert_disconnects_total.
//
// Metrics: tickflow_realtime_updates_total (candles), tickflow_realtime_indicator_updates_total,
// tickflow_realtime_alerts_total, tickflow_realtime_clients (gauge of subscriptions),
// tickflow_realtime_push_latency_seconds (hand-off time − receive time of the newest trade of
// the candle), tickflow_realtime_dropped_total, tickflow_realtime_decode_errors_total{topic},
// tickflow_realtime_alert_disconnects_total.
//
// Lifecycle: construct with a bus that outlives the gateway; start() after the topics exist;
// stop() is idempotent (also called by the destructor). subscribe/unsubscribe work in any state.
// Thread-safety: every public method is thread-safe. deliver*() are called on the gateway's
// threads; subscribers are held by weak_ptr, so a dead connection is simply skipped.
#pragma once

#include <atomic>
#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "bus/event_bus.h"
#include "core/analytics.h"
#include "core/clock.h"
#include "core/result.h"
#include "core/topics.h"

namespace tickflow::serving {

class Subscriber {
 public:
  virtual ~Subscriber() = default;
  // Called from a gateway thread for each candle update of a subscribed series, and for each
  // alert of an alert subscription. Must not block.
  virtual void deliver(std::shared_ptr<const std::string> json) = 0;
  // Indicator records of a subscribed series (default: like a candle update).
  virtual void deliver_indicators(std::shared_ptr<const std::string> json) { deliver(std::move(json)); }
};

// Which alerts an /ws/alerts connection receives: each list empty = any.
struct AlertFilter {
  std::vector<std::string> rules, symbols;
  bool matches(const Alert& a) const;
};

// Outbound queue of one connection, conflated to the latest message per key.
// Thread-safety: all methods are thread-safe.
class ConflatingQueue {
 public:
  using Message = std::shared_ptr<const std::string>;

  // Queues msg under key. If a message with the same key is still pending, it is replaced in
  // place (keeping its position) and push returns true: one update dropped.
  bool push(const std::string& key, Message msg);
  // Queues a message that is never conflated (snapshot, control) ahead of everything pending.
  void push_front(Message msg);
  // Appends a message that is never conflated (alerts) after everything pending; returns the
  // number of pending messages.
  size_t push_back(Message msg);
  // Oldest pending message, or nullptr when empty.
  Message pop();
  size_t size() const;
  uint64_t dropped() const;

 private:
  struct Entry {
    std::string key;  // empty: never conflated
    Message msg;
  };
  mutable std::mutex mu_;
  std::list<Entry> entries_;
  std::unordered_map<std::string, std::list<Entry>::iterator> by_key_;
  uint64_t dropped_ = 0;
};

struct GatewayConfig {
  std::string topic = std::string(topics::kNormalizedOhlcv);
  std::string indicators_topic = std::string(topics::kProcessedIndicators);  // "": off
  std::string alerts_topic = std::string(topics::kProcessedAlerts);          // "": off
  size_t max_batch = 1024;                     // records read per partition per pass
  DurationNs idle_wait = 500 * kNsPerMs;       // bound on one wait_for_data
};

// The WebSocket push of one indicator record: {"type":"indicators","exchange":..,"symbol":..,
// "timeframe":..,"provisional":false,"data":{"open_time":..,..,"values":{"sma20":..}}}
std::string indicators_update_message(const IndicatorRecord& r);

class RealtimeGateway {
 public:
  explicit RealtimeGateway(bus::EventBus& bus, GatewayConfig config = {},
                           const Clock& clock = SystemClock::instance());
  ~RealtimeGateway();
  RealtimeGateway(const RealtimeGateway&) = delete;
  RealtimeGateway& operator=(const RealtimeGateway&) = delete;

  // Reads the topics' partitions and end offsets, then starts the consumer threads. Fails
  // (not_found) when the candle topic does not exist; calling start() twice is an error.
  Status start();
  void stop();

  void subscribe(const std::string& series_key, const std::shared_ptr<Subscriber>& subscriber);
  // No-op when not subscribed.
  void unsubscribe(const std::string& series_key, const Subscriber* subscriber);
  size_t subscriber_count() const;
  // Candle updates consumed since start().
  uint64_t updates() const { return updates_.load(std::memory_order_relaxed); }

  // Alert subscriptions (WS /ws/alerts).
  void subscribe_alerts(AlertFilter filter, const std::shared_ptr<Subscriber>& subscriber);
  void unsubscribe_alerts(const Subscriber* subscriber);
  uint64_t alerts() const { return alerts_.load(std::memory_order_relaxed); }
  uint64_t indicator_updates() const { return indicator_updates_.load(std::memory_order_relaxed); }
  // Counts a connection closed because its alert queue overflowed (called by the server).
  static void count_alert_disconnect();

 private:
  struct Entry {
    const Subscriber* id;
    std::weak_ptr<Subscriber> sub;
  };
  struct AlertEntry {
    const Subscriber* id;
    std::weak_ptr<Subscriber> sub;
    AlertFilter filter;
  };
  // One consumed topic: its positions and thread.
  struct Reader {
    std::string topic;
    void (RealtimeGateway::*dispatch)(const bus::Record&, std::vector<std::shared_ptr<Subscriber>>&);
    std::vector<int64_t> positions;  // next offset per partition (reader thread only)
    std::thread thread;
  };
  Status add_reader(const std::string& topic, bool required,
                    void (RealtimeGateway::*dispatch)(const bus::Record&, std::vector<std::shared_ptr<Subscriber>>&));
  void run(Reader& reader);
  void dispatch(const bus::Record& record, std::vector<std::shared_ptr<Subscriber>>& scratch);
  void dispatch_indicators(const bus::Record& record, std::vector<std::shared_ptr<Subscriber>>& scratch);
  void dispatch_alert(const bus::Record& record, std::vector<std::shared_ptr<Subscriber>>& scratch);
  void collect(const std::string& key, std::vector<std::shared_ptr<Subscriber>>& out) const;

  bus::EventBus& bus_;
  const GatewayConfig config_;
  const Clock& clock_;

  mutable std::mutex subs_mu_;
  std::unordered_map<std::string, std::vector<Entry>> subs_;
  size_t sub_count_ = 0;

  std::vector<AlertEntry> alert_subs_;  // guarded by subs_mu_

  std::vector<std::unique_ptr<Reader>> readers_;
  std::atomic<bool> stopping_{false};
  std::atomic<uint64_t> updates_{0}, indicator_updates_{0}, alerts_{0};
  std::mutex lifecycle_mu_;
  bool started_ = false;
};

}  // namespace tickflow::serving
