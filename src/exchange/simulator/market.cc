// The deterministic market model of market.h: symbol table, seeded RNG, dense L2 books, taker
// orders sweeping levels into trades/aggTrades/depth diffs. The wire encoders are in encoders.cc.
#include "exchange/simulator/market.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <deque>
#include <utility>

namespace tickflow::exchange::simulator {
namespace {

// symbol, start price, tick size, lot step (all in 1e-8 units), annualised vol, activity, first
// trade id: the table of shared/tools/gen_binance_trades.py.
struct KnownSymbol {
  const char* name;
  int64_t price;
  int64_t tick;
  int64_t step;
  double vol;
  double weight;
  int64_t first_trade_id;
};

constexpr KnownSymbol kKnown[] = {
    {"BTCUSDT", 4300000000000, 1000000, 1000, 0.50, 30.0, 3370000000},
    {"ETHUSDT", 230000000000, 1000000, 10000, 0.60, 18.0, 1290000000},
    {"SOLUSDT", 9850000000, 1000000, 100000, 0.85, 10.0, 510000000},
    {"BNBUSDT", 31000000000, 10000000, 100000, 0.55, 6.0, 620000000},
    {"XRPUSDT", 62000000, 10000, 100000000, 0.70, 6.0, 600000000},
    {"DOGEUSDT", 8500000, 1000, 100000000, 0.80, 5.0, 740000000},
    {"ADAUSDT", 55000000, 10000, 10000000, 0.75, 4.0, 620000000},
    {"AVAXUSDT", 3600000000, 1000000, 1000000, 0.90, 3.5, 290000000},
    {"LINKUSDT", 1500000000, 1000000, 1000000, 0.85, 3.0, 430000000},
    {"MATICUSDT", 85000000, 10000, 10000000, 0.85, 2.5, 540000000},
    {"DOTUSDT", 750000000, 100000, 1000000, 0.80, 2.0, 320000000},
    {"LTCUSDT", 7000000000, 1000000, 100000, 0.65, 1.8, 350000000},
    {"ARBUSDT", 110000000, 10000, 10000000, 1.00, 1.5, 120000000},
    {"NEARUSDT", 340000000, 100000, 10000000, 0.95, 1.2, 110000000},
    {"ATOMUSDT", 1000000000, 100000, 1000000, 0.80, 1.0, 230000000},
    {"APTUSDT", 900000000, 1000000, 1000000, 0.95, 0.8, 80000000},
    {"TRXUSDT", 10500000, 1000, 10000000, 0.50, 0.6, 290000000},
    {"UNIUSDT", 620000000, 100000, 1000000, 0.85, 0.4, 170000000},
    {"ETCUSDT", 2000000000, 1000000, 1000000, 0.75, 0.3, 180000000},
    {"XLMUSDT", 12000000, 10000, 100000000, 0.70, 0.15, 140000000},
};

constexpr double kSecondsPerYear = 365.0 * 86400.0;
constexpr int64_t kNsPerMs = 1'000'000;
constexpr int kReplenishLevels = 8;  // top levels refilled before every taker order
constexpr int kMaxSweepLevels = 5;
constexpr int kMaxFillsPerLevel = 4;

std::string upper(std::string_view s) {
  std::string r(s);
  for (char& c : r) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return r;
}
std::string lower(std::string_view s) {
  std::string r(s);
  for (char& c : r) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return r;
}

// xoshiro256** seeded by splitmix64: fixed algorithm, so the sequence is the same everywhere.
class Rng {
 public:
  explicit Rng(uint64_t seed) {
    uint64_t x = seed;
    for (auto& v : s_) {
      x += 0x9e3779b97f4a7c15ULL;
      uint64_t z = x;
      z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
      z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
      v = z ^ (z >> 31);
    }
  }
  uint64_t next() {
    const uint64_t result = rotl(s_[1] * 5, 7) * 9;
    const uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = rotl(s_[3], 45);
    return result;
  }
  // [0, 1)
  double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }
  double gaussian() {
    if (has_spare_) {
      has_spare_ = false;
      return spare_;
    }
    double u1 = uniform();
    const double u2 = uniform();
    if (u1 < 1e-300) u1 = 1e-300;
    const double r = std::sqrt(-2.0 * std::log(u1));
    spare_ = r * std::sin(2.0 * M_PI * u2);
    has_spare_ = true;
    return r * std::cos(2.0 * M_PI * u2);
  }
  double exponential() { return -std::log(1.0 - uniform()); }
  // 1 + number of successes with probability p, capped at max.
  int geometric(double p, int max) {
    int n = 1;
    while (n < max && uniform() < p) ++n;
    return n;
  }

