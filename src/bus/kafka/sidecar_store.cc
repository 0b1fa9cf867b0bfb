// See sidecar_store.h.
#include "bus/kafka/sidecar_store.h"

#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>

#include <filesystem>

#include "rocks/db.h"
#include "rocks/encoding.h"

namespace tickflow::bus::kafka {
namespace {

std::string state_key(std::string_view ns, std::string_view key) {
  std::string k(ns);
  k.push_back('\0');
  k.append(key);
  return k;
}

}  // namespace

Result<std::unique_ptr<SidecarStore>> SidecarStore::open(const std::string& path, bool sync) {
  std::error_code ec;
  std::filesystem::create_directories(path, ec);
  if (ec) return Status::io_error("cannot create the kafka sidecar dir " + path + ": " + ec.message());
  rocksdb::DBOptions db_opts = rocks::db_options();
  db_opts.max_total_wal_size = 64u << 20;
  rocksdb::ColumnFamilyOptions cf;
  cf.compression = rocks::best_compression();
  std::vector<rocksdb::ColumnFamilyDescriptor> cfs = {
      {rocksdb::kDefaultColumnFamilyName, cf}, {"offsets", cf}, {"state", cf}};
  std::unique_ptr<SidecarStore> s(new SidecarStore());
  s->sync_ = sync;
  rocksdb::Status st = rocksdb::DB::Open(db_opts, path, cfs, &s->handles_, &s->db_);
  if (!st.ok()) return rocks::open_error(st, "kafka sidecar", path);
  s->cf_offsets_ = s->handles_[1];
  s->cf_state_ = s->handles_[2];
  return s;
}

SidecarStore::~SidecarStore() { rocks::close_db(db_, handles_); }

Status SidecarStore::apply(const SidecarBatch& batch) {
  if (batch.empty()) return Status::ok();
  rocksdb::WriteBatch wb;
  for (const auto& o : batch.offsets) {
    wb.Put(cf_offsets_, rocks::consumer_key(o.group, o.topic, o.partition),
           rocks::be64_string(static_cast<uint64_t>(o.next_offset)));
  }
  for (const auto& op : batch.state) {
    if (op.value) {
      wb.Put(cf_state_, state_key(op.ns, op.key), *op.value);
    } else {
      wb.Delete(cf_state_, state_key(op.ns, op.key));
    }
  }
  rocksdb::WriteOptions wo;
  wo.sync = sync_;
  rocksdb::Status s = db_->Write(wo, &wb);
  if (!s.ok()) return rocks::write_error(s, "kafka sidecar", "commit");
  return Status::ok();
}

Result<int64_t> SidecarStore::committed_offset(std::string_view group, std::string_view topic,
                                               int32_t partition) const {
  std::string v;
  rocksdb::Status s =
      db_->Get(rocksdb::ReadOptions(), cf_offsets_, rocks::consumer_key(group, topic, partition), &v);
  if (s.IsNotFound()) return int64_t{0};
  if (!s.ok()) return rocks::read_error(s, "kafka sidecar", "committed_offset");
  if (v.size() != 8) return Status::corruption("kafka sidecar: committed offset of wrong size");
  return static_cast<int64_t>(rocks::get_be64(v.data()));
}

Result<std::optional<std::string>> SidecarStore::get_state(std::string_view ns, std::string_view key) const {
  std::string v;
  rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), cf_state_, state_key(ns, key), &v);
  if (s.IsNotFound()) return std::optional<std::string>();
  if (!s.ok()) return rocks::read_error(s, "kafka sidecar", "get_state");
  return std::optional<std::string>(std::move(v));
}

Status SidecarStore::scan_state(std::string_view ns,
                                const std::function<void(std::string_view, std::string_view)>& fn) const {
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
    fn(std::string_view(k.data() + lower.size(), k.size() - lower.size()), std::string_view(v.data(), v.size()));
  }
  if (!it->status().ok()) return rocks::read_error(it->status(), "kafka sidecar", "scan_state");
  return Status::ok();
}

uint64_t SidecarStore::approximate_bytes() const {
  uint64_t total = 0;
  for (rocksdb::ColumnFamilyHandle* cf : handles_) {
    uint64_t v = 0;
    if (db_->GetIntProperty(cf, rocksdb::DB::Properties::kEstimateLiveDataSize, &v)) total += v;
    if (db_->GetIntProperty(cf, rocksdb::DB::Properties::kCurSizeAllMemTables, &v)) total += v;
  }
  return total;
}

}  // namespace tickflow::bus::kafka
