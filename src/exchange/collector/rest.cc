#include "exchange/collector/rest.h"

#include <algorithm>

#include <spdlog/spdlog.h>

namespace tickflow::exchange::collector {

Result<transport::HttpResponse> RestFetcher::get(const std::string& url_text) {
  auto url = transport::parse_url(url_text);
  if (!url) return url.status();
  Status last = Status::unavailable("no attempt");
  for (int attempt = 0; attempt <= policy_.max_retries && !control_.stopping(); ++attempt) {
    auto res = http_.get(*url, {}, policy_.timeout);
    DurationNs wait = policy_.base_wait * (attempt + 1);
    if (!res) {
      last = res.status();
    } else if (res->status == 200) {
      return std::move(*res);
    } else if (res->status == 429 || res->status == 418) {
      rate_limited_.fetch_add(1, std::memory_order_relaxed);
      probe_.http_limited(res->status);
      const int64_t retry_after = res->retry_after_seconds();
      if (retry_after >= 0) {
        wait = retry_after * kNsPerSec;
      } else if (policy_.rate_limit_default_wait > 0) {
        wait = policy_.rate_limit_default_wait;
      }
      if (res->status == 418) wait = std::max(wait, policy_.ban_min_wait);
      spdlog::warn("{}: REST {} from {}; waiting {} ms", component_, res->status, url->host_header(),
                   wait / kNsPerMs);
      last = Status::resource_exhausted("HTTP " + std::to_string(res->status));
    } else if (res->status >= 500) {
      last = Status::unavailable("HTTP " + std::to_string(res->status));
    } else {
      return Status::invalid_argument("HTTP " + std::to_string(res->status) + " from " + url_text + ": " +
                                      res->body.substr(0, 200));
    }
    if (attempt < policy_.max_retries && !control_.wait_for(wait)) break;
  }
  return last;
}

}  // namespace tickflow::exchange::collector
