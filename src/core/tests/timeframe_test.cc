#include "core/timeframe.h"

#include <gtest/gtest.h>

namespace tickflow {
namespace {

TEST(Timeframe, ParsesCanonicalLabels) {
  for (const char* s : {"1s", "90s", "1m", "5m", "15m", "1h", "4h", "1d", "1w"}) {
    auto tf = Timeframe::parse(s);
    ASSERT_TRUE(tf) << s;
    EXPECT_EQ(tf->label(), s);
  }
  EXPECT_EQ(Timeframe::parse("120s")->label(), "2m");
  EXPECT_EQ(Timeframe::parse("60m")->label(), "1h");
}

TEST(Timeframe, RejectsDurationsThatDoNotDivideADay) {
  for (const char* s : {"7m", "0m", "m", "5x", "2w", "25h", "-1m", "11s"}) {
    EXPECT_FALSE(Timeframe::parse(s)) << s;
  }
}

TEST(Timeframe, AlignsToUtcEpochAndMondayForWeeks) {
  auto m1 = *Timeframe::parse("1m");
  TimestampNs t = 1628952396572LL * kNsPerMs;
  EXPECT_EQ(m1.open_time(t), 1628952360000LL * kNsPerMs);
  EXPECT_EQ(m1.open_time(1628952360000LL * kNsPerMs), 1628952360000LL * kNsPerMs);  // exactly :00.000
  auto w1 = *Timeframe::parse("1w");
  // 2021-08-14 is a Saturday; its week opened Monday 2021-08-09 00:00 UTC.
  EXPECT_EQ(format_iso8601_ms(w1.open_time(t)), "2021-08-09T00:00:00.000Z");
  EXPECT_EQ(format_iso8601_ms(w1.open_time(*parse_time("2021-08-09T00:00:00Z"))), "2021-08-09T00:00:00.000Z");
  auto s90 = *Timeframe::parse("90s");
  EXPECT_EQ(format_iso8601_ms(s90.open_time(*parse_time("2021-08-14T00:02:59.999Z"))), "2021-08-14T00:01:30.000Z");
}

TEST(Timeframe, ParsesLists) {
  auto l = Timeframe::parse_list("5m,1m 1h,1m");
  ASSERT_TRUE(l);
  ASSERT_EQ(l->size(), 3u);
  EXPECT_EQ((*l)[0].label(), "1m");
  EXPECT_FALSE(Timeframe::parse_list("1m,7m"));
}

}  // namespace
}  // namespace tickflow
