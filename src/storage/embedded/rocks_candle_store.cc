// RocksCandleStore: candles keyed by series prefix + sign-flipped open time, per-series counts,
// consumer positions; precedence-aware upserts in one WriteBatch, queries and retention.
#include "storage/embedded/rocks_candle_store.h"

#include <rocksdb/convenience.h>
#include <rocksdb/db.h>
#include <rocksdb/options.h>
#include <rocksdb/write_batch.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <unordered_map>

#include "core/codec.h"
#include "observability/metrics.h"
#include "rocks/db.h"
#include "rocks/encoding.h"

namespace tickflow::storage::embedded {
namespace {

using rocks::be64_string;
using rocks::get_be64;
using rocks::put_be64;

constexpr const char* kCfCandles = "candles";
constexpr const char* kCfSeries = "series";
constexpr const char* kCfPositions = "positions";
constexpr const char* kCfIndicators = "indicators";
constexpr const char* kCfBooks = "books";

// Signed times sort correctly as unsigned big-endian once the sign bit is flipped.
void put_time(std::string& out, TimestampNs t) {
  put_be64(out, static_cast<uint64_t>(t) ^ 0x8000000000000000ULL);
}

std::string series_prefix(Exchange e, std::string_view symbol, DurationNs tf) {
  std::string k;
  k.push_back(static_cast<char>(e));
  k.append(symbol);
  k.push_back('\0');
  put_be64(k, static_cast<uint64_t>(tf));
  return k;
}

std::string candle_key(const std::string& prefix, TimestampNs open_time) {
  std::string k = prefix;
  put_time(k, open_time);
  return k;
}

std::string position_key(std::string_view group, std::string_view topic, int32_t partition) {
  return rocks::consumer_key(group, topic, partition);
}

struct SeriesKey {
  Exchange exchange;
  std::string symbol;
  DurationNs timeframe;
};

bool parse_series_key(std::string_view k, SeriesKey& out) {
  if (k.size() < 1 + 1 + 8) return false;
  const size_t nul = k.find('\0', 1);
  if (nul == std::string_view::npos || k.size() != nul + 1 + 8) return false;
  out.exchange = static_cast<Exchange>(static_cast<uint8_t>(k[0]));
  out.symbol.assign(k.substr(1, nul - 1));
  out.timeframe = static_cast<DurationNs>(get_be64(k.data() + nul + 1));
  return true;
}

Status write_error(const rocksdb::Status& s, std::string_view what) {
  return rocks::write_error(s, "store", what);
}

Status read_error(const rocksdb::Status& s, std::string_view what) {
  return rocks::read_error(s, "store", what);
}

struct StoreProbe {
  prometheus::Counter& upserted;
  prometheus::Counter& ignored;
  prometheus::Counter& write_errors;
  prometheus::Histogram& write_seconds;
  prometheus::Histogram& query_seconds;
  prometheus::Counter& retention_deleted;

