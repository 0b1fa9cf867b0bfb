// KafkaMockServer: `tickflow_kafka_mock` (librdkafka's mock cluster, see kafka_mock_cluster.h)
// as a child process (harness Subprocess), for multi-process tests: services run as separate OS
// processes against one cluster none of them owns. Fault injection needs the mock's handle, so
// tests that inject errors use the in-process KafkaMockCluster instead.
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
};

}  // namespace tickflow::testing
