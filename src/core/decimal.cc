#include "core/decimal.h"

#include <algorithm>
#include <cmath>

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

void append_scaled(std::string& out, int128 units, int scale) {
  char buf[64];
  int n = 0;
  bool neg = units < 0;
  unsigned __int128 u = neg ? static_cast<unsigned __int128>(-(units + 1)) + 1
                            : static_cast<unsigned __int128>(units);
  do {
    buf[n++] = static_cast<char>('0' + static_cast<int>(u % 10));
    u /= 10;
  } while (u != 0);
  while (n <= scale) buf[n++] = '0';  // at least one digit before the point
  if (neg) out.push_back('-');
  for (int i = n - 1; i >= 0; --i) {
    out.push_back(buf[i]);
    if (i == scale && scale > 0) out.push_back('.');
  }
}

int128 round_div(int128 num, int128 den) {
  // Half away from zero.
  bool neg = (num < 0) != (den < 0);
  int128 an = num < 0 ? -num : num;
  int128 ad = den < 0 ? -den : den;
  int128 q = an / ad;
  int128 r = an % ad;
  if (r * 2 >= ad) ++q;
  return neg ? -q : q;
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
    if (shift > 0) num *= kPow10_128.v[shift];
  } else {
    d *= kPow10_128.v[-shift];
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

int compare(const WideDecimal& a, const WideDecimal& b) noexcept {
  int s = std::max(a.scale_, b.scale_);
  int128 x = a.units_ * kPow10_128.v[s - a.scale_];
  int128 y = b.units_ * kPow10_128.v[s - b.scale_];
  return x < y ? -1 : (x > y ? 1 : 0);
}

}  // namespace tickflow
