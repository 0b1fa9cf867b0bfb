// HttpClient: the seam around a blocking HTTP(S) GET (REST snapshots and backfills) and POST
// (webhook and Alertmanager deliveries).
// Production implementation: Boost.Beast + OpenSSL (beast_http.cc), http:// and https://,
// TLS verification on (system CA store, SNI, host name check). One connection per request
// ("Connection: close"): REST calls here are rare (backfills) and this keeps it robust.
// A non-2xx status is NOT an error: the caller reads status (429/418 + Retry-After).
// Errors: kUnavailable for network failures/timeouts (retryable), kInvalidArgument for a bad URL.
// Thread-safety: get()/post() may be called from one thread at a time per client.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/result.h"
#include "core/time.h"
#include "exchange/transport/url.h"

namespace tickflow::exchange::transport {

using Headers = std::vector<std::pair<std::string, std::string>>;

struct HttpResponse {
  int status = 0;
  Headers headers;
  std::string body;

  // Case-insensitive header lookup; "" when absent.
  std::string_view header(std::string_view name) const;
  // Retry-After in seconds (delta-seconds form); -1 when absent or not a number.
  int64_t retry_after_seconds() const;
};

class HttpClient {
 public:
  virtual ~HttpClient() = default;
  virtual Result<HttpResponse> get(const Url& url, const Headers& headers, DurationNs timeout) = 0;
  // POSTs `body` (Content-Type from `headers`, default application/json). Same error contract
  // as get(). The default implementation (fakes that only script GETs) answers kInternal.
  virtual Result<HttpResponse> post(const Url& url, const Headers& headers, std::string body, DurationNs timeout);
};

struct HttpOptions {
  size_t max_body_bytes = 64 * 1024 * 1024;
  std::string user_agent = "tickflow/0.1";
  std::string extra_ca_file;  // see WsOptions
};

std::unique_ptr<HttpClient> make_http_client(const HttpOptions& options = {});

}  // namespace tickflow::exchange::transport
