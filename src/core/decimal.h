// Exact decimal numbers for prices and quantities.
//
// Decimal: value = units * 10^-scale, 64-bit units, scale 0..18. Parsed exactly from the
// exchange's decimal strings and printed back with the same number of decimals, so OHLC
// equal the exchange's printed values byte for byte. Comparison is exact across scales.
// WideDecimal: 128-bit accumulator for sums and products (volume, quote volume); exact as
// long as the sum fits 38 digits.
// Thread-safety: plain values.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/result.h"

namespace tickflow {

using int128 = __int128;

class Decimal {
 public:
  static constexpr int kMaxScale = 18;

  constexpr Decimal() = default;
  constexpr Decimal(int64_t units, int scale) : units_(units), scale_(static_cast<int8_t>(scale)) {}

  // Parses "123", "-0.00012300", "43000.64000000". No exponents, no spaces.
  // Returns false on anything else (including overflow of 18 significant digits).
  static bool parse(std::string_view text, Decimal& out) noexcept;
  static Result<Decimal> parse(std::string_view text);

  int64_t units() const { return units_; }
  int scale() const { return scale_; }
  bool is_zero() const { return units_ == 0; }
  bool is_negative() const { return units_ < 0; }

  // Same value at a larger scale (exact). Returns false if scale is smaller or overflow.
  bool rescale_up(int new_scale, Decimal& out) const noexcept;
  double to_double() const;
  std::string to_string() const;
  void append_to(std::string& out) const;

  // Exact three-way comparison across scales.
  friend int compare(const Decimal& a, const Decimal& b) noexcept;
  friend bool operator==(const Decimal& a, const Decimal& b) noexcept { return compare(a, b) == 0; }
  friend bool operator<(const Decimal& a, const Decimal& b) noexcept { return compare(a, b) < 0; }
  friend bool operator>(const Decimal& a, const Decimal& b) noexcept { return compare(a, b) > 0; }
  friend bool operator<=(const Decimal& a, const Decimal& b) noexcept { return compare(a, b) <= 0; }
  friend bool operator>=(const Decimal& a, const Decimal& b) noexcept { return compare(a, b) >= 0; }

 private:
  int64_t units_ = 0;
  int8_t scale_ = 0;
};

class WideDecimal {
 public:
  static constexpr int kMaxScale = 36;

  constexpr WideDecimal() = default;
  constexpr WideDecimal(int128 units, int scale) : units_(units), scale_(static_cast<int8_t>(scale)) {}
  static Result<WideDecimal> parse(std::string_view text);

  int128 units() const { return units_; }
  int scale() const { return scale_; }
  bool is_zero() const { return units_ == 0; }

  void add(const Decimal& d) noexcept;
  void add(const WideDecimal& d) noexcept;
  // Adds a * b exactly (scale a.scale + b.scale).
  void add_product(const Decimal& a, const Decimal& b) noexcept;
  void subtract(const WideDecimal& d) noexcept;

  // this / den rounded half away from zero to out_scale decimals. den must be non-zero.
  Decimal divide(const WideDecimal& den, int out_scale) const noexcept;
  // Rounded half away from zero to `scale` decimals (scale <= current: rounds; larger: pads).
  WideDecimal rounded(int scale) const noexcept;
  // Same value with trailing fractional zeros removed, but keeping at least min_scale decimals
  // ("10148854.7638779000000000" → "10148854.76387790" for min_scale 8). Exact.
  WideDecimal trimmed(int min_scale) const noexcept;

  double to_double() const;
  std::string to_string() const;
  void append_to(std::string& out) const;

  friend int compare(const WideDecimal& a, const WideDecimal& b) noexcept;
  friend bool operator==(const WideDecimal& a, const WideDecimal& b) noexcept { return compare(a, b) == 0; }

 private:
  void align_to(int scale) noexcept;
  int128 units_ = 0;
  int8_t scale_ = 0;
};

// 10^n for n in [0, 38].
int128 pow10_128(int n) noexcept;

}  // namespace tickflow
