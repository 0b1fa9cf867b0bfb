// Coinbase Advanced Trade WebSocket authentication (docs.cdp.coinbase.com, "Advanced Trade
// WebSocket Authentication" and its code samples): every subscribe message carries a fresh
// `jwt`, an ES256 (ECDSA P-256 + SHA-256) JSON Web Token signed with the CDP API key's EC
// private key, with no request method/path ("WebSocket JWTs ... are not built with a request
// method or request path"):
//   header  {"alg":"ES256","kid":<key name>,"nonce":<random hex>,"typ":"JWT"}
//   payload {"iss":"cdp","nbf":<now s>,"exp":<now + 120 s>,"sub":<key name>}
//   token   base64url(header) "." base64url(payload) "." base64url(r || s, 32 bytes each)
// (base64url without padding, RFC 7515). The key name is "organizations/{org}/apiKeys/{id}";
// the secret a PEM "EC PRIVATE KEY" (SEC 1) or PKCS#8 key; literal "\n" sequences in it (as
// pasted into one environment variable) are taken as newlines.
// Pure (OpenSSL EVP). Thread-safety: stateless.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/result.h"

namespace tickflow::exchange::coinbase {

inline constexpr int64_t kAdvancedJwtLifetimeSec = 120;

// kInvalidArgument when the key is not a P-256 EC private key.
Result<std::string> advanced_jwt(std::string_view key_name, std::string_view pem_private_key, int64_t now_sec,
                                 std::string_view nonce);
// 16 random bytes as 32 hex digits (OpenSSL RAND_bytes).
std::string random_nonce();
// base64url without padding, exposed for tests.
std::string base64url_encode(std::string_view bytes);

}  // namespace tickflow::exchange::coinbase
