// RocksEventBus::Tail: the in-memory ring of the newest records of one partition, filled at
// commit (under the commit mutex) and read by read()/read_one() when a range lies inside it.
#include <algorithm>
#include <mutex>
#include <shared_mutex>

#include "bus/embedded/rocks_bus.h"

namespace tickflow::bus::embedded {

void RocksEventBus::Tail::push(int64_t offset, TimestampNs ts, std::string_view key,
                               std::string_view value, size_t max_records, size_t max_bytes) {
  const size_t size = key.size() + value.size();
  if (count > 0 && first + static_cast<int64_t>(count) != offset) {
    count = 0;  // not contiguous (cannot happen under commit_mu_): start over
    bytes = 0;
  }
  if (count == 0) first = offset;
  if (size > max_bytes) {  // never fits: the tail restarts after it
    count = 0;
    bytes = 0;
    first = offset + 1;
    return;
  }
  while (count > 0 && (count >= max_records || bytes + size > max_bytes)) {
    bytes -= slots[head].data.size();
    head = (head + 1) % slots.size();
    --count;
    ++first;
  }
  if (count == slots.size()) {  // every slot is in use and count < max_records: grow the ring
    std::rotate(slots.begin(), slots.begin() + static_cast<std::ptrdiff_t>(head), slots.end());
    head = 0;
    slots.emplace_back();
  }
  Slot& slot = slots[(head + count) % slots.size()];
  // A slot keeps its capacity; give back what one unusually large record left behind.
  if (slot.data.capacity() > 4096 && slot.data.capacity() > 4 * size) std::string().swap(slot.data);
  slot.timestamp = ts;
  slot.key_len = static_cast<uint32_t>(key.size());
  slot.data.assign(key.data(), key.size());
  slot.data.append(value.data(), value.size());
  ++count;
  bytes += size;
}

void RocksEventBus::Tail::trim_below(int64_t offset) {
  while (count > 0 && first < offset) {
    bytes -= slots[head].data.size();
    head = (head + 1) % slots.size();
    --count;
    ++first;
  }
  if (count == 0 && first < offset) first = offset;
}

RocksBusTailStats RocksEventBus::tail_stats() const {
  RocksBusTailStats stats;
  std::shared_lock lk(topics_mu_);
  for (const auto& [name, t] : topics_) {
    if (!t->tails) continue;
    for (int32_t p = 0; p < t->config.partitions; ++p) {
      const Tail& tail = t->tails[p];
      std::lock_guard tl(tail.mu);
      stats.hits += tail.hits;
      stats.misses += tail.misses;
      stats.records += tail.count;
      stats.bytes += tail.bytes;
    }
  }
  return stats;
}

}  // namespace tickflow::bus::embedded