 private:
  static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  uint64_t s_[4];
  bool has_spare_ = false;
  double spare_ = 0;
};

// Dense L2 book in ticks: bids are (top - L, top], asks are (top, top + L], quantities in a
// ring indexed by tick. Changed ticks are collected per side until the next depth diff.
class Book {
 public:
  Book(int levels, int64_t first_update_id) : levels_(levels), update_id_(first_update_id) {
    size_t cap = 1;
    while (cap < static_cast<size_t>(2 * levels)) cap <<= 1;
    qty_.assign(cap, 0);
    mark_tick_bid_.assign(cap, -1);
    mark_tick_ask_.assign(cap, -1);
    mask_ = static_cast<int64_t>(cap) - 1;
  }

  int64_t top() const { return top_; }
  int levels() const { return levels_; }
  bool is_bid(int64_t t) const { return t > top_ - levels_ && t <= top_; }
  bool is_ask(int64_t t) const { return t > top_ && t <= top_ + levels_; }
  int64_t qty(int64_t t) const { return (is_bid(t) || is_ask(t)) ? qty_[slot(t)] : 0; }

  // Sets a level inside the current window and records the change.
  void set(int64_t t, int64_t q) {
    qty_[slot(t)] = q;
    record(t, is_bid(t));
    ++changes_;
  }

  // Re-centres the book so that `new_top` is the nominal best bid. fill(t) gives a new level's
  // quantity. Levels leaving the window are removed (recorded as qty 0).
  template <typename Fill>
  void recenter(int64_t new_top, Fill&& fill) {
    if (!initialized_) {
      initialized_ = true;
      top_ = new_top;
      for (int64_t t = top_ - levels_ + 1; t <= top_ + levels_; ++t) set(t, fill(t));
      return;
    }
    const int64_t d = new_top - top_;
    if (d == 0) return;
    if (d >= levels_ || -d >= levels_) {
      for (int64_t t = top_ - levels_ + 1; t <= top_ + levels_; ++t) clear(t);
      top_ = new_top;
      for (int64_t t = top_ - levels_ + 1; t <= top_ + levels_; ++t) set(t, fill(t));
      return;
    }
    if (d < 0) {
      // asks above the new window go; bids in (new_top, top] become asks; new deep bids.
      for (int64_t t = new_top + levels_ + 1; t <= top_ + levels_; ++t) clear(t);
      for (int64_t t = new_top + 1; t <= top_; ++t) clear(t);
      const int64_t old_top = top_;
      top_ = new_top;
      for (int64_t t = new_top + 1; t <= old_top; ++t) set(t, fill(t));
      for (int64_t t = new_top - levels_ + 1; t <= old_top - levels_; ++t) set(t, fill(t));
    } else {
      for (int64_t t = top_ - levels_ + 1; t <= new_top - levels_; ++t) clear(t);
      for (int64_t t = top_ + 1; t <= new_top; ++t) clear(t);
      const int64_t old_top = top_;
      top_ = new_top;
      for (int64_t t = old_top + 1; t <= new_top; ++t) set(t, fill(t));
      for (int64_t t = old_top + levels_ + 1; t <= new_top + levels_; ++t) set(t, fill(t));
    }
  }

