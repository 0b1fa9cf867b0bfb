#include "tests/servers/kafka_mock_server.h"

#include <signal.h>

#include <filesystem>

namespace tickflow::testing {

KafkaMockServer::KafkaMockServer(std::vector<std::string> topics, int brokers)
    : topics_(std::move(topics)), brokers_(brokers) {}

KafkaMockServer::~KafkaMockServer() {
  stop();
  if (!dir_.empty()) {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
}

std::string KafkaMockServer::program_path() {
  return std::string(TICKFLOW_BINARY_DIR) + "/tests/servers/tickflow_kafka_mock";
}

bool KafkaMockServer::start(std::chrono::milliseconds timeout) {
  if (dir_.empty()) dir_ = make_temp_dir("tickflow_kafka_mock");
  std::vector<std::string> args = {program_path(), "--brokers", std::to_string(brokers_)};
  args.insert(args.end(), topics_.begin(), topics_.end());
  process_ = std::make_unique<Subprocess>(args, dir_ + "/mock.log");
  auto line = process_->wait_for_line("bootstrap=", timeout);
  if (!line) {
    error_ = "tickflow_kafka_mock did not print bootstrap=: " + process_->output();
    stop();
    return false;
  }
  std::string l = *line;
  bootstrap_ = l.substr(l.find("bootstrap=") + 10);
  while (!bootstrap_.empty() && (bootstrap_.back() == '\n' || bootstrap_.back() == '\r')) bootstrap_.pop_back();
  return !bootstrap_.empty();
}

void KafkaMockServer::stop() {
  if (process_ && process_->running()) {
    process_->kill(SIGTERM);
    if (process_->wait(std::chrono::seconds(10)) < 0) {
      process_->kill(SIGKILL);
      process_->wait(std::chrono::seconds(5));
    }
  }
}

}  // namespace tickflow::testing
