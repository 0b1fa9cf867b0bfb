// The consumer side of RocksEventBus: reads by offset, begin/end/committed offsets, state
// lookups and scans, and waiting for new data (see rocks_bus.h for the contract).
#include <rocksdb/db.h>

#include <algorithm>
#include <chrono>

#include "bus/embedded/rocks_bus.h"
#include "bus/embedded/rocks_bus_internal.h"

namespace tickflow::bus::embedded {

bool RocksEventBus::Tail::read(std::string_view topic, int32_t partition, int64_t from,
                               int64_t stop, std::vector<Record>& out) const {
  std::lock_guard lk(mu);
  if (count == 0 || from < first || stop > first + static_cast<int64_t>(count)) {
    ++misses;
    return false;
  }
  ++hits;
  const size_t need = out.size() + static_cast<size_t>(stop - from);
  if (out.capacity() < need) out.reserve(std::max(need, 2 * out.capacity()));
  for (int64_t o = from; o < stop; ++o) {
    const Slot& slot = slots[(head + static_cast<size_t>(o - first)) % slots.size()];
    Record& r = out.emplace_back();
    r.topic.assign(topic.data(), topic.size());
    r.partition = partition;
    r.offset = o;
    r.timestamp = slot.timestamp;
    r.key.assign(slot.data.data(), slot.key_len);
    r.value.assign(slot.data.data() + slot.key_len, slot.data.size() - slot.key_len);
  }
  return true;
}

Status RocksEventBus::read(std::string_view topic, int32_t partition, int64_t from_offset,
                           size_t max_records, std::vector<Record>& out) const {
  const TopicState* t = find_topic(topic);
  if (t == nullptr) return Status::not_found("unknown topic '" + std::string(topic) + "'");
  if (partition < 0 || partition >= t->config.partitions) {
    return Status::invalid_argument("topic " + std::string(topic) + " has no partition " +
                                    std::to_string(partition));
  }
  const int64_t end = t->next[partition].load(std::memory_order_acquire);
  const int64_t from = std::max(from_offset, t->begin[partition].load(std::memory_order_acquire));
  if (from >= end || max_records == 0) return Status::ok();
  if (t->tails) {
    const int64_t stop =
        max_records < static_cast<uint64_t>(end - from) ? from + static_cast<int64_t>(max_records)
                                                        : end;
    if (t->tails[partition].read(topic, partition, from, stop, out)) return Status::ok();
  }
  const std::string lower = log_key(topic, partition, from);
  const std::string upper = log_key(topic, partition, end);
  rocksdb::Slice upper_slice(upper);
  rocksdb::ReadOptions ro;
  ro.iterate_upper_bound = &upper_slice;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, cf_log_));
  size_t n = 0;
  const size_t prefix_len = topic.size() + 5;
  for (it->Seek(lower); it->Valid() && n < max_records; it->Next(), ++n) {
    rocksdb::Slice k = it->key();
    if (k.size() != prefix_len + 8) return Status::corruption("bus log key of wrong size");
    Record r;
    r.topic.assign(topic);
    r.partition = partition;
    r.offset = static_cast<int64_t>(get_be64(k.data() + prefix_len));
    rocksdb::Slice v = it->value();
    if (!decode_log_value(std::string_view(v.data(), v.size()), r)) {
      return Status::corruption("bus log record " + std::string(topic) + "/" +
                                std::to_string(partition) + "@" + std::to_string(r.offset) +
                                " is malformed");
    }
    out.push_back(std::move(r));
  }
  if (!it->status().ok()) return read_error(it->status(), "read");
  return Status::ok();
}

Result<Record> RocksEventBus::read_one(std::string_view topic, int32_t partition,
                                       int64_t offset) const {
  const TopicState* t = find_topic(topic);
  if (t == nullptr) return Status::not_found("unknown topic '" + std::string(topic) + "'");
  if (partition < 0 || partition >= t->config.partitions) {
    return Status::invalid_argument("topic " + std::string(topic) + " has no partition " +
                                    std::to_string(partition));
  }
  const std::string where =
      std::string(topic) + "/" + std::to_string(partition) + "@" + std::to_string(offset);
  if (offset < t->begin[partition].load(std::memory_order_acquire) ||
      offset >= t->next[partition].load(std::memory_order_acquire)) {
    return Status::not_found("no record at " + where);
  }
  if (t->tails) {
    std::vector<Record> one;
    if (t->tails[partition].read(topic, partition, offset, offset + 1, one))
      return std::move(one.front());
  }
  std::string v;
  rocksdb::Status s =
      db_->Get(rocksdb::ReadOptions(), cf_log_, log_key(topic, partition, offset), &v);
  if (s.IsNotFound()) return Status::not_found("no record at " + where);
  if (!s.ok()) return read_error(s, "read_one");
  Record r;
  r.topic.assign(topic);
  r.partition = partition;
  r.offset = offset;
  if (!decode_log_value(v, r))
    return Status::corruption("bus log record " + where + " is malformed");
  return r;
}

