// Test helpers for the PostgreSQL store tests: one real PostgreSQL 15 per test binary
// (tests/servers/postgres_server.h), a fresh database per test, candle/trade builders.
#pragma once

#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <string>

#include "core/candle.h"
#include "core/trade.h"
#include "storage/postgres/pg_candle_store.h"
#include "tests/servers/postgres_server.h"

namespace tickflow::storage::pg::testing {

inline constexpr TimestampNs kT0 = 1628952360LL * kNsPerSec;  // 2021-08-14T14:46:00Z

// The server shared by all tests of the binary (started on first use, stopped at exit).
tickflow::testing::PostgresServer& server();

// A fresh empty database on server() for the current test; options pointing at it.
class PgTest : public ::testing::Test {
 protected:
  void SetUp() override;
  PgStoreOptions options() const;
  std::unique_ptr<PgCandleStore> open_store(PgStoreOptions o) const;
  std::unique_ptr<PgCandleStore> open_store() const { return open_store(options()); }
  // First column of the first row on this test's database.
  std::string sql(const std::string& q) const { return server().query(q, db_); }
  std::string db_;
};

Candle make_candle(const std::string& symbol, int minute, const std::string& close,
                   CandleStatus status = CandleStatus::kFinal, uint32_t revision = 0,
                   const std::string& tf = "1m", TimestampNs t0 = kT0);
Trade make_trade(const std::string& symbol, int64_t id, const std::string& price,
                 TimestampNs ts = kT0);

}  // namespace tickflow::storage::pg::testing
