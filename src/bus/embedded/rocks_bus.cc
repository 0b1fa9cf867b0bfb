// RocksEventBus: open/close, topics, commits (one WriteBatch per transaction), follower catch-up
// and retention. The read side is in rocks_bus_read.cc, the key layout in rocks_bus_internal.h.
#include "bus/embedded/rocks_bus.h"

#include <rocksdb/convenience.h>
#include <rocksdb/db.h>
#include <rocksdb/options.h>
#include <rocksdb/slice_transform.h>
#include <rocksdb/write_batch.h>
#include <stdlib.h>

#include <algorithm>
#include <chrono>
#include <filesystem>

#include "bus/embedded/rocks_bus_internal.h"
#include "core/topics.h"
#include "observability/metrics.h"

namespace tickflow::bus::embedded {
namespace {

// Memtable insert hint per partition: log keys of one partition arrive in increasing order,
// so RocksDB inserts each next to the previous one instead of searching the whole skip list.
// Only full record keys (topic \0 be32 be64: a NUL 13 bytes from the end) are in the domain:
// RocksDB 7.8 also applies the hint map to its range-deletion memtable (fixed upstream later),
// which asserts, so retention's DeleteRange starts at the bare partition prefix, outside it.
class PartitionPrefix final : public rocksdb::SliceTransform {
 public:
  const char* Name() const override { return "tickflow.PartitionPrefix"; }
  rocksdb::Slice Transform(const rocksdb::Slice& key) const override {
    return rocksdb::Slice(key.data(), key.size() - 8);
  }
  bool InDomain(const rocksdb::Slice& key) const override {
    return key.size() >= 14 && key[key.size() - 13] == '\0';
  }
};

struct BusProbe {
  prometheus::Family<prometheus::Counter>& appended_family;
  prometheus::Counter& commits;
  prometheus::Counter& commit_errors;
  prometheus::Histogram& commit_seconds;
  prometheus::Counter& retention_deleted;

  static BusProbe& get() {
    static BusProbe* p = [] {
      auto& reg = obs::registry();
      auto& commits = prometheus::BuildCounter()
                          .Name("tickflow_bus_commits_total")
                          .Help("Embedded bus transactions committed")
                          .Register(reg);
      auto& errors = prometheus::BuildCounter()
                         .Name("tickflow_bus_commit_errors_total")
                         .Help("Embedded bus commits that failed (nothing applied)")
                         .Register(reg);
      auto& seconds = prometheus::BuildHistogram()
                          .Name("tickflow_bus_commit_seconds")
                          .Help("Embedded bus commit latency")
                          .Register(reg);
      auto& deleted = prometheus::BuildCounter()
                          .Name("tickflow_bus_retention_deleted_records_total")
                          .Help("Records removed by retention")
                          .Register(reg);
      auto& appended = prometheus::BuildCounter()
                           .Name("tickflow_bus_records_appended_total")
                           .Help("Records appended per topic")
                           .Register(reg);
      return new BusProbe{appended, commits.Add({}), errors.Add({}),
                          seconds.Add({}, obs::latency_buckets()), deleted.Add({})};
    }();
    return *p;
  }
};

class RocksTransaction final : public Transaction {
 public:
  explicit RocksTransaction(RocksEventBus* bus) : bus_(bus) {}

  void append(std::string_view topic, std::string_view key, std::string_view value) override {
    buf_.append(topic, key, value);
  }
  void commit_offset(std::string_view group, std::string_view topic, int32_t partition,
                     int64_t next_offset) override {
    buf_.offsets.push_back({std::string(group), std::string(topic), partition, next_offset});
  }
  void put_state(std::string_view ns, std::string_view key, std::string_view value) override {
    buf_.states.push_back({std::string(ns), std::string(key), std::string(value), false});
  }
  void delete_state(std::string_view ns, std::string_view key) override {
    buf_.states.push_back({std::string(ns), std::string(key), std::string(), true});
  }
  size_t appended() const override { return buf_.appends.size(); }
  Status commit() override {
    Status s = bus_->commit_buffer(buf_);
    if (s.is_ok()) buf_.clear();
    return s;
  }

