// Url: the parts of a ws://, wss://, http:// or https:// address the transports need.
// Thread-safety: plain value; parse_url is a pure function.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/result.h"

namespace tickflow::exchange::transport {

struct Url {
  std::string scheme;  // "ws", "wss", "http", "https" (lower case)
  std::string host;    // "stream.binance.com", "127.0.0.1" (IPv6 without brackets)
  uint16_t port = 0;   // explicit port, or the scheme's default (80 / 443)
  std::string target;  // path + query, always starting with '/'

  bool tls() const { return scheme == "wss" || scheme == "https"; }
  bool websocket() const { return scheme == "ws" || scheme == "wss"; }
  // "host" or "host:port" when the port is not the scheme's default (the HTTP Host header).
  std::string host_header() const;
  // scheme://host[:port]target
  std::string to_string() const;
};

// Parses an absolute URL. Rejects unknown schemes, empty hosts, bad ports, user info and
// fragments with kInvalidArgument naming the input.
Result<Url> parse_url(std::string_view text);

// Percent-encodes a query parameter value (RFC 3986 unreserved characters kept).
std::string url_encode(std::string_view value);

}  // namespace tickflow::exchange::transport
