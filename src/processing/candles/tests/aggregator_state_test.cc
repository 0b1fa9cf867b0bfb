// Candle engine state: the split layout (head + one key per closed window), bounded writes per
// batch, and restore-then-continue equal to an uninterrupted engine.
#include <algorithm>
#include <map>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "processing/candles/aggregator.h"
#include "processing/candles/tests/aggregator_test_support.h"

namespace tickflow::processing {
namespace {

using namespace test;  // NOLINT: shared test helpers

void apply_delta(std::map<std::string, std::string>& store, StateDelta delta) {
  for (auto& [key, blob] : delta.puts) store[key] = std::move(blob);
  for (const std::string& key : delta.deletes) store.erase(key);
}

std::string window_key(std::string_view tf, TimestampNs open) {
  return CandleEngine::window_state_key("binance:BTC-USDT", *Timeframe::parse(tf), open);
}

TEST(CandleEngine, ClosedWindowsAreDroppedPastTheHorizon) {
  CandleConfig config = one_minute();
  config.correction_horizon = 10 * kNsPerMin;
  CandleEngine engine(config);
  std::vector<CandleUpdate> out;
  std::map<std::string, std::string> store;
  size_t deleted = 0;
  for (int i = 0; i < 120; ++i) {
    engine.on_trade(make_trade(i, kBase + sec(60) * i + sec(3), "10"), 0, out);
    StateDelta delta = engine.take_dirty();
    deleted += delta.deletes.size();
    apply_delta(store, std::move(delta));
  }
  EXPECT_EQ(out.size(), 119u);
  // The head plus the ~10 closed windows still within the horizon, not 119.
  EXPECT_GE(store.size(), 11u);
  EXPECT_LE(store.size(), 12u);
  EXPECT_TRUE(store.contains("binance:BTC-USDT"));
  EXPECT_TRUE(store.contains(window_key("1m", kBase + 118 * kNsPerMin)));
  EXPECT_FALSE(store.contains(window_key("1m", kBase + 100 * kNsPerMin)));
  EXPECT_EQ(deleted + store.size() - 1, 119u);  // every closed window: kept or deleted once
}

TEST(CandleEngine, BytesWrittenPerBatchDoNotGrowWithRetainedWindows) {
  CandleConfig config;  // six timeframes, one hour of corrections
  config.provisional_interval = 0;
  CandleEngine engine(config);
  std::vector<CandleUpdate> out;
  std::map<std::string, std::string> store;
  int64_t id = 1;
  engine.on_trade(make_trade(id++, kBase + sec(1), "10"), 0, out);
  const StateDelta first = engine.take_dirty();
  ASSERT_EQ(first.puts.size(), 1u);
  const size_t head_after_first_trade = first.puts[0].second.size();
  apply_delta(store, first);

  // 61 minutes of trades, one batch per trade: windows close one at a time.
  size_t max_puts = 0;
  for (int m = 0; m <= 61; ++m) {
    for (int s = 10; s < 60; s += 10) {
      engine.on_trade(make_trade(id++, kBase + m * kNsPerMin + sec(s), "10." + std::to_string(s)), 0, out);
      StateDelta delta = engine.take_dirty();
      max_puts = std::max(max_puts, delta.puts.size());
      apply_delta(store, std::move(delta));
    }
  }
  EXPECT_LE(max_puts, 5u);  // head + the 1m, 5m, 15m and 1h windows closing at the hour
  EXPECT_GE(store.size(), 61u);  // ~60 closed 1m windows retained for corrections, and more

  // A batch touching only the open window writes the head alone, of the same bounded size.
  out.clear();
  engine.on_trade(make_trade(id++, kBase + 61 * kNsPerMin + sec(59), "11"), 0, out);
  EXPECT_TRUE(out.empty());
  StateDelta delta = engine.take_dirty();
  ASSERT_EQ(delta.puts.size(), 1u);
  EXPECT_EQ(delta.puts[0].first, "binance:BTC-USDT");
  EXPECT_TRUE(delta.deletes.empty());
  EXPECT_LE(delta.puts[0].second.size(), head_after_first_trade + 64);
  EXPECT_LT(delta.put_bytes(), 1024u);  // was ~5-7 KB with every retained window inline

  // A correction rewrites the head and exactly the corrected windows.
  out.clear();
  engine.on_trade(make_trade(id++, kBase + 30 * kNsPerMin + sec(1), "9"), 0, out);
  ASSERT_EQ(with_status(out, CandleStatus::kCorrected).size(), 4u);  // 1m 5m 15m 1h; 4h, 1d open
  delta = engine.take_dirty();
  std::vector<std::string> keys;
  for (const auto& [key, blob] : delta.puts) keys.push_back(key);
  EXPECT_EQ(keys, (std::vector<std::string>{"binance:BTC-USDT", window_key("1m", kBase + 30 * kNsPerMin),
                                            window_key("5m", kBase + 30 * kNsPerMin),
                                            window_key("15m", kBase + 30 * kNsPerMin), window_key("1h", kBase)}));
  apply_delta(store, std::move(delta));

  // Restoring from the keys gives the same engine: the next correction is revision 2.
  CandleEngine restored(config);
  for (const auto& [key, blob] : store) ASSERT_TRUE(restored.restore(key, blob).is_ok()) << key;
  EXPECT_TRUE(restored.take_dirty().empty());
  out.clear();
  restored.on_trade(make_trade(id, kBase + 30 * kNsPerMin + sec(2), "8"), 0, out);
  ASSERT_FALSE(out.empty());
  EXPECT_EQ(out[0].candle.status, CandleStatus::kCorrected);
  EXPECT_EQ(out[0].candle.revision, 2u);
  EXPECT_EQ(out[0].candle.low.to_string(), "8");
}

struct Event {
  bool timer = false;
  Trade trade;
  TimestampNs now = 0;
};

std::vector<Event> random_events(size_t n, uint32_t seed) {
  std::mt19937_64 rng(seed);
  const char* syms[] = {"BTCUSDT", "ETHUSDT", "FTMUSDT"};
  int64_t next_id[3] = {100, 5000, 90000};
  std::vector<Trade> history[3];
  std::vector<Event> events;
  TimestampNs ts = kBase + sec(7), now = 10'000 * kNsPerSec;
  for (size_t i = 0; i < n; ++i) {
    now += static_cast<TimestampNs>(rng() % 300) * kNsPerMs;
    int r = static_cast<int>(rng() % 100);
    if (r < 10) {
      events.push_back({true, Trade{}, now});
      continue;
    }
    size_t s = rng() % 3;
    if (r < 14 && !history[s].empty()) {  // duplicate or late replay of an older trade
      Trade t = history[s][rng() % history[s].size()];
      events.push_back({false, t, now});
      continue;
    }
    ts += static_cast<TimestampNs>(rng() % 4000) * kNsPerMs;
    if (rng() % 50 == 0) ts += 4 * kNsPerMin;  // empty minutes
    int64_t id = next_id[s]++;
    if (rng() % 30 == 0) next_id[s] += 2;  // gap
    TimestampNs t_ts = ts;
    if (rng() % 8 == 0) t_ts -= static_cast<TimestampNs>(rng() % 30000) * kNsPerMs;  // delivered late
    Trade t = make_trade(id, t_ts, std::to_string(100 + rng() % 50) + "." + std::to_string(rng() % 100),
                         "0." + std::to_string(1 + rng() % 999), rng() % 2 ? Side::kBuy : Side::kSell, syms[s]);
    history[s].push_back(t);
    events.push_back({false, t, now});
  }
  return events;
}

void run(CandleEngine& e, const std::vector<Event>& ev, size_t from, size_t to, std::vector<CandleUpdate>& out) {
  for (size_t i = from; i < to; ++i) {
    if (ev[i].timer) {
      e.on_timer(ev[i].now, out);
    } else {
      e.on_trade(ev[i].trade, ev[i].now, out);
    }
  }
}

void expect_same_stream(const std::vector<CandleUpdate>& a, const std::vector<CandleUpdate>& b, size_t k) {
  ASSERT_EQ(a.size(), b.size()) << "k=" << k;
  for (size_t i = 0; i < a.size(); ++i) {
    const Candle& x = a[i].candle;
    const Candle& y = b[i].candle;
    ASSERT_TRUE(same_values(x, y)) << "k=" << k << " update " << i;
    ASSERT_EQ(x.status, y.status) << "k=" << k << " update " << i;
    ASSERT_EQ(x.revision, y.revision) << "k=" << k << " update " << i;
    ASSERT_EQ(x.exchange_symbol, y.exchange_symbol);
    ASSERT_EQ(x.close_time, y.close_time);
    ASSERT_EQ(x.taker_buy_quote_volume, y.taker_buy_quote_volume);
    ASSERT_EQ(a[i].last_trade_recv, b[i].last_trade_recv);
  }
}

TEST(CandleEngine, RestoredStateContinuesExactlyLikeAnUninterruptedEngine) {
  const std::vector<Event> events = random_events(6000, 11);
  CandleConfig config;  // 1m 5m 15m 1h 4h 1d, provisional every 250 ms
  config.correction_horizon = 20 * kNsPerMin;
  config.timeframes = *Timeframe::parse_list("1m,5m,15m,1h,4h,1d,1w");
  CandleEngine uninterrupted(config);
  std::vector<CandleUpdate> expected;
  run(uninterrupted, events, 0, events.size(), expected);
  ASSERT_GT(with_status(expected, CandleStatus::kCorrected).size(), 0u);
  ASSERT_GT(with_status(expected, CandleStatus::kProvisional).size(), 0u);

  for (size_t k : {size_t{0}, size_t{1}, size_t{57}, size_t{1000}, size_t{2500}, size_t{4321}, events.size()}) {
    CandleEngine first(config);
    std::vector<CandleUpdate> got;
    std::map<std::string, std::string> store;  // what a processor commits, in key order
    for (size_t i = 0; i < k; i += 100) {
      run(first, events, i, std::min(k, i + 100), got);
      apply_delta(store, first.take_dirty());
    }
    CandleEngine second(config);
    for (const auto& [key, blob] : store) ASSERT_TRUE(second.restore(key, blob).is_ok()) << key;
    EXPECT_EQ(second.instrument_count(), first.instrument_count());
    EXPECT_EQ(second.open_window_count(), first.open_window_count());
    EXPECT_TRUE(second.take_dirty().empty()) << k;  // restoring is not a change
    run(second, events, k, events.size(), got);
    expect_same_stream(expected, got, k);
  }
}

// Restarts again and again from what restored engines wrote themselves: the deltas of a
// restored engine (corrections of restored windows, deletes of pruned ones) are complete.
TEST(CandleEngine, RepeatedRestartsFromTheirOwnDeltasContinueExactly) {
  const std::vector<Event> events = random_events(8000, 23);
  CandleConfig config;
  config.correction_horizon = 10 * kNsPerMin;
  config.timeframes = *Timeframe::parse_list("1m,5m,15m,1h");
  CandleEngine uninterrupted(config);
  std::vector<CandleUpdate> expected;
  std::map<std::string, std::string> expected_store;
  for (size_t i = 0; i < events.size(); i += 37) {
    run(uninterrupted, events, i, std::min(events.size(), i + 37), expected);
    apply_delta(expected_store, uninterrupted.take_dirty());
  }
  ASSERT_GT(with_status(expected, CandleStatus::kCorrected).size(), 0u);

  std::mt19937 rng(5);
  std::map<std::string, std::string> store;
  std::vector<CandleUpdate> got;
  auto engine = std::make_unique<CandleEngine>(config);
  size_t restarts = 0;
  for (size_t i = 0; i < events.size();) {
    const size_t batch = 1 + rng() % 60;
    run(*engine, events, i, std::min(events.size(), i + batch), got);
    i = std::min(events.size(), i + batch);
    apply_delta(store, engine->take_dirty());
    if (rng() % 4 == 0) {
      engine = std::make_unique<CandleEngine>(config);
      for (const auto& [key, blob] : store) ASSERT_TRUE(engine->restore(key, blob).is_ok()) << key;
      ++restarts;
    }
  }
  ASSERT_GT(restarts, 50u);
  expect_same_stream(expected, got, restarts);
  // No key leaks and no lost keys: the stores hold the same windows, up to the few a pruning
  // pass has not reached yet (an engine prunes at most once per second of watermark).
  size_t differing = 0;
  for (const auto& [key, blob] : store) differing += expected_store.contains(key) ? 0 : 1;
  for (const auto& [key, blob] : expected_store) differing += store.contains(key) ? 0 : 1;
  EXPECT_LE(differing, 12u);
  EXPECT_GT(store.size(), 3u * 10u);  // three heads and their retained windows
}

TEST(CandleEngine, RestoreRejectsCorruptBlobs) {
  CandleEngine engine(one_minute());
  std::vector<CandleUpdate> out;
  engine.on_trade(make_trade(1, kBase + sec(1), "10"), 0, out);
  engine.on_trade(make_trade(2, kBase + sec(65), "11"), 0, out);  // closes the first window
  auto blobs = engine.take_dirty().puts;
  ASSERT_EQ(blobs.size(), 2u);
  const std::string& blob = blobs[0].second;
  const std::string& win_key = blobs[1].first;
  const std::string& win = blobs[1].second;
  EXPECT_EQ(win_key, window_key("1m", kBase));
  CandleEngine fresh(one_minute());
  for (size_t n = 0; n < blob.size(); ++n) {
    EXPECT_FALSE(fresh.restore(blobs[0].first, std::string_view(blob).substr(0, n)).is_ok()) << n;
  }
  EXPECT_FALSE(fresh.restore("binance:ETH-USDT", blob).is_ok());
  EXPECT_FALSE(fresh.restore(win_key, win).is_ok());  // window before its head
  EXPECT_TRUE(fresh.restore(blobs[0].first, blob).is_ok());
  for (size_t n = 1; n < win.size(); ++n) {
    EXPECT_FALSE(fresh.restore(win_key, std::string_view(win).substr(0, n)).is_ok()) << n;
  }
  EXPECT_FALSE(fresh.restore(window_key("1m", kBase + kNsPerMin), win).is_ok());  // wrong key
  EXPECT_TRUE(fresh.restore(win_key, win).is_ok());
  EXPECT_FALSE(fresh.restore(win_key, win).is_ok());  // the same window twice
  EXPECT_EQ(fresh.open_window_count(), 1u);
  EXPECT_TRUE(engine.take_dirty().empty());
}

TEST(CandleEngine, RestoresTheOneBlobFormatAndRewritesItSplit) {
  CandleEngine engine(one_minute());
  std::vector<CandleUpdate> out;
  engine.on_trade(make_trade(1, kBase + sec(1), "10"), 0, out);
  auto puts = engine.take_dirty().puts;
  ASSERT_EQ(puts.size(), 1u);
  // Without closed windows a v1 blob differs from a v2 head only by its version byte.
  std::string v1 = puts[0].second;
  v1[0] = 1;
  CandleEngine fresh(one_minute());
  ASSERT_TRUE(fresh.restore(puts[0].first, v1).is_ok());
  auto rewritten = fresh.take_dirty().puts;
  ASSERT_EQ(rewritten.size(), 1u);
  EXPECT_EQ(rewritten[0], puts[0]);
}

TEST(CandleEngine, WindowsOfARemovedTimeframeAreDeletedAfterRestore) {
  CandleConfig config = one_minute();
  config.timeframes = *Timeframe::parse_list("1m,5m");
  CandleEngine engine(config);
  std::vector<CandleUpdate> out;
  engine.on_trade(make_trade(1, kBase + sec(1), "10"), 0, out);
  engine.on_trade(make_trade(2, kBase + 6 * kNsPerMin, "11"), 0, out);
  std::map<std::string, std::string> store;
  apply_delta(store, engine.take_dirty());
  ASSERT_TRUE(store.contains(window_key("5m", kBase)));
  CandleEngine fresh(one_minute());
  for (const auto& [key, blob] : store) ASSERT_TRUE(fresh.restore(key, blob).is_ok()) << key;
  StateDelta delta = fresh.take_dirty();
  EXPECT_EQ(delta.deletes, std::vector<std::string>{window_key("5m", kBase)});
}

}  // namespace
}  // namespace tickflow::processing
