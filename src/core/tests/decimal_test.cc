#include "core/decimal.h"

#include <gtest/gtest.h>

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
TEST(WideDecimal, TrimmedKeepsValueAndMinimumScale) {
  auto w = *WideDecimal::parse("10148854.7638779000000000");
  EXPECT_EQ(w.trimmed(8).to_string(), "10148854.76387790");
  EXPECT_TRUE(w.trimmed(8) == w);
  EXPECT_EQ(WideDecimal::parse("5.00000000000000001")->trimmed(8).to_string(), "5.00000000000000001");
}
}  // namespace
}  // namespace tickflow
