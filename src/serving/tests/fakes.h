// In-memory fakes for serving's unit tests: FakeCandleStore (storage::CandleStore) and
// FakeEventBus (bus::testing::InMemoryBus, the shared in-memory EventBus), plus make_candle.
// Thread-safety: both are internally locked (safe from any thread), like the real backends.
#pragma once

#include <algorithm>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "bus/testing/in_memory_bus.h"
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
  Status write_indicators(const std::vector<IndicatorRecord>& records,
                          const std::vector<storage::ConsumerPosition>&) override {
    std::lock_guard lock(mu_);
    for (const IndicatorRecord& r : records) {
      if (r.provisional) continue;
      auto& slot = indicators_[r.series_key()][r.open_time];
      if (!slot.symbol.empty() && slot.candle_revision >= r.candle_revision) continue;
      slot = r;
    }
    return Status::ok();
  }
  Result<std::vector<IndicatorRecord>> query_indicators(const storage::IndicatorQuery& q) const override {
    std::lock_guard lock(mu_);
    std::vector<IndicatorRecord> out;
    auto it = indicators_.find(series_key(q.exchange, q.symbol, q.timeframe.label()));
    if (it == indicators_.end()) return out;
    for (auto& [t, r] : it->second) {
      if (t < q.start || t >= q.end) continue;
      IndicatorRecord copy = r;
      if (!q.names.empty())
        std::erase_if(copy.values, [&](const auto& nv) {
          return std::find(q.names.begin(), q.names.end(), nv.first) == q.names.end();
        });
      if (!copy.values.empty()) out.push_back(std::move(copy));
    }
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
  std::map<std::string, std::map<TimestampNs, IndicatorRecord>> indicators_;
  mutable int queries_ = 0;
  mutable storage::CandleQuery last_query_;
};

// The in-memory bus shared by every component's tests (an empty bus: tests create the topics).
using FakeEventBus = bus::testing::InMemoryBus;

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
