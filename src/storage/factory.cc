#include "storage/factory.h"

#include <filesystem>

#include "storage/embedded/rocks_candle_store.h"
#include "storage/postgres/pg_candle_store.h"

namespace tickflow::storage {

Result<std::unique_ptr<CandleStore>> make_candle_store(const StoreConfig& config) {
  if (config.backend == "postgres") {
    pg::PgStoreOptions options;
    options.conn.host = config.pg_host;
    options.conn.port = config.pg_port;
    options.conn.db = config.pg_db;
    options.conn.user = config.pg_user;
    options.conn.password = config.pg_password;
    options.pool_size = config.pg_pool_size;
    options.timescale = config.pg_timescale;
    options.retention = config.retention;
    auto opened = pg::PgCandleStore::open(options);
    if (!opened) return opened.status();
    return std::unique_ptr<CandleStore>(std::move(opened).value());
  }
  if (config.backend != "embedded") {
    return Status::invalid_argument("store.backend: unknown backend '" + config.backend +
                                    "' (known: embedded, postgres)");
  }
  if (config.data_dir.empty()) return Status::invalid_argument("store.data_dir: must not be empty");
  embedded::RocksStoreOptions options;
  options.path = (std::filesystem::path(config.data_dir) / "store").string();
  options.sync = config.sync;
  options.retention = config.retention;
  auto opened = embedded::RocksCandleStore::open(options);
  if (!opened) {
    if (opened.status().message().find("is in use by another tickflow process") !=
        std::string::npos) {
      return Status::io_error("data dir " + config.data_dir +
                              " is in use by another tickflow process");
    }
    return opened.status();
  }
  return std::unique_ptr<CandleStore>(std::move(opened).value());
}

}  // namespace tickflow::storage
