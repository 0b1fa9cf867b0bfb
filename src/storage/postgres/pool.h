// PgPool: a few PostgreSQL connections shared by the store's writers and API readers.
//
// acquire() hands out an idle connection, or opens a new one while fewer than `size` exist, or
// waits (bounded) for one to be returned. A connection that broke is dropped when returned and
// a new one is opened by the next acquire(). Connecting after a failure is rate limited with an
// exponential backoff (initial_backoff doubling up to max_backoff): during the backoff acquire()
// fails fast with kUnavailable and the last connect error, so a down database is not hammered
// and callers (the loader) retry later.
//
// Thread-safety: all methods are safe concurrently. A Lease is used by one thread.
// Ownership: the pool owns its connections; a Lease borrows one and must not outlive the pool.
#pragma once

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/result.h"
#include "storage/postgres/pg.h"

namespace tickflow::storage::pg {

struct PgPoolOptions {
  PgConnInfo conn;
  size_t size = 4;
  std::chrono::milliseconds acquire_timeout{10000};
  std::chrono::milliseconds initial_backoff{100};
  std::chrono::milliseconds max_backoff{5000};
};

class PgPool {
 public:
  class Lease {
   public:
    Lease(Lease&& o) noexcept : pool_(o.pool_), conn_(std::move(o.conn_)) { o.pool_ = nullptr; }
    Lease& operator=(Lease&&) = delete;
    ~Lease();
    PgConnection* operator->() const { return conn_.get(); }
    PgConnection& operator*() const { return *conn_; }

   private:
    friend class PgPool;
    Lease(PgPool* pool, std::unique_ptr<PgConnection> c) : pool_(pool), conn_(std::move(c)) {}
    PgPool* pool_;
    std::unique_ptr<PgConnection> conn_;
  };

  explicit PgPool(PgPoolOptions options);
  PgPool(const PgPool&) = delete;
  PgPool& operator=(const PgPool&) = delete;

  Result<Lease> acquire();
  const PgConnInfo& conn_info() const { return options_.conn; }
  // The last connect error ("" after a successful connect).
  std::string last_error() const;

 private:
  void release(std::unique_ptr<PgConnection> c);

  const PgPoolOptions options_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::unique_ptr<PgConnection>> idle_;
  size_t open_ = 0;  // connections existing (idle + leased + being opened)
  std::chrono::steady_clock::time_point retry_at_{};
  std::chrono::milliseconds backoff_{0};
  std::string last_error_;
};

}  // namespace tickflow::storage::pg