  static StoreProbe& get() {
    static StoreProbe* p = [] {
      auto& reg = obs::registry();
      auto& upserted =
          prometheus::BuildCounter()
              .Name("tickflow_store_candles_upserted_total")
              .Help("Candle updates stored (new or replacing a lower/equal precedence)")
              .Register(reg);
      auto& ignored = prometheus::BuildCounter()
                          .Name("tickflow_store_candles_ignored_total")
                          .Help("Candle updates ignored because a higher precedence is stored")
                          .Register(reg);
      auto& errors = prometheus::BuildCounter()
                         .Name("tickflow_store_write_errors_total")
                         .Help("Store writes that failed (nothing applied)")
                         .Register(reg);
      auto& write_s = prometheus::BuildHistogram()
                          .Name("tickflow_store_write_seconds")
                          .Help("Store batch write latency")
                          .Register(reg);
      auto& query_s = prometheus::BuildHistogram()
                          .Name("tickflow_store_query_seconds")
                          .Help("Store candle query latency")
                          .Register(reg);
      auto& deleted = prometheus::BuildCounter()
                          .Name("tickflow_store_retention_deleted_total")
                          .Help("Candles removed by retention")
                          .Register(reg);
      return new StoreProbe{upserted.Add({}),
                            ignored.Add({}),
                            errors.Add({}),
                            write_s.Add({}, obs::latency_buckets()),
                            query_s.Add({}, obs::latency_buckets()),
                            deleted.Add({})};
    }();
    return *p;
  }
};

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

RocksCandleStore::RocksCandleStore(RocksStoreOptions options) : options_(std::move(options)) {}

Result<std::unique_ptr<RocksCandleStore>> RocksCandleStore::open(const RocksStoreOptions& options) {
  if (options.path.empty()) return Status::invalid_argument("store path is empty");
  std::unique_ptr<RocksCandleStore> store(new RocksCandleStore(options));
  for (const auto& [label, keep] : options.retention.per_timeframe) {
    auto tf = Timeframe::parse(label);
    if (!tf) return Status::invalid_argument("store.retention." + label + ": not a timeframe");
    if (keep <= 0)
      return Status::invalid_argument("store.retention." + label + ": must be positive");
    store->retention_[tf->duration_ns()] = keep;
  }
  if (options.retention.orderbook <= 0)
    return Status::invalid_argument("storage.orderbook_retention: must be positive");
  std::error_code ec;
  std::filesystem::create_directories(options.path, ec);
  if (ec)
    return Status::io_error("cannot create store directory " + options.path + ": " + ec.message());

  rocksdb::DBOptions db_opts = rocks::db_options();
  db_opts.max_total_wal_size = 128u << 20;

  rocksdb::ColumnFamilyOptions small;
  small.write_buffer_size = 4u << 20;
  rocksdb::ColumnFamilyOptions candles;
  candles.write_buffer_size = 32u << 20;
  candles.compression = rocks::best_compression();
  candles.bottommost_compression = candles.compression;

  std::vector<rocksdb::ColumnFamilyDescriptor> cfs = {{rocksdb::kDefaultColumnFamilyName, small},
                                                      {kCfCandles, candles},
                                                      {kCfSeries, small},
                                                      {kCfPositions, small},
                                                      {kCfIndicators, candles},
                                                      {kCfBooks, candles}};
  rocksdb::Status s = rocksdb::DB::Open(db_opts, options.path, cfs, &store->handles_, &store->db_);
  if (!s.ok()) return rocks::open_error(s, "store", options.path);
  store->cf_candles_ = store->handles_[1];
  store->cf_series_ = store->handles_[2];
  store->cf_positions_ = store->handles_[3];
  store->cf_indicators_ = store->handles_[4];
  store->cf_books_ = store->handles_[5];
  return store;
}

RocksCandleStore::~RocksCandleStore() {
  rocks::close_db(db_, handles_);
}

Status RocksCandleStore::write(const std::vector<Candle>& candles,
                               const std::vector<ConsumerPosition>& positions) {
  auto& probe = StoreProbe::get();
  const auto t0 = std::chrono::steady_clock::now();
  rocksdb::WriteBatch batch;
  std::unordered_map<std::string, uint64_t> pending;  // key → precedence written in this batch
  std::map<std::string, int64_t> new_keys;            // series prefix → candles added
  int64_t upserted = 0;
  int64_t ignored = 0;

  std::lock_guard lk(write_mu_);
  for (const Candle& c : candles) {
    if (!c.timeframe.valid() || c.symbol.empty()) {
      return Status::invalid_argument("store write: candle without symbol or timeframe");
    }
    const std::string prefix = series_prefix(c.exchange, c.symbol, c.timeframe.duration_ns());
    std::string key = candle_key(prefix, c.open_time);
    std::optional<uint64_t> existing;
    if (auto it = pending.find(key); it != pending.end()) {
      existing = it->second;
    } else {
      std::string v;
      rocksdb::Status gs = db_->Get(rocksdb::ReadOptions(), cf_candles_, key, &v);
      if (gs.ok()) {
        auto stored = codec::decode_candle(v);
        existing = stored ? stored->precedence() : 0;  // an undecodable row is replaced
      } else if (!gs.IsNotFound()) {
        return read_error(gs, "write");
      } else {
        ++new_keys[prefix];
      }
    }
    if (existing && c.precedence() < *existing) {
      ++ignored;
      continue;
    }
    batch.Put(cf_candles_, key, codec::encode_candle(c));
    pending[std::move(key)] = c.precedence();
    ++upserted;
  }
  for (const auto& [prefix, added] : new_keys) {
    std::string v;
    int64_t count = 0;
    rocksdb::Status gs = db_->Get(rocksdb::ReadOptions(), cf_series_, prefix, &v);
    if (gs.ok() && v.size() == 8)
      count = static_cast<int64_t>(get_be64(v.data()));
    else if (!gs.ok() && !gs.IsNotFound())
      return read_error(gs, "write");
    batch.Put(cf_series_, prefix, be64_string(static_cast<uint64_t>(count + added)));
  }
  for (const ConsumerPosition& p : positions) {
    if (p.next_offset < 0)
      return Status::invalid_argument("store write: negative position for " + p.topic);
    batch.Put(cf_positions_, position_key(p.group, p.topic, p.partition),
              be64_string(static_cast<uint64_t>(p.next_offset)));
  }
  if (batch.Count() == 0) return Status::ok();
  rocksdb::WriteOptions wo;
  wo.sync = options_.sync;
  rocksdb::Status s = db_->Write(wo, &batch);
  if (!s.ok()) {
    probe.write_errors.Increment();
    return write_error(s, "write");
  }
  probe.upserted.Increment(static_cast<double>(upserted));
  probe.ignored.Increment(static_cast<double>(ignored));
  probe.write_seconds.Observe(seconds_since(t0));
  return Status::ok();
}

Status RocksCandleStore::write_indicators(const std::vector<IndicatorRecord>& records,
                                          const std::vector<ConsumerPosition>& positions) {
  rocksdb::WriteBatch batch;
  std::unordered_map<std::string, uint32_t> pending;  // key → revision written in this batch
  std::lock_guard lk(write_mu_);
  for (const IndicatorRecord& r : records) {
    if (r.provisional) continue;
    if (!r.timeframe.valid() || r.symbol.empty())
      return Status::invalid_argument("store write: indicator record without symbol or timeframe");
    std::string key = candle_key(series_prefix(r.exchange, r.symbol, r.timeframe.duration_ns()), r.open_time);
    std::optional<uint32_t> existing;
    if (auto it = pending.find(key); it != pending.end()) {
      existing = it->second;
    } else {
      std::string v;
      rocksdb::Status gs = db_->Get(rocksdb::ReadOptions(), cf_indicators_, key, &v);
      if (gs.ok()) {
        auto stored = codec::decode_indicators(v);
        if (stored) existing = stored->candle_revision;  // an undecodable row is replaced
      } else if (!gs.IsNotFound()) {
        return read_error(gs, "write_indicators");
      }
    }
    if (existing && r.candle_revision <= *existing) continue;
    batch.Put(cf_indicators_, key, codec::encode_indicators(r));
    pending[std::move(key)] = r.candle_revision;
  }
  for (const ConsumerPosition& p : positions) {
    if (p.next_offset < 0)
      return Status::invalid_argument("store write: negative position for " + p.topic);
    batch.Put(cf_positions_, position_key(p.group, p.topic, p.partition),
              be64_string(static_cast<uint64_t>(p.next_offset)));
  }
  if (batch.Count() == 0) return Status::ok();
  rocksdb::WriteOptions wo;
  wo.sync = options_.sync;
  rocksdb::Status s = db_->Write(wo, &batch);
  if (!s.ok()) {
    StoreProbe::get().write_errors.Increment();
    return write_error(s, "write_indicators");
  }
  return Status::ok();
}

Result<std::vector<IndicatorRecord>> RocksCandleStore::query_indicators(const IndicatorQuery& q) const {
  if (!q.timeframe.valid()) return Status::invalid_argument("timeframe: invalid");
  std::vector<IndicatorRecord> out;
  if (q.limit == 0 || q.start >= q.end) return out;
  const std::string prefix = series_prefix(q.exchange, q.symbol, q.timeframe.duration_ns());
  const std::string lower = candle_key(prefix, q.start);
  const std::string upper = candle_key(prefix, q.end);
  rocksdb::Slice lower_slice(lower);
  rocksdb::Slice upper_slice(upper);
  rocksdb::ReadOptions ro;
  ro.iterate_lower_bound = &lower_slice;
  ro.iterate_upper_bound = &upper_slice;
  {
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, cf_indicators_));
    for (it->SeekToLast(); it->Valid() && out.size() < q.limit; it->Prev()) {
      rocksdb::Slice v = it->value();
      auto r = codec::decode_indicators(std::string_view(v.data(), v.size()));
      if (!r) return Status::corruption("stored indicator record is undecodable: " + r.status().message());
      if (!q.names.empty()) {
        std::erase_if(r->values, [&](const auto& nv) {
          return std::find(q.names.begin(), q.names.end(), nv.first) == q.names.end();
        });
        if (r->values.empty()) continue;
      }
      out.push_back(std::move(r).value());
    }
    if (!it->status().ok()) return read_error(it->status(), "query_indicators");
  }
  std::reverse(out.begin(), out.end());
  return out;
}

