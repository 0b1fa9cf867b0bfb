// SymbolHash: a cheap hash for short symbol strings ("BTCUSDT") on the per-trade path: two
// unaligned 8-byte loads and a multiply, instead of std::hash's full pass over the string.
// Used by the Binance parser (symbol cache) and the candle engine (per-symbol maps).
// Thread-safety: stateless.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace tickflow {

struct SymbolHash {
  using is_transparent = void;  // find(std::string_view) without building a std::string
  size_t operator()(const std::string& s) const noexcept { return (*this)(std::string_view(s)); }
  size_t operator()(std::string_view s) const noexcept {
    uint64_t a = 0, b = 0;
    const size_t n = s.size();
    if (n >= 8) {
      std::memcpy(&a, s.data(), 8);
      std::memcpy(&b, s.data() + n - 8, 8);
    } else {
      for (size_t i = 0; i < n; ++i) a |= static_cast<uint64_t>(static_cast<unsigned char>(s[i])) << (8 * i);
    }
    uint64_t h = (a ^ (b * 0x9E3779B97F4A7C15ULL) ^ n) * 0xff51afd7ed558ccdULL;
    return static_cast<size_t>(h ^ (h >> 29));
  }
};

// Equality for short strings without a memcmp call (sizes first, then 8-byte words).
inline bool symbol_equal(std::string_view a, std::string_view b) noexcept {
  const size_t n = a.size();
  if (n != b.size()) return false;
  if (n >= 8) {
    uint64_t x, y;
    for (size_t i = 0; i + 8 <= n; i += 8) {
      std::memcpy(&x, a.data() + i, 8);
      std::memcpy(&y, b.data() + i, 8);
      if (x != y) return false;
    }
    std::memcpy(&x, a.data() + n - 8, 8);
    std::memcpy(&y, b.data() + n - 8, 8);
    return x == y;
  }
  for (size_t i = 0; i < n; ++i)
    if (a[i] != b[i]) return false;
  return true;
}

}  // namespace tickflow
