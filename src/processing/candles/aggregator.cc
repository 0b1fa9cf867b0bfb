// CandleEngine: windows, revisions, watermarks, dedup and state blobs around the pure builder
// (candle_builder.h). See aggregator.h for the semantics and README.md for the state format.
//
// Invariants per instrument:
// - In each series the closed windows are a prefix [0, first_open): windows close in time
//   order (watermark or on_timer's extrapolation of it), and a window created later (late
//   trade, flat filler) is closed iff a closed window follows it or end + grace <= watermark.
//   Only trades move the watermark; on_timer changes state only by closing or emitting, which
//   marks the instrument dirty, so restored state continues exactly.
// - With emit_empty the windows of a series are contiguous (flat fillers in between).
// - The newest window of a series is never pruned (it carries the price for the next flats).
// - State is split (aggregator.h): the head holds the open windows, each closed window has its
//   own key. A closed window whose content or flags changed since the last take_dirty() has
//   `stored_dirty`; every change to a closed window goes through emit_closed() or is a window
//   created closed, both of which set it. Pruned windows queue a delete of their key.
#include "processing/candles/aggregator.h"

#include <algorithm>
#include <cstdio>
#include <limits>
#include <map>
#include <unordered_set>

#include "core/symbol_hash.h"
#include "processing/candles/candle_builder.h"
#include "processing/candles/state_codec.h"
#include "processing/candles/trade_dedup.h"

namespace tickflow::processing {
namespace {

// First byte of a value: which format it is.
constexpr uint8_t kStateVersionMonolithic = 1;  // v1: one blob with every window (restore only)
constexpr uint8_t kStateVersionHead = 2;        // v2 head: open windows only
constexpr uint8_t kStateVersionWindow = 3;      // v2 closed window
constexpr TimestampNs kNever = std::numeric_limits<TimestampNs>::min();

struct Window {
  CandleState c;
  CandleStatus status = CandleStatus::kProvisional;  // kProvisional while open
  uint32_t revision = 0;
  bool dirty = true;             // changed since it was last emitted
  bool emitted_closed = false;   // a final (or corrected) state was emitted
  bool stored_dirty = true;      // closed and changed since its key was last written
  TimestampNs last_recv = 0;

  bool closed() const { return status != CandleStatus::kProvisional; }
};

struct Series {
  size_t tf_index = 0;  // into CandleConfig::timeframes
  std::vector<Window> windows;  // ascending open_time
  size_t first_open = 0;
  TimestampNs last_provisional = kNever;
  bool pending = false;  // an open window changed while the throttle was closed
};

struct Instrument {
  Exchange exchange = Exchange::kBinance;
  std::string symbol, exchange_symbol, key;
  TimestampNs watermark = kNever;  // max ts_event applied
  TimestampNs watermark_wall = 0;  // `now` when the watermark last advanced
  TradeDedup dedup;
  std::vector<Series> series;
  bool dirty = false;  // state changed since take_dirty()
  std::vector<std::string> deletes;  // window keys to delete in the next take_dirty()
  TimestampNs next_prune = kNever;  // not persisted: pruning never changes outputs
  // Lower bound of (end + grace) over open windows; derived, not persisted (kNever = unknown).
  TimestampNs next_close = kNever;
};

}  // namespace

struct CandleEngine::Impl {
  explicit Impl(CandleConfig c) : config(std::move(c)) {}

  CandleConfig config;
  using SymbolMap = std::unordered_map<std::string, std::unique_ptr<Instrument>, SymbolHash>;
  SymbolMap by_symbol[kExchangeCount];
  std::map<std::string, Instrument*, std::less<>> by_key;  // deterministic iteration order
  Instrument* cache[64] = {};  // direct-mapped by SymbolHash of the exchange symbol

  const Timeframe& tf(const Series& s) const { return config.timeframes[s.tf_index]; }
  TimestampNs end_of(const Series& s, const Window& w) const { return w.c.open_time + tf(s).duration_ns(); }

  Instrument& instrument(const Trade& t) {
    Instrument*& slot = cache[SymbolHash{}(t.exchange_symbol) & 63];
    if (slot != nullptr && slot->exchange == t.exchange && symbol_equal(slot->exchange_symbol, t.exchange_symbol))
      return *slot;
    auto& map = by_symbol[static_cast<size_t>(t.exchange)];
    auto it = map.find(t.exchange_symbol);
    if (it == map.end()) {
      auto inst = std::make_unique<Instrument>();
      inst->exchange = t.exchange;
      inst->exchange_symbol = t.exchange_symbol;
      inst->symbol = t.symbol.empty() ? t.exchange_symbol : t.symbol;
      inst->key = instrument_key(t.exchange, inst->symbol);
      init_series(*inst);
      it = add(std::move(inst));
    }
    slot = it->second.get();
    return *slot;
  }

