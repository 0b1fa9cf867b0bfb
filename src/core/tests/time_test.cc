#include "core/time.h"

#include <gtest/gtest.h>

namespace tickflow {
namespace {

TEST(Time, FormatsIso8601Milliseconds) {
  EXPECT_EQ(format_iso8601_ms(1628952396572LL * kNsPerMs), "2021-08-14T14:46:36.572Z");
  EXPECT_EQ(format_iso8601_ms(0), "1970-01-01T00:00:00.000Z");
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

}  // namespace
}  // namespace tickflow