Result<int64_t> RocksEventBus::end_offset(std::string_view topic, int32_t partition) const {
  const TopicState* t = find_topic(topic);
  if (t == nullptr) return Status::not_found("unknown topic '" + std::string(topic) + "'");
  if (partition < 0 || partition >= t->config.partitions) {
    return Status::invalid_argument("topic " + std::string(topic) + " has no partition " +
                                    std::to_string(partition));
  }
  return t->next[partition].load(std::memory_order_acquire);
}

Result<int64_t> RocksEventBus::begin_offset(std::string_view topic, int32_t partition) const {
  const TopicState* t = find_topic(topic);
  if (t == nullptr) return Status::not_found("unknown topic '" + std::string(topic) + "'");
  if (partition < 0 || partition >= t->config.partitions) {
    return Status::invalid_argument("topic " + std::string(topic) + " has no partition " +
                                    std::to_string(partition));
  }
  return t->begin[partition].load(std::memory_order_acquire);
}

Result<int64_t> RocksEventBus::committed_offset(std::string_view group, std::string_view topic,
                                                int32_t partition) const {
  std::string v;
  rocksdb::Status s =
      db_->Get(rocksdb::ReadOptions(), cf_offsets_, offsets_key(group, topic, partition), &v);
  if (s.IsNotFound()) return int64_t{0};
  if (!s.ok()) return read_error(s, "committed_offset");
  if (v.size() != 8) return Status::corruption("committed offset of wrong size");
  return static_cast<int64_t>(get_be64(v.data()));
}

Result<std::optional<std::string>> RocksEventBus::get_state(std::string_view ns,
                                                            std::string_view key) const {
  std::string v;
  rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), cf_state_, state_key(ns, key), &v);
  if (s.IsNotFound()) return std::optional<std::string>();
  if (!s.ok()) return read_error(s, "get_state");
  return std::optional<std::string>(std::move(v));
}

Status RocksEventBus::scan_state(
    std::string_view ns, const std::function<void(std::string_view, std::string_view)>& fn) const {
  std::string lower(ns);
  lower.push_back('\0');
  std::string upper(ns);
  upper.push_back('\1');
  rocksdb::Slice upper_slice(upper);
  rocksdb::ReadOptions ro;
  ro.iterate_upper_bound = &upper_slice;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, cf_state_));
  for (it->Seek(lower); it->Valid(); it->Next()) {
    rocksdb::Slice k = it->key();
    rocksdb::Slice v = it->value();
    fn(std::string_view(k.data() + lower.size(), k.size() - lower.size()),
       std::string_view(v.data(), v.size()));
  }
  if (!it->status().ok()) return read_error(it->status(), "scan_state");
  return Status::ok();
}

uint64_t RocksEventBus::data_version(std::string_view topic) const {
  const TopicState* t = find_topic(topic);
  return t == nullptr ? 0 : t->version.load(std::memory_order_acquire);
}

uint64_t RocksEventBus::wait_for_data(std::string_view topic, uint64_t seen,
                                      DurationNs timeout) const {
  if (options_.read_only) {
    // Another process writes: nothing here notifies, so catch up before and after the wait.
    (void)catch_up();
    const TopicState* t = find_topic(topic);
    if (t != nullptr && t->version.load(std::memory_order_acquire) != seen)
      return t->version.load();
    if (timeout > 0) {
      std::unique_lock lk(data_mu_);
      const uint64_t generation = wake_generation_;
      data_cv_.wait_for(lk, std::chrono::nanoseconds(timeout),
                        [&] { return wake_generation_ != generation; });
    }
    (void)catch_up();
    t = find_topic(topic);
    return t == nullptr ? 0 : t->version.load(std::memory_order_acquire);
  }
  // Versions and the wake generation change under data_mu_ and are checked under it here, so
  // a commit between the check and the wait cannot be missed. Each topic has its own
  // condition variable: commits to other topics do not wake this thread.
  const TopicState* t = find_topic(topic);
  std::unique_lock lk(data_mu_);
  const uint64_t generation = wake_generation_;
  auto changed = [&] {
    return (t != nullptr && t->version.load(std::memory_order_acquire) != seen) ||
           wake_generation_ != generation;
  };
  if (timeout > 0 && !changed()) {
    std::condition_variable& cv = t != nullptr ? t->cv : data_cv_;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::nanoseconds(timeout);
    ++blocked_waiters_;
    do {
      if (cv.wait_until(lk, deadline) == std::cv_status::timeout) break;
      ++waiter_wakeups_;
    } while (!changed());
    --blocked_waiters_;
  }
  return t == nullptr ? 0 : t->version.load(std::memory_order_acquire);
}

RocksBusWaitStats RocksEventBus::wait_stats() const {
  std::lock_guard lk(data_mu_);
  return {blocked_waiters_, waiter_wakeups_};
}

void RocksEventBus::wake_all() {
  {
    std::lock_guard lk(data_mu_);
    ++wake_generation_;
  }
  data_cv_.notify_all();
  // Every waiter found its topic before taking data_mu_, so it is in the table here.
  std::shared_lock lk(topics_mu_);
  for (const auto& [name, t] : topics_) t->cv.notify_all();
}

}  // namespace tickflow::bus::embedded
