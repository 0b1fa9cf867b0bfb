// PgPool: bounded connection pool with reconnect backoff.
#include "storage/postgres/pool.h"

#include <spdlog/spdlog.h>

#include <algorithm>

namespace tickflow::storage::pg {

PgPool::Lease::~Lease() {
  if (pool_ && conn_) pool_->release(std::move(conn_));
}

PgPool::PgPool(PgPoolOptions options) : options_(std::move(options)) {}

std::string PgPool::last_error() const {
  std::lock_guard lk(mu_);
  return last_error_;
}

Result<PgPool::Lease> PgPool::acquire() {
  std::unique_lock lk(mu_);
  const auto deadline = std::chrono::steady_clock::now() + options_.acquire_timeout;
  for (;;) {
    if (!idle_.empty()) {
      auto c = std::move(idle_.back());
      idle_.pop_back();
      if (c->healthy()) return Lease(this, std::move(c));
      --open_;  // broken while idle: drop it and try again
      continue;
    }
    if (open_ < std::max<size_t>(1, options_.size)) {
      const auto now = std::chrono::steady_clock::now();
      if (now < retry_at_) {
        return Status::unavailable(last_error_.empty() ? "postgres: reconnect backoff" : last_error_);
      }
      ++open_;
      lk.unlock();
      auto c = PgConnection::connect(options_.conn);
      lk.lock();
      if (!c) {
        --open_;
        backoff_ = backoff_.count() == 0 ? options_.initial_backoff
                                         : std::min(options_.max_backoff, backoff_ * 2);
        retry_at_ = std::chrono::steady_clock::now() + backoff_;
        if (last_error_ != c.status().message())
          spdlog::warn("{} (retrying with backoff)", c.status().message());
        last_error_ = c.status().message();
        cv_.notify_one();
        return c.status();
      }
      if (!last_error_.empty()) spdlog::info("postgres {}: connected", options_.conn.describe());
      backoff_ = std::chrono::milliseconds(0);
      last_error_.clear();
      return Lease(this, std::move(c).value());
    }
    if (cv_.wait_until(lk, deadline) == std::cv_status::timeout && idle_.empty() &&
        open_ >= options_.size) {
      return Status::resource_exhausted("postgres: no free connection in the pool");
    }
  }
}

void PgPool::release(std::unique_ptr<PgConnection> c) {
  std::lock_guard lk(mu_);
  if (c->healthy()) {
    idle_.push_back(std::move(c));
  } else {
    --open_;
  }
  cv_.notify_one();
}

}  // namespace tickflow::storage::pg
