// Compact binary encoding for CandleEngine state blobs: zigzag varints, length-prefixed
// strings, 128-bit integers as two varints. Reader methods return false once the input is
// exhausted or malformed (and stay false), so decoding never reads out of bounds.
// Thread-safety: plain values.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/decimal.h"

namespace tickflow::processing::state {

class Writer {
 public:
  explicit Writer(std::string& out) : out_(out) {}
  void u64(uint64_t v) {
    while (v >= 0x80) {
      out_.push_back(static_cast<char>(v | 0x80));
      v >>= 7;
    }
    out_.push_back(static_cast<char>(v));
  }
  void i64(int64_t v) { u64((static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63)); }
  void u8(uint8_t v) { out_.push_back(static_cast<char>(v)); }
  void str(std::string_view s) {
    u64(s.size());
    out_.append(s);
  }
  void dec(const Decimal& d) {
    i64(d.units());
    u8(static_cast<uint8_t>(d.scale()));
  }
  void wide(const WideDecimal& w) {
    unsigned __int128 u = static_cast<unsigned __int128>(w.units());
    u64(static_cast<uint64_t>(u));
    u64(static_cast<uint64_t>(u >> 64));
    u8(static_cast<uint8_t>(w.scale()));
  }

 private:
  std::string& out_;
};

class Reader {
 public:
  explicit Reader(std::string_view in) : p_(in.data()), end_(in.data() + in.size()) {}
  bool ok() const { return ok_; }
  bool at_end() const { return p_ == end_; }

  bool u64(uint64_t& v) {
    v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (p_ == end_) return ok_ = false;
      uint8_t b = static_cast<uint8_t>(*p_++);
      v |= static_cast<uint64_t>(b & 0x7f) << shift;
      if (!(b & 0x80)) return ok_;
    }
    return ok_ = false;
  }
  bool i64(int64_t& v) {
    uint64_t u;
    if (!u64(u)) return false;
    v = static_cast<int64_t>((u >> 1) ^ (~(u & 1) + 1));
    return ok_;
  }
  bool u8(uint8_t& v) {
    if (p_ == end_) return ok_ = false;
    v = static_cast<uint8_t>(*p_++);
    return ok_;
  }
  bool boolean(bool& v) {
    uint8_t b;
    if (!u8(b) || b > 1) return ok_ = false;
    v = b == 1;
    return ok_;
  }
  bool str(std::string& s) {
    uint64_t n;
    if (!u64(n) || n > static_cast<uint64_t>(end_ - p_)) return ok_ = false;
    s.assign(p_, n);
    p_ += n;
    return ok_;
  }
  bool dec(Decimal& d) {
    int64_t units;
    uint8_t scale;
    if (!i64(units) || !u8(scale) || scale > Decimal::kMaxScale) return ok_ = false;
    d = Decimal(units, scale);
    return ok_;
  }
  bool wide(WideDecimal& w) {
    uint64_t lo, hi;
    uint8_t scale;
    if (!u64(lo) || !u64(hi) || !u8(scale) || scale > WideDecimal::kMaxScale) return ok_ = false;
    unsigned __int128 u = (static_cast<unsigned __int128>(hi) << 64) | lo;
    w = WideDecimal(static_cast<int128>(u), scale);
    return ok_;
  }

 private:
  const char* p_;
  const char* end_;
  bool ok_ = true;
};

}  // namespace tickflow::processing::state
