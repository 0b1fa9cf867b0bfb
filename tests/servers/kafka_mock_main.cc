// tickflow_kafka_mock: librdkafka's mock Kafka cluster as a program, for tests and for trying
// the Kafka bus by hand (no Kafka broker exists in Debian).
//
//   tickflow_kafka_mock [--brokers N] [--exit-on-stdin-eof] [--control PATH|-] [topic:partitions ...]
//
// Starts N (default 3) brokers on 127.0.0.1, creates the topics given (the mock has no Admin
// CreateTopics), prints `bootstrap=<host:port,...>` as its first stdout line, and runs until
// SIGTERM/SIGINT (or, with --exit-on-stdin-eof, until stdin closes). Exit 0 on a clean stop,
// 2 on bad arguments, 1 if the cluster cannot start.
//
// --control reads fault-injection commands, one per line, from PATH (a FIFO the caller made;
// opened read-write so writers may come and go) or stdin (-): `errors Produce
// NOT_LEADER_FOR_PARTITION,REQUEST_TIMED_OUT`, `down 2`, `up 2`, `leader raw.market-data * 3`,
// `rtt 1 50` (KafkaMockCluster::execute). The N-th command is answered on stdout with
// `ok N: <command>` or `error N: <reason>`.
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "tests/servers/kafka_mock_cluster.h"

int main(int argc, char** argv) {
  using tickflow::testing::KafkaMockCluster;
  int brokers = 3;
  bool stdin_eof = false;
  std::string control;  // fault-injection commands: a FIFO path, or "-" for stdin
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
    } else if (a == "--control" && i + 1 < argc) {
      control = argv[++i];
    } else if (a == "--help" || a == "-h") {
      std::printf(
          "usage: tickflow_kafka_mock [--brokers N] [--exit-on-stdin-eof] [--control PATH|-] [topic:partitions ...]\n");
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

  std::mutex cluster_mu;  // the control thread's commands vs the shutdown below
  if (!control.empty()) {
    const int fd = control == "-" ? 0 : ::open(control.c_str(), O_RDWR);
    if (fd < 0) {
      std::fprintf(stderr, "tickflow_kafka_mock: cannot open --control %s\n", control.c_str());
      return 1;
    }
    std::thread([fd, stdin_eof, &cluster, &cluster_mu] {
      std::string pending;
      char buf[4096];
      int n = 0;
      for (ssize_t got; (got = ::read(fd, buf, sizeof buf)) > 0;) {
        pending.append(buf, static_cast<size_t>(got));
        for (size_t eol; (eol = pending.find('\n')) != std::string::npos;) {
          std::string line = pending.substr(0, eol);
          pending.erase(0, eol + 1);
          if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
          std::lock_guard lock(cluster_mu);
          if (!cluster) return;
          const std::string error = cluster->execute(line);
          ++n;
          if (error.empty()) {
            std::printf("ok %d: %s\n", n, line.c_str());
          } else {
            std::printf("error %d: %s\n", n, error.c_str());
          }
          std::fflush(stdout);
        }
      }
      if (fd == 0 && stdin_eof) ::kill(::getpid(), SIGTERM);
    }).detach();
  }
  if (stdin_eof && control != "-") {
    std::thread([] {
      char buf[256];
      while (::read(0, buf, sizeof buf) > 0) {
      }
      ::kill(::getpid(), SIGTERM);
    }).detach();
  }
  int sig = 0;
  sigwait(&set, &sig);
  std::lock_guard lock(cluster_mu);
  cluster.reset();
  return 0;
}
