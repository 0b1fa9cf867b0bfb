// Compact byte encoding for component state blobs (candle engine, indicators): unsigned and
// zigzag varints, raw little-endian IEEE-754 doubles (bit exact), length-prefixed strings,
// exact decimals. Reader methods return false once the input is exhausted or malformed and stay
// false (sticky), so decoding never reads out of bounds.
// Thread-safety: plain values over caller-owned buffers.
#pragma once

#include <bit>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/decimal.h"

namespace tickflow::bytes {

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
  void boolean(bool b) { out_.push_back(b ? 1 : 0); }
  void f64(double d) {
    uint64_t bits = std::bit_cast<uint64_t>(d);
    for (int i = 0; i < 8; ++i) out_.push_back(static_cast<char>(bits >> (8 * i)));
  }
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
  bool fail() { return ok_ = false; }

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
  bool u8(uint8_t& v) {
    if (!ok_ || p_ == end_) return ok_ = false;
    v = static_cast<uint8_t>(*p_++);
    return true;
  }
  bool boolean(bool& v) {
    uint8_t b;
    if (!u8(b) || b > 1) return ok_ = false;
    v = b == 1;
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
  bool dec(Decimal& d) {
    int64_t units;
    uint8_t scale;
    if (!i64(units) || !u8(scale) || scale > Decimal::kMaxScale) return ok_ = false;
    d = Decimal(units, scale);
    return true;
  }
  bool wide(WideDecimal& w) {
    uint64_t lo, hi;
    uint8_t scale;
    if (!u64(lo) || !u64(hi) || !u8(scale) || scale > WideDecimal::kMaxScale) return ok_ = false;
    unsigned __int128 u = (static_cast<unsigned __int128>(hi) << 64) | lo;
    w = WideDecimal(static_cast<int128>(u), scale);
    return true;
  }

 private:
  const char* p_;
  const char* end_;
  bool ok_ = true;
};

}  // namespace tickflow::bytes
