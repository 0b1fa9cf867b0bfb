// Byte encoding for indicator state: unsigned varints, raw little-endian IEEE-754 doubles (bit
// exact, so a restored indicator continues exactly), length-prefixed strings. Reader methods
// return false once the input is exhausted or malformed (and stay false); never read out of
// bounds.
// Thread-safety: plain values.
#pragma once

#include <bit>
#include <cstdint>
#include <string>
#include <string_view>

namespace tickflow::processing::indicators {

class StateWriter {
 public:
  explicit StateWriter(std::string& out) : out_(out) {}
  void u64(uint64_t v) {
    while (v >= 0x80) {
      out_.push_back(static_cast<char>(v | 0x80));
      v >>= 7;
    }
    out_.push_back(static_cast<char>(v));
  }
  void i64(int64_t v) { u64((static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63)); }
  void boolean(bool b) { out_.push_back(b ? 1 : 0); }
  void f64(double d) {
    uint64_t bits = std::bit_cast<uint64_t>(d);
    for (int i = 0; i < 8; ++i) out_.push_back(static_cast<char>(bits >> (8 * i)));
  }
  void str(std::string_view s) {
    u64(s.size());
    out_.append(s);
  }

 private:
  std::string& out_;
};

class StateReader {
 public:
  explicit StateReader(std::string_view in) : p_(in.data()), end_(in.data() + in.size()) {}
  bool ok() const { return ok_; }
  bool at_end() const { return p_ == end_; }

  bool u64(uint64_t& v) {
    v = 0;
    if (!ok_) return false;
    for (int shift = 0; shift < 64; shift += 7) {
      if (p_ == end_) return ok_ = false;
      uint8_t b = static_cast<uint8_t>(*p_++);
      v |= static_cast<uint64_t>(b & 0x7f) << shift;
      if (!(b & 0x80)) return true;
    }
    return ok_ = false;
  }
  bool u32(uint32_t& v) {
    uint64_t w;
    if (!u64(w) || w > UINT32_MAX) return ok_ = false;
    v = static_cast<uint32_t>(w);
    return true;
  }
  bool i64(int64_t& v) {
    uint64_t u;
    if (!u64(u)) return false;
    v = static_cast<int64_t>((u >> 1) ^ (~(u & 1) + 1));
    return true;
  }
  bool boolean(bool& b) {
    if (!ok_ || p_ == end_) return ok_ = false;
    uint8_t c = static_cast<uint8_t>(*p_++);
    if (c > 1) return ok_ = false;
    b = c == 1;
    return true;
  }
  bool f64(double& d) {
    if (!ok_ || end_ - p_ < 8) return ok_ = false;
    uint64_t bits = 0;
    for (int i = 0; i < 8; ++i) bits |= static_cast<uint64_t>(static_cast<uint8_t>(p_[i])) << (8 * i);
    p_ += 8;
    d = std::bit_cast<double>(bits);
    return true;
  }
  bool str(std::string& s) {
    uint64_t n;
    if (!u64(n) || n > static_cast<uint64_t>(end_ - p_)) return ok_ = false;
    s.assign(p_, n);
    p_ += n;
    return true;
  }
  bool fail() { return ok_ = false; }

 private:
  const char* p_;
  const char* end_;
  bool ok_ = true;
};

}  // namespace tickflow::processing::indicators