 private:
  RocksEventBus* bus_;
  RocksEventBus::TxnBuffer buf_;
};

}  // namespace

void RocksEventBus::TxnBuffer::append(std::string_view topic, std::string_view key,
                                      std::string_view value) {
  uint32_t idx = 0;
  if (!topic_names.empty() && topic_names.back() == topic) {
    idx = static_cast<uint32_t>(topic_names.size() - 1);
  } else {
    auto it = std::find(topic_names.begin(), topic_names.end(), topic);
    if (it == topic_names.end()) it = topic_names.emplace(topic_names.end(), topic);
    idx = static_cast<uint32_t>(it - topic_names.begin());
  }
  appends.push_back({idx, static_cast<uint32_t>(key.size()), static_cast<uint32_t>(value.size())});
  bytes.append(key);
  bytes.append(value);
}

void RocksEventBus::TxnBuffer::clear() {
  topic_names.clear();
  appends.clear();
  bytes.clear();
  offsets.clear();
  states.clear();
}

void RocksEventBus::init_partitions(TopicState& t, bool with_tail) const {
  t.next.reset(new std::atomic<int64_t>[t.config.partitions]);
  t.begin.reset(new std::atomic<int64_t>[t.config.partitions]);
  for (int32_t p = 0; p < t.config.partitions; ++p) {
    t.next[p].store(0);
    t.begin[p].store(0);
  }
  if (with_tail) t.tails.reset(new Tail[t.config.partitions]);
}

void RocksEventBus::notify_topics(const std::vector<TopicState*>& grew) const {
  if (grew.empty()) return;
  {
    std::lock_guard dl(data_mu_);
    for (TopicState* t : grew) t->version.fetch_add(1, std::memory_order_acq_rel);
  }
  for (TopicState* t : grew) t->cv.notify_all();
}

RocksEventBus::RocksEventBus(RocksBusOptions options)
    : options_(std::move(options)),
      clock_(options_.clock ? options_.clock : &SystemClock::instance()) {}

Result<std::unique_ptr<RocksEventBus>> RocksEventBus::open(const RocksBusOptions& options) {
  if (options.path.empty()) return Status::invalid_argument("bus path is empty");
  std::error_code ec;
  if (options.read_only) {
    if (!std::filesystem::exists(std::filesystem::path(options.path) / "CURRENT", ec)) {
      return Status::not_found("no event log at " + options.path);
    }
  } else {
    std::filesystem::create_directories(options.path, ec);
    if (ec) {
      return Status::io_error("cannot create bus directory " + options.path + ": " + ec.message());
    }
  }

  std::unique_ptr<RocksEventBus> bus(new RocksEventBus(options));

  rocksdb::DBOptions db_opts = rocks::db_options();
  db_opts.max_total_wal_size = 256u << 20;  // forces flushes of the small CFs so old WALs go

  rocksdb::ColumnFamilyOptions small;
  small.write_buffer_size = 8u << 20;
  rocksdb::ColumnFamilyOptions log_opts;
  log_opts.write_buffer_size = options.write_buffer_bytes;
  log_opts.compression = rocks::best_compression();
  log_opts.bottommost_compression = log_opts.compression;
  log_opts.memtable_insert_with_hint_prefix_extractor = std::make_shared<PartitionPrefix>();

  std::vector<rocksdb::ColumnFamilyDescriptor> cfs = {{rocksdb::kDefaultColumnFamilyName, small},
                                                      {kCfLog, log_opts},
                                                      {kCfNext, small},
                                                      {kCfBegin, small},
                                                      {kCfOffsets, small},
                                                      {kCfState, small},
                                                      {kCfTopics, small}};
  rocksdb::Status s;
  if (options.read_only) {
    std::string tmpl =
        (std::filesystem::temp_directory_path() / "tickflow-follower-XXXXXX").string();
    if (::mkdtemp(tmpl.data()) == nullptr)
      return Status::io_error("cannot create a follower directory in /tmp");
    bus->secondary_dir_ = tmpl;
    db_opts.max_open_files = -1;  // required by secondary instances
    s = rocksdb::DB::OpenAsSecondary(db_opts, options.path, bus->secondary_dir_, cfs,
                                     &bus->handles_, &bus->db_);
  } else {
    s = rocksdb::DB::Open(db_opts, options.path, cfs, &bus->handles_, &bus->db_);
  }
  if (!s.ok()) return rocks::open_error(s, "bus", options.path);
  bus->cf_log_ = bus->handles_[1];
  bus->cf_next_ = bus->handles_[2];
  bus->cf_begin_ = bus->handles_[3];
  bus->cf_offsets_ = bus->handles_[4];
  bus->cf_state_ = bus->handles_[5];
  bus->cf_topics_ = bus->handles_[6];
  TICKFLOW_RETURN_IF_ERROR(bus->load());
  return bus;
}

RocksEventBus::~RocksEventBus() {
  wake_all();
  if (db_ != nullptr) {
    // Every iterator is scoped to one call, so none is alive here (Debian's RocksDB asserts
    // otherwise). Handles go before the DB.
    rocks::close_db(db_, handles_);
  }
  if (!secondary_dir_.empty()) {
    std::error_code ec;
    std::filesystem::remove_all(secondary_dir_, ec);
  }
}

Status RocksEventBus::refuse_write() const {
  return Status::invalid_argument("the event log at " + options_.path + " is open read-only");
}

Status RocksEventBus::catch_up() const {
  std::lock_guard lk(catch_up_mu_);
  rocksdb::Status s = db_->TryCatchUpWithPrimary();
  if (!s.ok()) return read_error(s, "catch up");
  // New topics first, then every partition's begin/next offsets.
  {
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), cf_topics_));
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      const std::string name = it->key().ToString();
      rocksdb::Slice v = it->value();
      if (v.size() != 12 || find_topic(name) != nullptr) continue;
      auto t = std::make_unique<TopicState>();
      t->config.name = name;
      t->config.partitions = static_cast<int32_t>(get_be32(v.data()));
      t->config.retention = static_cast<DurationNs>(get_be64(v.data() + 4));
      if (t->config.partitions <= 0) continue;
      init_partitions(*t, /*with_tail=*/false);
      t->appended_counter = &BusProbe::get().appended_family.Add({{"topic", name}});
      std::unique_lock wl(topics_mu_);
      const_cast<RocksEventBus*>(this)->topics_.emplace(name, std::move(t));
    }
    if (!it->status().ok()) return read_error(it->status(), "catch up");
  }
  std::vector<TopicState*> grew;
  {
    std::shared_lock rl(topics_mu_);
    for (const auto& [name, t] : topics_) {
      bool changed = false;
      for (int32_t p = 0; p < t->config.partitions; ++p) {
        const std::string key = partition_key(name, p);
        std::string val;
        rocksdb::Status gs = db_->Get(rocksdb::ReadOptions(), cf_begin_, key, &val);
        if (gs.ok() && val.size() == 8)
          t->begin[p].store(static_cast<int64_t>(get_be64(val.data())));
        gs = db_->Get(rocksdb::ReadOptions(), cf_next_, key, &val);
        if (gs.ok() && val.size() == 8) {
          const auto next = static_cast<int64_t>(get_be64(val.data()));
          if (next != t->next[p].load()) {
            t->next[p].store(next, std::memory_order_release);
            changed = true;
          }
        }
      }
      if (changed) grew.push_back(t.get());
    }
  }
  notify_topics(grew);
  return Status::ok();
}

