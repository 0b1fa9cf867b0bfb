#include "tests/servers/postgres_server.h"

#include <arpa/inet.h>
#include <libpq-fe.h>
#include <netinet/in.h>
#include <pwd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <csignal>
#include <filesystem>
#include <fstream>

namespace tickflow::testing {
namespace {

constexpr const char* kBin = "/usr/lib/postgresql/15/bin";

int free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return 0;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  int port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0)
    port = ntohs(addr.sin_port);
  ::close(fd);
  return port;
}

// As root: run as `postgres` (setpriv execs in place, so the pid is the server's own).
std::vector<std::string> as_postgres(std::vector<std::string> args) {
  if (::geteuid() != 0) return args;
  std::vector<std::string> out = {"/usr/bin/setpriv", "--reuid=postgres", "--regid=postgres",
                                  "--init-groups", "--"};
  out.insert(out.end(), args.begin(), args.end());
  return out;
}

std::string conninfo(int port, const std::string& db) {
  return "host=127.0.0.1 port=" + std::to_string(port) + " dbname=" + db +
         " user=postgres connect_timeout=5";
}

}  // namespace

PostgresServer::~PostgresServer() {
  stop();
  if (!dir_.empty()) {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
}

bool PostgresServer::available() { return std::filesystem::exists(std::string(kBin) + "/postgres"); }

bool PostgresServer::run_initdb() {
  dir_ = make_temp_dir("tickflow_pg");
  if (dir_.empty()) {
    error_ = "cannot create a temp dir";
    return false;
  }
  if (::geteuid() == 0) {
    struct passwd* pw = ::getpwnam("postgres");
    if (!pw) {
      error_ = "no postgres user";
      return false;
    }
    if (::chown(dir_.c_str(), pw->pw_uid, pw->pw_gid) != 0) {
      error_ = "chown failed";
      return false;
    }
  }
  Subprocess init(as_postgres({std::string(kBin) + "/initdb", "-D", dir_ + "/data", "-U", "postgres",
                               "--auth=trust", "--encoding=UTF8", "--locale=C", "--no-sync"}),
                  dir_ + "/initdb.log");
  const int rc = init.wait(std::chrono::seconds(120));
  if (rc != 0) {
    error_ = "initdb failed (" + std::to_string(rc) + "): " + init.output();
    return false;
  }
  initialized_ = true;
  return true;
}

bool PostgresServer::start(std::chrono::milliseconds timeout) {
  if (!initialized_ && !run_initdb()) return false;
  for (int attempt = 0; attempt < 5; ++attempt) {
    if (port_ == 0 || attempt > 0) port_ = free_port();
    std::vector<std::string> args = {std::string(kBin) + "/postgres", "-D", dir_ + "/data", "-p",
                                     std::to_string(port_), "-k", dir_, "-c", "listen_addresses=127.0.0.1",
                                     "-c", "fsync=off", "-c", "synchronous_commit=off", "-c",
                                     "full_page_writes=off", "-c", "max_connections=60", "-c",
                                     "shared_buffers=64MB"};
    for (const std::string& s : settings_) {
      args.push_back("-c");
      args.push_back(s);
    }
    process_ = std::make_unique<Subprocess>(as_postgres(std::move(args)), dir_ + "/postgres.log");
    const std::string ci = conninfo(port_, "postgres");
    auto ready = [&] { return PQping(ci.c_str()) == PQPING_OK; };
    if (wait_until([&] { return ready() || !process_->running(); }, timeout) && ready()) {
      if (!db_created_) {
        const std::string r = query("CREATE DATABASE " + db(), "postgres");
        if (r.starts_with("ERROR")) {
          error_ = r;
          return false;
        }
        db_created_ = true;
      }
      return true;
    }
    error_ = process_->output();
    process_->kill(SIGKILL);
    process_->wait(std::chrono::seconds(10));
    // A stale postmaster.pid after SIGKILL is handled by postgres itself; retry another port.
  }
  return false;
}

void PostgresServer::stop() {
  if (process_ && process_->running()) {
    process_->kill(SIGINT);  // fast shutdown: disconnect clients, checkpoint, exit
    if (process_->wait(std::chrono::seconds(60)) < 0) {
      process_->kill(SIGKILL);
      process_->wait(std::chrono::seconds(10));
    }
  }
}

std::string PostgresServer::query(const std::string& sql, const std::string& database) const {
  PGconn* c = PQconnectdb(conninfo(port_, database.empty() ? db() : database).c_str());
  if (PQstatus(c) != CONNECTION_OK) {
    std::string e = std::string("ERROR: ") + PQerrorMessage(c);
    PQfinish(c);
    return e;
  }
  PGresult* r = PQexec(c, sql.c_str());
  std::string out;
  const auto st = PQresultStatus(r);
  if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
    out = std::string("ERROR: ") + PQerrorMessage(c);
  } else if (PQntuples(r) > 0 && PQnfields(r) > 0) {
    out = PQgetvalue(r, 0, 0);
  }
  PQclear(r);
  PQfinish(c);
  return out;
}

}  // namespace tickflow::testing
