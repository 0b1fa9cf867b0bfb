// Low-level JSON writing for the serving hot paths: unchecked writers into a raw buffer whose
// size the caller bounded beforehand, and append_bounded() to use them on a std::string (one
// size check per object instead of one per character, no temporaries).
//
//   json::append_bounded(out, bound, [&](char* p) {
//     p = json::put(p, "{\"n\":");
//     p = json::put_int(p, n);
//     return json::put(p, "}");
//   });
//
// Every put_* writes at most the bound documented beside it and returns the new end.
// Output is byte-identical to the std::string helpers of candle_json.h (which use these).
// Thread-safety: pure functions.
#pragma once

#include <charconv>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace tickflow::serving::json {

// Bounds of the writers below.
constexpr size_t kMaxIntChars = 20;     // "-9223372036854775808"
constexpr size_t kMaxDoubleChars = 32;  // shortest round-trip form + ".0", or "null"
constexpr size_t string_bound(std::string_view s) { return 2 + 6 * s.size(); }

// Appends what write(char* p) -> char* writes, which must be at most `bound` bytes.
template <typename Write>
void append_bounded(std::string& out, size_t bound, Write&& write) {
  const size_t old = out.size();
  out.resize(old + bound);
  char* const base = out.data();
  char* const end = write(base + old);
  out.resize(static_cast<size_t>(end - base));
}

// Raw bytes (keys and punctuation: no escaping).
inline char* put(char* p, std::string_view s) {
  std::memcpy(p, s.data(), s.size());
  return p + s.size();
}

inline char* put_int(char* p, int64_t v) { return std::to_chars(p, p + kMaxIntChars, v).ptr; }

// `s` as a quoted JSON string: quotes, backslashes and control characters escaped (invalid
// UTF-8 passed through). At most string_bound(s) bytes.
char* put_string(char* p, std::string_view s);

// Shortest round-trip form; integral values keep a ".0" (1.0); NaN/inf become null.
char* put_double(char* p, double v);

}  // namespace tickflow::serving::json