Status RocksEventBus::load() {
  auto& probe = BusProbe::get();
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), cf_topics_));
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    rocksdb::Slice v = it->value();
    if (v.size() != 12)
      return Status::corruption("bus topic config for " + it->key().ToString() + " is malformed");
    auto t = std::make_unique<TopicState>();
    t->config.name = it->key().ToString();
    t->config.partitions = static_cast<int32_t>(get_be32(v.data()));
    t->config.retention = static_cast<DurationNs>(get_be64(v.data() + 4));
    if (t->config.partitions <= 0)
      return Status::corruption("bus topic " + t->config.name + " has no partitions");
    init_partitions(*t, tail_enabled());
    for (int32_t p = 0; p < t->config.partitions; ++p) {
      std::string key = partition_key(t->config.name, p);
      std::string val;
      int64_t next = 0;
      int64_t begin = 0;
      rocksdb::Status gs = db_->Get(rocksdb::ReadOptions(), cf_next_, key, &val);
      if (gs.ok() && val.size() == 8)
        next = static_cast<int64_t>(get_be64(val.data()));
      else if (!gs.ok() && !gs.IsNotFound())
        return read_error(gs, "load");
      gs = db_->Get(rocksdb::ReadOptions(), cf_begin_, key, &val);
      if (gs.ok() && val.size() == 8)
        begin = static_cast<int64_t>(get_be64(val.data()));
      else if (!gs.ok() && !gs.IsNotFound())
        return read_error(gs, "load");
      t->next[p].store(next);
      t->begin[p].store(begin);
    }
    t->appended_counter = &probe.appended_family.Add({{"topic", t->config.name}});
    topics_.emplace(t->config.name, std::move(t));
  }
  if (!it->status().ok()) return read_error(it->status(), "load");
  return Status::ok();
}

