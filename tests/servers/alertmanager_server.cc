#include "tests/servers/alertmanager_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <csignal>
#include <filesystem>
#include <fstream>

namespace tickflow::testing {
namespace {

constexpr const char* kBinary = "/usr/bin/prometheus-alertmanager";

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

}  // namespace

AlertmanagerServer::~AlertmanagerServer() {
  kill();
  if (!dir_.empty()) {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
}

bool AlertmanagerServer::available() { return std::filesystem::exists(kBinary); }

bool AlertmanagerServer::start(std::chrono::milliseconds timeout) {
  if (dir_.empty()) dir_ = make_temp_dir("tickflow_alertmanager");
  {
    std::ofstream cfg(dir_ + "/alertmanager.yml");
    cfg << "route:\n  receiver: 'null'\n  group_wait: 1s\nreceivers:\n  - name: 'null'\n";
  }
  for (int attempt = 0; attempt < 5; ++attempt) {
    port_ = free_port();
    std::vector<std::string> args = {kBinary,
                                     "--config.file=" + dir_ + "/alertmanager.yml",
                                     "--storage.path=" + dir_ + "/data",
                                     "--web.listen-address=127.0.0.1:" + std::to_string(port_),
                                     "--cluster.listen-address="};
    process_ = std::make_unique<Subprocess>(args, dir_ + "/alertmanager.log");
    auto ready = [&] { return http_get(url() + "/-/ready").status == 200; };
    if (wait_until([&] { return ready() || !process_->running(); }, timeout) && ready()) return true;
    error_ = process_->output();
    process_->kill(SIGKILL);
    process_->wait(std::chrono::seconds(5));
  }
  return false;
}

void AlertmanagerServer::kill() {
  if (process_ && process_->running()) {
    process_->kill(SIGTERM);
    if (process_->wait(std::chrono::seconds(10)) < 0) {
      process_->kill(SIGKILL);
      process_->wait(std::chrono::seconds(10));
    }
  }
}

std::string AlertmanagerServer::alerts() const {
  auto r = http_get(url() + "/api/v2/alerts");
  return r.status == 200 ? r.body : std::string();
}

}  // namespace tickflow::testing
