#include "cache/redis/redis_client.h"

#include <hiredis/hiredis.h>
#include <sys/time.h>

#include <algorithm>
#include <charconv>

namespace tickflow::cache::redis {
namespace {

timeval to_timeval(DurationNs d) {
  timeval tv;
  tv.tv_sec = static_cast<time_t>(d / kNsPerSec);
  tv.tv_usec = static_cast<suseconds_t>((d % kNsPerSec) / 1000);
  return tv;
}

bool parse_int(std::string_view s, int& out) {
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && p == s.data() + s.size();
}

RedisReply convert(const redisReply* r) {
  RedisReply out;
  switch (r->type) {
    case REDIS_REPLY_STRING:
      out.type = RedisReply::Type::kString;
      out.str.assign(r->str, r->len);
      break;
    case REDIS_REPLY_STATUS:
      out.type = RedisReply::Type::kStatus;
      out.str.assign(r->str, r->len);
      break;
    case REDIS_REPLY_ERROR:
      out.type = RedisReply::Type::kError;
      out.str.assign(r->str, r->len);
      break;
    case REDIS_REPLY_INTEGER:
      out.type = RedisReply::Type::kInteger;
      out.integer = r->integer;
      break;
    case REDIS_REPLY_ARRAY:
      out.type = RedisReply::Type::kArray;
      out.elements.reserve(r->elements);
      for (size_t i = 0; i < r->elements; ++i) out.elements.push_back(convert(r->element[i]));
      break;
    default:
      out.type = RedisReply::Type::kNil;
  }
  return out;
}

}  // namespace

std::string RedisUrl::redacted() const {
  std::string s = "redis://";
  if (!user.empty() || !password.empty()) s += user + (password.empty() ? "" : ":***") + "@";
  s += host + ":" + std::to_string(port) + "/" + std::to_string(db);
  return s;
}

Result<RedisUrl> RedisUrl::parse(std::string_view url) {
  constexpr std::string_view kScheme = "redis://";
  if (url.substr(0, kScheme.size()) != kScheme)
    return Status::invalid_argument("must start with redis:// (redis://[user:password@]host:port/db)");
  std::string_view rest = url.substr(kScheme.size());
  RedisUrl u;
  if (size_t at = rest.rfind('@'); at != std::string_view::npos) {
    std::string_view cred = rest.substr(0, at);
    rest = rest.substr(at + 1);
    size_t colon = cred.find(':');
    if (colon == std::string_view::npos) {
      u.password = std::string(cred);  // redis://password@host (legacy form)
    } else {
      u.user = std::string(cred.substr(0, colon));
      u.password = std::string(cred.substr(colon + 1));
    }
  }
  std::string_view hostport = rest;
  if (size_t slash = rest.find('/'); slash != std::string_view::npos) {
    hostport = rest.substr(0, slash);
    std::string_view db = rest.substr(slash + 1);
    if (!db.empty() && (!parse_int(db, u.db) || u.db < 0)) return Status::invalid_argument("bad database number");
  }
  std::string_view host = hostport;
  if (size_t colon = hostport.rfind(':'); colon != std::string_view::npos) {
    host = hostport.substr(0, colon);
    if (!parse_int(hostport.substr(colon + 1), u.port) || u.port < 1 || u.port > 65535)
      return Status::invalid_argument("bad port");
  }
  if (host.empty()) return Status::invalid_argument("missing host");
  u.host = std::string(host);
  return u;
}

// ---- ReconnectGate ----

bool ReconnectGate::may_attempt() const {
  std::lock_guard lk(mu_);
  return consecutive_ == 0 || Clock::now() >= next_attempt_;
}

void ReconnectGate::on_success() {
  std::lock_guard lk(mu_);
  healthy_ = true;
  consecutive_ = 0;
  delay_ = 0;
  last_error_.clear();
}

void ReconnectGate::on_failure(const std::string& reason) {
  std::lock_guard lk(mu_);
  healthy_ = false;
  ++consecutive_;
  delay_ = delay_ == 0 ? initial_ : std::min(max_, delay_ * 2);
  next_attempt_ = Clock::now() + std::chrono::nanoseconds(delay_);
  last_error_ = reason;
}

bool ReconnectGate::healthy() const {
  std::lock_guard lk(mu_);
  return healthy_;
}

std::string ReconnectGate::last_error() const {
  std::lock_guard lk(mu_);
  return last_error_;
}

DurationNs ReconnectGate::current_backoff() const {
  std::lock_guard lk(mu_);
  return delay_;
}

uint64_t ReconnectGate::failures() const {
  std::lock_guard lk(mu_);
  return consecutive_;
}

// ---- RedisConnection ----

RedisConnection::RedisConnection(const RedisClientConfig& config, ReconnectGate& gate, std::vector<Command> on_connect)
    : config_(config), gate_(gate), on_connect_(std::move(on_connect)) {}

RedisConnection::~RedisConnection() { disconnect(); }

void RedisConnection::disconnect() {
  if (ctx_) redisFree(ctx_);
  ctx_ = nullptr;
}

Status RedisConnection::ensure_connected() {
  if (ctx_) return Status::ok();
  const std::string where = config_.url.redacted();
  if (!gate_.may_attempt())
    return Status::unavailable(where + ": reconnect backoff (" + gate_.last_error() + ")");
  redisContext* c = redisConnectWithTimeout(config_.url.host.c_str(), config_.url.port,
                                            to_timeval(config_.connect_timeout));
  if (c == nullptr || c->err) {
    std::string reason = c ? std::string(c->errstr) : std::string("out of memory");
    if (c) redisFree(c);
    gate_.on_failure("connect: " + reason);
    return Status::unavailable(where + ": connect: " + reason);
  }
  redisSetTimeout(c, to_timeval(config_.command_timeout));
  redisEnableKeepAlive(c);
  ctx_ = c;
  std::vector<Command> setup;
  if (!config_.url.password.empty()) {
    if (config_.url.user.empty()) setup.push_back({"AUTH", config_.url.password});
    else setup.push_back({"AUTH", config_.url.user, config_.url.password});
  }
  if (config_.url.db != 0) setup.push_back({"SELECT", std::to_string(config_.url.db)});
  for (const Command& cmd : on_connect_) setup.push_back(cmd);
  if (setup.empty()) setup.push_back({"PING"});
  // Send and read directly (not through pipeline(), which would recurse into us).
  for (const Command& cmd : setup) {
    std::vector<const char*> argv;
    std::vector<size_t> lens;
    for (const auto& a : cmd) {
      argv.push_back(a.data());
      lens.push_back(a.size());
    }
    redisAppendCommandArgv(ctx_, static_cast<int>(argv.size()), argv.data(), lens.data());
  }
  for (const Command& cmd : setup) {
    void* raw = nullptr;
    if (redisGetReply(ctx_, &raw) != REDIS_OK || raw == nullptr) {
      std::string reason = ctx_->errstr;
      disconnect();
      gate_.on_failure("handshake: " + reason);
      return Status::unavailable(where + ": handshake: " + reason);
    }
    RedisReply r = convert(static_cast<redisReply*>(raw));
    freeReplyObject(raw);
    if (r.is_error()) {
      // Never echo the AUTH arguments; the server's message names no password.
      std::string reason = cmd[0] + ": " + r.str;
      disconnect();
      gate_.on_failure(reason);
      return Status::unavailable(where + ": " + reason);
    }
  }
  gate_.on_success();
  return Status::ok();
}

Result<std::vector<RedisReply>> RedisConnection::pipeline(const std::vector<Command>& commands) {
  TICKFLOW_RETURN_IF_ERROR(ensure_connected());
  std::vector<const char*> argv;
  std::vector<size_t> lens;
  for (const Command& cmd : commands) {
    argv.clear();
    lens.clear();
    for (const auto& a : cmd) {
      argv.push_back(a.data());
      lens.push_back(a.size());
    }
    if (redisAppendCommandArgv(ctx_, static_cast<int>(argv.size()), argv.data(), lens.data()) != REDIS_OK) {
      std::string reason = ctx_->errstr;
      disconnect();
      gate_.on_failure(reason);
      return Status::unavailable(config_.url.redacted() + ": " + reason);
    }
  }
  std::vector<RedisReply> out;
  out.reserve(commands.size());
  for (size_t i = 0; i < commands.size(); ++i) {
    void* raw = nullptr;
    if (redisGetReply(ctx_, &raw) != REDIS_OK || raw == nullptr) {
      std::string reason = ctx_->errstr[0] ? std::string(ctx_->errstr) : std::string("connection lost");
      disconnect();
      gate_.on_failure(reason);
      return Status::unavailable(config_.url.redacted() + ": " + reason);
    }
    out.push_back(convert(static_cast<redisReply*>(raw)));
    freeReplyObject(raw);
  }
  gate_.on_success();
  return out;
}

Result<RedisReply> RedisConnection::command(const Command& cmd) {
  auto r = pipeline({cmd});
  if (!r) return r.status();
  return std::move(r->front());
}

// ---- RedisPool ----

RedisPool::RedisPool(RedisClientConfig config, size_t size, std::vector<Command> on_connect)
    : config_(std::move(config)), gate_(config_.backoff_initial, config_.backoff_max) {
  size = std::max<size_t>(1, size);
  for (size_t i = 0; i < size; ++i) {
    auto s = std::make_unique<Slot>();
    s->conn = std::make_unique<RedisConnection>(config_, gate_, on_connect);
    slots_.push_back(std::move(s));
  }
}

RedisPool::Slot& RedisPool::acquire() {
  const size_t n = slots_.size();
  const size_t start = next_.fetch_add(1) % n;
  for (size_t i = 0; i < n; ++i) {
    Slot& s = *slots_[(start + i) % n];
    if (s.mu.try_lock()) return s;
  }
  Slot& s = *slots_[start];
  s.mu.lock();
  return s;
}

}  // namespace tickflow::cache::redis