const RocksEventBus::TopicState* RocksEventBus::find_topic(std::string_view name) const {
  std::shared_lock lk(topics_mu_);
  auto it = topics_.find(name);
  return it == topics_.end() ? nullptr : it->second.get();
}

RocksEventBus::TopicState* RocksEventBus::find_topic(std::string_view name) {
  std::shared_lock lk(topics_mu_);
  auto it = topics_.find(name);
  return it == topics_.end() ? nullptr : it->second.get();
}

TimestampNs RocksEventBus::next_timestamp() { return std::max(clock_->now_ns(), last_ts_); }

Status RocksEventBus::create_topic(const TopicConfig& config) {
  if (options_.read_only) return refuse_write();
  if (config.name.empty() || config.name.find('\0') != std::string::npos) {
    return Status::invalid_argument("bus topic name '" + config.name + "' is invalid");
  }
  if (config.partitions <= 0 || config.partitions > 100000) {
    return Status::invalid_argument("topic " + config.name + ": partitions must be in 1..100000");
  }
  if (config.retention < 0)
    return Status::invalid_argument("topic " + config.name + ": negative retention");
  std::lock_guard commit_lk(commit_mu_);
  TopicState* existing = find_topic(config.name);
  if (existing != nullptr) {
    if (existing->config.retention == config.retention) return Status::ok();
    TopicConfig updated = existing->config;  // keeps its partition count
    updated.retention = config.retention;
    rocksdb::WriteOptions wo;
    wo.sync = options_.sync;
    rocksdb::Status s = db_->Put(wo, cf_topics_, updated.name, topic_value(updated));
    if (!s.ok()) return write_error(s, "create_topic");
    std::unique_lock lk(topics_mu_);
    existing->config.retention = config.retention;
    return Status::ok();
  }
  auto t = std::make_unique<TopicState>();
  t->config = config;
  init_partitions(*t, tail_enabled());
  t->appended_counter = &BusProbe::get().appended_family.Add({{"topic", config.name}});
  rocksdb::WriteOptions wo;
  wo.sync = options_.sync;
  rocksdb::Status s = db_->Put(wo, cf_topics_, config.name, topic_value(config));
  if (!s.ok()) return write_error(s, "create_topic");
  std::unique_lock lk(topics_mu_);
  topics_.emplace(config.name, std::move(t));
  return Status::ok();
}

Result<TopicConfig> RocksEventBus::topic(std::string_view name) const {
  std::shared_lock lk(topics_mu_);
  auto it = topics_.find(name);
  if (it == topics_.end()) return Status::not_found("unknown topic '" + std::string(name) + "'");
  return it->second->config;
}

std::vector<TopicConfig> RocksEventBus::topics() const {
  std::shared_lock lk(topics_mu_);
  std::vector<TopicConfig> out;
  out.reserve(topics_.size());
  for (const auto& [name, t] : topics_) out.push_back(t->config);
  return out;
}

