// See db.h.
#include "rocks/db.h"

#include <rocksdb/convenience.h>
#include <rocksdb/db.h>

#include <algorithm>

namespace tickflow::rocks {

rocksdb::DBOptions db_options() {
  rocksdb::DBOptions o;
  o.create_if_missing = true;
  o.create_missing_column_families = true;
  o.max_background_jobs = 2;
  o.keep_log_file_num = 3;
  o.max_log_file_size = 8u << 20;
  return o;
}

rocksdb::CompressionType best_compression() {
  auto supported = rocksdb::GetSupportedCompressions();
  for (auto want : {rocksdb::kZSTD, rocksdb::kLZ4Compression, rocksdb::kSnappyCompression}) {
    if (std::find(supported.begin(), supported.end(), want) != supported.end()) return want;
  }
  return rocksdb::kNoCompression;
}

Status write_error(const rocksdb::Status& s, std::string_view component, std::string_view what) {
  std::string m(component);
  m.push_back(' ');
  m.append(what);
  m += s.IsNoSpace() ? " failed: disk full: " : " failed: ";
  m += s.ToString();
  return Status::io_error(std::move(m));
}

Status read_error(const rocksdb::Status& s, std::string_view component, std::string_view what) {
  std::string m(component);
  m.push_back(' ');
  m.append(what);
  m += " failed: ";
  m += s.ToString();
  if (s.IsCorruption()) return Status::corruption(std::move(m));
  return Status::io_error(std::move(m));
}

Status open_error(const rocksdb::Status& s, std::string_view component, const std::string& path) {
  std::string text = s.ToString();
  if (text.find("/LOCK") != std::string::npos || text.find("lock hold") != std::string::npos) {
    return Status::io_error("data dir " + path + " is in use by another tickflow process (" + text +
                            ")");
  }
  return Status::io_error("cannot open " + std::string(component) + " at " + path + ": " + text);
}

void close_db(rocksdb::DB*& db, std::vector<rocksdb::ColumnFamilyHandle*>& handles) {
  if (db == nullptr) return;
  for (auto* h : handles) db->DestroyColumnFamilyHandle(h);
  handles.clear();
  db->Close().PermitUncheckedError();
  delete db;
  db = nullptr;
}

}  // namespace tickflow::rocks
