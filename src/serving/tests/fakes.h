// In-memory fakes of storage::CandleStore and bus::EventBus for serving's unit tests.
// Thread-safety: both are internally locked (safe from any thread), like the real backends.
#pragma once

#include <algorithm>
#include <array>
#include <functional>
#include <optional>
#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "bus/event_bus.h"
#include "core/topics.h"
#include "storage/candle_store.h"

namespace tickflow::serving::testing {

class FakeCandleStore final : public storage::CandleStore {
 public:
  Status write(const std::vector<Candle>& candles, const std::vector<storage::ConsumerPosition>&) override {
    std::lock_guard lock(mu_);
    for (const Candle& c : candles) {
      auto& slot = series_[c.series_key()][c.open_time];
      if (slot.timeframe.valid() && slot.precedence() >= c.precedence()) continue;
      slot = c;
    }
    return Status::ok();
  }
  Result<int64_t> position(const std::string&, const std::string&, int32_t) const override { return int64_t{0}; }

  Result<std::vector<Candle>> query(const storage::CandleQuery& q) const override {
    std::lock_guard lock(mu_);
    ++queries_;
    last_query_ = q;
    std::vector<Candle> out;
    auto it = series_.find(series_key(q.exchange, q.symbol, q.timeframe.label()));
    if (it == series_.end()) return out;
    for (auto& [t, c] : it->second)
      if (t >= q.start && t < q.end) out.push_back(c);
    if (out.size() > q.limit) out.erase(out.begin(), out.end() - static_cast<std::ptrdiff_t>(q.limit));
    return out;
  }
  Result<bool> has_series(Exchange e, const std::string& symbol, const Timeframe& tf) const override {
    std::lock_guard lock(mu_);
    return series_.count(series_key(e, symbol, tf.label())) > 0;
  }
  Result<std::vector<storage::SeriesInfo>> list_series() const override {
    return std::vector<storage::SeriesInfo>{};
  }
  Result<int64_t> enforce_retention(TimestampNs) override { return int64_t{0}; }

  storage::CandleQuery last_query() const {
    std::lock_guard lock(mu_);
    return last_query_;
  }

 private:
  mutable std::mutex mu_;
  std::map<std::string, std::map<TimestampNs, Candle>> series_;
  mutable int queries_ = 0;
  mutable storage::CandleQuery last_query_;
};

class FakeEventBus final : public bus::EventBus {
 public:
  class Txn final : public bus::Transaction {
   public:
    explicit Txn(FakeEventBus& bus) : bus_(bus) {}
    void append(std::string_view topic, std::string_view key, std::string_view value) override {
      records_.push_back({std::string(topic), std::string(key), std::string(value)});
    }
    void commit_offset(std::string_view, std::string_view, int32_t, int64_t) override {}
    void put_state(std::string_view, std::string_view, std::string_view) override {}
    void delete_state(std::string_view, std::string_view) override {}
    size_t appended() const override { return records_.size(); }
    Status commit() override {
      for (auto& r : records_) TICKFLOW_RETURN_IF_ERROR(bus_.publish(r[0], r[1], r[2]));
      records_.clear();
      return Status::ok();
    }

   private:
    FakeEventBus& bus_;
    std::vector<std::array<std::string, 3>> records_;
  };

  Status create_topic(const bus::TopicConfig& config) override {
    std::lock_guard lock(mu_);
    auto& t = topics_[config.name];
    if (t.partitions.empty()) {
      t.config = config;
      t.partitions.resize(static_cast<size_t>(config.partitions));
    }
    return Status::ok();
  }
  Result<bus::TopicConfig> topic(std::string_view name) const override {
    std::lock_guard lock(mu_);
    auto it = topics_.find(std::string(name));
    if (it == topics_.end()) return Status::not_found("no topic " + std::string(name));
    return it->second.config;
  }
  std::vector<bus::TopicConfig> topics() const override {
    std::lock_guard lock(mu_);
    std::vector<bus::TopicConfig> out;
    for (auto& [_, t] : topics_) out.push_back(t.config);
    return out;
  }
  Status publish(std::string_view topic, std::string_view key, std::string_view value) override {
    {
      std::lock_guard lock(mu_);
      auto it = topics_.find(std::string(topic));
      if (it == topics_.end()) return Status::not_found("no topic " + std::string(topic));
      auto& t = it->second;
      int32_t p = topics::partition_for(key, t.config.partitions);
      auto& part = t.partitions[static_cast<size_t>(p)];
      bus::Record r;
      r.topic = std::string(topic);
      r.partition = p;
      r.offset = static_cast<int64_t>(part.size());
      r.key = std::string(key);
      r.value = std::string(value);
      part.push_back(std::move(r));
      ++t.version;
    }
    cv_.notify_all();
    return Status::ok();
  }
  std::unique_ptr<bus::Transaction> begin() override { return std::make_unique<Txn>(*this); }