  SymbolMap::iterator add(std::unique_ptr<Instrument> inst) {
    auto& map = by_symbol[static_cast<size_t>(inst->exchange)];
    std::fill(std::begin(cache), std::end(cache), nullptr);
    auto old = map.find(inst->exchange_symbol);
    if (old != map.end()) {
      by_key.erase(old->second->key);
      map.erase(old);
    }
    auto ki = by_key.find(inst->key);
    if (ki != by_key.end()) {  // same unified symbol under another spelling: replace it
      Instrument* other = ki->second;
      by_key.erase(ki);
      by_symbol[static_cast<size_t>(other->exchange)].erase(other->exchange_symbol);
    }
    by_key.emplace(inst->key, inst.get());
    return map.emplace(inst->exchange_symbol, std::move(inst)).first;
  }

  void init_series(Instrument& inst) const {
    inst.series.clear();
    inst.series.resize(config.timeframes.size());
    for (size_t i = 0; i < inst.series.size(); ++i) inst.series[i].tf_index = i;
  }

  void emit(const Instrument& inst, const Series& s, Window& w, std::vector<CandleUpdate>& out) {
    CandleUpdate& u = out.emplace_back();
    Candle& c = u.candle;
    c.exchange = inst.exchange;
    c.symbol = inst.symbol;
    c.exchange_symbol = inst.exchange_symbol;
    fill_candle(w.c, tf(s), c);
    c.status = w.status;
    c.revision = w.revision;
    u.last_trade_recv = w.last_recv;
    w.dirty = false;
  }

  // A closed window changed (or was created closed): emit final the first time, corrected
  // with revision + 1 afterwards.
  void emit_closed(const Instrument& inst, const Series& s, Window& w, std::vector<CandleUpdate>& out) {
    if (w.emitted_closed) {
      ++w.revision;
      w.status = CandleStatus::kCorrected;
    }
    w.emitted_closed = true;
    w.stored_dirty = true;
    emit(inst, s, w, out);
  }

  // before_closed: a closed window follows the new one.
  Window new_window(const Instrument& inst, const Series& s, TimestampNs open, Decimal price,
                    bool before_closed) const {
    Window w;
    w.c = make_flat(open, price);
    if (before_closed ||
        (inst.watermark != kNever && open + tf(s).duration_ns() + config.grace <= inst.watermark))
      w.status = CandleStatus::kFinal;  // closed, not yet emitted
    return w;
  }

  // Index of the window opening at `open`, creating it (and flat fillers) if needed.
  size_t locate(Instrument& inst, Series& s, TimestampNs open, std::vector<CandleUpdate>& out) {
    auto& ws = s.windows;
    const DurationNs d = tf(s).duration_ns();
    if (ws.empty() || open > ws.back().c.open_time) {
      const TimestampNs first_new = (!ws.empty() && config.emit_empty) ? ws.back().c.open_time + d : open;
      inst.next_close = std::min(inst.next_close, first_new + d + config.grace);
      if (!ws.empty() && config.emit_empty) {
        const Decimal px = ws.back().c.close;
        for (TimestampNs t = ws.back().c.open_time + d; t < open; t += d) {
          ws.push_back(new_window(inst, s, t, px, false));
          if (ws.back().closed()) {
            ++s.first_open;
            emit_closed(inst, s, ws.back(), out);
          }
        }
      }
      ws.push_back(new_window(inst, s, open, Decimal(), false));
      if (ws.back().closed()) ++s.first_open;
      return ws.size() - 1;
    }
    auto it = std::lower_bound(ws.begin(), ws.end(), open,
                               [](const Window& w, TimestampNs t) { return w.c.open_time < t; });
    size_t idx = static_cast<size_t>(it - ws.begin());
    if (it != ws.end() && it->c.open_time == open) return idx;
    // A late trade before the first window (or in a hole when flats are off). Followers get
    // their flat price from propagate_close() once the trade is applied.
    const bool before_closed = idx < s.first_open;
    std::vector<Window> ins;
    ins.push_back(new_window(inst, s, open, Decimal(), before_closed));
    if (config.emit_empty && idx == 0) {
      for (TimestampNs t = open + d; t < ws.front().c.open_time; t += d)
        ins.push_back(new_window(inst, s, t, Decimal(), before_closed));
    }
    size_t closed = 0;
    for (const Window& w : ins) closed += w.closed() ? 1 : 0;
    ws.insert(ws.begin() + static_cast<std::ptrdiff_t>(idx), ins.begin(), ins.end());
    s.first_open += closed;
    inst.next_close = std::min(inst.next_close, open + d + config.grace);
    return idx;
  }

