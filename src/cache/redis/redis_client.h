// The thin seam around hiredis (the only TU that includes <hiredis/hiredis.h> is
// redis_client.cc): REDIS_URL parsing, a blocking connection with connect and command
// timeouts, pipelined commands, and a reconnect gate with exponential backoff shared by a pool.
//
// REDIS_URL: redis://[[user]:password@]host[:port][/db]  (port 6379, db 0 by default). The
// password never leaves RedisUrl except towards the server: redacted() prints "***".
//
// Reconnects: a connection that failed is dropped; the next call reconnects unless the shared
// ReconnectGate is in backoff, in which case it fails at once with kUnavailable (callers never
// block on a down server). The backoff doubles from `backoff_initial` to `backoff_max` per
// consecutive failure and resets on success.
// Thread-safety: RedisUrl/RedisReply are values; ReconnectGate is internally locked;
// RedisConnection is used by one thread at a time (RedisPool hands them out).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "core/time.h"

struct redisContext;

namespace tickflow::cache::redis {

struct RedisUrl {
  std::string host = "127.0.0.1";
  int port = 6379;
  std::string user;
  std::string password;
  int db = 0;
  // "redis://user:***@host:port/db" (no password ever).
  std::string redacted() const;
  static Result<RedisUrl> parse(std::string_view url);
};

struct RedisReply {
  enum class Type { kNil, kString, kStatus, kInteger, kArray, kError };
  Type type = Type::kNil;
  std::string str;  // string, status or error text
  int64_t integer = 0;
  std::vector<RedisReply> elements;
  bool is_error() const { return type == Type::kError; }
  bool is_nil() const { return type == Type::kNil; }
};

using Command = std::vector<std::string>;

struct RedisClientConfig {
  RedisUrl url;
  DurationNs connect_timeout = 500 * kNsPerMs;
  DurationNs command_timeout = 1000 * kNsPerMs;
  DurationNs backoff_initial = 100 * kNsPerMs;
  DurationNs backoff_max = 5 * kNsPerSec;
};

// Shared by the connections of one pool: one server, one backoff.
class ReconnectGate {
 public:
  ReconnectGate(DurationNs initial, DurationNs max) : initial_(initial), max_(max) {}
  // True when a connect attempt may be made now.
  bool may_attempt() const;
  void on_success();
  void on_failure(const std::string& reason);
  bool healthy() const;
  std::string last_error() const;
  DurationNs current_backoff() const;
  uint64_t failures() const;

 private:
  using Clock = std::chrono::steady_clock;
  const DurationNs initial_, max_;
  mutable std::mutex mu_;
  bool healthy_ = false;
  uint64_t consecutive_ = 0;
  DurationNs delay_ = 0;
  Clock::time_point next_attempt_{};
  std::string last_error_ = "not connected yet";
};

// One connection. After connecting it authenticates (AUTH), selects the db and runs
// `on_connect` commands (e.g. SCRIPT LOAD).
class RedisConnection {
 public:
  RedisConnection(const RedisClientConfig& config, ReconnectGate& gate, std::vector<Command> on_connect = {});
  ~RedisConnection();
  RedisConnection(const RedisConnection&) = delete;
  RedisConnection& operator=(const RedisConnection&) = delete;

  // Sends every command, then reads every reply (one round trip). A transport error drops the
  // connection and returns kUnavailable; Redis error replies are returned as kError replies.
  Result<std::vector<RedisReply>> pipeline(const std::vector<Command>& commands);
  Result<RedisReply> command(const Command& cmd);
  bool connected() const { return ctx_ != nullptr; }
  void disconnect();

 private:
  Status ensure_connected();

  const RedisClientConfig& config_;
  ReconnectGate& gate_;
  std::vector<Command> on_connect_;
  redisContext* ctx_ = nullptr;
};

// A fixed set of connections to one server, handed out one caller at a time.
class RedisPool {
 public:
  RedisPool(RedisClientConfig config, size_t size, std::vector<Command> on_connect = {});

  // Runs fn(connection) on a free connection (waits for one when all are busy).
  template <typename Fn>
  auto with_connection(Fn&& fn) {
    Slot& s = acquire();
    std::lock_guard lk(s.mu, std::adopt_lock);
    return fn(*s.conn);
  }
  const ReconnectGate& gate() const { return gate_; }
  const RedisClientConfig& config() const { return config_; }

 private:
  struct Slot {
    std::mutex mu;
    std::unique_ptr<RedisConnection> conn;
  };
  Slot& acquire();  // returns a locked slot

  const RedisClientConfig config_;
  ReconnectGate gate_;
  std::vector<std::unique_ptr<Slot>> slots_;
  std::atomic<size_t> next_{0};
};

}  // namespace tickflow::cache::redis