Status RocksEventBus::publish(std::string_view topic, std::string_view key,
                              std::string_view value) {
  TxnBuffer one;
  one.append(topic, key, value);
  return commit_buffer(one);
}

std::unique_ptr<Transaction> RocksEventBus::begin() {
  return std::make_unique<RocksTransaction>(this);
}

Status RocksEventBus::commit_buffer(const TxnBuffer& txn) {
  if (txn.empty()) return Status::ok();
  if (options_.read_only) return refuse_write();
  auto& probe = BusProbe::get();
  const auto started = std::chrono::steady_clock::now();

  struct Touch {
    TopicState* topic;
    int32_t partition;
    int64_t next;
    uint64_t appended;
    std::string prefix;  // topic \0 be32(partition)
    int64_t fill;        // next offset to put into the tail
  };
  std::vector<Touch> touched;
  const bool tail_on = tail_enabled();
  std::vector<uint32_t> append_touch;  // per append: its index in touched (tail only)
  if (tail_on) append_touch.reserve(txn.appends.size());
  rocksdb::WriteBatch batch;
  std::vector<TopicState*> topic_states(txn.topic_names.size(), nullptr);

  std::lock_guard commit_lk(commit_mu_);
  for (size_t i = 0; i < txn.topic_names.size(); ++i) {
    topic_states[i] = find_topic(txn.topic_names[i]);
    if (topic_states[i] == nullptr) {
      return Status::invalid_argument("append to unknown topic '" + txn.topic_names[i] + "'");
    }
  }
  const TimestampNs ts = next_timestamp();
  char header[kLogHeader];
  for (int i = 0; i < 8; ++i)
    header[i] = static_cast<char>(static_cast<uint64_t>(ts) >> (56 - 8 * i));
  const char* cursor = txn.bytes.data();
  for (const TxnBuffer::Append& a : txn.appends) {
    TopicState* topic = topic_states[a.topic];
    const std::string_view key(cursor, a.key_len);
    const std::string_view value(cursor + a.key_len, a.value_len);
    cursor += a.key_len + a.value_len;
    const int32_t p = topics::partition_for(key, topic->config.partitions);
    Touch* t = nullptr;
    for (auto it = touched.rbegin(); it != touched.rend(); ++it) {
      if (it->topic == topic && it->partition == p) {
        t = &*it;
        break;
      }
    }
    if (t == nullptr) {
      const int64_t next = topic->next[p].load(std::memory_order_relaxed);
      touched.push_back({topic, p, next, 0, partition_key(topic->config.name, p), next});
      t = &touched.back();
    }
    if (tail_on) append_touch.push_back(static_cast<uint32_t>(t - touched.data()));
    char offset_be[8];
    for (int i = 0; i < 8; ++i)
      offset_be[i] = static_cast<char>(static_cast<uint64_t>(t->next) >> (56 - 8 * i));
    ++t->next;
    ++t->appended;
    for (int i = 0; i < 4; ++i) header[8 + i] = static_cast<char>(a.key_len >> (24 - 8 * i));
    const rocksdb::Slice key_parts[2] = {rocksdb::Slice(t->prefix), rocksdb::Slice(offset_be, 8)};
    const rocksdb::Slice value_parts[3] = {rocksdb::Slice(header, kLogHeader),
                                           rocksdb::Slice(key.data(), key.size()),
                                           rocksdb::Slice(value.data(), value.size())};
    rocksdb::Status ps =
        batch.Put(cf_log_, rocksdb::SliceParts(key_parts, 2), rocksdb::SliceParts(value_parts, 3));
    if (!ps.ok()) return Status::invalid_argument("bus record too large: " + ps.ToString());
  }
  for (const Touch& t : touched) {
    batch.Put(cf_next_, t.prefix, be64_string(static_cast<uint64_t>(t.next)));
  }
  for (const TxnBuffer::Offset& o : txn.offsets) {
    if (o.next_offset < 0)
      return Status::invalid_argument("negative committed offset for " + o.topic);
    batch.Put(cf_offsets_, offsets_key(o.group, o.topic, o.partition),
              be64_string(static_cast<uint64_t>(o.next_offset)));
  }
  for (const TxnBuffer::StateOp& st : txn.states) {
    if (st.erase)
      batch.Delete(cf_state_, state_key(st.ns, st.key));
    else
      batch.Put(cf_state_, state_key(st.ns, st.key), st.value);
  }

  rocksdb::WriteOptions wo;
  wo.sync = options_.sync;
  rocksdb::Status s = db_->Write(wo, &batch);
  if (!s.ok()) {
    probe.commit_errors.Increment();
    return write_error(s, "commit");
  }
  last_ts_ = ts;
  if (tail_on) {
    // Into the tails before the new end offsets are published: a reader bounded by the end
    // offset it loaded finds every record it may ask for.
    cursor = txn.bytes.data();
    size_t i = 0;
    for (const TxnBuffer::Append& a : txn.appends) {
      Touch& t = touched[append_touch[i++]];
      const std::string_view key(cursor, a.key_len);
      const std::string_view value(cursor + a.key_len, a.value_len);
      cursor += a.key_len + a.value_len;
      Tail& tail = t.topic->tails[t.partition];
      std::lock_guard tl(tail.mu);
      tail.push(t.fill++, ts, key, value, options_.tail_records, options_.tail_bytes);
    }
  }
  std::vector<TopicState*> grew;
  for (const Touch& t : touched) {
    t.topic->next[t.partition].store(t.next, std::memory_order_release);
    t.topic->appended_counter->Increment(static_cast<double>(t.appended));
    if (std::find(grew.begin(), grew.end(), t.topic) == grew.end()) grew.push_back(t.topic);
  }
  notify_topics(grew);
  probe.commits.Increment();
  probe.commit_seconds.Observe(
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
  return Status::ok();
}


Result<int64_t> RocksEventBus::enforce_retention(TimestampNs now) {
  if (options_.read_only) return refuse_write();
  auto& probe = BusProbe::get();
  std::vector<TopicState*> targets;
  {
    std::shared_lock lk(topics_mu_);
    for (auto& [name, t] : topics_) {
      if (t->config.retention > 0) targets.push_back(t.get());
    }
  }
  int64_t removed = 0;
  std::lock_guard commit_lk(commit_mu_);
  for (TopicState* t : targets) {
    const TimestampNs cutoff = now - t->config.retention;
    for (int32_t p = 0; p < t->config.partitions; ++p) {
      const int64_t begin = t->begin[p].load(std::memory_order_relaxed);
      const int64_t end = t->next[p].load(std::memory_order_relaxed);
      // Append timestamps never decrease, so the first record to keep is found by bisection.
      int64_t lo = begin;
      int64_t hi = end;
      while (lo < hi) {
        const int64_t mid = lo + (hi - lo) / 2;
        std::string v;
        rocksdb::Status s =
            db_->Get(rocksdb::ReadOptions(), cf_log_, log_key(t->config.name, p, mid), &v);
        if (!s.ok()) return read_error(s, "retention");
        if (v.size() < kLogHeader) return Status::corruption("bus log record is malformed");
        if (static_cast<TimestampNs>(get_be64(v.data())) < cutoff)
          lo = mid + 1;
        else
          hi = mid;
      }
      if (lo == begin) continue;
      rocksdb::WriteBatch batch;
      // From the bare partition prefix (everything before `begin` is gone already): a start key
      // outside PartitionPrefix's domain, see there.
      batch.DeleteRange(cf_log_, partition_key(t->config.name, p), log_key(t->config.name, p, lo));
      batch.Put(cf_begin_, partition_key(t->config.name, p),
                be64_string(static_cast<uint64_t>(lo)));
      rocksdb::WriteOptions wo;
      wo.sync = options_.sync;
      rocksdb::Status s = db_->Write(wo, &batch);
      if (!s.ok()) return write_error(s, "retention");
      t->begin[p].store(lo, std::memory_order_release);
      if (t->tails) {
        Tail& tail = t->tails[p];
        std::lock_guard tl(tail.mu);
        tail.trim_below(lo);
      }
      removed += lo - begin;
    }
  }
  probe.retention_deleted.Increment(static_cast<double>(removed));
  return removed;
}

}  // namespace tickflow::bus::embedded
