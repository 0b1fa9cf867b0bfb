// QualityChecker: data-quality checks and the quality score of every feed (exchange) and
// series (exchange + unified symbol). Pure: no I/O, no thread, time comes from the caller
// (`now`, from an injected Clock in the QualityMonitor), so tests drive it with a ManualClock
// and never sleep.
//
// Checks (names are the `check` metric label, a bounded vocabulary: check_name()):
//   duplicate     the same trade key (exchange, symbol, trade id) again
//   gap           trade ids jumped (Binance trade ids and aggTrade ids are consecutive per
//                 symbol); each missing id counts as one bad event in the score
//   out_of_order  event time went backwards within a series, or an id below the highest seen
//                 that was never seen (a late arrival)
//   outlier       |price − median| > max(outlier_mad_k · 1.4826 · MAD, outlier_min_rel · median)
//                 over the last outlier_window prices of the series (after outlier_min_samples)
//   stale         no data for stale_after on a channel that should have data (see below)
//   crossed_book  best bid >= best ask (on_book_top)
//   divergence    the same unified instrument on another exchange traded more than
//                 divergence_rel away (relative to the lower price) within divergence_max_age
//
// Staleness: a feed is stale when neither a trade nor a liveness heartbeat (on_feed_alive: the
// collector is connected and still receiving frames) arrived for stale_after; a quiet symbol on
// a live connection is therefore NOT stale. A series is stale when its feed is stale, or, if
// series_stale_after > 0, when the series itself had no trade for that long (off by default:
// a quiet-but-healthy symbol must not alarm).
//
// Score (per scope, over the rolling `window` of clock time, in `window_buckets` buckets):
//   events = trades + missing ids + book tops
//   bad    = Σ_check weight[check] · count[check]     (gap counts missing ids)
//   score  = (1 − min(1, bad / events)) · staleness    staleness = 0 when stale, else 1
// An empty window scores 1 (× staleness). A feed's counts are the sum of its series' plus
// feed-level events (book tops of unknown series, external duplicate evidence).
//
// Bounded: series are tracked up to max_series (more are counted on their feed only).
// Thread-safety: none; the owner serializes calls (QualityMonitor holds a mutex).
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "core/analytics.h"
#include "core/decimal.h"
#include "core/result.h"
#include "core/symbol.h"
#include "core/time.h"
#include "core/trade.h"

namespace tickflow::quality {

enum class Check : uint8_t {
  kDuplicate = 0,
  kGap,
  kOutOfOrder,
  kOutlier,
  kStale,
  kCrossedBook,
  kDivergence,
};
inline constexpr size_t kCheckCount = 7;
std::string_view check_name(Check c);

using CheckCounts = std::array<uint64_t, kCheckCount>;

struct QualityConfig {
  DurationNs stale_after = 5 * kNsPerMin;
  DurationNs series_stale_after = 0;  // 0 = a series is stale only through its feed
  DurationNs window = 5 * kNsPerMin;  // rolling window of the score
  int window_buckets = 10;
  size_t outlier_window = 64;
  size_t outlier_min_samples = 20;
  double outlier_mad_k = 10.0;
  double outlier_min_rel = 0.01;
  double divergence_rel = 0.02;
  DurationNs divergence_max_age = 30 * kNsPerSec;
  size_t dedup_window = 4096;  // trade ids remembered per series (duplicate vs late arrival)
  size_t max_series = 1000;
  // weight of each check in the score, indexed by Check (stale has no weight: it is a factor)
  std::array<double, kCheckCount> weights = {1, 1, 1, 1, 0, 1, 1};
};

// Error names the key ("quality.outlier_window: ...").
Status validate(const QualityConfig& c);

// One scope's full state for the API (GET /quality).
struct ScopeReport {
  QualityReading reading;
  uint64_t window_events = 0;   // denominator of the score
  CheckCounts window_counts{};  // per check, in the window (gap: missing ids)
  CheckCounts total_counts{};   // per check, since start (gap: gap occurrences; stale: transitions)
  uint64_t total_trades = 0;
  double last_data_age_seconds = -1;  // -1 when never
};

// What one trade did (for metrics and tests).
struct TradeVerdict {
  bool duplicate = false;
  int64_t missing = 0;  // ids missing before this trade (gap)
  bool out_of_order = false;
  bool outlier = false;
  bool divergence = false;
};

class QualityChecker {
 public:
  // `now` is the creation time: configured feeds that never send data turn stale stale_after
  // after it.
  QualityChecker(QualityConfig config, TimestampNs now);
  ~QualityChecker();
  QualityChecker(const QualityChecker&) = delete;
  QualityChecker& operator=(const QualityChecker&) = delete;

  // Series that should have data (pre-registered: they appear in reports and can turn stale
  // before their first trade). Their feeds are expected too.
  void expect_series(Exchange e, std::string_view symbol);

  TradeVerdict on_trade(const Trade& t, TimestampNs now);
  // Best bid/ask of a book (order books arrive with another issue). Returns true when crossed.
  bool on_book_top(Exchange e, std::string_view symbol, const Decimal& bid, const Decimal& ask, TimestampNs now);
  // Evidence that the feed's channel is alive (connected and receiving frames) at `now`.
  void on_feed_alive(Exchange e, TimestampNs now);
  // Duplicates detected upstream (e.g. the collector dropped n repeated trade keys).
  void add_feed_duplicates(Exchange e, uint64_t n, TimestampNs now);
  // Re-evaluates staleness at `now` (counts stale transitions). Cheap; call on a timer.
  void tick(TimestampNs now);

  // Feeds first (exchange order), then series (exchange, symbol order).
  std::vector<QualityReading> readings(TimestampNs now);
  std::vector<ScopeReport> report(TimestampNs now);

  const QualityConfig& config() const { return config_; }

 private:
  struct Scope;
  struct Series;
  struct Feed;

  Series* series_for(Exchange e, std::string_view symbol, TimestampNs now);
  Feed& feed(Exchange e, TimestampNs now);
  void count(Scope& s, Check c, uint64_t n, TimestampNs now);
  void count_events(Scope& s, uint64_t n, TimestampNs now);
  bool feed_stale(const Feed& f, TimestampNs now) const;
  bool series_stale(const Series& s, TimestampNs now) const;
  ScopeReport make_report(const Scope& s, TimestampNs now, bool stale) const;

  const QualityConfig config_;
  const TimestampNs created_;
  std::array<std::unique_ptr<Feed>, kExchangeCount> feeds_;
  // key: exchange index byte + unified symbol
  std::unordered_map<std::string, std::unique_ptr<Series>> series_;
  std::string key_buf_;
  // Last trade price per (unified symbol) per exchange, for divergence.
  struct LastPrice {
    double price = 0;
    TimestampNs at = 0;
  };
  std::unordered_map<std::string, std::array<LastPrice, kExchangeCount>> last_prices_;

  bool check_divergence(Exchange e, std::array<LastPrice, kExchangeCount>& prices, double price, TimestampNs now);
};

}  // namespace tickflow::quality
