#include "processing/quality/checker.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "processing/quality/rolling_median.h"

namespace tickflow::quality {
namespace {

constexpr TimestampNs kNoBucket = std::numeric_limits<TimestampNs>::min();
// Normal-consistency constant: 1.4826 · MAD estimates σ for normally distributed data.
constexpr double kMadToSigma = 1.4826;

// Exchanges whose trade keys are consecutive per symbol (gap and late-arrival checks).
bool consecutive_ids(Exchange e) { return e == Exchange::kBinance || e == Exchange::kCoinbase; }

double seconds(DurationNs d) { return static_cast<double>(d) / static_cast<double>(kNsPerSec); }

}  // namespace

std::string_view check_name(Check c) {
  switch (c) {
    case Check::kDuplicate: return "duplicate";
    case Check::kGap: return "gap";
    case Check::kOutOfOrder: return "out_of_order";
    case Check::kOutlier: return "outlier";
    case Check::kStale: return "stale";
    case Check::kCrossedBook: return "crossed_book";
    case Check::kDivergence: return "divergence";
  }
  return "unknown";
}

Status validate(const QualityConfig& c) {
  if (c.stale_after <= 0) return Status::invalid_argument("quality.stale_after: must be > 0");
  if (c.series_stale_after < 0) return Status::invalid_argument("quality.series_stale_after: must be >= 0");
  if (c.window <= 0) return Status::invalid_argument("quality.window: must be > 0");
  if (c.window_buckets < 1 || c.window_buckets > 1000)
    return Status::invalid_argument("quality.window_buckets: must be in 1..1000");
  if (c.window / c.window_buckets <= 0)
    return Status::invalid_argument("quality.window: too short for window_buckets");
  if (c.outlier_window < 3 || c.outlier_window > 100000)
    return Status::invalid_argument("quality.outlier_window: must be in 3..100000");
  if (c.outlier_min_samples < 3 || c.outlier_min_samples > c.outlier_window)
    return Status::invalid_argument("quality.outlier_min_samples: must be in 3..outlier_window");
  if (!(c.outlier_mad_k > 0) || !std::isfinite(c.outlier_mad_k))
    return Status::invalid_argument("quality.outlier_mad_k: must be a finite number > 0");
  if (!(c.outlier_min_rel >= 0) || !std::isfinite(c.outlier_min_rel))
    return Status::invalid_argument("quality.outlier_min_rel: must be a finite number >= 0");
  if (!(c.divergence_rel > 0) || !std::isfinite(c.divergence_rel))
    return Status::invalid_argument("quality.divergence_rel: must be a finite number > 0");
  if (c.divergence_max_age <= 0) return Status::invalid_argument("quality.divergence_max_age: must be > 0");
  if (c.dedup_window < 1 || c.dedup_window > (1u << 24))
    return Status::invalid_argument("quality.dedup_window: must be in 1..16777216");
  if (c.max_series < 1) return Status::invalid_argument("quality.max_series: must be >= 1");
  for (size_t i = 0; i < kCheckCount; ++i) {
    if (!(c.weights[i] >= 0) || !std::isfinite(c.weights[i]))
      return Status::invalid_argument("quality.weights." + std::string(check_name(static_cast<Check>(i))) +
                                      ": must be a finite number >= 0");
  }
  return Status::ok();
}

struct QualityChecker::Scope {
  struct Bucket {
    TimestampNs start = kNoBucket;
    uint64_t events = 0;
    CheckCounts counts{};
  };
  std::string scope;
  Exchange exchange = Exchange::kBinance;
  std::string symbol;
  std::vector<Bucket> buckets;
  CheckCounts totals{};
  uint64_t trades = 0;
  TimestampNs last_data = 0;  // checker time of the newest event (0 = never)
  bool was_stale = false;
  bool expected = false;
};

struct QualityChecker::Feed : Scope {
  TimestampNs last_alive = 0;
};

struct QualityChecker::Series : Scope {
  explicit Series(size_t outlier_window, size_t dedup_window) : prices(outlier_window), seen(dedup_window, -1) {}
  Feed* feed = nullptr;
  bool has_max = false;
  int64_t max_id = 0;
  TimestampNs last_event = 0;
  RollingMedian prices;
  std::vector<int64_t> seen;  // seen[id % N] == id when id was seen (ids > max_id − N)
  std::array<LastPrice, kExchangeCount>* cross = nullptr;
};

QualityChecker::QualityChecker(QualityConfig config, TimestampNs now) : config_(std::move(config)), created_(now) {}

QualityChecker::~QualityChecker() = default;

QualityChecker::Feed& QualityChecker::feed(Exchange e, TimestampNs now) {
  auto& f = feeds_[static_cast<size_t>(e)];
  if (!f) {
    f = std::make_unique<Feed>();
    f->scope = "feed";
    f->exchange = e;
    f->buckets.resize(static_cast<size_t>(config_.window_buckets));
    f->last_alive = 0;
    (void)now;
  }
  return *f;
}

QualityChecker::Series* QualityChecker::series_for(Exchange e, std::string_view symbol, TimestampNs now) {
  key_buf_.assign(1, static_cast<char>('0' + static_cast<int>(e)));
  key_buf_.append(symbol);
  auto it = series_.find(key_buf_);
  if (it != series_.end()) return it->second.get();
  if (series_.size() >= config_.max_series) return nullptr;
  auto s = std::make_unique<Series>(config_.outlier_window, config_.dedup_window);
  s->scope = "series";
  s->exchange = e;
  s->symbol = std::string(symbol);
  s->buckets.resize(static_cast<size_t>(config_.window_buckets));
  s->feed = &feed(e, now);
  s->cross = &last_prices_[s->symbol];
  return series_.emplace(key_buf_, std::move(s)).first->second.get();
}

void QualityChecker::expect_series(Exchange e, std::string_view symbol) {
  feed(e, created_).expected = true;
  if (Series* s = series_for(e, symbol, created_)) s->expected = true;
}

namespace {

template <typename Bucket>
Bucket& bucket_at(std::vector<Bucket>& buckets, DurationNs width, TimestampNs now) {
  const TimestampNs start = now >= 0 ? now / width * width : -((-now + width - 1) / width) * width;
  const auto n = static_cast<int64_t>(buckets.size());
  const auto idx = static_cast<size_t>(((start / width) % n + n) % n);
  Bucket& b = buckets[idx];
  if (b.start != start) {
    b = Bucket{};
    b.start = start;
  }
  return b;
}

}  // namespace

void QualityChecker::count(Scope& s, Check c, uint64_t n, TimestampNs now) {
  if (n == 0) return;
  const DurationNs width = config_.window / config_.window_buckets;
  bucket_at(s.buckets, width, now).counts[static_cast<size_t>(c)] += n;
}

void QualityChecker::count_events(Scope& s, uint64_t n, TimestampNs now) {
  const DurationNs width = config_.window / config_.window_buckets;
  bucket_at(s.buckets, width, now).events += n;
}

bool QualityChecker::check_divergence(Exchange e, std::array<LastPrice, kExchangeCount>& prices, double price,
                                      TimestampNs now) {
  bool diverged = false;
  for (size_t i = 0; i < kExchangeCount; ++i) {
    if (i == static_cast<size_t>(e)) continue;
    const LastPrice& o = prices[i];
    if (o.at == 0 || now - o.at > config_.divergence_max_age || !(o.price > 0)) continue;
    const double rel = std::fabs(price - o.price) / std::min(price, o.price);
    if (rel > config_.divergence_rel) diverged = true;
  }
  prices[static_cast<size_t>(e)] = {price, now};
  return diverged;
}

TradeVerdict QualityChecker::on_trade(const Trade& t, TimestampNs now) {
  TradeVerdict v;
  Feed& f = feed(t.exchange, now);
  Series* s = series_for(t.exchange, t.symbol, now);
  f.last_data = now;
  ++f.trades;
  count_events(f, 1, now);
  if (s != nullptr) {
    s->last_data = now;
    ++s->trades;
    count_events(*s, 1, now);
  }
  auto bad = [&](Check c, uint64_t n) {
    count(f, c, n, now);
    if (s != nullptr) count(*s, c, n, now);
  };
  auto total = [&](Check c) {
    ++f.totals[static_cast<size_t>(c)];
    if (s != nullptr) ++s->totals[static_cast<size_t>(c)];
  };

  if (s != nullptr && consecutive_ids(t.exchange)) {
    const auto n = static_cast<int64_t>(s->seen.size());
    auto slot = [&](int64_t id) -> int64_t& { return s->seen[static_cast<size_t>(((id % n) + n) % n)]; };
    if (!s->has_max) {
      s->has_max = true;
      s->max_id = t.trade_id;
      slot(t.trade_id) = t.trade_id;
    } else if (t.trade_id > s->max_id) {
      v.missing = t.trade_id - s->max_id - 1;
      s->max_id = t.trade_id;
      slot(t.trade_id) = t.trade_id;
    } else if (t.trade_id > s->max_id - n && slot(t.trade_id) == t.trade_id) {
      v.duplicate = true;
    } else {
      v.out_of_order = true;  // a late arrival (or older than the dedup window)
      if (t.trade_id > s->max_id - n) slot(t.trade_id) = t.trade_id;
    }
  }
  if (v.duplicate) {
    bad(Check::kDuplicate, 1);
    total(Check::kDuplicate);
    return v;
  }
  if (v.missing > 0) {
    const auto missing = static_cast<uint64_t>(v.missing);
    count_events(f, missing, now);
    if (s != nullptr) count_events(*s, missing, now);
    bad(Check::kGap, missing);
    total(Check::kGap);
  }
  if (s != nullptr) {
    if (s->last_event > 0 && t.ts_event < s->last_event) v.out_of_order = true;
    s->last_event = std::max(s->last_event, t.ts_event);
  }
  if (v.out_of_order) {
    bad(Check::kOutOfOrder, 1);
    total(Check::kOutOfOrder);
  }
  const double price = t.price.to_double();
  if (s != nullptr && price > 0) {
    if (s->prices.size() >= config_.outlier_min_samples) {
      const double med = s->prices.median();
      const double thr = std::max(config_.outlier_mad_k * kMadToSigma * s->prices.mad(), config_.outlier_min_rel * med);
      v.outlier = std::fabs(price - med) > thr;
    }
    s->prices.add(price);
  }
  if (v.outlier) {
    bad(Check::kOutlier, 1);
    total(Check::kOutlier);
  }
  if (price > 0 && !t.symbol.empty())
    v.divergence = check_divergence(t.exchange, s != nullptr ? *s->cross : last_prices_[t.symbol], price, now);
  if (v.divergence) {
    bad(Check::kDivergence, 1);
    total(Check::kDivergence);
  }
  return v;
}

bool QualityChecker::on_book_top(Exchange e, std::string_view symbol, const Decimal& bid, const Decimal& ask,
                                 TimestampNs now) {
  Feed& f = feed(e, now);
  Series* s = series_for(e, symbol, now);
  const bool crossed = !bid.is_zero() && !ask.is_zero() && !bid.is_negative() && !ask.is_negative() && bid >= ask;
  f.last_data = now;
  count_events(f, 1, now);
  if (crossed) {
    count(f, Check::kCrossedBook, 1, now);
    ++f.totals[static_cast<size_t>(Check::kCrossedBook)];
  }
  if (s != nullptr) {
    s->last_data = now;
    count_events(*s, 1, now);
    if (crossed) {
      count(*s, Check::kCrossedBook, 1, now);
      ++s->totals[static_cast<size_t>(Check::kCrossedBook)];
    }
  }
  return crossed;
}

void QualityChecker::on_feed_alive(Exchange e, TimestampNs now) {
  Feed& f = feed(e, now);
  f.last_alive = std::max(f.last_alive, now);
}

void QualityChecker::add_feed_duplicates(Exchange e, uint64_t n, TimestampNs now) {
  if (n == 0) return;
  Feed& f = feed(e, now);
  count_events(f, n, now);
  count(f, Check::kDuplicate, n, now);
  f.totals[static_cast<size_t>(Check::kDuplicate)] += n;
}

bool QualityChecker::feed_stale(const Feed& f, TimestampNs now) const {
  if (!f.expected && f.last_data == 0) return false;  // never configured, never seen
  const TimestampNs last = std::max({f.last_data, f.last_alive, created_});
  return now - last > config_.stale_after;
}

bool QualityChecker::series_stale(const Series& s, TimestampNs now) const {
  if (s.feed != nullptr && feed_stale(*s.feed, now)) return true;
  if (config_.series_stale_after <= 0) return false;
  return now - std::max(s.last_data, created_) > config_.series_stale_after;
}

void QualityChecker::tick(TimestampNs now) {
  auto transition = [&](Scope& s, bool stale) {
    if (stale && !s.was_stale) {
      ++s.totals[static_cast<size_t>(Check::kStale)];
      count(s, Check::kStale, 1, now);
    }
    s.was_stale = stale;
  };
  for (auto& f : feeds_)
    if (f) transition(*f, feed_stale(*f, now));
  for (auto& [key, s] : series_) transition(*s, series_stale(*s, now));
}

ScopeReport QualityChecker::make_report(const Scope& s, TimestampNs now, bool stale) const {
  ScopeReport r;
  r.reading.scope = s.scope;
  r.reading.exchange = std::string(exchange_name(s.exchange));
  r.reading.symbol = s.symbol;
  r.reading.last_data = s.last_data;
  r.reading.stale = stale;
  r.total_counts = s.totals;
  r.total_trades = s.trades;
  r.last_data_age_seconds = s.last_data == 0 ? -1 : seconds(std::max<DurationNs>(0, now - s.last_data));
  const DurationNs width = config_.window / config_.window_buckets;
  const TimestampNs current = now >= 0 ? now / width * width : -((-now + width - 1) / width) * width;
  const TimestampNs oldest = current - width * (config_.window_buckets - 1);
  for (const auto& b : s.buckets) {
    if (b.start == kNoBucket || b.start < oldest || b.start > current) continue;
    r.window_events += b.events;
    for (size_t i = 0; i < kCheckCount; ++i) r.window_counts[i] += b.counts[i];
  }
  double weighted = 0;
  for (size_t i = 0; i < kCheckCount; ++i)
    if (i != static_cast<size_t>(Check::kStale))
      weighted += config_.weights[i] * static_cast<double>(r.window_counts[i]);
  double score = 1.0;
  if (r.window_events > 0) score = 1.0 - std::min(1.0, weighted / static_cast<double>(r.window_events));
  if (stale) score = 0.0;
  r.reading.score = std::clamp(score, 0.0, 1.0);
  return r;
}

std::vector<ScopeReport> QualityChecker::report(TimestampNs now) {
  tick(now);
  std::vector<ScopeReport> out;
  for (const auto& f : feeds_) {
    if (!f || (!f->expected && f->last_data == 0)) continue;
    out.push_back(make_report(*f, now, feed_stale(*f, now)));
  }
  std::vector<const Series*> all;
  all.reserve(series_.size());
  for (const auto& [key, s] : series_) all.push_back(s.get());
  std::sort(all.begin(), all.end(), [](const Series* a, const Series* b) {
    return a->exchange != b->exchange ? a->exchange < b->exchange : a->symbol < b->symbol;
  });
  for (const Series* s : all) out.push_back(make_report(*s, now, series_stale(*s, now)));
  return out;
}

std::vector<QualityReading> QualityChecker::readings(TimestampNs now) {
  std::vector<QualityReading> out;
  for (auto& r : report(now)) out.push_back(std::move(r.reading));
  return out;
}

}  // namespace tickflow::quality
