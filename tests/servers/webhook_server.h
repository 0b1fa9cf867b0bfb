// WebhookServer: a tiny HTTP/1.1 receiver for webhook tests, on a free loopback port. Every
// request (method, target, lower-case headers, body) is recorded; the reply status of the n-th
// request (0-based) comes from `status_for(n)` (default 200), so a test scripts "fail twice,
// then succeed". One connection at a time, "Connection: close" replies.
// Thread-safety: requests()/count()/wait_for_count() from any thread; start/stop from one.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace tickflow::testing {

struct ReceivedRequest {
  std::string method, target, body;
  std::map<std::string, std::string> headers;  // names lower-case
  std::string header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? std::string() : it->second;
  }
};

class WebhookServer {
 public:
  explicit WebhookServer(std::function<int(size_t)> status_for = {});
  ~WebhookServer();
  WebhookServer(const WebhookServer&) = delete;
  WebhookServer& operator=(const WebhookServer&) = delete;

  bool start();
  void stop();
  int port() const { return port_; }
  std::string url(const std::string& path = "/hook") const;

  std::vector<ReceivedRequest> requests() const;
  size_t count() const;
  // Waits (condition variable, no polling) until at least n requests were received.
  bool wait_for_count(size_t n, std::chrono::milliseconds timeout) const;

 private:
  void serve();
  void handle(int fd);

  std::function<int(size_t)> status_for_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::thread thread_;
  std::atomic<bool> stopping_{false};
  mutable std::mutex mu_;
  mutable std::condition_variable cv_;
  std::vector<ReceivedRequest> requests_;
};

}  // namespace tickflow::testing
