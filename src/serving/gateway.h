// RealtimeGateway: live candle updates from the bus fanned out to WebSocket subscribers.
//
// Consumes topic normalized.ohlcv (every partition) from the END offsets read at start(): it
// serves live updates only (history comes from the store), and commits no offsets (group
// "realtime" is stateless). Each decoded candle update is rendered once to JSON
// (candle_update_message) and handed to every subscriber of its series key
// (series_key(exchange, symbol, timeframe), e.g. "binance:BTC-USDT:1m").
//
// Slow clients never slow others: deliver() must only enqueue. Connections use a
// ConflatingQueue, which keeps at most one pending message per subscription key (a newer update
// of the same series replaces the unwritten older one; counted in tickflow_realtime_dropped_total).
//
// Metrics: tickflow_realtime_updates_total, tickflow_realtime_clients (gauge of subscriptions),
// tickflow_realtime_push_latency_seconds (hand-off time − receive time of the newest trade of
// the candle), tickflow_realtime_dropped_total, tickflow_realtime_decode_errors_total.
//
// Lifecycle: construct with a bus that outlives the gateway; start() after the topic exists;
// stop() is idempotent (also called by the destructor). subscribe/unsubscribe work in any state.
// Thread-safety: every public method is thread-safe. deliver() is called on the gateway's own
// thread; subscribers are held by weak_ptr, so a dead connection is simply skipped.
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
#include "core/clock.h"
#include "core/result.h"
#include "core/topics.h"

namespace tickflow::serving {

class Subscriber {
 public:
  virtual ~Subscriber() = default;
  // Called from the gateway thread for each update of a subscribed series. Must not block.
  virtual void deliver(std::shared_ptr<const std::string> json) = 0;
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
  size_t max_batch = 1024;                     // records read per partition per pass
  DurationNs idle_wait = 500 * kNsPerMs;       // bound on one wait_for_data
};

class RealtimeGateway {
 public:
  explicit RealtimeGateway(bus::EventBus& bus, GatewayConfig config = {},
                           const Clock& clock = SystemClock::instance());
  ~RealtimeGateway();
  RealtimeGateway(const RealtimeGateway&) = delete;
  RealtimeGateway& operator=(const RealtimeGateway&) = delete;

  // Reads the topic's partitions and end offsets, then starts the consumer thread. Fails
  // (not_found) when the topic does not exist; calling start() twice is an error.
  Status start();
  void stop();

  void subscribe(const std::string& series_key, const std::shared_ptr<Subscriber>& subscriber);
  // No-op when not subscribed.
  void unsubscribe(const std::string& series_key, const Subscriber* subscriber);
  size_t subscriber_count() const;
  // Candle updates consumed since start().
  uint64_t updates() const { return updates_.load(std::memory_order_relaxed); }

 private:
  struct Entry {
    const Subscriber* id;
    std::weak_ptr<Subscriber> sub;
  };
  void run();
  void dispatch(const bus::Record& record);

  bus::EventBus& bus_;
  const GatewayConfig config_;
  const Clock& clock_;

  mutable std::mutex subs_mu_;
  std::unordered_map<std::string, std::vector<Entry>> subs_;
  size_t sub_count_ = 0;

  std::vector<int64_t> positions_;  // next offset per partition (consumer thread only)
  std::vector<std::shared_ptr<Subscriber>> scratch_;
  std::atomic<bool> stopping_{false};
  std::atomic<uint64_t> updates_{0};
  std::thread thread_;
  std::mutex lifecycle_mu_;
  bool started_ = false;
};

}  // namespace tickflow::serving