  // The close of window idx changed: flat followers take the new price.
  void propagate_close(const Instrument& inst, Series& s, size_t idx, std::vector<CandleUpdate>& out) {
    const Decimal px = s.windows[idx].c.close;
    for (size_t i = idx + 1; i < s.windows.size() && s.windows[i].c.empty(); ++i) {
      Window& w = s.windows[i];
      bool same = w.c.open.units() == px.units() && w.c.open.scale() == px.scale();
      if (same && (!w.closed() || w.emitted_closed)) continue;
      w.c = make_flat(w.c.open_time, px);
      w.dirty = true;
      if (w.closed()) emit_closed(inst, s, w, out);
    }
  }

  void emit_provisional(const Instrument& inst, Series& s, TimestampNs now, std::vector<CandleUpdate>& out) {
    for (size_t i = s.first_open; i < s.windows.size(); ++i) {
      if (s.windows[i].dirty) emit(inst, s, s.windows[i], out);
    }
    s.last_provisional = now;
    s.pending = false;
  }

  bool throttle_open(const Series& s, TimestampNs now) const {
    return s.last_provisional == kNever || now - s.last_provisional >= config.provisional_interval;
  }

  void apply(Instrument& inst, Series& s, const Trade& t, const TradeDelta& delta, TimestampNs now,
             std::vector<CandleUpdate>& out) {
    size_t idx;
    if (!s.windows.empty() && t.ts_event >= s.windows.back().c.open_time &&
        t.ts_event - s.windows.back().c.open_time < tf(s).duration_ns()) {
      idx = s.windows.size() - 1;  // the newest window: no division
    } else {
      idx = locate(inst, s, tf(s).open_time(t.ts_event), out);
    }
    Window& w = s.windows[idx];
    const bool close_changed = apply_delta(w.c, delta);
    w.dirty = true;
    w.last_recv = t.ts_recv;
    if (w.closed()) {
      emit_closed(inst, s, w, out);
    } else if (config.provisional_interval > 0) {
      s.pending = true;
    }
    if (close_changed && config.emit_empty && idx + 1 < s.windows.size()) propagate_close(inst, s, idx, out);
    if (s.pending && throttle_open(s, now)) emit_provisional(inst, s, now, out);
  }

  // Closes (and emits final) every open window with end + grace <= wm.
  void finalize(Instrument& inst, TimestampNs wm, std::vector<CandleUpdate>& out) {
    if (inst.next_close != kNever && wm < inst.next_close) return;  // nothing can close yet
    TimestampNs next = std::numeric_limits<TimestampNs>::max();
    for (Series& s : inst.series) {
      while (s.first_open < s.windows.size() && end_of(s, s.windows[s.first_open]) + config.grace <= wm) {
        Window& w = s.windows[s.first_open++];
        w.status = CandleStatus::kFinal;
        emit_closed(inst, s, w, out);
        inst.dirty = true;
      }
      if (s.first_open < s.windows.size())
        next = std::min(next, end_of(s, s.windows[s.first_open]) + config.grace);
    }
    inst.next_close = next;
  }

  void prune(Instrument& inst) {
    const TimestampNs cutoff = inst.watermark - config.correction_horizon;
    for (Series& s : inst.series) {
      size_t n = 0;
      while (n + 1 < s.windows.size() && n < s.first_open && end_of(s, s.windows[n]) <= cutoff) ++n;
      if (n > 0) {
        for (size_t i = 0; i < n; ++i)
          inst.deletes.push_back(CandleEngine::window_state_key(inst.key, tf(s), s.windows[i].c.open_time));
        s.windows.erase(s.windows.begin(), s.windows.begin() + static_cast<std::ptrdiff_t>(n));
        s.first_open -= n;
      }
    }
    inst.dedup.prune(cutoff);
  }

