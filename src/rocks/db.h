// RocksDB plumbing shared by the embedded bus (src/bus/embedded) and the embedded candle store
// (src/storage/embedded): the common DB options, the best available compression, rocksdb::Status
// → tickflow::Status mapping (disk full and corruption called out), and opening/closing a DB with
// column families.
//
// Thread-safety: free functions without shared state. Ownership: open_db() hands the DB and its
// column family handles to the caller, who releases them with close_db().
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <rocksdb/options.h>
#include <rocksdb/status.h>

#include "core/result.h"

namespace rocksdb {
class DB;
class ColumnFamilyHandle;
}  // namespace rocksdb

namespace tickflow::rocks {

// create_if_missing, create_missing_column_families, 2 background jobs, 3 info logs of 8 MiB.
// Callers set max_total_wal_size (and anything else specific to them).
rocksdb::DBOptions db_options();

// ZSTD, else LZ4, else Snappy, else none: the best compression this librocksdb was built with.
rocksdb::CompressionType best_compression();

// kIo "<component> <what> failed: [disk full: ]<rocksdb message>".
Status write_error(const rocksdb::Status& s, std::string_view component, std::string_view what);
// kCorruption for corruption, else kIo: "<component> <what> failed: <rocksdb message>".
Status read_error(const rocksdb::Status& s, std::string_view component, std::string_view what);

// The Status for a failed DB::Open: a DB locked by another process is kIo "data dir <path> is in
// use by another tickflow process (<rocksdb message>)"; anything else kIo
// "cannot open <component> at <path>: <rocksdb message>".
Status open_error(const rocksdb::Status& s, std::string_view component, const std::string& path);

// Destroys the handles, then closes and deletes the DB; `db` becomes nullptr. No-op if null.
void close_db(rocksdb::DB*& db, std::vector<rocksdb::ColumnFamilyHandle*>& handles);

}  // namespace tickflow::rocks
