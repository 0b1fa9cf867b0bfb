// The pacer thread: generates the market, applies the fault knobs, encodes frames, keeps the
// REST history and hands ~1 ms batches to the WebSocket sessions (Impl::deliver). No Boost.
#include <algorithm>
#include <deque>
#include <mutex>

#include "exchange/simulator/server_impl.h"

namespace tickflow::exchange::simulator {

using namespace internal;

void Simulator::Impl::pacer_loop() {
  std::unique_lock lk(ctl_mu);
  ctl_cv.wait(lk, [&] { return stopping || market_started; });
  if (stopping) return;
  lk.unlock();
  if (cfg.start_on_connect && cfg.start_ms == 0) {
    // The market's clock starts now: rebuild the (identical) model at the current wall time.
    std::lock_guard mk(market_mu);
    start_ms = wall_ms();
    model = std::make_unique<MarketModel>(
        MarketOptions{cfg.seed, cfg.symbols, start_ms, cfg.rate, cfg.max_trades, cfg.book_levels, cfg.id_offset});
  }
  const auto wall_start = SteadyClock::now();
  const Faults& cf = cfg.faults;

  // Fault state, owned by this thread.
  std::deque<MalformedKind> malformed_q;
  std::vector<uint64_t> skip_left(specs.size(), 0);
  uint64_t skip_any_left = 0;
  std::vector<std::deque<int64_t>> late_next(specs.size());
  std::deque<int64_t> late_any;
  std::vector<LateFrame> late_q;
  std::vector<uint64_t> dup_left(specs.size(), 0);
  uint64_t dup_any_left = 0;
  std::vector<std::deque<int64_t>> outlier_next(specs.size());  // pct per coming trade
  std::deque<int64_t> outlier_any;
  std::vector<uint64_t> skip_depth_left(specs.size(), 0), depth_ordinal(specs.size(), 0);
  uint64_t skip_depth_any = 0;
  uint64_t trade_frames = 0;
  // Kraken time: (time_ms of the symbol's previous fill, fills seen in that ms) per symbol.
  std::vector<std::pair<int64_t, int64_t>> kraken_ms(specs.size(), {-1, 0});
  SteadyClock::time_point stall_until{};
  // Coinbase: the ticker's 24 h figures per symbol, and when the next heartbeats are due.
  std::vector<CoinbaseTickerStats> coinbase_stats(specs.size());
  SteadyClock::time_point next_heartbeat = SteadyClock::now();

  MarketEvent ev;
  Batch batch;
  std::vector<uint8_t> trade_skip, trade_late, trade_dup, trade_malformed;
  std::vector<int64_t> trade_kraken_us;
  std::vector<int64_t> trade_late_ms, trade_outlier_pct;
  // The price a fault sends: pct % above the true one (0 = the true one).
  auto faulty_price = [](int64_t price, int64_t pct) { return pct == 0 ? price : price / 100 * (100 + pct); };
  std::string tmp;

  for (;;) {
    lk.lock();
    if (stopping) return;
    if (control_pending) {
      control_pending = false;
      if (ctl_stall_ms > 0) {
        stall_until = std::max(stall_until, SteadyClock::now() + std::chrono::milliseconds(ctl_stall_ms));
        ctl_stall_ms = 0;
      }
      for (MalformedKind k : ctl_malformed) malformed_q.push_back(k);
      ctl_malformed.clear();
      for (auto [sym, n] : ctl_skip) (sym < 0 ? skip_any_left : skip_left[sym]) += n;
      ctl_skip.clear();
      for (auto [sym, ms] : ctl_late) (sym < 0 ? late_any : late_next[sym]).push_back(ms);
      ctl_late.clear();
      for (auto [sym, n] : ctl_duplicate) (sym < 0 ? dup_any_left : dup_left[sym]) += n;
      ctl_duplicate.clear();
      for (auto [sym, n, pct] : ctl_outlier) {
        auto& q = sym < 0 ? outlier_any : outlier_next[sym];
        for (uint64_t k = 0; k < std::min<uint64_t>(n, 1'000'000); ++k) q.push_back(pct);
      }
      ctl_outlier.clear();
      for (auto [sym, n] : ctl_skip_depth) (sym < 0 ? skip_depth_any : skip_depth_left[sym]) += n;
      ctl_skip_depth.clear();
    }
    lk.unlock();

    auto now = SteadyClock::now();
    if (now < stall_until) {
      lk.lock();
      ctl_cv.wait_until(lk, stall_until, [&] { return stopping; });
      lk.unlock();
      continue;
    }
    const int64_t due_ms =
        start_ms + std::chrono::duration_cast<std::chrono::milliseconds>(now - wall_start).count();
    batch.buf.clear();
    batch.frames.clear();
    int64_t next_due = MarketModel::kNever;
    {
      std::lock_guard mk(market_mu);
      batch.seq = ++batches_built;
      while (batch.frames.size() < kMaxBatchFrames && model->peek_time_ms() <= due_ms) {
        model->next(ev);
        const uint32_t sym = ev.symbol;
        const SymbolSpec& spec = specs[sym];
        SymbolHistory& h = hist[sym];
        if (ev.kind == EventKind::kDepthUpdate) {
          depth_generated.fetch_add(1, std::memory_order_relaxed);
          const uint32_t sid = sym * kStreamKinds + kDepthStream;
          // The skip-depth fault: this Binance diff is not sent (U/u gap); REST depth is unaffected.
          bool skip_depth = cf.skip_depth_every > 0 && ++depth_ordinal[sym] % cf.skip_depth_every == 0;
          if (!skip_depth && skip_depth_left[sym] > 0) {
            --skip_depth_left[sym];
            skip_depth = true;
          } else if (!skip_depth && skip_depth_any > 0) {
            --skip_depth_any;
            skip_depth = true;
          }
          if (!skip_depth && stream_subscribers[sid].load(std::memory_order_relaxed) > 0) {
            const size_t off = batch.buf.size();
            append_depth_payload(batch.buf, spec.symbol, ev.depth, ev.event_time_ms);
            batch.add(sid, off);
          }
          kraken_book_event(sym, ev.time_ms, batch);  // Kraken v1 book-N updates (kraken.cc)
          coinbase_book_event(sym, ev.depth, ev.event_time_ms, batch);  // Coinbase l2update (coinbase_l2.cc)
          continue;
        }
        trades_generated.fetch_add(ev.trades.size(), std::memory_order_relaxed);
        aggs_generated.fetch_add(ev.aggs.size(), std::memory_order_relaxed);
        const size_t n = ev.trades.size();
        trade_skip.assign(n, 0);
        trade_late.assign(n, 0);
        trade_late_ms.assign(n, 0);
        trade_dup.assign(n, 0);
        trade_outlier_pct.assign(n, 0);
        trade_malformed.assign(n, 0);
        trade_kraken_us.assign(n, 0);
        for (size_t i = 0; i < n; ++i) {
          const SimTrade& t = ev.trades[i];
          const uint64_t ordinal = static_cast<uint64_t>(t.id - spec.first_trade_id) + 1;
          h.trades.push_back(t);
          auto& [kms, knth] = kraken_ms[sym];
          knth = kms == t.time_ms ? knth + 1 : 0;
          kms = t.time_ms;
          trade_kraken_us[i] = kraken_time_us(t, knth);
          h.kraken_us.push_back(trade_kraken_us[i]);
          bool skip = cf.skip_every > 0 && ordinal % cf.skip_every == 0;
          if (!skip && skip_left[sym] > 0) {
            --skip_left[sym];
            skip = true;
          } else if (!skip && skip_any_left > 0) {
            --skip_any_left;
            skip = true;
          }
          if (skip) {
            trade_skip[i] = 1;
            if (h.skipped.size() < 1'000'000) h.skipped.push_back(t.id);
            continue;
          }
          if (cf.late_every > 0 && cf.late_ms > 0 && ordinal % cf.late_every == 0) {
            trade_late[i] = 1;
            trade_late_ms[i] = cf.late_ms;
          } else if (!late_next[sym].empty()) {
            trade_late[i] = 1;
            trade_late_ms[i] = late_next[sym].front();
            late_next[sym].pop_front();
          } else if (!late_any.empty()) {
            trade_late[i] = 1;
            trade_late_ms[i] = late_any.front();
            late_any.pop_front();
          }
          if (cf.duplicate_every > 0 && ordinal % cf.duplicate_every == 0) {
            trade_dup[i] = 1;
          } else if (dup_left[sym] > 0) {
            --dup_left[sym];
            trade_dup[i] = 1;
          } else if (dup_any_left > 0) {
            --dup_any_left;
            trade_dup[i] = 1;
          }
          if (cf.outlier_every > 0 && ordinal % cf.outlier_every == 0) {
            trade_outlier_pct[i] = cf.outlier_pct;
          } else if (!outlier_next[sym].empty()) {
            trade_outlier_pct[i] = outlier_next[sym].front();
            outlier_next[sym].pop_front();
          } else if (!outlier_any.empty()) {
            trade_outlier_pct[i] = outlier_any.front();
            outlier_any.pop_front();
          }
        }
        for (const auto& a : ev.aggs) h.aggs.push_back(a);
        if (history_cap > 0) {
          while (h.trades.size() > history_cap) {
            h.trades.pop_front();
            h.kraken_us.pop_front();
          }
          while (h.aggs.size() > history_cap) h.aggs.pop_front();
        }
        // @trade frames
        const uint32_t tsid = sym * kStreamKinds + kTradeStream;
        const bool want_trade = stream_subscribers[tsid].load(std::memory_order_relaxed) > 0;
        for (size_t i = 0; i < n; ++i) {
          if (trade_skip[i]) continue;
          ++trade_frames;
          bool malformed = cf.malformed_every > 0 && trade_frames % cf.malformed_every == 0;
          MalformedKind kind = MalformedKind::kTruncated;
          if (!malformed && !malformed_q.empty()) {
            malformed = true;
            kind = malformed_q.front();
            malformed_q.pop_front();
          }
          trade_malformed[i] = malformed ? 1 : 0;
          if (!want_trade) continue;
          tmp.clear();
          if (trade_outlier_pct[i] != 0) {
            SimTrade bad = ev.trades[i];
            bad.price = faulty_price(bad.price, trade_outlier_pct[i]);
            append_trade_payload(tmp, spec.symbol, bad, ev.event_time_ms);
          } else {
            append_trade_payload(tmp, spec.symbol, ev.trades[i], ev.event_time_ms);
          }
          if (malformed) {
            const size_t off = batch.buf.size();
            if (kind == MalformedKind::kTruncated) {
              batch.buf.append(tmp, 0, tmp.size() / 2);
            } else {
              const size_t p = tmp.find("\"p\":\"");
              const size_t e = tmp.find('"', p + 5);
              batch.buf.append(tmp, 0, p + 5);
              batch.buf.append(kind == MalformedKind::kZeroPrice ? "0.00000000" : "abc");
              batch.buf.append(tmp, e, std::string::npos);
            }
            batch.add(tsid, off);
          }
          for (int copy = 0; copy < (trade_dup[i] ? 2 : 1); ++copy) {
            if (trade_late[i]) {
              late_q.push_back({now + std::chrono::milliseconds(trade_late_ms[i]), tsid, tmp});
            } else {
              const size_t off = batch.buf.size();
              batch.buf.append(tmp);
              batch.add(tsid, off);
            }
          }
        }
        // Kraken v1: one trade message per taker order, like Kraken's own (its fills).
        // Withheld trades are left out; a malformed fault on any fill sends a truncated copy
        // first; outliers as on @trade. Late and duplicate faults are Binance-only.
        const uint32_t ksid = sym * kStreamKinds + kKrakenTradeStream;
        if (!kraken_pairs[sym].empty() && stream_subscribers[ksid].load(std::memory_order_relaxed) > 0) {
          tmp.clear();
          tmp.push_back('[');
          append_int(tmp, kKrakenChannelBase + static_cast<int64_t>(sym));
          tmp.append(",[");
          bool any = false, bad = false;
          const int decimals = kraken_price_decimals(spec);
          for (size_t i = 0; i < n; ++i) {
            if (trade_skip[i]) continue;
            if (any) tmp.push_back(',');
            any = true;
            SimTrade k = ev.trades[i];
            k.price = faulty_price(k.price, trade_outlier_pct[i]);
            append_kraken_trade_ws(tmp, k, trade_kraken_us[i], decimals);
            bad = bad || trade_malformed[i] != 0;
          }
          tmp.append("],\"trade\",");
          append_json_string(tmp, kraken_pairs[sym]);
          tmp.push_back(']');
          if (any) {
            if (bad) {
              const size_t off = batch.buf.size();
              batch.buf.append(tmp, 0, tmp.size() / 2);
              batch.add(ksid, off);
            }
            const size_t off = batch.buf.size();
            batch.buf.append(tmp);
            batch.add(ksid, off);
          }
        }
        kraken_v2_trades(sym, ev.trades, trade_skip, trade_kraken_us, batch);  // Kraken v2 (kraken.cc)
        // Coinbase Exchange feed: one match per fill and its ticker twin (same trade_id and
        // sequence). Withheld fills are left out (the heartbeats' last_trade_id and REST still
        // show them); a malformed fault sends a truncated copy of the match first; outliers as
        // on @trade. Late and duplicate faults are Binance-only.
        const std::string& product = coinbase_products[sym];
        if (!product.empty()) {
          const uint32_t msid = sym * kStreamKinds + kCoinbaseMatchStream;
          const uint32_t tksid = sym * kStreamKinds + kCoinbaseTickerStream;
          const bool want_match = stream_subscribers[msid].load(std::memory_order_relaxed) > 0;
          const bool want_ticker = stream_subscribers[tksid].load(std::memory_order_relaxed) > 0;
          CoinbaseTickerStats& cs = coinbase_stats[sym];
          for (const SimTrade& t : ev.trades) {
            if (cs.open == 0) cs.open = cs.high = cs.low = t.price;
            cs.high = std::max(cs.high, t.price);
            cs.low = std::min(cs.low, t.price);
            cs.volume += t.qty;
          }
          if (want_ticker) {
            const DepthSnapshot top = model->snapshot(sym, 1);
            cs.best_bid = top.bids.empty() ? 0 : top.bids.front().price;
            cs.best_ask = top.asks.empty() ? 0 : top.asks.front().price;
          }
          for (size_t i = 0; (want_match || want_ticker) && i < n; ++i) {
            if (trade_skip[i]) continue;
            SimTrade t = ev.trades[i];
            t.price = faulty_price(t.price, trade_outlier_pct[i]);
            const int64_t seq = coinbase_sequence(spec, t.id);
            if (want_match) {
              tmp.clear();
              append_coinbase_match(tmp, "match", product, t, trade_kraken_us[i], seq);
              if (trade_malformed[i]) {
                const size_t off = batch.buf.size();
                batch.buf.append(tmp, 0, tmp.size() / 2);
                batch.add(msid, off);
              }
              const size_t off = batch.buf.size();
              batch.buf.append(tmp);
              batch.add(msid, off);
            }
            if (want_ticker) {
              const size_t off = batch.buf.size();
              append_coinbase_ticker(batch.buf, product, t, trade_kraken_us[i], seq, cs);
              batch.add(tksid, off);
            }
          }
        }
        // Coinbase Advanced Trade market_trades: the order's fills newest first (coinbase_advanced.cc).
        coinbase_advanced_trades(sym, ev.trades, trade_skip, trade_kraken_us, batch);
        // @aggTrade frames: withheld with any of their trades, late with their first late one.
        const uint32_t asid = sym * kStreamKinds + kAggStream;
        if (stream_subscribers[asid].load(std::memory_order_relaxed) > 0) {
          const int64_t first = ev.trades.empty() ? 0 : ev.trades.front().id;
          for (const auto& a : ev.aggs) {
            bool skip = false, dup = false;
            int64_t late_ms = 0, outlier_pct = 0;
            for (int64_t id = a.first_trade_id; id <= a.last_trade_id; ++id) {
              const size_t i = static_cast<size_t>(id - first);
              if (trade_skip[i]) skip = true;
              if (trade_late[i] && late_ms == 0) late_ms = trade_late_ms[i];
              if (trade_dup[i]) dup = true;
              if (trade_outlier_pct[i] != 0 && outlier_pct == 0) outlier_pct = trade_outlier_pct[i];
            }
            if (skip) continue;
            tmp.clear();
            if (outlier_pct != 0) {
              SimAggTrade bad = a;
              bad.price = faulty_price(bad.price, outlier_pct);
              append_agg_trade_payload(tmp, spec.symbol, bad, ev.event_time_ms);
            } else {
              append_agg_trade_payload(tmp, spec.symbol, a, ev.event_time_ms);
            }
            for (int copy = 0; copy < (dup ? 2 : 1); ++copy) {
              if (late_ms > 0) {
                late_q.push_back({now + std::chrono::milliseconds(late_ms), asid, tmp});
              } else {
                const size_t off = batch.buf.size();
                batch.buf.append(tmp);
                batch.add(asid, off);
              }
            }
          }
        }
      }
      next_due = model->peek_time_ms();
      // Coinbase heartbeats, once a second per product, after this burst's matches: the last
      // trade id generated (withheld ones included, so a client sees what it missed).
      if (now >= next_heartbeat) {
        while (next_heartbeat <= now) next_heartbeat += std::chrono::milliseconds(kCoinbaseHeartbeatMs);
        for (size_t sym = 0; sym < specs.size(); ++sym) {
          const uint32_t hsid = static_cast<uint32_t>(sym) * kStreamKinds + kCoinbaseHeartbeatStream;
          if (coinbase_products[sym].empty() || stream_subscribers[hsid].load(std::memory_order_relaxed) == 0) continue;
          const int64_t last = hist[sym].trades.empty() ? specs[sym].first_trade_id - 1 : hist[sym].trades.back().id;
          const size_t off = batch.buf.size();
          append_coinbase_heartbeat(batch.buf, coinbase_products[sym], last, coinbase_sequence(specs[sym], last),
                                    due_ms * 1000);
          batch.add(hsid, off);
        }
      }
    }
    // Late frames whose time has come go after this burst's newer frames.
    SteadyClock::time_point late_wake = SteadyClock::time_point::max();
    if (!late_q.empty()) {
      std::stable_sort(late_q.begin(), late_q.end(),
                       [](const LateFrame& a, const LateFrame& b) { return a.due < b.due; });
      size_t k = 0;
      while (k < late_q.size() && late_q[k].due <= now) {
        const size_t off = batch.buf.size();
        batch.buf.append(late_q[k].payload);
        batch.add(late_q[k].stream, off);
        ++k;
      }
      late_q.erase(late_q.begin(), late_q.begin() + static_cast<std::ptrdiff_t>(k));
      if (!late_q.empty()) late_wake = late_q.front().due;
    }
    const bool full = batch.frames.size() >= kMaxBatchFrames;
    deliver(batch);
    if (next_due == MarketModel::kNever && late_q.empty()) ended.store(true);
    if (full) continue;

    auto wake = late_wake;
    for (size_t sym = 0; sym < specs.size(); ++sym) {
      if (stream_subscribers[sym * kStreamKinds + kCoinbaseHeartbeatStream].load(std::memory_order_relaxed) > 0) {
        wake = std::min(wake, next_heartbeat);
        break;
      }
    }
    if (next_due != MarketModel::kNever) {
      wake = std::min(wake, wall_start + std::chrono::milliseconds(next_due - start_ms));
    }
    lk.lock();
    if (wake == SteadyClock::time_point::max()) {
      ctl_cv.wait(lk, [&] { return stopping || control_pending; });
    } else {
      ctl_cv.wait_until(lk, wake, [&] { return stopping || control_pending; });
    }
    lk.unlock();
  }
}

}  // namespace tickflow::exchange::simulator
