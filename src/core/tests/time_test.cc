#include "core/time.h"
#include "core/text_writer.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

namespace tickflow {
namespace {

TEST(Time, FormatsIso8601Milliseconds) {
  EXPECT_EQ(format_iso8601_ms(1628952396572LL * kNsPerMs), "2021-08-14T14:46:36.572Z");
  EXPECT_EQ(format_iso8601_ms(0), "1970-01-01T00:00:00.000Z");
}

TEST(Time, WriteIso8601MsEqualsTheFormatter) {
  // format_iso8601_ms goes through the general formatter; write_iso8601_ms is the fast one.
  std::vector<TimestampNs> cases = {0,
                                    -1,
                                    1628952396572LL * kNsPerMs,
                                    1628952419999LL * kNsPerMs + 999'999,
                                    -kNsPerDay,
                                    -kNsPerDay - 1,
                                    951782400LL * kNsPerSec,  // 2000-02-29
                                    INT64_MAX,
                                    INT64_MIN};
  uint64_t x = 88172645463325252ULL;
  for (int i = 0; i < 20000; ++i) {
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;  // xorshift64
    cases.push_back(static_cast<TimestampNs>(x));
  }
  for (TimestampNs ts : cases) {
    char buf[kIso8601MsChars];
    const char* end = write_iso8601_ms(buf, ts);
    ASSERT_EQ(end - buf, static_cast<std::ptrdiff_t>(kIso8601MsChars)) << ts;
    ASSERT_EQ(std::string(buf, static_cast<size_t>(end - buf)), format_iso8601_ms(ts)) << ts;
    std::string appended = "x";
    append_iso8601_ms(appended, ts);
    ASSERT_EQ(appended, "x" + format_iso8601_ms(ts)) << ts;
  }
}

TEST(Time, ParsesIsoAndEpochMs) {
  EXPECT_EQ(*parse_time("1628952396572"), 1628952396572LL * kNsPerMs);
  EXPECT_EQ(*parse_time("2021-08-14T14:46:36.572Z"), 1628952396572LL * kNsPerMs);
  EXPECT_EQ(*parse_time("2021-08-14T16:46:36.572+02:00"), 1628952396572LL * kNsPerMs);
  EXPECT_EQ(*parse_time("2021-04-17T16:43:36.123456Z"), *parse_time("2021-04-17T16:43:36.123456000Z"));
  EXPECT_EQ(*parse_time("1970-01-02"), kNsPerDay);
}

TEST(Time, RejectsGarbage) {
  for (const char* s : {"", "yesterday", "2021-13-01", "2021-08-14T25:00:00Z", "12ab", "2021-08-14T14:46:36Zjunk"}) {
    EXPECT_FALSE(parse_time(s)) << s;
  }
}

// Regression (fuzz/coinbase_fuzz.cc, fuzz/regressions/coinbase/): a Coinbase "time" beyond
// TimestampNs' range (2262-04-11) overflowed int64 (UB) instead of being rejected.
TEST(Time, RejectsIsoTimesOutsideTheNanosecondRange) {
  EXPECT_FALSE(parse_iso8601("4042-04-17T16:43:37.270697Z"));
  EXPECT_FALSE(parse_iso8601("9999-12-31T23:59:59Z"));
  EXPECT_FALSE(parse_iso8601("1000-01-01"));
  EXPECT_EQ(*parse_iso8601("2262-04-11T23:47:15Z"), 9223372035LL * kNsPerSec);
  EXPECT_EQ(*parse_iso8601("1677-09-21T00:12:45Z"), -9223372035LL * kNsPerSec);
}

}  // namespace
}  // namespace tickflow
