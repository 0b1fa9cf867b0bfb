#include "tests/integration/harness.h"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <thread>

#include <simdjson.h>

#include "core/decimal.h"
#include "exchange/transport/http_client.h"

namespace tickflow::testing {

std::string tickflow_binary() { return std::string(TICKFLOW_BINARY_DIR) + "/tickflow"; }

std::string make_temp_dir(const std::string& prefix) {
  std::string tmpl = "/tmp/" + prefix + "_XXXXXX";
  std::vector<char> buf(tmpl.begin(), tmpl.end());
  buf.push_back('\0');
  char* p = mkdtemp(buf.data());
  return p ? std::string(p) : std::string();
}

Subprocess::Subprocess(std::vector<std::string> args, std::string log_path) : log_path_(std::move(log_path)) {
  pid_ = fork();
  if (pid_ == 0) {
    int fd = ::open(log_path_.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (fd >= 0) {
      dup2(fd, 1);
      dup2(fd, 2);
      ::close(fd);
    }
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    execv(argv[0], argv.data());
    _exit(127);
  }
}

Subprocess::~Subprocess() {
  if (running()) {
    kill(SIGKILL);
    wait(std::chrono::milliseconds(5000));
  }
}

bool Subprocess::running() {
  if (exited_ || pid_ <= 0) return false;
  int st = 0;
  pid_t r = waitpid(pid_, &st, WNOHANG);
  if (r == pid_) {
    exited_ = true;
    status_ = st;
    return false;
  }
  return true;
}

void Subprocess::kill(int sig) {
  if (pid_ > 0 && !exited_) ::kill(pid_, sig);
}

int Subprocess::wait(std::chrono::milliseconds timeout) {
  bool done = wait_until([&] { return !running(); }, timeout);
  if (!done) return -1;
  if (WIFEXITED(status_)) return WEXITSTATUS(status_);
  if (WIFSIGNALED(status_)) return 128 + WTERMSIG(status_);
  return -1;
}

std::string Subprocess::output() const {
  std::ifstream in(log_path_);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::optional<std::string> Subprocess::wait_for_line(const std::string& needle, std::chrono::milliseconds timeout,
                                                     size_t from) {
  std::optional<std::string> found;
  wait_until(
      [&] {
        std::string out = output();
        if (out.size() < from) return false;
        auto pos = out.find(needle, from);
        if (pos == std::string::npos) return false;
        auto start = out.rfind('\n', pos);
        start = start == std::string::npos ? 0 : start + 1;
        auto end = out.find('\n', pos);
        found = out.substr(start, end == std::string::npos ? std::string::npos : end - start);
        return true;
      },
      timeout);
  return found;
}

bool wait_until(const std::function<bool()>& pred, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    if (pred()) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    // Polling interval of a condition wait (not a fixed delay standing in for a condition).
    std::this_thread::yield();
    struct timespec ts{0, 5'000'000};
    nanosleep(&ts, nullptr);
  }
}

int port_from_line(const std::string& line) {
  auto pos = line.find("127.0.0.1:");
  if (pos == std::string::npos) return -1;
  return std::atoi(line.c_str() + pos + 10);
}

HttpResult http_get(const std::string& url) {
  static auto client = exchange::transport::make_http_client();
  auto u = exchange::transport::parse_url(url);
  if (!u) return {};
  auto r = client->get(*u, {}, 10 * kNsPerSec);
  if (!r) return {};
  return {r->status, r->body};
}

HttpResult http_post(const std::string& url, const std::string& body) {
  static auto client = exchange::transport::make_http_client();
  auto u = exchange::transport::parse_url(url);
  if (!u) return {};
  auto r = client->post(*u, {{"Content-Type", "application/json"}}, body, 10 * kNsPerSec);
  if (!r) return {};
  return {r->status, r->body};
}

namespace {

std::string str(simdjson::dom::element e) {
  std::string_view sv;
  if (e.get(sv) == simdjson::SUCCESS) return std::string(sv);
  return "";
}

int64_t num(simdjson::dom::element e) {
  int64_t v = 0;
  if (e.get(v) == simdjson::SUCCESS) return v;
  uint64_t u = 0;
  if (e.get(u) == simdjson::SUCCESS) return static_cast<int64_t>(u);
  return 0;
}

}  // namespace

std::optional<std::vector<ApiCandle>> get_candles(int port, const std::string& exchange, const std::string& symbol,
                                                  const std::string& tf, int limit) {
  auto r = http_get("http://127.0.0.1:" + std::to_string(port) + "/ohlcv/" + exchange + "/" + symbol + "/" + tf +
                    "?limit=" + std::to_string(limit));
  if (r.status != 200) return std::nullopt;
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (parser.parse(r.body).get(doc) != simdjson::SUCCESS) return std::nullopt;
  simdjson::dom::array arr;
  if (doc["candles"].get(arr) != simdjson::SUCCESS) return std::nullopt;
  std::vector<ApiCandle> out;
  for (simdjson::dom::element c : arr) {
    ApiCandle a;
    a.open_time = str(c["open_time"]);
    a.open_time_ms = num(c["open_time_ms"]);
    a.open = str(c["open"]);
    a.high = str(c["high"]);
    a.low = str(c["low"]);
    a.close = str(c["close"]);
    a.volume = str(c["volume"]);
    a.quote_volume = str(c["quote_volume"]);
    a.trades = num(c["trades"]);
    a.first_trade_id = num(c["first_trade_id"]);
    a.last_trade_id = num(c["last_trade_id"]);
    a.status = str(c["status"]);
    a.revision = num(c["revision"]);
    out.push_back(std::move(a));
  }
  return out;
}

std::vector<AggTrade> fetch_all_agg_trades(int sim_port, const std::string& exchange_symbol) {
  std::vector<AggTrade> out;
  int64_t from = 0;
  simdjson::dom::parser parser;
  while (true) {
    auto r = http_get("http://127.0.0.1:" + std::to_string(sim_port) + "/api/v3/aggTrades?symbol=" +
                      exchange_symbol + "&fromId=" + std::to_string(from) + "&limit=1000");
    if (r.status != 200) break;
    simdjson::dom::element doc;
    if (parser.parse(r.body).get(doc) != simdjson::SUCCESS) break;
    simdjson::dom::array arr;
    if (doc.get(arr) != simdjson::SUCCESS) break;
    size_t n = 0;
    for (simdjson::dom::element e : arr) {
      AggTrade t;
      t.a = num(e["a"]);
      t.p = str(e["p"]);
      t.q = str(e["q"]);
      t.f = num(e["f"]);
      t.l = num(e["l"]);
      t.t_ms = num(e["T"]);
      bool m = false;
      if (e["m"].get(m) != simdjson::SUCCESS) m = false;
      t.m = m;
      from = t.a + 1;
      out.push_back(std::move(t));
      ++n;
    }
    if (n < 1000) break;
  }
  return out;
}

std::map<int64_t, OracleCandle> oracle_candles(const std::vector<AggTrade>& trades, int64_t tf_ms) {
  std::vector<const AggTrade*> sorted;
  for (const auto& t : trades) sorted.push_back(&t);
  std::sort(sorted.begin(), sorted.end(),
            [](const AggTrade* a, const AggTrade* b) { return a->t_ms != b->t_ms ? a->t_ms < b->t_ms : a->a < b->a; });
  std::map<int64_t, OracleCandle> out;
  std::map<int64_t, WideDecimal> vol, quote;
  for (const AggTrade* t : sorted) {
    int64_t open = t->t_ms - (t->t_ms % tf_ms);
    auto [it, fresh] = out.try_emplace(open);
    OracleCandle& c = it->second;
    Decimal p = *Decimal::parse(t->p);
    if (fresh) {
      c.open_time_ms = open;
      c.open = c.high = c.low = t->p;
      c.first_trade_id = t->f;
    }
    if (p > *Decimal::parse(c.high)) c.high = t->p;
    if (p < *Decimal::parse(c.low)) c.low = t->p;
    c.close = t->p;
    c.last_trade_id = std::max(c.last_trade_id, t->l);
    c.first_trade_id = std::min(c.first_trade_id, t->f);
    c.trades += t->l - t->f + 1;
    vol[open].add(*Decimal::parse(t->q));
    quote[open].add_product(p, *Decimal::parse(t->q));
  }
  for (auto& [k, c] : out) {
    c.volume = vol[k].to_string();
    c.quote_volume = quote[k].to_string();
  }
  return out;
}

bool decimal_equal(const std::string& a, const std::string& b) {
  auto x = WideDecimal::parse(a);
  auto y = WideDecimal::parse(b);
  return x && y && *x == *y;
}

}  // namespace tickflow::testing