Result<int64_t> RocksCandleStore::position(const std::string& group, const std::string& topic,
                                           int32_t partition) const {
  std::string v;
  rocksdb::Status s =
      db_->Get(rocksdb::ReadOptions(), cf_positions_, position_key(group, topic, partition), &v);
  if (s.IsNotFound()) return int64_t{0};
  if (!s.ok()) return read_error(s, "position");
  if (v.size() != 8) return Status::corruption("store position of wrong size");
  return static_cast<int64_t>(get_be64(v.data()));
}

Result<std::vector<Candle>> RocksCandleStore::query(const CandleQuery& q) const {
  if (!q.timeframe.valid()) return Status::invalid_argument("timeframe: invalid");
  std::vector<Candle> out;
  if (q.limit == 0 || q.start >= q.end) return out;
  const auto t0 = std::chrono::steady_clock::now();
  const std::string prefix = series_prefix(q.exchange, q.symbol, q.timeframe.duration_ns());
  const std::string lower = candle_key(prefix, q.start);
  const std::string upper = candle_key(prefix, q.end);
  rocksdb::Slice lower_slice(lower);
  rocksdb::Slice upper_slice(upper);
  rocksdb::ReadOptions ro;
  ro.iterate_lower_bound = &lower_slice;
  ro.iterate_upper_bound = &upper_slice;
  {
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, cf_candles_));
    for (it->SeekToLast(); it->Valid() && out.size() < q.limit; it->Prev()) {
      rocksdb::Slice v = it->value();
      auto c = codec::decode_candle(std::string_view(v.data(), v.size()));
      if (!c) return Status::corruption("stored candle is undecodable: " + c.status().message());
      out.push_back(std::move(c).value());
    }
    if (!it->status().ok()) return read_error(it->status(), "query");
  }
  std::reverse(out.begin(), out.end());
  StoreProbe::get().query_seconds.Observe(seconds_since(t0));
  return out;
}

