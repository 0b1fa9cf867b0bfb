// AlertmanagerServer: a real Prometheus Alertmanager (Debian's prometheus-alertmanager) for
// tests, on a free loopback port, with its storage in a temporary directory and clustering off
// (--cluster.listen-address=). start() waits until /-/ready answers 200 (polling, no sleep).
// alerts() returns the body of GET /api/v2/alerts.
// Thread-safety: one test thread. The destructor stops the server.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "tests/integration/harness.h"

namespace tickflow::testing {

class AlertmanagerServer {
 public:
  AlertmanagerServer() = default;
  ~AlertmanagerServer();
  AlertmanagerServer(const AlertmanagerServer&) = delete;
  AlertmanagerServer& operator=(const AlertmanagerServer&) = delete;

  static bool available();  // the binary is installed
  bool start(std::chrono::milliseconds timeout = std::chrono::seconds(30));
  void kill();
  int port() const { return port_; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  std::string error() const { return error_; }
  // GET /api/v2/alerts body ("" on error).
  std::string alerts() const;

 private:
  std::string dir_;
  int port_ = 0;
  std::unique_ptr<Subprocess> process_;
  std::string error_;
};

}  // namespace tickflow::testing
