#include "core/decimal.h"
#include "core/text_writer.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

namespace tickflow {
namespace {

TEST(Decimal, ParsesAndPrintsExactly) {
  for (const char* s : {"43000.64000000", "0.00000001", "-1.50", "0", "123", "0.33993000"}) {
    auto d = Decimal::parse(s);
    ASSERT_TRUE(d) << s;
    EXPECT_EQ(d->to_string(), s);
  }
}

TEST(Decimal, RejectsNonDecimals) {
  for (const char* s : {"", "-", "1.2.3", "1e5", " 1", "abc", "1234567890123456789.0", "."}) {
    EXPECT_FALSE(Decimal::parse(s)) << s;
  }
}

TEST(Decimal, ComparesAcrossScales) {
  EXPECT_EQ(*Decimal::parse("1.50"), *Decimal::parse("1.5"));
  EXPECT_LT(*Decimal::parse("0.33934000"), *Decimal::parse("0.3394"));
  EXPECT_GT(*Decimal::parse("-0.1"), *Decimal::parse("-0.10001"));
}

TEST(WideDecimal, SumsAndProductsAreExact) {
  WideDecimal v;
  v.add(*Decimal::parse("99.90000000"));
  v.add(*Decimal::parse("87.00000000"));
  EXPECT_EQ(v.to_string(), "186.90000000");
  WideDecimal q;
  q.add_product(*Decimal::parse("0.33993000"), *Decimal::parse("99.90000000"));
  EXPECT_EQ(q.to_string(), "33.9590070000000000");
  EXPECT_EQ(q.rounded(8).to_string(), "33.95900700");
}

TEST(WideDecimal, DivideRoundsHalfAwayFromZero) {
  WideDecimal num(*WideDecimal::parse("10"));
  WideDecimal den(*WideDecimal::parse("3"));
  EXPECT_EQ(num.divide(den, 8).to_string(), "3.33333333");
  WideDecimal two(*WideDecimal::parse("2"));
  EXPECT_EQ(two.divide(den, 2).to_string(), "0.67");
}

}  // namespace
}  // namespace tickflow

namespace tickflow {
namespace {
// Regression (fuzz/codec_fuzz.cc, fuzz/regressions/codec/): a decoded candle with a volume of
// 36 decimals made Candle::vwap() read 10^44 past the power table and overflow int128 (UB).
TEST(WideDecimal, DivideWithExtremeScalesStaysExact) {
  const WideDecimal one_at_36(pow10_128(36), 36);  // 1.000...0 (36 decimals)
  EXPECT_EQ(WideDecimal(5, 0).divide(one_at_36, 8).to_string(), "5.00000000");  // shift 44
  EXPECT_EQ(WideDecimal(1, 0).divide(WideDecimal(1, 36), 8), Decimal(INT64_MAX, 8));  // saturates
  EXPECT_EQ(WideDecimal(-1, 0).divide(WideDecimal(1, 36), 8), Decimal(-INT64_MAX, 8));
  // 2 * 10^38 overflows int128 but the quotient fits: 2 / 3e-16.
  EXPECT_EQ(WideDecimal(2, 0).divide(WideDecimal(3 * pow10_128(20), 36), 2).to_string(),
            "6666666666666666.67");
  // The denominator scaled by 10^28 overflows: the quotient is below one unit.
  EXPECT_EQ(WideDecimal(1, 36).divide(WideDecimal(pow10_128(36), 0), 8).to_string(), "0.00000000");
  // Candle::vwap() of such a decoded record: quote_volume 5 / volume 1e-36.
  const WideDecimal tiny = *WideDecimal::parse("0.000000000000000000000000000000000001");
  EXPECT_EQ(WideDecimal(5, 0).divide(tiny, 8), Decimal(INT64_MAX, 8));
}

TEST(WideDecimal, TrimmedKeepsValueAndMinimumScale) {
  auto w = *WideDecimal::parse("10148854.7638779000000000");
  EXPECT_EQ(w.trimmed(8).to_string(), "10148854.76387790");
  EXPECT_TRUE(w.trimmed(8) == w);
  EXPECT_EQ(WideDecimal::parse("5.00000000000000001")->trimmed(8).to_string(), "5.00000000000000001");
}
}  // namespace
}  // namespace tickflow

