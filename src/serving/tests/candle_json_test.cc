#include "serving/candle_json.h"

#include <gtest/gtest.h>

#include "serving/tests/fakes.h"

namespace tickflow::serving {
namespace {

using testing::make_candle;

TEST(CandleJson, EscapesStringsPerJsonSpec) {
  std::string out;
  append_json_string(out, std::string_view("a\"b\\c\n\t\x01\x7f\xc3\xa9", 11));
  EXPECT_EQ(out, "\"a\\\"b\\\\c\\n\\t\\u0001\\u007f\xc3\xa9\"");
}

TEST(CandleJson, DoublesAreShortestAndKeepAFraction) {
  std::string out;
  append_json_double(out, 1.0);
  out += ' ';
  append_json_double(out, 0.25);
  out += ' ';
  append_json_double(out, 0.1);
  out += ' ';
  append_json_double(out, std::numeric_limits<double>::quiet_NaN());
  EXPECT_EQ(out, "1.0 0.25 0.1 null");
}

TEST(CandleJson, CandleFieldsAreExactStringsWithIsoAndEpochTimes) {
  Candle c = make_candle(1628952360000);  // 2021-08-14T14:46:00Z
  std::string out;
  append_candle_json(out, c);
  EXPECT_EQ(out,
            "{\"open_time\":\"2021-08-14T14:46:00.000Z\",\"open_time_ms\":1628952360000,"
            "\"close_time\":\"2021-08-14T14:46:59.999Z\",\"close_time_ms\":1628952419999,"
            "\"open\":\"46000.00000000\",\"high\":\"46010.50000000\",\"low\":\"45990.01000000\","
            "\"close\":\"46000.10000000\",\"volume\":\"2.00000000\","
            "\"quote_volume\":\"92000.20000000\",\"vwap\":\"46000.10000000\",\"trades\":3,"
            "\"taker_buy_volume\":\"1.50000000\",\"taker_buy_quote_volume\":\"69000.15000000\","
            "\"first_trade_id\":100,\"last_trade_id\":102,\"status\":\"final\",\"revision\":0,"
            "\"coverage\":1.0,\"gap_reason\":\"\"}");
}

TEST(CandleJson, UpdateMessageNamesTheSeriesAndStatus) {
  Candle c = make_candle(1628952360000, "46001.00000000", CandleStatus::kCorrected);
  c.revision = 2;
  c.coverage = 0.5;
  c.gap_reason = "disconnected";
  std::string msg = candle_update_message(c);
  EXPECT_EQ(msg.rfind("{\"type\":\"candle\",\"exchange\":\"binance\",\"symbol\":\"BTC-USDT\","
                      "\"timeframe\":\"1m\",\"data\":{\"open_time\":\"2021-08-14T14:46:00.000Z\"",
                      0),
            0u)
      << msg;
  EXPECT_NE(msg.find("\"close\":\"46001.00000000\""), std::string::npos);
  EXPECT_NE(msg.find("\"status\":\"corrected\",\"revision\":2,\"coverage\":0.5,\"gap_reason\":\"disconnected\"}}"),
            std::string::npos)
      << msg;
}

}  // namespace
}  // namespace tickflow::serving