  Status read(std::string_view topic, int32_t partition, int64_t from_offset, size_t max_records,
              std::vector<bus::Record>& out) const override {
    std::lock_guard lock(mu_);
    auto it = topics_.find(std::string(topic));
    if (it == topics_.end()) return Status::not_found("no topic");
    auto& part = it->second.partitions.at(static_cast<size_t>(partition));
    for (auto i = static_cast<size_t>(std::max<int64_t>(0, from_offset)); i < part.size() && max_records > 0;
         ++i, --max_records)
      out.push_back(part[i]);
    return Status::ok();
  }
  Result<bus::Record> read_one(std::string_view topic, int32_t partition, int64_t offset) const override {
    std::vector<bus::Record> out;
    TICKFLOW_RETURN_IF_ERROR(read(topic, partition, offset, 1, out));
    if (out.empty()) return Status::not_found("no record");
    return out[0];
  }
  Result<int64_t> end_offset(std::string_view topic, int32_t partition) const override {
    std::lock_guard lock(mu_);
    auto it = topics_.find(std::string(topic));
    if (it == topics_.end()) return Status::not_found("no topic");
    return static_cast<int64_t>(it->second.partitions.at(static_cast<size_t>(partition)).size());
  }
  Result<int64_t> begin_offset(std::string_view, int32_t) const override { return int64_t{0}; }
  Result<int64_t> committed_offset(std::string_view, std::string_view, int32_t) const override {
    return int64_t{0};
  }
  Result<std::optional<std::string>> get_state(std::string_view, std::string_view) const override {
    return std::optional<std::string>{};
  }
  Status scan_state(std::string_view, const std::function<void(std::string_view, std::string_view)>&) const override {
    return Status::ok();
  }
  uint64_t data_version(std::string_view topic) const override {
    std::lock_guard lock(mu_);
    auto it = topics_.find(std::string(topic));
    return it == topics_.end() ? 0 : it->second.version;
  }
  uint64_t wait_for_data(std::string_view topic, uint64_t seen, DurationNs timeout) const override {
    std::unique_lock lock(mu_);
    auto version = [&] {
      auto it = topics_.find(std::string(topic));
      return it == topics_.end() ? 0 : it->second.version;
    };
    uint64_t wake = wakes_;
    cv_.wait_for(lock, std::chrono::nanoseconds(timeout),
                 [&] { return version() != seen || wakes_ != wake; });
    return version();
  }
  void wake_all() override {
    {
      std::lock_guard lock(mu_);
      ++wakes_;
    }
    cv_.notify_all();
  }
  Result<int64_t> enforce_retention(TimestampNs) override { return int64_t{0}; }

 private:
  struct Topic {
    bus::TopicConfig config;
    std::vector<std::vector<bus::Record>> partitions;
    uint64_t version = 0;
  };
  mutable std::mutex mu_;
  mutable std::condition_variable cv_;
  std::map<std::string, Topic> topics_;
  uint64_t wakes_ = 0;
};

// A 1m candle of binance BTC-USDT opening at `open_ms`, with exact decimals.
inline Candle make_candle(int64_t open_ms, std::string_view close = "46000.10000000",
                          CandleStatus status = CandleStatus::kFinal, std::string symbol = "BTC-USDT",
                          std::string_view timeframe = "1m") {
  Candle c;
  c.exchange = Exchange::kBinance;
  c.symbol = std::move(symbol);
  c.exchange_symbol = "BTCUSDT";
  c.timeframe = Timeframe::parse(timeframe).value();
  c.open_time = open_ms * kNsPerMs;
  c.close_time = c.open_time + c.timeframe.duration_ns() - kNsPerMs;
  c.open = Decimal::parse("46000.00000000").value();
  c.high = Decimal::parse("46010.50000000").value();
  c.low = Decimal::parse("45990.01000000").value();
  c.close = Decimal::parse(close).value();
  c.volume = WideDecimal::parse("2.00000000").value();
  c.quote_volume = WideDecimal::parse("92000.2000000000000000").value();
  c.taker_buy_volume = WideDecimal::parse("1.50000000").value();
  c.taker_buy_quote_volume = WideDecimal::parse("69000.1500000000000000").value();
  c.trades = 3;
  c.first_trade_id = 100;
  c.last_trade_id = 102;
  c.status = status;
  return c;
}

}  // namespace tickflow::serving::testing
