// Versioned schema migrations for the PostgreSQL store, and the store's own migration list.
//
// apply_migrations() creates `tickflow_schema_migrations (version, name, applied_at)` if
// missing, then applies every migration whose version is not recorded, in version order, each
// in its OWN transaction together with its row in tickflow_schema_migrations (a migration marked
// in_transaction = false — TimescaleDB's continuous aggregates cannot be created inside a
// transaction block — runs as plain statements and is recorded afterwards). Concurrent starts
// serialize on an advisory lock, so each migration is applied exactly once. A failing
// migration stops: the Status names the version, the migration and the server's SQL error,
// and nothing of that migration is kept (transactional ones).
//
// Thread-safety: pure functions over a connection the caller owns exclusively.
#pragma once

#include <string>
#include <vector>

#include "core/result.h"
#include "storage/postgres/pg.h"

namespace tickflow::storage::pg {

struct Migration {
  int version = 0;
  std::string name;
  std::string sql;
  bool in_transaction = true;
};

// Returns the number of migrations applied by this call (0 when already up to date).
Result<int> apply_migrations(PgConnection& conn, const std::vector<Migration>& migrations);

// The store's schema. `timescale` selects hypertables (+ compression, continuous aggregates)
// instead of native declarative partitioning; both give the same tables and columns, so the
// store's queries are identical. Version numbers are shared by both variants.
std::vector<Migration> store_migrations(bool timescale);

}  // namespace tickflow::storage::pg
