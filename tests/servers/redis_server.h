// RedisServer: a real redis-server (Debian's Redis 7) for tests, on a free loopback port in a
// temporary directory, with persistence off (--save "" --appendonly no) for speed unless a
// config file is given.
// start() waits until PING answers (polling, no sleep); kill() SIGKILLs it (an outage);
// restart() starts it again on the same port (empty, like a restart without persistence).
// command() sends one command over a plain socket and returns the raw RESP reply, so tests can
// FLUSHALL, read PTTL, ... without a client library.
// Thread-safety: one test thread. The destructor stops the server.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "tests/integration/harness.h"

namespace tickflow::testing {

struct RedisServerOptions {
  std::string password;  // --requirepass when set
  // A redis.conf to start from (e.g. deploy/redis/redis.conf): port, bind and dir are still
  // overridden on the command line, persistence is then the file's (not switched off).
  std::string config_file;
};

class RedisServer {
 public:
  explicit RedisServer(RedisServerOptions options = {});
  ~RedisServer();
  RedisServer(const RedisServer&) = delete;
  RedisServer& operator=(const RedisServer&) = delete;

  // Starts and waits for PING (up to `timeout`). False (with the log in error()) on failure.
  bool start(std::chrono::milliseconds timeout = std::chrono::seconds(20));
  void kill();
  bool restart(std::chrono::milliseconds timeout = std::chrono::seconds(20));
  bool running();

  int port() const { return port_; }
  // redis://[:password@]127.0.0.1:port/0
  std::string url() const;
  std::string error() const { return error_; }
  // Raw RESP reply of one command ("+OK\r\n", ":42\r\n", "$-1\r\n", ...); "" on a socket error.
  std::string command(const std::vector<std::string>& args) const;
  bool ping() const;

 private:
  std::vector<std::string> arguments(int port) const;

  RedisServerOptions options_;
  std::string dir_;
  int port_ = 0;
  std::unique_ptr<Subprocess> process_;
  std::string error_;
};

// Integer of a ":n\r\n" reply (or the length-prefixed number of "$n" replies); nullopt otherwise.
std::optional<long long> resp_integer(const std::string& reply);

}  // namespace tickflow::testing