Result<bool> RocksCandleStore::has_series(Exchange e, const std::string& symbol,
                                          const Timeframe& tf) const {
  std::string v;
  rocksdb::Status s =
      db_->Get(rocksdb::ReadOptions(), cf_series_, series_prefix(e, symbol, tf.duration_ns()), &v);
  if (s.IsNotFound()) return false;
  if (!s.ok()) return read_error(s, "has_series");
  return v.size() == 8 && get_be64(v.data()) > 0;
}

Result<std::vector<SeriesInfo>> RocksCandleStore::list_series() const {
  std::vector<SeriesInfo> out;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), cf_series_));
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    SeriesKey sk;
    rocksdb::Slice k = it->key();
    rocksdb::Slice v = it->value();
    if (!parse_series_key(std::string_view(k.data(), k.size()), sk) || v.size() != 8) {
      return Status::corruption("store series index entry is malformed");
    }
    const int64_t count = static_cast<int64_t>(get_be64(v.data()));
    if (count <= 0) continue;
    out.push_back(
        SeriesInfo{sk.exchange, sk.symbol, Timeframe::from_duration(sk.timeframe).label(), count});
  }
  if (!it->status().ok()) return read_error(it->status(), "list_series");
  return out;
}

Result<int64_t> RocksCandleStore::enforce_retention(TimestampNs now) {
  std::lock_guard lk(write_mu_);
  struct Entry {
    std::string prefix;
    int64_t count;
    DurationNs keep;
  };
  std::vector<Entry> entries;
  {
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), cf_series_));
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      SeriesKey sk;
      rocksdb::Slice k = it->key();
      rocksdb::Slice v = it->value();
      if (!parse_series_key(std::string_view(k.data(), k.size()), sk) || v.size() != 8) continue;
      auto r = retention_.find(sk.timeframe);
      if (r == retention_.end()) continue;
      entries.push_back({k.ToString(), static_cast<int64_t>(get_be64(v.data())), r->second});
    }
    if (!it->status().ok()) return read_error(it->status(), "retention");
  }
  int64_t removed = 0;
  for (const Entry& e : entries) {
    const std::string lower = candle_key(e.prefix, INT64_MIN);
    const std::string upper = candle_key(e.prefix, now - e.keep);
    int64_t n = 0;
    {
      rocksdb::Slice upper_slice(upper);
      rocksdb::ReadOptions ro;
      ro.iterate_upper_bound = &upper_slice;
      std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, cf_candles_));
      for (it->Seek(lower); it->Valid(); it->Next()) ++n;
      if (!it->status().ok()) return read_error(it->status(), "retention");
    }
    if (n == 0) continue;
    rocksdb::WriteBatch batch;
    batch.DeleteRange(cf_candles_, lower, upper);
    batch.Put(cf_series_, e.prefix,
              be64_string(static_cast<uint64_t>(std::max<int64_t>(0, e.count - n))));
    rocksdb::WriteOptions wo;
    wo.sync = options_.sync;
    rocksdb::Status s = db_->Write(wo, &batch);
    if (!s.ok()) return write_error(s, "retention");
    removed += n;
  }
  StoreProbe::get().retention_deleted.Increment(static_cast<double>(removed));
  auto books = enforce_book_retention(now);
  if (!books) return books.status();
  return removed + *books;
}

}  // namespace tickflow::storage::embedded
