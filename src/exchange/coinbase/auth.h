// Coinbase Exchange signed WebSocket subscriptions (docs.cdp.coinbase.com, "Exchange WebSocket
// Authentication"): a subscribe message carries the fields of a signed GET /users/self/verify —
//   key, passphrase, timestamp (seconds since the epoch, as sent), signature =
//   base64(HMAC-SHA256(base64-decoded API secret, timestamp + "GET" + "/users/self/verify")).
// Pure (OpenSSL's HMAC and base64). Thread-safety: stateless.
#pragma once

#include <string>
#include <string_view>

#include "core/result.h"

namespace tickflow::exchange::coinbase {

inline constexpr std::string_view kVerifyPath = "/users/self/verify";

// kInvalidArgument when the secret is not base64.
Result<std::string> subscription_signature(std::string_view secret_base64, std::string_view timestamp);

// Base64 (RFC 4648, padded), exposed for tests.
std::string base64_encode(std::string_view bytes);
Result<std::string> base64_decode(std::string_view text);

}  // namespace tickflow::exchange::coinbase
