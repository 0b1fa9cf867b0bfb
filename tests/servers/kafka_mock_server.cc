#include "tests/servers/kafka_mock_server.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>

namespace tickflow::testing {

KafkaMockServer::KafkaMockServer(std::vector<std::string> topics, int brokers)
    : topics_(std::move(topics)), brokers_(brokers) {}

KafkaMockServer::~KafkaMockServer() {
  stop();
  if (control_fd_ >= 0) ::close(control_fd_);
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
  const std::string fifo = dir_ + "/control";
  if (!std::filesystem::exists(fifo) && ::mkfifo(fifo.c_str(), 0600) != 0) {
    error_ = "mkfifo " + fifo + " failed";
    return false;
  }
  std::vector<std::string> args = {program_path(), "--brokers", std::to_string(brokers_), "--control", fifo};
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

std::string KafkaMockServer::command(const std::string& command, std::chrono::milliseconds timeout) {
  if (!process_ || !process_->running()) return "tickflow_kafka_mock is not running";
  if (control_fd_ < 0) {
    // Non-blocking: fails (ENXIO) until the program has opened its end.
    wait_until([&] { return (control_fd_ = ::open((dir_ + "/control").c_str(), O_WRONLY | O_NONBLOCK)) >= 0; },
               timeout);
    if (control_fd_ < 0) return "cannot open the control FIFO of tickflow_kafka_mock";
  }
  const std::string line = command + "\n";
  if (::write(control_fd_, line.data(), line.size()) != static_cast<ssize_t>(line.size())) {
    return "writing to the control FIFO failed";
  }
  const int n = ++commands_;
  const std::string ok = "ok " + std::to_string(n) + ": ", failed = "error " + std::to_string(n) + ": ";
  std::string answer;
  wait_until(
      [&] {
        const std::string out = process_->output();
        if (out.find(ok) != std::string::npos) return true;
        auto at = out.find(failed);
        if (at == std::string::npos) return false;
        answer = out.substr(at + failed.size(), out.find('\n', at) - at - failed.size());
        return true;
      },
      timeout);
  if (!answer.empty()) return answer;
  return process_->output().find(ok) != std::string::npos ? "" : "no answer to '" + command + "'";
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
