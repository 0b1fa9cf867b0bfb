// KafkaMockServer: `tickflow_kafka_mock` (librdkafka's mock cluster, see kafka_mock_cluster.h)
// as a child process (harness Subprocess), for multi-process tests: services run as separate OS
// processes against one cluster none of them owns. Faults are injected through the program's
// control FIFO (`--control`, created in the server's temporary directory): command().
// Thread-safety: one test thread. Lifetime: the destructor SIGTERMs the child.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "tests/integration/harness.h"

namespace tickflow::testing {

// `tickflow_kafka_mock` as a child process (harness Subprocess).
class KafkaMockServer {
 public:
  // topics: "name:partitions" each.
  explicit KafkaMockServer(std::vector<std::string> topics, int brokers = 3);
  ~KafkaMockServer();
  KafkaMockServer(const KafkaMockServer&) = delete;
  KafkaMockServer& operator=(const KafkaMockServer&) = delete;

  // Starts the program and waits for its `bootstrap=` line. False (see error()) on failure.
  bool start(std::chrono::milliseconds timeout = std::chrono::seconds(20));
  // SIGTERM, then wait; idempotent.
  void stop();
  // One fault-injection command (KafkaMockCluster::execute: `errors Produce
  // NOT_LEADER_FOR_PARTITION`, `down 2`, `up 2`, `leader raw.market-data * 3`, `rtt 1 20`); waits
  // for the program's answer. "" on success, else the reason.
  std::string command(const std::string& command,
                      std::chrono::milliseconds timeout = std::chrono::seconds(10));
  const std::string& bootstrap() const { return bootstrap_; }
  const std::string& error() const { return error_; }
  static std::string program_path();

 private:
  std::vector<std::string> topics_;
  int brokers_;
  std::string dir_;
  std::unique_ptr<Subprocess> process_;
  std::string bootstrap_;
  std::string error_;
  int control_fd_ = -1;
  int commands_ = 0;
};

}  // namespace tickflow::testing
