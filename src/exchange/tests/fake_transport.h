// Scripted fakes of the transport seam (WsConnection, HttpClient) for collector tests.
// FakeWs delivers a queue of scripted events in order across connections: frames, and
// "disconnect" markers that end the current connection. Thread-safe (one mutex + condvar).
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

#include "exchange/transport/http_client.h"
#include "exchange/transport/ws_connection.h"

namespace tickflow::exchange::testing {

class FakeWs final : public transport::WsConnection {
 public:
  struct Shared {
    std::mutex mu;
    std::condition_variable cv;
    std::deque<std::pair<bool, std::string>> events;  // (is_disconnect, frame)
    std::vector<std::string> connect_urls;
    std::vector<std::string> sent;  // text frames sent by the client, in order
    // Per entry of `sent`: when (steady clock) and on which connection (1-based).
    std::vector<std::pair<std::chrono::steady_clock::time_point, size_t>> sent_meta;
    int fail_connects = 0;
    bool open = false;
    bool shut = false;
  };

  explicit FakeWs(std::shared_ptr<Shared> s) : s_(std::move(s)) {}

  Status connect(const transport::Url& url, DurationNs) override {
    std::lock_guard<std::mutex> lock(s_->mu);
    if (s_->shut) return Status(ErrorCode::kCancelled, "closed");
    s_->connect_urls.push_back(url.to_string());
    if (s_->fail_connects > 0) {
      --s_->fail_connects;
      s_->cv.notify_all();
      return Status::unavailable("scripted connect failure");
    }
    s_->open = true;
    s_->cv.notify_all();
    return Status::ok();
  }

  Result<std::string_view> read_frame(DurationNs timeout) override {
    std::unique_lock<std::mutex> lock(s_->mu);
    auto ready = [&] { return s_->shut || !s_->open || !s_->events.empty(); };
    if (timeout > 0) {
      s_->cv.wait_for(lock, std::chrono::nanoseconds(timeout), ready);
    }
    if (s_->shut || !s_->open) return Status::unavailable("closed");
    if (s_->events.empty()) return Status::unavailable("timeout");
    auto [disconnect, frame] = std::move(s_->events.front());
    s_->events.pop_front();
    if (disconnect) {
      s_->open = false;
      return Status::unavailable("closed by peer");
    }
    current_ = std::move(frame);
    return std::string_view(current_);
  }

  Status send_text(std::string_view text) override {
    std::lock_guard<std::mutex> lock(s_->mu);
    s_->sent.emplace_back(text);
    s_->sent_meta.emplace_back(std::chrono::steady_clock::now(), s_->connect_urls.size());
    return Status::ok();
  }

  void close() override {
    std::lock_guard<std::mutex> lock(s_->mu);
    s_->shut = true;
    s_->open = false;
    s_->cv.notify_all();
  }

  bool is_open() const override {
    std::lock_guard<std::mutex> lock(s_->mu);
    return s_->open && !s_->shut;
  }

 private:
  std::shared_ptr<Shared> s_;
  std::string current_;
};

// Test-side handle to script a FakeWs.
class WsScript {
 public:
  WsScript() : s_(std::make_shared<FakeWs::Shared>()) {}
  std::unique_ptr<FakeWs> make() { return std::make_unique<FakeWs>(s_); }
  void frame(std::string f) { push(false, std::move(f)); }
  void disconnect() { push(true, {}); }
  void fail_connects(int n) {
    std::lock_guard<std::mutex> lock(s_->mu);
    s_->fail_connects = n;
  }
  std::vector<std::string> connect_urls() const {
    std::lock_guard<std::mutex> lock(s_->mu);
    return s_->connect_urls;
  }
  std::vector<std::string> sent() const {
    std::lock_guard<std::mutex> lock(s_->mu);
    return s_->sent;
  }
  std::vector<std::pair<std::chrono::steady_clock::time_point, size_t>> sent_meta() const {
    std::lock_guard<std::mutex> lock(s_->mu);
    return s_->sent_meta;
  }
  size_t pending() const {
    std::lock_guard<std::mutex> lock(s_->mu);
    return s_->events.size();
  }

 private:
  void push(bool disconnect, std::string f) {
    std::lock_guard<std::mutex> lock(s_->mu);
    s_->events.emplace_back(disconnect, std::move(f));
    s_->cv.notify_all();
  }
  std::shared_ptr<FakeWs::Shared> s_;
};

class FakeHttp final : public transport::HttpClient {
 public:
  using Handler = std::function<Result<transport::HttpResponse>(const transport::Url&)>;
  struct Shared {
    std::mutex mu;
    Handler handler;
    std::vector<std::string> requests;  // targets
  };
  explicit FakeHttp(std::shared_ptr<Shared> s) : s_(std::move(s)) {}
  Result<transport::HttpResponse> get(const transport::Url& url, const transport::Headers&, DurationNs) override {
    Handler h;
    {
      std::lock_guard<std::mutex> lock(s_->mu);
      s_->requests.push_back(url.target);
      h = s_->handler;
    }
    if (!h) return Status::unavailable("no handler");
    return h(url);
  }

 private:
  std::shared_ptr<Shared> s_;
};

class HttpScript {
 public:
  HttpScript() : s_(std::make_shared<FakeHttp::Shared>()) {}
  std::unique_ptr<FakeHttp> make() { return std::make_unique<FakeHttp>(s_); }
  void set_handler(FakeHttp::Handler h) {
    std::lock_guard<std::mutex> lock(s_->mu);
    s_->handler = std::move(h);
  }
  std::vector<std::string> requests() const {
    std::lock_guard<std::mutex> lock(s_->mu);
    return s_->requests;
  }

 private:
  std::shared_ptr<FakeHttp::Shared> s_;
};

}  // namespace tickflow::exchange::testing