  // Ends one book event: the changes made since the previous commit get update ids.
  void commit() {
    if (changes_ == 0) return;
    if (pending_first_ == 0) pending_first_ = update_id_ + 1;
    update_id_ += changes_;
    changes_ = 0;
  }

  bool has_pending() const { return pending_first_ != 0; }

  void flush(DepthDiff& out) {
    out.first_update_id = pending_first_;
    out.last_update_id = update_id_;
    out.bids.clear();
    out.asks.clear();
    std::sort(changed_bids_.begin(), changed_bids_.end(), std::greater<>());
    changed_bids_.erase(std::unique(changed_bids_.begin(), changed_bids_.end()), changed_bids_.end());
    std::sort(changed_asks_.begin(), changed_asks_.end());
    changed_asks_.erase(std::unique(changed_asks_.begin(), changed_asks_.end()), changed_asks_.end());
    for (int64_t t : changed_bids_) out.bids.push_back({t, is_bid(t) ? qty_[slot(t)] : 0});
    for (int64_t t : changed_asks_) out.asks.push_back({t, is_ask(t) ? qty_[slot(t)] : 0});
    for (int64_t t : changed_bids_) mark_tick_bid_[slot(t)] = -1;
    for (int64_t t : changed_asks_) mark_tick_ask_[slot(t)] = -1;
    changed_bids_.clear();
    changed_asks_.clear();
    pending_first_ = 0;
  }

  int64_t update_id() const { return update_id_; }

 private:
  size_t slot(int64_t t) const { return static_cast<size_t>(t & mask_); }
  void clear(int64_t t) {
    const bool bid = is_bid(t);
    if (!bid && !is_ask(t)) return;
    int64_t& q = qty_[slot(t)];
    if (q != 0) {
      q = 0;
      record(t, bid);
      ++changes_;
    }
  }
  void record(int64_t t, bool bid) {
    auto& marks = bid ? mark_tick_bid_ : mark_tick_ask_;
    int64_t& m = marks[slot(t)];
    if (m == t) return;
    m = t;
    (bid ? changed_bids_ : changed_asks_).push_back(t);
  }

  int levels_;
  int64_t mask_ = 0;
  int64_t top_ = 0;
  bool initialized_ = false;
  std::vector<int64_t> qty_;
  std::vector<int64_t> mark_tick_bid_, mark_tick_ask_;
  std::vector<int64_t> changed_bids_, changed_asks_;
  int64_t update_id_;
  int64_t pending_first_ = 0;
  int64_t changes_ = 0;
};

struct SymbolState {
  SymbolSpec spec;
  double log_mid = 0;    // natural log of the mid price (in quote units)
  double sigma = 0;      // per sqrt(second)
  int64_t last_ns = 0;   // virtual time of the previous taker order
  int64_t next_trade_id = 0;
  int64_t next_agg_id = 0;
  Book book;
  SymbolState(SymbolSpec s, int levels)
      : spec(std::move(s)), book(levels, spec.first_update_id) {}
};

}  // namespace

SymbolSpec symbol_spec(std::string_view symbol, size_t index) {
  SymbolSpec s;
  s.symbol = upper(symbol);
  s.stream_prefix = lower(symbol);
  const KnownSymbol* known = nullptr;
  for (const auto& k : kKnown) {
    if (s.symbol == k.name) known = &k;
  }
  // A USD pair (Kraken's XBT/USD is the model's BTCUSD) trades like its USDT twin; only its
  // ids differ (the generic ones below), so it never shares ids with the USDT pair.
  const bool usd_twin = known == nullptr && s.symbol.size() > 3 && s.symbol.ends_with("USD");
  if (usd_twin) {
    for (const auto& k : kKnown) {
      if (s.symbol + "T" == k.name) known = &k;
    }
  }
  if (known != nullptr) {
    s.start_price = known->price;
    s.tick = known->tick;
    s.step = known->step;
    s.annual_vol = known->vol;
    s.weight = known->weight;
    s.first_trade_id = usd_twin ? 100'000'000 + static_cast<int64_t>(index) * 10'000'000 : known->first_trade_id;
  } else {
    s.start_price = 100 * kUnitsPerOne;
    s.tick = kUnitsPerOne / 100;
    s.step = kUnitsPerOne / 1000;
    s.annual_vol = 0.8;
    s.weight = 1.0;
    s.first_trade_id = 100'000'000 + static_cast<int64_t>(index) * 10'000'000;
  }
  s.first_agg_id = s.first_trade_id / 10 * 7;
  s.first_update_id = 10'000'000'000 + static_cast<int64_t>(index) * 1'000'000'000;
  return s;
}