namespace tickflow {
namespace {

// The formatter as it was (one 128-bit division per digit): the reference for the fast one.
std::string reference_text(int128 units, int scale) {
  std::string out;
  char buf[64];
  int n = 0;
  bool neg = units < 0;
  unsigned __int128 u = neg ? static_cast<unsigned __int128>(-(units + 1)) + 1 : static_cast<unsigned __int128>(units);
  do {
    buf[n++] = static_cast<char>('0' + static_cast<int>(u % 10));
    u /= 10;
  } while (u != 0);
  while (n <= scale) buf[n++] = '0';
  if (neg) out.push_back('-');
  for (int i = n - 1; i >= 0; --i) {
    out.push_back(buf[i]);
    if (i == scale && scale > 0) out.push_back('.');
  }
  return out;
}

std::string written(const Decimal& d) {
  char buf[kDecimalMaxChars];
  return std::string(buf, write_decimal(buf, d));
}
std::string written(const WideDecimal& d) {
  char buf[kWideDecimalMaxChars];
  return std::string(buf, write_decimal(buf, d));
}
std::string written_trimmed(const WideDecimal& d, int min_scale) {
  char buf[kWideDecimalMaxChars];
  return std::string(buf, write_decimal_trimmed(buf, d, min_scale));
}

TEST(Decimal, WriteToIsExactWithTheScalesDigits) {
  EXPECT_EQ(written(Decimal(0, 0)), "0");
  EXPECT_EQ(written(Decimal(0, 8)), "0.00000000");
  EXPECT_EQ(written(Decimal(-12300, 8)), "-0.00012300");
  EXPECT_EQ(written(Decimal(-150, 2)), "-1.50");
  EXPECT_EQ(written(Decimal(4300064000000, 8)), "43000.64000000");
  EXPECT_EQ(written(Decimal(1, 18)), "0.000000000000000001");
  EXPECT_EQ(written(Decimal(-1, 18)), "-0.000000000000000001");
  EXPECT_EQ(written(Decimal(INT64_MAX, 0)), "9223372036854775807");
  EXPECT_EQ(written(Decimal(INT64_MIN, 0)), "-9223372036854775808");
  EXPECT_EQ(written(Decimal(INT64_MIN, 18)), "-9.223372036854775808");
  EXPECT_EQ(written(Decimal(INT64_MAX, 18)), "9.223372036854775807");
  EXPECT_EQ(written(Decimal(1000000000000000000, 18)), "1.000000000000000000");
  EXPECT_EQ(written(Decimal(10, 0)), "10");
  for (int scale = 0; scale <= Decimal::kMaxScale; ++scale) {
    for (int64_t v : {int64_t{0}, int64_t{1}, int64_t{-1}, int64_t{9}, int64_t{10}, int64_t{99}, int64_t{100},
                      int64_t{123456789}, int64_t{-100000000}, INT64_MAX, INT64_MIN, INT64_MIN + 1}) {
      const Decimal d(v, scale);
      ASSERT_EQ(written(d), reference_text(v, scale)) << v << " scale " << scale;
      ASSERT_EQ(d.to_string(), reference_text(v, scale));
      ASSERT_LE(written(d).size(), kDecimalMaxChars);
    }
  }
}

TEST(WideDecimal, WriteToIsExactBeyond64Bits) {
  const int128 max = ~(static_cast<int128>(1) << 127);
  const int128 min = -max - 1;
  EXPECT_EQ(written(WideDecimal(max, 0)), "170141183460469231731687303715884105727");
  EXPECT_EQ(written(WideDecimal(min, 0)), "-170141183460469231731687303715884105728");
  EXPECT_EQ(written(WideDecimal(max, 36)), "170.141183460469231731687303715884105727");
  EXPECT_EQ(written(WideDecimal(pow10_128(19), 0)), "10000000000000000000");
  EXPECT_EQ(written(WideDecimal(pow10_128(38), 38 - 2)), "100.000000000000000000000000000000000000");
  EXPECT_EQ(written(WideDecimal(-1, 36)), "-0.000000000000000000000000000000000001");
  EXPECT_EQ(written(*WideDecimal::parse("530887.1234567800000000")), "530887.1234567800000000");

  std::vector<int128> values = {0, 1, -1, 9, 10, static_cast<int128>(UINT64_MAX), static_cast<int128>(UINT64_MAX) + 1,
                                -static_cast<int128>(UINT64_MAX), -static_cast<int128>(UINT64_MAX) - 1, max, min,
                                min + 1};
  for (int n = 0; n <= 38; ++n) {
    values.push_back(pow10_128(n));
    values.push_back(pow10_128(n) - 1);
    values.push_back(-pow10_128(n));
    values.push_back(-(pow10_128(n) + 1));
  }
  uint64_t x = 2463534242ULL;
  auto next = [&] {
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    return x;
  };
  for (int i = 0; i < 5000; ++i) {
    const unsigned __int128 bits = static_cast<unsigned __int128>(next()) << 64 | next();
    const auto v = static_cast<int128>(bits >> (1 + next() % 127));
    values.push_back(next() % 2 ? v : -v);
  }
  for (int128 v : values) {
    for (int scale = 0; scale <= WideDecimal::kMaxScale; ++scale) {
      const WideDecimal w(v, scale);
      const std::string ref = reference_text(v, scale);
      ASSERT_EQ(written(w), ref) << ref << " scale " << scale;
      ASSERT_EQ(w.to_string(), ref);
      ASSERT_LE(ref.size(), kWideDecimalMaxChars);
    }
  }
}

TEST(WideDecimal, WriteTrimmedEqualsTrimmed) {
  EXPECT_EQ(written_trimmed(*WideDecimal::parse("10148854.7638779000000000"), 8), "10148854.76387790");
  EXPECT_EQ(written_trimmed(*WideDecimal::parse("0.0000000000"), 8), "0.00000000");
  EXPECT_EQ(written_trimmed(*WideDecimal::parse("-2.50000000000"), 8), "-2.50000000");
  EXPECT_EQ(written_trimmed(*WideDecimal::parse("5.00000000000000001"), 8), "5.00000000000000001");
  EXPECT_EQ(written_trimmed(*WideDecimal::parse("12.5"), 8), "12.5");  // below min_scale: as is
  EXPECT_EQ(written_trimmed(*WideDecimal::parse("100.000"), 0), "100");
  EXPECT_EQ(written_trimmed(*WideDecimal::parse("100"), 0), "100");
  for (const char* s : {"0", "0.0", "1.10", "-0.000000010000", "530887.1234567800000000", "262305.0000000000000000",
                        "9999999999999999999.000000000000000000", "-170141183460469231.7316873037158841057"}) {
    const auto w = *WideDecimal::parse(s);
    for (int min_scale = 0; min_scale <= 20; ++min_scale)
      ASSERT_EQ(written_trimmed(w, min_scale), w.trimmed(min_scale).to_string()) << s << " min " << min_scale;
  }
}

}  // namespace
}  // namespace tickflow
