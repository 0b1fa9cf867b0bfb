// Webhook signatures and random tokens (OpenSSL).
//   signature_header(secret, ts, body) = "sha256=" + hex(HMAC-SHA256(secret, ts + "." + body))
// so a receiver recomputes it from the X-Tickflow-Timestamp header and the raw body, and can
// reject replays by the timestamp. random_hex draws from OpenSSL's CSPRNG.
// Thread-safety: pure functions (OpenSSL ≥ 1.1 is thread-safe).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace tickflow::delivery {

std::string hmac_sha256_hex(std::string_view key, std::string_view message);
std::string signature_header(std::string_view secret, std::string_view timestamp, std::string_view body);
// 2*bytes lower-case hex characters.
std::string random_hex(size_t bytes);

}  // namespace tickflow::delivery