struct MarketModel::Impl {
  MarketOptions opt;
  Rng rng;
  std::vector<SymbolSpec> specs;
  std::vector<SymbolState> syms;
  std::vector<double> cum_weight;
  int64_t next_arrival_ns = 0;
  int64_t next_depth_ns = kDepthIntervalMs * kNsPerMs;
  int64_t generated = 0;
  bool trades_done = false;
  bool ended = false;
  std::deque<MarketEvent> ready;

  explicit Impl(MarketOptions o) : opt(std::move(o)), rng(opt.seed) {
    if (opt.rate <= 0) opt.rate = 1;
    if (opt.book_levels < kReplenishLevels * 2) opt.book_levels = kReplenishLevels * 2;
    double total = 0;
    syms.reserve(opt.symbols.size());
    for (size_t i = 0; i < opt.symbols.size(); ++i) {
      SymbolSpec spec = symbol_spec(opt.symbols[i], i);
      specs.push_back(spec);
      SymbolState st(spec, opt.book_levels);
      st.log_mid = std::log(static_cast<double>(spec.start_price) / kUnitsPerOne);
      st.sigma = spec.annual_vol / std::sqrt(kSecondsPerYear);
      st.next_trade_id = spec.first_trade_id + opt.id_offset;
      st.next_agg_id = spec.first_agg_id + opt.id_offset;
      syms.push_back(std::move(st));
      total += spec.weight;
      cum_weight.push_back(total);
    }
    for (auto& w : cum_weight) w /= total;
    for (auto& s : syms) {
      s.book.recenter(top_ticks(s), [&](int64_t t) { return level_qty(s, t); });
      s.book.commit();
      DepthDiff discard;
      s.book.flush(discard);  // the initial book is the snapshot, not a diff
    }
    if (syms.empty()) trades_done = true;
    next_arrival_ns = gap_ns(1);
  }

  int64_t gap_ns(int64_t trades) {
    return static_cast<int64_t>(rng.exponential() * static_cast<double>(trades) / opt.rate * 1e9) + 1;
  }

  int64_t top_ticks(const SymbolState& s) const {
    const double units = std::exp(s.log_mid) * kUnitsPerOne;
    const double ticks = std::floor(units / static_cast<double>(s.spec.tick));
    return std::max<int64_t>(1, static_cast<int64_t>(std::min(ticks, 1e15)));
  }

  // Quantity in lot steps for a notional (quote units) at tick t, at least one step.
  int64_t steps_for(const SymbolState& s, int64_t t, double notional) const {
    const double price = static_cast<double>(t * s.spec.tick) / kUnitsPerOne;
    const double qty_units = notional / price * kUnitsPerOne;
    double steps = std::floor(qty_units / static_cast<double>(s.spec.step) + 0.5);
    const double max_steps = 1e15 / static_cast<double>(s.spec.step);
    steps = std::clamp(steps, 1.0, std::max(1.0, max_steps));
    return static_cast<int64_t>(steps);
  }

  int64_t level_qty(SymbolState& s, int64_t t) {
    const double notional = std::min(2000.0 * std::exp(1.0 * rng.gaussian()), 5'000'000.0);
    return steps_for(s, t, notional) * s.spec.step;
  }