  TradeOutcome on_trade(const Trade& t, TimestampNs now, std::vector<CandleUpdate>& out) {
    Instrument& inst = instrument(t);
    if (inst.watermark != kNever && t.ts_event < inst.watermark - config.correction_horizon)
      return TradeOutcome::kTooLate;
    if (!inst.dedup.insert(t.trade_id, t.ts_event)) return TradeOutcome::kDuplicate;
    inst.dirty = true;
    const TradeDelta delta = make_delta(t);
    for (Series& s : inst.series) apply(inst, s, t, delta, now, out);
    if (inst.watermark == kNever || t.ts_event > inst.watermark) {
      inst.watermark = t.ts_event;
      inst.watermark_wall = now;
      finalize(inst, inst.watermark, out);
      if (inst.watermark >= inst.next_prune) {
        prune(inst);
        inst.next_prune = inst.watermark + kNsPerSec;
      }
    }
    return TradeOutcome::kApplied;
  }

  void on_timer(TimestampNs now, std::vector<CandleUpdate>& out) {
    for (auto& [key, inst] : by_key) {
      if (inst->watermark == kNever) continue;
      const DurationNs quiet = now > inst->watermark_wall ? now - inst->watermark_wall : 0;
      finalize(*inst, inst->watermark + quiet, out);
      if (config.provisional_interval <= 0) continue;
      for (Series& s : inst->series) {
        if (s.pending && throttle_open(s, now)) {
          emit_provisional(*inst, s, now, out);
          inst->dirty = true;
        }
      }
    }
  }

  void restart_quiet(TimestampNs now) {
    for (auto& [key, inst] : by_key) inst->watermark_wall = std::max(inst->watermark_wall, now);
  }

  void flush(std::vector<CandleUpdate>& out) {
    for (auto& [key, inst] : by_key) {
      for (Series& s : inst->series) {
        for (size_t i = s.first_open; i < s.windows.size(); ++i) {
          if (s.windows[i].dirty) {
            emit(*inst, s, s.windows[i], out);
            inst->dirty = true;
          }
        }
        s.pending = false;
      }
    }
  }

  // ---- state (README.md "State") ----

  static void encode_window(state::Writer& w, const Window& win) {
    const CandleState& c = win.c;
    w.i64(c.open_time);
    w.u8(static_cast<uint8_t>(win.status));
    w.u64(win.revision);
    w.u8(static_cast<uint8_t>((win.dirty ? 1 : 0) | (win.emitted_closed ? 2 : 0)));
    w.i64(win.last_recv);
    w.i64(c.trades);
    if (c.trades == 0) {  // flat: one price
      w.dec(c.close);
      return;
    }
    w.dec(c.open);
    w.dec(c.high);
    w.dec(c.low);
    w.dec(c.close);
    w.i64(c.open_order.ts);
    w.i64(c.open_order.id);
    w.i64(c.close_order.ts);
    w.i64(c.close_order.id);
    w.wide(c.volume);
    w.wide(c.quote_volume);
    w.wide(c.taker_buy_volume);
    w.wide(c.taker_buy_quote_volume);
    w.i64(c.first_trade_id);
    w.i64(c.last_trade_id);
  }

  static bool decode_window(state::Reader& r, Window& win) {
    CandleState& c = win.c;
    uint8_t status, flags;
    uint64_t revision;
    if (!r.i64(c.open_time) || !r.u8(status) || status > 2 || !r.u64(revision) || !r.u8(flags) ||
        !r.i64(win.last_recv) || !r.i64(c.trades))
      return false;
    win.status = static_cast<CandleStatus>(status);
    win.revision = static_cast<uint32_t>(revision);
    win.dirty = flags & 1;
    win.emitted_closed = flags & 2;
    if (c.trades == 0) {
      Decimal px;
      if (!r.dec(px)) return false;
      TimestampNs open = c.open_time;
      c = make_flat(open, px);
      return true;
    }
    return r.dec(c.open) && r.dec(c.high) && r.dec(c.low) && r.dec(c.close) && r.i64(c.open_order.ts) &&
           r.i64(c.open_order.id) && r.i64(c.close_order.ts) && r.i64(c.close_order.id) &&
           r.wide(c.volume) && r.wide(c.quote_volume) && r.wide(c.taker_buy_volume) &&
           r.wide(c.taker_buy_quote_volume) && r.i64(c.first_trade_id) && r.i64(c.last_trade_id);
  }

