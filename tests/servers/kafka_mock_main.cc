// tickflow_kafka_mock: librdkafka's mock Kafka cluster as a program, for tests and for trying
// the Kafka bus by hand (no Kafka broker exists in Debian).
//
//   tickflow_kafka_mock [--brokers N] [--exit-on-stdin-eof] [topic:partitions ...]
//
// Starts N (default 3) brokers on 127.0.0.1, creates the topics given (the mock has no Admin
// CreateTopics), prints `bootstrap=<host:port,...>` as its first stdout line, and runs until
// SIGTERM/SIGINT (or, with --exit-on-stdin-eof, until stdin closes). Exit 0 on a clean stop,
// 2 on bad arguments, 1 if the cluster cannot start.
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "tests/servers/kafka_mock_cluster.h"

int main(int argc, char** argv) {
  using tickflow::testing::KafkaMockCluster;
  int brokers = 3;
  bool stdin_eof = false;
  std::vector<std::pair<std::string, int>> topics;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--brokers" && i + 1 < argc) {
      brokers = std::atoi(argv[++i]);
      if (brokers < 1 || brokers > 32) {
        std::fprintf(stderr, "tickflow_kafka_mock: --brokers must be 1..32\n");
        return 2;
      }
    } else if (a == "--exit-on-stdin-eof") {
      stdin_eof = true;
    } else if (a == "--help" || a == "-h") {
      std::printf("usage: tickflow_kafka_mock [--brokers N] [--exit-on-stdin-eof] [topic:partitions ...]\n");
      return 0;
    } else {
      std::string name;
      int partitions = 0;
      if (!tickflow::testing::parse_topic_arg(a, &name, &partitions)) {
        std::fprintf(stderr, "tickflow_kafka_mock: bad argument '%s' (want topic:partitions)\n", a.c_str());
        return 2;
      }
      topics.emplace_back(name, partitions);
    }
  }

  // Block the stop signals before librdkafka starts threads, so sigwait below gets them.
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);

  std::string error;
  auto cluster = KafkaMockCluster::start(brokers, &error);
  if (!cluster) {
    std::fprintf(stderr, "tickflow_kafka_mock: %s\n", error.c_str());
    return 1;
  }
  for (const auto& [name, partitions] : topics) {
    if (!cluster->create_topic(name, partitions, &error)) {
      std::fprintf(stderr, "tickflow_kafka_mock: %s\n", error.c_str());
      return 1;
    }
  }
  std::printf("bootstrap=%s\n", cluster->bootstrap().c_str());
  std::fflush(stdout);

  if (stdin_eof) {
    std::thread([] {
      char buf[256];
      while (::read(0, buf, sizeof buf) > 0) {
      }
      ::kill(::getpid(), SIGTERM);
    }).detach();
  }
  int sig = 0;
  sigwait(&set, &sig);
  cluster.reset();
  return 0;
}
