// Big-endian integer encoding for RocksDB keys and values (bytewise comparison then sorts keys
// numerically), shared by the embedded bus and the embedded candle store.
//
// Thread-safety: pure functions. Ownership: none (appends to / reads from caller buffers).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace tickflow::rocks {

inline void put_be32(std::string& out, uint32_t v) {
  char b[4] = {static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8),
               static_cast<char>(v)};
  out.append(b, 4);
}

inline void put_be64(std::string& out, uint64_t v) {
  char b[8];
  for (int i = 7; i >= 0; --i) {
    b[i] = static_cast<char>(v & 0xff);
    v >>= 8;
  }
  out.append(b, 8);
}

// `p` must point at 4 (resp. 8) readable bytes.
inline uint32_t get_be32(const char* p) {
  const auto* u = reinterpret_cast<const unsigned char*>(p);
  return (uint32_t{u[0]} << 24) | (uint32_t{u[1]} << 16) | (uint32_t{u[2]} << 8) | uint32_t{u[3]};
}

inline uint64_t get_be64(const char* p) {
  const auto* u = reinterpret_cast<const unsigned char*>(p);
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | u[i];
  return v;
}

inline std::string be64_string(uint64_t v) {
  std::string s;
  put_be64(s, v);
  return s;
}

// A consumer group's position key: group \0 topic \0 be32(partition).
inline std::string consumer_key(std::string_view group, std::string_view topic, int32_t partition) {
  std::string k(group);
  k.push_back('\0');
  k.append(topic);
  k.push_back('\0');
  put_be32(k, static_cast<uint32_t>(partition));
  return k;
}

}  // namespace tickflow::rocks