  // The head: everything but the closed windows.
  void encode_head(const Instrument& inst, std::string& blob) const {
    state::Writer w(blob);
    w.u8(kStateVersionHead);
    w.u8(static_cast<uint8_t>(inst.exchange));
    w.str(inst.symbol);
    w.str(inst.exchange_symbol);
    w.i64(inst.watermark);
    w.i64(inst.watermark_wall);
    inst.dedup.encode(w);
    w.u64(inst.series.size());
    for (const Series& s : inst.series) {
      w.i64(tf(s).duration_ns());
      w.i64(s.last_provisional);
      w.u8(s.pending ? 1 : 0);
      w.u64(0);  // first_open: the closed windows have their own keys
      w.u64(s.windows.size() - s.first_open);
      for (size_t i = s.first_open; i < s.windows.size(); ++i) encode_window(w, s.windows[i]);
    }
  }

  void encode_closed(const Series& s, const Window& win, std::string& blob) const {
    state::Writer w(blob);
    w.u8(kStateVersionWindow);
    w.i64(tf(s).duration_ns());
    encode_window(w, win);
  }

  void take_dirty(Instrument& inst, StateDelta& delta) {
    std::string head;
    encode_head(inst, head);
    delta.puts.emplace_back(inst.key, std::move(head));
    const size_t first_window = delta.puts.size();
    for (Series& s : inst.series) {
      for (size_t i = 0; i < s.first_open; ++i) {
        Window& win = s.windows[i];
        if (!win.stored_dirty) continue;
        std::string blob;
        encode_closed(s, win, blob);
        delta.puts.emplace_back(CandleEngine::window_state_key(inst.key, tf(s), win.c.open_time), std::move(blob));
        win.stored_dirty = false;
      }
    }
    if (!inst.deletes.empty()) {
      // A key put in this delta supersedes an earlier delete of it (not expected: a pruned
      // window cannot come back, as trades that old are too late).
      std::unordered_set<std::string_view> put;
      for (size_t i = first_window; i < delta.puts.size(); ++i) put.insert(delta.puts[i].first);
      for (std::string& k : inst.deletes)
        if (!put.contains(k)) delta.deletes.push_back(std::move(k));
      inst.deletes.clear();
    }
    inst.dirty = false;
  }

  Status decode(std::string_view key, std::string_view blob) {
    if (!blob.empty() && static_cast<uint8_t>(blob[0]) == kStateVersionWindow) return decode_closed(key, blob);
    auto bad = [&](const char* what) {
      return Status::corruption("candle state for '" + std::string(key) + "': " + what);
    };
    state::Reader r(blob);
    uint8_t version, exchange;
    auto inst = std::make_unique<Instrument>();
    if (!r.u8(version)) return bad("empty blob");
    if (version != kStateVersionHead && version != kStateVersionMonolithic) return bad("unknown state version");
    const bool monolithic = version == kStateVersionMonolithic;
    if (!r.u8(exchange) || exchange >= kExchangeCount) return bad("bad exchange");
    inst->exchange = static_cast<Exchange>(exchange);
    if (!r.str(inst->symbol) || !r.str(inst->exchange_symbol)) return bad("truncated");
    inst->key = instrument_key(inst->exchange, inst->symbol);
    if (inst->key != key) return bad("key does not match the blob");
    if (!r.i64(inst->watermark) || !r.i64(inst->watermark_wall)) return bad("truncated");
    if (!inst->dedup.decode(r)) return bad("bad dedup state");
    init_series(*inst);
    uint64_t n_series;
    if (!r.u64(n_series) || n_series > 1024) return bad("bad series count");
    for (uint64_t i = 0; i < n_series; ++i) {
      int64_t duration;
      Series s;
      uint8_t pending;
      uint64_t first_open, n_windows;
      if (!r.i64(duration) || !r.i64(s.last_provisional) || !r.u8(pending) || !r.u64(first_open) ||
          !r.u64(n_windows))
        return bad("truncated series");
      s.pending = pending != 0;
      if (first_open > n_windows || n_windows > blob.size()) return bad("bad window count");
      if (!monolithic && first_open != 0) return bad("closed windows in a head");
      s.first_open = first_open;
      s.windows.reserve(n_windows);
      for (uint64_t j = 0; j < n_windows; ++j) {
        Window win;
        if (!decode_window(r, win)) return bad("truncated window");
        // v1 closed windows get their own keys at the next take_dirty(); open ones never need it.
        win.stored_dirty = monolithic && j < first_open;
        s.windows.push_back(win);
      }
      // Keep series of timeframes still configured; drop the others.
      for (Series& target : inst->series) {
        if (tf(target).duration_ns() == duration) {
          s.tf_index = target.tf_index;
          target = std::move(s);
          break;
        }
      }
    }
    if (!r.at_end()) return bad("trailing bytes");
    inst->dirty = monolithic;  // rewrite in the split format
    add(std::move(inst));
    return Status::ok();
  }

