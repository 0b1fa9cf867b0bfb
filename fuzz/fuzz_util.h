// Shared helpers of the libFuzzer targets in fuzz/ (and of their seed-replay driver).
//
// Every target defines LLVMFuzzerTestOneInput. Under -DTICKFLOW_FUZZ=ON it is linked with
// libFuzzer (-fsanitize=fuzzer); in the normal build it is linked with replay_main.cc, which
// feeds it every file of the seed corpus (ctest Fuzz.*), so the targets keep compiling and the
// seeds keep passing in CI. A broken invariant calls TF_FUZZ_CHECK, which prints and aborts:
// libFuzzer reports it as a crash with the input; the replay test fails.
//
// Thread-safety: single-threaded (libFuzzer calls the target from one thread).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "core/decimal.h"

#define TF_FUZZ_CHECK(cond, what)                                                  \
  do {                                                                             \
    if (!(cond)) {                                                                 \
      std::fprintf(stderr, "fuzz invariant failed: %s\n  %s\n  at %s:%d\n", #cond, \
                   std::string(what).c_str(), __FILE__, __LINE__);                 \
      std::abort();                                                                \
    }                                                                              \
  } while (0)

namespace tickflow::fuzz {

inline std::string_view as_view(const uint8_t* data, size_t size) {
  return std::string_view(reinterpret_cast<const char*>(data), size);
}

// Multi-frame targets: one WebSocket frame per line (the frames themselves never contain a raw
// '\n': JSON escapes it), so a corpus file is a short session. At most max_frames frames (the rest
// is ignored).
inline std::vector<std::string_view> split_frames(std::string_view in, size_t max_frames = 16) {
  std::vector<std::string_view> out;
  while (!in.empty() && out.size() < max_frames) {
    size_t nl = in.find('\n');
    out.push_back(in.substr(0, nl));
    if (nl == std::string_view::npos) break;
    in.remove_prefix(nl + 1);
  }
  return out;
}

// Exact Decimal identity: same value and same printed scale.
inline bool same_decimal(const Decimal& a, const Decimal& b) {
  return a.units() == b.units() && a.scale() == b.scale();
}

// A Decimal as Kraken's checksum prints it: the exchange's string without '.', leading zeros
// stripped. Built from to_string(), independently of the order book's cached digits.
inline std::string kraken_checksum_text(const Decimal& d) {
  std::string s;
  for (char c : d.to_string())
    if (c != '.') s.push_back(c);
  size_t i = 0;
  while (i < s.size() && s[i] == '0') ++i;
  return s.substr(i);
}

// A little-endian reader for structured targets; reads 0 past the end.
class ByteReader {
 public:
  ByteReader(const uint8_t* data, size_t size) : p_(data), end_(data + size) {}
  bool empty() const { return p_ >= end_; }
  uint8_t u8() { return p_ < end_ ? *p_++ : 0; }
  uint64_t u64() {
    uint64_t v = 0;
    for (int i = 0; i < 8; ++i) v |= static_cast<uint64_t>(u8()) << (8 * i);
    return v;
  }

 private:
  const uint8_t* p_;
  const uint8_t* end_;
};

}  // namespace tickflow::fuzz
