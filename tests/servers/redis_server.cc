#include "tests/servers/redis_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>

namespace tickflow::testing {
namespace {

int free_loopback_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return 0;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  int port = 0;
  socklen_t len = sizeof addr;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0)
    port = ntohs(addr.sin_port);
  ::close(fd);
  return port;
}

std::string encode(const std::vector<std::string>& args) {
  std::string out = "*" + std::to_string(args.size()) + "\r\n";
  for (const auto& a : args) out += "$" + std::to_string(a.size()) + "\r\n" + a + "\r\n";
  return out;
}

// True when `buf` holds one complete RESP reply (simple types, bulk strings, flat arrays).
bool complete(const std::string& buf) {
  size_t eol = buf.find("\r\n");
  if (eol == std::string::npos) return false;
  char t = buf[0];
  if (t == '+' || t == '-' || t == ':') return true;
  long long n = std::atoll(buf.c_str() + 1);
  if (t == '$') return n < 0 || buf.size() >= eol + 2 + static_cast<size_t>(n) + 2;
  if (t == '*') {
    size_t pos = eol + 2;
    for (long long i = 0; i < n; ++i) {
      size_t e = buf.find("\r\n", pos);
      if (e == std::string::npos) return false;
      if (buf[pos] == '$') {
        long long m = std::atoll(buf.c_str() + pos + 1);
        pos = e + 2 + (m < 0 ? 0 : static_cast<size_t>(m) + 2);
        if (pos > buf.size()) return false;
      } else {
        pos = e + 2;
      }
    }
    return true;
  }
  return true;
}

}  // namespace

std::optional<long long> resp_integer(const std::string& reply) {
  if (reply.size() < 3 || reply[0] != ':') return std::nullopt;
  return std::atoll(reply.c_str() + 1);
}

RedisServer::RedisServer(RedisServerOptions options) : options_(std::move(options)) {}

RedisServer::~RedisServer() {
  kill();
  if (!dir_.empty()) {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
}

std::vector<std::string> RedisServer::arguments(int port) const {
  std::vector<std::string> args = {"/usr/bin/redis-server"};
  if (!options_.config_file.empty()) args.push_back(options_.config_file);
  for (std::string a : {std::string("--port"), std::to_string(port), std::string("--bind"), std::string("127.0.0.1"),
                        std::string("--dir"), dir_, std::string("--daemonize"), std::string("no"),
                        std::string("--logfile"), std::string()})
    args.push_back(std::move(a));
  if (options_.config_file.empty()) {
    for (const char* a : {"--save", "", "--appendonly", "no"}) args.emplace_back(a);
  }
  if (!options_.password.empty()) {
    args.push_back("--requirepass");
    args.push_back(options_.password);
  }
  return args;
}

std::string RedisServer::url() const {
  std::string auth = options_.password.empty() ? "" : ":" + options_.password + "@";
  return "redis://" + auth + "127.0.0.1:" + std::to_string(port_) + "/0";
}

bool RedisServer::start(std::chrono::milliseconds timeout) {
  if (dir_.empty()) dir_ = make_temp_dir("tickflow_redis");
  for (int attempt = 0; attempt < 5; ++attempt) {
    if (port_ == 0) port_ = free_loopback_port();
    std::vector<std::string> args = arguments(port_);
    process_ = std::make_unique<Subprocess>(args, dir_ + "/redis.log");
    if (wait_until([&] { return ping() || !process_->running(); }, timeout) && ping()) return true;
    error_ = process_->output();
    process_->kill(SIGKILL);
    process_->wait(std::chrono::seconds(5));
    port_ = 0;  // probably lost the port to someone else: pick another
  }
  return false;
}

bool RedisServer::restart(std::chrono::milliseconds timeout) {
  kill();
  const int port = port_;
  for (int attempt = 0; attempt < 100; ++attempt) {
    std::vector<std::string> args = arguments(port);
    process_ = std::make_unique<Subprocess>(args, dir_ + "/redis.log");
    if (wait_until([&] { return ping() || !process_->running(); }, timeout) && ping()) return true;
    error_ = process_->output();
    // The same port must be reused (clients hold the URL): retry while it is still held.
    if (!wait_until([&] { return !process_->running(); }, std::chrono::seconds(5))) return false;
  }
  return false;
}

void RedisServer::kill() {
  if (process_ && process_->running()) {
    process_->kill(SIGKILL);
    process_->wait(std::chrono::seconds(10));
  }
}

bool RedisServer::running() { return process_ && process_->running(); }

std::string RedisServer::command(const std::vector<std::string>& args) const {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return {};
  timeval tv{5, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port_));
  std::string reply;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) {
    std::string req;
    if (!options_.password.empty()) req += encode({"AUTH", options_.password});
    req += encode(args);
    if (::send(fd, req.data(), req.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(req.size())) {
      std::string buf;
      char chunk[4096];
      bool skipped_auth = options_.password.empty();
      for (;;) {
        if (!skipped_auth) {
          size_t eol = buf.find("\r\n");
          if (eol != std::string::npos) {
            buf.erase(0, eol + 2);
            skipped_auth = true;
            continue;
          }
        } else if (!buf.empty() && complete(buf)) {
          reply = buf;
          break;
        }
        ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
        if (n <= 0) break;
        buf.append(chunk, static_cast<size_t>(n));
      }
    }
  }
  ::close(fd);
  return reply;
}

bool RedisServer::ping() const { return command({"PING"}) == "+PONG\r\n"; }

}  // namespace tickflow::testing