  // One closed window; its instrument's head must already be restored.
  Status decode_closed(std::string_view key, std::string_view blob) {
    auto bad = [&](const char* what) {
      return Status::corruption("candle window state '" + std::string(key) + "': " + what);
    };
    state::Reader r(blob);
    uint8_t version;
    int64_t duration;
    Window win;
    if (!r.u8(version) || !r.i64(duration) || !decode_window(r, win)) return bad("truncated");
    if (!r.at_end()) return bad("trailing bytes");
    if (duration <= 0) return bad("bad timeframe");
    if (!win.closed()) return bad("window is not closed");
    win.stored_dirty = false;
    const Timeframe frame = Timeframe::from_duration(duration);
    const std::string suffix = CandleEngine::window_state_key("", frame, win.c.open_time);
    if (key.size() <= suffix.size() || !key.ends_with(suffix)) return bad("key does not match the blob");
    const std::string_view ikey = key.substr(0, key.size() - suffix.size());
    auto it = by_key.find(ikey);
    if (it == by_key.end()) return bad("no instrument head restored before it");
    Instrument& inst = *it->second;
    for (Series& s : inst.series) {
      if (tf(s).duration_ns() != duration) continue;
      auto& ws = s.windows;
      const auto closed_end = ws.begin() + static_cast<std::ptrdiff_t>(s.first_open);
      if (closed_end != ws.end() && win.c.open_time >= closed_end->c.open_time)
        return bad("closed window at or after an open window");
      auto pos = std::lower_bound(ws.begin(), closed_end, win.c.open_time,
                                  [](const Window& w, TimestampNs t) { return w.c.open_time < t; });
      if (pos != closed_end && pos->c.open_time == win.c.open_time) return bad("duplicate window");
      ws.insert(pos, win);
      ++s.first_open;
      return Status::ok();
    }
    // A timeframe no longer configured: forget the window and its key.
    inst.deletes.emplace_back(key);
    inst.dirty = true;
    return Status::ok();
  }
};

CandleEngine::CandleEngine(CandleConfig config) : impl_(std::make_unique<Impl>(std::move(config))) {}
CandleEngine::~CandleEngine() = default;
CandleEngine::CandleEngine(CandleEngine&&) noexcept = default;
CandleEngine& CandleEngine::operator=(CandleEngine&&) noexcept = default;

const CandleConfig& CandleEngine::config() const { return impl_->config; }

TradeOutcome CandleEngine::on_trade(const Trade& trade, TimestampNs now, std::vector<CandleUpdate>& out) {
  return impl_->on_trade(trade, now, out);
}

void CandleEngine::on_timer(TimestampNs now, std::vector<CandleUpdate>& out) { impl_->on_timer(now, out); }

void CandleEngine::restart_quiet(TimestampNs now) { impl_->restart_quiet(now); }

void CandleEngine::flush(std::vector<CandleUpdate>& out) { impl_->flush(out); }

StateDelta CandleEngine::take_dirty() {
  StateDelta delta;
  for (auto& [key, inst] : impl_->by_key)
    if (inst->dirty) impl_->take_dirty(*inst, delta);
  return delta;
}

Status CandleEngine::restore(std::string_view key, std::string_view blob) { return impl_->decode(key, blob); }

std::string CandleEngine::window_state_key(std::string_view instrument_key, const Timeframe& tf,
                                           TimestampNs open_time) {
  char digits[32];
  const int n = std::snprintf(digits, sizeof(digits), "%020lld", static_cast<long long>(open_time));
  std::string k;
  k.reserve(instrument_key.size() + tf.label().size() + 2 + static_cast<size_t>(n));
  k.append(instrument_key);
  k += '/';
  k += tf.label();
  k += '/';
  k.append(digits, static_cast<size_t>(n));
  return k;
}

size_t CandleEngine::instrument_count() const { return impl_->by_key.size(); }

size_t CandleEngine::open_window_count() const {
  size_t n = 0;
  for (const auto& [key, inst] : impl_->by_key) {
    for (const Series& s : inst->series) n += s.windows.size() - s.first_open;
  }
  return n;
}

}  // namespace tickflow::processing
