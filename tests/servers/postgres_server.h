// PostgresServer: a real PostgreSQL 15 (Debian's postgresql-15) for tests, on a free loopback
// port, its cluster in a temporary directory (initdb, trust auth, fsync=off, the Unix socket in
// the temp dir). As root, initdb and the server run as the `postgres` user (initdb refuses
// root): the directory is chown'ed to it. start() waits until the server accepts connections
// (PQping, polling — no sleep) and creates the database `db()`. stop() shuts it down (fast
// shutdown, SIGTERM); start() again restarts the same cluster on the same port (to test a
// database that goes away and comes back). kill9() SIGKILLs the postmaster.
// Thread-safety: one test thread. The destructor stops the server and removes the directory.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "tests/integration/harness.h"

namespace tickflow::testing {

class PostgresServer {
 public:
  PostgresServer() = default;
  ~PostgresServer();
  PostgresServer(const PostgresServer&) = delete;
  PostgresServer& operator=(const PostgresServer&) = delete;

  static bool available();  // /usr/lib/postgresql/15/bin/postgres is installed
  bool start(std::chrono::milliseconds timeout = std::chrono::seconds(60));
  void stop();
  int port() const { return port_; }
  std::string host() const { return "127.0.0.1"; }
  std::string db() const { return "tickflow_test"; }
  std::string user() const { return "postgres"; }
  std::string error() const { return error_; }
  std::string dir() const { return dir_; }
  // A server setting ("name=value", passed as -c) applied after the test defaults above at
  // the next start(), so it overrides them (the benchmark turns fsync back on).
  void add_setting(const std::string& name_value) { settings_.push_back(name_value); }
  // Runs SQL on db() as the superuser; returns the first column of the first row ("" if none)
  // or "ERROR: ..." on failure.
  std::string query(const std::string& sql, const std::string& database = "") const;

 private:
  bool run_initdb();
  std::string dir_;
  int port_ = 0;
  bool initialized_ = false;
  bool db_created_ = false;
  std::unique_ptr<Subprocess> process_;
  std::vector<std::string> settings_;
  std::string error_;
};

}  // namespace tickflow::testing
