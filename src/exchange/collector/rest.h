// RestFetcher: the REST GET of the collectors' backfills, with the retry policy every venue
// needs: network errors and 5xx retried after base_wait * attempt; 429 (rate limit) and 418
// (Binance's IP ban) honour Retry-After, else wait rate_limit_default_wait (0 = as a 5xx), a 418
// at least ban_min_wait; any other non-200 status fails at once with kInvalidArgument carrying
// the venue's own text. Every wait is interruptible (WorkerControl::wait_for).
//
// Thread-safety: used by its worker thread only; rate_limited() from any thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/result.h"
#include "exchange/collector/probe.h"
#include "exchange/collector/worker.h"
#include "exchange/transport/http_client.h"

namespace tickflow::exchange::collector {

struct RestRetryPolicy {
  int max_retries = 3;
  DurationNs timeout = 10 * kNsPerSec;
  DurationNs base_wait = 5 * kNsPerSec;
  DurationNs rate_limit_default_wait = 0;  // 429/418 without Retry-After; 0 = base_wait * attempt
  DurationNs ban_min_wait = 2 * kNsPerMin;  // HTTP 418 waits at least this long
};

class RestFetcher {
 public:
  RestFetcher(transport::HttpClient& http, RestRetryPolicy policy, WorkerControl& control, CollectorProbe& probe,
              std::string_view component)
      : http_(http), policy_(policy), control_(control), probe_(probe), component_(component) {}

  // The 200 response of GET url.
  Result<transport::HttpResponse> get(const std::string& url);
  uint64_t rate_limited() const { return rate_limited_.load(std::memory_order_relaxed); }

 private:
  transport::HttpClient& http_;
  const RestRetryPolicy policy_;
  WorkerControl& control_;
  CollectorProbe& probe_;
  const std::string component_;
  std::atomic<uint64_t> rate_limited_{0};
};

}  // namespace tickflow::exchange::collector
