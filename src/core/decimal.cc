#include "core/decimal.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "core/text_writer.h"

namespace tickflow {
namespace {

constexpr int64_t kPow10_64[19] = {1LL,
                                   10LL,
                                   100LL,
                                   1000LL,
                                   10000LL,
                                   100000LL,
                                   1000000LL,
                                   10000000LL,
                                   100000000LL,
                                   1000000000LL,
                                   10000000000LL,
                                   100000000000LL,
                                   1000000000000LL,
                                   10000000000000LL,
                                   100000000000000LL,
                                   1000000000000000LL,
                                   10000000000000000LL,
                                   100000000000000000LL,
                                   1000000000000000000LL};

struct Pow10Table {
  int128 v[39];
  constexpr Pow10Table() : v() {
    v[0] = 1;
    for (int i = 1; i < 39; ++i) v[i] = v[i - 1] * 10;
  }
};
constexpr Pow10Table kPow10_128;

constexpr char kDigitPairs[] =
    "00010203040506070809101112131415161718192021222324252627282930313233343536373839"
    "40414243444546474849505152535455565758596061626364656667686970717273747576777879"
    "8081828384858687888990919293949596979899";

// Writes the decimal digits of v backwards ending at `end`, at least `min_digits` of them
// (zero-padded); returns the first digit.
char* digits_backward(char* end, uint64_t v, int min_digits) {
  char* p = end;
  while (v >= 100) {
    const auto pair = static_cast<size_t>(v % 100) * 2;
    v /= 100;
    p -= 2;
    std::memcpy(p, kDigitPairs + pair, 2);
  }
  if (v >= 10) {
    p -= 2;
    std::memcpy(p, kDigitPairs + static_cast<size_t>(v) * 2, 2);
  } else {
    *--p = static_cast<char>('0' + v);
  }
  while (end - p < min_digits) *--p = '0';
  return p;
}

// units * 10^-scale as text ("-0.00012300", "43000.64000000", "5"): at least one digit before
// the point, exactly `scale` after it. Written at p; returns the end. At most 41 bytes.
char* write_scaled(char* p, int128 units, int scale) {
  constexpr uint64_t k1e19 = 10000000000000000000ULL;
  // Valid values have 0..36 decimals; anything else must not write past the 41-byte bound.
  scale = std::clamp(scale, 0, 38);
  const bool neg = units < 0;
  unsigned __int128 u = neg ? static_cast<unsigned __int128>(-(units + 1)) + 1
                            : static_cast<unsigned __int128>(units);
  char buf[48];
  char* const end = buf + sizeof buf;
  char* first = end;
  // At most two 19-digit chunks below the top one (2^128 < 10^39): 64-bit arithmetic after
  // one or two 128-bit divisions instead of one per digit.
  while (u > UINT64_MAX) {
    const auto low = static_cast<uint64_t>(u % k1e19);
    u /= k1e19;
    first = digits_backward(first, low, 19);
  }
  first = digits_backward(first, static_cast<uint64_t>(u), scale + 1 - static_cast<int>(end - first));
  if (neg) *p++ = '-';
  const auto n = static_cast<size_t>(end - first);
  const auto frac = static_cast<size_t>(scale);
  std::memcpy(p, first, n - frac);
  p += n - frac;
  if (frac > 0) {
    *p++ = '.';
    std::memcpy(p, end - frac, frac);
    p += frac;
  }
  return p;
}

void append_scaled(std::string& out, int128 units, int scale) {
  char buf[48];
  out.append(buf, write_scaled(buf, units, scale));
}

int128 round_div(int128 num, int128 den) {
  // Half away from zero.
  bool neg = (num < 0) != (den < 0);
  int128 an = num < 0 ? -num : num;
  int128 ad = den < 0 ? -den : den;
  int128 q = an / ad;
  int128 r = an % ad;
  if (r >= ad - r) ++q;  // r * 2 >= ad, without overflow for |den| above 2^126
  return neg ? -q : q;
}

// round_div(num * 10^shift, den) when that product does not fit int128: long division, one
// decimal digit at a time. Saturates at the int64 range (no Decimal holds more).
int128 round_div_pow10(int128 num, int shift, int128 den) {
  using u128 = unsigned __int128;
  const bool neg = (num < 0) != (den < 0);
  const u128 n = num < 0 ? -static_cast<u128>(num) : static_cast<u128>(num);
  const u128 d = den < 0 ? -static_cast<u128>(den) : static_cast<u128>(den);
  constexpr u128 kMax = static_cast<u128>(INT64_MAX);
  u128 q = n / d, r = n % d;
  if (d > ~u128(0) / 10) return 0;  // |den| >= 3.4e37: beyond every parsed value (37 digits)
  for (int i = 0; i < shift && q <= kMax; ++i) {
    r *= 10;
    q = q * 10 + r / d;
    r %= d;
  }
  if (q > kMax) {
    q = kMax;
  } else if (r >= d - r) {  // r * 2 >= d without overflow
    ++q;
  }
  return neg ? -static_cast<int128>(q) : static_cast<int128>(q);
}

}  // namespace

int128 pow10_128(int n) noexcept { return kPow10_128.v[n]; }

bool Decimal::parse(std::string_view s, Decimal& out) noexcept {
  size_t i = 0;
  bool neg = false;
  if (i < s.size() && (s[i] == '-' || s[i] == '+')) {
    neg = s[i] == '-';
    ++i;
  }
  if (i == s.size()) return false;
  uint64_t units = 0;
  int digits = 0;  // significant digits accumulated (after leading zeros)
  int scale = 0;
  bool seen_digit = false, seen_point = false;
  for (; i < s.size(); ++i) {
    char c = s[i];
    if (c >= '0' && c <= '9') {
      seen_digit = true;
      if (units != 0 || c != '0') ++digits;
      if (digits > 18) return false;
      units = units * 10 + static_cast<uint64_t>(c - '0');
      if (seen_point) ++scale;
    } else if (c == '.' && !seen_point) {
      seen_point = true;
    } else {
      return false;
    }
  }
  if (!seen_digit || scale > kMaxScale) return false;
  out = Decimal(neg ? -static_cast<int64_t>(units) : static_cast<int64_t>(units), scale);
  return true;
}

Result<Decimal> Decimal::parse(std::string_view text) {
  Decimal d;
  if (!parse(text, d)) return Status::parse_error("not an exact decimal: '" + std::string(text) + "'");
  return d;
}

bool Decimal::rescale_up(int new_scale, Decimal& out) const noexcept {
  if (new_scale < scale_ || new_scale > kMaxScale) return false;
  int128 v = static_cast<int128>(units_) * kPow10_64[new_scale - scale_];
  if (v > INT64_MAX || v < INT64_MIN) return false;
  out = Decimal(static_cast<int64_t>(v), new_scale);
  return true;
}

double Decimal::to_double() const {
  return static_cast<double>(units_) / static_cast<double>(kPow10_64[scale_]);
}

std::string Decimal::to_string() const {
  std::string s;
  append_to(s);
  return s;
}

void Decimal::append_to(std::string& out) const { append_scaled(out, units_, scale_); }

int compare(const Decimal& a, const Decimal& b) noexcept {
  if (a.scale_ == b.scale_) return a.units_ < b.units_ ? -1 : (a.units_ > b.units_ ? 1 : 0);
  int128 x = a.units_, y = b.units_;
  if (a.scale_ < b.scale_) {
    x *= kPow10_64[b.scale_ - a.scale_];
  } else {
    y *= kPow10_64[a.scale_ - b.scale_];
  }
  return x < y ? -1 : (x > y ? 1 : 0);
}

Result<WideDecimal> WideDecimal::parse(std::string_view s) {
  size_t i = 0;
  bool neg = false;
  if (i < s.size() && s[i] == '-') {
    neg = true;
    ++i;
  }
  int128 units = 0;
  int scale = 0, digits = 0;
  bool point = false, any = false;
  for (; i < s.size(); ++i) {
    char c = s[i];
    if (c >= '0' && c <= '9') {
      any = true;
      if (units != 0 || c != '0') ++digits;
      if (digits > 37) return Status::parse_error("decimal too long: " + std::string(s));
      units = units * 10 + (c - '0');
      if (point) ++scale;
    } else if (c == '.' && !point) {
      point = true;
    } else {
      return Status::parse_error("not an exact decimal: '" + std::string(s) + "'");
    }
  }
  if (!any || scale > kMaxScale) return Status::parse_error("not an exact decimal: '" + std::string(s) + "'");
  return WideDecimal(neg ? -units : units, scale);
}

void WideDecimal::align_to(int scale) noexcept {
  if (scale > scale_) {
    units_ *= kPow10_128.v[scale - scale_];
    scale_ = static_cast<int8_t>(scale);
  }
}

void WideDecimal::add(const Decimal& d) noexcept {
  if (d.scale() == scale_) {
    units_ += d.units();
    return;
  }
  if (d.scale() > scale_) align_to(d.scale());
  units_ += static_cast<int128>(d.units()) * kPow10_128.v[scale_ - d.scale()];
}

void WideDecimal::add(const WideDecimal& d) noexcept {
  if (d.scale_ > scale_) align_to(d.scale_);
  units_ += d.units_ * kPow10_128.v[scale_ - d.scale_];
}

void WideDecimal::subtract(const WideDecimal& d) noexcept {
  if (d.scale_ > scale_) align_to(d.scale_);
  units_ -= d.units_ * kPow10_128.v[scale_ - d.scale_];
}

void WideDecimal::add_product(const Decimal& a, const Decimal& b) noexcept {
  int s = a.scale() + b.scale();
  int128 p = static_cast<int128>(a.units()) * b.units();
  if (s == scale_) {
    units_ += p;
    return;
  }
  if (s > scale_) align_to(s);
  units_ += p * kPow10_128.v[scale_ - s];
}

Decimal WideDecimal::divide(const WideDecimal& den, int out_scale) const noexcept {
  if (den.units_ == 0) return Decimal(0, out_scale);
  // result = (units_/10^s1) / (den/10^s2) * 10^out = units_ * 10^(out + s2 - s1) / den
  int shift = out_scale + den.scale_ - scale_;
  int128 num = units_;
  int128 d = den.units_;
  if (shift >= 0) {
    // Guard against overflow: reduce the denominator instead when the numerator is big.
    while (shift > 0 && (num > kPow10_128.v[36] / 10 || num < -kPow10_128.v[36] / 10)) {
      if (d % 10 == 0) {
        d /= 10;
        --shift;
      } else {
        break;
      }
    }
    // Scales from outside (a decoded bus record: up to 36 decimals each) can need 10^shift
    // beyond the table or a product beyond int128: long division then (fuzz/codec_fuzz.cc).
    int128 scaled;
    if (shift > 38 || (shift > 0 && __builtin_mul_overflow(num, kPow10_128.v[shift], &scaled)))
      return Decimal(static_cast<int64_t>(round_div_pow10(num, shift, d)), out_scale);
    if (shift > 0) num = scaled;
  } else {
    int128 scaled;
    if (__builtin_mul_overflow(d, kPow10_128.v[-shift], &scaled)) {
      // |den| * 10^-shift is beyond int128, so above |num|: the quotient is below 1 and
      // rounds to 0, or to +-1 when it is at least one half.
      using u128 = unsigned __int128;
      const u128 an = num < 0 ? -static_cast<u128>(num) : static_cast<u128>(num);
      const u128 ad = d < 0 ? -static_cast<u128>(d) : static_cast<u128>(d);
      u128 big;
      const bool half =
          !__builtin_mul_overflow(ad, static_cast<u128>(kPow10_128.v[-shift]), &big) && 2 * an >= big;
      return Decimal(half ? ((num < 0) != (d < 0) ? -1 : 1) : 0, out_scale);
    }
    d = scaled;
  }
  int128 q = round_div(num, d);
  return Decimal(static_cast<int64_t>(q), out_scale);
}

WideDecimal WideDecimal::rounded(int scale) const noexcept {
  if (scale >= scale_) {
    WideDecimal w = *this;
    w.align_to(scale);
    return w;
  }
  return WideDecimal(round_div(units_, kPow10_128.v[scale_ - scale]), scale);
}

WideDecimal WideDecimal::trimmed(int min_scale) const noexcept {
  WideDecimal w = *this;
  while (w.scale_ > min_scale && w.units_ % 10 == 0) {
    w.units_ /= 10;
    --w.scale_;
  }
  return w;
}

double WideDecimal::to_double() const {
  return static_cast<double>(units_) / std::pow(10.0, scale_);
}

std::string WideDecimal::to_string() const {
  std::string s;
  append_to(s);
  return s;
}

void WideDecimal::append_to(std::string& out) const { append_scaled(out, units_, scale_); }

char* write_decimal(char* p, const Decimal& d) { return write_scaled(p, d.units(), d.scale()); }

char* write_decimal(char* p, const WideDecimal& d) { return write_scaled(p, d.units(), d.scale()); }

char* write_decimal_trimmed(char* p, const WideDecimal& d, int min_scale) {
  char* const start = p;
  char* end = write_scaled(p, d.units(), d.scale());
  // trimmed() drops trailing zero decimals while the scale is above min_scale; on the text
  // that is dropping trailing '0's of the fraction (and the point when no decimal is left).
  int scale = d.scale();
  while (scale > min_scale && end[-1] == '0') {
    --end;
    --scale;
  }
  if (scale == 0 && d.scale() > 0 && end > start && end[-1] == '.') --end;
  return end;
}

int compare(const WideDecimal& a, const WideDecimal& b) noexcept {
  int s = std::max(a.scale_, b.scale_);
  int128 x = a.units_ * kPow10_128.v[s - a.scale_];
  int128 y = b.units_ * kPow10_128.v[s - b.scale_];
  return x < y ? -1 : (x > y ? 1 : 0);
}

}  // namespace tickflow
