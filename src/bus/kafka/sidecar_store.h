// SidecarStore: the Kafka bus's LOCAL RocksDB store for what Kafka cannot write atomically with
// the records: per-stage state and consumer positions (committed offsets). One WriteBatch per
// transaction (WAL on; fsync when `sync`), so state and positions always move together.
// Layout: column families `offsets` (key group\0topic\0be32(partition), value be64(next offset))
// and `state` (key ns\0key) — the embedded bus's encodings (src/rocks/encoding.h).
//
// Thread-safety: all methods are thread-safe (RocksDB). Lifecycle: open() ... destructor.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace rocksdb {
class DB;
class ColumnFamilyHandle;
}  // namespace rocksdb

namespace tickflow::bus::kafka {

struct SidecarBatch {
  struct Offset {
    std::string group, topic;
    int32_t partition;
    int64_t next_offset;
  };
  struct StateOp {
    std::string ns, key;
    std::optional<std::string> value;  // nullopt = delete
  };
  std::vector<Offset> offsets;
  std::vector<StateOp> state;
  bool empty() const { return offsets.empty() && state.empty(); }
};

class SidecarStore {
 public:
  // Errors: kIo "data dir <path> is in use by another tickflow process" when another live
  // process holds it; kIo for anything else.
  static Result<std::unique_ptr<SidecarStore>> open(const std::string& path, bool sync);
  ~SidecarStore();
  SidecarStore(const SidecarStore&) = delete;
  SidecarStore& operator=(const SidecarStore&) = delete;

  // Applies the whole batch or nothing (kIo on failure).
  Status apply(const SidecarBatch& batch);
  // 0 when the group never committed.
  Result<int64_t> committed_offset(std::string_view group, std::string_view topic, int32_t partition) const;
  Result<std::optional<std::string>> get_state(std::string_view ns, std::string_view key) const;
  Status scan_state(std::string_view ns, const std::function<void(std::string_view, std::string_view)>& fn) const;
  // Approximate bytes held (live SST data and memtables of every column family).
  uint64_t approximate_bytes() const;

 private:
  SidecarStore() = default;
  bool sync_ = false;
  rocksdb::DB* db_ = nullptr;
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;
  rocksdb::ColumnFamilyHandle* cf_offsets_ = nullptr;
  rocksdb::ColumnFamilyHandle* cf_state_ = nullptr;
};

}  // namespace tickflow::bus::kafka