  int64_t time_ms(int64_t ns) const { return opt.start_ms + ns / kNsPerMs; }

  void gen_taker(int64_t now_ns) {
    const double u = rng.uniform();
    size_t si = 0;
    while (si + 1 < cum_weight.size() && u >= cum_weight[si]) ++si;
    SymbolState& s = syms[si];
    Book& book = s.book;

    const double dt = static_cast<double>(now_ns - s.last_ns) / 1e9;
    s.last_ns = now_ns;
    if (dt > 0) s.log_mid += s.sigma * std::sqrt(dt) * rng.gaussian();
    auto fill = [&](int64_t t) { return level_qty(s, t); };
    book.recenter(top_ticks(s), fill);
    // Liquidity comes back at the top, and some resting orders change.
    for (int k = 0; k < kReplenishLevels; ++k) {
      if (book.qty(book.top() - k) == 0) book.set(book.top() - k, fill(book.top() - k));
      if (book.qty(book.top() + 1 + k) == 0) book.set(book.top() + 1 + k, fill(book.top() + 1 + k));
    }
    if (rng.uniform() < 0.5) {
      const int64_t off = static_cast<int64_t>(rng.uniform() * 20);
      const int64_t t = rng.uniform() < 0.5 ? book.top() - off : book.top() + 1 + off;
      book.set(t, fill(t));
    }

    MarketEvent ev;
    ev.kind = EventKind::kTakerOrder;
    ev.symbol = static_cast<uint32_t>(si);
    ev.time_ms = time_ms(now_ns);
    const double lat = rng.uniform();
    ev.event_time_ms = ev.time_ms + (lat < 0.55   ? 0
                                     : lat < 0.90 ? 1
                                     : lat < 0.97 ? 2
                                                  : 3 + static_cast<int64_t>(rng.uniform() * 3));
    const bool sell = rng.uniform() < 0.5;  // taker sells into bids: buyer is maker, m=true
    const int n_levels = rng.geometric(0.25, kMaxSweepLevels);
    const int64_t step = s.spec.step;
    int64_t t = sell ? book.top() : book.top() + 1;
    for (int level = 0; level < n_levels; ++level) {
      int walked = 0;
      while (book.qty(t) == 0 && walked < book.levels()) {
        t += sell ? -1 : 1;
        ++walked;
      }
      const int64_t have = book.qty(t);
      if (have == 0) break;
      const int64_t have_steps = have / step;
      int64_t take_steps = have_steps;
      if (level == n_levels - 1) {
        const double notional = std::min(150.0 * std::exp(1.6 * rng.gaussian()), 2'000'000.0);
        take_steps = std::min(have_steps, steps_for(s, t, notional));
      }
      int64_t fills = rng.geometric(0.3, kMaxFillsPerLevel);
      fills = std::min(fills, take_steps);
      if (opt.max_trades > 0) fills = std::min(fills, opt.max_trades - generated);
      if (fills <= 0) break;
      // Split take_steps into `fills` parts of at least one step each.
      double w[kMaxFillsPerLevel];
      double wsum = 0;
      for (int64_t i = 0; i < fills; ++i) wsum += (w[i] = 0.3 + 1.4 * rng.uniform());
      const int64_t extra = take_steps - fills;
      SimAggTrade agg;
      agg.id = s.next_agg_id++;
      agg.price = t * s.spec.tick;
      agg.first_trade_id = s.next_trade_id;
      agg.time_ms = ev.time_ms;
      agg.buyer_maker = sell;
      int64_t given = 0;
      for (int64_t i = 0; i < fills; ++i) {
        int64_t part = 1;
        if (i + 1 < fills) {
          const int64_t e = static_cast<int64_t>(static_cast<double>(extra) * w[i] / wsum);
          part += e;
          given += e;
        } else {
          part += extra - given;
        }
        SimTrade tr;
        tr.id = s.next_trade_id++;
        tr.price = agg.price;
        tr.qty = part * step;
        tr.time_ms = ev.time_ms;
        tr.buyer_maker = sell;
        agg.qty += tr.qty;
        ev.trades.push_back(tr);
        ++generated;
      }
      agg.last_trade_id = s.next_trade_id - 1;
      ev.aggs.push_back(agg);
      book.set(t, have - agg.qty);
      if (opt.max_trades > 0 && generated >= opt.max_trades) break;
    }
    book.commit();
    if (opt.max_trades > 0 && generated >= opt.max_trades) trades_done = true;
    next_arrival_ns = trades_done ? kNever : now_ns + gap_ns(static_cast<int64_t>(ev.trades.size()));
    ready.push_back(std::move(ev));
  }

