// Candle store factory: the one place a store backend is chosen by name (STYLE.md habit 2).
//
// Backends: "embedded" (RocksDB in <data_dir>/store, separate from the bus DB), "postgres"
// (PostgreSQL / TimescaleDB, storage/postgres/pg_candle_store.h).
// Thread-safety: make_candle_store is a plain function; the returned store is thread-safe.
// Ownership: the caller owns the store and destroys it after every user of it has stopped.
#pragma once

#include <memory>
#include <string>

#include "core/result.h"
#include "storage/candle_store.h"
#include "storage/retention.h"

namespace tickflow::storage {

struct StoreConfig {
  std::string backend = "embedded";  // config key store.backend
  std::string data_dir;              // embedded: the DB lives in <data_dir>/store
  bool sync = false;                 // embedded: fsync the WAL per write (power-loss safety)
  // postgres: connection (keys timescale.*, env TIMESCALE_*); the password is never logged.
  std::string pg_host = "127.0.0.1", pg_port = "5432", pg_db = "tickflow", pg_user = "tickflow";
  std::string pg_password;
  size_t pg_pool_size = 6;  // 6 and more: the loaders write with 2 connections each
  std::string pg_timescale = "auto";  // "auto" | "off"
  // Candle retention per timeframe label (default 1m→30d, 1h→365d, 1d→5y; others kept).
  RetentionConfig retention;
};

// postgres: fails on a failing migration (with the SQL error); an unreachable database is not
// an error at open (the store answers kUnavailable until it is reachable, health says so).
// Errors: unknown backend (names `store.backend`), empty data dir (`store.data_dir`), a bad
// retention label (`store.retention.<label>`), a data dir held by another live process
// ("data dir <path> is in use by another tickflow process"), I/O errors.
Result<std::unique_ptr<CandleStore>> make_candle_store(const StoreConfig& config);

}  // namespace tickflow::storage
