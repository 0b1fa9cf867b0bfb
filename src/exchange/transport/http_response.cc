#include <charconv>

#include "exchange/transport/http_client.h"

namespace tickflow::exchange::transport {
namespace {

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

}  // namespace

std::string_view HttpResponse::header(std::string_view name) const {
  for (const auto& [k, v] : headers) {
    if (iequals(k, name)) return v;
  }
  return {};
}

int64_t HttpResponse::retry_after_seconds() const {
  std::string_view v = header("Retry-After");
  while (!v.empty() && v.front() == ' ') v.remove_prefix(1);
  while (!v.empty() && v.back() == ' ') v.remove_suffix(1);
  int64_t seconds = -1;
  auto [ptr, ec] = std::from_chars(v.data(), v.data() + v.size(), seconds);
  if (v.empty() || ec != std::errc() || ptr != v.data() + v.size() || seconds < 0) return -1;
  return seconds;
}

}  // namespace tickflow::exchange::transport

namespace tickflow::exchange::transport {

Result<HttpResponse> HttpClient::post(const Url& url, const Headers&, std::string, DurationNs) {
  return Status::internal("HTTP POST is not supported by this client (" + url.to_string() + ")");
}

}  // namespace tickflow::exchange::transport