  void gen_depth(int64_t now_ns) {
    bool any = false;
    for (size_t i = 0; i < syms.size(); ++i) {
      if (!syms[i].book.has_pending()) continue;
      any = true;
      MarketEvent ev;
      ev.kind = EventKind::kDepthUpdate;
      ev.symbol = static_cast<uint32_t>(i);
      ev.time_ms = ev.event_time_ms = time_ms(now_ns);
      syms[i].book.flush(ev.depth);
      for (auto& l : ev.depth.bids) l.price *= syms[i].spec.tick;
      for (auto& l : ev.depth.asks) l.price *= syms[i].spec.tick;
      ready.push_back(std::move(ev));
    }
    if (!any && trades_done) ended = true;
    next_depth_ns = now_ns + kDepthIntervalMs * kNsPerMs;
  }

  void fill() {
    while (ready.empty() && !ended) {
      if (!trades_done && next_arrival_ns < next_depth_ns) {
        gen_taker(next_arrival_ns);
      } else {
        gen_depth(next_depth_ns);
      }
    }
  }
};

MarketModel::MarketModel(MarketOptions options) : impl_(std::make_unique<Impl>(std::move(options))) {}
MarketModel::MarketModel(uint64_t seed, std::vector<std::string> symbols, int64_t start_ms, double rate,
                         int64_t max_trades)
    : MarketModel(MarketOptions{seed, std::move(symbols), start_ms, rate, max_trades}) {}
MarketModel::~MarketModel() = default;

bool MarketModel::next(MarketEvent& out) {
  impl_->fill();
  if (impl_->ready.empty()) return false;
  out = std::move(impl_->ready.front());
  impl_->ready.pop_front();
  return true;
}

int64_t MarketModel::peek_time_ms() {
  impl_->fill();
  return impl_->ready.empty() ? kNever : impl_->ready.front().time_ms;
}

const std::vector<SymbolSpec>& MarketModel::symbols() const { return impl_->specs; }

int MarketModel::symbol_index(std::string_view symbol) const {
  const std::string u = upper(symbol);
  for (size_t i = 0; i < impl_->specs.size(); ++i) {
    if (impl_->specs[i].symbol == u) return static_cast<int>(i);
  }
  return -1;
}

DepthSnapshot MarketModel::snapshot(size_t symbol, size_t limit) const {
  DepthSnapshot out;
  const SymbolState& s = impl_->syms.at(symbol);
  const Book& b = s.book;
  out.last_update_id = b.update_id();
  for (int64_t t = b.top(); t > b.top() - b.levels() && out.bids.size() < limit; --t) {
    if (int64_t q = b.qty(t); q > 0) out.bids.push_back({t * s.spec.tick, q});
  }
  for (int64_t t = b.top() + 1; t <= b.top() + b.levels() && out.asks.size() < limit; ++t) {
    if (int64_t q = b.qty(t); q > 0) out.asks.push_back({t * s.spec.tick, q});
  }
  return out;
}

int64_t MarketModel::trades_generated() const { return impl_->generated; }
const MarketOptions& MarketModel::options() const { return impl_->opt; }

}  // namespace tickflow::exchange::simulator
