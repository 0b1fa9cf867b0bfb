// tickflow_kafka_mock (tests/servers/kafka_mock_main.cc) as a separate process: prints
// bootstrap= first, creates the topics it was given, stops cleanly on SIGTERM.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <string>

#include "bus/kafka/kafka_bus.h"
#include "bus/tests/test_dir.h"

namespace tickflow::bus::kafka {
namespace {

TEST(KafkaMockProgram, PrintsBootstrapCreatesTopicsAndStopsOnSigterm) {
  const std::string program = std::string(TICKFLOW_BINARY_DIR) + "/tests/servers/tickflow_kafka_mock";
  int out[2];
  ASSERT_EQ(::pipe(out), 0);
  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    ::dup2(out[1], 1);
    ::close(out[0]);
    ::close(out[1]);
    ::execl(program.c_str(), program.c_str(), "--brokers", "3", "raw.market-data:30", "normalized.ohlcv:60",
            static_cast<char*>(nullptr));
    ::_exit(127);
  }
  ::close(out[1]);
  FILE* f = ::fdopen(out[0], "r");
  char line[1024] = {0};
  ASSERT_NE(std::fgets(line, sizeof line, f), nullptr);
  std::string first(line);
  ASSERT_EQ(first.rfind("bootstrap=", 0), 0u) << first;
  std::string bootstrap = first.substr(10);
  while (!bootstrap.empty() && bootstrap.back() == '\n') bootstrap.pop_back();
  EXPECT_EQ(std::count(bootstrap.begin(), bootstrap.end(), ','), 2) << bootstrap;  // 3 brokers

  {
    testing_util::TempDir dir;
    KafkaBusOptions o;
    o.bootstrap_servers = bootstrap;
    o.sidecar_path = dir.sub("sidecar");
    o.timeout = 15 * kNsPerSec;
    auto bus = KafkaEventBus::open(o);
    ASSERT_TRUE(bus.is_ok()) << bus.status().to_string();
    EXPECT_TRUE((*bus)->create_topic({"raw.market-data", 30, 0}).is_ok());
    EXPECT_EQ((*bus)->topic("normalized.ohlcv")->partitions, 60);
    ASSERT_TRUE((*bus)->publish("raw.market-data", "binance:BTC-USDT", "t").is_ok());
  }
  ASSERT_EQ(::kill(pid, SIGTERM), 0);
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  EXPECT_TRUE(WIFEXITED(status)) << status;
  EXPECT_EQ(WEXITSTATUS(status), 0);
  std::fclose(f);
}

TEST(KafkaMockProgram, RejectsBadTopicArguments) {
  const std::string program = std::string(TICKFLOW_BINARY_DIR) + "/tests/servers/tickflow_kafka_mock";
  const std::string cmd = program + " raw.market-data >/dev/null 2>&1";
  int rc = std::system(cmd.c_str());
  EXPECT_TRUE(WIFEXITED(rc));
  EXPECT_EQ(WEXITSTATUS(rc), 2);
}

}  // namespace
}  // namespace tickflow::bus::kafka
