// Test harness for end-to-end tests: runs the real `tickflow` binary (simulate, run) as child
// processes, waits on conditions (log lines, HTTP answers), and reads the API.
// Thread-safety: single test thread.
#pragma once

#include <signal.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace tickflow::testing {

std::string tickflow_binary();
std::string make_temp_dir(const std::string& prefix);

// A child process with stdout+stderr captured to a file.
class Subprocess {
 public:
  Subprocess(std::vector<std::string> args, std::string log_path);
  ~Subprocess();  // SIGKILLs the child if still running
  Subprocess(const Subprocess&) = delete;
  Subprocess& operator=(const Subprocess&) = delete;

  pid_t pid() const { return pid_; }
  bool running();
  void kill(int sig);
  // Waits for exit; returns the exit code (128+signal if killed), or -1 on timeout.
  int wait(std::chrono::milliseconds timeout);
  std::string output() const;
  // Waits until the output contains `needle` after `from` chars; returns the line holding it.
  std::optional<std::string> wait_for_line(const std::string& needle, std::chrono::milliseconds timeout,
                                           size_t from = 0);

 private:
  pid_t pid_ = -1;
  int status_ = 0;
  bool exited_ = false;
  std::string log_path_;
};

// Polls pred every few ms until it returns true or the timeout passes.
bool wait_until(const std::function<bool()>& pred, std::chrono::milliseconds timeout);

// Extracts the port from a line such as "... http://127.0.0.1:41234 ..." (last ':' digits).
int port_from_line(const std::string& line);

struct HttpResult {
  int status = 0;
  std::string body;
};
HttpResult http_get(const std::string& url);
// POST with a JSON body (Content-Type: application/json).
HttpResult http_post(const std::string& url, const std::string& body);

// A candle as the REST API returns it (decimals kept as strings).
struct ApiCandle {
  std::string open_time;
  int64_t open_time_ms = 0;
  std::string open, high, low, close, volume, quote_volume;
  int64_t trades = 0, first_trade_id = -1, last_trade_id = -1;
  std::string status;
  int64_t revision = 0;
};
// GET /ohlcv/... parsed; empty optional on a non-200 answer.
std::optional<std::vector<ApiCandle>> get_candles(int port, const std::string& exchange,
                                                  const std::string& symbol, const std::string& tf,
                                                  int limit = 5000);

// An aggregate trade from the simulator's REST history (GET /api/v3/aggTrades).
struct AggTrade {
  int64_t a = 0, f = 0, l = 0, t_ms = 0;
  std::string p, q;
  bool m = false;
};
std::vector<AggTrade> fetch_all_agg_trades(int sim_port, const std::string& exchange_symbol);

// Independent oracle: OHLCV per window from aggTrades (first/last by (T, id)).
struct OracleCandle {
  int64_t open_time_ms = 0;
  std::string open, high, low, close;
  std::string volume;        // exact decimal, 8 decimals
  std::string quote_volume;  // exact sum of price * quantity
  int64_t trades = 0, first_trade_id = -1, last_trade_id = -1;
};
std::map<int64_t, OracleCandle> oracle_candles(const std::vector<AggTrade>& trades, int64_t tf_ms);

// Compares two decimal strings numerically-exactly ("1.50" == "1.5").
bool decimal_equal(const std::string& a, const std::string& b);

}  // namespace tickflow::testing
